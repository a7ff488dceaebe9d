//! The typed bridge between Rust goroutines and JavaScript (wasm only): channels both sides
//! use ([`JsChan`]), the arguments of a Rust entry point ([`Message::decode_args`]) and the
//! results JS joins ([`Outcome`], `RuntimeCore::go_value`), all as the JS values of the
//! facade's codec (`crate::value` reads and writes it), never JSON text.
//!
//! A [`JsChan`] is the very channel a JS `Chan` handle stands for (`Chan<Message>`, as
//! `value.rs` describes): what a Rust goroutine sends, a JS goroutine or the page receives as a
//! JS value, and the other way round; a channel Rust makes reaches JS as a `Chan` when it is
//! sent or returned. Channels of JS values are reference counted, and every one is registered
//! for the collection of cycles among them (`cycles.rs`), whoever made it.
//!
//! A value a Rust goroutine sends moves into the GC heap first, as a JS send's does
//! (`Message::into_heap`), so the heap limit refuses it the same way: [`JsSendError::TooLarge`],
//! and the value is not sent. A received value that is not the type asked for is a
//! [`DecodeError`] naming what it was and where; it was received (once), and is dropped.
//! The operations are futures for goroutines (they park the goroutine, like [`Chan`]'s).
//!
//! A Rust goroutine's result that holds channels (a generator returning the channel its
//! child goroutine sends on) holds them for the page, as a page's handle does, from when the
//! goroutine ends until the result is dropped (the page has decoded it into its own handles,
//! or nobody will): otherwise, between the two, the child blocked on a full channel that only
//! the unjoined result refers to would look deadlocked (`sched/checkdead.rs`).

use super::value::{Handle, Message, OutcomeTag};
use crate::chan::{Chan, CloseError};
use crate::sched::Shared;
use crate::value::{self as codec, DecodeError, FromValue, IntoValue, Value};
use std::fmt;
use std::sync::{Arc, Weak};
use wasm_bindgen::JsValue;

/// A channel of JS values, for Rust goroutines: the same channel as a JS `Chan` (see the
/// module header). Cloning it shares the channel.
#[derive(Clone)]
pub struct JsChan {
    pub(crate) chan: Chan<Message>,
}

impl fmt::Debug for JsChan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JsChan(cap {}, len {})", self.chan.cap(), self.chan.len())
    }
}

impl PartialEq for JsChan {
    /// The same channel.
    fn eq(&self, other: &JsChan) -> bool {
        self.same_channel(other)
    }
}

/// Why [`JsChan::send`] did not send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JsSendError {
    /// The channel is closed (Go panics: "send on closed channel").
    Closed,
    /// The value does not fit in the runtime's heap under its limit (the error's text).
    TooLarge(String),
}

impl fmt::Display for JsSendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsSendError::Closed => f.write_str("send on closed channel"),
            JsSendError::TooLarge(text) => f.write_str(text),
        }
    }
}

impl std::error::Error for JsSendError {}

impl JsChan {
    /// A new channel with room for `cap` values (0: unbuffered), Go's `make(chan T, cap)`.
    pub fn new(cap: usize) -> JsChan {
        let chan = crate::chan::chan(cap);
        super::cycles::register(&chan);
        JsChan { chan }
    }

    /// Sends `v` as a JS value, waiting for room or a receiver.
    pub async fn send(&self, v: impl IntoValue) -> Result<(), JsSendError> {
        let m = Message::of_value(OutcomeTag::Value, &v.into_value());
        let m = m.into_heap().await.map_err(|failed| JsSendError::TooLarge(failed.body_text()))?;
        self.chan.send(m).await.map_err(|_| JsSendError::Closed)
    }

    /// The next value, as a `T`; `None` once the channel is closed and drained (Go's
    /// `v, ok := <-ch`).
    pub async fn recv<T: FromValue>(&self) -> Result<Option<T>, DecodeError> {
        match self.chan.recv().await {
            Some(m) => m.decode().map(Some),
            None => Ok(None),
        }
    }

    /// Closes the channel; an error if it was closed already.
    pub fn close(&self) -> Result<(), CloseError> {
        self.chan.close()
    }

    pub fn cap(&self) -> usize {
        self.chan.cap()
    }

    /// Values buffered now.
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    pub fn is_empty(&self) -> bool {
        self.chan.is_empty()
    }

    pub fn same_channel(&self, other: &JsChan) -> bool {
        self.chan.same_channel(&other.chan)
    }
}

/// What a Rust goroutine started with `RuntimeCore::go_value` ends with, as its JS joiner sees
/// it: a value ([`IntoValue`]) is what `join()` resolves to; a `Result`'s `Err` rejects
/// `join()` with a `GoroutineError` whose cause is an `Error` with the error's text.
pub trait Outcome {
    fn into_message(self) -> Message;
}

impl<T: IntoValue> Outcome for T {
    fn into_message(self) -> Message {
        Message::of_value(OutcomeTag::Value, &self.into_value())
    }
}

impl<T: IntoValue, E: fmt::Display> Outcome for Result<T, E> {
    fn into_message(self) -> Message {
        match self {
            Ok(v) => v.into_message(),
            Err(e) => Message::tagged(OutcomeTag::Thrown, &codec::encode_error(&e.to_string())),
        }
    }
}

/// The channels of a goroutine's result held for its joiner (the module header), released as
/// the result is dropped.
pub(crate) struct JoinerHolds {
    runtime: Weak<Shared>,
    keys: Vec<usize>,
}

impl Drop for JoinerHolds {
    fn drop(&mut self) {
        if let Some(shared) = self.runtime.upgrade() {
            self.keys.iter().for_each(|&k| shared.release_outside(k));
        }
    }
}

impl Message {
    /// Holds this result's channels for the page that will join it, in `runtime`, until the
    /// message is dropped (the module header says why).
    pub(crate) fn hold_for_joiner(&mut self, runtime: &Arc<Shared>) {
        let keys: Vec<usize> = self
            .handles()
            .iter()
            .filter_map(|h| match h {
                Handle::Chan(c) => Some(runtime.hold_outside(c.inner.clone())),
                _ => None,
            })
            .collect();
        if !keys.is_empty() {
            self.set_joiner_holds(JoinerHolds { runtime: Arc::downgrade(runtime), keys });
        }
    }

    /// `v` in the codec's bytes behind `tag`, with its channels as the message's handles.
    pub(crate) fn of_value(tag: OutcomeTag, v: &Value) -> Message {
        let (body, chans) = codec::encode(v);
        let mut m = Message::tagged(tag, &body);
        for c in chans {
            m.push_handle(Handle::Chan(c.chan));
        }
        m
    }

    /// The JS value this message holds, as a `T`. A message that is not a value (a closed
    /// receive, a failure) is an error too.
    pub fn decode<T: FromValue>(&self) -> Result<T, DecodeError> {
        let bytes = self.tagged_bytes();
        if bytes[0] != OutcomeTag::Value as u8 {
            return Err(DecodeError::new(format!("the message holds no value (outcome tag {})", bytes[0])));
        }
        let handles = self.handles();
        let chan = |i: u32| match handles.get(i as usize) {
            Some(Handle::Chan(c)) => Ok(JsChan { chan: c.clone() }),
            Some(other) => {
                Err(DecodeError::new(format!("{} cannot be read (only channels)", other.describe())))
            }
            None => Err(DecodeError::new(format!("malformed value bytes: no handle {i}"))),
        };
        codec::decode(&bytes[1..], &chan).and_then(T::from_value)
    }

    /// The arguments `rt.goRust(name, ...args)` passed (this message holds them as an array),
    /// as a `T`, usually a tuple: `let (jobs, n): (JsChan, u32) = args.decode_args()?;`. A
    /// `TypeError` naming the argument otherwise: "argument 2: expected a u32 (an integer
    /// number), got a string".
    pub fn decode_args<T: FromValue>(&self) -> Result<T, JsValue> {
        self.decode().map_err(|e| js_sys::TypeError::new(&format!("gort: {}", e.in_arguments())).into())
    }

    /// The UTF-8 text after the outcome tag (of a failure's message).
    pub(crate) fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.tagged_bytes()[1..]).into_owned()
    }
}

impl Handle {
    /// What the handle is, as an error names it.
    fn describe(&self) -> &'static str {
        match self {
            Handle::Chan(_) => "a channel",
            Handle::WaitGroup(_) => "a WaitGroup",
            Handle::Mutex(_) => "a Mutex",
            Handle::RwMutex(_) => "an RWMutex",
            Handle::Cond(..) => "a Cond",
            Handle::Once(_) => "a Once",
        }
    }
}
