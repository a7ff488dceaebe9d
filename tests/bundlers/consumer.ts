// Compiled by tests/bundlers.test.mjs (tsc --strict) inside an app that installed the packed
// package: `gort` and its types resolve through the package's `exports`.
import { Chan, GoroutineError, Runtime, type StartOptions, type WorkerRuntime } from 'gort';

const options: StartOptions = {
  procs: 2,
  workerUrl: new URL('https://cdn.example/gort/src/worker.js'),
  wasmUrl: '/gort_bg.wasm',
};

export async function main(): Promise<number> {
  const rt: Runtime = await Runtime.start(options);
  const ch: Chan<number> = rt.chan<number>(0);
  const g = rt.go(
    async (_rt: WorkerRuntime, ch: Chan<number>, n: number) => {
      for (let i = 1; i <= n; i++) await ch.send(i * i);
      ch.close();
      return n;
    },
    ch,
    10,
  );
  let sum = 0;
  for await (const v of ch) sum += v;
  try {
    return sum + (await g.join());
  } catch (e) {
    if (e instanceof GoroutineError) return -1;
    throw e;
  } finally {
    await rt.shutdown();
  }
}
