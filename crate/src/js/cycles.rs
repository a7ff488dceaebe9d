//! Collecting cycles of JS channels (Bacon and Rajan's trial deletion, as CPython's cycle
//! collector does it).
//!
//! Channels of JS values are reference counted (`value.rs` says why they are not heap objects).
//! A channel reachable only through a message buffered in another channel stays alive through
//! the handle inside that message; an unreachable one is freed with its buffer when its last
//! handle goes. Counting alone never frees a cycle: a channel whose buffer holds a message
//! holding the channel itself (or A holding B holding A). So at each collection, while every M
//! is stopped, [`break_cycles`] finds the channels that nothing outside the channels' buffers
//! refers to and empties their buffers, which breaks the cycles; counting frees the rest.
//!
//! # The pass
//! 1. Snapshot the registry of live channels (a `Weak` each; the snapshot adds one strong
//!    reference to each, which step 3 discounts).
//! 2. For each channel, under its lock, count the handles to registered channels inside its
//!    buffered messages: these references are *internal*.
//! 3. A channel with more strong references than internal ones is referenced from outside the
//!    buffers: by a JS handle, a goroutine's operation, a message in flight elsewhere (an
//!    argument, a result, a blocked sender's value). It is live, and so is every channel
//!    reachable from it through buffered messages.
//! 4. Every other channel is garbage: nothing can send to or receive from it again. Its buffer
//!    is emptied; the messages dropped release their handles (and their heap objects, which the
//!    collection then frees as unrooted).
//!
//! # Why the counts are consistent
//! The pass runs only while a single runtime exists: channels belong to no runtime, and the
//! goroutines of another runtime would not be stopped. Goroutines are stopped, so only JS code
//! runs meanwhile (the page, and Workers' promise
//! reactions): it can drop handles and clone them from messages it holds, which only makes
//! counts conservative or reflects real garbage, and it can move messages in and out of
//! buffers with `trySend`/`tryRecv`, which could make a handle look internal after it left.
//! Those two bump [`note_js_buffer_change`] first; a pass that sees the counter move judges
//! nothing. The counter is read (SeqCst) before step 1 and after step 3; a buffer change that
//! a snapshot or a strong count observed happens after its bump (the bump is sequenced before
//! the change, which is published by the channel's lock or by the count's Release decrement,
//! and observed by Acquire), so the second read sees the bump.

use super::value::{Handle, Message};
use crate::chan::{Chan, Inner};
use crate::platform::lock::Lock;
use std::collections::HashMap;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::{Arc, Weak};

/// Every channel of JS values, as it was made.
static CHANNELS: Lock<Vec<Weak<Inner<Message>>>> = Lock::new(Vec::new());

/// Bumped by JS before it moves a message into or out of a buffer (see the module header).
static JS_BUFFER_CHANGES: AtomicU64 = AtomicU64::new(0);

/// Records a new channel of JS values; the registry drops dead entries as it grows.
pub(crate) fn register(chan: &Chan<Message>) {
    let mut all = CHANNELS.lock();
    if all.len() == all.capacity() {
        all.retain(|w| w.strong_count() > 0);
    }
    all.push(Arc::downgrade(&chan.inner));
}

/// Runtimes started and not yet freed (`RuntimeCore`).
static RUNTIMES: AtomicUsize = AtomicUsize::new(0);

pub(crate) fn note_js_buffer_change() {
    JS_BUFFER_CHANGES.fetch_add(1, SeqCst);
}

/// A runtime starts: its goroutines would not stop for another runtime's pass.
pub(crate) fn runtime_started() {
    RUNTIMES.fetch_add(1, SeqCst);
    note_js_buffer_change();
}

pub(crate) fn runtime_ended() {
    RUNTIMES.fetch_sub(1, SeqCst);
}

/// Empties the buffers of unreachable channels (the module header's pass). Runs while every M
/// is stopped for a collection.
pub(crate) fn break_cycles() {
    let changes = JS_BUFFER_CHANGES.load(SeqCst);
    if RUNTIMES.load(SeqCst) != 1 {
        return;
    }
    // 1. Snapshot.
    let chans: Vec<Chan<Message>> = {
        let mut all = CHANNELS.lock();
        all.retain(|w| w.strong_count() > 0);
        all.iter().filter_map(|w| w.upgrade()).map(|inner| Chan { inner }).collect()
    };
    let index: HashMap<*const Inner<Message>, usize> =
        chans.iter().enumerate().map(|(i, c)| (Arc::as_ptr(&c.inner), i)).collect();
    // 2. Internal references, and the edges of the buffer graph.
    let mut internal = vec![0usize; chans.len()];
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); chans.len()];
    for (i, chan) in chans.iter().enumerate() {
        chan.for_each_buffered(|m| {
            for h in m.handles() {
                if let Handle::Chan(c) = h {
                    if let Some(&j) = index.get(&Arc::as_ptr(&c.inner)) {
                        internal[j] += 1;
                        edges[i].push(j);
                    }
                }
            }
        });
    }
    // 3. Live: referenced from outside the buffers, or reachable from such a channel.
    let mut live: Vec<bool> =
        chans.iter().zip(&internal).map(|(c, &n)| Arc::strong_count(&c.inner) - 1 > n).collect();
    let mut stack: Vec<usize> = (0..chans.len()).filter(|&i| live[i]).collect();
    while let Some(i) = stack.pop() {
        for &j in &edges[i] {
            if !live[j] {
                live[j] = true;
                stack.push(j);
            }
        }
    }
    if JS_BUFFER_CHANGES.load(SeqCst) != changes {
        return;
    }
    // 4. Garbage.
    let garbage: Vec<_> =
        chans.iter().zip(&live).filter(|(_, &l)| !l).map(|(c, _)| c.take_buffered()).collect();
    drop(chans);
    drop(garbage);
}
