// Goroutine functions a module task runs (tests/types/app.ts names them by URL and export);
// compiled with it by tests/types.test.mjs.
import type { Chan, WorkerRuntime } from '../../pkg/src/index.js';

/** The n-th Fibonacci number. */
export function fib(rt: WorkerRuntime, n: number): number {
  return n < 2 ? n : fib(rt, n - 1) + fib(rt, n - 2);
}

/** Sends the numbers below `n` on `out`, stopping early when the goroutine is cancelled. */
export async function count(rt: WorkerRuntime, n: number, out: Chan<number>): Promise<{ sent: number }> {
  let sent = 0;
  for (; sent < n && !rt.signal.aborted; sent++) await out.send(sent, { signal: rt.signal });
  out.close();
  return { sent };
}
