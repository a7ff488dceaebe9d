// gort's JavaScript facade, page side. `Runtime.start()` instantiates the wasm module on this
// thread, creates the runtime's shared state, and starts one module Worker per P; each Worker
// instantiates the same module over the same shared memory and becomes an M (worker.js).
//
// This thread never blocks: it submits goroutines through lock-free inboxes and waits for
// results with `Atomics.waitAsync` on each goroutine's state word.
//
// Faults are contained: each Worker holds a Web Lock for its life, which this thread asks for
// too and is granted only once that Worker is dead (closed, crashed or terminated; unlike a
// heartbeat, a busy Worker never looks dead). Then the runtime raises `error`, the goroutines
// bound to that Worker fail, and a new Worker takes over its M (crate/src/js/faults.rs). At
// shutdown, Workers that do not stop within `timeoutMs` are terminated and written off. A
// Worker that stopped is terminated too; this thread frees its wasm thread's stack and
// thread-locals once its lock is granted (`freeThread`): only then can no code run there.
//
// On a page that is not cross-origin isolated there is no shared memory: the module built
// without threads runs one P, whose M is this thread (local.js), and this thread's waits on
// words of memory are settled by the module's wakes instead of `Atomics.waitAsync`.
//
// Module contract: this is the package's entry point (its exports are the API, typed in
// index.d.ts). It gives realm.js's RuntimeBase the page's Realm, which knows when the runtime
// shuts down (its `life`); worker.js is started by URL and shares nothing with it but the glue.
//
// Bundlers: the Worker and the wasm binaries are named with the literal patterns Vite and
// webpack 5 recognise (`new Worker(new URL('./worker.js', import.meta.url), { type: 'module',
// … })` and `new URL('../wasm/gort_bg.wasm', import.meta.url)`), the threaded glue is imported
// statically here and in worker.js, and the glue without threads by a literal `import()` (a
// chunk of its own, which only pages that are not isolated load), so a production build
// bundles the Worker and emits the wasm with no plugin. Keep those expressions literal, at
// their call. The page compiles the module once and posts it to every Worker: no Worker
// fetches the wasm.

import {
  Goroutine,
  GoroutineError,
  ShutdownError,
  WorkerError,
  describe,
  goroutineTask,
  wasmTarget,
} from './goroutine.js';
import {
  Chan,
  ChannelError,
  Cond,
  MAX_PROCS,
  Mutex,
  Once,
  RWMutex,
  Realm,
  RuntimeBase,
  SyncError,
  Ticker,
  Timer,
  WaitGroup,
  checkProcs,
} from './realm.js';
import { LocalM, localWaits } from './local.js';
import { SharedBuffers, SharedHub } from './shared.js';
import * as packageGlue from '../wasm/gort.js';

export {
  Chan,
  ChannelError,
  Cond,
  Goroutine,
  GoroutineError,
  Mutex,
  Once,
  RWMutex,
  ShutdownError,
  SyncError,
  Ticker,
  Timer,
  WaitGroup,
  WorkerError,
};

/**
 * After terminating Workers at shutdown, how long the runtime's memory waits for their deaths
 * to be confirmed (Chromium ends the thread of a Worker busy in JS about 2 s after
 * `terminate()`); a Worker not confirmed dead by then keeps its references (leaked).
 */
const KILL_CONFIRM_MS = 10000;
/** What `outcome` waits for when a shutdown gave up on the runtime's goroutines. */
const ABANDONED = Symbol('abandoned');

// A custom glue's URL, or 'threads' / 'local' for this package's builds → Promise of that glue
// module, its wasm module instantiated on this page (once: every runtime of the page on the
// same glue shares its memory).
const glues = new Map();
// A threaded glue → its wasm instance's exports on this page (for `freeThread`).
const glueExports = new WeakMap();
let localRuntime = null; // while a runtime without threads runs: a promise (local.js)

/**
 * The glue a runtime runs on, initialized: the custom glue at `glueUrl`, or (undefined) this
 * package's build with or without `threads`. `wasmUrl` overrides where the first start fetches
 * the wasm binary from (by default, the package's own, or wherever a custom glue looks).
 */
function loadGlue(glueUrl, wasmUrl, threads) {
  const key = glueUrl ?? (threads ? 'threads' : 'local');
  let glue = glues.get(key);
  if (!glue) {
    glue = instantiate(glueUrl, wasmUrl, threads);
    glues.set(key, glue);
    glue.catch(() => glues.delete(key));
  }
  return glue;
}

/** Imports and initializes a glue (see `loadGlue`): the page's only fetch of the wasm. */
async function instantiate(glueUrl, wasmUrl, threads) {
  if (glueUrl !== undefined) {
    const glue = await import(/* webpackIgnore: true */ /* @vite-ignore */ glueUrl);
    glueExports.set(glue, await glue.default(wasmUrl === undefined ? undefined : { module_or_path: wasmUrl }));
    return glue;
  }
  if (threads) {
    const exports = await packageGlue.default({
      module_or_path: wasmUrl ?? new URL('../wasm/gort_bg.wasm', import.meta.url),
    });
    glueExports.set(packageGlue, exports);
    return packageGlue;
  }
  const glue = await import('../wasm/gort_st.js');
  await glue.default({ module_or_path: wasmUrl ?? new URL('../wasm/gort_st_bg.wasm', import.meta.url) });
  return glue;
}

/**
 * Frees, from this page, the TLS block and stack of a Worker's wasm thread (`thread`: its
 * `__tls_base` and `__stack_alloc`, which worker.js sends with `stopped`), once that Worker is
 * dead: its Web Lock is granted only when no JS can run there any more. A Worker does not free
 * them itself, because a stopped Worker may still run JS (wasm-bindgen's finalizers, which
 * Chromium can run until the Worker is gone), and wasm code on a thread whose TLS is freed reads
 * out of bounds, which poisons the module for every thread. Without Web Locks they stay
 * allocated.
 */
function freeThread(glue, lock, { tls, stack }) {
  const destroy = glueExports.get(glue)?.__wbindgen_thread_destroy;
  // Both non-zero, or wasm-bindgen would free the calling (page's) thread's own.
  if (!destroy || !globalThis.navigator?.locks || !tls || !stack) return;
  navigator.locks.request(lock, () => destroy(tls, stack, 0)).catch(() => {});
}

/**
 * `value`, a URL option of `Runtime.start` (a string, relative to the page's base URL, or a
 * URL), as an absolute URL string; `undefined` if it was not given.
 */
function urlOption(name, value) {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' && !(value instanceof URL)) {
    throw new TypeError(`Runtime.start: ${name} must be a URL or a string, got ${describe(value)}`);
  }
  try {
    return new URL(value, globalThis.document?.baseURI ?? globalThis.location?.href).href;
  } catch {
    throw new TypeError(`Runtime.start: ${name} is not a valid URL: ${JSON.stringify(String(value))}`);
  }
}

const bootstraps = new Map(); // a cross-origin worker script's URL → a blob: module importing it

/**
 * A new module Worker for M `index`: this package's worker.js, or the script at `url` (which
 * must be this package's worker.js, of the same version, hosted elsewhere). A Worker's script
 * must have the page's origin, so a cross-origin `url` (a CDN) is imported by a same-origin
 * blob: module; it must then be served with CORS headers (which COEP require-corp accepts).
 */
function newWorker(url, index) {
  const name = `gort-m${index}`;
  if (url === undefined) return new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name });
  if (new URL(url).origin === globalThis.location?.origin) return new Worker(url, { type: 'module', name });
  let blob = bootstraps.get(url);
  if (blob === undefined) {
    blob = URL.createObjectURL(new Blob([`import ${JSON.stringify(url)};\n`], { type: 'text/javascript' }));
    bootstraps.set(url, blob);
  }
  return new Worker(blob, { type: 'module', name });
}

/**
 * The page's waits on words of a shared memory: `wait(address, value)` resolves, without
 * blocking, once the 32-bit word at `address` no longer holds `value`; `notify(address)` wakes
 * its waiters. (A runtime without threads has its own: local.js.)
 */
function sharedWaits(memory) {
  return {
    async wait(address, value) {
      const r = Atomics.waitAsync(new Int32Array(memory.buffer), address >>> 2, value);
      if (r.async) await r.value;
    },
    notify(address) {
      Atomics.notify(new Int32Array(memory.buffer), address >>> 2);
    },
  };
}

/**
 * A goroutine's (or operation's) outcome Message, awaited without blocking; frees `ref`.
 * Rejects with a ShutdownError if a shutdown gave up on it first (`life.abandoned`: it
 * terminated Workers, and what they held may never complete).
 */
async function outcome(waits, ref, life) {
  try {
    while (!ref.isReady()) {
      const woke = await Promise.race([waits.wait(ref.stateAddress(), 0), life.abandoned]);
      // An outcome written before the shutdown gave up is still delivered: a send that
      // completed must not read as failed.
      if (woke === ABANDONED && !ref.isReady()) throw new ShutdownError('join');
    }
    return ref.take();
  } finally {
    ref.free();
  }
}

/** Registers a page-held handle's wasm `ref` of the glue's HandleKind `kind` with `core`. */
function holdOn(glue, core, kind, ref) {
  const kinds = glue.HandleKind;
  if (kind === kinds.Chan) core.holdChan(ref);
  else if (kind === kinds.WaitGroup) core.holdWaitGroup(ref);
  else if (kind === kinds.RwMutex) core.holdRwMutex(ref);
  else if (kind === kinds.Cond) core.holdCond(ref);
  else if (kind === kinds.Once) core.holdOnce(ref);
  else core.holdMutex(ref);
}

/** The page's base URL, which a module task's relative `module` resolves against. */
function pageBase() {
  return globalThis.document?.baseURI ?? globalThis.location?.href;
}

/** The error a join rejects with when the runtime shut down before it could read the result. */
function cancelled(id) {
  return new ShutdownError(`join: goroutine ${id} was cancelled`, id);
}

let workerSerial = 0;

/**
 * One M's Worker: a P's M, or a spare M (crate/src/sched/sysmon.rs). `ready` settles once it
 * runs the M (or failed to start); `stopped` once it stopped at shutdown, or is written off;
 * `gone` once its thread is known dead, with why (its Web Lock was granted to this page, or
 * it crashed, or failed to start, and was terminated).
 */
class WorkerM {
  #stop;
  #die;
  #locks = new AbortController();
  #watching = false;
  started = false; // it ran its M (answered `ready`)
  hasStopped = false;
  writtenOff = false; // dead, and counted as stopped
  lost = false; // died before it ran its M, and not replaced: its M is written off at shutdown
  crash = undefined; // the crash message, once it crashed

  /**
   * `init`: the first message (worker.js), but for the index, the lock's name and the shared
   * buffers; with the runtime's `id`, `workerUrl`, the worker script's URL (undefined: the
   * package's own), `hub`, the runtime's SharedHub (shared.js), and `pageGlue`, the glue module
   * the page runs the runtime on.
   */
  constructor(index, { id, workerUrl, hub, pageGlue, ...init }) {
    const serial = ++workerSerial;
    this.index = index;
    this.lock = `gort:${id}:m${index}:${serial}`;
    this.worker = newWorker(workerUrl, index);
    this.stopped = new Promise((resolve) => (this.#stop = resolve));
    this.gone = new Promise((resolve) => (this.#die = resolve));
    const worker = this.worker;
    this.ready = new Promise((resolve, reject) => {
      worker.onmessage = ({ data }) => {
        if (data.type === 'ready') {
          this.started = true;
          this.failed = data.failed;
          this.#watch();
          resolve();
        } else if (data.type === 'stopped') {
          this.hasStopped = true;
          freeThread(pageGlue, this.lock, data.thread);
          this.#stop();
        } else if (data.type === 'shared') {
          hub.fromWorker(data.id, data.buffer, worker);
        } else if (data.type === 'crash') {
          console.error(`gort: M ${index} crashed: ${data.message}`);
          reject(new Error(`gort: M ${index} failed to start: ${data.message}`));
          this.crash = data.message;
          this.#kill();
        }
      };
      worker.onerror = (e) => {
        e.preventDefault();
        if (this.started) {
          // An uncaught error in a goroutine's callback (a timer's, say): the Worker lives on.
          console.error(`gort: M ${index}: uncaught error in its Worker: ${e.message}`);
          return;
        }
        const message = e.message || 'the Worker script failed to load';
        console.error(`gort: M ${index}: ${message}`);
        reject(new Error(`gort: M ${index} failed to start: ${message}`));
        this.crash = message;
        this.#kill();
      };
    });
    // The buffers shared so far, and from this turn on every new one after them (shared.js).
    const shared = { prefix: serial, buffers: hub.join(worker) };
    this.gone.then(() => hub.leave(worker));
    worker.postMessage({ ...init, index, lock: this.lock, shared });
  }

  /** Asks for the Worker's Web Lock, which is granted once the Worker is dead. */
  #watch() {
    if (!globalThis.navigator?.locks || this.#watching) return;
    this.#watching = true;
    navigator.locks.request(this.lock, { signal: this.#locks.signal }, () => this.#die(this.#reason())).catch(() => {}); // aborted: the runtime is gone
  }

  #reason() {
    return this.crash === undefined ? 'it closed or was terminated' : `it crashed: ${this.crash}`;
  }

  /**
   * Terminates a Worker that crashed (its M is broken) or failed to start. Dead once its lock
   * is granted (at once if it never held it).
   */
  #kill() {
    this.worker.terminate();
    if (globalThis.navigator?.locks) this.#watch();
    else this.#die(this.#reason());
  }

  /** Terminates the Worker (it stopped, or is written off). */
  terminate() {
    this.worker.terminate();
  }

  /** Stops watching (the runtime is freed). */
  dispose() {
    this.#locks.abort();
    this.worker.terminate();
  }

  /** Counts as stopped (it died; what it ran is written off). */
  writeOff() {
    this.writtenOff = true;
    this.#stop();
  }
}

/** Resolves after `ms` (never, for Infinity). */
function delay(ms) {
  return new Promise((resolve) => {
    if (Number.isFinite(ms)) setTimeout(resolve, ms);
  });
}

/**
 * A running gort runtime, held by the page. An EventTarget: a `deadlock` event (a
 * CustomEvent whose `detail` is `{ message }`, Go's report) fires when every goroutine is
 * blocked on runtime objects and the page holds no handle that could wake one; an `error`
 * event (`detail`: `{ proc, message }`) when the Worker of M `proc` died, which a new Worker
 * replaces.
 */
export class Runtime extends RuntimeBase {
  #glue;
  #core;
  #waits;
  #threaded;
  #workers;
  #init;
  #coreFreed = false;
  #realm;
  // { closing, freed, abandoned, abandon }: closing is the shutdown promise once shutdown()
  // was called; freed is set once the runtime's memory (its heap, the core) is gone;
  // abandoned resolves (to ABANDONED) when a shutdown that terminated Workers ended, and
  // waits for outcomes give up; shuttingDown resolves as soon as shutdown() is called.
  #life;
  #procs;
  #maxProcs;

  #startedAt;

  constructor(key, glue, core, workers, init, waits, shared) {
    if (key !== START) throw new TypeError('use Runtime.start() to create a runtime');
    const life = { closing: null, freed: false };
    life.abandoned = new Promise((resolve) => (life.abandon = () => resolve(ABANDONED)));
    life.shuttingDown = new Promise((resolve) => (life.shutDown = resolve));
    const external = {
      hold: (kind, ref) => holdOn(glue, core, kind, ref),
      unhold: (key) => life.closing || core.unhold(key),
    };
    const realm = new Realm(glue, (op) => outcome(waits, core.run(op), life), {
      external,
      life,
      admit: (length, heap) => core.admitLength(length, heap),
      timers: {
        timer: (ms) => core.timer(ms),
        ticker: (ms) => core.ticker(ms),
        afterFunc: (ms, target, args) => core.afterFunc(ms, target, args),
      },
      base: pageBase,
      callSites: init.callSites,
      wait: (address, value) => waits.wait(address, value),
      shared,
    });
    super(realm);
    this.#glue = glue;
    this.#core = core;
    this.#waits = waits;
    this.#threaded = glue.gortThreaded();
    this.#workers = workers;
    this.#init = init;
    this.#startedAt = performance.now();
    this.#realm = realm;
    this.#life = life;
    this.#procs = core.procs();
    this.#maxProcs = core.maxProcs();
    this.#watchEvents();
    workers.forEach((w) => this.#watchDeath(w));
  }

  /**
   * When Worker `w` dies (a P's M or a spare M's): a new Worker takes over its M, or, at
   * shutdown, it is written off. A Worker that died before it ran its M is not replaced (a
   * new one would most likely fail alike): its M stays dead, and is written off at shutdown.
   */
  async #watchDeath(w) {
    const reason = await w.gone;
    const life = this.#life;
    if (w.hasStopped || this.#coreFreed) return; // it stopped and the page terminated it
    if (life.closing) {
      this.#core.mGone(w.index);
      w.writeOff();
      return;
    }
    const died = this.#core.mDied(w.index);
    w.writeOff();
    if (!w.started) {
      w.lost = true;
      const message = `the Worker of M ${w.index} failed to start: ${reason}`;
      console.error(`gort: ${message}`);
      this.dispatchEvent(new CustomEvent('error', { detail: { proc: w.index, message } }));
      return;
    }
    if (!died) return;
    const message = `the Worker of M ${w.index} died: ${reason}`;
    console.error(`gort: ${message}; a new Worker takes over its M`);
    const next = new WorkerM(w.index, { ...this.#init, reference: this.#core.workerReference(), died: reason });
    this.#workers[this.#workers.indexOf(w)] = next;
    this.#watchDeath(next);
    this.dispatchEvent(new CustomEvent('error', { detail: { proc: w.index, message } }));
  }

  #check(what) {
    this.#realm.check(what);
  }

  async #watchEvents() {
    let seen = this.#core.eventsValue();
    while (!this.#life.closing) {
      await this.#waits.wait(this.#core.eventsAddress(), seen);
      if (this.#life.closing) return;
      seen = this.#core.eventsValue();
      this.#startRequestedMs();
      const message = this.#core.takeDeadlockReport();
      if (message !== undefined) {
        console.error(message);
        this.dispatchEvent(new CustomEvent('deadlock', { detail: { message } }));
      }
    }
  }

  /**
   * Starts the Workers of the Ms the runtime asked for: spare Ms its monitor wants, and the Ms
   * of Ps that `setProcs` added.
   */
  #startRequestedMs() {
    for (const index of this.#core.takeMRequests()) {
      const w = new WorkerM(index, { ...this.#init, reference: this.#core.workerReference() });
      this.#workers.push(w);
      this.#watchDeath(w);
    }
  }

  /**
   * Go's `GODEBUG=schedtrace` line, now: `SCHED 1004ms: gomaxprocs=2 idleprocs=0 threads=3 …
   * runqueue=0 [0 0]` (threads: the Ps' Ms and the spare Ms; `syscallprocs`: Ps whose M runs
   * JS code; `retakes`: Ps handed to a spare M while their own M ran JS code for long).
   */
  schedtrace() {
    this.#check('rt.schedtrace');
    return this.#core.schedtrace(performance.now() - this.#startedAt);
  }

  /**
   * Starts a runtime with `procs` Ps, each run by a module Worker.
   * `wasm`: URL of a wasm-bindgen glue module built from a crate that includes gort (defaults
   * to this package's own build). `wasmUrl`: where the wasm binary of the build that runs is
   * fetched from (by default the package's own, as the page's bundler emitted it). `workerUrl`:
   * this package's worker.js hosted elsewhere (by default the package's own, as bundled).
   * Relative URLs are resolved against the page's base URL.
   *
   * On a page that is not cross-origin isolated (no SharedArrayBuffer) it starts one P run by
   * the page's own thread instead (`threaded` is false, `procs` is 1; see local.js), with the
   * same API; one such runtime runs at a time on a page. `requireThreads: true` makes it reject
   * there instead. `wasm` must then name a glue built without threads (defaults to this
   * package's own). `maxProcs` (from `procs` to 64, the default): the most Ps `setProcs` may
   * set later; what the runtime keeps per P is allocated for that many at start (a few KiB
   * each), Workers only for the Ps in use.
   *
   * `callSites: false` stops `rt.go` and `rt.afterFunc` (on the page and in goroutines) from
   * recording where they were called (`createdAt` in `goroutines()`, the `created by` lines of
   * dumps): finding the caller's frame costs a stack capture, about 2 µs, per call.
   */
  static async start({
    procs = globalThis.navigator?.hardwareConcurrency ?? 1,
    maxProcs = MAX_PROCS,
    wasm,
    wasmUrl,
    workerUrl,
    gcPercent = 100,
    heapLimit = 0,
    gctrace = false,
    requireThreads = false,
    callSites = true,
  } = {}) {
    if (!Number.isInteger(procs) || procs < 1 || procs > MAX_PROCS) {
      throw new RangeError(`Runtime.start: procs must be an integer from 1 to ${MAX_PROCS}, got ${procs}`);
    }
    if (!Number.isInteger(maxProcs) || maxProcs < procs || maxProcs > MAX_PROCS) {
      throw new RangeError(
        `Runtime.start: maxProcs must be an integer from procs (${procs}) to ${MAX_PROCS}, got ${describe(maxProcs)}`,
      );
    }
    if (!Number.isInteger(gcPercent)) {
      throw new RangeError(
        `Runtime.start: gcPercent must be an integer (negative: no paced collections), got ${gcPercent}`,
      );
    }
    if (!Number.isSafeInteger(heapLimit) || heapLimit < 0) {
      throw new RangeError(`Runtime.start: heapLimit must be a byte count ≥ 0 (0: none), got ${heapLimit}`);
    }
    const glueHref = urlOption('wasm', wasm);
    const wasmHref = urlOption('wasmUrl', wasmUrl);
    const workerHref = urlOption('workerUrl', workerUrl);
    if (!globalThis.crossOriginIsolated) {
      if (requireThreads) {
        throw new Error(
          'Runtime.start: threads need SharedArrayBuffer, which this page lacks (it is not ' +
            'cross-origin isolated); serve it with "Cross-Origin-Opener-Policy: same-origin" and ' +
            '"Cross-Origin-Embedder-Policy: require-corp" (or "credentialless"), or leave ' +
            'requireThreads off to run on one P without threads',
        );
      }
      return Runtime.#startLocal({ glueHref, wasmHref, gcPercent, heapLimit, gctrace, callSites: !!callSites });
    }
    const glue = await loadGlue(glueHref, wasmHref, true);
    if (!glue.gortThreaded()) throw new TypeError(`Runtime.start: ${glueHref} is a build without threads`);
    const core = new glue.RuntimeCore(procs, maxProcs, gcPercent, heapLimit, !!gctrace);
    const id = globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random()}`;
    const init = {
      glue: glueHref,
      module: glue.gortWasmModule(),
      memory: glue.gortSharedMemory(),
      id,
      workerUrl: workerHref,
      callSites: !!callSites,
      hub: new SharedHub(),
      pageGlue: glue,
    };
    // The Ps' Ms, and the warm spare M (sched/sysmon.rs) the runtime asked for already.
    const indices = [...Array.from({ length: procs }, (_, i) => i), ...core.takeMRequests()];
    const workers = indices.map((i) => new WorkerM(i, { ...init, reference: core.workerReference() }));
    try {
      await Promise.all(workers.map((w) => w.ready));
    } catch (e) {
      core.shutdown();
      workers.forEach((w) => w.dispose());
      throw e;
    }
    return new Runtime(START, glue, core, workers, init, sharedWaits(glue.gortSharedMemory()), init.hub.table);
  }

  /** `start` on a page without cross-origin isolation: one P, whose M is this thread. */
  static async #startLocal({ glueHref, wasmHref, gcPercent, heapLimit, gctrace, callSites }) {
    if (localRuntime) {
      throw new Error(
        'Runtime.start: without cross-origin isolation one runtime runs at a time on a page; ' +
          'shut the other one down first (await rt.shutdown())',
      );
    }
    localRuntime = loadGlue(glueHref, wasmHref, false);
    try {
      const glue = await localRuntime;
      if (glue.gortThreaded()) throw new TypeError(`Runtime.start: ${glueHref} is a build with threads`);
      const core = new glue.RuntimeCore(1, 1, gcPercent, heapLimit, !!gctrace);
      const waits = localWaits(glue);
      const shared = new SharedBuffers(0); // one thread: the page's realm and its M's share it
      const m = new LocalM(glue, core.workerReference(), waits, { callSites, shared });
      m.stopped.then(() => (localRuntime = null));
      return new Runtime(START, glue, core, [m], { glue: glueHref, callSites }, waits, shared);
    } catch (e) {
      localRuntime = null;
      throw e;
    }
  }

  /** Number of Ps (and worker Ms), as `setProcs` last set it; still readable after shutdown. */
  get procs() {
    if (!this.#life.freed) this.#procs = this.#core.procs();
    return this.#procs;
  }

  /** The most Ps `setProcs` may set (`maxProcs` of `Runtime.start`; 1 without threads). */
  get maxProcs() {
    return this.#maxProcs;
  }

  /**
   * Go's runtime.GOMAXPROCS(n): sets the number of Ps to `n`, an integer from 1 to
   * `maxProcs`, with the world stopped, and resolves with the number before, once the new
   * Ps' Workers run. Goroutines queued on removed Ps move to the others, with their timers;
   * the Workers of removed Ps stay, idle but for the JS goroutines that started on them
   * (which cannot move), and run Ps again when the count grows back. Without threads (a page
   * that is not cross-origin isolated) there is one P: any other count is a RangeError.
   */
  async setProcs(n) {
    this.#check('rt.setProcs');
    checkProcs(n, 'rt.setProcs');
    if (n > this.#maxProcs) {
      throw new RangeError(
        this.#threaded
          ? `rt.setProcs: n must be from 1 to maxProcs (${this.#maxProcs}, an option of Runtime.start), got ${n}`
          : `rt.setProcs: without threads (the page is not cross-origin isolated) a runtime has 1 P, got ${n}`,
      );
    }
    const previous = await super.setProcs(n);
    // The new Ps' Ms were asked for before the answer: start them (unless the events watcher
    // did already, or a shutdown began: it writes them off) and wait until they run, or a
    // shutdown stops them (a failure to start is an `error` event).
    if (!this.#life.closing) this.#startRequestedMs();
    const news = this.#workers.filter((w) => w.index < n && !w.started && !w.lost);
    await Promise.race([Promise.all(news.map((w) => w.ready.catch(() => {}))), this.#life.shuttingDown]);
    return previous;
  }

  /** Whether goroutines run on Workers in parallel (false: one P on the page's thread). */
  get threaded() {
    return this.#threaded;
  }

  /**
   * Runs a goroutine on a worker M: its function as `fn(rt, ...args)`, the arguments copied
   * (structured-clone-like values). `target` is the function, shipped by source (so it must be
   * self-contained: no closures), or a task spec: `{ fn, name }`, or a module task `{ module,
   * export, name }`, whose Worker imports `module` (a URL; a string resolves against the page's
   * base URL, `document.baseURI`), once, and calls its export `export`. A module task needs no
   * `eval`: it works under a Content-Security-Policy without 'unsafe-eval', where a function
   * target is an EvalError that says to use one. `name` is what goroutine dumps call it.
   * `signal`, an AbortSignal: the goroutine's `rt.signal` aborts when it does (with its reason,
   * if that can be sent; an AbortError otherwise), and its `rt.done` channel is closed; the
   * goroutine itself runs on until it returns (Go cannot kill a goroutine).
   */
  go(target, ...args) {
    this.#check('rt.go');
    const task = goroutineTask(target, 'rt.go', pageBase());
    const msg = this.#realm.args(args);
    const ref = this.#realm.goWithSignal(
      wasmTarget(this.#glue, task, this.#realm.callSite(this.go)),
      task.signal,
      (t) => this.#core.go(t, msg),
    );
    return this.#handle(ref);
  }

  /**
   * Runs a Rust goroutine defined by the wasm module this runtime was started with (the
   * `wasm` glue of `Runtime.start`): calls that glue's export `name(core, args)`, where `args`
   * is one Message holding the array of `args` (copied as `rt.go` copies arguments: channels
   * and other handles are shared, anything that cannot be sent is a TypeError naming the
   * argument). The export reads them as typed Rust values (`Message::decode_args`, a TypeError
   * naming the argument that does not fit), starts the goroutine with
   * `RuntimeCore::go_value` and returns its `JoinRef`. `join()` resolves to the goroutine's
   * value, a JS value like any goroutine's (channels the goroutine returns arrive as `Chan`s);
   * it rejects with a GoroutineError if the goroutine panicked or returned an `Err`.
   */
  goRust(name, ...args) {
    this.#check('rt.goRust');
    const start = this.#glue[name];
    if (typeof start !== 'function') {
      throw new TypeError(`rt.goRust: the wasm module has no exported function ${JSON.stringify(name)}`);
    }
    // The export takes the Message (by value: wasm-bindgen frees it with the call); one that
    // only borrows it leaves it to the glue's finalizer.
    const ref = start(this.#core, this.#realm.args(args));
    if (!(ref instanceof this.#glue.JoinRef)) {
      ref?.free?.();
      throw new TypeError(`rt.goRust: ${name} must return the JoinRef of the goroutine it started`);
    }
    return this.#handle(ref);
  }

  /**
   * A goroutine's handle. Its join rejects with a ShutdownError (carrying the goroutine's id)
   * once the runtime shut down before the result could be read: it was cancelled unfinished,
   * or join was first called after shutdown.
   */
  #handle(ref) {
    const id = ref.id();
    const life = this.#life;
    return new Goroutine(id, async () => {
      if (life.closing) {
        ref.free();
        throw cancelled(id);
      }
      let msg;
      try {
        msg = await outcome(this.#waits, ref, life);
      } catch (e) {
        if (e instanceof ShutdownError) throw cancelled(id);
        throw e;
      }
      // A result naming shared buffers not on the page yet waits for them (shared.js).
      const arriving = life.freed ? undefined : this.#realm.arrival(msg);
      if (arriving !== undefined) await arriving;
      if (life.freed) {
        msg.free();
        throw cancelled(id);
      }
      // Once shutdown began, the runtime's failure (tag RuntimeError) is its cancellation.
      return this.#realm.settle(msg, id, life.closing ? cancelled(id) : undefined);
    });
  }

  /** A full garbage collection (Go's runtime.GC()). */
  async gc() {
    this.#check('rt.gc');
    this.#realm.unit(await this.#realm.op((Op) => Op.gc(), 'rt.gc'));
  }

  /**
   * Counters: `{ procs, goroutines, sched: { spawned, completed, steals, … }, gc: { heapAlloc,
   * numGC, pauseNs, … } }` (the gc section under Go's MemStats names).
   */
  stats() {
    this.#check('rt.stats');
    return this.#core.stats();
  }

  /** A goroutine dump: `[{ id, state, waitReason, proc, name }]`. */
  goroutines() {
    this.#check('rt.goroutines');
    return this.#handle(this.#core.goroutines()).join();
  }

  /**
   * Stops every M and terminates the Workers. Unfinished goroutines' joins, pending operations,
   * and every later call on the runtime or its handles, reject or throw a ShutdownError.
   * Workers that have not stopped after `timeoutMs` (a goroutine that never yields: a JS loop,
   * a long Rust poll) are terminated, so the promise settles within about `timeoutMs`
   * (Infinity: wait for every Worker). Calling it again returns the same promise.
   */
  shutdown(options = {}) {
    const { timeoutMs = 1000 } = options ?? {};
    if (typeof timeoutMs !== 'number') {
      throw new TypeError(`rt.shutdown: timeoutMs must be a duration in ms, got ${describe(timeoutMs)}`);
    }
    if (Number.isNaN(timeoutMs) || timeoutMs < 0) {
      throw new RangeError(`rt.shutdown: timeoutMs must be ≥ 0 (Infinity: no limit), got ${timeoutMs}`);
    }
    this.#life.closing ??= this.#close(timeoutMs);
    this.#life.shutDown();
    return this.#life.closing;
  }

  async #close(timeoutMs) {
    const life = this.#life;
    const core = this.#core;
    core.shutdown();
    this.#waits.notify(core.eventsAddress());
    const workers = this.#workers;
    // Ms that never run count as stopped: spare Ms asked for and not started yet (a request
    // may still come from a monitor that had not seen the shutdown: looked at again before the
    // core is freed), and Ms whose Worker died before it ran them.
    const writeOffRequests = () => core.takeMRequests().forEach((index) => core.mGone(index));
    writeOffRequests();
    workers.filter((w) => w.lost).forEach((w) => core.mGone(w.index));
    const stopped = Promise.all(workers.map((w) => w.stopped));
    let released = stopped;
    if ((await Promise.race([stopped, delay(timeoutMs).then(() => ABANDONED)])) === ABANDONED) {
      // Busy Workers are terminated. The joins still pending give up now; each Worker is
      // written off once its death is confirmed (its Web Lock granted: `#watchDeath`), and
      // the last one releases the runtime's goroutines (`mGone`). Only then is the core freed.
      const busy = workers.filter((w) => !w.hasStopped && !w.writtenOff);
      const procs = busy.map((w) => w.index).join(', ');
      console.warn(`gort: shutdown: the Worker of M ${procs} did not stop within ${timeoutMs} ms; terminated`);
      busy.forEach((w) => w.terminate());
      released = Promise.race([stopped.then(() => true), delay(KILL_CONFIRM_MS)]).then((gone) =>
        console.debug(
          gone
            ? `gort: shutdown: the Worker of M ${procs} is gone; the runtime is released`
            : `gort: shutdown: the Worker of M ${procs} is not known dead; what it holds stays allocated`,
        ),
      );
    }
    life.freed = true;
    life.abandon();
    released.then(() => {
      writeOffRequests();
      this.#coreFreed = true;
      workers.forEach((w) => w.dispose());
      core.free();
    });
  }
}

const START = Symbol('Runtime.start');
