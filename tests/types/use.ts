// Compiled by tests/types.test.mjs (tsc --noEmit --strict): the facade's types describe the API.
import {
  Chan,
  Cond,
  GoroutineError,
  Mutex,
  Once,
  RWMutex,
  Runtime,
  ShutdownError,
  SyncError,
  Ticker,
  Timer,
  WorkerError,
  type ModuleTask,
  type WorkerDeath,
  type WorkerRuntime,
} from '../../pkg/src/index.js';

async function main(): Promise<void> {
  const rt = await Runtime.start({ procs: 2, heapLimit: 64 << 20, gcPercent: 100, gctrace: false });
  const threadsOnly = await Runtime.start({ requireThreads: true });
  const threaded: boolean = threadsOnly.threaded;
  if (!threaded) throw new Error('requireThreads gave a runtime without threads');
  await threadsOnly.shutdown();
  // @ts-expect-error requireThreads is a boolean
  await Runtime.start({ requireThreads: 'yes' });
  function fib(_rt: WorkerRuntime, n: number): number {
    return n < 2 ? n : fib(_rt, n - 1) + fib(_rt, n - 2);
  }
  const sum: number = await rt.go(fib, 20).join();
  const named: number = await rt.go({ fn: fib, name: 'fib' }, 10).join();
  const task: ModuleTask = { module: new URL('./tasks.js', import.meta.url), export: 'fib', name: 'fib' };
  const fromModule = await rt.go<number>(task, 20).join();
  const nested: number = await rt
    .go(
      async (rt: WorkerRuntime, url: string) => rt.go<number>({ module: url, export: 'fib' }, 5).join(),
      task.module.toString(),
    )
    .join();
  console.log(
    named + fromModule + nested,
    (await rt.goroutines()).map((g) => g.name ?? g.id),
  );
  // @ts-expect-error: a module task names its export
  rt.go({ module: task.module });
  // @ts-expect-error: a task spec has fn, or module and export, not both
  rt.go({ fn: fib, module: task.module, export: 'fib' }, 1);
  const ch: Chan<number> = rt.chan<number>(4);
  rt.go(async (rt: WorkerRuntime, ch: Chan<number>) => {
    await ch.send(1);
    await rt.sleep(1);
    ch.close();
  }, ch);
  for await (const v of ch) console.log(v + sum);
  const { index, value, ok } = await rt.select([{ recv: ch }, { send: null, value: 2 }], { default: true });
  const wg = rt.waitGroup();
  wg.add(1);
  wg.done();
  await wg.wait();
  const mu = rt.mutex();
  await mu.lock();
  mu.unlock();
  // Go's time and sync.
  const timer: Timer = rt.timer(10);
  const firedAt: number | undefined = await timer.c.recv();
  const wasActive: boolean = timer.stop() || timer.reset(5);
  const later = rt.afterFunc(5, (rt: WorkerRuntime, n: number) => rt.goid() + n, 1);
  const nilC: null = later.c;
  const stopped: boolean = later.stop();
  rt.afterFunc(5, task, 10).reset(1);
  rt.afterFunc(0, { fn: async (_rt: WorkerRuntime, s: string) => s.length, name: 'later' }, 'x');
  // @ts-expect-error: an afterFunc timer has no channel (Go's nil C)
  await later.c.recv();
  // @ts-expect-error: the arguments must match the function's
  rt.afterFunc(5, (_rt: WorkerRuntime, n: number) => n, 'not a number');
  const ticker: Ticker = rt.ticker(20);
  const tick: number | undefined = await ticker.c.recv();
  ticker.reset(40);
  ticker.stop();
  // @ts-expect-error: Ticker.stop returns nothing (Go's)
  const tickerWasActive: boolean = ticker.stop();
  const rw: RWMutex = rt.rwMutex();
  await rw.rLock();
  const readers: boolean = rw.tryRLock();
  rw.rUnlock();
  rw.rUnlock();
  await rw.lock();
  rw.unlock();
  const cond: Cond = rt.cond(mu);
  const l: Mutex = cond.L;
  await l.lock();
  const waiter = rt.go(async (_rt: WorkerRuntime, c: Cond) => {
    await c.L.lock();
    await c.wait();
    c.L.unlock();
  }, cond);
  cond.signal();
  cond.broadcast();
  l.unlock();
  // @ts-expect-error: a Cond's mutex is a Mutex, not an RWMutex
  rt.cond(rw);
  const once: Once = rt.once();
  await once.do(() => console.log('once'));
  await once.do(async () => rt.sleep(1));
  // @ts-expect-error: Once.do takes a function
  await once.do('not a function');
  await rt.go(async (_rt: WorkerRuntime, o: Once, r: RWMutex) => o.do(async () => r.lock()), once, rw).join();
  // @ts-expect-error: a Timer is not a value a goroutine can be sent (its channel is)
  rt.go((_rt: WorkerRuntime, t: Timer) => t.stop(), timer);
  rt.go(async (_rt: WorkerRuntime, c: Chan<number>) => c.recv(), timer.c);
  try {
    rw.unlock();
  } catch (e) {
    if (e instanceof SyncError) console.log(e.message);
  }
  console.log(firedAt, wasActive, nilC, stopped, tick, tickerWasActive, readers, waiter.id);
  await rt.gc();
  const stats = rt.stats();
  console.log(index, value, ok, stats.sched.steals, stats.gc.pauseNs.length, (await rt.goroutines()).length);
  rt.addEventListener('deadlock', (e) => console.log((e as CustomEvent<{ message: string }>).detail.message));
  rt.addEventListener('error', (e) => {
    const death: WorkerDeath = e.detail;
    console.log(death.proc + 1, death.message.length);
  });
  try {
    await rt
      .go(() => {
        throw new Error('boom');
      })
      .join();
  } catch (e) {
    if (e instanceof GoroutineError) console.log(e.goroutineId);
  }
  const late = rt.go(async (rt: WorkerRuntime) => rt.sleep(Infinity));
  await rt.shutdown({ timeoutMs: 500 });
  try {
    rt.chan(1);
  } catch (e) {
    if (e instanceof ShutdownError) console.log(e.name, rt.procs, rt.threaded);
  }
  await late.join().catch((e: unknown) => {
    if (e instanceof ShutdownError) console.log(e.goroutineId ?? 'no goroutine');
    else if (e instanceof GoroutineError && e.cause instanceof WorkerError) console.log(e.cause.proc);
    else if (e instanceof GoroutineError) console.log(e.goroutineId, e.cause);
  });
}

void main();
