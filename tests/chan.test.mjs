// Headless-browser tests of gort's channels, select, timers, WaitGroup, Mutex and deadlock
// reports, through the JS facade: Go's semantics (FIFO ordering, close, select fairness, nil
// channels, timers in deadline order), Go's classic programs (prime sieve, fan-out/fan-in,
// channels of channels) run both from the page and inside goroutines, shutting down amid
// channel traffic, a seeded randomized stress, and the error cases.
//
//   node --test tests/chan.test.mjs
//
// Each test opens its own page and shuts its runtime down in `finally`. The machine running
// these may have two cores and be busy: nothing depends on scheduling luck, waits for a state
// ("three goroutines blocked sending") poll the goroutine dump, and timing bounds are generous.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { UNTIL, close, inPage } from './harness.mjs';

after(close);

// In-page helpers, prepended to the snippets that use them.

// `leftRunning(rt)`: the goroutines still listed once the dump settles (a goroutine's join
// resolves as it returns, so it may be listed a moment longer).
const LEFT = `
async function leftRunning(rt) {
  let left = [];
  for (let i = 0; i < 200; i++) {
    left = await rt.goroutines();
    if (left.length === 0) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  return left;
}
`;

// `failure(promise)`: what a promise rejected with, as a plain object (or `{ resolved }`).
const FAILURE = `
async function failure(p) {
  try {
    return { resolved: await p };
  } catch (e) {
    return { name: e.name, message: e.message, ctor: e.constructor.name, isError: e instanceof Error };
  }
}
`;

describe('ordering', () => {
  test('buffered and unbuffered channels deliver in FIFO order, from the page and between goroutines', async () => {
    const r = await inPage(`
      const rt = await Runtime.start({ procs: 2 });
      try {
        const out = {};
        // Buffered, the page alone.
        const b = rt.chan(5);
        out.caps = [b.cap, rt.chan().cap, rt.chan(0).cap];
        for (let i = 0; i < 5; i++) await b.send('v' + i);
        out.lenFull = b.len;
        out.trySendFull = b.trySend('extra');
        out.page = [];
        for (let i = 0; i < 5; i++) out.page.push(await b.recv());
        out.lenEmpty = b.len;
        out.tryRecvEmpty = b.tryRecv() === undefined;
        out.trySendRoom = b.trySend({ k: 1 });
        out.tryRecvValue = b.tryRecv();

        // Unbuffered: a goroutine sends 200 values, the page receives them.
        const u = rt.chan();
        const producer = rt.go(async (rt, ch, n) => {
          for (let i = 0; i < n; i++) await ch.send(i);
          return 'sent';
        }, u, 200);
        out.unbuffered = [];
        for (let i = 0; i < 200; i++) out.unbuffered.push(await u.recv());
        out.producer = await producer.join();

        // Goroutine to goroutine, over a buffered and an unbuffered channel.
        for (const cap of [3, 0]) {
          const ch = rt.chan(cap);
          const consumer = rt.go(async (rt, ch, n) => {
            const got = [];
            for (let i = 0; i < n; i++) got.push(await ch.recv());
            return got;
          }, ch, 300);
          rt.go(async (rt, ch, n) => { for (let i = 0; i < n; i++) await ch.send(i); }, ch, 300);
          out['g2g' + cap] = await consumer.join();
        }
        return out;
      } finally {
        await rt.shutdown();
      }
    `);
    const range = (n) => Array.from({ length: n }, (_, i) => i);
    assert.deepEqual(r.caps, [5, 0, 0]);
    assert.equal(r.lenFull, 5);
    assert.equal(r.trySendFull, false);
    assert.deepEqual(r.page, ['v0', 'v1', 'v2', 'v3', 'v4']);
    assert.equal(r.lenEmpty, 0);
    assert.equal(r.tryRecvEmpty, true);
    assert.equal(r.trySendRoom, true);
    assert.deepEqual(r.tryRecvValue, { value: { k: 1 }, ok: true });
    assert.deepEqual(r.unbuffered, range(200));
    assert.equal(r.producer, 'sent');
    assert.deepEqual(r.g2g3, range(300));
    assert.deepEqual(r.g2g0, range(300));
  });

  test('blocked senders and blocked receivers are served in the order they arrived', async () => {
    const r = await inPage(`
      ${UNTIL}
      const rt = await Runtime.start({ procs: 2 });
      try {
        const out = {};
        // Senders queue on a full buffered channel (cap 2) and on an unbuffered one.
        for (const cap of [2, 0]) {
          const ch = rt.chan(cap);
          for (let i = 0; i < cap; i++) ch.trySend('buffered' + i);
          const senders = [];
          for (let i = 0; i < 5; i++) {
            senders.push(rt.go(async (rt, ch, i) => { await ch.send('sender' + i); return i; }, ch, i));
            await until(rt, (d) => blocked(d, 'chan send') === i + 1, (i + 1) + ' blocked senders');
          }
          const got = [];
          for (let i = 0; i < cap + 5; i++) got.push(await ch.recv());
          out['senders' + cap] = { got, joined: await Promise.all(senders.map((g) => g.join())), len: ch.len };
        }
        // Receivers queue on an empty channel; the page then sends one value each.
        const ch = rt.chan(1);
        const receivers = [];
        for (let i = 0; i < 5; i++) {
          receivers.push(rt.go(async (rt, ch, i) => ({ i, v: await ch.recv() }), ch, i));
          await until(rt, (d) => blocked(d, 'chan receive') === i + 1, (i + 1) + ' blocked receivers');
        }
        for (let i = 0; i < 5; i++) await ch.send(100 + i);
        out.receivers = await Promise.all(receivers.map((g) => g.join()));
        return out;
      } finally {
        await rt.shutdown();
      }
    `);
    const senders = ['sender0', 'sender1', 'sender2', 'sender3', 'sender4'];
    assert.deepEqual(r.senders2.got, ['buffered0', 'buffered1', ...senders]);
    assert.deepEqual(r.senders0.got, senders);
    for (const s of [r.senders2, r.senders0]) {
      assert.deepEqual(s.joined, [0, 1, 2, 3, 4]);
      assert.equal(s.len, 0);
    }
    assert.deepEqual(
      r.receivers,
      [0, 1, 2, 3, 4].map((i) => ({ i, v: 100 + i })),
    );
  });
});

describe('close', () => {
  test('close wakes blocked senders with ChannelError and blocked receivers with ok: false', async () => {
    const r = await inPage(`
      ${UNTIL}
      ${FAILURE}
      const rt = await Runtime.start({ procs: 2 });
      try {
        const out = {};
        // Goroutines blocked sending on a full channel, and on an unbuffered one.
        for (const cap of [1, 0]) {
          const ch = rt.chan(cap);
          if (cap) await ch.send('kept');
          const senders = [0, 1, 2].map((i) => rt.go(async (rt, ch, i) => {
            try {
              await ch.send(i);
              return { sent: i };
            } catch (e) {
              return { name: e.name, ctor: e.constructor.name, message: e.message, isError: e instanceof Error };
            }
          }, ch, i));
          await until(rt, (d) => blocked(d, 'chan send') === 3, '3 blocked senders');
          ch.close();
          out['senders' + cap] = await Promise.all(senders.map((g) => g.join()));
          // What was buffered before the close is still delivered, then ok: false.
          out['after' + cap] = [await ch.recvOk(), await ch.recvOk()];
        }
        // Goroutines blocked receiving.
        const rc = rt.chan(2);
        const receivers = [0, 1, 2].map(() => rt.go(async (rt, ch) => {
          const first = await ch.recvOk();
          return { first, again: await ch.recvOk(), recv: await ch.recv(), tryRecv: ch.tryRecv() };
        }, rc));
        await until(rt, (d) => blocked(d, 'chan receive') === 3, '3 blocked receivers');
        rc.close();
        out.receivers = await Promise.all(receivers.map((g) => g.join()));

        // The page blocked: a goroutine closes the channel under it.
        const ps = rt.chan();
        const closer = async (rt, ch) => { await rt.sleep(20); ch.close(); };
        rt.go(closer, ps);
        const pageSend = await failure(ps.send('x'));
        out.pageSend = { ...pageSend, isChannelError: await ps.send(1).catch((e) => e instanceof gort.ChannelError) };
        const pr = rt.chan();
        rt.go(closer, pr);
        out.pageRecv = await pr.recvOk();
        return out;
      } finally {
        await rt.shutdown();
      }
    `);
    for (const cap of [1, 0]) {
      for (const s of r['senders' + cap]) {
        assert.deepEqual(s, {
          name: 'ChannelError',
          ctor: 'ChannelError',
          message: 'send on closed channel',
          isError: true,
        });
      }
    }
    assert.deepEqual(r.after1, [
      { value: 'kept', ok: true },
      { value: undefined, ok: false },
    ]);
    assert.deepEqual(r.after0, [
      { value: undefined, ok: false },
      { value: undefined, ok: false },
    ]);
    for (const x of r.receivers) {
      assert.deepEqual(x, {
        first: { value: undefined, ok: false },
        again: { value: undefined, ok: false },
        recv: undefined,
        tryRecv: { value: undefined, ok: false },
      });
    }
    assert.deepEqual(r.pageSend, {
      name: 'ChannelError',
      ctor: 'ChannelError',
      message: 'send on closed channel',
      isError: true,
      isChannelError: true,
    });
    assert.deepEqual(r.pageRecv, { value: undefined, ok: false });
  });

  test('a closed channel is drained first, then reports ok: false; for await ends at close', async () => {
    const r = await inPage(`
      ${FAILURE}
      const rt = await Runtime.start({ procs: 2 });
      try {
        const out = {};
        const ch = rt.chan(4);
        for (const v of ['a', 'b', 'c']) await ch.send(v);
        ch.close();
        out.len = ch.len;
        out.send = await failure(ch.send('d'));
        out.trySend = await failure((async () => ch.trySend('d'))());
        out.lenAfterFailedSends = ch.len;
        out.values = [await ch.recv(), await ch.recvOk(), ch.tryRecv()];
        out.closed = [await ch.recvOk(), ch.tryRecv(), await ch.recv()];
        out.lenDrained = ch.len;

        // A goroutine fills a channel, closes it and returns; the page drains it with for await.
        const fromG = rt.chan(10);
        await rt.go(async (rt, ch) => {
          for (let i = 0; i < 7; i++) await ch.send(i * i);
          ch.close();
        }, fromG).join();
        out.bufferedAfterReturn = fromG.len;
        out.forAwait = [];
        for await (const v of fromG) out.forAwait.push(v);
        out.forAwaitAgain = [];
        for await (const v of fromG) out.forAwaitAgain.push(v);

        // Inside a goroutine: for await over a channel the page fills and closes.
        const toG = rt.chan(3);
        const g = rt.go(async (rt, ch) => {
          const got = [];
          for await (const v of ch) got.push(v);
          return { got, after: await ch.recvOk() };
        }, toG);
        for (let i = 0; i < 10; i++) await toG.send('m' + i);
        toG.close();
        out.inGoroutine = await g.join();
        return out;
      } finally {
        await rt.shutdown();
      }
    `);
    const closedSend = { name: 'ChannelError', ctor: 'ChannelError', message: 'send on closed channel', isError: true };
    assert.equal(r.len, 3);
    assert.deepEqual(r.send, closedSend);
    assert.deepEqual(r.trySend, closedSend);
    assert.equal(r.lenAfterFailedSends, 3);
    assert.deepEqual(r.values, ['a', { value: 'b', ok: true }, { value: 'c', ok: true }]);
    assert.deepEqual(r.closed, [{ value: undefined, ok: false }, { value: undefined, ok: false }, undefined]);
    assert.equal(r.lenDrained, 0);
    assert.equal(r.bufferedAfterReturn, 7);
    assert.deepEqual(r.forAwait, [0, 1, 4, 9, 16, 25, 36]);
    assert.deepEqual(r.forAwaitAgain, []);
    assert.deepEqual(r.inGoroutine, {
      got: Array.from({ length: 10 }, (_, i) => 'm' + i),
      after: { value: undefined, ok: false },
    });
  });
});

describe('select', () => {
  test('select chooses uniformly among ready cases (2000 selects inside a goroutine)', async () => {
    const r = await inPage(`
      const rt = await Runtime.start({ procs: 2 });
      try {
        const out = {};
        // Two buffered channels that always hold a value: each select takes one, which is put back.
        out.recv = await rt.go(async (rt, n) => {
          const chans = [rt.chan(1), rt.chan(1)];
          chans[0].trySend('a');
          chans[1].trySend('b');
          const counts = [0, 0];
          for (let i = 0; i < n; i++) {
            const r = await rt.select([{ recv: chans[0] }, { recv: chans[1] }]);
            if (!r.ok || r.value !== 'ab'[r.index]) throw new Error('unexpected select result ' + JSON.stringify(r));
            counts[r.index]++;
            if (!chans[r.index].trySend(r.value)) throw new Error('could not put the value back');
          }
          return counts;
        }, 2000).join();
        // Two channels that always have room: each select sends into one, which is emptied.
        out.send = await rt.go(async (rt, n) => {
          const chans = [rt.chan(1), rt.chan(1)];
          const counts = [0, 0];
          for (let i = 0; i < n; i++) {
            const r = await rt.select([{ send: chans[0], value: i }, { send: chans[1], value: -i }]);
            counts[r.index]++;
            const got = chans[r.index].tryRecv();
            if (!got || got.value !== (r.index ? -i : i) || chans[1 - r.index].len !== 0) {
              throw new Error('the select sent the wrong value: ' + JSON.stringify({ r, got }));
            }
          }
          return counts;
        }, 2000).join();
        // From the page: two closed channels are always ready.
        const closed = [rt.chan(), rt.chan()];
        closed.forEach((c) => c.close());
        out.closedFromPage = [0, 0];
        for (let i = 0; i < 1000; i++) {
          const r = await rt.select([{ recv: closed[0] }, { recv: closed[1] }]);
          if (r.ok) throw new Error('a closed channel received a value');
          out.closedFromPage[r.index]++;
        }
        return out;
      } finally {
        await rt.shutdown();
      }
    `);
    for (const [what, counts] of Object.entries(r)) {
      const total = counts[0] + counts[1];
      for (const c of counts) {
        assert.ok(c >= 0.35 * total && c <= 0.65 * total, `${what}: shares ${counts} are not within 35–65%`);
      }
    }
    assert.equal(r.recv[0] + r.recv[1], 2000);
    assert.equal(r.send[0] + r.send[1], 2000);
    assert.equal(r.closedFromPage[0] + r.closedFromPage[1], 1000);
  });

  test('select with default, blocking select, nil channels, send on a closed channel', async () => {
    const r = await inPage(`
      // The same checks from the page and inside a goroutine.
      async function selects(rt) {
        async function failure(p) {
          try {
            return { resolved: await p };
          } catch (e) {
            return { name: e.name, message: e.message };
          }
        }
        const out = {};
        const empty = rt.chan(1), full = rt.chan(1);
        full.trySend('f');
        out.defaultOnly = await rt.select([], { default: true });
        out.notReady = await rt.select([{ recv: empty }, { send: full, value: 1 }], { default: true });
        out.lens = [empty.len, full.len];
        out.recvReady = await rt.select([{ recv: empty }, { recv: full }], { default: true });
        out.sendReady = await rt.select([{ recv: empty }, { send: full, value: { n: 2 } }], { default: true });
        out.sentValue = full.tryRecv();
        // Nil channels are never ready, with or without a default.
        out.nilDefault = await rt.select([{ recv: null }, { send: null, value: 1 }, { recv: undefined }], { default: true });
        const closed = rt.chan();
        closed.close();
        const picks = new Set();
        for (let i = 0; i < 100; i++) {
          const r = await rt.select([{ recv: null }, { recv: closed }, { send: null, value: i }]);
          picks.add(r.index + ':' + r.ok);
        }
        out.nilWithClosed = [...picks];
        // A nil case beside a timer: the timer fires.
        const t0 = performance.timeOrigin + performance.now();
        const timed = await rt.select([{ recv: null }, { send: null, value: 0 }, { recv: rt.after(15) }]);
        out.timed = { index: timed.index, ok: timed.ok, isNumber: typeof timed.value === 'number', late: timed.value - t0 };
        // Blocking until a goroutine sends on the second channel.
        const a = rt.chan(), b = rt.chan();
        rt.go(async (rt, b) => { await rt.sleep(10); await b.send('from goroutine'); }, b);
        out.blocking = await rt.select([{ recv: a }, { recv: b }]);
        // A send case completes when a goroutine receives.
        const c = rt.chan();
        const receiver = rt.go(async (rt, c) => { await rt.sleep(10); return c.recv(); }, c);
        out.blockingSend = await rt.select([{ recv: a }, { send: c, value: [1, 'two'] }]);
        out.received = await receiver.join();
        // A send case on a closed channel fails as Go's send would.
        out.sendClosed = await failure(rt.select([{ send: closed, value: 1 }], { default: true }));
        out.badCase = await failure(rt.select([{ recv: 42 }]));
        return out;
      }
      const rt = await Runtime.start({ procs: 2 });
      try {
        return { page: await selects(rt), goroutine: await rt.go(selects).join() };
      } finally {
        await rt.shutdown();
      }
    `);
    for (const side of ['page', 'goroutine']) {
      const x = r[side];
      const msg = `${side}: ${JSON.stringify(x)}`;
      assert.equal(x.defaultOnly.index, -1, msg);
      assert.equal(x.notReady.index, -1, msg);
      assert.equal(x.notReady.value, undefined, msg);
      assert.deepEqual(x.lens, [0, 1], msg);
      assert.deepEqual(x.recvReady, { index: 1, value: 'f', ok: true }, msg);
      assert.equal(x.sendReady.index, 1, msg);
      assert.deepEqual(x.sentValue, { value: { n: 2 }, ok: true }, msg);
      assert.equal(x.nilDefault.index, -1, msg);
      assert.deepEqual(x.nilWithClosed, ['1:false'], msg);
      assert.equal(x.timed.index, 2, msg);
      assert.equal(x.timed.ok, true, msg);
      assert.equal(x.timed.isNumber, true, msg);
      assert.ok(x.timed.late >= 14 && x.timed.late < 2000, msg);
      assert.deepEqual(x.blocking, { index: 1, value: 'from goroutine', ok: true }, msg);
      assert.equal(x.blockingSend.index, 1, msg);
      assert.deepEqual(x.received, [1, 'two'], msg);
      assert.equal(x.sendClosed.name, 'ChannelError', msg);
      assert.equal(x.sendClosed.message, 'send on closed channel', msg);
      assert.equal(x.badCase.name, 'TypeError', msg);
      assert.match(x.badCase.message, /case 0\.recv/, msg);
    }
  });
});

describe('timers', () => {
  // One P: the order in which timers of different Ps are delivered depends on how the OS
  // schedules the Workers, and a loaded machine can hold one back longer than the gaps here.
  test('sleepers wake in deadline order; after() channels fire in deadline order', async () => {
    const r = await inPage(`
      const rt = await Runtime.start({ procs: 1 });
      try {
        const out = {};
        // Children of one goroutine sleep until deadlines d ms after a common start and report
        // when they wake (absolute deadlines: a child that starts late keeps its place).
        out.sleepers = await rt.go(async (rt, durations) => {
          const done = rt.chan(durations.length);
          const now = () => performance.timeOrigin + performance.now();
          const start = now() + 20;
          const gs = durations.map((d) => rt.go(async (rt, at, d, done) => {
            const now = () => performance.timeOrigin + performance.now();
            await rt.sleep(Math.max(0, at - now()));
            const late = now() - at;
            await done.send(d);
            return late;
          }, start + d, d, done));
          const order = [];
          for (let i = 0; i < durations.length; i++) order.push(await done.recv());
          const late = [];
          for (const g of gs) late.push(await g.join());
          return { order, late };
        }, [100, 25, 75, 0, 50, 125, 150]).join();

        // From the page: three after() channels, selected until all fired (fired ones become nil).
        const t0 = performance.timeOrigin + performance.now();
        const ms = [60, 20, 40];
        const timers = ms.map((d) => rt.after(d));
        out.afterOrder = [];
        out.afterLate = [];
        for (let i = 0; i < 3; i++) {
          const r = await rt.select(timers.map((t) => ({ recv: t })));
          out.afterOrder.push(ms[r.index]);
          out.afterLate.push(r.value - t0 - ms[r.index]);
          timers[r.index] = null;
        }
        return out;
      } finally {
        await rt.shutdown();
      }
    `);
    const durations = [100, 25, 75, 0, 50, 125, 150];
    assert.deepEqual(r.sleepers.order, [0, 25, 50, 75, 100, 125, 150]);
    r.sleepers.late.forEach((late, i) =>
      assert.ok(late >= -1, `the sleeper for ${durations[i]} ms woke ${-late} ms early`),
    );
    assert.deepEqual(r.afterOrder, [20, 40, 60]);
    for (const late of r.afterLate) assert.ok(late >= -1 && late < 2000, `after() fired ${late} ms late`);
  });

  test('rt.sleep(1) inside a goroutine takes at least 1 ms and well under 20 ms on average', async () => {
    const r = await inPage(`
      const rt = await Runtime.start({ procs: 2 });
      try {
        return await rt.go(async (rt) => {
          await rt.sleep(1); // warm up
          const took = [];
          for (let i = 0; i < 20; i++) {
            const t0 = performance.now();
            await rt.sleep(1);
            took.push(performance.now() - t0);
          }
          return took;
        }).join();
      } finally {
        await rt.shutdown();
      }
    `);
    const mean = r.reduce((a, b) => a + b, 0) / r.length;
    for (const took of r) assert.ok(took >= 1, `sleep(1) took ${took} ms: ${r}`);
    assert.ok(mean < 20, `sleep(1) took ${mean} ms on average: ${r}`);
  });
});

describe('WaitGroup and Mutex', () => {
  test('WaitGroup waits for goroutines; a negative counter throws SyncError and changes nothing', async () => {
    const r = await inPage(`
      ${FAILURE}
      async function misuse(rt) {
        const out = {};
        const wg = rt.waitGroup();
        const attempt = (f) => { try { f(); return 'ok'; } catch (e) { return { name: e.name, message: e.message, ctor: e.constructor.name }; } };
        out.addNegative = attempt(() => wg.add(-1));
        out.doneAtZero = attempt(() => wg.done());
        wg.add(2);
        out.tooMuch = attempt(() => wg.add(-3));
        wg.done();
        wg.done();
        out.doneAgain = attempt(() => wg.done());
        out.fraction = attempt(() => wg.add(0.5));
        out.notNumber = attempt(() => wg.add('1'));
        // The counter is still zero: wait returns at once.
        out.wait = await Promise.race([wg.wait().then(() => 'returned'), new Promise((r) => setTimeout(() => r('blocked'), 2000))]);
        return out;
      }
      const rt = await Runtime.start({ procs: 2 });
      try {
        const out = { page: await misuse(rt), goroutine: await rt.go(misuse).join() };
        out.isSyncError = (() => { try { rt.waitGroup().done(); } catch (e) { return e instanceof gort.SyncError; } })();

        // Eight goroutines each send on a channel, then call done; wait returns after all of them.
        const wg = rt.waitGroup(), ch = rt.chan(8);
        wg.add(8);
        for (let i = 0; i < 8; i++) {
          rt.go(async (rt, wg, ch, i) => { await rt.sleep(5 * (i % 4)); await ch.send(i); wg.done(); }, wg, ch, i);
        }
        await wg.wait();
        out.lenAfterWait = ch.len;
        // A goroutine waits on a wait group the page counts down.
        const wg2 = rt.waitGroup();
        wg2.add(2);
        const waiter = rt.go(async (rt, wg) => { await wg.wait(); return 'woke'; }, wg2);
        wg2.done();
        await new Promise((r) => setTimeout(r, 20));
        out.waiterBefore = (await rt.goroutines()).find((g) => g.id === waiter.id)?.waitReason;
        wg2.done();
        out.waiter = await waiter.join();
        return out;
      } finally {
        await rt.shutdown();
      }
    `);
    const negative = { name: 'SyncError', message: 'sync: negative WaitGroup counter', ctor: 'SyncError' };
    for (const side of ['page', 'goroutine']) {
      const x = r[side];
      assert.deepEqual(x.addNegative, negative, side);
      assert.deepEqual(x.doneAtZero, negative, side);
      assert.deepEqual(x.tooMuch, negative, side);
      assert.deepEqual(x.doneAgain, negative, side);
      assert.equal(x.fraction.name, 'SyncError', side);
      assert.equal(x.notNumber.name, 'TypeError', side);
      assert.equal(x.wait, 'returned', side);
    }
    assert.equal(r.isSyncError, true);
    assert.equal(r.lenAfterWait, 8);
    assert.equal(r.waiterBefore, 'sync.WaitGroup.Wait');
    assert.equal(r.waiter, 'woke');
  });

  test('Mutex excludes goroutines on both workers; tryLock; unlock of an unlocked mutex throws', async () => {
    const r = await inPage(`
      ${UNTIL}
      const rt = await Runtime.start({ procs: 2 });
      try {
        const out = { rounds: [] };
        // Eight goroutines increment a counter (a channel of capacity 1) under the lock, yielding
        // while they hold it; "inside" (capacity 1) catches two holders at once.
        async function worker(rt, mu, inside, counter, iters) {
          const procs = new Set();
          let violations = 0;
          // Spin a little first, so that both Ms pick up goroutines.
          const end = performance.now() + 3;
          while (performance.now() < end) {}
          for (let i = 0; i < iters; i++) {
            await mu.lock();
            procs.add(rt.procid());
            if (!inside.trySend(rt.goid())) violations++;
            const c = counter.tryRecv();
            if (i % 3 === 0) await rt.gosched();
            else if (i % 3 === 1) await rt.sleep(0);
            else { const t = performance.now() + 0.05; while (performance.now() < t) {} }
            counter.trySend(c ? c.value + 1 : NaN);
            if (!inside.tryRecv()) violations++;
            mu.unlock();
          }
          return { violations, procs: [...procs] };
        }
        for (let round = 0; round < 5; round++) {
          const mu = rt.mutex(), inside = rt.chan(1), counter = rt.chan(1);
          counter.trySend(0);
          const gs = Array.from({ length: 8 }, () => rt.go(worker, mu, inside, counter, 40));
          const res = await Promise.all(gs.map((g) => g.join()));
          const procs = [...new Set(res.flatMap((x) => x.procs))].sort();
          out.rounds.push({ violations: res.reduce((a, x) => a + x.violations, 0), procs, count: counter.tryRecv().value,
            unlockedAfter: mu.tryLock() });
          if (procs.length === 2) break;
        }

        // The page holds the lock; a goroutine waits for it until the page unlocks.
        const mu = rt.mutex();
        await mu.lock();
        out.tryLockHeld = mu.tryLock();
        const g = rt.go(async (rt, mu) => { await mu.lock(); const t = mu.tryLock(); mu.unlock(); return t; }, mu);
        await until(rt, (d) => blocked(d, 'sync.Mutex.Lock') === 1, 'a goroutine waiting for the lock');
        mu.unlock();
        out.goroutineTryLock = await g.join();
        out.tryLockFree = mu.tryLock();
        // Any goroutine may unlock (as in Go): a goroutine unlocks what the page locked.
        await rt.go((rt, mu) => mu.unlock(), mu).join();
        out.relocked = mu.tryLock();
        mu.unlock();
        const attempt = (f) => { try { f(); return 'ok'; } catch (e) { return { name: e.name, message: e.message, isSyncError: e instanceof gort.SyncError }; } };
        out.unlockUnlocked = attempt(() => mu.unlock());
        out.unlockInGoroutine = await rt.go((rt) => {
          const mu = rt.mutex();
          try { mu.unlock(); return 'ok'; } catch (e) { return { name: e.name, message: e.message }; }
        }).join();
        return out;
      } finally {
        await rt.shutdown();
      }
    `);
    for (const round of r.rounds) {
      assert.equal(round.violations, 0, JSON.stringify(r.rounds));
      assert.equal(round.count, 8 * 40, JSON.stringify(r.rounds));
      assert.equal(round.unlockedAfter, true);
    }
    assert.deepEqual(r.rounds.at(-1).procs, [0, 1], `the goroutines ran on both workers: ${JSON.stringify(r.rounds)}`);
    assert.equal(r.tryLockHeld, false);
    assert.equal(r.goroutineTryLock, false);
    assert.equal(r.tryLockFree, true);
    assert.equal(r.relocked, true);
    assert.deepEqual(r.unlockUnlocked, {
      name: 'SyncError',
      message: 'sync: unlock of unlocked mutex',
      isSyncError: true,
    });
    assert.deepEqual(r.unlockInGoroutine, { name: 'SyncError', message: 'sync: unlock of unlocked mutex' });
  });
});

describe('deadlock reports', () => {
  test('two goroutines waiting to receive from each other are reported', async () => {
    const r = await inPage(
      `
      const rt = await Runtime.start({ procs: 2 });
      try {
        const report = new Promise((resolve) => rt.addEventListener('deadlock', (e) => resolve(e.detail.message)));
        // The pair is started inside a goroutine, so that the page holds neither channel.
        const ids = await rt.go((rt) => {
          const a = rt.chan(), b = rt.chan();
          const g1 = rt.go(async (rt, a, b) => { await a.recv(); await b.send(1); }, a, b);
          const g2 = rt.go(async (rt, a, b) => { await b.recv(); await a.send(1); }, a, b);
          return [g1.id, g2.id];
        }).join();
        const message = await Promise.race([report, new Promise((r) => setTimeout(() => r(null), 10000))]);
        return { ids, message };
      } finally {
        await rt.shutdown();
      }
    `,
      {
        expectErrors: (errors, r) => assert.deepEqual(errors, [r.message], 'the report, on the console once'),
      },
    );
    assert.equal(typeof r.message, 'string', 'a deadlock event fired');
    assert.ok(r.message.includes('all goroutines are asleep - deadlock!'), r.message);
    for (const id of r.ids) assert.ok(r.message.includes(`goroutine ${id} [chan receive]`), r.message);
  });

  test("releasing the page's last handle to the channel a goroutine waits on lets the report fire", async () => {
    const r = await inPage(
      `
      ${UNTIL}
      const rt = await Runtime.start({ procs: 2 });
      try {
        const reports = [];
        rt.addEventListener('deadlock', (e) => reports.push(e.detail.message));
        const ch = rt.chan();
        const g = rt.go(async (rt, ch) => ch.recv(), ch);
        await until(rt, (d) => blocked(d, 'chan receive') === 1, 'the receiver blocked');
        await pause(100);
        const before = reports.length;
        ch.release();
        for (let i = 0; i < 500 && reports.length === 0; i++) await pause(10);
        let join;
        try {
          join = { resolved: await g.join() };
        } catch (e) {
          join = { name: e.name, message: e.message };
        }
        return { before, reports, id: g.id, join };
      } finally {
        await rt.shutdown();
      }
    `,
      {
        expectErrors: (errors, r) => assert.deepEqual(errors, r.reports, 'the report, on the console once'),
      },
    );
    assert.equal(r.before, 0, 'no report while the page held the channel');
    assert.equal(r.reports.length, 1, 'a report once the page let go of the channel');
    assert.ok(r.reports[0].includes('all goroutines are asleep - deadlock!'), r.reports[0]);
    assert.ok(r.reports[0].includes(`goroutine ${r.id} [chan receive]`), r.reports[0]);
    assert.equal(r.join.name, 'GoroutineError');
    assert.match(r.join.message, /all goroutines are asleep - deadlock!/);
  });

  test('no report while the page holds an object a goroutine is blocked on', async () => {
    const r = await inPage(`
      ${UNTIL}
      const rt = await Runtime.start({ procs: 2 });
      try {
        const reports = [];
        rt.addEventListener('deadlock', (e) => reports.push(e.detail.message));
        const out = {};
        // Blocked directly on a page-held channel.
        const ch = rt.chan();
        const g = rt.go(async (rt, ch) => (await ch.recv()) * 2, ch);
        await until(rt, (d) => blocked(d, 'chan receive') === 1, 'the receiver blocked');
        // Blocked on a channel only goroutines hold, behind one blocked on a page-held channel
        // (the page could wake the second, which would then wake the first).
        const relay = await rt.go((rt) => {
          const x = rt.chan(), relay = rt.chan();
          rt.go(async (rt, x) => 'got ' + (await x.recv()), x);
          rt.go(async (rt, relay, x) => { await x.send(await relay.recv()); }, relay, x);
          return relay;
        }).join();
        await until(rt, (d) => blocked(d, 'chan receive') === 3, 'three receivers blocked');
        // A wait group and a mutex the page holds.
        const wg = rt.waitGroup();
        wg.add(1);
        const wgWaiter = rt.go(async (rt, wg) => { await wg.wait(); return 'wg done'; }, wg);
        const mu = rt.mutex();
        await mu.lock();
        const muWaiter = rt.go(async (rt, mu) => { await mu.lock(); mu.unlock(); return 'locked'; }, mu);
        await until(rt, (d) => blocked(d, 'sync.Mutex.Lock') === 1 && blocked(d, 'sync.WaitGroup.Wait') === 1,
          'the wait group and mutex waiters blocked');
        // Every goroutine is blocked now; give the runtime time to (wrongly) report.
        await new Promise((r) => setTimeout(r, 400));
        out.reportsWhileHeld = reports.length;
        await ch.send(21);
        out.g = await g.join();
        await relay.send('hello');
        wg.done();
        mu.unlock();
        out.others = [await wgWaiter.join(), await muWaiter.join()];
        await until(rt, (d) => d.length === 0, 'every goroutine finished');
        out.reports = reports;
        return out;
      } finally {
        await rt.shutdown();
      }
    `);
    assert.equal(r.reportsWhileHeld, 0);
    assert.equal(r.g, 42);
    assert.deepEqual(r.others, ['wg done', 'locked']);
    assert.deepEqual(r.reports, []);
  });
});

// Go's classic programs, each written once as a function of `rt` and run twice: from the page
// (with the page's rt) and inside a goroutine (with the worker's rt).
const PROGRAMS = `
// Go's concurrent prime sieve: a chain of filter goroutines, each passing on what its prime
// does not divide. The generator stops at 'limit' so that everything ends.
async function sieve(rt, n, limit) {
  async function generate(rt, ch, limit) {
    for (let i = 2; i <= limit; i++) await ch.send(i);
    ch.close();
  }
  async function filter(rt, src, dst, prime) {
    for await (const i of src) if (i % prime !== 0) await dst.send(i);
    dst.close();
  }
  let ch = rt.chan();
  const gs = [rt.go(generate, ch, limit)];
  const primes = [];
  for (let i = 0; i < n; i++) {
    const prime = await ch.recv();
    primes.push(prime);
    const ch1 = rt.chan();
    gs.push(rt.go(filter, ch, ch1, prime));
    ch = ch1;
  }
  const rest = [];
  for await (const v of ch) rest.push(v);
  await Promise.all(gs.map((g) => g.join()));
  return { primes, rest, goroutines: gs.length };
}

// Fan-out/fan-in: a producer, 'workers' workers ranging over the jobs, a closer that closes the
// results once the wait group is done, and this function collecting.
async function pipeline(rt, n, workers) {
  async function produce(rt, jobs, n) {
    for (let i = 0; i < n; i++) await jobs.send({ id: i, payload: 'job-' + i });
    jobs.close();
    return n;
  }
  async function work(rt, w, jobs, results, wg) {
    let count = 0;
    for await (const job of jobs) {
      await results.send({ id: job.id, square: job.id * job.id, payload: job.payload, worker: w });
      count++;
    }
    wg.done();
    return count;
  }
  async function closer(rt, wg, results) {
    await wg.wait();
    results.close();
  }
  const jobs = rt.chan(4), results = rt.chan(), wg = rt.waitGroup();
  wg.add(workers);
  const gs = [rt.go(produce, jobs, n)];
  for (let w = 0; w < workers; w++) gs.push(rt.go(work, w, jobs, results, wg));
  gs.push(rt.go(closer, wg, results));
  const times = new Array(n).fill(0);
  const perWorker = new Array(workers).fill(0);
  let bad = 0;
  for await (const r of results) {
    if (!Number.isInteger(r.id) || r.id < 0 || r.id >= n) { bad++; continue; }
    times[r.id]++;
    perWorker[r.worker]++;
    if (r.square !== r.id * r.id || r.payload !== 'job-' + r.id) bad++;
  }
  const joined = await Promise.all(gs.map((g) => g.join()));
  return {
    missing: times.filter((t) => t === 0).length,
    duplicated: times.filter((t) => t > 1).length,
    bad,
    produced: joined[0],
    counts: joined.slice(1, 1 + workers),
    perWorker,
  };
}

// Request/response with channels of channels: a server answers { n, reply } with n*n on reply.
async function service(rt, clients, perClient) {
  async function server(rt, reqs) {
    let served = 0;
    for await (const { n, reply } of reqs) {
      await reply.send(n * n);
      served++;
    }
    return served;
  }
  async function client(rt, reqs, id, count) {
    const reply = rt.chan();
    const out = [];
    for (let i = 0; i < count; i++) {
      const n = id * 1000 + i;
      await reqs.send({ n, reply });
      out.push([n, await reply.recv()]);
    }
    return out;
  }
  const reqs = rt.chan();
  const srv = rt.go(server, reqs);
  const direct = [];
  for (let n = 1; n <= 10; n++) {
    const reply = rt.chan(1);
    await reqs.send({ n, reply });
    direct.push(await reply.recv());
  }
  const cs = Array.from({ length: clients }, (_, i) => rt.go(client, reqs, i + 1, perClient));
  const answers = (await Promise.all(cs.map((g) => g.join()))).flat();
  reqs.close();
  return {
    direct,
    answers: answers.length,
    wrong: answers.filter(([n, sq]) => sq !== n * n).length,
    served: await srv.join(),
  };
}
`;

describe("Go's programs, from the page and inside goroutines", () => {
  const PRIMES = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97];

  /** Runs `name(rt, ...args)` on the page, then as a goroutine; nothing may be left running. */
  async function both(name, ...args) {
    const list = args.map((a) => JSON.stringify(a)).join(', ');
    const r = await inPage(`
      ${PROGRAMS}
      ${LEFT}
      const rt = await Runtime.start({ procs: 2 });
      try {
        const page = await ${name}(rt, ${list});
        const goroutine = await rt.go(${name}, ${list}).join();
        return { page, goroutine, left: await leftRunning(rt) };
      } finally {
        await rt.shutdown();
      }
    `);
    assert.deepEqual(r.left, [], 'goroutines left running');
    return r;
  }

  test('prime sieve: the first 25 primes through a chain of filter goroutines', async () => {
    const r = await both('sieve', 25, 100);
    for (const side of ['page', 'goroutine']) {
      assert.deepEqual(r[side], { primes: PRIMES, rest: [], goroutines: 26 }, side);
    }
  });

  test('fan-out/fan-in: producer → 4 workers → collector, every item exactly once', async () => {
    const r = await both('pipeline', 400, 4);
    for (const side of ['page', 'goroutine']) {
      const x = r[side];
      assert.equal(x.missing, 0, `${side}: ${JSON.stringify(x)}`);
      assert.equal(x.duplicated, 0, `${side}: ${JSON.stringify(x)}`);
      assert.equal(x.bad, 0, `${side}: ${JSON.stringify(x)}`);
      assert.equal(x.produced, 400);
      assert.deepEqual(x.counts, x.perWorker, side);
      assert.equal(
        x.counts.reduce((a, b) => a + b, 0),
        400,
        side,
      );
    }
  });

  test('request/response over channels of channels', async () => {
    const r = await both('service', 4, 25);
    for (const side of ['page', 'goroutine']) {
      assert.deepEqual(
        r[side],
        {
          direct: [1, 4, 9, 16, 25, 36, 49, 64, 81, 100],
          answers: 100,
          wrong: 0,
          served: 110,
        },
        side,
      );
    }
  });
});

describe('shutdown', () => {
  test('shutting down in the middle of channel traffic leaves the page able to start runtimes', async () => {
    const r = await inPage(`
      const out = [];
      for (let round = 0; round < 5; round++) {
        const rt = await Runtime.start({ procs: 2 });
        try {
          // Four pairs of goroutines pass counters back and forth for as long as they run.
          await rt.go(async (rt) => {
            const pingPong = async (rt, inp, out) => {
              for (;;) await out.send((await inp.recv()) + 1);
            };
            for (let i = 0; i < 4; i++) {
              const a = rt.chan(), b = rt.chan();
              rt.go(pingPong, a, b);
              rt.go(pingPong, b, a);
              await a.send(0);
            }
          }).join();
          await new Promise((r) => setTimeout(r, 20));
        } finally {
          await rt.shutdown();
        }
        out.push('round ' + round);
      }
      const rt = await Runtime.start({ procs: 2 });
      try {
        out.push(await rt.go(async (rt, x) => {
          const ch = rt.chan(1);
          await ch.send(x + 1);
          return ch.recv();
        }, 41).join());
      } finally {
        await rt.shutdown();
      }
      return out;
    `);
    assert.deepEqual(r, ['round 0', 'round 1', 'round 2', 'round 3', 'round 4', 42]);
  });
});

// The randomized stress: 'workers' goroutines each take 'steps' random actions on a few
// shared channels (capacities 0, 1 and 4): blocking sends, receives with a timeout, trySend,
// tryRecv, selects mixing a send, a receive and a nil case (with a default or a timeout), and,
// rarely and only in the later steps, a close. Each worker draws from its own small PRNG (mulberry32) seeded from the
// seed argument, so the actions are the same every run; only the interleaving varies. Two
// drainers receive from every open channel (a closed one becomes nil in their select) so that
// no send waits forever. Once the workers are done, every channel is closed, the drainers
// empty the buffers and stop. Then every value whose send succeeded must have been received
// exactly once, and no value whose send reported the close (or was never sent) received at all.
const STRESS = `
async function stress(rt, seed, workers, steps) {
  async function stressWorker(rt, id, seed, steps, chans) {
    let s = (seed + Math.imul(id + 1, 0x9e3779b9)) >>> 0;
    const rand = () => {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = () => chans[Math.floor(rand() * chans.length)];
    const closedSend = (e) => e && e.name === 'ChannelError' && e.message === 'send on closed channel';
    const out = { id, sent: [], rejected: [], received: [], closes: 0, closeErrors: 0, timeouts: 0, defaults: 0, full: 0 };
    let seq = 0;
    for (let step = 0; step < steps; step++) {
      const r = rand();
      const c = pick();
      if (r < 0.25) {
        const v = id * 1e6 + seq++;
        try {
          await c.send(v);
          out.sent.push(v);
        } catch (e) {
          if (!closedSend(e)) throw e;
          out.rejected.push(v);
        }
      } else if (r < 0.35) {
        const v = id * 1e6 + seq++;
        try {
          if (c.trySend(v)) out.sent.push(v);
          else out.full++;
        } catch (e) {
          if (!closedSend(e)) throw e;
          out.rejected.push(v);
        }
      } else if (r < 0.55) {
        const res = await rt.select([{ recv: c }, { recv: rt.after(1 + Math.floor(rand() * 3)) }]);
        if (res.index === 0 && res.ok) out.received.push(res.value);
        else if (res.index === 1) out.timeouts++;
      } else if (r < 0.65) {
        const res = c.tryRecv();
        if (res && res.ok) out.received.push(res.value);
      } else if (r < 0.9985 || step < steps * 0.6) {
        const v = id * 1e6 + seq++;
        const withDefault = rand() < 0.5;
        const cases = [{ send: c, value: v }, { recv: pick() }, { recv: null }];
        if (!withDefault) cases.push({ recv: rt.after(1 + Math.floor(rand() * 3)) });
        try {
          const res = await rt.select(cases, { default: withDefault });
          if (res.index === 0) out.sent.push(v);
          else if (res.index === 1 && res.ok) out.received.push(res.value);
          else if (res.index === -1) out.defaults++;
          else if (res.index === 3) out.timeouts++;
        } catch (e) {
          if (!closedSend(e)) throw e;
          out.rejected.push(v);
        }
      } else {
        try {
          c.close();
          out.closes++;
        } catch (e) {
          if (e.name !== 'ChannelError' || e.message !== 'close of closed channel') throw e;
          out.closeErrors++;
        }
      }
    }
    return out;
  }

  async function drainer(rt, chans) {
    const open = chans.slice();
    const received = [];
    while (open.some((c) => c)) {
      const r = await rt.select(open.map((c) => ({ recv: c })));
      if (r.ok) received.push(r.value);
      else open[r.index] = null;
    }
    return received;
  }

  const chans = [rt.chan(0), rt.chan(1), rt.chan(4)];
  const drainers = [rt.go(drainer, chans), rt.go(drainer, chans)];
  const ws = Array.from({ length: workers }, (_, id) => rt.go(stressWorker, id, seed, steps, chans));
  const results = await Promise.all(ws.map((g) => g.join()));
  let lateCloses = 0;
  for (const c of chans) {
    try { c.close(); lateCloses++; } catch (e) { if (e.name !== 'ChannelError') throw e; }
  }
  const drained = await Promise.all(drainers.map((g) => g.join()));
  const sent = new Set(), rejected = new Set(), seen = new Map();
  for (const r of results) {
    r.sent.forEach((v) => sent.add(v));
    r.rejected.forEach((v) => rejected.add(v));
  }
  const allReceived = results.flatMap((r) => r.received).concat(drained.flat());
  for (const v of allReceived) seen.set(v, (seen.get(v) ?? 0) + 1);
  const sum = (k) => results.reduce((a, r) => a + r[k], 0);
  return {
    sent: sent.size,
    rejected: rejected.size,
    received: allReceived.length,
    byWorkers: results.reduce((a, r) => a + r.received.length, 0),
    byDrainers: drained.flat().length,
    lost: [...sent].filter((v) => !seen.has(v)).slice(0, 10),
    duplicated: [...seen].filter(([, n]) => n > 1).slice(0, 10),
    unexpected: [...seen.keys()].filter((v) => !sent.has(v)).slice(0, 10),
    rejectedReceived: [...rejected].filter((v) => seen.has(v)).slice(0, 10),
    closes: sum('closes'),
    closeErrors: sum('closeErrors'),
    lateCloses,
    timeouts: sum('timeouts'),
    defaults: sum('defaults'),
    full: sum('full'),
    lens: chans.map((c) => c.len),
  };
}
`;

describe('randomized stress', () => {
  test('16 goroutines of random sends, receives, selects and closes: every value arrives exactly once', async () => {
    const r = await inPage(`
      ${STRESS}
      ${LEFT}
      const rt = await Runtime.start({ procs: 2 });
      try {
        const page = await stress(rt, 12, 16, 400);
        const goroutine = await rt.go(stress, 14, 16, 400).join();
        return { page, goroutine, left: await leftRunning(rt) };
      } finally {
        await rt.shutdown();
      }
    `);
    // The seeds fix which closes are attempted: with seed 12, two of channel 1 and one of
    // channel 0; with seed 14, three of channel 1 and one of channel 2. Either way one channel
    // is left open for the final close.
    const closes = { page: [2, 1], goroutine: [2, 2] };
    for (const side of ['page', 'goroutine']) {
      const x = r[side];
      const msg = `${side}: ${JSON.stringify(x)}`;
      assert.deepEqual([x.closes, x.closeErrors, x.lateCloses], [...closes[side], 1], msg);
      assert.deepEqual(x.lost, [], msg);
      assert.deepEqual(x.duplicated, [], msg);
      assert.deepEqual(x.unexpected, [], msg);
      assert.deepEqual(x.rejectedReceived, [], msg);
      assert.equal(x.received, x.sent, msg);
      assert.deepEqual(x.lens, [0, 0, 0], msg);
      // The run exercised what it is meant to (the actions are fixed by the seed).
      assert.ok(x.sent > 1000, msg);
      assert.ok(x.byWorkers > 200 && x.byDrainers > 200, msg);
      assert.ok(x.rejected > 0 && x.defaults > 0, msg);
    }
    assert.deepEqual(r.left, [], 'goroutines left running');
  });
});

describe('errors', () => {
  test('bad capacities, unsendable values, second close, negative WaitGroup, unlock of unlocked', async () => {
    const r = await inPage(`
      ${UNTIL}
      // The same checks from the page and inside a goroutine.
      async function errors(rt) {
        const attempt = async (f) => {
          try {
            return { returned: await f() };
          } catch (e) {
            return { name: e.name, ctor: e.constructor.name, message: e.message };
          }
        };
        const out = {};
        out.caps = [];
        for (const cap of [-1, 1.5, NaN, '2', 2 ** 32]) out.caps.push(await attempt(() => rt.chan(cap)));
        const ch = rt.chan(2);
        await ch.send('first');
        out.sendFunction = await attempt(() => ch.send({ a: [1, () => 1] }));
        out.sendSymbol = await attempt(() => ch.send(new Map([['k', Symbol('s')]])));
        out.trySendFunction = await attempt(() => ch.trySend(function named() {}));
        out.selectFunction = await attempt(() => rt.select([{ send: ch, value: { f: Math.max } }], { default: true }));
        out.lenAfter = ch.len;
        out.values = [ch.tryRecv(), ch.tryRecv() === undefined];
        ch.close();
        out.secondClose = await attempt(() => ch.close());
        out.sendClosed = await attempt(() => ch.send(1));
        const wg = rt.waitGroup();
        out.wgNegative = await attempt(() => wg.add(-1));
        const mu = rt.mutex();
        out.unlockUnlocked = await attempt(() => mu.unlock());
        await mu.lock();
        mu.unlock();
        out.unlockTwice = await attempt(() => mu.unlock());
        return out;
      }
      const rt = await Runtime.start({ procs: 2 });
      try {
        const out = { page: await errors(rt), goroutine: await rt.go(errors).join() };
        out.pageClasses = await (async () => {
          const ch = rt.chan();
          ch.close();
          const c = (() => { try { ch.close(); } catch (e) { return e instanceof gort.ChannelError; } })();
          const w = (() => { try { rt.waitGroup().done(); } catch (e) { return e instanceof gort.SyncError; } })();
          const m = (() => { try { rt.mutex().unlock(); } catch (e) { return e instanceof gort.SyncError; } })();
          return [c, w, m];
        })();

        // An unsendable value on an unbuffered channel with a receiver waiting: the receiver
        // gets nothing, and then the next good value.
        const u = rt.chan();
        const receiver = rt.go(async (rt, u) => {
          const first = await u.recv();
          return { first, pending: u.tryRecv() === undefined };
        }, u);
        await until(rt, (d) => blocked(d, 'chan receive') === 1, 'the receiver blocked');
        try {
          await u.send([1, 2, { deep: () => 0 }]);
          out.unbufferedFunction = 'sent';
        } catch (e) {
          out.unbufferedFunction = { name: e.name, message: e.message };
        }
        out.stillBlocked = blocked(await rt.goroutines(), 'chan receive');
        await u.send('good');
        out.receiver = await receiver.join();
        return out;
      } finally {
        await rt.shutdown();
      }
    `);
    for (const side of ['page', 'goroutine']) {
      const x = r[side];
      const msg = `${side}: ${JSON.stringify(x)}`;
      assert.equal(x.caps.length, 5);
      for (const c of x.caps) {
        assert.equal(c.name, 'RangeError', msg);
        assert.match(c.message, /rt\.chan: capacity/, msg);
      }
      assert.equal(x.sendFunction.name, 'TypeError', msg);
      assert.ok(x.sendFunction.message.includes('channel value.a[1]'), msg);
      assert.match(x.sendFunction.message, /function/, msg);
      assert.equal(x.sendSymbol.name, 'TypeError', msg);
      assert.match(x.sendSymbol.message, /symbol/, msg);
      assert.ok(x.sendSymbol.message.includes('channel value'), msg);
      assert.equal(x.trySendFunction.name, 'TypeError', msg);
      assert.ok(x.trySendFunction.message.includes('channel value'), msg);
      assert.equal(x.selectFunction.name, 'TypeError', msg);
      assert.ok(x.selectFunction.message.includes('case 0 value.f'), msg);
      assert.equal(x.lenAfter, 1, msg);
      assert.deepEqual(x.values, [{ value: 'first', ok: true }, true], msg);
      assert.deepEqual(
        x.secondClose,
        { name: 'ChannelError', ctor: 'ChannelError', message: 'close of closed channel' },
        msg,
      );
      assert.deepEqual(
        x.sendClosed,
        { name: 'ChannelError', ctor: 'ChannelError', message: 'send on closed channel' },
        msg,
      );
      assert.deepEqual(
        x.wgNegative,
        { name: 'SyncError', ctor: 'SyncError', message: 'sync: negative WaitGroup counter' },
        msg,
      );
      assert.deepEqual(
        x.unlockUnlocked,
        { name: 'SyncError', ctor: 'SyncError', message: 'sync: unlock of unlocked mutex' },
        msg,
      );
      assert.deepEqual(x.unlockTwice, x.unlockUnlocked, msg);
    }
    assert.deepEqual(r.pageClasses, [true, true, true]);
    assert.equal(r.unbufferedFunction.name, 'TypeError');
    assert.ok(r.unbufferedFunction.message.includes('channel value[2].deep'), r.unbufferedFunction.message);
    assert.equal(r.stillBlocked, 1);
    assert.deepEqual(r.receiver, { first: 'good', pending: true });
  });
});
