// A sample app over the whole API, compiled by tests/types.test.mjs with `tsc --strict`: the
// facade's types (pkg/src/index.d.ts) must accept it, and reject each line after a
// `@ts-expect-error` directive (the test also checks that each such line fails for the reason
// the directive's comment quotes).
import {
  Chan,
  ChannelError,
  Cond,
  Goroutine,
  GoroutineError,
  Mutex,
  Once,
  RWMutex,
  Runtime,
  ShutdownError,
  SyncError,
  Ticker,
  Timer,
  WaitGroup,
  WorkerError,
  type DeadlockReport,
  type GoroutineApi,
  type GoroutineInfo,
  type ModuleTask,
  type Received,
  type Sendable,
  type StartOptions,
  type Value,
  type WorkerDeath,
  type WorkerRuntime,
} from '../../pkg/src/index.js';
import type { count, fib } from './tasks.js';

// The app's data: interfaces and aliases of plain data cross goroutines.
interface Point {
  x: number;
  y: number;
  label?: string;
}
type Shape = { kind: 'polygon'; points: Point[] } | { kind: 'circle'; center: Point; r: number };
interface Job {
  id: number;
  shape: Shape;
  tags: Set<string>;
  weights: Map<string, number>;
  created: Date;
  pixels: Uint8ClampedArray;
  reply: Chan<Result>;
}
interface Result {
  id: number;
  area: number;
  bounds: readonly [Point, Point];
}
// A class with methods cannot be sent; one of its snapshots can.
class Canvas {
  points: Point[] = [];
  draw(): void {}
}

/** Moves `n` values from one channel to another: a generic helper over any sendable type. */
async function relay<T extends Sendable<T>>(from: Chan<T>, to: Chan<T>, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const { value, ok } = await from.recvOk();
    if (!ok) return;
    await to.send(value);
  }
}

/** The next value of whichever channel is ready first (undefined once it is closed). */
async function either<T extends Sendable<T>>(rt: GoroutineApi, a: Chan<T>, b: Chan<T>, signal: AbortSignal) {
  const r = await rt.select([{ recv: a }, { recv: b }], { signal });
  const value: T | undefined = r.value;
  return value;
}

/** Sends `value` if a receiver or room is ready now (Go's select with a default). */
async function offer<T extends Sendable<T>>(rt: GoroutineApi, ch: Chan<T>, value: T): Promise<boolean> {
  const r = await rt.select([{ send: ch, value }], { default: true });
  return r.index === 0;
}

/** The worker goroutine: areas of the jobs it receives until cancelled or `jobs` closes. */
async function worker(rt: WorkerRuntime, jobs: Chan<Job>, wg: WaitGroup, stats: Mutex): Promise<number> {
  let done = 0;
  try {
    for (;;) {
      const r = await rt.select([{ recv: jobs }, { recv: rt.done }]);
      if (r.index === 1) return done; // cancelled
      if (done === 100) await rt.setProcs(1); // Go's GOMAXPROCS, from a goroutine too
      if (!r.ok) return done; // jobs closed
      const job: Job = r.value;
      const shape = job.shape;
      const area = shape.kind === 'circle' ? Math.PI * shape.r ** 2 : shape.points.length;
      const bounds = [
        { x: 0, y: 0 },
        { x: 1, y: 1 },
      ] as const;
      await job.reply.send({ id: job.id, area, bounds }, { signal: rt.signal });
      await stats.lock({ signal: rt.signal });
      done++;
      stats.unlock();
    }
  } finally {
    wg.done();
  }
}

async function main(): Promise<void> {
  const options: StartOptions = {
    procs: 4,
    heapLimit: 64 << 20,
    gcPercent: 100,
    gctrace: false,
    requireThreads: false,
    maxProcs: 8,
    callSites: false,
    workerUrl: new URL('https://cdn.example/gort/src/worker.js'),
    wasmUrl: '/gort_bg.wasm',
  };
  const rt = await Runtime.start(options);
  const threaded: boolean = rt.threaded;
  const procs: number = rt.procs;
  const previous: number = await rt.setProcs(2);
  const maxProcs: number = rt.maxProcs;
  console.log(threaded, procs, previous, maxProcs);
  // A Rust goroutine of an app's own wasm (StartOptions.wasm), with typed arguments.
  const primes: number[] = await rt.goRust<number[]>('primes_below', 100).join();
  // @ts-expect-error: a function cannot cross to Rust — 'NotSendable<"a function">'
  rt.goRust('primes_below', () => 100);
  console.log(primes);
  const [info] = await rt.goroutines();
  if (info !== undefined) {
    const waited: number = info.waitMs;
    const parent: string | null | undefined = info.createdBy?.name;
    const at: string | null = info.createdAt;
    console.log(waited, parent, at);
  }

  // Events: typed details, by name.
  rt.addEventListener('deadlock', (e) => console.error(e.detail.message));
  const onError = (e: CustomEvent<WorkerDeath>): void => console.warn(`M ${e.detail.proc}: ${e.detail.message}`);
  rt.addEventListener('error', onError, { once: true });
  rt.removeEventListener('error', onError);
  rt.addEventListener('deadlock', {
    handleEvent(e) {
      const report: DeadlockReport = e.detail;
      console.error(report.message);
    },
  });
  // @ts-expect-error: 'deadlok' is no event of a runtime — '"deadlok"' is not assignable to parameter of type 'keyof RuntimeEventMap'
  rt.addEventListener('deadlok', () => {});
  // @ts-expect-error: an error event's detail has no `goroutines` — Property 'goroutines' does not exist on type 'WorkerDeath'
  rt.addEventListener('error', (e) => e.detail.goroutines);
  // @ts-expect-error: a deadlock report has no proc — Type 'CustomEvent<DeadlockReport>' is not assignable to type 'CustomEvent<WorkerDeath>'
  rt.addEventListener('deadlock', (e: CustomEvent<WorkerDeath>) => e.detail.proc);

  // A pool of named, cancellable workers fed with jobs over typed channels.
  const jobs = rt.chan<Job>(16);
  const results: Chan<Result> = rt.chan<Result>(16);
  const wg = rt.waitGroup();
  const stats = rt.mutex();
  const cancel = new AbortController();
  const pool: Goroutine<number>[] = [];
  for (let i = 0; i < 4; i++) {
    wg.add(1);
    pool.push(rt.go({ fn: worker, name: `worker-${i}`, signal: cancel.signal }, jobs, wg, stats));
  }
  const job: Job = {
    id: 1,
    shape: { kind: 'circle', center: { x: 0, y: 0 }, r: 2 },
    tags: new Set(['round']),
    weights: new Map([['a', 1]]),
    created: new Date(),
    pixels: new Uint8ClampedArray(4),
    reply: results,
  };
  await jobs.send(job, { signal: AbortSignal.timeout(1000) });
  const first: Result | undefined = await results.recv({ signal: AbortSignal.timeout(1000) });
  const got: Received<Result> = await results.recvOk();
  if (got.ok) console.log(got.value.area, first?.bounds[1].x);
  else {
    const none: undefined = got.value;
    console.log(none);
  }
  // @ts-expect-error: a closed channel's receive has no value — 'got.value' is possibly 'undefined'
  if (!got.ok) console.log(got.value.area);
  // @ts-expect-error: the job lacks most of Job's fields — is missing the following properties from type 'Job'
  await jobs.send({ id: 2 });
  // @ts-expect-error: 'sigal' is no option of send — 'sigal' does not exist in type 'SignalOptions'
  await jobs.send(job, { sigal: cancel.signal });
  // @ts-expect-error: a signal is an AbortSignal, not its controller — Type 'AbortController' is missing the following properties from type 'AbortSignal'
  await results.recv({ signal: cancel });
  // @ts-expect-error: a Chan<Point> is no Chan<Result> (channels are invariant, as Go's) — Argument of type 'Chan<Result>' is not assignable to parameter of type 'Chan<Point>'
  await relay(rt.chan<Point>(), results, 1);
  await relay(results, rt.chan<Result>(1), 1);
  const next: Result | undefined = await either(rt, results, rt.chan<Result>(), cancel.signal);
  const offered: boolean = await offer(rt, rt.chan<Point>(1), { x: 0, y: 0 });
  console.log(next, offered);

  // Select: the result is told apart by index, each case typed by its channel.
  const points = rt.chan<Point>(1);
  const names = rt.chan<string>(1);
  const quit: Chan<never> = rt.chan<never>();
  const r = await rt.select([{ recv: points }, { send: names, value: 'origin' }, { recv: quit }, { recv: null }], {
    default: true,
    signal: cancel.signal,
  });
  if (r.index === 0) {
    if (r.ok) {
      const p: Point = r.value;
      console.log(p.x + p.y, p.label?.length);
    } else {
      const closed: undefined = r.value;
      console.log(closed);
    }
  } else if (r.index === 1) {
    const sent: true = r.ok;
    console.log(sent);
  } else if (r.index === 2) {
    console.log('quit', r.ok);
  } else {
    const fallthrough: -1 = r.index;
    console.log(fallthrough);
  }
  // @ts-expect-error: a send case's result has no value: narrow by index first — Property 'value' does not exist on type 'DefaultSelected'
  console.log(r.value);
  // @ts-expect-error: case 3 receives on a nil channel: it is never taken — the types '0 | 2 | 1 | -1' and '3' have no overlap
  if (r.index === 3) console.log(r);
  const noDefault = await rt.select([{ recv: points }, { send: names, value: 'x' }]);
  // @ts-expect-error: the same without a default case — Property 'value' does not exist on type '{ index: 1; ok: true; }'
  console.log(noDefault.value);
  const waited = await rt.select([{ recv: points }, { recv: names }]);
  if (waited.index === 1 && waited.ok) console.log(waited.value.toUpperCase());
  // @ts-expect-error: without `default: true` there is no default case — the types '0 | 1' and '-1' have no overlap
  if (waited.index === -1) console.log(waited);
  // @ts-expect-error: a send case's value must be of its channel's type — Type 'number' is not assignable to type 'string'
  await rt.select([{ send: names, value: 42 }]);
  // @ts-expect-error: a Point needs a y — Property 'y' is missing in type '{ x: number; }' but required in type 'Point'
  await rt.select([{ send: points, value: { x: 1 } }]);
  // @ts-expect-error: 'defualt' is no option of select — 'defualt' does not exist in type 'SelectOptions'
  await rt.select([{ recv: points }], { defualt: true });
  // Cases built at run time: an array, so the index is a number.
  const dynamic = await rt.select(
    [points, rt.chan<Point>()].map((c) => ({ recv: c })),
    { default: Math.random() < 0.5 },
  );
  const which: number = dynamic.index;
  if ('value' in dynamic && dynamic.ok) console.log(which, dynamic.value.x);

  // Module tasks: CSP-safe, typed through the export's type.
  const fibTask: ModuleTask<typeof fib> = { module: new URL('./tasks.js', import.meta.url), export: 'fib' };
  const f30: number = await rt.go(fibTask, 30).join();
  const counted = rt.chan<number>(8);
  const countTask: ModuleTask<typeof count> = {
    module: './tasks.js',
    export: 'count',
    name: 'count',
    signal: cancel.signal,
  };
  const { sent }: { sent: number } = await rt.go(countTask, 5, counted).join();
  for await (const n of counted) console.log(n + sent + f30);
  // An untyped module task: the result is unknown unless named.
  const untyped: unknown = await rt.go({ module: './tasks.js', export: 'fib' }, 10).join();
  const named: number = await rt.go<number>({ module: './tasks.js', export: 'fib' }, 10).join();
  console.log(untyped, named);
  // @ts-expect-error: fib takes a number — Argument of type 'string' is not assignable to parameter of type 'number'
  rt.go(fibTask, '30');
  // @ts-expect-error: count takes a Chan<number>, not a Chan<string> — Argument of type 'Chan<string>' is not assignable to parameter of type 'Chan<number>'
  rt.go(countTask, 5, names);
  // @ts-expect-error: a module task names its export — Property 'export' is missing in type '{ module: string; }'
  rt.go({ module: './tasks.js' });
  // @ts-expect-error: a task spec has fn, or module and export, not both — Types of property 'module' are incompatible
  rt.go({ fn: worker, module: './tasks.js', export: 'fib' }, jobs, wg, stats);
  // @ts-expect-error: a task's name is a string — Type 'number' is not assignable to type 'string'
  rt.go({ fn: worker, name: 7 }, jobs, wg, stats);

  // Function targets: arguments checked against the function's parameters after `rt`.
  const sum = rt.go((_rt: WorkerRuntime, ps: Point[]) => ps.reduce((s, p) => s + p.x, 0), [{ x: 1, y: 2 }]);
  const total: number = await sum.join({ signal: AbortSignal.timeout(5000) });
  const echoed: Point = await rt.go(async (_rt: WorkerRuntime, p: Point) => p, { x: 1, y: 2 }).join();
  const nothing: void = await rt.go(async (rt: WorkerRuntime) => rt.sleep(1)).join();
  const ids = await rt.go((rt: WorkerRuntime) => [rt.goid(), rt.procid()] as const).join();
  const inferred = rt.go(
    async (rt, ch, n) => {
      for (let i = 0; i < n; i++) await ch.send({ x: i, y: i });
      return rt.goid();
    },
    points,
    1,
  );
  console.log(total, echoed.label, nothing, ids[0], await inferred.join());
  const callback = (): void => console.log('called');
  // @ts-expect-error: a function cannot cross goroutines — [NotSendable<"a function">]
  rt.go((_rt: WorkerRuntime, cb: () => void) => cb(), callback);
  // @ts-expect-error: a symbol cannot cross goroutines — Type 'symbol' is not assignable to type 'NotSendable<"a symbol">'
  rt.go((_rt: WorkerRuntime, key: unknown) => key, Symbol('key'));
  // @ts-expect-error: nor can an object with methods — The types of '0.draw' are incompatible
  rt.go((_rt: WorkerRuntime, c: Canvas) => c.points.length, new Canvas());
  rt.go((_rt: WorkerRuntime, c: { points: Point[] }) => c.points.length, { points: new Canvas().points });
  // @ts-expect-error: nor a DOM node — [SendableObject<HTMLElement>]
  rt.go((_rt: WorkerRuntime, el: HTMLElement) => el.id, document.body);
  // @ts-expect-error: nor a promise — The types of '0.then' are incompatible
  rt.go(async (_rt: WorkerRuntime, p: Promise<number>) => p, Promise.resolve(1));
  // @ts-expect-error: a goroutine's result crosses back too: no function — Type '() => number' is not assignable to type 'NotSendable<"a function">
  rt.go((_rt: WorkerRuntime) => () => 1);
  // @ts-expect-error: the argument must be a Point — Property 'y' is missing in type '{ x: number; }' but required in type 'Point'
  rt.go((_rt: WorkerRuntime, p: Point) => p.x, { x: 1 });
  // @ts-expect-error: one argument too few — Expected 3 arguments, but got 2
  rt.go((_rt: WorkerRuntime, a: number, b: number) => a + b, 1);
  // @ts-expect-error: one argument too many — Expected 2 arguments, but got 3
  rt.go((_rt: WorkerRuntime, a: number) => a, 1, 2);
  // @ts-expect-error: a Timer is not a value a goroutine can be sent (its channel is) — [SendableObject<Timer<Chan<number>>>]
  rt.go((_rt: WorkerRuntime, t: Timer) => t.stop(), rt.timer(1));
  // @ts-expect-error: a channel of functions cannot exist — Type '() => void' does not satisfy the constraint 'NotSendable<"a function">'
  rt.chan<() => void>();
  // @ts-expect-error: nor can one of class instances with methods — Type 'Canvas' does not satisfy the constraint 'SendableObject<Canvas>'
  const canvases: Chan<Canvas> = rt.chan(1);
  // @ts-expect-error: join's option is a signal — 'timeout' does not exist in type 'SignalOptions'
  await sum.join({ timeout: 5 });

  // Go's time and sync, and every wait with its signal.
  const signal = AbortSignal.timeout(1000);
  await rt.sleep(1, { signal });
  const timer: Timer = rt.timer(10);
  const firedAt: number | undefined = await timer.c.recv({ signal });
  const wasActive: boolean = timer.stop() || timer.reset(5);
  const later = rt.afterFunc(5, (rt: WorkerRuntime, n: number) => rt.goid() + n, 1);
  const nilC: null = later.c;
  rt.afterFunc(5, fibTask, 10).reset(1);
  rt.afterFunc(0, { fn: async (_rt: WorkerRuntime, s: string) => s.length, name: 'later' }, 'x');
  // @ts-expect-error: an afterFunc timer has no channel (Go's nil C) — 'later.c' is possibly 'null'
  await later.c.recv();
  // @ts-expect-error: the arguments must match the function's — Argument of type 'string' is not assignable to parameter of type 'number'
  rt.afterFunc(5, (_rt: WorkerRuntime, n: number) => n, 'not a number');
  const ticker: Ticker = rt.ticker(20);
  const tick: number | undefined = await ticker.c.recv();
  ticker.reset(40);
  ticker.stop();
  const after: Chan<number> = rt.after(5);
  await wg.wait({ signal });
  const rw: RWMutex = rt.rwMutex();
  await rw.rLock({ signal });
  rw.rUnlock();
  await rw.lock({ signal });
  rw.unlock();
  const cond: Cond = rt.cond(stats);
  const l: Mutex = cond.L;
  await l.lock();
  await cond.wait({ signal });
  cond.broadcast();
  l.unlock();
  // @ts-expect-error: a Cond's mutex is a Mutex, not an RWMutex — Argument of type 'RWMutex' is not assignable to parameter of type 'Mutex'
  rt.cond(rw);
  const once: Once = rt.once();
  await once.do(async () => rt.sleep(1));
  await rt.gosched();
  // @ts-expect-error: Once.do takes a function — Argument of type 'string' is not assignable to parameter of type '() => unknown'
  await once.do('not a function');
  // @ts-expect-error: 'ms' is no option of lock — 'ms' does not exist in type 'SignalOptions'
  await stats.lock({ ms: 5 });
  console.log(firedAt, wasActive, nilC, tick, after.cap, stats.tryLock(), rw.tryRLock());

  // Values of unknown shape.
  const anyValue: Chan<Value> = rt.chan<Value>(1);
  await anyValue.send({ nested: [1, 'two', null, new Map([[1, new Date()]])] });
  await anyValue.send(new SharedArrayBuffer(8));

  // Introspection.
  const dump: GoroutineInfo[] = await rt.goroutines();
  for (const g of dump) console.log(g.id, g.state === 'waiting' ? g.waitReason : g.state, g.proc ?? '-', g.name);
  const s = rt.stats();
  console.log(s.goroutines, s.sched.steals, s.gc.pauseNs.length, rt.schedtrace());
  await rt.gc();

  // Errors, typed.
  cancel.abort(new Error('done'));
  for (const g of pool) {
    try {
      console.log(await g.join());
    } catch (e) {
      if (e instanceof GoroutineError) {
        const cause = e.cause;
        if (cause instanceof WorkerError) console.log(e.goroutineId, cause.proc);
        else console.log(e.goroutineId, cause);
      }
    }
  }
  try {
    jobs.close();
    jobs.close();
  } catch (e) {
    if (e instanceof ChannelError) console.log(e.name, e.message);
  }
  try {
    rw.unlock();
  } catch (e) {
    if (e instanceof SyncError) console.log(e.message);
  }
  const late = rt.go(async (rt: WorkerRuntime) => rt.sleep(Infinity, { signal: rt.signal }));
  await rt.shutdown({ timeoutMs: 500 });
  // @ts-expect-error: shutdown's option is timeoutMs — 'timeout' does not exist in type 'ShutdownOptions'
  await rt.shutdown({ timeout: 500 });
  await late.join().catch((e: unknown) => {
    if (e instanceof ShutdownError) console.log(e.goroutineId ?? 'no goroutine');
  });
  // @ts-expect-error: handles come from a runtime, not a constructor — Constructor of class 'Chan<T>' is private
  new Chan<number>();
}

void main();
