// Headless-browser tests of fairness between sources of runnable goroutines, ported from Go's
// runtime/proc_test.go to the JS API: every source is reached in bounded time, on one P too.
//
//   node --test tests/fairness.test.mjs

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { close, inPage } from './harness.mjs';

after(close);

describe('timers against goroutines that keep each other runnable', () => {
  // Go's TestTimerFairness: two goroutines keep offering a value on an unbuffered channel that
  // the main goroutine keeps taking, while a 20 ms timer races them. The timer must win within
  // bounded time although the channel is always ready. One P, so the pingers, the main
  // goroutine and the timer share one M.
  test('TestTimerFairness: an expired timer fires while goroutines keep a channel ready', async () => {
    const r = await inPage(
      `
      const rt = await Runtime.start({ procs: 1 });
      try {
        const main = rt.go(async (rt) => {
          const done = rt.chan(0);
          const c = rt.chan(0);
          const pingers = [0, 1].map(() =>
            rt.go(async (rt, c, done) => {
              for (;;) {
                const { index } = await rt.select([{ send: c, value: true }, { recv: done }]);
                if (index === 1) return;
              }
            }, c, done),
          );
          // The race starts once the pingers run (starting them may take longer than 20 ms
          // on a busy machine): one value first, then the timer.
          await c.recv();
          let received = 0;
          const timer = rt.after(20);
          const start = performance.now();
          for (;;) {
            const { index } = await rt.select([{ recv: c }, { recv: timer }]);
            if (index === 1) break;
            received++;
          }
          const ms = performance.now() - start;
          done.close();
          await Promise.all(pingers.map((p) => p.join()));
          return { ms, received };
        });
        return await main.join();
      } finally {
        await rt.shutdown();
      }
    `,
      { timeout: 30_000 },
    );
    assert.ok(r.received > 0, 'the pingers ran');
    assert.ok(r.ms < 2000, `the 20 ms timer fired only after ${r.ms} ms (${r.received} receives)`);
  });

  // Go's TestTimerFairness2: two goroutines ping each other through an unbuffered channel
  // (each select offers both a send and a receive) while each also selects on a 20 ms timer of
  // its own; both timers must fire.
  test('TestTimerFairness2: the timer of each pinger fires while they ping each other', async () => {
    const r = await inPage(
      `
      const rt = await Runtime.start({ procs: 1 });
      try {
        const main = rt.go(async (rt) => {
          const done = rt.chan(0);
          const c = rt.chan(0);
          const start = performance.now();
          for (let i = 0; i < 2; i++) {
            rt.go(async (rt, c, done) => {
              const timer = rt.after(20);
              for (;;) {
                const { index } = await rt.select([{ send: c, value: true }, { recv: c }, { recv: timer }]);
                if (index === 2) return done.send(true);
              }
            }, c, done);
          }
          await done.recv();
          await done.recv();
          return { ms: performance.now() - start };
        });
        return await main.join();
      } finally {
        await rt.shutdown();
      }
    `,
      { timeout: 30_000 },
    );
    assert.ok(r.ms < 2000, `the 20 ms timers fired only after ${r.ms} ms`);
  });
});
