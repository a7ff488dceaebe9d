// The JavaScript side of an M: the loop that drives its `Machine` and gives its event loop
// turns, and the host of the goroutines started from JavaScript that run on it (Rust's `Host`
// in crate/src/js/mod.rs), with the `rt` each goroutine function receives. A Worker M runs
// one (worker.js); so does the one M of a runtime without threads, on the page's own thread
// (local.js).
//
// Module contract:
// - `createHost(glue, proc, owner, { wait, callSites, shared })`: for the glue module of this
//   M's wasm instance, the M's proc number, the object that identifies the runtime for the
//   realms made here (`Realm`'s `owner`), how this thread waits on a word of memory (`Realm`'s
//   `wait`), whether their `rt.go` records where it was called (`Realm`'s `callSites`), and
//   this thread's table of the runtime's shared buffers (shared.js):
//   `{ startFunction(goid, source, args, detached, abort), startModule(goid, url, name, args,
//   detached, abort), close() }`. Each start returns the goroutine's outcome Message, or a
//   promise of one (arguments that name shared buffers not in this thread yet wait for them
//   first). `abort`, the glue ChanRef that carries the goroutine's task spec signal (or
//   undefined), becomes its `rt.signal` and `rt.done`, watched until it returns. A detached
//   goroutine (an afterFunc's: nobody can join it) that fails also reports what it threw as an
//   uncaught error of this realm (`reportError`), as a throwing timer callback is reported (but
//   for a ShutdownError: the shutdown cancelled it).
//   A function is compiled from its source once per host; a module task's module is imported
//   once per thread (by the browser's module map; the host keeps each module's namespace, so
//   that later tasks of it start at once), and one that fails to import, or lacks the export,
//   fails only that goroutine, with an error that names the module and the export. After
//   `close()` (its M stopped) every call of a goroutine that is still running here on a
//   runtime object is a ShutdownError.
// - `driveMachine(glue, m, park, stopped)`: runs `m` until it stops, then calls `stopped()`
//   before anything else can run on this thread (a goroutine's continuation would find no M);
//   `park(address, value, timeoutMs)` returns a promise that settles, without blocking, once
//   the word at `address` no longer holds `value` (or the timeout passes), or undefined if it
//   holds another value already: the M then runs on at once, with no turn of the microtask
//   queue between its park and its next run.

import {
  Goroutine,
  NEVER_ABORTED,
  ShutdownError,
  compileFunction,
  describe,
  goroutineTask,
  wasmTarget,
} from './goroutine.js';
import { Realm, RuntimeBase, isRefused, newMessage, sharedHook } from './realm.js';
import { encodeTagged } from './codec.js';

/** An outcome of tag `tag` carrying `text` (UTF-8): short, made by this file. */
function textOutcome(glue, tag, text) {
  const body = new TextEncoder().encode(text);
  const bytes = new Uint8Array(body.length + 1);
  bytes[0] = tag;
  bytes.set(body, 1);
  return new glue.Message(bytes);
}

/**
 * A goroutine's outcome when it threw (or rejected with) `thrown`: tag Thrown. `shared`: the
 * codec's hook for the SharedArrayBuffers it names (realm.js's `sharedHook`).
 */
function failed(glue, shared, thrown) {
  const message = (value) =>
    encodeTagged(glue.OutcomeTag.Thrown, value, 'thrown error', { shared }, (length, writeTo) => {
      const m = newMessage(glue, length, writeTo);
      if (m === undefined) throw new RangeError(`out of memory: wasm memory could not give ${length} bytes`);
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
      return textOutcome(
        glue,
        glue.OutcomeTag.RuntimeError,
        `the goroutine threw ${err.name}, and memory could not hold it`,
      );
    }
  }
}

function returned(glue, realm, value, fail) {
  try {
    return realm.message(value, 'result', { admit: false }); // admitted as it moves into the heap
  } catch (e) {
    // A result memory cannot hold rejects its join with a RangeError, as one past the heap
    // limit does (tag HeapLimit); one that cannot be sent at all, with a GoroutineError.
    return isRefused(e) ? textOutcome(glue, glue.OutcomeTag.HeapLimit, e.message) : fail(e);
  }
}

function isThenable(v) {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof v.then === 'function';
}

/** The `rt` a goroutine function receives, on the M that runs it. */
class WorkerRuntime extends RuntimeBase {
  #goid;
  #realm;
  #glue;
  #proc;
  #signal;
  #done;

  /**
   * `realm`: this goroutine's own view of the runtime (see `start` in `createHost`); `signal`:
   * its task spec's signal, as an AbortSignal of this realm (NEVER_ABORTED without one).
   */
  constructor(goid, realm, glue, proc, signal) {
    super(realm);
    this.#goid = goid;
    this.#realm = realm;
    this.#glue = glue;
    this.#proc = proc;
    this.#signal = signal;
  }

  /**
   * The AbortSignal of the `signal` this goroutine was started with (a task spec's): it aborts
   * when that one does, with its reason if the reason could be sent (an AbortError
   * DOMException otherwise). Without one, a signal that never aborts.
   */
  get signal() {
    return this.#signal;
  }

  /**
   * A channel closed when `signal` aborts, for `rt.select` (Go's `ctx.Done()`); null (a nil
   * channel, never ready) for a goroutine started without a signal, as Go's Background
   * context's Done is nil.
   */
  get done() {
    if (this.#signal === NEVER_ABORTED) return null;
    if (this.#done === undefined) {
      const done = this.chan(0);
      this.#done = done;
      if (this.#signal.aborted) done.close();
      else {
        const close = () => {
          try {
            done.close();
          } catch {
            // The runtime shut down, or the goroutine closed the channel itself.
          }
        };
        this.#signal.addEventListener('abort', close, { once: true });
      }
    }
    return this.#done;
  }

  /**
   * Starts a child goroutine (it may be stolen by another M): `target` as the page's `rt.go`
   * takes it, but a module task's `module` must be absolute here (there is no page URL to
   * resolve it against): `new URL('./tasks.js', import.meta.url)`.
   */
  go(target, ...args) {
    const realm = this.#realm;
    realm.check('rt.go');
    const task = goroutineTask(target, 'rt.go', undefined);
    const msg = realm.args(args);
    const ref = realm.goWithSignal(wasmTarget(this.#glue, task, realm.callSite(this.go)), task.signal, (t) =>
      this.#glue.workerGo(t, msg, this.#goid),
    );
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
    return this.#proc;
  }
}

const modules = new Map(); // module task's URL → { ready: Promise of its namespace, namespace once imported }

/** The module at `url` as this thread imports it, once: `{ ready, namespace }` (see `modules`). */
function imported(url) {
  let m = modules.get(url);
  if (m === undefined) {
    // A module task's URL is only known at run time: bundlers must leave this import alone.
    m = { ready: import(/* webpackIgnore: true */ /* @vite-ignore */ url), namespace: undefined };
    m.ready.then(
      (namespace) => (m.namespace = namespace),
      () => modules.delete(url), // a later task tries again
    );
    modules.set(url, m);
  }
  return m;
}

/** The host of the JS goroutines of M `proc` (module contract). */
export function createHost(glue, proc, owner, { wait, callSites, shared }) {
  const functions = new Map(); // shipped source → compiled function
  const hook = sharedHook(glue, shared);
  const fail = (thrown) => failed(glue, hook, thrown);
  const failDetached = (thrown) => {
    if (!(thrown instanceof ShutdownError)) reportError(thrown); // a shutdown's cancellation is no fault
    return fail(thrown);
  };
  const life = { closing: null, freed: false }; // of every realm here: closed with the M
  /**
   * A realm of this M's, whose operations run for goroutine `goid`: it awaits them (`lendWait`),
   * or they only tell it when they are done (a watch of its signal: see `workerRun`).
   */
  const realmFor = (goid, lendWait) =>
    new Realm(glue, (op) => glue.workerRun(op, goid, lendWait), {
      owner,
      life,
      admit: (length, heap) => glue.workerAdmitLength(length, heap),
      timers: { timer: glue.workerTimer, ticker: glue.workerTicker, afterFunc: glue.workerAfterFunc },
      wait,
      callSites,
      shared,
    });

  /**
   * Runs goroutine `goid`'s `fn(rt, ...args)` (`args` is freed): its outcome, or a promise of it.
   * `onFail(thrown)`: the outcome of a throw (`fail`, or `failDetached`). `abort`: the ChanRef
   * of its signal, or undefined.
   */
  const call = (goid, fn, args, onFail, abort) => {
    const watch = abort === undefined ? undefined : realmFor(goid, false).watchAbort(abort);
    let realm;
    const run = () => {
      try {
        const rt = new WorkerRuntime(goid, realm, glue, proc, watch?.signal ?? NEVER_ABORTED);
        const result = fn(rt, ...realm.settle(args, goid));
        const ret = (v) => returned(glue, realm, v, fail);
        if (isThenable(result))
          return Promise.resolve(result)
            .then(ret, onFail)
            .finally(() => watch?.stop());
        watch?.stop();
        return ret(result);
      } catch (e) {
        watch?.stop();
        return onFail(e);
      }
    };
    try {
      // The handles this goroutine receives or makes run their operations for it, so that it
      // shows their wait reasons while it awaits them.
      realm = realmFor(goid, true);
      // Arguments naming shared buffers not in this thread yet wait for them (shared.js).
      const arriving = realm.arrival(args);
      return arriving === undefined ? run() : arriving.then(run);
    } catch (e) {
      watch?.stop();
      args.free();
      return onFail(e);
    }
  };

  /** The outcome of a goroutine that could not start (`args` and `abort` are freed): it failed with `error`. */
  const notStarted = (args, abort, error, onFail) => {
    args.free();
    abort?.free();
    return onFail(error);
  };

  /** Calls export `name` of the module at `url`, whose namespace is `namespace` (see `call`). */
  const callExport = (goid, url, name, namespace, args, onFail, abort) => {
    const fn = namespace[name]; // the module was evaluated: every export is initialized
    if (typeof fn !== 'function') {
      const what =
        name in namespace
          ? `exports ${JSON.stringify(name)} as ${describe(fn)}, not a function`
          : `has no export ${JSON.stringify(name)}`;
      return notStarted(args, abort, new TypeError(`rt.go: the module ${url} ${what}`), onFail);
    }
    return call(goid, fn, args, onFail, abort);
  };

  return {
    close() {
      life.closing = life.freed = true;
    },

    /** A function shipped by source (`source`: an expression), compiled once per host. */
    startFunction(goid, source, args, detached, abort) {
      const onFail = detached ? failDetached : fail;
      let fn = functions.get(source);
      if (fn === undefined) {
        try {
          fn = compileFunction(source);
        } catch (e) {
          return notStarted(args, abort, e, onFail);
        }
        functions.set(source, fn);
      }
      return call(goid, fn, args, onFail, abort);
    },

    /** A module task: export `name` of the module at `url` (absolute), imported once. */
    startModule(goid, url, name, args, detached, abort) {
      const onFail = detached ? failDetached : fail;
      const m = imported(url);
      if (m.namespace !== undefined) return callExport(goid, url, name, m.namespace, args, onFail, abort);
      return m.ready.then(
        (namespace) => callExport(goid, url, name, namespace, args, onFail, abort),
        (e) => {
          const why = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
          const what = `rt.go: cannot import the module ${url} for its export ${JSON.stringify(name)}`;
          return notStarted(args, abort, new Error(`${what}: ${why}`, { cause: e }), onFail);
        },
      );
    },
  };
}

/** Longest run of microtask-only turns before the event loop gets a task (timers, messages, input). */
const MICROTASK_RUN_MS = 4;

const channel = new MessageChannel();
let macrotaskDone = null;
channel.port1.onmessage = () => macrotaskDone();

/** Resolves after one task of the event loop (a message: not clamped, unlike setTimeout). */
function macrotask() {
  return new Promise((resolve) => {
    macrotaskDone = resolve;
    channel.port2.postMessage(null);
  });
}

/** Runs M `m` (module contract) until it stops. */
export async function driveMachine(glue, m, park, stopped) {
  const parked = glue.Machine.parkedValue();
  const { RunExit } = glue;
  let turn = performance.now(); // the last task the event loop ran
  for (;;) {
    const exit = m.run();
    if (exit === RunExit.Stopped) return stopped();
    if (exit === RunExit.Microtasks && performance.now() - turn < MICROTASK_RUN_MS) {
      await null;
      continue;
    }
    if (exit === RunExit.ParkAsync) {
      // Not a turn of the event loop for sure: a wake from this thread settles it at once.
      const waiting = park(m.parkAddress(), parked, m.parkTimeoutMs());
      if (waiting !== undefined) await waiting;
    } else {
      await macrotask();
      turn = performance.now();
    }
  }
}
