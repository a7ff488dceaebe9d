//! What a JS goroutine runs: its target, as `rt.go` ships it to the Worker that starts it.
//!
//! A target is either a function shipped by source (an expression each Worker compiles once:
//! it needs `eval`, which a Content-Security-Policy without `'unsafe-eval'` forbids) or a
//! module task, the export of a module that the Worker imports by URL (once per Worker), which
//! needs no `eval`. The two are distinct variants all the way to the Worker's host, which has
//! one entry point for each (`startFunction`, `startModule` in pkg/src/machine.js): a module
//! URL is never mistaken for source, nor source for a URL.
//!
//! JS builds a [`Target`] (`Target.function`, `Target.module`) and gives it up to
//! `RuntimeCore.go` or `workerGo`, which move it into the goroutine's task; its name, and
//! where JS called `rt.go` (`setCreatedAt`, at most `CREATED_AT_MAX` bytes), go to the G, for
//! goroutine dumps. An `afterFunc`'s goroutines are *detached*: nobody can join
//! them, so the host reports their failure where it happened, as an uncaught error of the
//! realm that ran them (`reportError`), as a throwing `setTimeout` callback is reported (Go
//! crashes the program on a panic in any goroutine). The strings are checked by the JS facade
//! (pkg/src/goroutine.js) before they get here: the module URL is absolute.
//!
//! A task spec's AbortSignal travels as a channel (`Target.abortOn`): the side that started
//! the goroutine sends the signal's reason on it (if the reason can be sent) and closes it when
//! the signal aborts; the goroutine's host makes `rt.signal` and `rt.done` of it
//! (pkg/src/machine.js).

use super::value::{ChanRef, Message};
use super::Host;
use crate::chan::Chan;
use wasm_bindgen::prelude::*;

/// A JS goroutine's target and name, made by JS and consumed by `go` (an `afterFunc` keeps
/// one, and starts each firing's goroutine with a clone).
#[wasm_bindgen]
#[derive(Clone)]
pub struct Target {
    kind: Kind,
    name: Option<String>,
    /// Where `rt.go` was called: `url:line:column`.
    created_at: Option<String>,
    detached: bool,
    abort: Option<Chan<Message>>,
}

/// The longest `created_at` kept, in bytes: longer ones keep their end (the line and column).
const CREATED_AT_MAX: usize = 200;

/// How the Worker finds the goroutine's function.
#[derive(Clone)]
pub(super) enum Kind {
    /// A function expression, compiled by the Worker (`new Function`).
    Source(String),
    /// Export `export` of the module at the absolute URL `url`, imported by the Worker.
    Module { url: String, export: String },
}

#[wasm_bindgen]
impl Target {
    /// A function shipped by source: `source` is an expression that evaluates to it.
    pub fn function(source: String, name: Option<String>) -> Target {
        Target { kind: Kind::Source(source), name, created_at: None, detached: false, abort: None }
    }

    /// A module task: the export `export_name` of the module at the absolute URL `url`.
    pub fn module(url: String, export_name: String, name: Option<String>) -> Target {
        Target {
            kind: Kind::Module { url, export: export_name },
            name,
            created_at: None,
            detached: false,
            abort: None,
        }
    }

    /// Where JS called `rt.go`, for dumps: `url:line:column`, cut to its last `CREATED_AT_MAX`
    /// bytes.
    #[wasm_bindgen(js_name = setCreatedAt)]
    pub fn set_created_at(&mut self, at: String) {
        let mut start = at.len().saturating_sub(CREATED_AT_MAX);
        while !at.is_char_boundary(start) {
            start += 1;
        }
        self.created_at = Some(if start == 0 { at } else { at[start..].to_owned() });
    }

    /// The channel that carries the goroutine's AbortSignal (module header).
    #[wasm_bindgen(js_name = abortOn)]
    pub fn abort_on(&mut self, c: &ChanRef) {
        self.abort = Some(c.chan.clone());
    }
}

impl Target {
    /// The target's bytes, which live as long as the goroutine's task (its name is the G's).
    pub(super) fn byte_length(&self) -> usize {
        match &self.kind {
            Kind::Source(s) => s.len(),
            Kind::Module { url, export } => url.len() + export.len(),
        }
    }

    /// The target of goroutines nobody can join (module header).
    pub(super) fn detach(mut self) -> Target {
        self.detached = true;
        self
    }

    /// Splits the target into how to start it, its name and where it was started.
    pub(super) fn into_parts(self) -> (Start, Option<String>, Option<String>) {
        (Start { kind: self.kind, detached: self.detached, abort: self.abort }, self.name, self.created_at)
    }
}

/// How to start a JS goroutine: its target, whether it is detached, and the channel of its
/// AbortSignal (module header).
pub(super) struct Start {
    kind: Kind,
    detached: bool,
    abort: Option<Chan<Message>>,
}

impl Start {
    /// Asks the Worker's `host` to start goroutine `goid` on this target with `args`: its
    /// outcome `Message`, or a promise of one.
    pub(super) fn start(&self, host: &Host, goid: f64, args: Message) -> JsValue {
        let abort = self.abort.clone().map_or(JsValue::UNDEFINED, |chan| ChanRef { chan }.into());
        match &self.kind {
            Kind::Source(source) => host.start_function(goid, source, args, self.detached, abort),
            Kind::Module { url, export } => host.start_module(goid, url, export, args, self.detached, abort),
        }
    }
}
