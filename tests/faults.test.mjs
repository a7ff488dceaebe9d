// Headless-browser tests of contained faults: a Worker M that dies (here it closes itself, as a
// goroutine can make it do) raises the runtime's `error` event, fails only the goroutines bound
// to it (a GoroutineError whose cause is a WorkerError), and a new Worker takes over its P; and
// `shutdown({ timeoutMs })` terminates Workers that do not stop (a goroutine that never
// yields), rejects the joins left with a ShutdownError, and leaves every other runtime of the
// page working.
//
//   node --test tests/faults.test.mjs
//
// Waits are for events (the `error` event, a join, a channel), never sleeps; the time bounds
// are generous, for a busy two-core machine.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { START_HOG, close, evalModule, inPage, openPage } from './harness.mjs';

after(close);

// In-page helpers, prepended to the snippets.
// `spread(rt, procs, perProc)`: starts goroutines until each of the `procs` Ms hosts at least
// `perProc` of them; each waits for a command on its own channel. A goroutine lands on the M
// that first runs it; each batch busies its goroutines for a moment before they report, so that
// idle Ms steal some. Returns `[{ g, cmd, proc }]`. On command 'die' a goroutine closes its
// Worker and never returns; on 'go' it returns `['ok', procid]`.
// `failure(p)`: how a promise rejected, as plain data (or `{ resolved }`).
// `settled(p, ms)`: p, or a rejection after `ms` (a hang fails the test instead of timing it out).
const HELPERS = `
async function spread(rt, procs, perProc) {
  const report = rt.chan(256);
  const all = [];
  const count = (p) => all.filter((w) => w.proc === p).length;
  for (let batch = 0; batch < 40; batch++) {
    if ([...Array(procs).keys()].every((p) => count(p) >= perProc)) return all;
    const started = Array.from({ length: 2 * procs }, () => {
      const cmd = rt.chan(1);
      const g = rt.go(async (rt, report, cmd) => {
        const until = performance.now() + 3;
        while (performance.now() < until);
        await report.send([rt.goid(), rt.procid()]);
        const c = await cmd.recv();
        if (c === 'die') {
          setTimeout(() => self.close());
          await new Promise(() => {});
        }
        return ['ok', rt.procid()];
      }, report, cmd);
      return { g, cmd };
    });
    for (let i = 0; i < started.length; i++) {
      const [id, proc] = await report.recv();
      started.find((w) => w.g.id === id).proc = proc;
    }
    all.push(...started);
  }
  throw new Error('goroutines did not spread over the Ms: ' + JSON.stringify(all.map((w) => w.proc)));
}
async function failure(p) {
  try {
    return { resolved: await p };
  } catch (e) {
    return {
      name: e.name, message: e.message, goroutineId: e.goroutineId,
      isGoroutineError: e instanceof gort.GoroutineError, isShutdownError: e instanceof gort.ShutdownError,
      cause: e.cause && { name: e.cause.name, message: e.cause.message, proc: e.cause.proc,
                          isWorkerError: e.cause instanceof gort.WorkerError },
    };
  }
}
function settled(p, ms, what) {
  let timer;
  const late = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(what + ': no result after ' + ms + ' ms')), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
`;

// `work(rt)`: channels, goroutines and a collection on `rt`; resolves to WORK_RESULT.
const WORK = `
async function work(rt) {
  const c = rt.chan(4);
  const gs = Array.from({ length: 16 }, (_, i) => rt.go(async (rt, c, i) => { await c.send(i); return i * i; }, c, i));
  let sum = 0;
  for (let i = 0; i < 16; i++) sum += await c.recv();
  const squares = (await Promise.all(gs.map((g) => g.join()))).reduce((a, b) => a + b);
  const before = rt.stats().gc.numGC;
  await rt.gc();
  return { sum, squares, collected: rt.stats().gc.numGC > before };
}
`;
const WORK_RESULT = { sum: 120, squares: 1240, collected: true };

// Console errors the runtime logs for each death, and nothing else.
function onlyDeathReports(count) {
  return (errors) => {
    const deaths = errors.filter((e) => /^gort: the Worker of M \d+ died: it closed or was terminated/.test(e));
    assert.equal(deaths.length, count, `death reports: ${JSON.stringify(errors)}`);
    assert.deepEqual(
      errors.filter((e) => !deaths.includes(e)),
      [],
      'no other console errors',
    );
  };
}

describe('a Worker that dies', () => {
  test('raises error, fails only its goroutines, and a new Worker takes over its P', async () => {
    const r = await inPage(
      `${HELPERS}
      const rt = await Runtime.start({ procs: 2 });
      try {
        const events = [];
        const died = new Promise((resolve) =>
          rt.addEventListener('error', (e) => {
            events.push({ ...e.detail, isCustomEvent: e instanceof CustomEvent });
            resolve(performance.now());
          }),
        );
        const waiters = await spread(rt, 2, 2);
        const victim = waiters[0].proc;
        const killer = waiters.find((w) => w.proc === victim);
        const t0 = performance.now();
        await killer.cmd.send('die');
        const detectedAt = await settled(died, 10000, 'the error event');
        const out = { victim, events, procs: waiters.map((w) => w.proc) };
        out.detectionMs = detectedAt - t0;

        // 20 new goroutines run at once, whether or not the new Worker is up yet.
        const news = Array.from({ length: 20 }, (_, i) => rt.go((rt, i) => i * 2, i));
        out.news = await settled(Promise.all(news.map((g) => g.join())), 10000, 'the 20 new goroutines');

        // The survivors carry on; the dead Worker's goroutines fail, the killer included.
        for (const w of waiters) if (w.proc !== victim) await w.cmd.send('go');
        const outcomes = await settled(
          Promise.all(waiters.map(async (w) => ({ proc: w.proc, id: w.g.id, ...(await failure(w.g.join())) }))),
          10000,
          'the joins',
        );
        out.failedAfterMs = performance.now() - t0;
        out.survivors = outcomes.filter((o) => o.proc !== victim);
        out.failed = outcomes.filter((o) => o.proc === victim);

        // The new Worker runs goroutines as M 'victim': spread them until one lands there.
        const again = await settled(spread(rt, 2, 1), 20000, 'goroutines on both Ms again');
        for (const w of again) await w.cmd.send('go');
        out.again = await Promise.all(again.map((w) => w.g.join()));
        const failedIds = out.failed.map((f) => f.id);
        out.deadListed = (await rt.goroutines()).filter((g) => failedIds.includes(g.id)).length;
        await rt.gc();
        out.numGC = rt.stats().gc.numGC;
        // Every M stops, the new Worker's too: no Worker needs terminating.
        const t = performance.now();
        await settled(rt.shutdown({ timeoutMs: Infinity }), 10000, 'the shutdown');
        out.shutdownMs = performance.now() - t;
        return out;
      } finally {
        await rt.shutdown();
      }
    `,
      { expectErrors: onlyDeathReports(1) },
    );
    console.log(
      `detection ${r.detectionMs.toFixed(1)} ms, dead goroutines failed by ${r.failedAfterMs.toFixed(1)} ms` +
        ` (Ms of the goroutines: ${r.procs})`,
    );
    assert.deepEqual(r.events.length, 1);
    assert.equal(r.events[0].proc, r.victim);
    assert.equal(r.events[0].isCustomEvent, true);
    assert.match(r.events[0].message, new RegExp(`^the Worker of M ${r.victim} died: `));
    assert.deepEqual(
      r.news,
      Array.from({ length: 20 }, (_, i) => i * 2),
    );
    assert.ok(r.survivors.length >= 2);
    for (const s of r.survivors) assert.deepEqual(s.resolved, ['ok', s.proc]);
    assert.ok(r.failed.length >= 2);
    for (const f of r.failed) {
      assert.equal(f.name, 'GoroutineError');
      assert.equal(f.isGoroutineError, true);
      assert.match(f.message, new RegExp(`^goroutine ${f.id} failed: the Worker of M ${r.victim} died`));
      assert.deepEqual(f.cause, {
        name: 'WorkerError',
        message: `the Worker of M ${r.victim} died: it closed or was terminated`,
        proc: r.victim,
        isWorkerError: true,
      });
    }
    assert.ok(
      r.again.some(([, proc]) => proc === r.victim),
      'the new Worker ran goroutines',
    );
    assert.equal(r.deadListed, 0, 'no goroutine of the dead Worker is left listed');
    assert.ok(r.numGC >= 1);
    assert.ok(r.shutdownMs < 5000, `shutdown took ${r.shutdownMs} ms`);
  });

  test('with one P: goroutines queued while its Worker is dead run on the new one', async () => {
    const r = await inPage(
      `${HELPERS}
      const rt = await Runtime.start({ procs: 1 });
      try {
        const died = new Promise((resolve) => rt.addEventListener('error', (e) => resolve(e.detail)));
        const timer = rt.after(50); // fires on the new Worker
        const [w] = await spread(rt, 1, 1);
        await w.cmd.send('die');
        const detail = await settled(died, 10000, 'the error event');
        const t0 = performance.now();
        const queued = Array.from({ length: 10 }, (_, i) => rt.go((rt, i) => [i, rt.procid()], i));
        const results = await settled(Promise.all(queued.map((g) => g.join())), 10000, 'queued goroutines');
        const replacedMs = performance.now() - t0;
        const killed = await failure(w.g.join());
        const fired = typeof (await settled(timer.recv(), 10000, 'the timer')) === 'number';
        const ch = rt.chan();
        const pinger = rt.go(async (rt, ch) => { for (let i = 0; i < 100; i++) await ch.send(i); return 'done'; }, ch);
        let sum = 0;
        for (let i = 0; i < 100; i++) sum += await ch.recv();
        return { detail, results, replacedMs, killed, fired, sum, pinger: await pinger.join() };
      } finally {
        await rt.shutdown();
      }
    `,
      { expectErrors: onlyDeathReports(1) },
    );
    console.log(`first goroutines on the new Worker ran ${r.replacedMs.toFixed(1)} ms after the error event`);
    assert.deepEqual(r.detail.proc, 0);
    assert.deepEqual(
      r.results,
      Array.from({ length: 10 }, (_, i) => [i, 0]),
    );
    assert.equal(r.killed.isGoroutineError, true);
    assert.equal(r.killed.cause.isWorkerError, true);
    assert.equal(r.killed.cause.proc, 0);
    assert.equal(r.fired, true);
    assert.equal(r.sum, 4950);
    assert.equal(r.pinger, 'done');
  });
});

describe('a Worker that dies after hogging its P', () => {
  test('a spare M ran its P meanwhile; the new Worker takes the P back and runs JS again', async () => {
    const r = await inPage(
      `${HELPERS}
      const rt = await Runtime.start({ procs: 1 });
      try {
        const died = new Promise((resolve) => rt.addEventListener('error', (e) => resolve(e.detail)));
        const stop = rt.chan(1);
        const started = rt.chan(1);
        // Spins until told to stop (its P goes to a spare M meanwhile), then closes its Worker.
        const hog = rt.go(async (rt, stop, started) => {
          started.trySend(rt.procid());
          while (stop.tryRecv() === undefined);
          setTimeout(() => self.close());
          await new Promise(() => {});
        }, stop, started);
        await started.recv();
        await settled(rt.sleep(20), 20000, 'a sleep while it spins');
        await settled(rt.gc(), 20000, 'a collection while it spins');
        const retakes = rt.stats().sched.retakes;
        // Queued behind the hog: JS goroutines run only on M 0's Worker, the new one.
        const queued = Array.from({ length: 10 }, (_, i) => rt.go((rt, i) => [i, rt.procid()], i));
        stop.trySend(true);
        const detail = await settled(died, 10000, 'the error event');
        const results = await settled(Promise.all(queued.map((g) => g.join())), 20000, 'the queued goroutines');
        const killed = await failure(hog.join());
        await settled(rt.gc(), 20000, 'a collection after');
        await settled(rt.shutdown({ timeoutMs: Infinity }), 10000, 'the shutdown');
        return { detail, retakes, results, killed };
      } finally {
        await rt.shutdown();
      }
    `,
      { expectErrors: onlyDeathReports(1), timeout: 60_000 },
    );
    assert.equal(r.detail.proc, 0);
    assert.ok(r.retakes >= 1, 'the P was handed to a spare M while the hog spun');
    assert.deepEqual(
      r.results,
      Array.from({ length: 10 }, (_, i) => [i, 0]),
    );
    assert.equal(r.killed.isGoroutineError, true);
    assert.equal(r.killed.cause.proc, 0);
  });
});

// `madeWorkers`: the page's Workers by name (`gort-m<index>`), the latest of each, so that a
// test can terminate one as the browser would kill it: wherever its M is, in the runtime's own
// code included.
const WORKERS = `
const madeWorkers = new Map();
{
  const Native = globalThis.Worker;
  globalThis.Worker = class extends Native {
    constructor(url, options) {
      super(url, options);
      madeWorkers.set(options?.name, this);
    }
  };
}
`;

describe('a Worker killed inside the runtime', () => {
  test("a spare M's: it is replaced, and the monitor hands a hogged P to a spare again", async () => {
    const r = await inPage(
      `${HELPERS}
      ${WORKERS}
      ${START_HOG}
      const rt = await Runtime.start({ procs: 1, maxProcs: 1 });
      try {
        const died = new Promise((resolve) => rt.addEventListener('error', (e) => resolve(e.detail)));
        // The warm spare M (index maxProcs), waiting in the runtime for a P to stand in for.
        madeWorkers.get('gort-m1').terminate();
        const detail = await settled(died, 10000, 'the error event');
        // A hog holds M 0's Worker: the page's operations finish only if a spare M takes its P.
        const { hog, stop } = await startHog(rt);
        await settled(rt.sleep(20), 20000, 'a sleep');
        await settled(rt.gc(), 20000, 'a collection');
        const c = rt.chan(0);
        const sent = c.send('through a rendezvous');
        const got = await settled(c.recv(), 20000, 'a rendezvous');
        await sent;
        const sched = rt.stats().sched;
        stop.trySend(true);
        const spins = await settled(hog.join(), 20000, 'the hog');
        await settled(rt.shutdown({ timeoutMs: Infinity }), 10000, 'the shutdown');
        return { detail, got, spins, retakes: sched.retakes, spareMs: sched.spareMs };
      } finally {
        await rt.shutdown();
      }
    `,
      { expectErrors: onlyDeathReports(1), timeout: 60_000 },
    );
    assert.equal(r.detail.proc, 1);
    assert.match(r.detail.message, /^the Worker of M 1 died: /);
    assert.equal(r.got, 'through a rendezvous');
    assert.ok(r.spins > 0);
    assert.ok(r.retakes >= 1, 'the hogged P was handed to a spare M');
    assert.ok(r.spareMs >= 1);
  });

  test("a P's M that never ran JS: its P is given back and a new Worker takes over", async () => {
    const r = await inPage(
      `${HELPERS}
      ${WORKERS}
      ${WORK}
      const rt = await Runtime.start({ procs: 2 });
      try {
        const died = new Promise((resolve) => rt.addEventListener('error', (e) => resolve(e.detail)));
        madeWorkers.get('gort-m1').terminate();
        const detail = await settled(died, 10000, 'the error event');
        const out = { detail, work: await settled(work(rt), 20000, 'work after the death') };
        const again = await settled(spread(rt, 2, 1), 20000, 'goroutines on both Ms again');
        for (const w of again) await w.cmd.send('go');
        out.procs = (await Promise.all(again.map((w) => w.g.join()))).map(([, proc]) => proc);
        await settled(rt.shutdown({ timeoutMs: Infinity }), 10000, 'the shutdown');
        return out;
      } finally {
        await rt.shutdown();
      }
    `,
      { expectErrors: onlyDeathReports(1), timeout: 60_000 },
    );
    assert.equal(r.detail.proc, 1);
    assert.deepEqual(r.work, WORK_RESULT);
    assert.ok(r.procs.includes(1), 'the new Worker of M 1 ran goroutines');
  });
});

describe('shutdown({ timeoutMs })', () => {
  // A busy Worker's thread ends about 2 s after terminate() in Chromium: the runtime's memory
  // is released then, while the other runtimes run, and the test waits for that (the debug
  // line) before it uses them again.
  test('terminates a Worker that never yields, rejects the joins left, and other runtimes keep working', async () => {
    const page = await openPage();
    try {
      const released = page.waitForEvent('console', {
        predicate: (m) => /is gone; the runtime is released/.test(m.text()),
        timeout: 30000,
      });
      const r = await evalModule(
        page,
        `${HELPERS}
        ${WORK}
        const other = await Runtime.start({ procs: 2 });
        window.other = other;
        const rt = await Runtime.start({ procs: 2 });
        const out = {};
        // Says so from inside its loop's synchronous block, then never yields.
        const ch = rt.chan(1);
        const hog = rt.go((rt, ch) => {
          ch.trySend('spinning');
          for (;;);
        }, ch);
        const blocked = rt.go(async (rt) => { await rt.chan().recv(); });
        out.hogSays = await ch.recv();
        const t0 = performance.now();
        await settled(rt.shutdown({ timeoutMs: 300 }), 10000, 'the shutdown');
        out.shutdownMs = performance.now() - t0;
        out.hog = await settled(failure(hog.join()), 5000, 'the hog join');
        out.blocked = await settled(failure(blocked.join()), 5000, 'the blocked join');
        out.again = await rt.shutdown();
        out.afterwards = await failure((async () => rt.go((rt) => 1))());
        out.other = await settled(work(other), 10000, 'the other runtime');
        return out;
      `,
      );
      console.log(`shutdown({ timeoutMs: 300 }) with a hog settled in ${r.shutdownMs.toFixed(1)} ms`);
      assert.equal(r.hogSays, 'spinning');
      assert.ok(r.shutdownMs >= 290, `${r.shutdownMs} ms: too early`);
      assert.ok(r.shutdownMs < 300 + 700, `${r.shutdownMs} ms: the timeout was not kept`);
      for (const j of [r.hog, r.blocked]) {
        assert.equal(j.name, 'ShutdownError');
        assert.equal(j.isShutdownError, true);
      }
      assert.equal(typeof r.hog.goroutineId, 'number');
      assert.equal(r.again, undefined);
      assert.equal(r.afterwards.name, 'ShutdownError');
      assert.deepEqual(r.other, WORK_RESULT);

      await released;
      const after = await evalModule(
        page,
        `${HELPERS}
        ${WORK}
        // The runtime that ran all along, and a new one.
        const out = { other: await settled(work(window.other), 10000, 'the other runtime') };
        const fresh = await Runtime.start({ procs: 2 });
        out.fresh = await settled(work(fresh), 10000, 'a new runtime');
        await settled(Promise.all([window.other.shutdown(), fresh.shutdown()]), 10000, 'shutting them down');
        return out;
      `,
      );
      assert.deepEqual(after, { other: WORK_RESULT, fresh: WORK_RESULT });
      assert.deepEqual(page.errors, [], 'console errors on the page');
      assert.ok(
        page.logs.some((l) => /^warning: gort: shutdown: the Worker of M \d did not stop within 300 ms/.test(l)),
      );
    } finally {
      await page.close();
    }
  });

  test('Workers that stop in time are not waited for longer, and the timeout is checked', async () => {
    const r = await inPage(`
      const rt = await Runtime.start({ procs: 2 });
      const attempt = (f) => { try { f(); return 'returned'; } catch (e) { return e.name; } };
      const bad = [attempt(() => rt.shutdown({ timeoutMs: -1 })), attempt(() => rt.shutdown({ timeoutMs: NaN })),
                   attempt(() => rt.shutdown({ timeoutMs: '5' }))];
      const g = rt.go(async (rt) => { await rt.sleep(1e6); });
      const t0 = performance.now();
      await rt.shutdown({ timeoutMs: 60000 });
      const ms = performance.now() - t0;
      let joined;
      try { await g.join(); } catch (e) { joined = e.name; }
      return { bad, ms, joined };
    `);
    assert.deepEqual(r.bad, ['RangeError', 'RangeError', 'TypeError']);
    assert.ok(r.ms < 5000, `${r.ms} ms`);
    assert.equal(r.joined, 'ShutdownError');
  });
});
