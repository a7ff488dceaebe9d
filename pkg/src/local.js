// A runtime without threads, for pages that are not cross-origin isolated (no
// SharedArrayBuffer, so no shared wasm memory and no Workers sharing it): the module built
// without atomics (`pkg/wasm/gort_st.js`) runs one P whose M is the page's own thread, as Go's
// own wasm port runs every goroutine on one thread. Goroutines, channels, select, timers, sync
// and the collector work as with threads, only not in parallel.
//
// The page's thread never blocks: where a Worker M would wait on a word of memory
// (`Atomics.waitAsync`), this M and the page's own waits register here, and the module's wakes
// of that word (`memory.atomic.notify` in the threaded build) call `#wake` instead
// (crate/src/platform/web.rs, `set_local_waker`). One thread, so no wake is lost between the
// check of a word and the registration of its wait: nothing else runs in between.
//
// Module contract (for index.js):
// - `localWaits(glue)`: the waits of the module instance `glue` (one per instance, which
//   registers its waker): `wait(address, value, timeoutMs)` is a promise that resolves once
//   the 32-bit word at `address` no longer holds `value` (or after `timeoutMs`), or undefined
//   if it holds another value already; `notify(address)` wakes its
//   waits.
// - `new LocalM(glue, reference, waits, { callSites, shared })`: M 0 of the runtime behind
//   `reference` (`RuntimeCore.workerReference()`), driven on this thread, whose goroutines
//   record where their `rt.go` was called if `callSites` (index.js) and share the page's table
//   of shared buffers `shared` (shared.js); it offers what index.js uses of a
//   Worker M (`ready`, `stopped`, `gone`, …). Only one runs at a time on a page: the module's
//   goroutine-side calls find their runtime through the thread's current M.

import { createHost, driveMachine } from './machine.js';

class LocalWaits {
  #memory;
  #waiting = new Map(); // address → Set of resolve functions

  constructor(glue) {
    this.#memory = glue.gortSharedMemory();
    glue.gortSetWaker((address) => this.notify(address));
  }

  wait(address, value, timeoutMs = Infinity) {
    // The memory's buffer is replaced when it grows: read it anew each time.
    if (new Int32Array(this.#memory.buffer)[address >>> 2] !== (value | 0)) return undefined;
    return new Promise((resolve) => {
      let set = this.#waiting.get(address);
      if (!set) this.#waiting.set(address, (set = new Set()));
      let timer;
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0 && this.#waiting.get(address) === set) this.#waiting.delete(address);
        resolve();
      };
      set.add(done);
      if (Number.isFinite(timeoutMs)) timer = setTimeout(done, timeoutMs);
    });
  }

  notify(address) {
    const set = this.#waiting.get(address);
    if (set) for (const done of [...set]) done();
  }
}

const waitsOf = new WeakMap(); // glue module → its LocalWaits

/** The waits of the module instance `glue` (module contract). */
export function localWaits(glue) {
  let waits = waitsOf.get(glue);
  if (!waits) waitsOf.set(glue, (waits = new LocalWaits(glue)));
  return waits;
}

/** The one M of a runtime without threads, run by this thread (module contract). */
export class LocalM {
  index = 0;
  started = true;
  hasStopped = false;
  writtenOff = false;
  lost = false;
  failed = 0;
  gone = new Promise(() => {}); // the page's own thread: it dies with the page

  constructor(glue, reference, waits, { callSites, shared }) {
    // The goroutines' realms share one owner: this runtime.
    const host = createHost(glue, 0, {}, { callSites, shared, wait: (address, value) => waits.wait(address, value) });
    const m = new glue.Machine(reference, 0, host);
    this.ready = Promise.resolve();
    const park = (address, value, timeoutMs) => waits.wait(address, value, timeoutMs);
    this.stopped = driveMachine(glue, m, park, () => {
      // Continuations of goroutines that were still running here may follow: their calls
      // on the runtime are ShutdownErrors from now on.
      host.close();
      m.free();
      this.hasStopped = true;
    });
  }

  /** Nothing to terminate: an M that does not stop holds the page's own thread. */
  terminate() {}

  dispose() {}

  writeOff() {
    this.writtenOff = true;
  }
}
