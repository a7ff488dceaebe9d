// Headless-browser tests of a goroutine that hogs its Worker: a JS loop is a system call (Go's
// model), so its P is released while it runs, the collector claims it, and the monitor hands
// it to a spare M; only the JS goroutines bound to that Worker wait. Also: a Worker that ran JS
// code keeps giving its event loop turns, so timers a goroutine left behind fire on time.
//
// Each hog spins until the page tells it to stop (a channel it polls with `tryRecv`), after
// the page got what it waited for: if the runtime waited for the hog, the page's awaits would
// never settle and the test would time out. Nothing is timed.
//
//   node --test tests/hog.test.mjs

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { START_HOG, close, inPage } from './harness.mjs';

after(close);

describe('a JS goroutine that never yields', () => {
  test('with one P, collections, timers and channel operations go on while it spins', async () => {
    const r = await inPage(
      `${START_HOG}
      const rt = await Runtime.start({ procs: 1 });
      try {
        const { hog, stop } = await startHog(rt);
        const numGC = rt.stats().gc.numGC;
        await rt.gc();
        await rt.sleep(20);
        const c = rt.chan(0);
        const sent = c.send('through a rendezvous');
        const got = await c.recv();
        await sent;
        const stats = rt.stats();
        const trace = rt.schedtrace();
        stop.trySend(true);
        const spins = await hog.join();
        return { spins, got, gcs: stats.gc.numGC - numGC, sched: stats.sched, trace };
      } finally {
        await rt.shutdown();
      }
    `,
      { timeout: 60_000 },
    );
    assert.ok(r.spins > 0);
    assert.equal(r.got, 'through a rendezvous');
    assert.ok(r.gcs >= 1, 'the collection ran');
    assert.deepEqual(r.sched.inSyscall, [1], 'the P was released while the hog ran');
    assert.ok(r.sched.retakes >= 1, `the P was never handed to a spare M: ${r.trace}`);
    assert.ok(r.sched.spareMs >= 1);
    assert.match(r.trace, /^SCHED \d+ms: gomaxprocs=1 idleprocs=\d+ threads=\d+ .*syscallprocs=1 retakes=\d+ /);
  });

  test('with two Ps, goroutines from the page, sleeps and collections finish while it spins', async () => {
    const r = await inPage(
      `${START_HOG}
      const rt = await Runtime.start({ procs: 2 });
      try {
        const { hog, stop, proc } = await startHog(rt);
        const gs = Array.from({ length: 200 }, (_, i) => rt.go((rt, i) => [i * 2, rt.procid()], i));
        const results = await Promise.all(gs.map((g) => g.join()));
        await rt.sleep(100);
        await rt.gc();
        const wg = rt.waitGroup();
        wg.add(20);
        for (let i = 0; i < 20; i++) rt.go(async (rt, wg) => { await rt.sleep(5); wg.done(); }, wg);
        await wg.wait();
        stop.trySend(true);
        await hog.join();
        return { proc, doubled: results.every(([v], i) => v === i * 2), procs: [...new Set(results.map(([, p]) => p))] };
      } finally {
        await rt.shutdown();
      }
    `,
      { timeout: 60_000 },
    );
    assert.ok(r.doubled);
    assert.ok(!r.procs.includes(r.proc), `a page goroutine ran on the hog's Worker (${r.procs} vs ${r.proc})`);
  });
});

describe("a Worker's event loop", () => {
  test('a timer a finished goroutine left behind fires while nothing else runs there', async () => {
    const r = await inPage(
      `
      const rt = await Runtime.start({ procs: 1 });
      try {
        const ch = rt.chan(1);
        await rt.go((rt, ch) => { setTimeout(() => ch.trySend('from a timer'), 50); }, ch).join();
        return await ch.recv();
      } finally {
        await rt.shutdown();
      }
    `,
      { timeout: 30_000 },
    );
    assert.equal(r, 'from a timer');
  });
});
