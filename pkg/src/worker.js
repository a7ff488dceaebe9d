// A gort M: a module Worker that instantiates the runtime's wasm module over the shared
// memory and runs the scheduler loop. The loop is Rust (`Machine.run`); this file gives the
// Worker's event loop a turn whenever the M asks (see crate/src/sched/m.rs, "Hosting JS
// goroutines") and hosts the JS goroutines that run here.
//
// Module contract: started by index.js as a module Worker, whose first message is
// `{ glue, module, memory, reference, index, lock, died }` (the glue module's URL, the compiled
// module, the shared memory, the runtime reference, this M's index, the name of the Web Lock
// this Worker holds for its life, and, for a Worker that replaces a dead one, why that one
// died); it answers `ready` (with `failed`, how many goroutines of the dead Worker failed),
// then `stopped` or `crash`. The page learns that this Worker died when it is granted `lock`
// (crate/src/js/faults.rs). The exit codes of `Machine.run` and the outcome tags come from
// the glue (`RunExit`, `OutcomeTag`).

import { Goroutine, compileFunction, functionSource } from './goroutine.js';
import { Realm, RuntimeBase, isRefused, newMessage } from './realm.js';
import { encodeTagged } from './codec.js';

const functions = new Map(); // shipped source → compiled function, once per Worker
let glue;
let procIndex;
const runtimeHere = {}; // identifies this Worker's runtime: every goroutine's realm here shares it

/** An outcome of tag `tag` carrying `text` (UTF-8): short, made by this file. */
function textOutcome(tag, text) {
  const body = new TextEncoder().encode(text);
  const bytes = new Uint8Array(body.length + 1);
  bytes[0] = tag;
  bytes.set(body, 1);
  return new glue.Message(bytes);
}

/** A goroutine's outcome when it threw (or rejected with) `thrown`: tag Thrown. */
function failed(thrown) {
  const message = (value) =>
    encodeTagged(glue.OutcomeTag.Thrown, value, 'thrown error', undefined, (bytes) => {
      const m = newMessage(glue, bytes);
      if (m === undefined) throw new RangeError(`out of memory: wasm memory could not give ${bytes.length} bytes`);
      return m;
    });
  try {
    return message(thrown);
  } catch {
    // The thrown value itself cannot cross goroutines (or memory cannot hold it): keep what
    // can be said about it.
    const err = new Error(thrown instanceof Error ? thrown.message : String(thrown));
    err.name = thrown instanceof Error ? thrown.name : 'Error';
    if (thrown instanceof Error) err.stack = thrown.stack;
    try {
      return message(err);
    } catch {
      return textOutcome(glue.OutcomeTag.RuntimeError, `the goroutine threw ${err.name}, and memory could not hold it`);
    }
  }
}

function returned(realm, value) {
  try {
    return realm.message(value, 'result', { admit: false }); // admitted as it moves into the heap
  } catch (e) {
    // A result memory cannot hold rejects its join with a RangeError, as one past the heap
    // limit does (tag HeapLimit); one that cannot be sent at all, with a GoroutineError.
    return isRefused(e) ? textOutcome(glue.OutcomeTag.HeapLimit, e.message) : failed(e);
  }
}

function isThenable(v) {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof v.then === 'function';
}

/** The `rt` a goroutine function receives on its worker. */
class WorkerRuntime extends RuntimeBase {
  #goid;
  #realm;

  /** `realm`: this goroutine's own view of the runtime (see `host.start`). */
  constructor(goid, realm) {
    super(realm);
    this.#goid = goid;
    this.#realm = realm;
  }

  /** Starts a child goroutine (it may be stolen by another M). */
  go(fn, ...args) {
    const source = functionSource(fn, 'rt.go');
    const realm = this.#realm;
    const ref = glue.workerGo(source, realm.args(args));
    const id = ref.id();
    return new Goroutine(id, async () => {
      try {
        return realm.settle(await realm.op((Op) => Op.join(ref), 'join'), id);
      } finally {
        ref.free();
      }
    });
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
      // The handles this goroutine receives or makes run their operations for it, so that it
      // shows their wait reasons while it awaits them.
      const realm = new Realm(glue, (op) => glue.workerRun(op, goid), {
        owner: runtimeHere,
        admit: (length, heap) => glue.workerAdmitLength(length, heap),
      });
      const rt = new WorkerRuntime(goid, realm);
      const result = fn(rt, ...realm.settle(args, goid));
      const ret = (v) => returned(realm, v);
      return isThenable(result) ? Promise.resolve(result).then(ret, failed) : ret(result);
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

/**
 * Holds the Web Lock `name` until this Worker dies (closes, crashes or is terminated): the page
 * asks for it too, and is granted it only then. Resolves once it is held. Where Web Locks are
 * not available (not a secure context) the page only learns of crashes.
 */
async function holdForLife(name) {
  if (!name || !globalThis.navigator?.locks) return;
  try {
    await new Promise((held, refused) => {
      navigator.locks
        .request(name, () => {
          held();
          return new Promise(() => {});
        })
        .catch(refused);
    });
  } catch {
    // Locks refused here (an opaque origin): deaths go unnoticed, crashes are still reported.
  }
}

async function runMachine({ glue: glueUrl, module, memory, reference, index, lock, died }) {
  await holdForLife(lock);
  glue = await import(glueUrl);
  const exports = glue.initSync({ module, memory });
  procIndex = index;
  const m = new glue.Machine(reference, index, host);
  // Replacing a dead Worker: its goroutines fail before this one runs anything.
  const lost = died === undefined ? 0 : m.takeOver(died);
  const parked = glue.Machine.parkedValue();
  const { RunExit } = glue;
  postMessage({ type: 'ready', failed: lost });
  for (;;) {
    const exit = m.run();
    if (exit === RunExit.Stopped) break;
    if (exit === RunExit.Microtasks) {
      await null;
    } else if (exit === RunExit.Macrotask) {
      await macrotask();
    } else {
      const r = Atomics.waitAsync(new Int32Array(memory.buffer), m.parkAddress() >>> 2, parked, m.parkTimeoutMs());
      if (r.async) await r.value;
    }
  }
  m.free();
  exports.__wbindgen_thread_destroy();
  postMessage({ type: 'stopped' });
  // Never return to the event loop: a JS goroutine's continuation queued before the M stopped,
  // a timer, or a wasm-bindgen finalizer would call into the module after this thread's stack
  // and TLS were freed (an out-of-bounds access, which wasm-bindgen turns into "Module
  // terminated" for every thread sharing the memory, the page's later runtimes included).
  // The page terminates this Worker once every M has stopped.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}

self.onmessage = ({ data }) => {
  self.onmessage = null;
  runMachine(data).catch((e) => {
    postMessage({ type: 'crash', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  });
};
