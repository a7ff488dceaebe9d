//! Values that cross goroutines from JavaScript, and the runtime objects JS holds.
//!
//! A [`Message`] is the bytes `pkg/src/codec.js` made of a JS value, preceded by one outcome tag
//! (below), plus the runtime handles (channels, wait groups, mutexes, read-write mutexes,
//! condition variables, onces: [`HandleKind`]) the value referenced:
//! the codec writes each handle as an index into `handles`, and the Message keeps the objects
//! themselves alive while the value is in flight (in a channel's buffer, a goroutine's result).
//! Decoding in another realm wraps each handle in a new JS object.
//!
//! # Where a message lives
//! JS code (the page, or a Worker's promise reactions) may run outside every poll, so it must
//! not allocate in the GC heap (an allocation there could race a collection). A message built
//! in JS starts *outside*: bytes and handles in ordinary memory. The first goroutine that moves
//! it on, a send (also a select's) or a goroutine returning it, moves it *into the heap*
//! ([`Message::into_heap`]): one heap object, [`MessageObj`], with the handles and the bytes in
//! its tail, so it counts in `heapAlloc` and is freed by the collector. The Message then holds a
//! [`Root`] to it (Messages are never cloned, so each object has exactly one root). At the heap
//! limit, after a collection, moving in fails with `gc::HeapLimitError`'s text and the value stays
//! with its sender (outcome tag 7).
//!
//! Channels of JS values are reference counted (the page creates them synchronously, and the
//! page can never allocate in the heap); cycles among them, through the messages in their
//! buffers, are collected by `cycles.rs` at each collection.
//!
//! Outcome tags (byte 0; [`OutcomeTag`], which JS reads from the wasm-bindgen glue):
//! | tag | meaning | rest |
//! |---|---|---|
//! | 0 | a value | codec bytes |
//! | 1 | a JS goroutine threw or rejected | codec bytes of the thrown value |
//! | 2 | the runtime failed a goroutine (panic, cancellation, deadlock) | UTF-8 text |
//! | 3 | JSON made by the runtime (goroutine dump) or by a Rust goroutine | UTF-8 JSON |
//! | 4 | a receive found the channel closed (`ok == false`) | – |
//! | 5 | a select's result | i32 case index (−1: default), u8 ok, codec bytes of the value or nothing |
//! | 6 | an operation failed as Go would panic ("send on closed channel", …) | UTF-8 text |
//! | 7 | a value did not fit in the GC heap under its limit | UTF-8 text |
//! | 8 | the Worker the goroutine was bound to died | u32 M index, UTF-8 text (why) |
//! | 9 | a sync operation failed as Go would panic ("sync: unlock of unlocked mutex") | UTF-8 text |
//! | 10 | an operation was withdrawn: its AbortSignal aborted first (`op.rs`) | – |

use crate::chan::Chan;
use crate::gc::{self, Gc, Root, Trace, Tracer};
use crate::sched::Held;
use crate::sync::{Cond, Once, RawMutex, RwMutex, WaitGroup};
use crate::value::{T_FALSE, T_FLOAT64, T_TRUE, T_UNDEFINED};
use std::sync::Arc;
use wasm_bindgen::prelude::*;

/// A Message's outcome tag, its byte 0 (the module header's table).
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutcomeTag {
    Value = 0,
    Thrown = 1,
    RuntimeError = 2,
    Json = 3,
    Closed = 4,
    Selected = 5,
    OpError = 6,
    HeapLimit = 7,
    Died = 8,
    SyncError = 9,
    Aborted = 10,
}

/// The kind of a runtime handle in a Message ([`Message::handle_kind`]).
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandleKind {
    Chan = 0,
    WaitGroup = 1,
    Mutex = 2,
    RwMutex = 3,
    Cond = 4,
    Once = 5,
}

/// What [`ChanRef::try_send`] did.
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrySend {
    Sent = 0,
    /// It would block; the message is dropped.
    Full = 1,
    /// The channel is closed; the message is dropped.
    Closed = 2,
}

#[derive(Clone)]
pub(crate) enum Handle {
    Chan(Chan<Message>),
    WaitGroup(WaitGroup),
    Mutex(Arc<RawMutex>),
    RwMutex(Arc<RwMutex>),
    /// A condition variable and its mutex (Go's `Cond.L`), which travel together.
    Cond(Arc<Cond>, Arc<RawMutex>),
    Once(Arc<Once>),
}

/// A message in the GC heap: its handles, then `len` bytes in the object's tail.
pub(crate) struct MessageObj {
    handles: Vec<Handle>,
    len: usize,
}

// SAFETY: holds no Gc (handles are reference-counted runtime objects, `Send + Sync`); its Drop
// (the handles') does not touch the heap.
unsafe impl Trace for MessageObj {
    const NEEDS_TRACE: bool = false;
    fn trace(&self, _: &mut Tracer<'_>) {}
}

enum Repr {
    Outside { bytes: Vec<u8>, handles: Vec<Handle> },
    Heap(Root<MessageObj>),
}

/// A tagged value with the handles it references (see the module header).
#[wasm_bindgen]
pub struct Message {
    repr: Repr,
    /// On a Rust goroutine's result, the channels in it, held for the page that will join it
    /// until the message is dropped (`bridge.rs`).
    joiner_holds: Option<super::bridge::JoinerHolds>,
}

impl Message {
    fn outside(bytes: Vec<u8>, handles: Vec<Handle>) -> Message {
        Message { repr: Repr::Outside { bytes, handles }, joiner_holds: None }
    }

    pub(crate) fn tagged(tag: OutcomeTag, body: &[u8]) -> Message {
        let mut bytes = Vec::with_capacity(body.len() + 1);
        bytes.push(tag as u8);
        bytes.extend_from_slice(body);
        Message::outside(bytes, Vec::new())
    }

    pub(crate) fn undefined() -> Message {
        Message::tagged(OutcomeTag::Value, &[T_UNDEFINED])
    }

    pub(crate) fn text(tag: OutcomeTag, text: &str) -> Message {
        Message::tagged(tag, text.as_bytes())
    }

    pub(crate) fn boolean(v: bool) -> Message {
        Message::tagged(OutcomeTag::Value, &[if v { T_TRUE } else { T_FALSE }])
    }

    /// The value the codec encodes for a float64.
    pub(crate) fn number(v: f64) -> Message {
        let mut body = vec![T_FLOAT64];
        body.extend_from_slice(&v.to_le_bytes());
        Message::tagged(OutcomeTag::Value, &body)
    }

    /// A select's result (tag 5) carrying `value`'s bytes and handles.
    pub(crate) fn selected(index: i32, ok: bool, value: Option<&Message>) -> Message {
        let mut bytes = vec![OutcomeTag::Selected as u8];
        bytes.extend_from_slice(&index.to_le_bytes());
        bytes.push(ok as u8);
        let handles = match value {
            Some(m) => {
                bytes.extend_from_slice(&m.tagged_bytes()[1..]);
                m.handles().to_vec()
            }
            None => Vec::new(),
        };
        Message::outside(bytes, handles)
    }

    /// The outcome tag and the bytes after it.
    pub(crate) fn tagged_bytes(&self) -> &[u8] {
        match &self.repr {
            Repr::Outside { bytes, .. } => bytes,
            Repr::Heap(root) => {
                // SAFETY: the root keeps the object alive and unmoved while `self` lives; its
                // tail holds `len` bytes written once, before the object was rooted.
                unsafe {
                    let obj = root.as_ptr();
                    std::slice::from_raw_parts(obj.cast::<u8>().add(size_of::<MessageObj>()), (*obj).len)
                }
            }
        }
    }

    pub(crate) fn handles(&self) -> &[Handle] {
        match &self.repr {
            Repr::Outside { handles, .. } => handles,
            // SAFETY: as in `tagged_bytes`; the handles are never changed after allocation.
            Repr::Heap(root) => unsafe { &(*root.as_ptr()).handles },
        }
    }

    /// A copy of this message outside the heap (the same bytes, the same objects), or None if
    /// memory cannot give its bytes (allocated fallibly, after `platform::memory::admit`).
    pub(crate) fn duplicate(&self) -> Option<Message> {
        let src = self.tagged_bytes();
        crate::platform::memory::admit(src.len()).ok()?;
        let mut bytes = Vec::new();
        bytes.try_reserve_exact(src.len()).ok()?;
        bytes.extend_from_slice(src);
        Some(Message::outside(bytes, self.handles().to_vec()))
    }

    /// Whether a message of `len` tagged bytes could be taken in now: the text of the error
    /// if not, naming the size and the limit. With `heap`, whether it could ever move into
    /// `heap` (`gc::admit_with_tail`: its pages alone past the heap limit cannot, whatever a
    /// collection frees); always, whether wasm memory can still hold it twice (the copy JS
    /// makes outside the heap, then the heap's copy while the first one lives,
    /// `platform::memory::admit`). No lock and no allocation, so the page may ask too: JS asks
    /// before it makes a Message of a value bound for a runtime (see `js/mod.rs`), and
    /// [`Message::into_heap`] checks the heap limit the same way.
    pub(crate) fn admit_length(heap: Option<&gc::Heap>, len: usize) -> Option<String> {
        if let Some(e) = heap.and_then(|h| gc::admit_with_tail::<MessageObj>(h, len).err()) {
            return Some(e.to_string());
        }
        let held_twice = len.saturating_add(size_of::<MessageObj>()).saturating_mul(2);
        crate::platform::memory::admit(held_twice)
            .err()
            .map(|e| format!("gort: a value of {len} bytes cannot be held: {e} (it is held twice while it moves into the heap)"))
    }

    /// [`Message::admit_length`] against (with `heap`) the heap of the runtime this thread is
    /// an M of.
    pub(crate) fn admit_length_here(len: usize, heap: bool) -> Option<String> {
        if let Some(Err(e)) = heap.then(|| gc::admit_here::<MessageObj>(len)).flatten() {
            return Some(e.to_string());
        }
        Message::admit_length(None, len)
    }

    /// Whether this message could ever move into the heap of the runtime this thread is an M
    /// of (`gc::admit_with_tail`): the heap limit error's text if not.
    pub(crate) fn admit_here(&self) -> Option<String> {
        match &self.repr {
            Repr::Outside { bytes, .. } => gc::admit_here::<MessageObj>(bytes.len())?.err(),
            Repr::Heap(_) => None,
        }
        .map(|e| e.to_string())
    }

    /// Moves the message into the GC heap of the current goroutine's runtime (see the module
    /// header); at the heap limit, after one collection, the outcome to report instead (tag 7;
    /// the JS value stays with its sender). A message too large for the limit whatever a
    /// collection frees ([`Message::admit`]) fails at once.
    pub(crate) async fn into_heap(self) -> Result<Message, Message> {
        if let Some(e) = self.admit_here() {
            return Err(Message::text(OutcomeTag::HeapLimit, &e));
        }
        let Message { repr: Repr::Outside { bytes, handles }, joiner_holds } = self else { return Ok(self) };
        let obj = MessageObj { handles, len: bytes.len() };
        let obj = match gc::alloc_with_tail(obj, bytes.len()) {
            Ok(gc) => return Ok(Message::filled(gc, &bytes, joiner_holds)),
            Err((_, obj)) => obj,
        };
        gc::collect().await;
        match gc::alloc_with_tail(obj, bytes.len()) {
            Ok(gc) => Ok(Message::filled(gc, &bytes, joiner_holds)),
            Err((e, _)) => Err(Message::text(OutcomeTag::HeapLimit, &e.to_string())),
        }
    }

    /// Copies `bytes` into the tail of a new object and roots it.
    fn filled(gc: Gc<MessageObj>, bytes: &[u8], joiner_holds: Option<super::bridge::JoinerHolds>) -> Message {
        // SAFETY: the object was allocated with `bytes.len()` bytes of tail, and nothing else
        // can see it yet.
        unsafe {
            let tail = Gc::as_ptr(gc).cast::<u8>().cast_mut().add(size_of::<MessageObj>());
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), tail, bytes.len());
        }
        Message { repr: Repr::Heap(Gc::root(gc)), joiner_holds }
    }
}

#[wasm_bindgen]
impl Message {
    /// `bytes` starts with its outcome tag. For short texts of the JS side's own: a value's
    /// bytes go through [`Message::with_length`], which cannot fail the module.
    #[wasm_bindgen(constructor)]
    pub fn new(bytes: Vec<u8>) -> Message {
        Message::outside(bytes, Vec::new())
    }

    /// A message of `len` zero bytes outside the heap, for JS to fill in place (through a view
    /// at [`Message::bytes_address`]) before it hands the message on; `undefined` if memory
    /// cannot give them and keep the runtime's reserve (`platform::memory`). The allocation is
    /// fallible: unlike `new Message(bytes)`, whose copy into wasm memory aborts the module
    /// when the allocator fails, this never traps.
    #[wasm_bindgen(js_name = withLength)]
    pub fn with_length(len: usize) -> Option<Message> {
        crate::platform::memory::admit(len).ok()?;
        let mut bytes = Vec::new();
        bytes.try_reserve_exact(len).ok()?;
        bytes.resize(len, 0);
        Some(Message::outside(bytes, Vec::new()))
    }

    pub(super) fn set_joiner_holds(&mut self, holds: super::bridge::JoinerHolds) {
        self.joiner_holds = Some(holds);
    }

    pub(super) fn push_handle(&mut self, h: Handle) {
        match &mut self.repr {
            Repr::Outside { handles, .. } => handles.push(h),
            Repr::Heap(_) => unreachable!("JS adds handles only to messages it builds"),
        }
    }

    #[wasm_bindgen(js_name = addChan)]
    pub fn add_chan(&mut self, c: &ChanRef) {
        self.push_handle(Handle::Chan(c.chan.clone()));
    }

    #[wasm_bindgen(js_name = addWaitGroup)]
    pub fn add_wait_group(&mut self, w: &WaitGroupRef) {
        self.push_handle(Handle::WaitGroup(w.wg.clone()));
    }

    #[wasm_bindgen(js_name = addMutex)]
    pub fn add_mutex(&mut self, m: &MutexRef) {
        self.push_handle(Handle::Mutex(m.mutex.clone()));
    }

    #[wasm_bindgen(js_name = addRwMutex)]
    pub fn add_rw_mutex(&mut self, m: &RwMutexRef) {
        self.push_handle(Handle::RwMutex(m.mutex.clone()));
    }

    #[wasm_bindgen(js_name = addCond)]
    pub fn add_cond(&mut self, c: &CondRef) {
        self.push_handle(Handle::Cond(c.cond.clone(), c.mutex.clone()));
    }

    #[wasm_bindgen(js_name = addOnce)]
    pub fn add_once(&mut self, o: &OnceRef) {
        self.push_handle(Handle::Once(o.once.clone()));
    }

    /// Byte address of the tagged bytes in the wasm memory. JS reads them in place, through a
    /// view on the memory's buffer, while it holds the Message: they do not move or change
    /// while the Message lives (the bytes of a message outside the heap are its own, those of
    /// one in the heap are written once and kept by its root, and the collector does not move
    /// objects).
    #[wasm_bindgen(js_name = bytesAddress)]
    pub fn bytes_address(&self) -> usize {
        self.tagged_bytes().as_ptr() as usize
    }

    /// Length of the tagged bytes (at least 1, the outcome tag).
    #[wasm_bindgen(js_name = byteLength)]
    pub fn byte_length(&self) -> usize {
        self.tagged_bytes().len()
    }

    #[wasm_bindgen(js_name = handleKind)]
    pub fn handle_kind(&self, i: usize) -> HandleKind {
        match self.handles()[i] {
            Handle::Chan(_) => HandleKind::Chan,
            Handle::WaitGroup(_) => HandleKind::WaitGroup,
            Handle::Mutex(_) => HandleKind::Mutex,
            Handle::RwMutex(_) => HandleKind::RwMutex,
            Handle::Cond(..) => HandleKind::Cond,
            Handle::Once(_) => HandleKind::Once,
        }
    }

    #[wasm_bindgen(js_name = chanAt)]
    pub fn chan_at(&self, i: usize) -> Option<ChanRef> {
        match &self.handles()[i] {
            Handle::Chan(c) => Some(ChanRef { chan: c.clone() }),
            _ => None,
        }
    }

    #[wasm_bindgen(js_name = waitGroupAt)]
    pub fn wait_group_at(&self, i: usize) -> Option<WaitGroupRef> {
        match &self.handles()[i] {
            Handle::WaitGroup(w) => Some(WaitGroupRef { wg: w.clone() }),
            _ => None,
        }
    }

    #[wasm_bindgen(js_name = mutexAt)]
    pub fn mutex_at(&self, i: usize) -> Option<MutexRef> {
        match &self.handles()[i] {
            Handle::Mutex(m) => Some(MutexRef { mutex: m.clone() }),
            _ => None,
        }
    }

    #[wasm_bindgen(js_name = rwMutexAt)]
    pub fn rw_mutex_at(&self, i: usize) -> Option<RwMutexRef> {
        match &self.handles()[i] {
            Handle::RwMutex(m) => Some(RwMutexRef { mutex: m.clone() }),
            _ => None,
        }
    }

    #[wasm_bindgen(js_name = condAt)]
    pub fn cond_at(&self, i: usize) -> Option<CondRef> {
        match &self.handles()[i] {
            Handle::Cond(c, m) => Some(CondRef { cond: c.clone(), mutex: m.clone() }),
            _ => None,
        }
    }

    #[wasm_bindgen(js_name = onceAt)]
    pub fn once_at(&self, i: usize) -> Option<OnceRef> {
        match &self.handles()[i] {
            Handle::Once(o) => Some(OnceRef { once: o.clone() }),
            _ => None,
        }
    }
}

/// A channel of JS values, as JS holds it.
#[wasm_bindgen]
pub struct ChanRef {
    pub(crate) chan: Chan<Message>,
}

#[wasm_bindgen]
impl ChanRef {
    #[wasm_bindgen(constructor)]
    pub fn new(cap: u32) -> ChanRef {
        let chan = crate::chan::chan(cap as usize);
        super::cycles::register(&chan);
        ChanRef { chan }
    }

    pub fn cap(&self) -> u32 {
        self.chan.cap() as u32
    }

    pub fn len(&self) -> u32 {
        self.chan.len() as u32
    }

    /// Closes; the error text on a second close.
    pub fn close(&self) -> Option<String> {
        self.chan.close().err().map(|e| e.to_string())
    }

    #[wasm_bindgen(js_name = trySend)]
    pub fn try_send(&self, m: Message) -> TrySend {
        use crate::chan::TrySendError;
        super::cycles::note_js_buffer_change();
        match self.chan.try_send(m) {
            Ok(()) => TrySend::Sent,
            Err(TrySendError::Full(_)) => TrySend::Full,
            Err(TrySendError::Closed(_)) => TrySend::Closed,
        }
    }

    /// A value (tag 0), closed (tag 4), or undefined when it would block.
    #[wasm_bindgen(js_name = tryRecv)]
    pub fn try_recv(&self) -> Option<Message> {
        use crate::chan::TryRecvError;
        super::cycles::note_js_buffer_change();
        match self.chan.try_recv() {
            Ok(m) => Some(m),
            Err(TryRecvError::Closed) => Some(Message::tagged(OutcomeTag::Closed, &[])),
            Err(TryRecvError::Empty) => None,
        }
    }

    /// Gives back a value `tryRecv` returned that this thread cannot decode yet (it names a
    /// shared buffer that has not reached it, pkg/src/shared.js): to the next blocked receiver,
    /// else to the front of the buffer (`Chan::give_back`).
    #[wasm_bindgen(js_name = giveBack)]
    pub fn give_back(&self, m: Message) {
        super::cycles::note_js_buffer_change();
        self.chan.give_back(m);
    }

    /// Identifies the channel (its address), for `RuntimeCore::unhold`.
    pub fn key(&self) -> usize {
        Arc::as_ptr(&self.chan.inner) as *const () as usize
    }
}

impl ChanRef {
    pub(crate) fn held(&self) -> Arc<dyn Held> {
        self.chan.inner.clone()
    }
}

impl WaitGroupRef {
    pub(crate) fn held(&self) -> Arc<dyn Held> {
        self.wg.state.clone()
    }
}

impl MutexRef {
    pub(crate) fn held(&self) -> Arc<dyn Held> {
        self.mutex.clone()
    }
}

impl RwMutexRef {
    pub(crate) fn held(&self) -> Arc<dyn Held> {
        self.mutex.clone()
    }
}

impl CondRef {
    /// The condition variable only: the page holds its mutex through the mutex's own handle.
    pub(crate) fn held(&self) -> Arc<dyn Held> {
        self.cond.clone()
    }
}

impl OnceRef {
    pub(crate) fn held(&self) -> Arc<dyn Held> {
        self.once.clone()
    }
}

/// The largest count of a wait group JS holds: Go's counter is an int32.
const WAIT_GROUP_MAX: i64 = i32::MAX as i64;

/// A wait group, as JS holds it.
#[wasm_bindgen]
pub struct WaitGroupRef {
    pub(crate) wg: WaitGroup,
}

#[wasm_bindgen]
impl WaitGroupRef {
    #[wasm_bindgen(constructor)]
    pub fn new() -> WaitGroupRef {
        WaitGroupRef { wg: WaitGroup::new() }
    }

    /// Adds `delta`; the error text if the counter would go negative (nothing changes then).
    /// Throws a `RangeError` if it would pass Go's int32 counter (nothing changes either).
    pub fn add(&self, delta: f64) -> Result<Option<String>, JsValue> {
        use crate::sync::AddError;
        if delta.fract() != 0.0 || !delta.is_finite() {
            return Ok(Some(format!("sync: WaitGroup delta must be an integer, got {delta}")));
        }
        match self.wg.add_within(delta as i64, WAIT_GROUP_MAX) {
            Ok(()) => Ok(None),
            Err(AddError::Negative) => Ok(Some(crate::sync::WaitGroupError.to_string())),
            Err(AddError::Overflow) => Err(js_sys::RangeError::new(&format!(
                "sync: WaitGroup counter overflow: adding {delta} would take it past {WAIT_GROUP_MAX}"
            ))
            .into()),
        }
    }

    pub fn key(&self) -> usize {
        Arc::as_ptr(&self.wg.state) as *const () as usize
    }
}

impl Default for WaitGroupRef {
    fn default() -> Self {
        Self::new()
    }
}

/// A mutex, as JS holds it (locked and unlocked explicitly, as in Go).
#[wasm_bindgen]
pub struct MutexRef {
    pub(crate) mutex: Arc<RawMutex>,
}

#[wasm_bindgen]
impl MutexRef {
    #[wasm_bindgen(constructor)]
    pub fn new() -> MutexRef {
        MutexRef { mutex: Arc::new(RawMutex::new()) }
    }

    /// The error text if it was not locked.
    pub fn unlock(&self) -> Option<String> {
        self.mutex.unlock().err().map(|e| e.to_string())
    }

    #[wasm_bindgen(js_name = tryLock)]
    pub fn try_lock(&self) -> bool {
        self.mutex.try_lock()
    }

    pub fn key(&self) -> usize {
        Arc::as_ptr(&self.mutex) as *const () as usize
    }
}

impl Default for MutexRef {
    fn default() -> Self {
        Self::new()
    }
}

/// A read-write mutex (Go's `sync.RWMutex`), as JS holds it.
#[wasm_bindgen]
pub struct RwMutexRef {
    pub(crate) mutex: Arc<RwMutex>,
}

#[wasm_bindgen]
impl RwMutexRef {
    #[wasm_bindgen(constructor)]
    pub fn new() -> RwMutexRef {
        RwMutexRef { mutex: Arc::new(RwMutex::new()) }
    }

    /// Releases a read lock: the error text if none was held.
    #[wasm_bindgen(js_name = rUnlock)]
    pub fn runlock(&self) -> Option<String> {
        self.mutex.runlock().err().map(|e| e.to_string())
    }

    /// Releases the write lock: the error text if it was not held.
    pub fn unlock(&self) -> Option<String> {
        self.mutex.unlock().err().map(|e| e.to_string())
    }

    #[wasm_bindgen(js_name = tryLock)]
    pub fn try_lock(&self) -> bool {
        self.mutex.try_lock()
    }

    #[wasm_bindgen(js_name = tryRLock)]
    pub fn try_rlock(&self) -> bool {
        self.mutex.try_rlock()
    }

    pub fn key(&self) -> usize {
        Arc::as_ptr(&self.mutex) as *const () as usize
    }
}

impl Default for RwMutexRef {
    fn default() -> Self {
        Self::new()
    }
}

/// A condition variable (Go's `sync.Cond`) with its mutex (`L`), as JS holds it.
#[wasm_bindgen]
pub struct CondRef {
    pub(crate) cond: Arc<Cond>,
    pub(crate) mutex: Arc<RawMutex>,
}

#[wasm_bindgen]
impl CondRef {
    /// Go's `sync.NewCond(l)`.
    #[wasm_bindgen(constructor)]
    pub fn new(l: &MutexRef) -> CondRef {
        CondRef { cond: Arc::new(Cond::new()), mutex: l.mutex.clone() }
    }

    /// Its mutex, for a new JS handle of it (a Cond decoded in another realm).
    pub fn mutex(&self) -> MutexRef {
        MutexRef { mutex: self.mutex.clone() }
    }

    pub fn signal(&self) {
        self.cond.signal();
    }

    pub fn broadcast(&self) {
        self.cond.broadcast();
    }

    pub fn key(&self) -> usize {
        Arc::as_ptr(&self.cond) as *const () as usize
    }
}

/// A once (Go's `sync.Once`), as JS holds it: JS runs the function itself, between
/// `Op.onceBegin` and [`OnceRef::end`] (`sync/once.rs`).
#[wasm_bindgen]
pub struct OnceRef {
    pub(crate) once: Arc<Once>,
}

#[wasm_bindgen]
impl OnceRef {
    #[wasm_bindgen(constructor)]
    pub fn new() -> OnceRef {
        OnceRef { once: Arc::new(Once::new()) }
    }

    /// Whether a call has completed: `do` runs nothing.
    #[wasm_bindgen(js_name = isDone)]
    pub fn is_done(&self) -> bool {
        self.once.is_done()
    }

    /// Another ref to the same once, for one call of `do`: it ends the call even if the
    /// handle that started it is released meanwhile.
    pub fn share(&self) -> OnceRef {
        OnceRef { once: self.once.clone() }
    }

    /// The function the caller of a `true` `Op.onceBegin` ran has returned or thrown.
    pub fn end(&self) {
        self.once.end();
    }

    pub fn key(&self) -> usize {
        Arc::as_ptr(&self.once) as *const () as usize
    }
}

impl Default for OnceRef {
    fn default() -> Self {
        Self::new()
    }
}
