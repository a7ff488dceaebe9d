// Compiled by tests/types.test.mjs (tsc --noEmit --strict): the facade's types describe the API.
import {
  Chan,
  GoroutineError,
  Runtime,
  ShutdownError,
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
