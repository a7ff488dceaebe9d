// Types of gort's JavaScript facade.
//
// Errors every call may raise, beside those listed at each:
// - `ShutdownError` once the runtime's `shutdown()` was called: every call on the runtime or on
//   any of its handles throws it (sync calls) or rejects with it (async calls), and operations
//   still pending then reject with it (a join: a `GoroutineError` whose cause is one).
// - `TypeError` for a handle that was `release()`d, or that belongs to another runtime (in a
//   value sent, an argument, or a select case); and for a value that cannot cross goroutines.
// - `RangeError` for a value sent that could never fit under the `heapLimit`, or that wasm
//   memory cannot hold now (all runtimes of a page share one memory of at most 4 GiB − 64 KiB,
//   and a value is held twice while it moves into the heap), naming its size and the limit;
//   and for a goroutine (`go`) or a blocking operation (`send`, `recv`, `join`, …) that memory
//   cannot hold now. Nothing was sent or started then, and the runtime keeps working.
// - `signal.reason` when the `signal` of an operation's options (`SignalOptions`) aborts: the
//   operation was withdrawn (an aborted send delivered nothing).
//
// How the types check what the runtime checks (TypeScript 5.0 or later):
// - What crosses goroutines is checked by structure: `T extends Sendable<T>` (a constraint on
//   `Chan<T>`, `rt.chan<T>`, `go`'s arguments and result), which accepts interfaces and type
//   aliases of plain data and names the part that cannot cross. `Value` is the same set as one
//   type, for values of unknown shape.
// - `Chan<T>` is invariant (`in out`), as Go's channels are; handles have `#private` so that
//   one kind is not taken for another with the same methods, and private constructors (they
//   come from a runtime).
// - `go`'s arguments are checked against the goroutine function's parameters after `rt`, and
//   `join()` gives its (awaited) return type; a `ModuleTask<F>` carries its export's type.
// - `select` takes its cases as a tuple (`const` type parameter) and resolves to a union told
//   apart by `index`, so narrowing on the index types the value.

/**
 * A channel of any element type. `Chan` is invariant, and `any` stands for every type but
 * `never`: a `Chan<never>` (`rt.done`) is no `Chan<any>`.
 */
export type AnyChan = Chan<any> | Chan<never>;

/** The primitives, built-in objects and runtime handles that cross goroutines as they are. */
type SendableLeaf =
  | undefined
  | null
  | void
  | boolean
  | number
  | bigint
  | string
  | Date
  | RegExp
  | Error
  | ArrayBuffer
  | SharedArrayBuffer
  | ArrayBufferView
  | AnyChan
  | WaitGroup
  | Mutex
  | RWMutex
  | Cond
  | Once;

/**
 * Values that can cross goroutines (arguments, results, channel values), as one type: the
 * structured-clone-like data the codec copies (primitives but symbols; arrays and plain objects
 * of values; Map, Set, Date, RegExp, Error, ArrayBuffer, typed arrays and DataView), a
 * SharedArrayBuffer (or a view on one: passed by reference, shared), and the runtime handles.
 * For a value of unknown shape (`Chan<Value>`). An interface is no `Value` (TypeScript gives
 * interfaces no index signature): a generic that takes any sendable `T` says
 * `T extends Sendable<T>`, as the API's own do.
 */
export type Value = SendableLeaf | Value[] | ReadonlyMap<Value, Value> | ReadonlySet<Value> | { [key: string]: Value };

declare const notSendable: unique symbol;

/**
 * What a value that cannot cross goroutines is checked against: no value has this type, so
 * the error names the part that cannot cross (`'a function'`, `'a symbol'`, …).
 */
export interface NotSendable<What extends string> {
  /** What cannot cross goroutines. */
  readonly [notSendable]: What;
}

/** `unknown` (and `any`), which the compiler cannot check: the runtime does, at the call. */
type IsUnknown<Box extends [unknown]> = unknown extends Box[0] ? true : false;

/**
 * The check that `T` can cross goroutines: `T extends Sendable<T>` holds for the types of
 * values the runtime sends (see `Value`), interfaces and type aliases of plain data included,
 * and fails, naming the part, for functions (so class instances and DOM nodes, which have
 * methods), symbols, promises, weak collections, and Maps or Sets of those. `Chan<T>`,
 * `rt.chan<T>`, `rt.go`'s arguments and results and select cases use it. A class instance with
 * no methods passes it but is a TypeError at run time (only plain objects are copied).
 *
 * Every test is on `[T]` (not distributive), which lets `T extends Sendable<T>` constrain `T`
 * itself; a union is checked member by member by the mapped type, which distributes.
 */
export type Sendable<T> = [T] extends [SendableLeaf]
  ? SendableLeaf
  : [T] extends [Value]
    ? Value
    : IsUnknown<[T]> extends true
      ? unknown
      : [Extract<T, (...args: never) => unknown>] extends [never]
        ? [Extract<T, symbol>] extends [never]
          ? SendableObject<T>
          : NotSendable<'a symbol'>
        : NotSendable<'a function'>;

/**
 * `Sendable` for objects and the unions that hold them: each property (each element of an
 * array or tuple) must be sendable. The built-in objects that cross whole (a `SendableLeaf`, in
 * a union with others) keep their members; a Map or Set needs sendable keys and values.
 * Symbol-keyed properties are not sent (only own string keys are) and are not checked.
 */
type SendableObject<T> = {
  [K in keyof T]: K extends symbol
    ? T[K]
    : [T] extends [SendableLeaf]
      ? T[K]
      : [T] extends [ReadonlyMap<infer MK, infer MV>]
        ? [MK, MV] extends [Sendable<MK>, Sendable<MV>]
          ? T[K]
          : NotSendable<'a Map whose keys or values cannot cross goroutines'>
        : [T] extends [ReadonlySet<infer SV>]
          ? [SV] extends [Sendable<SV>]
            ? T[K]
            : NotSendable<'a Set whose elements cannot cross goroutines'>
          : SendableMember<T[K]>;
};

/**
 * `Sendable` for a property or an element: a member that crosses as it is stays itself (not
 * widened to `SendableLeaf` or `Value`, as `Sendable` at the top must be), so that where a
 * check fails, the compiler's message points at the member that cannot cross.
 */
type SendableMember<V> = [V] extends [SendableLeaf] ? V : [V] extends [Value] ? V : Sendable<V>;

/**
 * The options of every operation that may wait: `signal` withdraws it when aborted, and the
 * promise rejects with `signal.reason` (an aborted send never delivers; an aborted lock is not
 * taken).
 */
export interface SignalOptions {
  /** Aborts the wait: the operation is withdrawn and the promise rejects with `signal.reason`. */
  signal?: AbortSignal | undefined;
}

/** The options of `Runtime.start`. */
export interface StartOptions {
  /**
   * Ps (and worker Ms); default `navigator.hardwareConcurrency`. 1 to 64. Always 1 on a page
   * that is not cross-origin isolated (see `requireThreads`).
   */
  procs?: number;
  /**
   * The most Ps `setProcs` may set later: from `procs` to 64 (the default). What the runtime
   * keeps per P is allocated for that many at start (a few KiB each); Workers start only for
   * the Ps in use.
   */
  maxProcs?: number;
  /**
   * URL of a wasm-bindgen glue module built from a crate that includes gort (with threads; on
   * a page that is not cross-origin isolated, one built without them). Default: this
   * package's own build; the page and every Worker import it.
   */
  wasm?: string | URL;
  /**
   * URL of the wasm binary of the build that runs (default: this package's own, as the bundler
   * emitted it: `gort_bg.wasm`, or `gort_st_bg.wasm` on a page that is not cross-origin
   * isolated; with `wasm`, wherever that glue looks). Only the page fetches it. The first
   * start on a page instantiates the module: later starts share it and its memory.
   */
  wasmUrl?: string | URL;
  /**
   * URL of this package's `worker.js` (the same version) hosted elsewhere, for a bundler that
   * does not follow `new Worker(new URL('./worker.js', import.meta.url))`, or a CDN (default:
   * the package's own, as bundled). A cross-origin script is started through a same-origin
   * `blob:` module that imports it: serve it with CORS headers (and `worker-src blob:` if a CSP
   * applies).
   */
  workerUrl?: string | URL;
  /**
   * Reject, rather than start one P on the page's own thread, where threads are unavailable
   * (a page that is not cross-origin isolated has no SharedArrayBuffer). Default false.
   */
  requireThreads?: boolean;
  /** Go's GOGC: collect when the heap grew by this % over the live heap (default 100; < 0 off). */
  gcPercent?: number;
  /**
   * Hard ceiling of the GC heap in bytes (0: none). Values in flight between goroutines live
   * in that heap: a value that can never fit (an argument, `send`, `trySend`, a select send) is
   * a RangeError naming the limit at the call that sent it; a send that cannot fit now, even
   * after a collection, rejects with one; a result that cannot fit rejects its join with one.
   */
  heapLimit?: number;
  /** A Go-format gctrace line per collection on the console. */
  gctrace?: boolean;
  /**
   * Whether `rt.go` and `rt.afterFunc` (on the page and in goroutines) record where they were
   * called, for goroutine dumps' "created by" lines (`GoroutineInfo.createdAt`); default true.
   * Recording costs one stack frame per call: false makes spawning faster.
   */
  callSites?: boolean;
}

/** Go's runtime.MemStats, for gort's collected heap (sizes in bytes). */
export interface GcStats {
  /** Bytes of live and not yet swept objects (Go's HeapAlloc). */
  heapAlloc: number;
  /** Bytes of memory obtained for the heap, in whole chunks (Go's HeapSys). */
  heapSys: number;
  /** Bytes of the pages in spans (Go's HeapInuse). */
  heapInuse: number;
  /** Allocated objects, unreachable ones not swept yet included (Go's HeapObjects). */
  heapObjects: number;
  /** Bytes allocated in total, freed ones included (Go's TotalAlloc). */
  totalAlloc: number;
  /** Objects allocated in total (Go's Mallocs). */
  mallocs: number;
  /** Objects freed in total (Go's Frees). */
  frees: number;
  /** Collections completed (Go's NumGC). */
  numGC: number;
  /** Of those, the forced ones (`rt.gc()`, or an allocation at the heap limit) (Go's NumForcedGC). */
  numForcedGC: number;
  /** Stop-the-world pause time in total, in ns (Go's PauseTotalNs). */
  pauseTotalNs: number;
  /** The last (up to 256) pauses in ns, oldest first: per collection, its stop-the-world time. */
  pauseNs: number[];
  /** When the last collection ended: ms since the Unix epoch (0: never). */
  lastGC: number;
  /** The heap goal: a collection starts when the live heap estimate reaches it (Go's NextGC). */
  nextGC: number;
  /** The fraction of the Ps' time since the runtime started that the collector used (Go's GCCPUFraction). */
  gcCPUFraction: number;
  /** The hard ceiling of the heap (`StartOptions.heapLimit`; 0: none). */
  heapLimit: number;
  /** Go's GOGC (`StartOptions.gcPercent`). */
  gcPercent: number;
  /**
   * Bytes of the live goroutines' own structures (Go's StackInuse: gort's goroutines have no
   * stacks, so this is their G, task and join cell, and a JS goroutine's target, name and
   * arguments). It grows with the number of goroutines; it is not part of the GC heap.
   */
  stackInuse: number;
}

/** The scheduler's counters, since the runtime started. */
export interface SchedStats {
  /** Goroutines started. */
  spawned: number;
  /** Goroutines that finished. */
  completed: number;
  /** Successful steals: an M took goroutines from another P's run queue (summed over Ps). */
  steals: number;
  /** Goroutines other Ms stole (summed over Ps). */
  stolen: number;
  /** Times the Ps' Ms parked. */
  parks: number;
  /** Times they woke from parking. */
  wakeups: number;
  /** Goroutines in the global run queue now. */
  globalQueue: number;
  /** Ps with no work now. */
  idleProcs: number;
  /** Ms spinning (looking for work before they park) now. */
  spinning: number;
  /**
   * Ps retaken from an M that ran JS code (a goroutine's, or its Worker's event loop) for
   * more than about 10 ms, and handed to a spare M (Go's sysmon `retake`).
   */
  retakes: number;
  /** Spare Ms (Workers) started. */
  spareMs: number;
  /** Spare Ms idle now. */
  idleSpareMs: number;
  /** Per P: 1 while its own M runs JS code (a system call, in Go's terms), else 0. */
  inSyscall: number[];
  /** Per P: goroutines in its run queue and LIFO slot. */
  runq: number[];
  /** Per P: goroutine polls run. */
  runs: number[];
  /** Per P: `steals` by its M. */
  stealsByProc: number[];
  /** Per P: goroutines other Ms stole from it. */
  stolenByProc: number[];
  /** Per P: `parks` of its M. */
  parksByProc: number[];
}

/** What `rt.stats()` returns. */
export interface Stats {
  /** Number of Ps. */
  procs: number;
  /** Live goroutines. */
  goroutines: number;
  /** The scheduler's counters. */
  sched: SchedStats;
  /** The collector's counters (Go's MemStats). */
  gc: GcStats;
}

/** One entry of `rt.goroutines()`, a goroutine dump. */
export interface GoroutineInfo {
  /** The goroutine's id (as `Goroutine.id`, `rt.goid()`). */
  id: number;
  /** "runnable", "running" or "waiting" (Go's words). */
  state: 'runnable' | 'running' | 'waiting' | (string & {});
  /**
   * Why a waiting goroutine waits, in Go's words: "chan receive", "chan send", "select",
   * "sleep", "sync.WaitGroup.Wait", "sync.Mutex.Lock", "sync.RWMutex.RLock",
   * "sync.RWMutex.Lock", "sync.Cond.Wait", "JS promise", "goroutine join", … (a goroutine
   * waiting in another's `Once.do` shows "sync.Mutex.Lock", as in Go); "" for one not waiting.
   */
  waitReason: string;
  /** The M (worker) a JS goroutine is bound to; null for a Rust goroutine not bound to one. */
  proc: number | null;
  /**
   * A JS goroutine's name: its task spec's `name`, else its function's name, else (a module
   * task) `module#export`; null if it has none.
   */
  name: string | null;
  /** How long a waiting goroutine has waited, in milliseconds; 0 for one not waiting. */
  waitMs: number;
  /** The goroutine that started it (Go's "created by"); null when the page started it. */
  createdBy: { id: number; name: string | null } | null;
  /** Where it was started (`url:line:column`); null when not recorded (`callSites: false`). */
  createdAt: string | null;
}

/**
 * A goroutine function: it gets the goroutine's `rt` first, then the arguments (`A`, each
 * sendable), and returns (or resolves to) its result `R`, which `join()` gives.
 */
export type GoroutineFn<A extends unknown[] = any[], R = unknown> = (
  rt: WorkerRuntime,
  ...args: A
) => R | PromiseLike<R>;

/** What every task spec may say beside what it runs. */
export interface TaskOptions {
  /** What goroutine dumps (`rt.goroutines()`) call it. */
  name?: string | undefined;
  /**
   * Cancels the goroutine cooperatively: inside it, `rt.signal` aborts (with this signal's
   * reason) and `rt.done` is closed. The goroutine decides when to stop: pass `rt.signal` to
   * its own waits, or select on `rt.done`.
   */
  signal?: AbortSignal | undefined;
}

/** A function target with options: `rt.go({ fn, name, signal }, ...args)`. */
export interface FunctionTask<A extends unknown[] = any[], R = unknown> extends TaskOptions {
  /** The goroutine function, shipped by source (self-contained: no closures). */
  fn: GoroutineFn<A, R>;
  /** Not with `fn`: a task runs a function or a module's export. */
  module?: undefined;
  /** Not with `fn`. */
  export?: undefined;
}

declare const taskFunction: unique symbol;

/**
 * A module task: the Worker that runs the goroutine imports `module` (once per Worker) and
 * calls its export `export` as a goroutine function. Needs no `eval`, so it works under a
 * Content-Security-Policy without 'unsafe-eval'. `F`, the export's type, is for the compiler
 * only (`ModuleTask<typeof import('./tasks.js').fib>`): `go` then checks the arguments against
 * its parameters and types `join()` by its result. Without it (`never`: not known), `join()`
 * gives `unknown`, or the type named as `go<R>(task, ...args)`.
 */
export interface ModuleTask<F extends GoroutineFn<any[], unknown> = never> extends TaskOptions {
  /**
   * The module's URL: a URL, or a string resolved against the page's base URL
   * (`document.baseURI`); inside a goroutine it must be absolute
   * (`new URL('./tasks.js', import.meta.url)`).
   */
  module: URL | string;
  /** The name of the function the module exports. */
  export: string;
  /** Not with `module`: a task runs a function or a module's export. */
  fn?: undefined;
  /** Never present: carries the export's type `F` for the compiler. */
  readonly [taskFunction]?: F;
}

/** What `go` runs besides a bare function. */
export type TaskSpec<A extends unknown[] = any[], R = unknown> = FunctionTask<A, R> | ModuleTask<GoroutineFn<A, R>>;

/** A receive's result (Go's `v, ok := <-ch`): `ok` is false once the channel is closed and drained. */
export type Received<T> = { value: T; ok: true } | { value: undefined; ok: false };

/** A select case that receives from `recv` (null: a nil channel, never ready). */
export interface RecvCase<T extends Sendable<T> = any> {
  /** The channel to receive from. */
  recv: Chan<T> | null;
}

/** A select case that sends `value` on `send` (null: a nil channel, never ready). */
export interface SendCase<T extends Sendable<T> = any> {
  /** The channel to send on. */
  send: Chan<T> | null;
  /** The value to send (a copy), if this case is taken. */
  value: T;
}

/** A case of `rt.select`. */
export type SelectCase = RecvCase | RecvCase<never> | SendCase;

/** The options of `rt.select`. */
export interface SelectOptions extends SignalOptions {
  /** Go's `default:` case: never wait; the result is `{ index: -1 }` if no case is ready. */
  default?: boolean | undefined;
}

/** A tuple's key (`"0"`, `"1"`, …) as its index; an array's (`number`) stays `number`. */
type CaseIndex<K> = K extends `${infer N extends number}` ? N : number;

/**
 * The result of case `C` taken, at index `I`: a receive gives the value and `ok` (false, with
 * `value` undefined, once the channel is closed and drained); a send gives only the index (the
 * runtime's `value` is undefined and `ok` true). A case on a nil channel is never taken.
 */
export type CaseResult<C, I extends number> = C extends { readonly recv: infer Ch }
  ? [NonNullable<Ch>] extends [never]
    ? never
    : [NonNullable<Ch>] extends [Chan<infer T>]
      ? { index: I; ok: true; value: T } | { index: I; ok: false; value: undefined }
      : never
  : C extends { readonly send: infer Ch }
    ? [NonNullable<Ch>] extends [never]
      ? never
      : { index: I; ok: true }
    : never;

/** The result of the default case (`{ default: true }`, no case ready). */
export interface DefaultSelected {
  /** -1: no case was ready. */
  index: -1;
  /** Always true. */
  ok: true;
}

/**
 * What `rt.select(cases, options)` resolves to: one `CaseResult` per case, told apart by
 * `index` (a literal for a tuple of cases, so `if (r.index === 0)` narrows `value` to that
 * channel's type), and `DefaultSelected` when `options.default` may be true.
 */
export type Selected<C extends readonly unknown[], O = {}> =
  | { [K in keyof C]: CaseResult<C[K], CaseIndex<K>> }[number]
  | (O extends { default: true }
      ? DefaultSelected
      : O extends { default: false | undefined }
        ? never
        : O extends { default: boolean }
          ? DefaultSelected
          : never);

/** Each send case's `value` checked against its channel's element type. */
type CheckedCases<C extends readonly unknown[]> = {
  [K in keyof C]: C[K] extends { readonly send: Chan<infer T> | null }
    ? { readonly send: Chan<T> | null; readonly value: T }
    : C[K];
};

/** A started goroutine, whose result is `T`. */
export class Goroutine<T = unknown> {
  /** Made by a runtime (`rt.chan()`, `rt.go()`, …), never with `new`. */
  private constructor();
  /** The goroutine's id, as dumps (`rt.goroutines()`) and errors name it. */
  readonly id: number;
  /**
   * Its return value (awaited, for an async function); rejects with a GoroutineError, a
   * ShutdownError (with the goroutine's id) if the runtime shut down before the result was
   * joined, or a RangeError naming the heap limit if the result did not fit. Without a signal,
   * the same promise every call. An aborted `signal` rejects this call's promise with
   * `signal.reason` and leaves the goroutine running: it can still be joined.
   */
  join(options?: SignalOptions): Promise<T>;
}

/** A goroutine threw, rejected, panicked, or deadlocked, or the Worker it was bound to died. */
export class GoroutineError extends Error {
  /** Made by the runtime: "goroutine `goroutineId` failed: `message`", with the goroutine's `stack`. */
  constructor(goroutineId: number, message: string, cause?: unknown, stack?: string);
  /** Always 'GoroutineError'. */
  readonly name: 'GoroutineError';
  /** The goroutine that failed. */
  readonly goroutineId: number;
  /**
   * The thrown value (an Error keeps its name, message and stack), or a WorkerError if the
   * goroutine's Worker died.
   */
  readonly cause?: unknown;
}

/**
 * The Worker of M `proc` died (it closed itself, crashed, or was terminated): the `cause` of
 * the GoroutineError of every goroutine that was bound to it (JS goroutines run where they
 * started). The runtime raised `error` for it, and a new Worker took over its M.
 */
export class WorkerError extends Error {
  /** Made by the runtime: "the Worker of M `proc` died: `reason`". */
  constructor(proc: number, reason: string);
  /** Always 'WorkerError'. */
  readonly name: 'WorkerError';
  /** The M whose Worker died. */
  readonly proc: number;
}

/** A call on a runtime, or on one of its handles, after the runtime's `shutdown()`. */
export class ShutdownError extends Error {
  /** Made by the runtime: "`what`: the runtime has been shut down". */
  constructor(what: string, goroutineId?: number);
  /** Always 'ShutdownError'. */
  readonly name: 'ShutdownError';
  /** For a join: the goroutine the shutdown cancelled (or whose result it dropped). */
  readonly goroutineId?: number;
}

/** "send on closed channel", "close of closed channel". */
export class ChannelError extends Error {
  /** Made by the runtime, with Go's message. */
  constructor(message: string);
  /** Always 'ChannelError'. */
  readonly name: 'ChannelError';
}

/**
 * Misuse of a sync primitive, in Go's words: "sync: negative WaitGroup counter", "sync: unlock
 * of unlocked mutex", "sync: RUnlock of unlocked RWMutex", "sync: Unlock of unlocked RWMutex".
 */
export class SyncError extends Error {
  /** Made by the runtime, with Go's message. */
  constructor(message: string);
  /** Always 'SyncError'. */
  readonly name: 'SyncError';
}

/**
 * The `detail` of a runtime's `error` event: the Worker of M `proc` died (M `procs` and above
 * are spare Ms, which stand in for a P whose Worker runs JS code for long).
 */
export interface WorkerDeath {
  /** The M whose Worker died. */
  proc: number;
  /** What happened, for people: "the Worker of M 1 died: it crashed: …". */
  message: string;
}

/** The `detail` of a runtime's `deadlock` event. */
export interface DeadlockReport {
  /** Go's report: "fatal error: all goroutines are asleep - deadlock!" and a goroutine dump. */
  message: string;
}

/** The events a `Runtime` fires, by name. */
export interface RuntimeEventMap {
  /** Every goroutine is blocked on runtime objects and the page could wake none. */
  deadlock: CustomEvent<DeadlockReport>;
  /** The Worker of an M died; its goroutines failed and a new Worker took over its M. */
  error: CustomEvent<WorkerDeath>;
}

/** A listener of the runtime's event `K`: a function (`this` is the runtime) or an object. */
export type RuntimeEventListener<K extends keyof RuntimeEventMap> =
  ((this: Runtime, event: RuntimeEventMap[K]) => unknown) | { handleEvent(event: RuntimeEventMap[K]): unknown };

/** The options of `rt.shutdown`. */
export interface ShutdownOptions {
  /**
   * How long to wait for the Workers to stop (ms, default 1000; Infinity: no limit). Workers
   * still busy then (a goroutine that never yields) are terminated and the promise settles.
   */
  timeoutMs?: number;
}

/**
 * A channel of `T` (Go's `chan T`; invariant in `T`, as Go's channels are). Every member
 * throws (or rejects with) a ShutdownError after the runtime's shutdown, and a TypeError
 * after `release()`.
 */
export class Chan<in out T extends Sendable<T> = any> implements AsyncIterable<T> {
  #private;
  /** Made by a runtime (`rt.chan()`, `rt.go()`, …), never with `new`. */
  private constructor();
  /** Capacity (0: unbuffered). */
  readonly cap: number;
  /** Values buffered now. */
  readonly len: number;
  /**
   * Sends `value` (a copy), waiting for room or a receiver.
   * @throws {ChannelError} (rejects) "send on closed channel".
   * @throws {RangeError} (rejects) naming the heap limit when the value does not fit in the GC
   *   heap even after a collection.
   * @throws {TypeError} (rejects) for a value that cannot cross goroutines, or holds a handle
   *   of another runtime or a released one.
   * @throws {ShutdownError} (rejects) after the runtime's shutdown, also while it waits.
   * @throws (rejects) `options.signal.reason` once the signal aborts: the value was not sent.
   */
  send(value: T, options?: SignalOptions): Promise<void>;
  /**
   * The next value; undefined once the channel is closed and drained (see `recvOk`).
   * @throws {ShutdownError} (rejects) after the runtime's shutdown, also while it waits.
   * @throws (rejects) `options.signal.reason` once the signal aborts: nothing was received.
   */
  recv(options?: SignalOptions): Promise<T | undefined>;
  /**
   * The next value and whether there was one (Go's `v, ok := <-ch`): `{ value, ok: true }`, or
   * `{ value: undefined, ok: false }` once the channel is closed and drained.
   * @throws {ShutdownError} (rejects) after the runtime's shutdown, also while it waits.
   * @throws (rejects) `options.signal.reason` once the signal aborts: nothing was received.
   */
  recvOk(options?: SignalOptions): Promise<Received<T>>;
  /**
   * Closes the channel: receivers drain what is buffered, then get `ok: false`.
   * @throws {ChannelError} "close of closed channel".
   */
  close(): void;
  /**
   * Sends without waiting: true if sent, false if it would block.
   * @throws {ChannelError} "send on closed channel".
   * @throws {RangeError} naming the heap limit when the value could never fit under it, or
   *   the size and memory's maximum when memory cannot hold it.
   * @throws {TypeError} for a value that cannot cross goroutines, or holds a handle of another
   *   runtime or a released one.
   */
  trySend(value: T): boolean;
  /**
   * Receives without waiting: as `recvOk`, or undefined if it would block. A value naming a
   * SharedArrayBuffer that has not reached this thread yet stays in the channel (undefined):
   * a receive that can wait gets it.
   */
  tryRecv(): Received<T> | undefined;
  /** The values until the channel is closed and drained (`for await (const v of ch)`). */
  [Symbol.asyncIterator](): AsyncIterator<T>;
  /**
   * Drops this handle now rather than when it is garbage collected; using it afterwards is a
   * TypeError. Never throws (again, or after shutdown, it does nothing).
   */
  release(): void;
}

/** Go's sync.WaitGroup (after shutdown: ShutdownError; after `release()`: TypeError). */
export class WaitGroup {
  #private;
  /** Made by a runtime (`rt.chan()`, `rt.go()`, …), never with `new`. */
  private constructor();
  /**
   * Adds `delta` (default 1) to the counter.
   * @throws {SyncError} "sync: negative WaitGroup counter" (or a `delta` that is not an
   *   integer); nothing changes.
   * @throws {RangeError} when `delta` or the counter would pass Go's int32 counter (2^31 - 1);
   *   nothing changes.
   * @throws {TypeError} when `delta` is not a number.
   */
  add(delta?: number): void;
  /**
   * Subtracts one from the counter (`add(-1)`).
   * @throws {SyncError} "sync: negative WaitGroup counter".
   */
  done(): void;
  /**
   * Resolves once the counter is zero.
   * @throws {ShutdownError} (rejects) after the runtime's shutdown, also while it waits.
   * @throws (rejects) `options.signal.reason` once the signal aborts.
   */
  wait(options?: SignalOptions): Promise<void>;
  /** See `Chan.release`. */
  release(): void;
}

/** Go's sync.Mutex; any goroutine may unlock it, as in Go (after shutdown: ShutdownError; after `release()`: TypeError). */
export class Mutex {
  #private;
  /** Made by a runtime (`rt.chan()`, `rt.go()`, …), never with `new`. */
  private constructor();
  /**
   * Resolves once this caller holds the lock.
   * @throws {ShutdownError} (rejects) after the runtime's shutdown, also while it waits.
   * @throws (rejects) `options.signal.reason` once the signal aborts: the lock was not taken.
   */
  lock(options?: SignalOptions): Promise<void>;
  /** Takes the lock if it is free now; whether it did. */
  tryLock(): boolean;
  /** @throws {SyncError} "sync: unlock of unlocked mutex". */
  unlock(): void;
  /** See `Chan.release`. */
  release(): void;
}

/**
 * Go's sync.RWMutex: any number of readers, or one writer. A waiting writer holds back new
 * readers; readers that waited through a write go before the next writer. Any goroutine may
 * unlock, as in Go. After shutdown: ShutdownError; after `release()`: TypeError.
 */
export class RWMutex {
  #private;
  /** Made by a runtime (`rt.chan()`, `rt.go()`, …), never with `new`. */
  private constructor();
  /**
   * Resolves once this caller holds a read lock.
   * @throws {ShutdownError} (rejects) after the runtime's shutdown, also while it waits.
   * @throws (rejects) `options.signal.reason` once the signal aborts: the lock was not taken.
   */
  rLock(options?: SignalOptions): Promise<void>;
  /** @throws {SyncError} "sync: RUnlock of unlocked RWMutex" (nothing changes). */
  rUnlock(): void;
  /**
   * Resolves once this caller holds the write lock.
   * @throws {ShutdownError} (rejects) after the runtime's shutdown, also while it waits.
   * @throws (rejects) `options.signal.reason` once the signal aborts: the lock was not taken.
   */
  lock(options?: SignalOptions): Promise<void>;
  /** @throws {SyncError} "sync: Unlock of unlocked RWMutex" (nothing changes). */
  unlock(): void;
  /** Takes the write lock if it is free now. */
  tryLock(): boolean;
  /** Takes a read lock if no writer holds or waits for the lock now. */
  tryRLock(): boolean;
  /** See `Chan.release`. */
  release(): void;
}

/**
 * Go's sync.Cond (`rt.cond(mutex)`, Go's sync.NewCond): it travels with its mutex, `L`. After
 * shutdown: ShutdownError; after `release()`: TypeError.
 */
export class Cond {
  #private;
  /** Made by a runtime (`rt.chan()`, `rt.go()`, …), never with `new`. */
  private constructor();
  /** The mutex `wait` unlocks while it waits (a Cond received in a goroutine has its own handle to it). */
  readonly L: Mutex;
  /**
   * Unlocks `L`, waits for `signal` or `broadcast`, and locks `L` again before it resolves.
   * @throws {SyncError} (rejects) "sync: unlock of unlocked mutex" when `L` is not locked
   *   (nothing waited for).
   * @throws {ShutdownError} (rejects) after the runtime's shutdown, also while it waits.
   * @throws (rejects) `options.signal.reason` once the signal aborts.
   */
  wait(options?: SignalOptions): Promise<void>;
  /** Wakes the goroutine that has waited longest, if any. */
  signal(): void;
  /** Wakes every waiting goroutine. */
  broadcast(): void;
  /** See `Chan.release` (`L` is a handle of its own). */
  release(): void;
}

/** Go's sync.Once, shared by every goroutine holding it. After shutdown: ShutdownError; after `release()`: TypeError. */
export class Once {
  #private;
  /** Made by a runtime (`rt.chan()`, `rt.go()`, …), never with `new`. */
  private constructor();
  /**
   * Calls `fn()` (awaited, in the caller's realm) if no call on this Once has: every other
   * caller, on any goroutine, waits until it returned and runs nothing. A `fn` that throws
   * counts as returned (Go's panic): that caller's `do` rejects with what it threw.
   * `signal` stops a caller waiting for another's call (it rejects with the signal's reason);
   * once its own `fn` runs, the call is not withdrawn.
   * @throws {TypeError} (rejects) when `fn` is not a function.
   * @throws {ShutdownError} (rejects) after the runtime's shutdown, also while it waits.
   */
  do(fn: () => unknown, options?: SignalOptions): Promise<void>;
  /** See `Chan.release`. */
  release(): void;
}

/**
 * Go's *time.Timer: `rt.timer`'s channel `c` receives the time (ms, like performance.timeOrigin
 * + performance.now()) once; an `rt.afterFunc` timer's `c` is null (Go's nil C). Not a handle:
 * it cannot be sent to a goroutine (its channel can). Dropping it does not stop it. After
 * shutdown: ShutdownError.
 */
export class Timer<C extends Chan<number> | null = Chan<number>> {
  #private;
  /** Made by a runtime (`rt.chan()`, `rt.go()`, …), never with `new`. */
  private constructor();
  /** The channel the time is sent on; null for an afterFunc timer. */
  readonly c: C;
  /**
   * Stops the timer: whether it was active (armed, or fired with its time not received yet:
   * Go 1.23). Afterwards `c` yields no time from before the call, and an afterFunc that had not
   * started its goroutine does not.
   */
  stop(): boolean;
  /**
   * Stops the timer and arms it for `ms` from now (zero or negative: at once): whether it was
   * active, as `stop` says.
   * @throws {RangeError} for NaN.
   * @throws {TypeError} for a non-number.
   */
  reset(ms: number): boolean;
}

/**
 * Go's *time.Ticker: `c` receives the time every period (a slow receiver misses ticks rather
 * than getting them bunched). Not a handle: it cannot be sent (its channel can). One whose
 * channel nothing holds stops ticking. After shutdown: ShutdownError.
 */
export class Ticker {
  #private;
  /** Made by a runtime (`rt.chan()`, `rt.go()`, …), never with `new`. */
  private constructor();
  /** The channel the ticks are sent on (ms, like performance.timeOrigin + performance.now()). */
  readonly c: Chan<number>;
  /** Stops the ticks; `c` stays open and yields no tick sent before the call. */
  stop(): void;
  /**
   * Stops the ticker and restarts it with period `ms`.
   * @throws {RangeError} for `ms` ≤ 0 or NaN (Go panics "non-positive interval").
   * @throws {TypeError} for a non-number.
   */
  reset(ms: number): void;
}

/** What the page's `rt` and a goroutine's `rt` have in common. */
export interface GoroutineApi {
  /**
   * Go's runtime.GOMAXPROCS(n): runs goroutines on `n` Ps from now on, with the world stopped
   * for the change, and resolves to the previous count (`procs` then reads `n`). On the page it
   * resolves once the Workers of added Ps run; Ps removed keep their Workers, idle, for later.
   * @throws {TypeError} (rejects) for `n` not a number.
   * @throws {RangeError} (rejects) for `n` not an integer from 1 to `maxProcs` (1 on a page
   *   that is not cross-origin isolated).
   * @throws {ShutdownError} (rejects) after the runtime's shutdown.
   */
  setProcs(n: number): Promise<number>;
  /**
   * A channel with room for `cap` values (default 0: unbuffered), Go's `make(chan T, cap)`.
   * @throws {RangeError} unless `cap` is an integer from 0 to 2^32 - 1.
   */
  chan<T extends Sendable<T> = any>(cap?: number): Chan<T>;
  /** Go's sync.WaitGroup. */
  waitGroup(): WaitGroup;
  /** Go's sync.Mutex. */
  mutex(): Mutex;
  /** Go's sync.RWMutex. */
  rwMutex(): RWMutex;
  /**
   * Go's sync.NewCond(mutex).
   * @throws {TypeError} for anything but a Mutex of this runtime that was not released.
   */
  cond(mutex: Mutex): Cond;
  /** Go's sync.Once. */
  once(): Once;
  /**
   * Go's time.NewTimer: `c` receives the time once `ms` have passed (zero or negative: at once).
   * @throws {RangeError} for NaN.
   * @throws {TypeError} for a non-number.
   */
  timer(ms: number): Timer;
  /**
   * Go's time.AfterFunc: after `ms`, starts `target` with `args` as `go(target, ...args)` does
   * (the arguments are copied now, and again for each firing). Its goroutine cannot be joined:
   * its result is dropped, and what it throws is reported as an uncaught error where it ran,
   * as a throwing timer callback is. The timer's `c` is null.
   * @throws {TypeError} for a bad target or an argument that cannot cross goroutines, as `go`.
   * @throws {RangeError} for NaN, or an argument that could never fit, as `go`.
   */
  afterFunc<A extends unknown[] & Sendable<A> = any[]>(
    ms: number,
    target: GoroutineFn<A, unknown> | TaskSpec<A, unknown>,
    ...args: A
  ): Timer<null>;
  /**
   * Go's time.NewTicker: `c` receives the time every `ms`.
   * @throws {RangeError} for `ms` ≤ 0 or NaN (Go panics "non-positive interval").
   * @throws {TypeError} for a non-number.
   */
  ticker(ms: number): Ticker;
  /**
   * As Go's time.Sleep: zero or a negative `ms` returns at once.
   * @throws {RangeError} (rejects) for NaN.
   * @throws {TypeError} (rejects) for a non-number.
   * @throws {ShutdownError} (rejects) after the runtime's shutdown, also while it sleeps.
   * @throws (rejects) `options.signal.reason` once the signal aborts.
   */
  sleep(ms: number, options?: SignalOptions): Promise<void>;
  /**
   * A channel that receives the time (ms, like performance.timeOrigin + performance.now());
   * as Go's time.After, at once for zero or a negative `ms`.
   * @throws {RangeError} for NaN.
   * @throws {TypeError} for a non-number.
   */
  after(ms: number): Chan<number>;
  /** Lets other goroutines run (Go's runtime.Gosched). */
  gosched(): Promise<void>;
  /**
   * Go's select: waits until one of `cases` can proceed, and takes it (a random one among those
   * ready); with `{ default: true }` it never waits. Resolves to the case taken, told apart by
   * `index` (see `Selected`): `{ index, ok, value }` for a receive, `{ index, ok: true }` for a
   * send, `{ index: -1, ok: true }` for the default. Each send case's `value` must fit its
   * channel's type.
   * @throws {TypeError} (rejects) for a case whose channel belongs to another runtime or was
   *   released, or whose value cannot cross goroutines.
   * @throws {RangeError} (rejects) naming the heap limit when a value sent does not fit.
   * @throws {ChannelError} (rejects) "send on closed channel" when a send case's channel is
   *   closed.
   * @throws {ShutdownError} (rejects) after the runtime's shutdown, also while it waits.
   * @throws (rejects) `options.signal.reason` once the signal aborts: no case was taken.
   */
  select<const C extends readonly SelectCase[] & CheckedCases<C>, const O extends SelectOptions = {}>(
    cases: C,
    options?: O,
  ): Promise<Selected<C, O>>;
}

/** The `rt` a goroutine function receives on its worker. */
export interface WorkerRuntime extends GoroutineApi {
  /**
   * As the page's `go`, but a module task's `module` must be an absolute URL here.
   * @throws {TypeError} for a malformed task spec (naming what is wrong), or an argument that
   *   cannot cross goroutines, or holds a handle of another runtime or a released one (the
   *   message names the argument).
   * @throws {EvalError} for a function target where the Worker's Content-Security-Policy
   *   forbids compiling it (no 'unsafe-eval'): use a module task.
   * @throws {RangeError} for an argument that could never fit under the heap limit or that
   *   memory cannot hold, or when memory cannot hold the goroutine itself.
   */
  go<R extends Sendable<R> = unknown, A extends unknown[] & Sendable<A> = any[]>(
    target: GoroutineFn<A, R> | TaskSpec<A, R>,
    ...args: A
  ): Goroutine<R>;
  /** This goroutine's id. */
  goid(): number;
  /** The M (worker) this goroutine runs on. */
  procid(): number;
  /**
   * Aborts when the goroutine's task spec `signal` aborts, with its reason (Go's
   * `ctx.Done()` as a signal). Pass it on (`ch.recv({ signal: rt.signal })`) to stop waiting
   * when the goroutine is cancelled.
   */
  readonly signal: AbortSignal;
  /**
   * Closed when `signal` aborts (Go's `ctx.Done()`): a receive case on it in a select ends the
   * wait (`{ recv: rt.done }`). Nothing is ever sent on it. null for a goroutine started
   * without a signal: a nil channel, never ready (Go's `context.Background().Done()`).
   */
  readonly done: Chan<never> | null;
}

/**
 * A running runtime, held by the page. An EventTarget that fires `deadlock`
 * (`CustomEvent<DeadlockReport>`) and `error` (`CustomEvent<WorkerDeath>`: a Worker M died and
 * was replaced); see `RuntimeEventMap`.
 */
export class Runtime extends EventTarget {
  /** Made by `Runtime.start`, never with `new`. */
  private constructor();
  /**
   * Starts a runtime: `procs` Ps, each run by a module Worker (one P on the page's own thread
   * where threads are unavailable). Relative URLs in the options are resolved against the
   * page's base URL.
   * @throws {RangeError} (rejects) for `procs` not an integer from 1 to 64, a `gcPercent` not
   *   an integer, or a `heapLimit` not a byte count.
   * @throws {Error} (rejects) on a page that is not cross-origin isolated with
   *   `requireThreads`, or while another runtime without threads runs on the page.
   * @throws {TypeError} (rejects) for a `wasm`, `wasmUrl` or `workerUrl` that is not a URL or
   *   a string, or not a valid URL.
   */
  static start(options?: StartOptions): Promise<Runtime>;
  /** Number of Ps (Go's GOMAXPROCS); still readable after shutdown. */
  readonly procs: number;
  /**
   * Whether goroutines run in parallel on Worker Ms; false on a page that is not cross-origin
   * isolated, where one P runs on the page's own thread (one such runtime at a time), with the
   * same API.
   */
  readonly threaded: boolean;
  /** The most Ps `setProcs` may set (`maxProcs` of `start`; 1 without threads). */
  readonly maxProcs: number;
  /**
   * Runs `fn(rt, ...args)` on a worker M; `fn` is shipped by source (no closures), the
   * arguments are copied (each must be sendable: see `Sendable`). A `FunctionTask` names it
   * and may give it a `signal`; a `ModuleTask` runs a module's export instead (no `eval`). A
   * module task that cannot start (its module fails to import, or lacks the export, or the
   * export is no function) rejects its join with a GoroutineError naming the module and the
   * export (the cause: the import's error).
   * @throws {TypeError} for a malformed task spec (naming what is wrong), or an argument that
   *   cannot cross goroutines, or holds a handle of another runtime or a released one (the
   *   message names the argument).
   * @throws {EvalError} for a function target where the page's Content-Security-Policy
   *   forbids compiling it (no 'unsafe-eval'): use a module task. (Where only the Workers
   *   forbid it, the join rejects with a GoroutineError whose cause is that EvalError.)
   * @throws {RangeError} for an argument that could never fit under the heap limit or that
   *   memory cannot hold, or when memory cannot hold the goroutine itself.
   * @throws {ShutdownError} after `shutdown()`.
   */
  go<R extends Sendable<R> = unknown, A extends unknown[] & Sendable<A> = any[]>(
    target: GoroutineFn<A, R> | TaskSpec<A, R>,
    ...args: A
  ): Goroutine<R>;
  /**
   * Starts a Rust goroutine through an export of a custom wasm module (see `StartOptions.wasm`):
   * calls the export `exportName(core, args)`, where `args` is one Message holding `args`,
   * copied as `rt.go` copies arguments (handles are shared: a `Chan` arrives in Rust as a
   * `gort::JsChan`). `join()` resolves to the goroutine's value, a JS value like any
   * goroutine's; it rejects with a GoroutineError if the goroutine panicked or returned an
   * `Err`.
   * @throws {TypeError} when the module has no such export, it does not return the JoinRef of
   *   the goroutine it started, an argument cannot be sent, or the export cannot read one (the
   *   message names the argument).
   * @throws {RangeError} when wasm memory cannot hold the arguments.
   * @throws {ShutdownError} after `shutdown()`.
   */
  goRust<R = unknown, A extends unknown[] & Sendable<A> = any[]>(exportName: string, ...args: A): Goroutine<R>;
  /** Counters: the scheduler's and the collector's (Go's MemStats names). */
  stats(): Stats;
  /** Go's `GODEBUG=schedtrace` line for this moment: `SCHED 12ms: gomaxprocs=2 idleprocs=1 …`. */
  schedtrace(): string;
  /** A full garbage collection (Go's runtime.GC()). */
  gc(): Promise<void>;
  /** A goroutine dump: every live goroutine (but the one that gathers it). */
  goroutines(): Promise<GoroutineInfo[]>;
  /**
   * Stops the runtime. Afterwards every call on it or its handles is a ShutdownError; pending
   * operations and unfinished joins reject with one. Workers that have not stopped after
   * `timeoutMs` are terminated, so it settles within about `timeoutMs`. Calling it again
   * returns the same promise.
   * @throws {TypeError} for a `timeoutMs` that is not a number.
   * @throws {RangeError} for a negative or NaN `timeoutMs`.
   */
  shutdown(options?: ShutdownOptions): Promise<void>;
  /** Listens for `deadlock` or `error` (see `RuntimeEventMap`); other names are compile errors. */
  addEventListener<K extends keyof RuntimeEventMap>(
    type: K,
    listener: RuntimeEventListener<K> | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  /** Removes a listener added with `addEventListener`. */
  removeEventListener<K extends keyof RuntimeEventMap>(
    type: K,
    listener: RuntimeEventListener<K> | null,
    options?: boolean | EventListenerOptions,
  ): void;
}

/** The page's `rt` also has everything a goroutine's `rt` has. */
export interface Runtime extends GoroutineApi {}

// Only what is marked `export` above is the package's: the helper types stay internal.
export {};
