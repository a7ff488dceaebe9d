// Types of gort's JavaScript facade.

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
  | Value[]
  | Map<Value, Value>
  | Set<Value>
  | { [key: string]: Value };

export interface StartOptions {
  /** Ps (and worker Ms); default `navigator.hardwareConcurrency`. 1 to 64. */
  procs?: number;
  /** URL of a wasm-bindgen glue module built from a crate that includes gort. */
  wasm?: string | URL;
  /** Go's GOGC: collect when the heap grew by this % over the live heap (default 100; < 0 off). */
  gcPercent?: number;
  /**
   * Hard ceiling of the GC heap in bytes (0: none). Values in flight between goroutines live
   * in that heap: a send that cannot fit rejects with a RangeError naming the limit.
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
  /** Go's words: "chan receive", "chan send", "select", "sleep", "sync.Mutex.Lock", … */
  waitReason: string;
  /** The worker a JS goroutine is bound to. */
  proc: number | null;
}

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
  /** Its return value; rejects with a GoroutineError. The same promise every call. */
  join(): Promise<T>;
}

/** A goroutine threw, rejected, panicked, was cancelled by shutdown, or deadlocked. */
export class GoroutineError extends Error {
  readonly name: 'GoroutineError';
  readonly goroutineId: number;
  /** The thrown value (an Error keeps its name, message and stack). */
  readonly cause?: unknown;
}

export class ShutdownError extends Error {
  readonly name: 'ShutdownError';
}

/** "send on closed channel", "close of closed channel". */
export class ChannelError extends Error {
  readonly name: 'ChannelError';
}

/** "sync: negative WaitGroup counter", "sync: unlock of unlocked mutex". */
export class SyncError extends Error {
  readonly name: 'SyncError';
}

export class Chan<T extends Value = any> implements AsyncIterable<T> {
  readonly cap: number;
  readonly len: number;
  /**
   * Rejects with a ChannelError "send on closed channel", or a RangeError naming the heap
   * limit when the value does not fit in the GC heap even after a collection.
   */
  send(value: T): Promise<void>;
  recv(): Promise<T | undefined>;
  recvOk(): Promise<Received<T>>;
  close(): void;
  trySend(value: T): boolean;
  tryRecv(): Received<T> | undefined;
  [Symbol.asyncIterator](): AsyncIterator<T>;
  /** Drops this handle now rather than when it is garbage collected. */
  release(): void;
}

export class WaitGroup {
  add(delta?: number): void;
  done(): void;
  wait(): Promise<void>;
  release(): void;
}

export class Mutex {
  lock(): Promise<void>;
  tryLock(): boolean;
  unlock(): void;
  release(): void;
}

/** What the page's `rt` and a goroutine's `rt` have in common. */
export interface GoroutineApi extends EventTarget {
  chan<T extends Value = any>(cap?: number): Chan<T>;
  waitGroup(): WaitGroup;
  mutex(): Mutex;
  sleep(ms: number): Promise<void>;
  /** A channel that receives the time (ms, like performance.timeOrigin + performance.now()). */
  after(ms: number): Chan<number>;
  gosched(): Promise<void>;
  select(cases: SelectCase[], options?: { default?: boolean }): Promise<Selected>;
}

/** The `rt` a goroutine function receives on its worker. */
export interface WorkerRuntime extends GoroutineApi {
  go<A extends Value[], R>(fn: (rt: WorkerRuntime, ...args: A) => R | Promise<R>, ...args: A): Goroutine<R>;
  goid(): number;
  procid(): number;
}

/** A running runtime, held by the page. Fires `deadlock` (CustomEvent<{ message: string }>). */
export class Runtime extends EventTarget {
  static start(options?: StartOptions): Promise<Runtime>;
  readonly procs: number;
  /** Runs `fn(rt, ...args)` on a worker M; `fn` is shipped by source (no closures). */
  go<A extends Value[], R>(fn: (rt: WorkerRuntime, ...args: A) => R | Promise<R>, ...args: A): Goroutine<R>;
  /** Starts a Rust goroutine through an export of a custom wasm module (see `wasm`). */
  goRust<R = unknown>(exportName: string, ...args: unknown[]): Goroutine<R>;
  stats(): Stats;
  /** A full garbage collection (Go's runtime.GC()). */
  gc(): Promise<void>;
  goroutines(): Promise<GoroutineInfo[]>;
  shutdown(): Promise<void>;
}

/** The page's `rt` also has everything a goroutine's `rt` has. */
export interface Runtime extends GoroutineApi {}
