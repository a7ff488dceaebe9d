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

/** Values that can cross goroutines: structured-clone-like data plus runtime handles. */
export type Value =
  | undefined
  | null
  | boolean
  | number
  | bigint
  | string
  | Date
  | RegExp
  | Error
  | ArrayBuffer
  | ArrayBufferView
  | Chan<any>
  | WaitGroup
  | Mutex
  | RWMutex
  | Cond
  | Once
  | Value[]
  | Map<Value, Value>
  | Set<Value>
  | { [key: string]: Value };

export interface StartOptions {
  /**
   * Ps (and worker Ms); default `navigator.hardwareConcurrency`. 1 to 64. Always 1 on a page
   * that is not cross-origin isolated (see `requireThreads`).
   */
  procs?: number;
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
}

/** Go's runtime.MemStats, for gort's collected heap. */
export interface GcStats {
  heapAlloc: number;
  heapSys: number;
  heapInuse: number;
  heapObjects: number;
  totalAlloc: number;
  mallocs: number;
  frees: number;
  numGC: number;
  numForcedGC: number;
  pauseTotalNs: number;
  /** The last (up to 256) pauses, oldest first. */
  pauseNs: number[];
  /** ms since the Unix epoch (0: never). */
  lastGC: number;
  nextGC: number;
  gcCPUFraction: number;
  heapLimit: number;
  gcPercent: number;
  /**
   * Bytes of the live goroutines' own structures (Go's StackInuse: gort's goroutines have no
   * stacks, so this is their G, task and join cell, and a JS goroutine's target, name and
   * arguments). It grows with the number of goroutines; it is not part of the GC heap.
   */
  stackInuse: number;
}

export interface SchedStats {
  spawned: number;
  completed: number;
  steals: number;
  stolen: number;
  parks: number;
  wakeups: number;
  globalQueue: number;
  idleProcs: number;
  spinning: number;
  /**
   * Ps retaken from an M that ran JS code (a goroutine's, or its Worker's event loop) for
   * more than about 10 ms, and handed to a spare M (Go's sysmon `retake`).
   */
  retakes: number;
  /** Spare Ms (Workers) started, and those idle now. */
  spareMs: number;
  idleSpareMs: number;
  /** Per P: 1 while its own M runs JS code (a system call, in Go's terms), else 0. */
  inSyscall: number[];
  /** Per P: goroutines in its run queue and LIFO slot. */
  runq: number[];
  runs: number[];
  stealsByProc: number[];
  stolenByProc: number[];
  parksByProc: number[];
}

export interface Stats {
  procs: number;
  /** Live goroutines. */
  goroutines: number;
  sched: SchedStats;
  gc: GcStats;
}

export interface GoroutineInfo {
  id: number;
  /** "runnable", "running" or "waiting". */
  state: string;
  /**
   * Go's words: "chan receive", "chan send", "select", "sleep", "sync.Mutex.Lock",
   * "sync.RWMutex.RLock", "sync.RWMutex.Lock", "sync.Cond.Wait", … (a goroutine waiting in
   * another's `Once.do` shows "sync.Mutex.Lock", as in Go).
   */
  waitReason: string;
  /** The worker a JS goroutine is bound to. */
  proc: number | null;
  /**
   * A JS goroutine's name: its task spec's `name`, else its function's name, else (a module
   * task) `module#export`; null if it has none.
   */
  name: string | null;
}

/** A goroutine function: it gets the goroutine's `rt` first, then the arguments. */
export type GoroutineFn<A extends Value[] = any[], R = any> = (rt: WorkerRuntime, ...args: A) => R | Promise<R>;

/**
 * A module task: the Worker that runs the goroutine imports `module` (once per Worker) and
 * calls its export `export` as a goroutine function. Needs no `eval`, so it works under a
 * Content-Security-Policy without 'unsafe-eval'.
 */
export interface ModuleTask {
  /**
   * The module's URL: a URL, or a string resolved against the page's base URL
   * (`document.baseURI`); inside a goroutine it must be absolute
   * (`new URL('./tasks.js', import.meta.url)`).
   */
  module: URL | string;
  /** The name of the function the module exports. */
  export: string;
  /** What goroutine dumps call it (default: `module#export`). */
  name?: string;
  fn?: undefined;
}

/** A function target with a name for goroutine dumps (default: the function's name). */
export interface FunctionTask<F extends GoroutineFn = GoroutineFn> {
  fn: F;
  name?: string;
  module?: undefined;
  export?: undefined;
}

/** What `go` runs besides a bare function. */
export type TaskSpec<F extends GoroutineFn = GoroutineFn> = ModuleTask | FunctionTask<F>;

export interface Received<T> {
  value: T | undefined;
  /** false once the channel is closed and drained. */
  ok: boolean;
}

export type SelectCase = { recv: Chan<any> | null } | { send: Chan<any> | null; value: Value };

export interface Selected {
  /** The case taken, or -1 for the default. */
  index: number;
  value: any;
  ok: boolean;
}

/** A started goroutine. */
export class Goroutine<T = any> {
  readonly id: number;
  /**
   * Its return value; rejects with a GoroutineError, a ShutdownError (with the goroutine's id)
   * if the runtime shut down before the result was joined, or a RangeError naming the heap
   * limit if the result did not fit. The same promise every call.
   */
  join(): Promise<T>;
}

/** A goroutine threw, rejected, panicked, or deadlocked, or the Worker it was bound to died. */
export class GoroutineError extends Error {
  readonly name: 'GoroutineError';
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
  readonly name: 'WorkerError';
  readonly proc: number;
}

/**
 * The `detail` of a runtime's `error` event: the Worker of M `proc` died (M `procs` and above
 * are spare Ms, which stand in for a P whose Worker runs JS code for long).
 */
export interface WorkerDeath {
  proc: number;
  message: string;
}

export interface ShutdownOptions {
  /**
   * How long to wait for the Workers to stop (ms, default 1000; Infinity: no limit). Workers
   * still busy then (a goroutine that never yields) are terminated and the promise settles.
   */
  timeoutMs?: number;
}

export interface RuntimeEventMap {
  /** Every goroutine is blocked on runtime objects and the page could wake none. */
  deadlock: CustomEvent<{ message: string }>;
  /** The Worker of an M died; its goroutines failed and a new Worker took over its M. */
  error: CustomEvent<WorkerDeath>;
}

/** A call on a runtime, or on one of its handles, after the runtime's `shutdown()`. */
export class ShutdownError extends Error {
  readonly name: 'ShutdownError';
  /** For a join: the goroutine the shutdown cancelled (or whose result it dropped). */
  readonly goroutineId?: number;
}

/** "send on closed channel", "close of closed channel". */
export class ChannelError extends Error {
  readonly name: 'ChannelError';
}

/**
 * Misuse of a sync primitive, in Go's words: "sync: negative WaitGroup counter", "sync: unlock
 * of unlocked mutex", "sync: RUnlock of unlocked RWMutex", "sync: Unlock of unlocked RWMutex".
 */
export class SyncError extends Error {
  readonly name: 'SyncError';
}

/**
 * A channel. Every member throws (or rejects with) a ShutdownError after the runtime's
 * shutdown, and a TypeError after `release()`.
 */
export class Chan<T extends Value = any> implements AsyncIterable<T> {
  readonly cap: number;
  readonly len: number;
  /**
   * @throws {ChannelError} (rejects) "send on closed channel".
   * @throws {RangeError} (rejects) naming the heap limit when the value does not fit in the GC
   *   heap even after a collection.
   * @throws {TypeError} (rejects) for a value that cannot cross goroutines, or holds a handle
   *   of another runtime or a released one.
   * @throws {ShutdownError} (rejects) after the runtime's shutdown, also while it waits.
   */
  send(value: T): Promise<void>;
  /** @throws {ShutdownError} (rejects) after the runtime's shutdown, also while it waits. */
  recv(): Promise<T | undefined>;
  /** @throws {ShutdownError} (rejects) after the runtime's shutdown, also while it waits. */
  recvOk(): Promise<Received<T>>;
  /** @throws {ChannelError} "close of closed channel". */
  close(): void;
  /**
   * @throws {ChannelError} "send on closed channel".
   * @throws {RangeError} naming the heap limit when the value could never fit under it, or
   *   the size and memory's maximum when memory cannot hold it.
   * @throws {TypeError} for a value that cannot cross goroutines, or holds a handle of another
   *   runtime or a released one.
   */
  trySend(value: T): boolean;
  tryRecv(): Received<T> | undefined;
  [Symbol.asyncIterator](): AsyncIterator<T>;
  /**
   * Drops this handle now rather than when it is garbage collected; using it afterwards is a
   * TypeError. Never throws (again, or after shutdown, it does nothing).
   */
  release(): void;
}

/** Go's sync.WaitGroup (after shutdown: ShutdownError; after `release()`: TypeError). */
export class WaitGroup {
  /**
   * @throws {SyncError} "sync: negative WaitGroup counter" (or a `delta` that is not an
   *   integer); nothing changes.
   * @throws {RangeError} when `delta` or the counter would pass Go's int32 counter (2^31 - 1);
   *   nothing changes.
   * @throws {TypeError} when `delta` is not a number.
   */
  add(delta?: number): void;
  /** @throws {SyncError} "sync: negative WaitGroup counter". */
  done(): void;
  /** @throws {ShutdownError} (rejects) after the runtime's shutdown, also while it waits. */
  wait(): Promise<void>;
  /** See `Chan.release`. */
  release(): void;
}

/** Go's sync.Mutex (after shutdown: ShutdownError; after `release()`: TypeError). */
export class Mutex {
  #private;
  /** @throws {ShutdownError} (rejects) after the runtime's shutdown, also while it waits. */
  lock(): Promise<void>;
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
  /** @throws {ShutdownError} (rejects) after the runtime's shutdown, also while it waits. */
  rLock(): Promise<void>;
  /** @throws {SyncError} "sync: RUnlock of unlocked RWMutex" (nothing changes). */
  rUnlock(): void;
  /** @throws {ShutdownError} (rejects) after the runtime's shutdown, also while it waits. */
  lock(): Promise<void>;
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
  /** The mutex `wait` unlocks while it waits (a Cond received in a goroutine has its own handle to it). */
  readonly L: Mutex;
  /**
   * Unlocks `L`, waits for `signal` or `broadcast`, and locks `L` again before it resolves.
   * @throws {SyncError} (rejects) "sync: unlock of unlocked mutex" when `L` is not locked
   *   (nothing waited for).
   * @throws {ShutdownError} (rejects) after the runtime's shutdown, also while it waits.
   */
  wait(): Promise<void>;
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
  /**
   * Calls `fn()` (awaited, in the caller's realm) if no call on this Once has: every other
   * caller, on any goroutine, waits until it returned and runs nothing. A `fn` that throws
   * counts as returned (Go's panic): that caller's `do` rejects with what it threw.
   * @throws {TypeError} (rejects) when `fn` is not a function.
   * @throws {ShutdownError} (rejects) after the runtime's shutdown, also while it waits.
   */
  do(fn: () => unknown): Promise<void>;
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
export interface GoroutineApi extends EventTarget {
  /** @throws {RangeError} unless `cap` is an integer from 0 to 2^32 - 1. */
  chan<T extends Value = any>(cap?: number): Chan<T>;
  waitGroup(): WaitGroup;
  mutex(): Mutex;
  rwMutex(): RWMutex;
  /**
   * Go's sync.NewCond(mutex).
   * @throws {TypeError} for anything but a Mutex of this runtime that was not released.
   */
  cond(mutex: Mutex): Cond;
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
  afterFunc<A extends Value[]>(
    ms: number,
    target: GoroutineFn<A, unknown> | FunctionTask<GoroutineFn<A, unknown>>,
    ...args: A
  ): Timer<null>;
  afterFunc(ms: number, task: ModuleTask, ...args: Value[]): Timer<null>;
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
   */
  sleep(ms: number): Promise<void>;
  /**
   * A channel that receives the time (ms, like performance.timeOrigin + performance.now());
   * as Go's time.After, at once for zero or a negative `ms`.
   * @throws {RangeError} for NaN.
   * @throws {TypeError} for a non-number.
   */
  after(ms: number): Chan<number>;
  gosched(): Promise<void>;
  /**
   * @throws {TypeError} (rejects) for a case whose channel belongs to another runtime or was
   *   released, or whose value cannot cross goroutines.
   * @throws {RangeError} (rejects) naming the heap limit when a value sent does not fit.
   * @throws {ShutdownError} (rejects) after the runtime's shutdown, also while it waits.
   */
  select(cases: SelectCase[], options?: { default?: boolean }): Promise<Selected>;
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
  go<A extends Value[], R>(target: GoroutineFn<A, R> | FunctionTask<GoroutineFn<A, R>>, ...args: A): Goroutine<R>;
  go<R = any>(task: ModuleTask, ...args: Value[]): Goroutine<R>;
  goid(): number;
  procid(): number;
}

/**
 * A running runtime, held by the page. Fires `deadlock` (CustomEvent<{ message: string }>)
 * and `error` (CustomEvent<WorkerDeath>: a Worker M died and was replaced).
 */
export class Runtime extends EventTarget {
  /**
   * Relative URLs in the options are resolved against the page's base URL.
   * @throws {RangeError} (rejects) for `procs` not an integer from 1 to 64, a `gcPercent` not
   *   an integer, or a `heapLimit` not a byte count.
   * @throws {Error} (rejects) on a page that is not cross-origin isolated with
   *   `requireThreads`, or while another runtime without threads runs on the page.
   * @throws {TypeError} (rejects) for a `wasm`, `wasmUrl` or `workerUrl` that is not a URL or
   *   a string, or not a valid URL.
   */
  static start(options?: StartOptions): Promise<Runtime>;
  /** Number of Ps; still readable after shutdown. */
  readonly procs: number;
  /**
   * Whether goroutines run in parallel on Worker Ms; false on a page that is not cross-origin
   * isolated, where one P runs on the page's own thread (one such runtime at a time), with the
   * same API.
   */
  readonly threaded: boolean;
  /**
   * Runs `fn(rt, ...args)` on a worker M; `fn` is shipped by source (no closures). A
   * `FunctionTask` names it; a `ModuleTask` runs a module's export instead (no `eval`). A
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
  go<A extends Value[], R>(target: GoroutineFn<A, R> | FunctionTask<GoroutineFn<A, R>>, ...args: A): Goroutine<R>;
  go<R = any>(task: ModuleTask, ...args: Value[]): Goroutine<R>;
  /** Starts a Rust goroutine through an export of a custom wasm module (see `wasm`). */
  goRust<R = unknown>(exportName: string, ...args: unknown[]): Goroutine<R>;
  stats(): Stats;
  /** Go's `GODEBUG=schedtrace` line for this moment: `SCHED 12ms: gomaxprocs=2 idleprocs=1 …`. */
  schedtrace(): string;
  /** A full garbage collection (Go's runtime.GC()). */
  gc(): Promise<void>;
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
  addEventListener<K extends keyof RuntimeEventMap>(
    type: K,
    listener: (this: Runtime, ev: RuntimeEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof RuntimeEventMap>(
    type: K,
    listener: (this: Runtime, ev: RuntimeEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
}

/** The page's `rt` also has everything a goroutine's `rt` has. */
export interface Runtime extends GoroutineApi {}
