// Headless-browser tests of a runtime on a page that is not cross-origin isolated (served
// without COOP/COEP: `?isolated=0`, scripts/serve.mjs), where there is no SharedArrayBuffer:
// `Runtime.start()` runs one P on the page's own thread (pkg/src/local.js), with the API of a
// threaded runtime, and `requireThreads` rejects instead.
//
//   node --test tests/local.test.mjs

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BLANK_PAGE, close, inPage } from './harness.mjs';

after(close);

const NOT_ISOLATED = `${BLANK_PAGE}?isolated=0`;
const local = (code, options) => inPage(code, { path: NOT_ISOLATED, ...options });

describe('a page without cross-origin isolation', () => {
  test('starts one P on the page, without threads, whatever procs asked for', async () => {
    const r = await local(`
      const rt = await Runtime.start({ procs: 4 });
      try {
        return {
          isolated: crossOriginIsolated, sab: typeof SharedArrayBuffer,
          threaded: rt.threaded, procs: rt.procs, statsProcs: rt.stats().procs,
          procid: await rt.go((rt) => rt.procid()).join(),
        };
      } finally {
        await rt.shutdown();
      }
    `);
    assert.deepEqual(r, {
      isolated: false,
      sab: 'undefined',
      threaded: false,
      procs: 1,
      statsProcs: 1,
      procid: 0,
    });
  });

  test('goroutines, channels, select, timers, sync and errors behave as with threads', async () => {
    const r = await local(`
      const rt = await Runtime.start();
      try {
        const out = {};
        // A goroutine that starts goroutines, which report over an unbuffered channel.
        out.squares = await rt.go(async (rt) => {
          const ch = rt.chan();
          for (let i = 1; i <= 10; i++) rt.go(async (rt, ch, i) => ch.send(i * i), ch, i);
          let sum = 0;
          for (let i = 0; i < 10; i++) sum += await ch.recv();
          return sum;
        }).join();
        // A buffered channel filled by a goroutine, drained by the page until it is closed.
        const ch = rt.chan(3);
        rt.go(async (rt, ch) => {
          for (let i = 0; i < 8; i++) await ch.send({ i, bytes: new Uint8Array([i, i]) });
          ch.close();
        }, ch);
        out.received = [];
        for await (const v of ch) out.received.push(v.i + v.bytes[1]);
        // trySend and tryRecv complete at once, on the page.
        const b = rt.chan(1);
        out.try = [b.trySend('a'), b.trySend('b'), b.len, b.tryRecv(), b.tryRecv()];
        // select: the ready case, a default, a timeout.
        const ready = rt.chan(1);
        ready.trySend(7);
        const idle = rt.chan();
        const s1 = await rt.select([{ recv: idle }, { recv: ready }]);
        const s2 = await rt.select([{ recv: idle }], { default: true });
        const s3 = await rt.select([{ recv: idle }, { recv: rt.after(5) }]);
        out.select = [s1.index, s1.value, s2.index, s3.index];
        // Timers fire in deadline order.
        out.order = await rt.go(async (rt) => {
          const order = [], done = rt.chan(3);
          for (const ms of [30, 10, 20]) rt.go(async (rt, ms, order, done) => { await rt.sleep(ms); await done.send(ms); }, ms, order, done);
          for (let i = 0; i < 3; i++) order.push(await done.recv());
          return order;
        }).join();
        // A Mutex-protected counter and a WaitGroup, over 20 goroutines.
        const mu = rt.mutex(), wg = rt.waitGroup(), cell = rt.chan(1);
        cell.trySend(0);
        wg.add(20);
        for (let i = 0; i < 20; i++)
          rt.go(async (rt, mu, wg, cell) => {
            for (let k = 0; k < 10; k++) {
              await mu.lock();
              const v = cell.tryRecv().value;
              await rt.gosched();
              cell.trySend(v + 1);
              mu.unlock();
            }
            wg.done();
          }, mu, wg, cell);
        await wg.wait();
        out.counter = cell.tryRecv().value;
        // A goroutine that throws.
        out.error = await rt.go(() => { throw new TypeError('bad'); }).join().then(() => 'no error', (e) => [e.name, e.cause?.name, e.cause?.message]);
        return out;
      } finally {
        await rt.shutdown();
      }
    `);
    assert.deepEqual(r, {
      squares: 385,
      received: [0, 2, 4, 6, 8, 10, 12, 14],
      try: [true, false, 1, { value: 'a', ok: true }, undefined],
      select: [1, 7, -1, 1],
      order: [10, 20, 30],
      counter: 200,
      error: ['GoroutineError', 'TypeError', 'bad'],
    });
  });

  test('the collector frees garbage and keeps what is live', async () => {
    const r = await local(`
      const rt = await Runtime.start({ gcPercent: 100 });
      try {
        const before = rt.stats().gc.numGC;
        // Values parked in a channel stay live while 64 MiB of garbage passes through another.
        const keep = rt.chan(16), pipe = rt.chan(4);
        for (let i = 0; i < 16; i++) keep.trySend(new Uint8Array(1024).fill(i));
        await rt.go(async (rt, pipe) => {
          const sink = rt.go(async (rt, pipe) => { for await (const _ of pipe) {} }, pipe);
          for (let i = 0; i < 256; i++) await pipe.send(new Uint8Array(256 << 10));
          pipe.close();
          await sink.join();
        }, pipe).join();
        await rt.gc();
        const kept = [];
        for (let i = 0; i < 16; i++) { const v = keep.tryRecv().value; kept.push(v.length === 1024 && v.every((x) => x === i)); }
        const gc = rt.stats().gc;
        return { collections: gc.numGC - before > 1, inuse: gc.heapInuse < (16 << 20), kept: kept.every(Boolean) };
      } finally {
        await rt.shutdown();
      }
    `);
    assert.deepEqual(r, { collections: true, inuse: true, kept: true });
  });

  test('a deadlock is reported with the goroutine dump', async () => {
    const r = await local(
      `
      const rt = await Runtime.start();
      try {
        const report = new Promise((resolve) => rt.addEventListener('deadlock', (e) => resolve(e.detail.message)));
        rt.go(async (rt) => { await rt.chan().recv(); });
        return await report;
      } finally {
        await rt.shutdown();
      }
    `,
      { expectErrors: (errors) => assert.match(errors.join('\n'), /all goroutines are asleep/) },
    );
    assert.match(r, /all goroutines are asleep - deadlock!/);
    assert.match(r, /chan receive/);
  });

  test("the page's event loop keeps running while goroutines ping-pong", async () => {
    const r = await local(`
      const rt = await Runtime.start();
      try {
        // Tasks of the page's event loop, counted while 2,000 round trips run.
        let ticks = 0, running = true;
        const channel = new MessageChannel();
        channel.port1.onmessage = () => { ticks++; if (running) channel.port2.postMessage(null); };
        channel.port2.postMessage(null);
        const rounds = await rt.go(async (rt) => {
          const a = rt.chan(), b = rt.chan();
          rt.go(async (rt, a, b) => { for (;;) { const v = await a.recv(); if (v < 0) return; await b.send(v + 1); } }, a, b);
          let v = 0;
          for (let i = 0; i < 2000; i++) { await a.send(v); v = await b.recv(); }
          await a.send(-1);
          return v;
        }).join();
        running = false;
        return { rounds, ticked: ticks > 3 };
      } finally {
        await rt.shutdown();
      }
    `);
    assert.deepEqual(r, { rounds: 2000, ticked: true });
  });

  test('a shutdown in the middle of traffic stops it cleanly', async () => {
    // Goroutines still ping-ponging as the M stops: their continuations find every runtime
    // call a ShutdownError, and nothing reaches the module. Each pair starts while the earlier
    // ones ping-pong: their operations, bound to the M, must not hold back the goroutines
    // queued on its P (`BOUND_RUNS_MAX`, crate/src/sched/findrunnable.rs).
    const r = await local(`
      const out = [];
      for (let round = 0; round < 3; round++) {
        const rt = await Runtime.start();
        await rt.go(async (rt) => {
          const pingPong = async (rt, inp, out) => { for (;;) await out.send((await inp.recv()) + 1); };
          for (let i = 0; i < 4; i++) {
            const a = rt.chan(), b = rt.chan();
            rt.go(pingPong, a, b);
            rt.go(pingPong, b, a);
            await a.send(0);
          }
        }).join();
        await new Promise((r) => setTimeout(r, 20));
        await rt.shutdown();
        out.push(rt.stats === undefined ? 'no stats' : 'round ' + round);
      }
      await new Promise((r) => setTimeout(r, 20));
      return out;
    `);
    assert.deepEqual(r, ['round 0', 'round 1', 'round 2']);
  });

  test('requireThreads rejects; one runtime at a time; a new one starts after shutdown', async () => {
    const r = await local(`
      const out = {};
      out.required = await Runtime.start({ requireThreads: true }).then(() => 'started', (e) => e.message);
      const rt = await Runtime.start();
      out.second = await Runtime.start().then(() => 'started', (e) => e.message);
      await rt.shutdown();
      const rt2 = await Runtime.start();
      out.next = await rt2.go((rt, x) => x * 2, 21).join();
      await rt2.shutdown();
      return out;
    `);
    assert.match(r.required, /cross-origin isolated/);
    assert.match(r.required, /requireThreads/);
    assert.match(r.second, /one runtime runs at a time/);
    assert.equal(r.next, 42);
  });
});

describe('a cross-origin isolated page', () => {
  test('runs threaded, and requireThreads is satisfied', async () => {
    const r = await inPage(`
      const rt = await Runtime.start({ procs: 2, requireThreads: true });
      try {
        return { threaded: rt.threaded, procs: rt.procs };
      } finally {
        await rt.shutdown();
      }
    `);
    assert.deepEqual(r, { threaded: true, procs: 2 });
  });
});
