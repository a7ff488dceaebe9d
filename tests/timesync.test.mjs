// Headless-browser tests of Go's time and sync from JavaScript: `rt.timer`, `rt.afterFunc` and
// `rt.ticker` with Go 1.23's Stop and Reset, and `rt.rwMutex`, `rt.cond`, `rt.once`, written as a
// web app would write them. Go's own tests are ported where they apply (time/sleep_test.go:
// TestAfterStop, TestReset, TestAfterFunc, the stale-value tests of Stop and Reset;
// time/tick_test.go: TestTicker; sync: TestMutexMisuse's RWMutex cases, HammerRWMutex,
// TestCondSignal, TestCondBroadcast, TestOnce), each run from the page and inside a goroutine.
//
//   node --test tests/timesync.test.mjs
//
// Determinism: a bound on time is one way (a timer never fires early: its time is at least its
// deadline, less 1 ms for the clocks of two realms) or generous, and the tests that race timers
// against each other retry with longer durations before they fail, as Go's do. Properties that
// depend on scheduling (both Workers used) are checked over a few rounds.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ATTEMPT, BLANK_PAGE, UNTIL, close, evalModule, inPage, openPage } from './harness.mjs';

after(close);

// Go's time tests, each a self-contained function of `rt`, run from the page (with the page's
// rt) and inside a goroutine (with the goroutine's). Each returns what it found; the Node side
// asserts.
const TIME_PROGRAMS = `
// Go's TestAfterStop: stopped timers and afterFuncs do not fire, even past a later timer.
// Retried with longer units, as Go retries, so that a loaded machine does not fail it.
async function afterStop(rt) {
  async function once(rt, unit) {
    rt.afterFunc(2 * unit, () => {});
    const t0 = rt.timer(unit);
    const c1 = rt.chan(1);
    const t1 = rt.afterFunc(3 * unit, (rt, c1) => { c1.trySend(true); }, c1);
    const c2 = rt.after(4 * unit);
    if (!t0.stop()) return 'failed to stop event 0';
    if (!t1.stop()) return 'failed to stop event 1';
    await c2.recv();
    if (t0.c.tryRecv() !== undefined) return 'event 0 was not stopped';
    if (c1.tryRecv() !== undefined) return 'event 1 was not stopped';
    if (t1.stop()) return 'Stop returned true twice';
    return null;
  }
  const errs = [];
  for (const unit of [50, 100, 200, 400, 800]) {
    const err = await once(rt, unit);
    if (err === null) return { ok: true, errs };
    errs.push(unit + ' ms: ' + err);
  }
  return { ok: false, errs };
}

// Go's TestReset (testReset with increasing multiples of 25 ms).
async function reset(rt) {
  async function once(rt, dt) {
    const t0 = rt.timer(2 * dt);
    await rt.sleep(dt);
    if (!t0.reset(3 * dt)) return 'resetting unfired timer returned false';
    await rt.sleep(2 * dt);
    if (t0.c.tryRecv() !== undefined) return 'timer fired early';
    await rt.sleep(2 * dt);
    if (t0.c.tryRecv() === undefined) return 'reset timer did not fire';
    if (t0.reset(50)) return 'resetting expired timer returned true';
    t0.stop();
    return null;
  }
  const errs = [];
  for (const dt of [25, 75, 175, 375]) {
    const err = await once(rt, dt);
    if (err === null) return { ok: true, errs };
    errs.push(dt + ' ms: ' + err);
  }
  return { ok: false, errs };
}

// Go's TestAfterFunc: each run schedules the next with AfterFunc(0) and then sleeps for a
// second, so the chain does not wait for any run to return.
async function afterFuncChain(rt) {
  async function f(rt, i, c) {
    i--;
    if (i >= 0) {
      rt.afterFunc(0, f, i, c);
      await rt.sleep(1000);
    } else {
      await c.send(true);
    }
  }
  const c = rt.chan();
  const start = performance.now();
  rt.afterFunc(0, f, 10, c);
  const done = await c.recv();
  return { done, ms: performance.now() - start };
}

// Go 1.23's stale-value rules (TestTimerStopStaleValue, TestTimerResetStaleValue): a timer that
// fired but whose time was not received is still active; Stop and Reset drain that time, so
// the channel never yields a value from before them. Also: a timer sends once, and zero or a
// negative duration fires at once.
async function staleValues(rt) {
  const now = () => performance.timeOrigin + performance.now();
  const out = {};
  let t = rt.timer(1);
  await rt.sleep(20);
  out.stopActive = t.stop();
  out.afterStop = t.c.tryRecv();
  out.stopAgain = t.stop();

  t = rt.timer(1);
  await rt.sleep(20);
  const before = now();
  out.resetActive = t.reset(30);
  out.resetLate = (await t.c.recv()) - before;
  out.stopReceived = t.stop();
  out.resetReceived = t.reset(1_000_000);
  out.stopArmed = t.stop();

  const start = now();
  const once = rt.timer(10);
  out.onceLate = (await once.c.recv()) - start;
  await rt.sleep(30);
  out.secondValue = once.c.tryRecv();
  out.zero = typeof (await rt.timer(0).c.recv());
  out.negative = typeof (await rt.timer(-5).c.recv());
  return out;
}

// Go's TestTicker: count ticks at delta, then Reset to 2 * delta for as many again; the whole
// takes 3 * delta * count / 2 (within 30 %, or retried with longer durations), no tick comes
// before its time, and a stopped ticker sends nothing more.
async function ticker(rt) {
  const now = () => performance.timeOrigin + performance.now();
  const errs = [];
  for (const [count, delta] of [[10, 20], [10, 50], [8, 150]]) {
    const early = [];
    const tk = rt.ticker(delta);
    const t0 = now();
    let last = 0;
    for (let i = 1; i <= count / 2; i++) {
      last = await tk.c.recv();
      if (last < t0 + i * delta - 1) early.push('tick ' + i + ' at ' + (last - t0) + ' ms');
    }
    const r = now();
    tk.reset(delta * 2);
    for (let i = 1; i <= count - count / 2; i++) {
      const at = await tk.c.recv();
      if (at < r + i * 2 * delta - 1) early.push('tick ' + i + ' after reset at ' + (at - r) + ' ms');
      if (at < last) early.push('tick ' + i + ' after reset came before the one before it');
      last = at;
    }
    tk.stop();
    const dt = now() - t0;
    if (early.length) return { ok: false, errs: [...errs, ...early], early: true };
    const target = 3 * delta * (count / 2);
    const slop = (target * 3) / 10;
    if (dt < target - slop || dt > target + slop) {
      errs.push(count + ' ' + delta + ' ms ticks took ' + dt + ' ms, expected ' + target + ' ± ' + slop);
      continue;
    }
    await rt.sleep(2 * delta);
    if (tk.c.tryRecv() !== undefined) {
      errs.push('Ticker did not shut down');
      continue;
    }
    // A slow receiver misses ticks instead of getting them bunched: the channel holds one.
    const slow = rt.ticker(5);
    await rt.sleep(60);
    const held = [slow.c.cap, slow.c.len <= 1];
    slow.stop();
    return { ok: true, errs, held };
  }
  return { ok: false, errs };
}
`;

function checkTimePrograms(r, side) {
  assert.equal(r.afterStop.ok, true, `${side}: TestAfterStop failed every try: ${r.afterStop.errs}`);
  assert.equal(r.reset.ok, true, `${side}: TestReset failed every try: ${r.reset.errs}`);
  assert.equal(r.chain.done, true, side);
  assert.ok(r.chain.ms < 1000, `${side}: the afterFunc chain waited for a run to return: ${r.chain.ms} ms`);
  const s = r.stale;
  assert.equal(s.stopActive, true, `${side}: a fired, unreceived timer is active`);
  assert.equal(s.afterStop, undefined, `${side}: a stale value after stop`);
  assert.equal(s.stopAgain, false, side);
  assert.equal(s.resetActive, true, `${side}: a fired, unreceived timer is active for reset`);
  assert.ok(s.resetLate >= 29, `${side}: received a stale value after reset (${s.resetLate} ms)`);
  assert.equal(s.stopReceived, false, `${side}: stop after the value was received`);
  assert.equal(s.resetReceived, false, `${side}: reset after the value was received`);
  assert.equal(s.stopArmed, true, `${side}: stop of a reset timer`);
  assert.ok(s.onceLate >= 9, `${side}: a 10 ms timer fired after ${s.onceLate} ms`);
  assert.equal(s.secondValue, undefined, `${side}: a timer sends once`);
  assert.equal(s.zero, 'number', side);
  assert.equal(s.negative, 'number', side);
  assert.equal(r.ticker.ok, true, `${side}: TestTicker failed: ${r.ticker.errs}`);
  assert.deepEqual(r.ticker.held, [1, true], side);
}

describe('timers', () => {
  test("Go's timer tests from the page: TestAfterStop, TestReset, TestAfterFunc, stale values, TestTicker", async () => {
    const r = await inPage(`
      ${TIME_PROGRAMS}
      const rt = await Runtime.start({ procs: 2 });
      try {
        return {
          afterStop: await afterStop(rt), reset: await reset(rt), chain: await afterFuncChain(rt),
          stale: await staleValues(rt), ticker: await ticker(rt),
        };
      } finally {
        await rt.shutdown();
      }
    `);
    checkTimePrograms(r, 'page');
  });

  test("Go's timer tests inside a goroutine", async () => {
    const r = await inPage(`
      ${TIME_PROGRAMS}
      const rt = await Runtime.start({ procs: 2 });
      try {
        const run = (f) => rt.go(f).join();
        return {
          afterStop: await run(afterStop), reset: await run(reset), chain: await run(afterFuncChain),
          stale: await run(staleValues), ticker: await run(ticker),
        };
      } finally {
        await rt.shutdown();
      }
    `);
    checkTimePrograms(r, 'goroutine');
  });

  test('afterFunc starts its goroutine as rt.go does: arguments (a copy per firing), module tasks, names', async () => {
    const r = await inPage(`
      ${UNTIL}
      const rt = await Runtime.start({ procs: 2 });
      try {
        const out = {};
        const ch = rt.chan(8);
        // A function target with arguments; each firing (after a reset) gets them afresh.
        const payload = { n: 20, bytes: new Uint8Array([1, 2, 3]), nested: [ch] };
        const t = rt.afterFunc(5, async function fired(rt, p, tag) {
          p.bytes[0] += 10; // its own copy
          await p.nested[0].send({ tag, n: p.n * 2, first: p.bytes[0], goid: rt.goid() });
        }, payload, 'x');
        out.c = t.c;
        const a = await ch.recv();
        out.resetAfterFired = t.reset(5);
        const b = await ch.recv();
        out.firings = [a.tag, a.n, a.first, b.tag, b.n, b.first, a.goid !== b.goid];
        out.pageCopy = payload.bytes[0];
        // A module task, relative to the page, and its name in the dump while it waits.
        const gate = rt.chan();
        rt.afterFunc(0, { fn: async (rt, gate) => gate.recv(), name: 'gated' }, gate);
        const dump = await until(rt, (d) => d.some((g) => g.name === 'gated' && g.waitReason === 'chan receive'), 'the named afterFunc');
        out.named = dump.find((g) => g.name === 'gated').waitReason;
        await gate.send(1);
        const nums = rt.chan();
        rt.afterFunc(1, { module: './tasks.js', export: 'produce' }, nums, 3);
        out.module = [];
        for await (const v of nums) out.module.push(v);
        // Stopped before it fired: its goroutine never starts, even after more time.
        const never = rt.chan(1);
        const s = rt.afterFunc(30, (rt, never) => never.trySend('ran'), never);
        out.stopped = [s.stop(), s.stop()];
        await rt.sleep(80);
        out.neverRan = never.tryRecv();
        // Pending afterFuncs hold no goroutine (only heap entries): 200 of them, then the dump.
        const pending = Array.from({ length: 200 }, () => rt.afterFunc(60000, () => {}));
        const settled = await until(rt, (d) => d.length === 0, 'no goroutine for pending afterFuncs');
        out.pendingGoroutines = settled.length;
        out.pendingStopped = pending.every((t) => t.stop());
        // Inside a goroutine: the same, from its rt.
        out.inGoroutine = await rt.go(async (rt) => {
          const c = rt.chan();
          const t = rt.afterFunc(1, async (rt, c, x) => c.send(x + 1), c, 41);
          return [await c.recv(), t.c, t.stop()];
        }).join();
        // Bad targets and arguments: as rt.go's, at the call.
        const err = (f) => { try { f(); return 'no error'; } catch (e) { return e.name + ': ' + e.message; } };
        out.badTarget = err(() => rt.afterFunc(1, 42));
        out.badArg = err(() => rt.afterFunc(1, () => {}, () => {}));
        out.badMs = [err(() => rt.afterFunc('1', () => {})), err(() => rt.afterFunc(NaN, () => {}))];
        return out;
      } finally {
        await rt.shutdown();
      }
    `);
    assert.equal(r.c, null, "an afterFunc timer's channel is null (Go's nil C)");
    assert.equal(r.resetAfterFired, false, 'reset of a fired afterFunc: not active');
    assert.deepEqual(r.firings, ['x', 40, 11, 'x', 40, 11, true], 'each firing, a goroutine with its own arguments');
    assert.equal(r.pageCopy, 1, 'the arguments were copied at the call');
    assert.equal(r.named, 'chan receive');
    assert.deepEqual(r.module, [0, 1, 2]);
    assert.deepEqual(r.stopped, [true, false]);
    assert.equal(r.neverRan, undefined, 'a stopped afterFunc ran');
    assert.equal(r.pendingGoroutines, 0);
    assert.equal(r.pendingStopped, true, 'every pending afterFunc was active');
    assert.deepEqual(r.inGoroutine, [42, null, false]);
    assert.match(r.badTarget, /^TypeError: rt\.afterFunc: expected a function or a task spec/);
    assert.match(r.badArg, /^TypeError: cannot send argument 1: /);
    assert.match(r.badMs[0], /^TypeError: rt\.afterFunc: expected a duration in ms/);
    assert.match(r.badMs[1], /^RangeError: rt\.afterFunc: the duration is NaN/);
  });

  test("an afterFunc's goroutine that throws is reported as uncaught, as a throwing setTimeout callback is", async () => {
    const page = await openPage();
    try {
      const r = await evalModule(
        page,
        `
        const rt = await Runtime.start({ procs: 2 });
        try {
          const thrown = rt.chan(1);
          rt.afterFunc(1, async (rt, thrown) => {
            await thrown.send(rt.goid());
            throw new RangeError('afterFunc boom');
          }, thrown);
          const id = await thrown.recv();
          // The runtime keeps going.
          return { id, after: await rt.go((rt, x) => x * 2, 21).join() };
        } finally {
          await new Promise((r) => setTimeout(r, 50));
          await rt.shutdown();
        }
      `,
      );
      assert.equal(r.after, 42);
      for (let i = 0; i < 500 && !page.errors.some((e) => e.includes('afterFunc boom')); i++) {
        await new Promise((res) => setTimeout(res, 20));
      }
      assert.ok(
        page.errors.some((e) => e.includes('uncaught error') && e.includes('RangeError: afterFunc boom')),
        `the error was reported: ${JSON.stringify(page.errors)}`,
      );
    } finally {
      await page.close();
    }
  });

  test('ticker and timer argument checks: a non-positive interval is a RangeError, as Go panics', async () => {
    const r = await inPage(`
      const rt = await Runtime.start({ procs: 1 });
      try {
        const err = (f) => { try { f(); return 'no error'; } catch (e) { return e.name + ': ' + e.message; } };
        const tk = rt.ticker(1000);
        const out = {
          zero: err(() => rt.ticker(0)), negative: err(() => rt.ticker(-1)), nan: err(() => rt.ticker(NaN)),
          string: err(() => rt.ticker('10')), resetZero: err(() => tk.reset(0)), resetNaN: err(() => tk.reset(NaN)),
          timerString: err(() => rt.timer('10')), timerNaN: err(() => rt.timer(NaN)),
          timerResetNaN: err(() => rt.timer(10).reset(NaN)), timerInfinity: rt.timer(Infinity).stop(),
          tickerInfinity: typeof rt.ticker(Infinity).stop(),
        };
        tk.stop();
        return out;
      } finally {
        await rt.shutdown();
      }
    `);
    assert.equal(r.zero, 'RangeError: rt.ticker: non-positive interval for NewTicker (got 0 ms)');
    assert.match(r.negative, /^RangeError: rt\.ticker: non-positive interval for NewTicker/);
    assert.equal(r.nan, 'RangeError: rt.ticker: the duration is NaN');
    assert.match(r.string, /^TypeError: rt\.ticker: expected a duration in ms/);
    assert.equal(r.resetZero, 'RangeError: Ticker.reset: non-positive interval for Ticker.Reset (got 0 ms)');
    assert.equal(r.resetNaN, 'RangeError: Ticker.reset: the duration is NaN');
    assert.match(r.timerString, /^TypeError: rt\.timer: expected a duration in ms/);
    assert.equal(r.timerNaN, 'RangeError: rt.timer: the duration is NaN');
    assert.equal(r.timerResetNaN, 'RangeError: Timer.reset: the duration is NaN');
    assert.equal(r.timerInfinity, true, 'a timer armed for ever is active');
    assert.equal(r.tickerInfinity, 'undefined');
  });

  test('a ticker whose channel nothing holds stops, as Go 1.23 collects it: deadlocks are reported again', async () => {
    const r = await inPage(
      `
      ${UNTIL}
      const rt = await Runtime.start({ procs: 2 });
      try {
        const reports = [];
        rt.addEventListener('deadlock', (e) => reports.push(e.detail.message));
        // A live ticker is a pending timer: the runtime does not call a goroutine blocked for
        // ever (on a channel only it holds) a deadlock meanwhile (Go's checkdead does not
        // either), however often its Ms look for one as it ticks: releasing a handle has an M
        // look.
        const tk = rt.ticker(1);
        const g = rt.go(async (rt) => rt.chan().recv());
        await until(rt, (d) => blocked(d, 'chan receive') === 1, 'the receiver blocked');
        const start = performance.now();
        for (let i = 0; performance.now() - start < 2500; i++) {
          for (let j = 0; j < 50; j++) rt.chan().release();
          await pause(i % 3);
        }
        const whileTicking = reports.length;
        // Nothing holds its channel any more: it goes quiet at its next tick, and the deadlock
        // is reported.
        tk.c.release();
        for (let i = 0; i < 1000 && reports.length === 0; i++) await pause(10);
        let join;
        try { await g.join(); } catch (e) { join = e.name; }
        return { whileTicking, reports, join, id: g.id, stop: typeof tk.stop() };
      } finally {
        await rt.shutdown();
      }
    `,
      { expectErrors: (errors, r) => assert.deepEqual(errors, r.reports) },
    );
    assert.equal(r.whileTicking, 0, 'a deadlock reported while a ticker ticks');
    assert.equal(r.reports.length, 1, 'no report once the ticker went quiet');
    assert.ok(r.reports[0].includes(`goroutine ${r.id} [chan receive]`), r.reports[0]);
    assert.equal(r.join, 'GoroutineError');
    assert.equal(r.stop, 'undefined');
  });
});

describe('RWMutex', () => {
  test("TestMutexMisuse's RWMutex cases: a SyncError in Go's words, and nothing changes", async () => {
    const r = await inPage(`
      ${ATTEMPT}
      const rt = await Runtime.start({ procs: 2 });
      try {
        async function misuse(rt) {
          ${ATTEMPT}
          const out = {};
          const name = (x) => x.message === undefined ? x : x.name + ': ' + x.message;
          let mu = rt.rwMutex();
          out['RWMutex.Unlock'] = name(attemptSync(() => mu.unlock()));
          mu = rt.rwMutex();
          await mu.rLock();
          out['RWMutex.Unlock2'] = name(attemptSync(() => mu.unlock()));
          out['Unlock2 still read-locked'] = [mu.tryLock(), mu.tryRLock()];
          mu = rt.rwMutex();
          await mu.lock(); mu.unlock();
          out['RWMutex.Unlock3'] = name(attemptSync(() => mu.unlock()));
          mu = rt.rwMutex();
          out['RWMutex.RUnlock'] = name(attemptSync(() => mu.rUnlock()));
          mu = rt.rwMutex();
          await mu.lock();
          out['RWMutex.RUnlock2'] = name(attemptSync(() => mu.rUnlock()));
          out['RUnlock2 still locked'] = [mu.tryLock(), mu.tryRLock()];
          mu = rt.rwMutex();
          await mu.rLock(); mu.rUnlock();
          out['RWMutex.RUnlock3'] = name(attemptSync(() => mu.rUnlock()));
          out['Mutex.Unlock'] = name(attemptSync(() => rt.mutex().unlock()));
          return out;
        }
        return { page: await misuse(rt), goroutine: await rt.go(misuse).join() };
      } finally {
        await rt.shutdown();
      }
    `);
    const runlock = 'SyncError: sync: RUnlock of unlocked RWMutex';
    const unlock = 'SyncError: sync: Unlock of unlocked RWMutex';
    const expected = {
      'RWMutex.Unlock': unlock,
      'RWMutex.Unlock2': unlock,
      'Unlock2 still read-locked': [false, true],
      'RWMutex.Unlock3': unlock,
      'RWMutex.RUnlock': runlock,
      'RWMutex.RUnlock2': runlock,
      'RUnlock2 still locked': [false, false],
      'RWMutex.RUnlock3': runlock,
      'Mutex.Unlock': 'SyncError: sync: unlock of unlocked mutex',
    };
    assert.deepEqual(r.page, expected);
    assert.deepEqual(r.goroutine, expected);
  });

  test('HammerRWMutex: on two Workers, readers share the lock and never see a writer; a writer is alone', async () => {
    const r = await inPage(`
      const rt = await Runtime.start({ procs: 2 });
      try {
        // "readersIn" counts the readers inside (one token each), "writerIn" the writers (capacity
        // 1: a second writer inside cannot put its token). Each holder yields inside, so that
        // others run meanwhile.
        async function reader(rt, rw, readersIn, writerIn, iters) {
          const procs = new Set();
          let violations = 0, most = 0;
          const end = performance.now() + 3; // spin a little first, so that both Ms take goroutines
          while (performance.now() < end) {}
          for (let i = 0; i < iters; i++) {
            await rw.rLock();
            procs.add(rt.procid());
            if (writerIn.len !== 0) violations++;
            readersIn.trySend(1);
            if (i % 2) await rt.gosched(); else await rt.sleep(0);
            most = Math.max(most, readersIn.len);
            if (writerIn.len !== 0) violations++;
            readersIn.tryRecv();
            rw.rUnlock();
          }
          return { violations, procs: [...procs], most };
        }
        async function writer(rt, rw, readersIn, writerIn, iters) {
          const procs = new Set();
          let violations = 0;
          const end = performance.now() + 3;
          while (performance.now() < end) {}
          for (let i = 0; i < iters; i++) {
            await rw.lock();
            procs.add(rt.procid());
            if (!writerIn.trySend(1)) violations++;
            if (readersIn.len !== 0) violations++;
            if (i % 2) await rt.gosched(); else { const t = performance.now() + 0.05; while (performance.now() < t) {} }
            if (readersIn.len !== 0) violations++;
            if (!writerIn.tryRecv()) violations++;
            rw.unlock();
          }
          return { violations, procs: [...procs], most: 0 };
        }
        const rounds = [];
        for (let round = 0; round < 5; round++) {
          const rw = rt.rwMutex(), readersIn = rt.chan(8), writerIn = rt.chan(1);
          const gs = [
            ...Array.from({ length: 4 }, () => rt.go(reader, rw, readersIn, writerIn, 30)),
            rt.go(writer, rw, readersIn, writerIn, 30),
            ...Array.from({ length: 4 }, () => rt.go(reader, rw, readersIn, writerIn, 30)),
            rt.go(writer, rw, readersIn, writerIn, 30),
          ];
          const res = await Promise.all(gs.map((g) => g.join()));
          rounds.push({
            violations: res.reduce((a, x) => a + x.violations, 0),
            procs: [...new Set(res.flatMap((x) => x.procs))].sort(),
            most: Math.max(...res.map((x) => x.most)),
            free: rw.tryLock(),
          });
          if (rounds.at(-1).procs.length === 2) break;
        }
        return rounds;
      } finally {
        await rt.shutdown();
      }
    `);
    for (const round of r) {
      assert.equal(round.violations, 0, JSON.stringify(r));
      assert.equal(round.free, true, 'unlocked after every goroutine finished');
      assert.ok(round.most >= 2, `readers held the lock together: ${JSON.stringify(r)}`);
    }
    assert.deepEqual(r.at(-1).procs, [0, 1], `the goroutines ran on both Workers: ${JSON.stringify(r)}`);
  });

  test('a waiting writer holds back new readers, which go first after it; tryRLock, tryLock; wait reasons', async () => {
    const r = await inPage(`
      ${UNTIL}
      const rt = await Runtime.start({ procs: 2 });
      try {
        const out = {};
        const rw = rt.rwMutex(), order = rt.chan(8);
        await rw.rLock();
        out.tryRLockShared = rw.tryRLock();
        rw.rUnlock();
        out.tryLockWhileRead = rw.tryLock();
        const w1 = rt.go(async (rt, rw, order) => { await rw.lock(); await order.send('w1'); rw.unlock(); }, rw, order);
        await until(rt, (d) => blocked(d, 'sync.RWMutex.Lock') === 1, 'the writer waiting');
        out.tryRLockWriterWaits = rw.tryRLock();
        const r1 = rt.go(async (rt, rw, order) => { await rw.rLock(); await order.send('r1'); rw.rUnlock(); }, rw, order);
        await until(rt, (d) => blocked(d, 'sync.RWMutex.RLock') === 1, 'the reader waiting');
        const w2 = rt.go(async (rt, rw, order) => { await rw.lock(); await order.send('w2'); rw.unlock(); }, rw, order);
        await until(rt, (d) => blocked(d, 'sync.RWMutex.Lock') === 2, 'a second writer waiting');
        rw.rUnlock(); // w1 goes; then r1, which waited through it, before w2
        await Promise.all([w1.join(), r1.join(), w2.join()]);
        out.order = [order.tryRecv().value, order.tryRecv().value, order.tryRecv().value];
        out.free = [rw.tryLock(), rw.tryRLock()];
        rw.unlock();
        // The page waits for a lock a goroutine holds.
        const held = rt.chan(), go = rt.chan();
        const holder = rt.go(async (rt, rw, held, go) => { await rw.lock(); await held.send(1); await go.recv(); rw.unlock(); }, rw, held, go);
        await held.recv();
        const pageRead = rw.rLock().then(() => 'read');
        await go.send(1);
        out.pageRead = await pageRead;
        rw.rUnlock();
        await holder.join();
        return out;
      } finally {
        await rt.shutdown();
      }
    `);
    assert.equal(r.tryRLockShared, true);
    assert.equal(r.tryLockWhileRead, false);
    assert.equal(r.tryRLockWriterWaits, false, 'a waiting writer holds back new readers');
    assert.deepEqual(r.order, ['w1', 'r1', 'w2']);
    assert.deepEqual(r.free, [true, false]);
    assert.equal(r.pageRead, 'read');
  });
});

describe('Cond', () => {
  test('TestCondSignal: each signal wakes one waiter', async () => {
    const r = await inPage(`
      const rt = await Runtime.start({ procs: 2 });
      try {
        const out = { notAsleep: 0, tooMany: 0, woke: 0 };
        const m = rt.mutex(), c = rt.cond(m);
        out.sameL = c.L === m;
        let n = 2;
        const running = rt.chan(n), awake = rt.chan(n);
        for (let i = 0; i < n; i++) {
          rt.go(async (rt, m, c, running, awake) => {
            await m.lock();
            await running.send(true);
            await c.wait();
            await awake.send(true);
            m.unlock();
          }, m, c, running, awake);
        }
        for (let i = 0; i < n; i++) await running.recv(); // wait for everyone to run
        while (n > 0) {
          if (awake.tryRecv() !== undefined) out.notAsleep++;
          await m.lock();
          c.signal();
          m.unlock();
          await awake.recv(); // never resolves if no goroutine wakes up
          out.woke++;
          await new Promise((r) => setTimeout(r, 20)); // time for a wrong second wake-up to show
          if (awake.tryRecv() !== undefined) out.tooMany++;
          n--;
        }
        c.signal();
        return out;
      } finally {
        await rt.shutdown();
      }
    `);
    assert.deepEqual(r, { notAsleep: 0, tooMany: 0, woke: 2, sameL: true });
  });

  test('TestCondBroadcast: a broadcast wakes every waiter, each once', async () => {
    const r = await inPage(`
      const rt = await Runtime.start({ procs: 2 });
      try {
        const out = { notAsleep: 0, twice: 0, rounds: 0, exited: 0 };
        const n = 20;
        const m = rt.mutex(), c = rt.cond(m);
        const running = rt.chan(n), awake = rt.chan(n), exit = rt.chan();
        const gs = [];
        for (let g = 0; g < n; g++) {
          gs.push(rt.go(async (rt, m, c, running, awake, exit, g) => {
            await m.lock();
            while (exit.tryRecv() === undefined) { // open: undefined; closed: { ok: false }
              await running.send(g);
              await c.wait();
              await awake.send(g);
            }
            m.unlock();
            return g;
          }, m, c, running, awake, exit, g));
        }
        for (let i = 0; i < 5; i++) {
          for (let j = 0; j < n; j++) await running.recv(); // all n are about to wait
          if (i === 4) {
            await m.lock();
            exit.close();
            m.unlock();
          }
          if (awake.tryRecv() !== undefined) out.notAsleep++;
          await m.lock();
          c.broadcast();
          m.unlock();
          const seen = new Set();
          for (let j = 0; j < n; j++) {
            const g = await awake.recv();
            if (seen.has(g)) out.twice++;
            seen.add(g);
          }
          out.rounds++;
        }
        out.exited = (await Promise.all(gs.map((g) => g.join()))).length;
        out.stillRunning = running.tryRecv();
        c.broadcast();
        return out;
      } finally {
        await rt.shutdown();
      }
    `);
    assert.deepEqual(r, { notAsleep: 0, twice: 0, rounds: 5, exited: 20, stillRunning: undefined });
  });

  test('wait without holding L is a SyncError; wait reasons; bad mutexes are TypeErrors', async () => {
    const r = await inPage(`
      ${UNTIL}
      const rt = await Runtime.start({ procs: 2 });
      const other = await Runtime.start({ procs: 1 });
      try {
        const out = {};
        const err = async (f) => { try { await f(); return 'no error'; } catch (e) { return e.name + ': ' + e.message; } };
        const m = rt.mutex(), c = rt.cond(m);
        out.unlockedPage = await err(() => c.wait());
        out.stillUnlocked = m.tryLock();
        m.unlock();
        out.unlockedGoroutine = await rt.go(async (rt) => {
          const c = rt.cond(rt.mutex());
          try { await c.wait(); return 'no error'; } catch (e) { return e.name + ': ' + e.message; }
        }).join();
        // A waiter shows "sync.Cond.Wait" until signalled, then "sync.Mutex.Lock" while the page
        // holds L.
        const g = rt.go(async (rt, c) => { await c.L.lock(); await c.wait(); c.L.unlock(); return 'woke'; }, c);
        await until(rt, (d) => blocked(d, 'sync.Cond.Wait') === 1, 'the waiter waiting');
        await m.lock();
        c.signal();
        await until(rt, (d) => blocked(d, 'sync.Mutex.Lock') === 1, 'the waiter relocking');
        m.unlock();
        out.woke = await g.join();
        out.notAMutex = await err(() => rt.cond(rt.rwMutex()));
        out.nothing = await err(() => rt.cond());
        out.otherRuntime = await err(() => rt.cond(other.mutex()));
        const released = rt.mutex();
        released.release();
        out.released = await err(() => rt.cond(released));
        return out;
      } finally {
        await rt.shutdown();
        await other.shutdown();
      }
    `);
    assert.equal(r.unlockedPage, 'SyncError: sync: unlock of unlocked mutex');
    assert.equal(r.stillUnlocked, true, 'a failed wait leaves the mutex alone');
    assert.equal(r.unlockedGoroutine, 'SyncError: sync: unlock of unlocked mutex');
    assert.equal(r.woke, 'woke');
    assert.match(r.notAMutex, /^TypeError: rt\.cond: expected a Mutex, got an object \(Object\)/);
    assert.match(r.nothing, /^TypeError: rt\.cond: expected a Mutex, got undefined/);
    assert.equal(r.otherRuntime, 'TypeError: rt.cond: the mutex belongs to another runtime');
    assert.equal(r.released, 'TypeError: rt.cond: this mutex was released');
  });
});

describe('Once', () => {
  test('TestOnce across goroutines on both Workers: it runs once, and every caller waits until it returned', async () => {
    const r = await inPage(`
      ${UNTIL}
      const rt = await Runtime.start({ procs: 2 });
      try {
        const out = { rounds: [] };
        async function caller(rt, once, ran, finished, gate) {
          const end = performance.now() + 3; // spin a little first, so that both Ms take goroutines
          while (performance.now() < end) {}
          await once.do(async () => {
            ran.trySend(rt.goid());
            await gate.recv(); // the page lets it return
            finished.trySend(true);
          });
          return { proc: rt.procid(), sawFinished: finished.len === 1 };
        }
        for (let round = 0; round < 5; round++) {
          const once = rt.once(), ran = rt.chan(10), finished = rt.chan(1), gate = rt.chan();
          const gs = Array.from({ length: 10 }, () => rt.go(caller, once, ran, finished, gate));
          // Every other caller waits, as in Go, on the Once's mutex.
          await until(rt, (d) => ran.len === 1 && blocked(d, 'sync.Mutex.Lock') === 9, 'nine callers waiting');
          await gate.send(1);
          const res = await Promise.all(gs.map((g) => g.join()));
          out.rounds.push({
            ran: ran.len,
            sawFinished: res.every((x) => x.sawFinished),
            procs: [...new Set(res.map((x) => x.proc))].sort(),
          });
          if (out.rounds.at(-1).procs.length === 2) break;
        }
        // From the page, after goroutines: nothing more runs.
        const once = rt.once();
        let n = 0;
        await rt.go(async (rt, once) => once.do(() => {}), once).join();
        await once.do(() => n++);
        out.pageAfter = n;
        return out;
      } finally {
        await rt.shutdown();
      }
    `);
    for (const round of r.rounds)
      assert.deepEqual({ ...round, procs: undefined }, { ran: 1, sawFinished: true, procs: undefined });
    assert.deepEqual(r.rounds.at(-1).procs, [0, 1], `callers ran on both Workers: ${JSON.stringify(r.rounds)}`);
    assert.equal(r.pageAfter, 0);
  });

  test("a throwing function counts as done (Go's panic): its caller gets the error, later calls run nothing", async () => {
    const r = await inPage(`
      const rt = await Runtime.start({ procs: 2 });
      try {
        async function program(rt) {
          const out = {};
          const once = rt.once();
          const boom = new RangeError('once boom');
          try { await once.do(() => { throw boom; }); out.first = 'no error'; } catch (e) { out.first = [e === boom, e.name, e.message]; }
          let n = 0;
          await once.do(() => n++);
          await once.do(async () => n++);
          out.after = n;
          // Sync and async functions alike; the result of fn is not do's.
          const o2 = rt.once();
          out.result = await o2.do(async () => { await rt.sleep(1); return 'ignored'; });
          try { await rt.once().do('not a function'); } catch (e) { out.notFn = e.name + ': ' + e.message; }
          return out;
        }
        return { page: await program(rt), goroutine: await rt.go(program).join() };
      } finally {
        await rt.shutdown();
      }
    `);
    const expected = {
      first: [true, 'RangeError', 'once boom'],
      after: 0,
      result: undefined,
      notFn: 'TypeError: Once.do: expected a function, got the string "not a function"',
    };
    assert.deepEqual(r.page, expected);
    assert.deepEqual(r.goroutine, expected);
  });
});

describe('handles', () => {
  test('RWMutex, Cond (with its L) and Once travel in arguments, messages and results; timers do not, their channels do', async () => {
    const r = await inPage(`
      const rt = await Runtime.start({ procs: 2 });
      const other = await Runtime.start({ procs: 1 });
      try {
        const out = {};
        const rw = rt.rwMutex(), m = rt.mutex(), c = rt.cond(m), once = rt.once(), back = rt.chan(1);
        await once.do(() => {});
        await m.lock(); // the page holds L: the goroutine's L is the same mutex
        await rw.rLock();
        out.inGoroutine = await rt.go(async (rt, { rw, c, once }, back) => {
          const seen = {
            kinds: [rw.constructor.name, c.constructor.name, c.L.constructor.name, once.constructor.name],
            lHeld: c.L.tryLock(),
            readShared: rw.tryRLock(),
            writeHeld: rw.tryLock(),
          };
          rw.rUnlock();
          let ran = false;
          await once.do(() => { ran = true; });
          seen.onceRan = ran;
          const mine = rt.rwMutex();
          await mine.lock();
          await back.send({ mine, cond: c });
          return seen;
        }, { rw, c, once }, back).join();
        m.unlock();
        rw.rUnlock();
        const got = await back.recv();
        out.back = [got.mine instanceof gort.RWMutex, got.mine.tryRLock(), got.cond instanceof gort.Cond, got.cond.L instanceof gort.Mutex];
        got.mine.unlock(); // any goroutine may unlock, as in Go
        out.unlockedBack = got.mine.tryRLock();
        // The received Cond's L is the page's mutex: a goroutine signalled through one handle
        // wakes from the other.
        const waiter = rt.go(async (rt, c) => { await c.L.lock(); await c.wait(); c.L.unlock(); return 'woke'; }, got.cond);
        for (;;) {
          await m.lock();
          const waiting = (await rt.goroutines()).some((g) => g.waitReason === 'sync.Cond.Wait');
          if (waiting) c.signal();
          m.unlock();
          if (waiting) break;
          await new Promise((r) => setTimeout(r, 2));
        }
        out.signalled = await waiter.join();
        // Timers and tickers are not handles; their channels are.
        const err = (f) => { try { f(); return 'no error'; } catch (e) { return e.name + ': ' + e.message; } };
        const t = rt.timer(5), tk = rt.ticker(1000);
        out.sendTimer = err(() => rt.go(() => {}, t));
        out.sendTicker = err(() => back.trySend({ every: tk }));
        out.timerChan = await rt.go(async (rt, c) => typeof (await c.recv()), t.c).join();
        tk.stop();
        // Another runtime's, or a released one, at the call.
        out.otherRuntime = err(() => other.go(() => {}, rw));
        const gone = rt.once();
        gone.release();
        out.released = err(() => rt.go(() => {}, [gone]));
        out.releasedUse = await gone.do(() => {}).then(() => 'no error', (e) => e.name + ': ' + e.message);
        return out;
      } finally {
        await rt.shutdown();
        await other.shutdown();
      }
    `);
    assert.deepEqual(r.inGoroutine, {
      kinds: ['RWMutex', 'Cond', 'Mutex', 'Once'],
      lHeld: false,
      readShared: true,
      writeHeld: false,
      onceRan: false,
    });
    assert.deepEqual(r.back, [true, false, true, true]);
    assert.equal(r.unlockedBack, true);
    assert.equal(r.signalled, 'woke');
    assert.equal(
      r.sendTimer,
      'TypeError: cannot send argument 1: a Timer cannot cross goroutines (it is not a handle); send its channel, c, instead',
    );
    assert.equal(
      r.sendTicker,
      'TypeError: cannot send channel value.every: a Ticker cannot cross goroutines (it is not a handle); send its channel, c, instead',
    );
    assert.equal(r.timerChan, 'number');
    assert.match(
      r.otherRuntime,
      /^TypeError: cannot send argument 1: a RWMutex of another runtime cannot be used here/,
    );
    assert.match(r.released, /^TypeError: cannot send argument 1\[0\]: the Once was released/);
    assert.equal(r.releasedUse, 'TypeError: Once.do: this Once was released');
  });

  test('after shutdown every call is a ShutdownError, and pending locks and waits reject with one', async () => {
    const r = await inPage(`
      ${ATTEMPT}
      const rt = await Runtime.start({ procs: 2 });
      const rw = rt.rwMutex(), m = rt.mutex(), c = rt.cond(m), once = rt.once();
      const t = rt.timer(60000), af = rt.afterFunc(60000, () => {}), tk = rt.ticker(60000);
      await rw.lock();
      await m.lock();
      // A goroutine runs the once's function until the shutdown: the page's call waits.
      rt.go(async (rt, once, gate) => once.do(() => gate.recv()), once, rt.chan());
      while (!(await rt.goroutines()).some((g) => g.waitReason === 'chan receive')) await new Promise((r) => setTimeout(r, 2));
      const pending = {
        'rw.rLock': attempt(() => rw.rLock()),
        'rw.lock': attempt(() => rw.lock()),
        'cond.wait': attempt(() => c.wait()),
        'once.do': attempt(() => once.do(() => {})),
        'timer.c.recv': attempt(() => t.c.recv()),
      };
      await new Promise((r) => setTimeout(r, 50));
      await rt.shutdown();
      const out = { pending: {}, sync: {}, async: {} };
      for (const [k, p] of Object.entries(pending)) out.pending[k] = await p;
      const sync = {
        'rt.timer': () => rt.timer(1), 'rt.afterFunc': () => rt.afterFunc(1, () => {}), 'rt.ticker': () => rt.ticker(1),
        'rt.rwMutex': () => rt.rwMutex(), 'rt.cond': () => rt.cond(m), 'rt.once': () => rt.once(),
        'Timer.stop': () => t.stop(), 'Timer.reset': () => t.reset(1), 'Timer.stop (afterFunc)': () => af.stop(),
        'Ticker.stop': () => tk.stop(), 'Ticker.reset': () => tk.reset(1),
        'RWMutex.rUnlock': () => rw.rUnlock(), 'RWMutex.unlock': () => rw.unlock(),
        'RWMutex.tryLock': () => rw.tryLock(), 'RWMutex.tryRLock': () => rw.tryRLock(),
        'Cond.signal': () => c.signal(), 'Cond.broadcast': () => c.broadcast(),
      };
      for (const [k, f] of Object.entries(sync)) out.sync[k] = attemptSync(f);
      const later = {
        'RWMutex.rLock': () => rw.rLock(), 'RWMutex.lock': () => rw.lock(), 'Cond.wait': () => c.wait(),
        'Once.do': () => once.do(() => {}),
      };
      for (const [k, f] of Object.entries(later)) out.async[k] = await attempt(f);
      out.L = c.L === m;
      out.release = attemptSync(() => { rw.release(); c.release(); once.release(); });
      return out;
    `);
    for (const [k, x] of Object.entries(r.pending)) {
      assert.equal(x.name, 'ShutdownError', `${k}: ${JSON.stringify(x)}`);
      assert.equal(x.shutdown, true, k);
    }
    for (const [k, x] of Object.entries(r.sync)) {
      assert.equal(x.name, 'ShutdownError', `${k}: ${JSON.stringify(x)}`);
      assert.ok(x.message.startsWith(k.replace(/ \(.*\)$/, '') + ':'), `${k}: ${x.message}`);
    }
    for (const [k, x] of Object.entries(r.async)) {
      assert.equal(x.name, 'ShutdownError', `${k}: ${JSON.stringify(x)}`);
      assert.ok(x.message.startsWith(k + ':'), `${k}: ${x.message}`);
    }
    assert.equal(r.L, true, "a Cond's L is still readable");
    assert.deepEqual(r.release, { returned: undefined }, 'release after shutdown is quiet');
  });
});

describe('deadlock reports', () => {
  test('goroutines blocked on an RWMutex and a Cond are reported with their wait reasons', async () => {
    const r = await inPage(
      `
      ${UNTIL}
      const rt = await Runtime.start({ procs: 2 });
      try {
        const report = new Promise((resolve) => rt.addEventListener('deadlock', (e) => resolve(e.detail.message)));
        // Made inside a goroutine, so that the page holds none of them; it returns holding the
        // write lock.
        const ids = await rt.go(async (rt) => {
          const rw = rt.rwMutex(), m = rt.mutex(), c = rt.cond(m);
          await rw.lock();
          const r1 = rt.go(async (rt, rw) => rw.rLock(), rw);
          const w1 = rt.go(async (rt, rw) => rw.lock(), rw);
          const cw = rt.go(async (rt, c) => { await c.L.lock(); await c.wait(); }, c);
          return { rLock: r1.id, lock: w1.id, wait: cw.id };
        }).join();
        const message = await Promise.race([report, new Promise((r) => setTimeout(() => r(null), 10000))]);
        return { ids, message };
      } finally {
        await rt.shutdown();
      }
    `,
      { expectErrors: (errors, r) => assert.deepEqual(errors, [r.message], 'the report, on the console once') },
    );
    assert.equal(typeof r.message, 'string', 'a deadlock event fired');
    assert.ok(r.message.includes('all goroutines are asleep - deadlock!'), r.message);
    assert.ok(r.message.includes(`goroutine ${r.ids.rLock} [sync.RWMutex.RLock]`), r.message);
    assert.ok(r.message.includes(`goroutine ${r.ids.lock} [sync.RWMutex.Lock]`), r.message);
    assert.ok(r.message.includes(`goroutine ${r.ids.wait} [sync.Cond.Wait]`), r.message);
  });

  test('no report while the page holds the RWMutex, Cond or Once a goroutine waits on; one once it lets go', async () => {
    const r = await inPage(
      `
      ${UNTIL}
      const rt = await Runtime.start({ procs: 2 });
      try {
        const reports = [];
        rt.addEventListener('deadlock', (e) => reports.push(e.detail.message));
        const rw = rt.rwMutex(), c = rt.cond(rt.mutex()), once = rt.once();
        await rw.lock();
        const gate = rt.chan();
        const first = rt.go(async (rt, once, gate) => once.do(() => gate.recv()), once, gate);
        await until(rt, (d) => blocked(d, 'chan receive') === 1, 'the once running');
        const gs = [
          rt.go(async (rt, rw) => rw.rLock(), rw),
          rt.go(async (rt, c) => { await c.L.lock(); await c.wait(); }, c),
          rt.go(async (rt, once) => once.do(() => {}), once),
        ];
        await until(rt, (d) => blocked(d, 'sync.RWMutex.RLock') === 1 && blocked(d, 'sync.Cond.Wait') === 1 &&
          blocked(d, 'sync.Mutex.Lock') === 1, 'the waiters blocked');
        // The page could still release each of them (and the once's runner waits on a channel
        // only it holds, which the page could not).
        gate.release();
        await pause(400);
        const whileHeld = reports.length;
        rw.release(); c.release(); c.L.release(); once.release();
        for (let i = 0; i < 1000 && reports.length === 0; i++) await pause(10);
        return { whileHeld, reports, ids: gs.map((g) => g.id), first: first.id };
      } finally {
        await rt.shutdown();
      }
    `,
      { expectErrors: (errors, r) => assert.deepEqual(errors, r.reports) },
    );
    assert.equal(r.whileHeld, 0, 'a deadlock reported while the page held what the goroutines wait on');
    assert.equal(r.reports.length, 1);
    const [rLock, wait, onceWaiter] = r.ids;
    assert.ok(r.reports[0].includes(`goroutine ${rLock} [sync.RWMutex.RLock]`), r.reports[0]);
    assert.ok(r.reports[0].includes(`goroutine ${wait} [sync.Cond.Wait]`), r.reports[0]);
    assert.ok(r.reports[0].includes(`goroutine ${onceWaiter} [sync.Mutex.Lock]`), r.reports[0]);
  });
});

describe('a page without cross-origin isolation', () => {
  test('timers, an afterFunc, a ticker, an RWMutex, a Cond and a Once on one P on the page', async () => {
    const r = await inPage(
      `
      const rt = await Runtime.start();
      try {
        const now = () => performance.timeOrigin + performance.now();
        const out = { threaded: rt.threaded };
        // A timer, stopped and reset.
        const start = now();
        const t = rt.timer(20);
        out.stop = t.stop();
        out.reset = t.reset(10);
        out.late = (await t.c.recv()) - start;
        // An afterFunc and a ticker, from a goroutine.
        out.goroutine = await rt.go(async (rt) => {
          const c = rt.chan();
          rt.afterFunc(5, async (rt, c) => c.send('fired'), c);
          const fired = await c.recv();
          const start = performance.timeOrigin + performance.now();
          const tk = rt.ticker(5);
          const a = await tk.c.recv(), b = await tk.c.recv();
          tk.stop();
          // On its phase: never before start + 5 and start + 10 (a late tick is followed by a
          // sooner one, as in Go).
          return [fired, a >= start + 4 && b >= start + 9];
        }).join();
        // An RWMutex: three readers hold it together, a writer waits for them, then holds it alone.
        const rw = rt.rwMutex(), inside = rt.chan(3), leave = rt.chan();
        const readers = Array.from({ length: 3 }, () => rt.go(async (rt, rw, inside, leave) => {
          await rw.rLock(); await inside.send(1); await leave.recv(); rw.rUnlock();
        }, rw, inside, leave));
        for (let i = 0; i < 3; i++) await inside.recv();
        const w = rt.go(async (rt, rw) => { await rw.lock(); const alone = !rw.tryRLock(); rw.unlock(); return alone; }, rw);
        while (!(await rt.goroutines()).some((g) => g.waitReason === 'sync.RWMutex.Lock')) await rt.sleep(1);
        out.readersShared = !rw.tryLock();
        leave.close();
        await Promise.all(readers.map((g) => g.join()));
        out.writerAlone = await w.join();
        // A Cond: a goroutine waits for the page's signal.
        const m = rt.mutex(), c = rt.cond(m), ready = rt.chan(1);
        const waiter = rt.go(async (rt, c, ready) => { await c.L.lock(); await ready.send(1); await c.wait(); c.L.unlock(); return 'woke'; }, c, ready);
        await ready.recv();
        await m.lock();
        c.broadcast();
        m.unlock();
        out.cond = await waiter.join();
        // A Once.
        const once = rt.once();
        let n = 0;
        await Promise.all([once.do(() => n++), rt.go(async (rt, once) => once.do(() => {}), once).join(), once.do(() => n++)]);
        out.once = n;
        return out;
      } finally {
        await rt.shutdown();
      }
    `,
      { path: `${BLANK_PAGE}?isolated=0` },
    );
    assert.equal(r.threaded, false);
    assert.equal(r.stop, true);
    assert.equal(r.reset, false);
    assert.ok(r.late >= 9, `the reset timer fired after ${r.late} ms`);
    assert.deepEqual(r.goroutine, ['fired', true]);
    assert.equal(r.writerAlone, true);
    assert.equal(r.readersShared, true);
    assert.equal(r.cond, 'woke');
    assert.ok(r.once <= 1, 'a Once ran more than once');
  });
});
