// What the page and the Worker Ms share: runtime objects as JS values (channels, wait groups,
// mutexes), the conversion of JS values to and from the runtime's Messages, and the API the
// page's `rt` and a goroutine's `rt` have in common.
//
// A Message is codec bytes behind one outcome tag (crate/src/js/value.rs has the table), plus
// the runtime handles the value references. Blocking operations are wasm `Op`s that each side
// runs its own way (`Realm.run`): the page as a goroutine it awaits with Atomics.waitAsync, a
// Worker through a promise resolved on its own M.

import { encode, decode } from './codec.js';
import { GoroutineError, describe } from './goroutine.js';

const TAG_VALUE = 0;
const TAG_THROWN = 1;
const TAG_RUNTIME_ERROR = 2;
const TAG_JSON = 3;
const TAG_CLOSED = 4;
const TAG_SELECTED = 5;
const TAG_OP_ERROR = 6;
const TAG_HEAP_LIMIT = 7;

const MAX_MS = 1e15; // about 31,700 years: longer is forever

const utf8 = new TextDecoder();

/** A channel operation Go would panic on: "send on closed channel", "close of closed channel". */
export class ChannelError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ChannelError';
  }
}

/** Misuse of a WaitGroup or Mutex: "sync: negative WaitGroup counter", "sync: unlock of unlocked mutex". */
export class SyncError extends Error {
  constructor(message) {
    super(message);
    this.name = 'SyncError';
  }
}

function checkMs(ms, what) {
  if (typeof ms !== 'number' || Number.isNaN(ms) || ms < 0) {
    throw new RangeError(`${what}: expected a duration in ms (a number ≥ 0), got ${describe(ms)}`);
  }
  return Math.min(ms, MAX_MS);
}

/** The error an operation's result stands for, if it is one (tags 2, 6 and 7). */
function opFailure(bytes) {
  const text = () => utf8.decode(bytes.subarray(1));
  switch (bytes[0]) {
    case TAG_OP_ERROR:
      return new ChannelError(text());
    case TAG_HEAP_LIMIT:
      return new RangeError(text());
    case TAG_RUNTIME_ERROR:
      return new Error(text());
    default:
      return undefined;
  }
}

// Frees the wasm refs of handles JS dropped without `release()`, in every realm (the page and
// each Worker), so that the runtime objects they kept alive can go.
const handleRefs = new FinalizationRegistry(({ ref, key, external }) => {
  external?.unhold(key);
  ref.free();
});

// A handle keeps its wasm ref and its realm private; these read them inside this module.
let refOf, realmOf;

/** What channels, wait groups and mutexes share: their wasm ref, their realm, `release()`. */
class Handle {
  #ref;
  #realm;
  static {
    refOf = (h) => h.#ref;
    realmOf = (h) => h.#realm;
  }

  constructor(ref, realm) {
    this.#ref = ref;
    this.#realm = realm;
    realm.adopt(this, ref);
  }

  /** Drops this handle now instead of when it is garbage collected. */
  release() {
    this.#realm.release(this, this.#ref);
  }
}

/** Runs the blocking operation `make(Op, ref)` on handle `h`; a promise of its Message. */
function run(h, make) {
  const realm = realmOf(h);
  return realm.run(make(realm.glue.Op, refOf(h)));
}

/** Registers a page-held handle with the runtime `core` (which kind of handle it is matters). */
export function holdOn(core, handle, ref) {
  if (handle instanceof Chan) core.holdChan(ref);
  else if (handle instanceof WaitGroup) core.holdWaitGroup(ref);
  else core.holdMutex(ref);
}

/** A channel (Go's `chan`): send, receive, close, `for await`. */
export class Chan extends Handle {
  /** Capacity (0: unbuffered). */
  get cap() {
    return refOf(this).cap();
  }

  /** Values buffered now. */
  get len() {
    return refOf(this).len();
  }

  /** Sends `value`, waiting for room or a receiver; rejects with ChannelError on a closed channel. */
  async send(value) {
    const msg = realmOf(this).message(value, 'channel value');
    realmOf(this).unit(await run(this, (Op, ref) => Op.chanSend(ref, msg)));
  }

  /** The next value; undefined once the channel is closed and drained. */
  async recv() {
    return (await this.recvOk()).value;
  }

  /** `{ value, ok }`: ok is false once the channel is closed and drained (Go's `v, ok := <-ch`). */
  async recvOk() {
    return realmOf(this).received(await run(this, (Op, ref) => Op.chanRecv(ref)));
  }

  /** Closes the channel; throws ChannelError if it was closed already. */
  close() {
    const err = refOf(this).close();
    if (err !== undefined) throw new ChannelError(err);
  }

  /** Sends without waiting: true if sent, false if it would block; throws on a closed channel. */
  trySend(value) {
    const r = refOf(this).trySend(realmOf(this).message(value, 'channel value'));
    if (r === 2) throw new ChannelError('send on closed channel');
    return r === 0;
  }

  /** Receives without waiting: `{ value, ok }`, or undefined if it would block. */
  tryRecv() {
    const m = refOf(this).tryRecv();
    return m === undefined ? undefined : realmOf(this).received(m);
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
  add(delta = 1) {
    if (typeof delta !== 'number') throw new TypeError(`WaitGroup.add: expected a number, got ${describe(delta)}`);
    const err = refOf(this).add(delta);
    if (err !== undefined) throw new SyncError(err);
  }

  done() {
    this.add(-1);
  }

  /** Resolves when the counter is zero. */
  async wait() {
    realmOf(this).unit(await run(this, (Op, ref) => Op.waitGroupWait(ref)));
  }
}

/** Go's sync.Mutex: `await lock()`, `unlock()` (any goroutine may unlock). */
export class Mutex extends Handle {
  async lock() {
    realmOf(this).unit(await run(this, (Op, ref) => Op.mutexLock(ref)));
  }

  /** Takes the lock if it is free; true if taken. */
  tryLock() {
    return refOf(this).tryLock();
  }

  unlock() {
    const err = refOf(this).unlock();
    if (err !== undefined) throw new SyncError(err);
  }
}

/**
 * One JS realm's view of a runtime: a wasm-bindgen glue module, how blocking operations run
 * here (`run(op) → Promise<Message>`), and, on the page, how held handles are counted so that
 * the runtime does not report a deadlock the page could still resolve.
 */
export class Realm {
  #external;

  /**
   * `external`, on the page only: `{ hold(handle, ref), unhold(key) }`, which tell the runtime
   * which objects the page holds (see Runtime's deadlock event).
   */
  constructor(glue, run, external = null) {
    this.glue = glue;
    this.run = run;
    this.#external = external;
  }

  adopt(handle, ref) {
    this.#external?.hold(handle, ref);
    handleRefs.register(handle, { ref, key: ref.key(), external: this.#external }, handle);
  }

  release(handle, ref) {
    if (!handleRefs.unregister(handle)) return; // released already
    this.#external?.unhold(ref.key());
    ref.free();
  }

  /** A JS value as a Message (tag 0); throws TypeError naming what cannot be sent. */
  message(value, where) {
    const handles = [];
    const hook = {
      handle(v) {
        if (v instanceof Handle) {
          handles.push(v);
          return handles.length - 1;
        }
        return undefined;
      },
    };
    const bytes = encode(value, where, hook);
    return this.#wrap(bytes, handles);
  }

  /** Goroutine arguments as one Message; a TypeError names the argument at fault. */
  args(args) {
    try {
      return this.message(args, 'arguments');
    } catch (e) {
      if (!(e instanceof TypeError)) throw e;
      args.forEach((a, i) => this.message(a, `argument ${i + 1}`).free());
      throw e;
    }
  }

  #wrap(bytes, handles) {
    const tagged = new Uint8Array(bytes.length + 1);
    tagged[0] = TAG_VALUE;
    tagged.set(bytes, 1);
    const msg = new this.glue.Message(tagged);
    for (const h of handles) {
      if (h instanceof Chan) msg.addChan(refOf(h));
      else if (h instanceof WaitGroup) msg.addWaitGroup(refOf(h));
      else msg.addMutex(refOf(h));
    }
    return msg;
  }

  /** The codec bytes of a Message from `offset`, decoded with its handles re-wrapped here. */
  #decode(msg, bytes, offset) {
    const realm = this;
    return decode(bytes.subarray(offset), {
      handle(i) {
        switch (msg.handleKind(i)) {
          case 0:
            return new Chan(msg.chanAt(i), realm);
          case 1:
            return new WaitGroup(msg.waitGroupAt(i), realm);
          default:
            return new Mutex(msg.mutexAt(i), realm);
        }
      },
    });
  }

  /** A goroutine's outcome: its value, or a thrown GoroutineError. Frees the Message. */
  settle(msg, goroutineId) {
    try {
      const bytes = msg.bytes();
      switch (bytes[0]) {
        case TAG_VALUE:
          return this.#decode(msg, bytes, 1);
        case TAG_THROWN: {
          const thrown = this.#decode(msg, bytes, 1);
          const summary = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : `threw ${describe(thrown)}`;
          throw new GoroutineError(goroutineId, summary, thrown, thrown?.stack);
        }
        case TAG_RUNTIME_ERROR:
          throw new GoroutineError(goroutineId, utf8.decode(bytes.subarray(1)));
        case TAG_JSON:
          return JSON.parse(utf8.decode(bytes.subarray(1)));
        case TAG_HEAP_LIMIT:
          throw opFailure(bytes);
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
      const bytes = msg.bytes();
      const failure = opFailure(bytes);
      if (failure) throw failure;
    } finally {
      msg.free();
    }
  }

  /** A receive's result as `{ value, ok }`. */
  received(msg) {
    try {
      const bytes = msg.bytes();
      if (bytes[0] === TAG_CLOSED) return { value: undefined, ok: false };
      const failure = opFailure(bytes);
      if (failure) throw failure;
      return { value: this.#decode(msg, bytes, 1), ok: true };
    } finally {
      msg.free();
    }
  }

  /** A select's result as `{ index, value, ok }`. */
  selected(msg) {
    try {
      const bytes = msg.bytes();
      const failure = opFailure(bytes);
      if (failure) throw failure;
      if (bytes[0] !== TAG_SELECTED) throw new RangeError(`rt.select: unexpected outcome tag ${bytes[0]}`);
      const view = new DataView(bytes.buffer, bytes.byteOffset);
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
 * The API the page's `rt` and a goroutine's `rt` share. Subclasses provide `this.realm` (a
 * Realm) and `check(what)`, which throws when the runtime can no longer be used.
 */
export class RuntimeBase extends EventTarget {
  check() {}

  /** A channel with room for `cap` values (0: unbuffered), Go's `make(chan T, cap)`. */
  chan(cap = 0) {
    this.check('rt.chan');
    if (!Number.isInteger(cap) || cap < 0 || cap > 0xffffffff) {
      throw new RangeError(`rt.chan: capacity must be a non-negative integer, got ${describe(cap)}`);
    }
    return new Chan(new this.realm.glue.ChanRef(cap), this.realm);
  }

  waitGroup() {
    this.check('rt.waitGroup');
    return new WaitGroup(new this.realm.glue.WaitGroupRef(), this.realm);
  }

  mutex() {
    this.check('rt.mutex');
    return new Mutex(new this.realm.glue.MutexRef(), this.realm);
  }

  /** Resolves after `ms` milliseconds, timed by the runtime (a Worker parks with a timeout). */
  async sleep(ms) {
    this.check('rt.sleep');
    this.realm.unit(await this.realm.run(this.realm.glue.Op.sleep(checkMs(ms, 'rt.sleep'))));
  }

  /** A channel that receives the time (ms, like performance.timeOrigin + performance.now()) after `ms`. */
  after(ms) {
    this.check('rt.after');
    const d = checkMs(ms, 'rt.after');
    const ch = this.chan(1);
    this.realm.run(this.realm.glue.Op.after(d, refOf(ch))).then((m) => m.free());
    return ch;
  }

  /** Lets other goroutines run (Go's runtime.Gosched). */
  async gosched() {
    this.check('rt.gosched');
    this.realm.unit(await this.realm.run(this.realm.glue.Op.gosched()));
  }

  /**
   * Go's select: `cases` are `{ recv: ch }` or `{ send: ch, value }` (a null channel is never
   * ready); with `{ default: true }` it never waits. Resolves to `{ index, value, ok }`, index
   * -1 for the default.
   */
  async select(cases, { default: withDefault = false } = {}) {
    this.check('rt.select');
    if (!Array.isArray(cases)) throw new TypeError(`rt.select: expected an array of cases, got ${describe(cases)}`);
    const channel = (c, i, key) => {
      if (c === null || c === undefined) return undefined;
      if (!(c instanceof Chan)) throw new TypeError(`rt.select: case ${i}.${key} must be a channel or null, got ${describe(c)}`);
      return refOf(c);
    };
    const glue = this.realm.glue;
    const builder = new glue.SelectBuilder();
    try {
      cases.forEach((c, i) => {
        if (c === null || typeof c !== 'object') throw new TypeError(`rt.select: case ${i} must be an object`);
        if ('recv' in c) {
          const ref = channel(c.recv, i, 'recv');
          if (ref) builder.recv(ref);
          else builder.recvNil();
        } else if ('send' in c) {
          const ref = channel(c.send, i, 'send');
          const msg = this.realm.message(c.value, `case ${i} value`);
          if (ref) builder.send(ref, msg);
          else builder.sendNil(msg);
        } else throw new TypeError(`rt.select: case ${i} needs a "recv" or a "send" channel`);
      });
      return this.realm.selected(await this.realm.run(glue.Op.select(builder, !!withDefault)));
    } finally {
      builder.free();
    }
  }
}
