// Headless-browser tests of cancellation: every blocking call takes `{ signal }` (an
// AbortSignal), and a task spec's `signal` becomes the goroutine's `rt.signal` and `rt.done`.
// An aborted call rejects with the signal's reason and is withdrawn: nothing it would have done
// happens later (a send is never received, a receive takes no value, a lock is not left held),
// and an abort racing completion either lets the call complete or withdraws it, never both.
//
// The same scenarios run on the page (operations as goroutines it awaits), inside a goroutine
// on a Worker (operations on that M), and on a page without cross-origin isolation (one P on the
// page's own thread).
//
//   node --test tests/cancel.test.mjs

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BLANK_PAGE, UNTIL, close, inPage } from './harness.mjs';

after(close);

// `scenarios(rt)`: self-contained, so that it also runs as a goroutine (shipped by source).
const SCENARIOS = `
async function scenarios(rt) {
  const out = {};
  const settle = async (p) => {
    try {
      return { value: await p };
    } catch (error) {
      return { error };
    }
  };
  // Starts start(signal), gives it time to block, aborts it: whether it rejected with this
  // abort's very reason, and what it resolved with if it did not.
  const abortPending = async (start) => {
    const ac = new AbortController();
    const reason = new Error('stop');
    const p = settle(start(ac.signal));
    await rt.sleep(5);
    ac.abort(reason);
    const r = await p;
    return { rejected: r.error === reason, value: r.value };
  };

  {
    const ch = rt.chan(0);
    const r = await abortPending((signal) => ch.send('lost', { signal }));
    const senderLeft = ch.tryRecv() !== undefined;
    const next = ch.recv();
    await ch.send('next');
    out.send = { ...r, senderLeft, next: await next };
  }
  {
    const ch = rt.chan(1);
    ch.trySend('first');
    const r = await abortPending((signal) => ch.send('lost', { signal }));
    out.sendFull = { ...r, buffered: [ch.tryRecv(), ch.tryRecv()] };
  }
  {
    const ch = rt.chan(0);
    const r = await abortPending((signal) => ch.recv({ signal }));
    const receiverLeft = ch.trySend('kept');
    const next = ch.recv();
    await ch.send('kept');
    const ok = await abortPending((signal) => ch.recvOk({ signal }));
    out.recv = { ...r, receiverLeft, next: await next, recvOk: ok, stillNone: ch.trySend(1) };
  }
  {
    const a = rt.chan(0);
    const b = rt.chan(0);
    const r = await abortPending((signal) => rt.select([{ recv: a }, { send: b, value: 'lost' }], { signal }));
    out.select = { ...r, recvLeft: a.trySend(1), sendLeft: b.tryRecv() !== undefined };
  }
  {
    const mu = rt.mutex();
    await mu.lock();
    const r = await abortPending((signal) => mu.lock({ signal }));
    mu.unlock();
    const free = mu.tryLock();
    if (free) mu.unlock();
    out.mutex = { ...r, free };
  }
  {
    const rw = rt.rwMutex();
    await rw.lock();
    const rLock = await abortPending((signal) => rw.rLock({ signal }));
    const lock = await abortPending((signal) => rw.lock({ signal }));
    rw.unlock();
    const free = rw.tryLock();
    if (free) rw.unlock();
    // A writer that gave up holds back no reader.
    await rw.rLock();
    const writer = await abortPending((signal) => rw.lock({ signal }));
    const readerLetIn = rw.tryRLock();
    if (readerLetIn) rw.rUnlock();
    rw.rUnlock();
    out.rwMutex = { rLock, lock, free, writer, readerLetIn };
  }
  {
    const wg = rt.waitGroup();
    wg.add(1);
    const r = await abortPending((signal) => wg.wait({ signal }));
    wg.done();
    await wg.wait();
    wg.add(1);
    const again = wg.wait();
    wg.done();
    await again;
    out.waitGroup = { ...r, usable: true };
  }
  {
    const mu = rt.mutex();
    const cond = rt.cond(mu);
    await mu.lock();
    const r = await abortPending((signal) => cond.wait({ signal }));
    const heldAgain = !mu.tryLock();
    // The aborted waiter left the queue: the next signal wakes the next waiter.
    const waiting = cond.wait();
    await mu.lock();
    cond.signal();
    mu.unlock();
    await waiting;
    mu.unlock();
    out.cond = { ...r, heldAgain, signalled: true };
  }
  {
    const once = rt.once();
    const ran = [];
    let release;
    const gate = new Promise((resolve) => (release = resolve));
    const first = once.do(async () => {
      ran.push('first');
      await gate;
    });
    while (ran.length === 0) await rt.sleep(1);
    const r = await abortPending((signal) => once.do(() => ran.push('second'), { signal }));
    release();
    await first;
    await once.do(() => ran.push('third'));
    out.once = { ...r, ran };
  }
  out.sleep = await abortPending((signal) => rt.sleep(1e9, { signal }));
  {
    const gate = rt.chan(0);
    const g = rt.go(async (rt, gate) => gate.recv(), gate);
    const r = await abortPending((signal) => g.join({ signal }));
    await gate.send('done');
    out.join = { ...r, later: await g.join() };
  }

  // A signal aborted already: each call rejects at once with its reason and does nothing.
  {
    const reason = new Error('early');
    const signal = AbortSignal.abort(reason);
    const ch = rt.chan(0);
    const mu = rt.mutex();
    const rw = rt.rwMutex();
    const cond = rt.cond(rt.mutex());
    const once = rt.once();
    let onceRan = false;
    const g = rt.go(() => 1);
    const calls = {
      send: ch.send(1, { signal }),
      recv: ch.recv({ signal }),
      recvOk: ch.recvOk({ signal }),
      select: rt.select([{ recv: ch }], { signal }),
      sleep: rt.sleep(0, { signal }),
      wait: rt.waitGroup().wait({ signal }),
      lock: mu.lock({ signal }),
      rLock: rw.rLock({ signal }),
      rwLock: rw.lock({ signal }),
      condWait: cond.wait({ signal }),
      once: once.do(() => (onceRan = true), { signal }),
      join: g.join({ signal }),
    };
    const rejected = {};
    for (const [k, p] of Object.entries(calls)) rejected[k] = (await settle(p)).error === reason;
    const free = mu.tryLock() && rw.tryLock();
    out.early = { rejected, free, onceRan, nothingSent: ch.tryRecv() === undefined, joined: await g.join() };
  }

  // Signals that are not AbortSignals.
  {
    const ch = rt.chan(0);
    const g = rt.go(() => 1);
    const bad = {
      recv: () => ch.recv({ signal: 5 }),
      send: () => ch.send(1, { signal: {} }),
      lock: () => rt.mutex().lock({ signal: 'x' }),
      sleep: () => rt.sleep(1, { signal: new AbortController() }),
      select: () => rt.select([], { signal: null }),
      join: () => g.join({ signal: 1 }),
      options: () => rt.waitGroup().wait(7),
    };
    out.bad = {};
    for (const [k, f] of Object.entries(bad)) {
      const { error } = await settle(f());
      out.bad[k] = error instanceof TypeError ? error.message : String(error);
    }
    await g.join();
  }

  // Abort racing completion, many times: every value is received exactly once or its send
  // rejected, never both, never neither; a receive that rejected took nothing.
  const abortSoon = (ac, i) => {
    if (i % 3 === 0) ac.abort('x');
    else if (i % 3 === 1) Promise.resolve().then(() => ac.abort('x'));
    else rt.sleep(0).then(() => ac.abort('x'));
  };
  const N = 150;
  {
    const ch = rt.chan(0);
    const receiver = rt.go(async (rt, ch) => {
      const got = [];
      for (;;) {
        const v = await ch.recv();
        if (v === 'end') return got;
        got.push(v);
      }
    }, ch);
    const sent = [];
    let aborted = 0;
    for (let i = 0; i < N; i++) {
      const ac = new AbortController();
      const p = ch.send(i, { signal: ac.signal });
      abortSoon(ac, i);
      const r = await settle(p);
      if (r.error === undefined) sent.push(i);
      else if (r.error === 'x') aborted++;
      else throw r.error;
    }
    await ch.send('end');
    out.raceSend = { got: await receiver.join(), sent, aborted };
  }
  {
    const ch = rt.chan(0);
    const sender = rt.go(async (rt, ch, n) => {
      for (let i = 0; i < n; i++) await ch.send(i);
    }, ch, N);
    const got = [];
    let aborted = 0;
    for (let i = 0; got.length < N; i++) {
      const ac = new AbortController();
      const p = ch.recv({ signal: ac.signal });
      abortSoon(ac, i);
      const r = await settle(p);
      if (r.error === undefined) got.push(r.value);
      else if (r.error === 'x') aborted++;
      else throw r.error;
    }
    await sender.join();
    out.raceRecv = { got, aborted, left: ch.tryRecv() };
  }
  {
    const mu = rt.mutex();
    let wrong = 0;
    for (let i = 0; i < N; i++) {
      await mu.lock();
      const ac = new AbortController();
      const p = mu.lock({ signal: ac.signal });
      if (i % 2) mu.unlock();
      abortSoon(ac, i);
      if (!(i % 2)) mu.unlock();
      const r = await settle(p);
      // Taken: it is held, by this call. Rejected: nobody holds it.
      const free = mu.tryLock();
      if ((r.error === undefined) === free) wrong++;
      mu.unlock();
    }
    out.raceLock = { wrong };
  }
  return out;
}
`;

const N = 150;

function checkScenarios(r) {
  const rejected = { rejected: true, value: undefined };
  assert.deepEqual(r.send, { ...rejected, senderLeft: false, next: 'next' });
  assert.deepEqual(r.sendFull, { ...rejected, buffered: [{ value: 'first', ok: true }, undefined] });
  assert.deepEqual(r.recv, { ...rejected, receiverLeft: false, next: 'kept', recvOk: rejected, stillNone: false });
  assert.deepEqual(r.select, { ...rejected, recvLeft: false, sendLeft: false });
  assert.deepEqual(r.mutex, { ...rejected, free: true });
  assert.deepEqual(r.rwMutex, { rLock: rejected, lock: rejected, free: true, writer: rejected, readerLetIn: true });
  assert.deepEqual(r.waitGroup, { ...rejected, usable: true });
  assert.deepEqual(r.cond, { ...rejected, heldAgain: true, signalled: true });
  assert.deepEqual(r.once, { ...rejected, ran: ['first'] });
  assert.deepEqual(r.sleep, rejected);
  assert.deepEqual(r.join, { ...rejected, later: 'done' });
  const all = Object.fromEntries(Object.keys(r.early.rejected).map((k) => [k, true]));
  assert.deepEqual(r.early, { rejected: all, free: true, onceRan: false, nothingSent: true, joined: 1 });
  assert.equal(Object.keys(all).length, 12);
  assert.deepEqual(r.bad, {
    recv: 'Chan.recv: signal must be an AbortSignal, got number 5',
    send: 'Chan.send: signal must be an AbortSignal, got an object (Object)',
    lock: 'Mutex.lock: signal must be an AbortSignal, got the string "x"',
    sleep: 'rt.sleep: signal must be an AbortSignal, got an object (AbortController)',
    select: 'rt.select: signal must be an AbortSignal, got null',
    join: 'join: signal must be an AbortSignal, got number 1',
    options: 'WaitGroup.wait: expected an options object, got number 7',
  });
  // Every value sent was received exactly once, in order, and none that was aborted.
  assert.deepEqual(r.raceSend.got, r.raceSend.sent);
  assert.equal(r.raceSend.sent.length + r.raceSend.aborted, N);
  assert.deepEqual(
    r.raceRecv.got,
    Array.from({ length: N }, (_, i) => i),
  );
  assert.equal(r.raceRecv.left, undefined);
  assert.equal(r.raceLock.wrong, 0);
}

const onPage = `${SCENARIOS}
  const rt = await Runtime.start({ procs: 2 });
  try {
    return await scenarios(rt);
  } finally {
    await rt.shutdown();
  }
`;

const inGoroutine = `${SCENARIOS}
  const rt = await Runtime.start({ procs: 2 });
  try {
    return await rt.go(scenarios).join();
  } finally {
    await rt.shutdown();
  }
`;

describe('blocking calls with an AbortSignal', () => {
  test('on the page: withdrawn when aborted, at once when aborted already, exact under races', async () => {
    checkScenarios(await inPage(onPage));
  });

  test('in a goroutine on a Worker: the same', async () => {
    checkScenarios(await inPage(inGoroutine));
  });

  test('without cross-origin isolation, on the page and in a goroutine: the same', async () => {
    const path = `${BLANK_PAGE}?isolated=0`;
    checkScenarios(await inPage(onPage, { path }));
    checkScenarios(await inPage(inGoroutine, { path }));
  });

  test('an aborted operation is no longer waiting in the runtime', async () => {
    const r = await inPage(`${UNTIL}
      const rt = await Runtime.start({ procs: 2 });
      try {
        const [a, b] = [rt.chan(0), rt.chan(0)];
        const mu = rt.mutex();
        await mu.lock();
        const ac = new AbortController();
        const calls = [a.send(1, { signal: ac.signal }), b.recv({ signal: ac.signal }), mu.lock({ signal: ac.signal })]
          .map((p) => p.catch((e) => e));
        await until(rt, (d) => blocked(d, 'chan send') === 1 && blocked(d, 'chan receive') === 1 && blocked(d, 'sync.Mutex.Lock') === 1, 'the three to wait');
        ac.abort('gone');
        const reasons = await Promise.all(calls);
        // Withdrawn: nothing waits in the runtime any more (this would time out otherwise).
        await until(rt, (d) => d.every((g) => g.state !== 'waiting'), 'nothing to wait');
        return { reasons, lockFree: (mu.unlock(), mu.tryLock()) };
      } finally {
        await rt.shutdown();
      }
    `);
    assert.deepEqual(r, { reasons: ['gone', 'gone', 'gone'], lockFree: true });
  });
});

async function taskSpecSignal(path) {
  const r = await inPage(
    `${UNTIL}
      const rt = await Runtime.start({ procs: 2 });
      try {
        const out = {};
        // Aborted while the goroutine waits on rt.done, as Go code waits on ctx.Done().
        const ac = new AbortController();
        const g = rt.go({ fn: async (rt) => {
          const before = rt.signal.aborted;
          const { index } = await rt.select([{ recv: rt.done }, { recv: rt.chan() }]);
          return { before, index, aborted: rt.signal.aborted, reason: rt.signal.reason };
        }, name: 'waits-done', signal: ac.signal });
        await until(rt, (d) => d.some((x) => x.name === 'waits-done' && x.waitReason === 'select'), 'it to wait');
        ac.abort({ why: 'user left' });
        out.done = await g.join();

        // A DOMException reason arrives as one; a reason that cannot be sent, as an AbortError.
        const reasonOf = async (rt) => {
          if (!rt.signal.aborted) await new Promise((resolve) => rt.signal.addEventListener('abort', resolve));
          const r = rt.signal.reason;
          return [r instanceof DOMException, r.name, r.message];
        };
        const ac2 = new AbortController();
        const g2 = rt.go({ fn: reasonOf, signal: ac2.signal });
        ac2.abort();
        const ac3 = new AbortController();
        const g3 = rt.go({ fn: reasonOf, signal: ac3.signal });
        ac3.abort(() => 'a function cannot be sent');
        out.domException = [await g2.join(), await rt.go({ fn: reasonOf, signal: AbortSignal.timeout(1) }).join(), await g3.join()];

        // Aborted already: the goroutine starts with rt.signal aborted and rt.done closed.
        out.early = await rt.go({ fn: async (rt) => [rt.signal.aborted, rt.signal.reason, (await rt.done.recvOk()).ok], signal: AbortSignal.abort('early') }).join();

        // Without a signal: a signal that never aborts, and a nil rt.done.
        out.none = await rt.go(async (rt) => [rt.signal.aborted, rt.done, (await rt.select([{ recv: rt.done }], { default: true })).index]).join();

        // rt.signal given to operations and to child goroutines.
        const ac4 = new AbortController();
        const g4 = rt.go({ fn: async (rt) => {
          const child = rt.go({ fn: async (rt) => {
            await rt.done.recv();
            return rt.signal.reason;
          }, signal: rt.signal });
          const ch = rt.chan();
          let op;
          try {
            await ch.recv({ signal: rt.signal });
          } catch (e) {
            op = e;
          }
          return { op, child: await child.join() };
        }, name: 'parent', signal: ac4.signal });
        await until(rt, (d) => d.some((x) => x.name === 'parent' && x.waitReason === 'chan receive'), 'the parent to wait');
        ac4.abort('cancelled');
        out.nested = await g4.join();

        // A goroutine that returned before the abort: nothing happens (the listener is gone).
        const ac5 = new AbortController();
        out.finished = await rt.go({ fn: (rt) => rt.signal.aborted, signal: ac5.signal }).join();
        ac5.abort('late');
        out.stillRuns = await rt.go((rt) => 2).join();
        return out;
      } finally {
        await rt.shutdown();
      }
    `,
    { path },
  );
  assert.deepEqual(r, {
    done: { before: false, index: 0, aborted: true, reason: { why: 'user left' } },
    domException: [
      [true, 'AbortError', 'signal is aborted without reason'],
      [true, 'TimeoutError', 'signal timed out'],
      [true, 'AbortError', 'The goroutine was aborted'],
    ],
    early: [true, 'early', false],
    none: [false, null, -1],
    nested: { op: 'cancelled', child: 'cancelled' },
    finished: false,
    stillRuns: 2,
  });
}

describe('a long-lived signal', () => {
  test('keeps no listener of calls that settled, nor of goroutines that finished', async () => {
    const r = await inPage(`
      const rt = await Runtime.start({ procs: 2 });
      try {
        const ac = new AbortController();
        const { signal } = ac;
        const listening = new Set();
        const add = signal.addEventListener.bind(signal);
        const remove = signal.removeEventListener.bind(signal);
        signal.addEventListener = (type, f, o) => (listening.add(f), add(type, f, o));
        signal.removeEventListener = (type, f, o) => (listening.delete(f), remove(type, f, o));
        const ch = rt.chan(0);
        const mu = rt.mutex();
        const gs = [];
        for (let i = 0; i < 20; i++) {
          const got = ch.recv({ signal });
          await ch.send(i, { signal });
          await got;
          await mu.lock({ signal });
          mu.unlock();
          await rt.sleep(0, { signal });
          gs.push(rt.go({ fn: (rt, i) => i, signal }, i));
        }
        const during = listening.size;
        for (const g of gs) await g.join({ signal });
        // A goroutine's listener goes once the page sees it finished (a wait on its state).
        for (let i = 0; i < 1000 && listening.size > 0; i++) await new Promise((r) => setTimeout(r, 2));
        return { during: during <= 20, after: listening.size, aborted: signal.aborted };
      } finally {
        await rt.shutdown();
      }
    `);
    assert.deepEqual(r, { during: true, after: 0, aborted: false });
  });
});

describe("a task spec's signal", () => {
  for (const [mode, path] of [
    ['', undefined],
    [' (without cross-origin isolation)', `${BLANK_PAGE}?isolated=0`],
  ])
    test(`is rt.signal and rt.done in the goroutine, from the page and from a goroutine${mode}`, async () => {
      await taskSpecSignal(path);
    });
  test('must be an AbortSignal, and is refused by rt.afterFunc', async () => {
    const r = await inPage(`
      const rt = await Runtime.start({ procs: 1 });
      const message = (f) => {
        try {
          f();
          return 'no error';
        } catch (e) {
          return e.constructor.name + ': ' + e.message;
        }
      };
      try {
        return [
          message(() => rt.go({ fn: () => 1, signal: 'soon' })),
          message(() => rt.afterFunc(10, { fn: () => 1, signal: new AbortController().signal })),
          await rt.go(async (rt) => {
            try {
              rt.go({ fn: () => 1, signal: {} });
            } catch (e) {
              return e.constructor.name + ': ' + e.message;
            }
          }).join(),
        ];
      } finally {
        await rt.shutdown();
      }
    `);
    assert.deepEqual(r, [
      'TypeError: rt.go: the task spec\'s signal must be an AbortSignal, got the string "soon"',
      "TypeError: rt.afterFunc: a task spec's signal is not taken here; stop the Timer instead",
      "TypeError: rt.go: the task spec's signal must be an AbortSignal, got an object (Object)",
    ]);
  });
});
