// A gort M: a module Worker that instantiates the runtime's wasm module over the shared
// memory and runs the scheduler loop. The loop is Rust (`Machine.run`); this file gives the
// Worker's event loop a turn whenever the M asks (see crate/src/sched/m.rs, "Hosting JS
// goroutines") and hosts the JS goroutines that run here.

import {
  Goroutine,
  OUTCOME_THROWN,
  OUTCOME_VALUE,
  ShutdownError,
  compileFunction,
  decodeArgs,
  encodeArgs,
  functionSource,
  settleOutcome,
} from './goroutine.js';
import { encode } from './codec.js';

const MAX_SLEEP_MS = 1e15; // about 31,700 years

const EXIT_STOPPED = 0;
const EXIT_MICROTASKS = 1;
const EXIT_MACROTASK = 2;

const functions = new Map(); // shipped source → compiled function, once per Worker
let glue;
let procIndex;

function tagged(tag, body) {
  const out = new Uint8Array(body.length + 1);
  out[0] = tag;
  out.set(body, 1);
  return out;
}

function failed(thrown) {
  let body;
  try {
    body = encode(thrown, 'thrown error');
  } catch (e) {
    // The thrown value itself cannot cross goroutines: keep what can be said about it.
    const err = new Error(thrown instanceof Error ? thrown.message : String(thrown));
    err.name = thrown instanceof Error ? thrown.name : 'Error';
    err.stack = thrown instanceof Error ? thrown.stack : err.stack;
    body = encode(err, 'thrown error');
  }
  return tagged(OUTCOME_THROWN, body);
}

function returned(value) {
  try {
    return tagged(OUTCOME_VALUE, encode(value, 'result'));
  } catch (e) {
    return failed(e);
  }
}

function isThenable(v) {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof v.then === 'function';
}

/** The `rt` a goroutine function receives on its worker. */
class WorkerRuntime {
  #goid;
  constructor(goid) {
    this.#goid = goid;
  }

  /** Starts a child goroutine (it may be stolen by another M). */
  go(fn, ...args) {
    const source = functionSource(fn, 'rt.go');
    const ref = glue.workerGo(source, encodeArgs(args));
    const id = ref.id();
    return new Goroutine(id, async () => {
      try {
        return settleOutcome(await glue.workerJoin(ref), id);
      } finally {
        ref.free();
      }
    });
  }

  /** Resolves after `ms` milliseconds, measured by the runtime's timers. */
  sleep(ms) {
    if (typeof ms !== 'number' || Number.isNaN(ms) || ms < 0) {
      throw new RangeError(`rt.sleep: expected a duration in ms (a number ≥ 0), got ${ms}`);
    }
    // Longer than this is forever, and Infinity must not reach the conversion to a Rust
    // Duration (which panics on it).
    return glue.workerSleep(Math.min(ms, MAX_SLEEP_MS));
  }

  /** Lets other goroutines run (Go's runtime.Gosched). */
  gosched() {
    return glue.workerGosched();
  }

  /** This goroutine's id. */
  goid() {
    return this.#goid;
  }

  /** The P (and worker) this goroutine runs on. */
  procid() {
    return procIndex;
  }
}

const host = {
  start(goid, source, args) {
    try {
      let fn = functions.get(source);
      if (fn === undefined) {
        fn = compileFunction(source);
        functions.set(source, fn);
      }
      const result = fn(new WorkerRuntime(goid), ...decodeArgs(args));
      return isThenable(result) ? Promise.resolve(result).then(returned, failed) : returned(result);
    } catch (e) {
      return failed(e);
    }
  },
};

const channel = new MessageChannel();
let macrotaskDone = null;
channel.port1.onmessage = () => macrotaskDone();

function macrotask() {
  return new Promise((resolve) => {
    macrotaskDone = resolve;
    channel.port2.postMessage(null);
  });
}

async function runMachine({ glue: glueUrl, module, memory, reference, index }) {
  glue = await import(glueUrl);
  const exports = glue.initSync({ module, memory });
  procIndex = index;
  const m = new glue.Machine(reference, index, host);
  const parked = glue.Machine.parkedValue();
  postMessage({ type: 'ready' });
  for (;;) {
    const exit = m.run();
    if (exit === EXIT_STOPPED) break;
    if (exit === EXIT_MICROTASKS) {
      await null;
    } else if (exit === EXIT_MACROTASK) {
      await macrotask();
    } else {
      const r = Atomics.waitAsync(new Int32Array(memory.buffer), m.parkAddress() >>> 2, parked, m.parkTimeoutMs());
      if (r.async) await r.value;
    }
  }
  m.free();
  exports.__wbindgen_thread_destroy();
  postMessage({ type: 'stopped' });
}

self.onmessage = ({ data }) => {
  self.onmessage = null;
  runMachine(data).catch((e) => {
    postMessage({ type: 'crash', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  });
};

export { ShutdownError };
