// What the page and the Worker Ms share: runtime objects as JS values (channels, wait groups,
// mutexes, read-write mutexes, condition variables, onces; and timers and tickers), the
// conversion of JS values to and from the runtime's Messages, and the API the page's `rt` and a
// goroutine's `rt` have in common.
//
// A Message is codec bytes behind one outcome tag (the wasm glue's `OutcomeTag`; the table is in
// crate/src/js/value.rs), plus the runtime handles the value references. A value is encoded
// straight into its Message (the bytes of a large buffer are copied once, from the value into
// the wasm memory), and a Message's bytes are read in place, through a view on the shared wasm
// memory, never copied out first. The SharedArrayBuffers a value names travel beside it, by id
// (shared.js): a receive that returns a promise awaits those not in this thread yet (`arrival`)
// before it decodes, and `tryRecv` gives such a value back to its channel. Blocking
// operations are wasm `Op`s that each side runs its own way: the page as a goroutine it awaits
// with Atomics.waitAsync, a Worker through a promise resolved on its own M.
//
// Module contract (for index.js and machine.js, not part of the package's API):
// - `new Realm(glue, run, { external, life, owner, admit, timers, base, shared })`: one realm's
//   view of a runtime (see the class).
// - `new RuntimeBase(realm)`: the shared `rt` API over that realm. It is kept in a private
//   field: a subclass keeps its own reference to the realm it made.
// - The handles (Chan, WaitGroup, Mutex, RWMutex, Cond, Once) are made only here (RuntimeBase,
//   or a decoded Message); their wasm ref and realm are private to this module. Every use of one
//   first asks its realm whether the runtime is still running (a ShutdownError if not) and
//   whether the handle was released (a TypeError); a handle of one runtime given to another (in
//   a value, as a select case, as a Cond's mutex) is a TypeError at that call.
// - Timer and Ticker are not handles: they stay in the realm that made them (sending one is a
//   TypeError that says to send its channel, `c`, which is a handle like any channel). Their
//   wasm refs (crate/src/js/timers.rs) are freed when they are garbage collected; that does not
//   stop them (Go's timers need no Stop to be collected, and a ticker whose channel nothing
//   holds stops ticking: crate/src/time.rs).
// - Every blocking call takes `{ signal }` (an AbortSignal): an operation is given a channel of
//   its own that the signal's abort closes, and withdraws itself when it is (crate/src/js/op.rs),
//   so an aborted call rejects with the signal's reason having done nothing; one that completed
//   first resolves as usual. A signal aborted already rejects at once, before anything starts.
//   A goroutine's task spec signal travels the same way, as a channel that carries the reason
//   (`goWithSignal`, `watchAbort`; crate/src/js/target.rs).

import { cannotSend, decode, decodeText, encodeTagged, sharedIds } from './codec.js';
import {
  GoroutineError,
  ShutdownError,
  WorkerError,
  abortSignal,
  callSite,
  describe,
  goroutineTask,
  wasmTarget,
} from './goroutine.js';

const MAX_MS = 1e15; // about 31,700 years: longer is forever
const never = new Promise(() => {});

/** A channel operation Go would panic on: "send on closed channel", "close of closed channel". */
export class ChannelError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ChannelError';
  }
}

/**
 * Misuse of a sync primitive, in Go's words: "sync: negative WaitGroup counter", "sync: unlock of
 * unlocked mutex", "sync: RUnlock of unlocked RWMutex", "sync: Unlock of unlocked RWMutex".
 */
export class SyncError extends Error {
  constructor(message) {
    super(message);
    this.name = 'SyncError';
  }
}

/** A duration in ms as the runtime takes it: as Go's, zero or negative is no wait at all. */
function checkMs(ms, what) {
  if (typeof ms !== 'number') throw new TypeError(`${what}: expected a duration in ms, got ${describe(ms)}`);
  if (Number.isNaN(ms)) throw new RangeError(`${what}: the duration is NaN`);
  return Math.min(Math.max(ms, 0), MAX_MS);
}

/** A ticker's period in ms: as Go's, it must be positive (Go panics "non-positive interval"). */
function checkPeriod(ms, what, goName) {
  const d = checkMs(ms, what);
  if (!(ms > 0)) throw new RangeError(`${what}: non-positive interval for ${goName} (got ${ms} ms)`);
  return d;
}

/** The most Ps a runtime can have (the scheduler tracks its Ms in a 64-bit mask). */
export const MAX_PROCS = 64;

/** A number of Ps for `setProcs`: an integer from 1 to `MAX_PROCS` (the runtime's own maximum may be lower). */
export function checkProcs(n, what) {
  if (typeof n !== 'number') throw new TypeError(`${what}: expected a number of Ps, got ${describe(n)}`);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PROCS) {
    throw new RangeError(`${what}: n must be an integer from 1 to ${MAX_PROCS}, got ${n}`);
  }
}

/** The largest WaitGroup delta and counter: Go's counter is an int32. */
const MAX_WAIT_GROUP = 2 ** 31 - 1;

// Frees the wasm refs of handles JS dropped without `release()`, in every realm (the page and
// each Worker), so that the runtime objects they kept alive can go.
const handleRefs = new FinalizationRegistry(({ ref, key, external }) => {
  external?.unhold(key);
  ref.free();
});

// A handle keeps its wasm ref and its realm private; these read them inside this module.
// `refOf(h, what)` is the ref for the call `what`: it throws a ShutdownError once the runtime is
// shut down, and a TypeError once the handle was released.
let refOf, realmOf, isReleased;

/** What the runtime handles share: their wasm ref, their realm, `release()`. */
class Handle {
  #ref; // null once released
  #realm;
  static {
    refOf = (h, what) => {
      h.#realm.check(what);
      if (h.#ref === null) throw new TypeError(`${what}: this ${kindName(h)} was released`);
      return h.#ref;
    };
    realmOf = (h) => h.#realm;
    isReleased = (h) => h.#ref === null;
  }

  constructor(ref, realm) {
    this.#ref = ref;
    this.#realm = realm;
    realm.adopt(this, ref);
  }

  /**
   * Drops this handle now instead of when it is garbage collected; using it afterwards is a
   * TypeError. Releasing twice, or after the runtime shut down, does nothing more.
   */
  release() {
    if (this.#ref === null) return;
    this.#realm.release(this, this.#ref);
    this.#ref = null;
  }
}

function kindName(h) {
  if (h instanceof Chan) return 'channel';
  if (h instanceof WaitGroup) return 'wait group';
  if (h instanceof RWMutex) return 'RWMutex';
  if (h instanceof Cond) return 'Cond';
  if (h instanceof Once) return 'Once';
  return 'mutex';
}

/**
 * Runs the blocking operation `make(Op, ref)` on handle `h` for the call `what`, given up if
 * `signal` aborts (see `Realm.op`); a promise of its Message.
 */
function run(h, what, make, signal) {
  const ref = refOf(h, what);
  return realmOf(h).op((Op) => make(Op, ref), what, signal);
}

/** A channel (Go's `chan`): send, receive, close, `for await`. */
export class Chan extends Handle {
  /** Capacity (0: unbuffered). */
  get cap() {
    return refOf(this, 'Chan.cap').cap();
  }

  /** Values buffered now. */
  get len() {
    return refOf(this, 'Chan.len').len();
  }

  /**
   * Sends `value`, waiting for room or a receiver; rejects with ChannelError on a closed channel.
   * `{ signal }`: if it aborts first, rejects with its reason and the value is never delivered.
   */
  async send(value, options) {
    refOf(this, 'Chan.send');
    const signal = abortSignal(options, 'Chan.send');
    const msg = realmOf(this).message(value, 'channel value');
    realmOf(this).unit(await run(this, 'Chan.send', (Op, ref) => Op.chanSend(ref, msg), signal));
  }

  /**
   * The next value; undefined once the channel is closed and drained. `{ signal }`: if it aborts
   * first, rejects with its reason and no value is taken from the channel.
   */
  async recv(options) {
    return (await this.#recvOk(options, 'Chan.recv')).value;
  }

  /** `{ value, ok }`: ok is false once the channel is closed and drained (Go's `v, ok := <-ch`). `{ signal }` as for `recv`. */
  async recvOk(options) {
    return this.#recvOk(options, 'Chan.recvOk');
  }

  async #recvOk(options, what) {
    refOf(this, what);
    const signal = abortSignal(options, what);
    return realmOf(this).received(await run(this, what, (Op, ref) => Op.chanRecv(ref), signal));
  }

  /** Closes the channel; throws ChannelError if it was closed already. */
  close() {
    const err = refOf(this, 'Chan.close').close();
    if (err !== undefined) throw new ChannelError(err);
  }

  /** Sends without waiting: true if sent, false if it would block; throws on a closed channel. */
  trySend(value) {
    return realmOf(this).trySend(refOf(this, 'Chan.trySend'), value);
  }

  /**
   * Receives without waiting: `{ value, ok }`, or undefined if it would block. A value naming a
   * SharedArrayBuffer that has not reached this thread yet is given back to the channel (to
   * the next blocked receiver, else to the front of its buffer) and counts as would block: a
   * later call, once this thread's event loop has turned, receives it (shared.js).
   */
  tryRecv() {
    const ref = refOf(this, 'Chan.tryRecv');
    const m = ref.tryRecv();
    if (m === undefined) return undefined;
    const realm = realmOf(this);
    if (realm.arrival(m) !== undefined) {
      ref.giveBack(m);
      return undefined;
    }
    return realm.received(m);
  }

  /** Values until the channel is closed and drained. */
  async *[Symbol.asyncIterator]() {
    for (;;) {
      const { value, ok } = await this.recvOk();
      if (!ok) return;
      yield value;
    }
  }
}

/** Go's sync.WaitGroup. */
export class WaitGroup extends Handle {
  /**
   * Adds `delta` to the counter: a SyncError if it would go negative (or `delta` is not an
   * integer), a RangeError past what Go's int32 counter holds; either way nothing changes.
   */
  add(delta = 1) {
    this.#add(delta, 'WaitGroup.add');
  }

  done() {
    this.#add(-1, 'WaitGroup.done');
  }

  #add(delta, what) {
    const ref = refOf(this, what);
    if (typeof delta !== 'number') throw new TypeError(`${what}: expected a number, got ${describe(delta)}`);
    if (Math.abs(delta) > MAX_WAIT_GROUP) {
      throw new RangeError(`${what}: delta ${delta} is out of range (at most ${MAX_WAIT_GROUP} either way)`);
    }
    const err = ref.add(delta);
    if (err !== undefined) throw new SyncError(err);
  }

  /** Resolves when the counter is zero. `{ signal }`: if it aborts first, rejects with its reason. */
  async wait(options) {
    const signal = abortSignal(options, 'WaitGroup.wait');
    realmOf(this).unit(await run(this, 'WaitGroup.wait', (Op, ref) => Op.waitGroupWait(ref), signal));
  }
}

/** Go's sync.Mutex: `await lock()`, `unlock()` (any goroutine may unlock). */
export class Mutex extends Handle {
  /** Takes the lock. `{ signal }`: if it aborts first, rejects with its reason, not holding the lock. */
  async lock(options) {
    const signal = abortSignal(options, 'Mutex.lock');
    realmOf(this).unit(await run(this, 'Mutex.lock', (Op, ref) => Op.mutexLock(ref), signal));
  }

  /** Takes the lock if it is free; true if taken. */
  tryLock() {
    return refOf(this, 'Mutex.tryLock').tryLock();
  }

  unlock() {
    const err = refOf(this, 'Mutex.unlock').unlock();
    if (err !== undefined) throw new SyncError(err);
  }
}

/**
 * Go's sync.RWMutex: any number of readers (`rLock`), or one writer (`lock`). A writer that
 * waits holds back new readers; the readers that waited through a write go before the next
 * writer. Any goroutine may unlock, as in Go.
 */
export class RWMutex extends Handle {
  /** Takes a read lock. `{ signal }`: if it aborts first, rejects with its reason, holding nothing. */
  async rLock(options) {
    const signal = abortSignal(options, 'RWMutex.rLock');
    realmOf(this).unit(await run(this, 'RWMutex.rLock', (Op, ref) => Op.rwMutexRLock(ref), signal));
  }

  /** Releases a read lock; a SyncError "sync: RUnlock of unlocked RWMutex" if none is held. */
  rUnlock() {
    const err = refOf(this, 'RWMutex.rUnlock').rUnlock();
    if (err !== undefined) throw new SyncError(err);
  }

  /** Takes the write lock. `{ signal }`: as for `rLock`. */
  async lock(options) {
    const signal = abortSignal(options, 'RWMutex.lock');
    realmOf(this).unit(await run(this, 'RWMutex.lock', (Op, ref) => Op.rwMutexLock(ref), signal));
  }

  /** Releases the write lock; a SyncError "sync: Unlock of unlocked RWMutex" if it is not held. */
  unlock() {
    const err = refOf(this, 'RWMutex.unlock').unlock();
    if (err !== undefined) throw new SyncError(err);
  }

  /** Takes the write lock if it is free; true if taken. */
  tryLock() {
    return refOf(this, 'RWMutex.tryLock').tryLock();
  }

  /** Takes a read lock if no writer holds or waits for the lock; true if taken. */
  tryRLock() {
    return refOf(this, 'RWMutex.tryRLock').tryRLock();
  }
}

/**
 * Go's sync.Cond over a Mutex, `L` (`rt.cond(mutex)`, Go's sync.NewCond). It travels with its
 * mutex: a Cond received in another goroutine has an `L` for the same mutex.
 */
export class Cond extends Handle {
  #L;

  constructor(ref, realm, L) {
    super(ref, realm);
    this.#L = L;
  }

  /** The mutex `wait` unlocks while it waits, and locks again before it returns. */
  get L() {
    return this.#L;
  }

  /**
   * Unlocks `L`, waits for a `signal` or `broadcast`, and locks `L` again (Go's Wait): call it
   * holding `L`, in a loop that checks the condition. Rejects with a SyncError "sync: unlock of
   * unlocked mutex" if `L` was not locked (nothing waited for then). `{ signal }`: if it aborts
   * first, stops waiting, locks `L` again, then rejects with its reason: the caller holds `L`
   * whichever way it ends.
   */
  async wait(options) {
    const signal = abortSignal(options, 'Cond.wait');
    realmOf(this).unit(await run(this, 'Cond.wait', (Op, ref) => Op.condWait(ref), signal));
  }

  /** Wakes the goroutine that has waited longest, if any. */
  signal() {
    refOf(this, 'Cond.signal').signal();
  }

  /** Wakes every waiting goroutine. */
  broadcast() {
    refOf(this, 'Cond.broadcast').broadcast();
  }
}

/** Go's sync.Once, for every goroutine of the runtime that holds it, on any Worker. */
export class Once extends Handle {
  /**
   * Calls `fn()` (awaited, in this realm) if no call of `do` on this Once has: the first caller
   * runs it, and every other caller, on any goroutine, waits until it returned, then resolves
   * without running its own. A `fn` that throws counts as returned (as Go's panic does): the
   * first caller's `do` rejects with what it threw, and no later call runs anything.
   * `{ signal }`: if it aborts while this call waits for another's `fn`, rejects with its reason
   * (and runs nothing); once this call runs `fn`, it is not aborted.
   */
  async do(fn, options) {
    const ref = refOf(this, 'Once.do');
    if (typeof fn !== 'function') throw new TypeError(`Once.do: expected a function, got ${describe(fn)}`);
    const signal = abortSignal(options, 'Once.do');
    if (ref.isDone()) return;
    const realm = realmOf(this);
    const own = ref.share(); // this call's own ref: it ends the call even if the handle is released meanwhile
    try {
      if (!realm.value(await realm.op((Op) => Op.onceBegin(own), 'Once.do', signal))) return;
      try {
        await fn();
      } finally {
        own.end();
      }
    } finally {
      own.free();
    }
  }
}

// Frees the wasm refs of timers and tickers dropped by JS (crate/src/js/timers.rs).
const clockRefs = new FinalizationRegistry((ref) => ref.free());

/**
 * Go's *time.Timer (`rt.timer`, `rt.afterFunc`): `c` receives the time once (null for an
 * afterFunc timer, which starts a goroutine instead); `stop` and `reset` have Go 1.23's
 * semantics. Not a handle: it cannot be sent (send `c`).
 */
export class Timer {
  #ref;
  #realm;
  #c;

  constructor(ref, realm) {
    this.#ref = ref;
    this.#realm = realm;
    const c = ref.takeChan();
    this.#c = c === undefined ? null : new Chan(c, realm);
    clockRefs.register(this, ref);
  }

  /** The channel the time is sent on (ms, like performance.timeOrigin + performance.now()); null for afterFunc. */
  get c() {
    return this.#c;
  }

  /**
   * Stops the timer: whether it was active (armed, or fired with its time not received yet).
   * Afterwards `c` yields no time from before the call, and an afterFunc that had not started
   * its goroutine does not.
   */
  stop() {
    this.#realm.check('Timer.stop');
    return this.#ref.stop();
  }

  /**
   * Stops the timer and arms it again for `ms` from now (zero or negative: at once): whether it
   * was active, as `stop` says. An afterFunc timer starts its goroutine again when it fires.
   */
  reset(ms) {
    this.#realm.check('Timer.reset');
    return this.#ref.reset(checkMs(ms, 'Timer.reset'));
  }
}

/**
 * Go's *time.Ticker (`rt.ticker`): `c` receives the time every period; a slow receiver misses
 * ticks rather than getting them bunched. Not a handle: it cannot be sent (send `c`).
 */
export class Ticker {
  #ref;
  #realm;
  #c;

  constructor(ref, realm) {
    this.#ref = ref;
    this.#realm = realm;
    this.#c = new Chan(ref.takeChan(), realm);
    clockRefs.register(this, ref);
  }

  /** The channel the ticks are sent on (ms, like performance.timeOrigin + performance.now()). */
  get c() {
    return this.#c;
  }

  /** Stops the ticks; `c` stays open and yields no tick sent before the call. */
  stop() {
    this.#realm.check('Ticker.stop');
    this.#ref.stop();
  }

  /** Stops the ticker and restarts it with period `ms` (> 0; a RangeError otherwise, as Go panics). */
  reset(ms) {
    this.#realm.check('Ticker.reset');
    this.#ref.reset(checkPeriod(ms, 'Ticker.reset', 'Ticker.Reset'));
  }
}

// The RangeErrors of values refused for their size (`Realm.message`).
const refusals = new WeakSet();

function refused(text) {
  const e = new RangeError(text);
  refusals.add(e);
  return e;
}

/** Whether `e` is the RangeError of a value refused for its size by `Realm.message`. */
export function isRefused(e) {
  return refusals.has(e);
}

/**
 * A Message of the glue's of `length` bytes (its outcome tag first), which `writeTo(out)`
 * copies into `out`, a view on them in the wasm memory (encodeTagged's `take`); undefined if
 * wasm memory cannot give them. Never `new glue.Message(bytes)` for a value: that copy is made
 * by wasm-bindgen's allocator entry, which traps the whole module when the allocation fails.
 */
export function newMessage(glue, length, writeTo) {
  const msg = glue.Message.withLength(length);
  if (msg === undefined) return undefined;
  try {
    // Made after the allocation, which may have grown the memory (a new buffer).
    writeTo(new Uint8Array(memoryOf(glue).buffer, msg.bytesAddress(), length));
  } catch (e) {
    msg.free();
    throw e;
  }
  return msg;
}

/**
 * The codec's `shared` hook for values sent from this thread through `glue`'s runtime: the
 * id of a SharedArrayBuffer in `table` (a SharedBuffers of shared.js), or undefined for the
 * wasm memory itself, whose views are copied (sharing it would alias the runtime's heap).
 */
export function sharedHook(glue, table) {
  const memory = memoryOf(glue);
  return (buffer) => (buffer === memory.buffer ? undefined : table.idOf(buffer));
}

// The shared wasm memory of each glue module, asked for once.
const memories = new WeakMap();

function memoryOf(glue) {
  let memory = memories.get(glue);
  if (memory === undefined) {
    memory = glue.gortSharedMemory();
    memories.set(glue, memory);
  }
  return memory;
}

/**
 * One JS realm's view of a runtime: a wasm-bindgen glue module, how blocking operations run
 * here, whether the runtime still runs, which runtime it is, and, on the page, how held handles
 * are counted so that the runtime does not report a deadlock the page could still resolve.
 */
export class Realm {
  #glue;
  #memory;
  #run;
  #external;
  #life;
  #owner;
  #admit;
  #timers;
  #base;
  #callSites;
  #wait;
  #shared;
  #sharedHook;

  /**
   * `glue`: the wasm-bindgen glue module, initialized. `run(op) → Promise<Message>` runs a
   * blocking `Op`. Options:
   * - `external`, on the page only: `{ hold(kind, ref), unhold(key) }`, which tell the runtime
   *   which objects the page holds (`kind`: the glue's `HandleKind`; see Runtime's deadlock
   *   event).
   * - `life`: `{ closing, freed }`, set by the runtime's shutdown (closing: shutdown() was
   *   called; freed: the runtime's memory is gone). Absent: the runtime outlives this realm.
   * - `owner`: an object that identifies the runtime; realms with the same owner share handles.
   * - `admit(length, heap) → undefined | text`: whether a Message of `length` bytes could be
   *   taken in now (wasm memory can hold it, and with `heap`, it could ever fit under the heap
   *   limit): the glue's `RuntimeCore.admitLength` or `workerAdmitLength`; the error's text if
   *   not.
   * - `timers`: `{ timer(ms), ticker(ms), afterFunc(ms, target, args) }`, which make the glue's
   *   TimerRef and TickerRef in this realm's runtime (the page's `RuntimeCore` methods, or
   *   `workerTimer`, `workerTicker`, `workerAfterFunc`).
   * - `base() → URL text | undefined`: what a module task's relative `module` resolves against
   *   (the page's base URL; none inside a goroutine, where it must be absolute).
   * - `callSites`: whether `rt.go` and `rt.afterFunc` record where they were called, for
   *   goroutine dumps (`Runtime.start`'s option).
   * - `wait(address, value)`: a promise that settles, without blocking, once the 32-bit word
   *   at `address` no longer holds `value` (undefined, or settled, if it holds another already);
   *   `goWithSignal` watches goroutines finish with it.
   * - `shared`: this thread's table of the runtime's shared buffers (a SharedBuffers,
   *   shared.js).
   */
  constructor(
    glue,
    run,
    {
      external = null,
      life = { closing: null, freed: false },
      owner = life,
      admit = () => undefined,
      timers,
      base = () => undefined,
      callSites = false,
      wait,
      shared,
    } = {},
  ) {
    this.#glue = glue;
    this.#memory = memoryOf(glue);
    this.#run = run;
    this.#external = external;
    this.#life = life;
    this.#owner = owner;
    this.#admit = admit;
    this.#timers = timers;
    this.#base = base;
    this.#callSites = callSites;
    this.#wait = wait;
    this.#shared = shared;
    this.#sharedHook = sharedHook(glue, shared);
  }

  /** Where the caller of `api` (`rt.go`, `rt.afterFunc`) is, if this realm records it (`callSite`). */
  callSite(api) {
    return this.#callSites ? callSite(api) : undefined;
  }

  /** Throws a ShutdownError for the call `what` once the runtime is shutting down. */
  check(what) {
    if (this.#life.closing) throw new ShutdownError(what);
  }

  /**
   * Runs the blocking operation `make(Op)` (Op: the glue's Op class) for the call `what`; a
   * promise of its Message. It rejects with a ShutdownError if the runtime shut down before
   * the operation completed (the runtime cancelled it), or before its result could be read.
   * `signal` (an AbortSignal, not aborted yet, or undefined): if it aborts before the operation
   * completed, the operation is withdrawn and this rejects with the signal's reason.
   */
  async op(make, what, signal) {
    this.check(what);
    const op = make(this.#glue.Op);
    const abort = signal === undefined ? undefined : this.#abortOn(op, signal, what);
    let pending;
    try {
      pending = this.#run(op); // a RangeError if memory cannot hold the operation's goroutine
    } catch (e) {
      op.free();
      abort?.end();
      throw e;
    }
    const life = this.#life;
    let msg;
    try {
      msg = await pending;
    } catch (e) {
      if (life.freed) throw new ShutdownError(what); // abandoned by a shutdown that ended
      throw e;
    } finally {
      abort?.end();
    }
    if (!life.freed) {
      const arriving = this.arrival(msg);
      if (arriving !== undefined) await arriving;
    }
    const tag = this.#bytes(msg)[0];
    if (life.closing && (life.freed || tag === this.#glue.OutcomeTag.RuntimeError)) {
      msg.free();
      throw new ShutdownError(what);
    }
    if (tag === this.#glue.OutcomeTag.Aborted) {
      msg.free();
      throw signal.reason;
    }
    return msg;
  }

  /**
   * Makes `op` give up once `signal` aborts: it gets a channel of its own, which the abort
   * closes (crate/src/js/op.rs). `end()` once the operation settled: the listener goes, and so
   * does the channel, so a long-lived signal keeps nothing of it.
   */
  #abortOn(op, signal, what) {
    const ch = this.chan(0);
    op.abortOn(refOf(ch, what));
    const onAbort = () => {
      if (!this.#life.closing) ch.close();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    return {
      end() {
        signal.removeEventListener('abort', onAbort);
        ch.release();
      },
    };
  }

  /**
   * Starts a goroutine whose task spec has `signal` (an AbortSignal, or undefined): `start(target)`
   * starts the glue Target `target` and returns its JoinRef, which this returns. The signal
   * travels as a channel of one value (crate/src/js/target.rs): when it aborts (or if it has
   * already), its reason is sent on it if it can be sent (`{ reason }`, or `{ domException:
   * [message, name] }`), and it is closed. The listener goes
   * once the goroutine finished.
   */
  goWithSignal(target, signal, start) {
    if (signal === undefined) return start(target);
    const ch = this.chan(1);
    target.abortOn(refOf(ch, 'rt.go'));
    const onAbort = () => {
      if (this.#life.closing) return;
      const { reason } = signal;
      try {
        // A DOMException (an AbortError, a TimeoutError) is rebuilt as one in the goroutine.
        const sent = reason instanceof DOMException ? { domException: [reason.message, reason.name] } : { reason };
        this.trySend(refOf(ch, 'rt.go'), sent);
      } catch {
        // A reason that cannot be sent: the goroutine's rt.signal aborts with an AbortError.
      }
      ch.close();
    };
    const end = () => {
      signal.removeEventListener('abort', onAbort);
      ch.release();
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    let ref;
    try {
      ref = start(target);
    } catch (e) {
      end();
      throw e;
    }
    this.#finished(ref.share()).then(end);
    return ref;
  }

  /** Resolves once the goroutine of JoinRef `ref` finished (or the runtime was given up); frees `ref`. */
  async #finished(ref) {
    const life = this.#life;
    try {
      while (ref.isPending() && !life.freed) {
        await Promise.race([this.#wait(ref.stateAddress(), 0), life.abandoned ?? never]);
      }
    } finally {
      ref.free();
    }
  }

  /**
   * The AbortSignal of a goroutine started with a task spec's signal, from the glue ChanRef
   * `abortRef` that carries it (`goWithSignal`): `{ signal, stop() }`. The signal aborts with
   * the reason sent on the channel, or with an AbortError DOMException if none could be sent,
   * once the channel is closed. `stop()` stops watching (the goroutine returned). This realm's
   * operations must not lend their wait to the goroutine (the watch waits as long as it runs),
   * only their completion (crate/src/js/mod.rs, `workerRun`).
   */
  watchAbort(abortRef) {
    const controller = new AbortController();
    const ch = new Chan(abortRef, this);
    const abort = ({ value, ok }) => {
      if (!ok) controller.abort(new DOMException('The goroutine was aborted', 'AbortError'));
      else if (value.domException) controller.abort(new DOMException(...value.domException));
      else controller.abort(value.reason);
    };
    const now = ch.tryRecv();
    if (now !== undefined) {
      abort(now);
      ch.release();
      return { signal: controller.signal, stop() {} };
    }
    // The receive's outcome aborts the signal in the very promise reaction that gets it, with
    // no `await` in between: the M runs again only after that reaction, so the goroutine cannot
    // look blocked on a runtime object (to deadlock detection) while the abort that frees it
    // waits in the microtask queue (crate/src/js/mod.rs, `workerRun`).
    const stop = this.chan(0);
    const op = this.#glue.Op.chanRecv(refOf(ch, 'rt.signal'));
    op.abortOn(refOf(stop, 'rt.signal'));
    let watching = true;
    const released = () => {
      watching = false;
      ch.release();
      stop.release();
    };
    let pending;
    try {
      pending = this.#run(op);
    } catch (e) {
      op.free();
      released();
      throw e;
    }
    pending
      .then(
        (msg) => {
          if (this.#bytes(msg)[0] === this.#glue.OutcomeTag.Aborted || this.#life.freed) msg.free();
          else abort(this.received(msg));
        },
        () => {}, // the runtime shut down: no abort
      )
      .catch(() => {}) // a failure of the receive's: the runtime shut down
      .finally(released);
    return {
      signal: controller.signal,
      stop: () => {
        if (watching && !this.#life.closing) stop.close();
        watching = false;
      },
    };
  }

  /** Whether handle `h` belongs to this realm's runtime. */
  owns(h) {
    return realmOf(h).#owner === this.#owner;
  }

  /** A new runtime object of the glue's class `Ref` (ChanRef, WaitGroupRef, MutexRef). */
  #make(Type, Ref, ...args) {
    return new Type(new this.#glue[Ref](...args), this);
  }

  chan(cap) {
    return this.#make(Chan, 'ChanRef', cap);
  }

  waitGroup() {
    return this.#make(WaitGroup, 'WaitGroupRef');
  }

  mutex() {
    return this.#make(Mutex, 'MutexRef');
  }

  rwMutex() {
    return this.#make(RWMutex, 'RwMutexRef');
  }

  /** A Cond over `mutex`, a Mutex of this runtime, as the call `what` checks it. */
  cond(mutex, what) {
    if (!(mutex instanceof Mutex)) throw new TypeError(`${what}: expected a Mutex, got ${describe(mutex)}`);
    if (!this.owns(mutex)) throw new TypeError(`${what}: the mutex belongs to another runtime`);
    return new Cond(new this.#glue.CondRef(refOf(mutex, what)), this, mutex);
  }

  once() {
    return this.#make(Once, 'OnceRef');
  }

  /** A Timer that fires once after `ms` (checked). */
  timer(ms) {
    return new Timer(this.#timers.timer(ms), this);
  }

  /** A Ticker of period `ms` (checked). */
  ticker(ms) {
    return new Ticker(this.#timers.ticker(ms), this);
  }

  /**
   * A Timer that starts `target` (as `rt.go` takes it) with `args` after `ms` (checked), for the
   * call `what` made at `at` (`callSite`); a TypeError (or RangeError) for the target or an
   * argument, as `rt.go`'s. A task spec's signal is a TypeError: the Timer's `stop` is how its
   * goroutines are called off.
   */
  afterFunc(ms, target, args, what, at) {
    const task = goroutineTask(target, what, this.#base());
    if (task.signal !== undefined) {
      throw new TypeError(`${what}: a task spec's signal is not taken here; stop the Timer instead`);
    }
    const msg = this.args(args);
    return new Timer(this.#timers.afterFunc(ms, wasmTarget(this.#glue, task, at), msg), this);
  }

  /** A new SelectBuilder (the caller frees it). */
  selectBuilder() {
    return new this.#glue.SelectBuilder();
  }

  #kind(handle) {
    const kinds = this.#glue.HandleKind;
    if (handle instanceof Chan) return kinds.Chan;
    if (handle instanceof WaitGroup) return kinds.WaitGroup;
    if (handle instanceof RWMutex) return kinds.RwMutex;
    if (handle instanceof Cond) return kinds.Cond;
    if (handle instanceof Once) return kinds.Once;
    return kinds.Mutex;
  }

  adopt(handle, ref) {
    this.#external?.hold(this.#kind(handle), ref);
    handleRefs.register(handle, { ref, key: ref.key(), external: this.#external }, handle);
  }

  release(handle, ref) {
    if (!handleRefs.unregister(handle)) return; // released already
    this.#external?.unhold(ref.key());
    ref.free();
  }

  /**
   * A JS value as a Message (tag Value); throws a TypeError naming what cannot be sent, or a
   * RangeError if wasm memory cannot hold it or it could never fit in the runtime's heap (the
   * heap limit is not asked when `admit` is false: a result, which the runtime admits as it
   * moves it into the heap, and reports to its joiner). The size is checked before the value is
   * copied into wasm memory, and again, exactly, before the Message is made.
   */
  message(value, where, { admit = true } = {}) {
    const handles = [];
    const owner = this.#owner;
    const check = (length) => {
      const err = this.#admit(length, admit);
      if (err !== undefined) throw refused(`cannot send ${where}: ${err}`);
    };
    const options = {
      handle(v) {
        if (v instanceof Handle) {
          if (realmOf(v).#owner !== owner) throw cannotSend(`a ${kindName(v)} of another runtime cannot be used here`);
          if (isReleased(v)) throw cannotSend(`the ${kindName(v)} was released`);
          handles.push(v);
          return handles.length - 1;
        }
        if (v instanceof Timer || v instanceof Ticker) {
          const name = v instanceof Timer ? 'Timer' : 'Ticker';
          throw cannotSend(`a ${name} cannot cross goroutines (it is not a handle); send its channel, c, instead`);
        }
        return undefined;
      },
      admit: check,
      shared: this.#sharedHook,
    };
    const glue = this.#glue;
    const msg = encodeTagged(glue.OutcomeTag.Value, value, where, options, (length, writeTo) => {
      check(length);
      const m = newMessage(glue, length, writeTo);
      if (m === undefined) {
        throw refused(`cannot send ${where}: out of memory: wasm memory could not give ${length} bytes`);
      }
      return m;
    });
    const kinds = glue.HandleKind;
    for (const h of handles) {
      switch (this.#kind(h)) {
        case kinds.Chan:
          msg.addChan(refOf(h, where));
          break;
        case kinds.WaitGroup:
          msg.addWaitGroup(refOf(h, where));
          break;
        case kinds.RwMutex:
          msg.addRwMutex(refOf(h, where));
          break;
        case kinds.Cond:
          msg.addCond(refOf(h, where));
          break;
        case kinds.Once:
          msg.addOnce(refOf(h, where));
          break;
        default:
          msg.addMutex(refOf(h, where));
      }
    }
    return msg;
  }

  /** Goroutine arguments as one Message; a TypeError (or RangeError) names the argument at fault. */
  args(args) {
    try {
      return this.message(args, 'arguments');
    } catch (e) {
      if (!(e instanceof TypeError || e instanceof RangeError)) throw e;
      args.forEach((a, i) => this.message(a, `argument ${i + 1}`).free());
      throw e;
    }
  }

  /** `ref.trySend(value)` as `Chan.trySend` reports it. */
  trySend(ref, value) {
    const r = ref.trySend(this.message(value, 'channel value'));
    const TrySend = this.#glue.TrySend;
    if (r === TrySend.Closed) throw new ChannelError('send on closed channel');
    return r === TrySend.Sent;
  }

  /**
   * A Message's tagged bytes, where they lie in the wasm memory: valid while `msg` is alive
   * and not freed (its bytes neither move nor change meanwhile).
   */
  #bytes(msg) {
    return new Uint8Array(this.#memory.buffer, msg.bytesAddress(), msg.byteLength());
  }

  /**
   * Undefined if every SharedArrayBuffer the value of `msg` (a Message held here) names is in
   * this thread; else a promise that resolves once they are (they are on their way: shared.js).
   */
  arrival(msg) {
    const bytes = this.#bytes(msg);
    const tags = this.#glue.OutcomeTag;
    // Where the codec bytes start: after the tag of a value or a throw, after the case index
    // and ok of a select's result with a value (see `settle`, `value`, `received`, `selected`).
    const at = bytes[0] === tags.Value || bytes[0] === tags.Thrown ? 1 : bytes[0] === tags.Selected ? 6 : bytes.length;
    if (at >= bytes.length) return undefined;
    return this.#shared.whenHere(sharedIds(bytes.subarray(at)));
  }

  /** The codec bytes of a Message from `offset`, decoded with its handles re-wrapped here. */
  #decode(msg, bytes, offset) {
    const realm = this;
    const kinds = this.#glue.HandleKind;
    const shared = this.#shared;
    return decode(bytes.subarray(offset), {
      shared: (id) => shared.buffer(id),
      handle(i) {
        switch (msg.handleKind(i)) {
          case kinds.Chan:
            return new Chan(msg.chanAt(i), realm);
          case kinds.WaitGroup:
            return new WaitGroup(msg.waitGroupAt(i), realm);
          case kinds.RwMutex:
            return new RWMutex(msg.rwMutexAt(i), realm);
          case kinds.Cond: {
            const ref = msg.condAt(i);
            return new Cond(ref, realm, new Mutex(ref.mutex(), realm));
          }
          case kinds.Once:
            return new Once(msg.onceAt(i), realm);
          default:
            return new Mutex(msg.mutexAt(i), realm);
        }
      },
    });
  }

  /** The error an operation's result stands for, if it is one (tags OpError, SyncError, HeapLimit, RuntimeError). */
  #failure(bytes) {
    const tags = this.#glue.OutcomeTag;
    const text = () => decodeText(bytes.subarray(1));
    switch (bytes[0]) {
      case tags.OpError:
        return new ChannelError(text());
      case tags.SyncError:
        return new SyncError(text());
      case tags.HeapLimit:
        return new RangeError(text());
      case tags.RuntimeError:
        return new Error(text());
      default:
        return undefined;
    }
  }

  /**
   * A goroutine's outcome: its value, or a thrown GoroutineError. Frees the Message.
   * `cancelled`: the error to throw instead for a failure of the runtime's own (once shutdown
   * began, that failure is the goroutine's cancellation).
   */
  settle(msg, goroutineId, cancelled = undefined) {
    const tags = this.#glue.OutcomeTag;
    try {
      const bytes = this.#bytes(msg);
      switch (bytes[0]) {
        case tags.Value:
          return this.#decode(msg, bytes, 1);
        case tags.Thrown: {
          const thrown = this.#decode(msg, bytes, 1);
          const summary = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : `threw ${describe(thrown)}`;
          throw new GoroutineError(goroutineId, summary, thrown, thrown?.stack);
        }
        case tags.RuntimeError:
          throw cancelled ?? new GoroutineError(goroutineId, decodeText(bytes.subarray(1)));
        case tags.Died: {
          const proc = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1, true);
          const cause = new WorkerError(proc, decodeText(bytes.subarray(5)));
          throw new GoroutineError(goroutineId, cause.message, cause);
        }
        case tags.Json:
          return JSON.parse(decodeText(bytes.subarray(1)));
        case tags.HeapLimit:
          throw this.#failure(bytes);
        default:
          throw new RangeError(`goroutine ${goroutineId}: unexpected outcome tag ${bytes[0]}`);
      }
    } finally {
      msg.free();
    }
  }

  /** An operation's result that carries no value (or its error). */
  unit(msg) {
    try {
      const failure = this.#failure(this.#bytes(msg));
      if (failure) throw failure;
    } finally {
      msg.free();
    }
  }

  /** An operation's result value (or its error). */
  value(msg) {
    try {
      const bytes = this.#bytes(msg);
      const failure = this.#failure(bytes);
      if (failure) throw failure;
      return this.#decode(msg, bytes, 1);
    } finally {
      msg.free();
    }
  }

  /** A receive's result as `{ value, ok }`. */
  received(msg) {
    try {
      const bytes = this.#bytes(msg);
      if (bytes[0] === this.#glue.OutcomeTag.Closed) return { value: undefined, ok: false };
      const failure = this.#failure(bytes);
      if (failure) throw failure;
      return { value: this.#decode(msg, bytes, 1), ok: true };
    } finally {
      msg.free();
    }
  }

  /** A select's result as `{ index, value, ok }`. */
  selected(msg) {
    try {
      const bytes = this.#bytes(msg);
      const failure = this.#failure(bytes);
      if (failure) throw failure;
      if (bytes[0] !== this.#glue.OutcomeTag.Selected) {
        throw new RangeError(`rt.select: unexpected outcome tag ${bytes[0]}`);
      }
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const index = view.getInt32(1, true);
      const ok = bytes[5] === 1;
      const value = bytes.length > 6 ? this.#decode(msg, bytes, 6) : undefined;
      return { index, value, ok };
    } finally {
      msg.free();
    }
  }
}

/**
 * The API the page's `rt` and a goroutine's `rt` share, over `realm` (a Realm), whose `check`
 * throws a ShutdownError once the runtime can no longer be used.
 */
export class RuntimeBase extends EventTarget {
  #realm;

  constructor(realm) {
    super();
    this.#realm = realm;
  }

  #check(what) {
    this.#realm.check(what);
  }

  /** A channel with room for `cap` values (0: unbuffered), Go's `make(chan T, cap)`. */
  chan(cap = 0) {
    this.#check('rt.chan');
    if (!Number.isInteger(cap) || cap < 0 || cap > 0xffffffff) {
      throw new RangeError(`rt.chan: capacity must be a non-negative integer, got ${describe(cap)}`);
    }
    return this.#realm.chan(cap);
  }

  waitGroup() {
    this.#check('rt.waitGroup');
    return this.#realm.waitGroup();
  }

  mutex() {
    this.#check('rt.mutex');
    return this.#realm.mutex();
  }

  /** Go's sync.RWMutex. */
  rwMutex() {
    this.#check('rt.rwMutex');
    return this.#realm.rwMutex();
  }

  /** Go's sync.NewCond(mutex): a Cond whose `L` is `mutex`, a Mutex of this runtime. */
  cond(mutex) {
    this.#check('rt.cond');
    return this.#realm.cond(mutex, 'rt.cond');
  }

  /** Go's sync.Once. */
  once() {
    this.#check('rt.once');
    return this.#realm.once();
  }

  /**
   * Go's time.NewTimer: a Timer whose channel `c` receives the time (ms, like
   * performance.timeOrigin + performance.now()) once `ms` have passed (zero or negative: at once).
   */
  timer(ms) {
    this.#check('rt.timer');
    return this.#realm.timer(checkMs(ms, 'rt.timer'));
  }

  /**
   * Go's time.AfterFunc: after `ms`, starts `target` as a goroutine with `args`, exactly as
   * `rt.go(target, ...args)` would (the arguments are copied now; each firing gets its own
   * copy). Returns a Timer whose `c` is null; `stop` keeps a goroutine that has not started from
   * starting, `reset` arms it again. Its goroutine's result is dropped, as that of a goroutine
   * nobody joins: catch errors inside it.
   */
  afterFunc(ms, target, ...args) {
    this.#check('rt.afterFunc');
    const at = this.#realm.callSite(this.afterFunc);
    return this.#realm.afterFunc(checkMs(ms, 'rt.afterFunc'), target, args, 'rt.afterFunc', at);
  }

  /**
   * Go's time.NewTicker: a Ticker whose channel `c` receives the time every `ms` (> 0; a
   * RangeError otherwise, as Go panics "non-positive interval for NewTicker").
   */
  ticker(ms) {
    this.#check('rt.ticker');
    return this.#realm.ticker(checkPeriod(ms, 'rt.ticker', 'NewTicker'));
  }

  /**
   * Resolves after `ms` milliseconds, timed by the runtime (a Worker parks with a timeout).
   * `{ signal }`: if it aborts first, rejects with its reason.
   */
  async sleep(ms, options) {
    this.#check('rt.sleep');
    const d = checkMs(ms, 'rt.sleep');
    const signal = abortSignal(options, 'rt.sleep');
    this.#realm.unit(await this.#realm.op((Op) => Op.sleep(d), 'rt.sleep', signal));
  }

  /** A channel that receives the time (ms, like performance.timeOrigin + performance.now()) after `ms`. */
  after(ms) {
    this.#check('rt.after');
    const d = checkMs(ms, 'rt.after');
    const ch = this.chan(1);
    // Nobody awaits this op: at shutdown its ShutdownError has no one to go to.
    this.#realm
      .op((Op) => Op.after(d, refOf(ch, 'rt.after')), 'rt.after')
      .then(
        (m) => m.free(),
        () => {},
      );
    return ch;
  }

  /**
   * Go's runtime.GOMAXPROCS(n): sets the number of Ps to `n` (an integer from 1 to the
   * runtime's `maxProcs`) with the world stopped; resolves with the number before.
   */
  async setProcs(n) {
    this.#check('rt.setProcs');
    checkProcs(n, 'rt.setProcs');
    const previous = this.#realm.value(await this.#realm.op((Op) => Op.setProcs(n), 'rt.setProcs'));
    if (previous < 0) throw new RangeError(`rt.setProcs: n must be from 1 to maxProcs (${-previous}), got ${n}`);
    return previous;
  }

  /** Lets other goroutines run (Go's runtime.Gosched). */
  async gosched() {
    this.#check('rt.gosched');
    this.#realm.unit(await this.#realm.op((Op) => Op.gosched(), 'rt.gosched'));
  }

  /**
   * Go's select: `cases` are `{ recv: ch }` or `{ send: ch, value }` (a null channel is never
   * ready); with `{ default: true }` it never waits. Resolves to `{ index, value, ok }`, index
   * -1 for the default. `{ signal }`: if it aborts first, rejects with its reason, no case taken.
   */
  async select(cases, options) {
    this.#check('rt.select');
    const signal = abortSignal(options, 'rt.select');
    const withDefault = options?.default ?? false;
    if (!Array.isArray(cases)) throw new TypeError(`rt.select: expected an array of cases, got ${describe(cases)}`);
    const realm = this.#realm;
    const channel = (c, i, key) => {
      if (c === null || c === undefined) return undefined;
      if (!(c instanceof Chan))
        throw new TypeError(`rt.select: case ${i}.${key} must be a channel or null, got ${describe(c)}`);
      if (!realm.owns(c)) throw new TypeError(`rt.select: case ${i}.${key} is a channel of another runtime`);
      return refOf(c, `rt.select: case ${i}.${key}`);
    };
    const builder = realm.selectBuilder();
    try {
      cases.forEach((c, i) => {
        if (c === null || typeof c !== 'object') throw new TypeError(`rt.select: case ${i} must be an object`);
        if ('recv' in c) {
          const ref = channel(c.recv, i, 'recv');
          if (ref) builder.recv(ref);
          else builder.recvNil();
        } else if ('send' in c) {
          const ref = channel(c.send, i, 'send');
          const msg = realm.message(c.value, `case ${i} value`);
          if (ref) builder.send(ref, msg);
          else builder.sendNil(msg);
        } else throw new TypeError(`rt.select: case ${i} needs a "recv" or a "send" channel`);
      });
      return realm.selected(await realm.op((Op) => Op.select(builder, !!withDefault), 'rt.select', signal));
    } finally {
      builder.free();
    }
  }
}
