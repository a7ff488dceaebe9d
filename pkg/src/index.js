// gort's JavaScript facade, page side. `Runtime.start()` instantiates the wasm module on this
// thread, creates the runtime's shared state, and starts one module Worker per P; each Worker
// instantiates the same module over the same shared memory and becomes an M (worker.js).
//
// This thread never blocks: it submits goroutines through lock-free inboxes and waits for
// results with `Atomics.waitAsync` on each goroutine's state word.
//
// Module contract: this is the package's entry point (its exports are the API, typed in
// index.d.ts). It gives realm.js's RuntimeBase the page's Realm, which knows when the runtime
// shuts down (its `life`); worker.js is started by URL and shares nothing with it but the glue.

import { Goroutine, GoroutineError, ShutdownError, functionSource } from './goroutine.js';
import { Chan, ChannelError, Mutex, Realm, RuntimeBase, SyncError, WaitGroup } from './realm.js';

export { Chan, ChannelError, Goroutine, GoroutineError, Mutex, ShutdownError, SyncError, WaitGroup };

const DEFAULT_GLUE = new URL('../wasm/gort.js', import.meta.url).href;
const WORKER = new URL('./worker.js', import.meta.url);
const MAX_PROCS = 64;

const glues = new Map(); // glue URL → Promise of the initialized glue module

function loadGlue(url) {
  let glue = glues.get(url);
  if (!glue) {
    glue = import(url).then(async (g) => {
      await g.default();
      return g;
    });
    glues.set(url, glue);
    glue.catch(() => glues.delete(url));
  }
  return glue;
}

/** Waits, without blocking, until the 32-bit word at `address` no longer holds `value`. */
async function waitWhile(memory, address, value) {
  const r = Atomics.waitAsync(new Int32Array(memory.buffer), address >>> 2, value);
  if (r.async) await r.value;
}

/** A goroutine's (or operation's) outcome Message, awaited without blocking; frees `ref`. */
async function outcome(memory, ref) {
  try {
    while (!ref.isReady()) await waitWhile(memory, ref.stateAddress(), 0);
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
  else core.holdMutex(ref);
}

/** The error a join rejects with when the runtime shut down before it could read the result. */
function cancelled(id) {
  return new ShutdownError(`join: goroutine ${id} was cancelled`, id);
}

function startWorker(index, init) {
  const worker = new Worker(WORKER, { type: 'module', name: `gort-m${index}` });
  let stopped;
  const stoppedPromise = new Promise((resolve) => (stopped = resolve));
  const ready = new Promise((resolve, reject) => {
    worker.onmessage = ({ data }) => {
      if (data.type === 'ready') resolve();
      else if (data.type === 'stopped') stopped();
      else if (data.type === 'crash') {
        console.error(`gort: M ${index} crashed: ${data.message}`);
        reject(new Error(`gort: M ${index} failed to start: ${data.message}`));
        stopped();
      }
    };
    worker.onerror = (e) => {
      e.preventDefault();
      const message = e.message || 'the Worker script failed to load';
      console.error(`gort: M ${index}: ${message}`);
      reject(new Error(`gort: M ${index} failed to start: ${message}`));
      stopped();
    };
  });
  worker.postMessage({ ...init, index });
  return { worker, ready, stopped: stoppedPromise };
}

/**
 * A running gort runtime, held by the page. An EventTarget: a `deadlock` event (a
 * CustomEvent whose `detail` is `{ message }`, Go's report) fires when every goroutine is
 * blocked on runtime objects and the page holds no handle that could wake one.
 */
export class Runtime extends RuntimeBase {
  #glue;
  #core;
  #memory;
  #workers;
  #realm;
  // { closing, freed }: closing is the shutdown promise once shutdown() was called; freed is
  // set once the runtime's memory (its heap, the core) is gone.
  #life;
  #procs;

  #init;
  #startedAt;

  constructor(key, glue, core, workers, init) {
    if (key !== START) throw new TypeError('use Runtime.start() to create a runtime');
    const memory = glue.gortSharedMemory();
    const life = { closing: null, freed: false };
    const external = {
      hold: (kind, ref) => holdOn(glue, core, kind, ref),
      unhold: (key) => life.closing || core.unhold(key),
    };
    const realm = new Realm(glue, (op) => outcome(memory, core.run(op)), {
      external,
      life,
      admit: (length, heap) => core.admitLength(length, heap),
    });
    super(realm);
    this.#glue = glue;
    this.#core = core;
    this.#memory = memory;
    this.#workers = workers;
    this.#init = init;
    this.#startedAt = performance.now();
    this.#realm = realm;
    this.#life = life;
    this.#procs = core.procs();
    this.#watchEvents();
  }

  #check(what) {
    this.#realm.check(what);
  }

  async #watchEvents() {
    let seen = this.#core.eventsValue();
    while (!this.#life.closing) {
      await waitWhile(this.#memory, this.#core.eventsAddress(), seen);
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

  /** Starts the Workers of the spare Ms the runtime's monitor asked for. */
  #startRequestedMs() {
    for (const index of this.#core.takeMRequests()) {
      this.#workers.push(startWorker(index, { ...this.#init, reference: this.#core.workerReference() }));
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
   * to this package's own build).
   */
  static async start({
    procs = globalThis.navigator?.hardwareConcurrency ?? 1,
    wasm = DEFAULT_GLUE,
    gcPercent = 100,
    heapLimit = 0,
    gctrace = false,
  } = {}) {
    if (!Number.isInteger(procs) || procs < 1 || procs > MAX_PROCS) {
      throw new RangeError(`Runtime.start: procs must be an integer from 1 to ${MAX_PROCS}, got ${procs}`);
    }
    if (!Number.isInteger(gcPercent)) {
      throw new RangeError(
        `Runtime.start: gcPercent must be an integer (negative: no paced collections), got ${gcPercent}`,
      );
    }
    if (!Number.isSafeInteger(heapLimit) || heapLimit < 0) {
      throw new RangeError(`Runtime.start: heapLimit must be a byte count ≥ 0 (0: none), got ${heapLimit}`);
    }
    if (!globalThis.crossOriginIsolated) {
      throw new Error(
        'Runtime.start: SharedArrayBuffer is unavailable; serve the page with ' +
          '"Cross-Origin-Opener-Policy: same-origin" and "Cross-Origin-Embedder-Policy: require-corp"',
      );
    }
    const glueUrl = new URL(wasm, import.meta.url).href;
    const glue = await loadGlue(glueUrl);
    const core = new glue.RuntimeCore(procs, gcPercent, heapLimit, !!gctrace);
    const init = { glue: glueUrl, module: glue.gortWasmModule(), memory: glue.gortSharedMemory() };
    // The Ps' Ms, and the warm spare M (sched/sysmon.rs) the runtime asked for already.
    const indices = [...Array.from({ length: procs }, (_, i) => i), ...core.takeMRequests()];
    const workers = indices.map((i) => startWorker(i, { ...init, reference: core.workerReference() }));
    try {
      await Promise.all(workers.map((w) => w.ready));
    } catch (e) {
      core.shutdown();
      workers.forEach((w) => w.worker.terminate());
      throw e;
    }
    return new Runtime(START, glue, core, workers, init);
  }

  /** Number of Ps (and worker Ms); still readable after shutdown. */
  get procs() {
    return this.#procs;
  }

  /**
   * Runs `fn(rt, ...args)` as a goroutine on a worker M. `fn` is shipped by source, so it must
   * be self-contained (no closures); arguments are copied (structured-clone-like values).
   */
  go(fn, ...args) {
    this.#check('rt.go');
    const source = functionSource(fn, 'rt.go');
    const ref = this.#core.go(source, this.#realm.args(args));
    return this.#handle(ref);
  }

  /**
   * Runs a Rust goroutine defined by the wasm module this runtime was started with (the
   * `wasm` glue of `Runtime.start`): calls that glue's export `name(core, ...args)`, which
   * starts the goroutine with `RuntimeCore::go_json` and returns its `JoinRef`. `join()`
   * resolves to the goroutine's JSON result, parsed; it rejects with a GoroutineError if the
   * goroutine panicked.
   */
  goRust(name, ...args) {
    this.#check('rt.goRust');
    const start = this.#glue[name];
    if (typeof start !== 'function') {
      throw new TypeError(`rt.goRust: the wasm module has no exported function ${JSON.stringify(name)}`);
    }
    const ref = start(this.#core, ...args);
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
      const msg = await outcome(this.#memory, ref);
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

  /** A goroutine dump: `[{ id, state, waitReason, proc }]`. */
  goroutines() {
    this.#check('rt.goroutines');
    return this.#handle(this.#core.goroutines()).join();
  }

  /**
   * Stops every M and terminates the Workers. Unfinished goroutines' joins, pending operations,
   * and every later call on the runtime or its handles, reject or throw a ShutdownError. Calling it again returns the
   * same promise.
   */
  shutdown() {
    const life = this.#life;
    life.closing ??= (async () => {
      this.#core.shutdown();
      Atomics.notify(new Int32Array(this.#memory.buffer), this.#core.eventsAddress() >>> 2);
      await Promise.all(this.#workers.map((w) => w.stopped));
      this.#workers.forEach((w) => w.worker.terminate());
      life.freed = true;
      this.#core.free();
    })();
    return life.closing;
  }
}

const START = Symbol('Runtime.start');
