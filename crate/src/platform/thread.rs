//! Threads outside the scheduler's goroutines: the thread each M runs on, and any thread an
//! embedder or a test needs beside a runtime (to block on it, for one).
//!
//! Natively a thread is a `std::thread`. On the web it is a module Worker that instantiated
//! this same wasm module over the same shared memory (see `spawn_web`): `std::thread::spawn`
//! does not work there. Both return a [`JoinHandle`] whose `join` blocks the calling thread, so
//! on the web it must not be called on the page's main thread (`wait32` traps there).
//!
//! Invariant (web): a Worker only starts while the thread that created it returns to its event
//! loop. A thread that spawns and then blocks before that must first have [`prestart`]ed
//! enough Workers, which run the closures handed to them without any event-loop turn.

use std::future::Future;

#[cfg(not(target_arch = "wasm32"))]
type Inner<T> = std::thread::JoinHandle<T>;
#[cfg(target_arch = "wasm32")]
type Inner<T> = super::spawn_web::JoinHandle<T>;

/// An owned permission to join a thread (`std::thread::JoinHandle`'s counterpart).
pub struct JoinHandle<T>(Inner<T>);

impl<T> JoinHandle<T> {
    /// Blocks until the thread's closure returned, and gives its result, or the payload of its
    /// panic. Never on the page's main thread.
    pub fn join(self) -> std::thread::Result<T> {
        self.0.join()
    }

    /// Whether the closure has returned (or panicked).
    pub fn is_finished(&self) -> bool {
        self.0.is_finished()
    }
}

/// Runs `f` on a new thread: a std thread natively, a Worker on the web.
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    spawn_named(None, f)
}

/// Makes sure `n` threads can start without this thread returning to its event loop, and
/// resolves once they can: on the web, `n` idle Workers have started. Natively it is ready at
/// once. Await it before starting a runtime from a Worker that will then block on it. Panics
/// if a Worker fails to start (the wasm-bindgen glue could not be loaded in it, say).
pub fn prestart(n: usize) -> impl Future<Output = ()> {
    #[cfg(target_arch = "wasm32")]
    {
        super::spawn_web::prestart(n)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = n;
        std::future::ready(())
    }
}

/// The number of threads that can run at once: `std::thread::available_parallelism` natively,
/// `navigator.hardwareConcurrency` on the web (where std does not know it). At least 1.
pub(crate) fn available_parallelism() -> usize {
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
    #[cfg(target_arch = "wasm32")]
    {
        let global = js_sys::global();
        js_sys::Reflect::get(&global, &"navigator".into())
            .and_then(|n| js_sys::Reflect::get(&n, &"hardwareConcurrency".into()))
            .ok()
            .and_then(|n| n.as_f64())
            .map_or(1, |n| (n as usize).max(1))
    }
}

/// [`spawn`] with a thread name (natively; Workers spawned for the pool are all alike).
pub(crate) fn spawn_named<F, T>(name: Option<String>, f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    #[cfg(not(target_arch = "wasm32"))]
    {
        let mut b = std::thread::Builder::new();
        if let Some(name) = name {
            b = b.name(name);
        }
        JoinHandle(b.spawn(f).expect("failed to spawn a thread"))
    }
    #[cfg(target_arch = "wasm32")]
    {
        let _ = name;
        JoinHandle(super::spawn_web::spawn(f))
    }
}
