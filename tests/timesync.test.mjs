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
import { BLANK_PAGE, close, evalModule, inPage, openPage } from './harness.mjs';

after(close);

// In-page helpers: `until(rt, pred, what)` polls the goroutine dump until `pred(dump)`;
// `blocked(dump, reason)` counts the goroutines waiting for `reason`; `pause(ms)` is a page timer.
const UNTIL = `
async function until(rt, pred, what) {
  let dump = [];
  for (let i = 0; i < 2000; i++) {
    dump = await rt.goroutines();
    if (pred(dump)) return dump;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error('timed out waiting for ' + what + ': ' + JSON.stringify(dump));
}
const blocked = (dump, reason) => dump.filter((g) => g.state === 'waiting' && g.waitReason === reason).length;
const pause = (ms) => new Promise((r) => setTimeout(r, ms));
`;

// `attempt(f)`: what calling `f` did, awaited: `{ returned }` or the error's name and message
// (and whether it is a ShutdownError, on the page). `attemptSync(f)`: the same for a call that
// must throw rather than return a rejected promise. Self-contained: pasted into goroutines too.
const ATTEMPT = `
const describeError = (e) => ({
  name: e.name, message: e.message,
  shutdown: typeof gort === 'object' && e instanceof gort.ShutdownError,
});
const attempt = async (f) => {
  try {
    return { returned: await f() };
  } catch (e) {
    return describeError(e);
  }
};
const attemptSync = (f) => {
  try {
    const v = f();
    return { returned: v instanceof Promise ? 'a promise' : v };
  } catch (e) {
    return describeError(e);
  }
};
`;

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
      if (at <= last) early.push('tick ' + i + ' after reset is not after the one before');
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

  test("a ticker whose channel nothing holds stops, as Go 1.23 collects it: deadlocks are reported again", async () => {
    const r = await inPage(
      `
      ${UNTIL}
      const rt = await Runtime.start({ procs: 2 });
      try {
        const reports = [];
        rt.addEventListener('deadlock', (e) => reports.push(e.detail.message));
        // A live ticker is a pending timer: the runtime does not call a goroutine blocked for
        // ever (on a channel only it holds) a deadlock meanwhile (Go's checkdead does not either).
        const tk = rt.ticker(5);
        const g = rt.go(async (rt) => rt.chan().recv());
        await until(rt, (d) => blocked(d, 'chan receive') === 1, 'the receiver blocked');
        await pause(300);
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
});
