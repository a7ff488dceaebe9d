// Headless-browser tests of `rt.setProcs(n)` (Go's `runtime.GOMAXPROCS(n)`): the number of Ps
// changes with the world stopped, new Ps get new Workers, removed Ps' goroutines move on, and
// nothing is lost or delivered twice (crate/src/sched/procresize.rs; the native side is
// crate/tests/procs.rs).
//
//   node --test tests/procs.test.mjs

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ATTEMPT, BLANK_PAGE, close, inPage } from './harness.mjs';

after(close);

// `allAtOnce(rt, n)`: Go's TestGoroutineParallelism in the small. `n` JS goroutines each
// report their P and then spin, never yielding their Worker, until the page releases them; the
// page gets all `n` reports only if `n` Workers run them at once. Resolves with their Ps.
const ALL_AT_ONCE = `
  async function allAtOnce(rt, n) {
    const started = rt.chan(n);
    const stop = rt.chan(n);
    const gs = [];
    for (let i = 0; i < n; i++) {
      gs.push(rt.go((rt, started, stop) => {
        started.trySend(rt.procid());
        while (stop.tryRecv() === undefined);
      }, started, stop));
    }
    const procs = [];
    for (let i = 0; i < n; i++) procs.push(await started.recv());
    for (let i = 0; i < n; i++) await stop.send(true);
    await Promise.all(gs.map((g) => g.join()));
    return procs.sort((a, b) => a - b);
  }
`;

describe('rt.setProcs', () => {
  test('grows with new Workers that run goroutines in parallel, and shrinks back', async () => {
    const r = await inPage(`
      ${ALL_AT_ONCE}
      const rt = await Runtime.start({ procs: 1, maxProcs: 4 });
      try {
        const out = { maxProcs: rt.maxProcs, before: rt.procs };
        out.grew = await rt.setProcs(4);
        out.procs = [rt.procs, rt.stats().procs];
        out.parallel = await allAtOnce(rt, 4);
        out.shrank = await rt.setProcs(2);
        out.afterShrink = [rt.procs, rt.stats().procs];
        out.parallelAfterShrink = await allAtOnce(rt, 2);
        out.regrew = await rt.setProcs(4);
        out.parallelAgain = await allAtOnce(rt, 4);
        return out;
      } finally {
        await rt.shutdown();
      }
    `);
    assert.deepEqual(r, {
      maxProcs: 4,
      before: 1,
      grew: 1,
      procs: [4, 4],
      parallel: [0, 1, 2, 3],
      shrank: 4,
      afterShrink: [2, 2],
      parallelAfterShrink: [0, 1],
      regrew: 2,
      parallelAgain: [0, 1, 2, 3],
    });
  });

  test('every value passes exactly once while the number of Ps changes', async () => {
    const r = await inPage(`
      const rt = await Runtime.start({ procs: 4 });
      try {
        const PRODUCERS = 6, EACH = 300;
        const ch = rt.chan(8);
        const wg = rt.waitGroup();
        wg.add(PRODUCERS);
        for (let p = 0; p < PRODUCERS; p++) {
          rt.go(async (rt, ch, wg, p, each) => {
            for (let i = 0; i < each; i++) {
              await ch.send(p * each + i);
              if (i % 50 === 0) await rt.sleep(1);
            }
            wg.done();
          }, ch, wg, p, EACH);
        }
        rt.go(async (rt, ch, wg) => { await wg.wait(); ch.close(); }, ch, wg);
        const counts = new Array(PRODUCERS * EACH).fill(0);
        const receiving = (async () => { for await (const v of ch) counts[v]++; })();
        const answers = [];
        let expected = 4;
        for (const n of [1, 3, 2, 4, 1, 2, 3]) {
          answers.push((await rt.setProcs(n)) === expected);
          expected = n;
          await new Promise((r) => setTimeout(r, 5));
        }
        await receiving;
        // Once the count is 1, new goroutines run on P 0 only, before and after a sleep.
        await rt.setProcs(1);
        const procids = await Promise.all(
          Array.from({ length: 20 }, () =>
            rt.go(async (rt) => { const a = rt.procid(); await rt.sleep(1); return [a, rt.procid()]; }).join()),
        );
        return {
          answers,
          wrong: counts.map((c, v) => [v, c]).filter(([, c]) => c !== 1).slice(0, 5),
          procids: [...new Set(procids.flat())],
        };
      } finally {
        await rt.shutdown();
      }
    `);
    assert.deepEqual(r, { answers: [true, true, true, true, true, true, true], wrong: [], procids: [0] });
  });

  test('JS goroutines on the Worker of a removed P keep running there', async () => {
    const r = await inPage(`
      const rt = await Runtime.start({ procs: 2 });
      try {
        // Two JS goroutines that spin until both started (so on both Workers), then serve
        // requests on their own channel: a JS goroutine stays on the Worker it started on.
        const started = rt.chan(2), go = rt.chan(2), out = rt.chan(0);
        const inboxes = [rt.chan(0), rt.chan(0)];
        const servers = inboxes.map((inbox) => rt.go(async (rt, started, go, inbox, out) => {
          started.trySend(rt.procid());
          while (go.tryRecv() === undefined);
          for await (const v of inbox) await out.send([rt.procid(), v * 2]);
        }, started, go, inbox, out));
        const procs = [await started.recv(), await started.recv()].sort();
        await go.send(true);
        await go.send(true);
        const previous = await rt.setProcs(1);
        const answers = [];
        for (let i = 0; i < 10; i++) {
          inboxes[i % 2].send(i);
          answers.push(await out.recv());
        }
        inboxes.forEach((c) => c.close());
        await Promise.all(servers.map((g) => g.join()));
        return { procs, previous, answers: answers.sort((a, b) => a[1] - b[1]) };
      } finally {
        await rt.shutdown();
      }
    `);
    assert.deepEqual(r.procs, [0, 1]);
    assert.equal(r.previous, 2);
    assert.deepEqual(
      r.answers.map(([, v]) => v),
      [0, 2, 4, 6, 8, 10, 12, 14, 16, 18],
    );
    assert.deepEqual([...new Set(r.answers.map(([p]) => p))].sort(), [0, 1], 'both Workers answered');
  });

  test('a goroutine changes the number of Ps too, and the page sees it', async () => {
    const r = await inPage(`
      ${ATTEMPT}
      const rt = await Runtime.start({ procs: 3, maxProcs: 5 });
      try {
        const inside = await rt.go(async (rt) => {
          ${ATTEMPT}
          return { previous: await rt.setProcs(2), tooMany: await attempt(() => rt.setProcs(6)) };
        }).join();
        return { inside, procs: rt.procs, stats: rt.stats().procs };
      } finally {
        await rt.shutdown();
      }
    `);
    assert.equal(r.inside.previous, 3);
    assert.equal(r.inside.tooMany.name, 'RangeError');
    assert.match(r.inside.tooMany.message, /^rt\.setProcs: n must be from 1 to maxProcs \(5\), got 6$/);
    assert.deepEqual([r.procs, r.stats], [2, 2]);
  });

  test('refuses what is not a number of Ps, and throws ShutdownError after shutdown', async () => {
    const r = await inPage(`
      ${ATTEMPT}
      const rt = await Runtime.start({ procs: 2, maxProcs: 3 });
      const out = {};
      for (const [k, v] of Object.entries({ text: '2', zero: 0, half: 1.5, nan: NaN, max: 4, huge: 2 ** 32 + 1 })) {
        out[k] = await attempt(() => rt.setProcs(v));
      }
      out.procs = rt.procs;
      out.startBelow = await attempt(() => Runtime.start({ procs: 2, maxProcs: 1 }));
      await rt.shutdown();
      out.after = await attempt(() => rt.setProcs(1));
      out.procsAfter = rt.procs;
      return out;
    `);
    assert.equal(r.text.name, 'TypeError');
    assert.match(r.text.message, /^rt\.setProcs: expected a number of Ps, got/);
    for (const k of ['zero', 'half', 'nan', 'huge']) {
      assert.equal(r[k].name, 'RangeError', k);
      assert.match(r[k].message, /^rt\.setProcs: n must be an integer from 1 to 64/, k);
    }
    assert.equal(r.max.name, 'RangeError');
    assert.match(r.max.message, /^rt\.setProcs: n must be from 1 to maxProcs \(3/);
    assert.equal(r.procs, 2);
    assert.equal(r.startBelow.name, 'RangeError');
    assert.match(r.startBelow.message, /^Runtime\.start: maxProcs must be an integer from procs \(2\)/);
    assert.equal(r.after.shutdown, true);
    assert.equal(r.procsAfter, 2);
  });

  test('without cross-origin isolation a runtime keeps its one P', async () => {
    const r = await inPage(
      `
      ${ATTEMPT}
      const rt = await Runtime.start();
      try {
        return {
          maxProcs: rt.maxProcs,
          one: await attempt(() => rt.setProcs(1)),
          two: await attempt(() => rt.setProcs(2)),
          procs: rt.procs,
        };
      } finally {
        await rt.shutdown();
      }
    `,
      { path: `${BLANK_PAGE}?isolated=0` },
    );
    assert.deepEqual(r.one, { returned: 1 });
    assert.equal(r.two.name, 'RangeError');
    assert.match(r.two.message, /without threads .* a runtime has 1 P, got 2/);
    assert.deepEqual([r.maxProcs, r.procs], [1, 1]);
  });
});
