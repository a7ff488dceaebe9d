// Headless-browser tests of the runtime's lifecycle and input checks at the JS facade, written
// as a web app uses the API: every call after shutdown() is a ShutdownError (and a released
// handle says it was released), a handle of one runtime given to another is a TypeError at that
// call, out-of-range numbers are RangeErrors where Go would panic or the value cannot be held,
// and a value that can never fit under `heapLimit` is a RangeError at the call that sent it,
// whichever way it was sent.
//
//   node --test tests/lifecycle.test.mjs

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ATTEMPT, close, inPage } from './harness.mjs';

after(close);

describe('after shutdown', () => {
  test('every call on the runtime and on its handles throws or rejects a ShutdownError', async () => {
    const r = await inPage(`
      ${ATTEMPT}
      const rt = await Runtime.start({ procs: 2 });
      const ch = rt.chan(2), wg = rt.waitGroup(), mu = rt.mutex();
      await ch.send('buffered');
      wg.add(1);
      await mu.lock();
      const done = rt.go((rt) => 'finished');
      await rt.shutdown();
      const out = { sync: {}, async: {} };
      const sync = {
        'rt.go': () => rt.go((rt) => 1),
        'rt.chan': () => rt.chan(1),
        'rt.waitGroup': () => rt.waitGroup(),
        'rt.mutex': () => rt.mutex(),
        'rt.after': () => rt.after(10),
        'rt.stats': () => rt.stats(),
        'ch.trySend': () => ch.trySend(1),
        'ch.tryRecv': () => ch.tryRecv(),
        'ch.close': () => ch.close(),
        'ch.cap': () => ch.cap,
        'ch.len': () => ch.len,
        'wg.add': () => wg.add(1),
        'wg.done': () => wg.done(),
        'mu.tryLock': () => mu.tryLock(),
        'mu.unlock': () => mu.unlock(),
      };
      for (const [k, f] of Object.entries(sync)) out.sync[k] = attemptSync(f);
      const later = {
        'ch.send': () => ch.send(1),
        'ch.recv': () => ch.recv(),
        'ch.recvOk': () => ch.recvOk(),
        'for await': async () => { for await (const v of ch) return v; },
        'wg.wait': () => wg.wait(),
        'mu.lock': () => mu.lock(),
        'rt.sleep': () => rt.sleep(1),
        'rt.gosched': () => rt.gosched(),
        'rt.gc': () => rt.gc(),
        'rt.goroutines': () => rt.goroutines(),
        'rt.select': () => rt.select([{ recv: ch }], { default: true }),
      };
      for (const [k, f] of Object.entries(later)) out.async[k] = await attempt(f);
      out.join = await attempt(() => done.join());
      out.release = attemptSync(() => { ch.release(); ch.release(); wg.release(); mu.release(); });
      out.shutdownAgain = await attempt(() => rt.shutdown());
      out.procs = rt.procs;
      return out;
    `);
    for (const [k, x] of Object.entries(r.sync)) {
      assert.equal(x.name, 'ShutdownError', `${k}: ${JSON.stringify(x)}`);
      assert.equal(x.shutdown, true, k);
      assert.match(x.message, /has been shut down/, k);
      assert.ok(
        x.message.startsWith(k.replace(/^ch\./, 'Chan.').replace(/^wg\./, 'WaitGroup.').replace(/^mu\./, 'Mutex.')),
        `${k}: ${x.message}`,
      );
    }
    for (const [k, x] of Object.entries(r.async)) {
      assert.equal(x.name, 'ShutdownError', `${k}: ${JSON.stringify(x)}`);
      assert.equal(x.shutdown, true, k);
    }
    // A join after shutdown: a ShutdownError with the goroutine's id.
    assert.equal(r.join.name, 'ShutdownError', JSON.stringify(r.join));
    assert.equal(r.join.shutdown, true, JSON.stringify(r.join));
    assert.equal(typeof r.join.goroutineId, 'number');
    assert.deepEqual(r.release, { returned: undefined }, 'release after shutdown is quiet');
    assert.deepEqual(r.shutdownAgain, { returned: undefined });
    assert.equal(r.procs, 2);
  });

  test('operations pending at shutdown and unfinished joins reject with a ShutdownError', async () => {
    const r = await inPage(`
      ${ATTEMPT}
      const rt = await Runtime.start({ procs: 2 });
      const ch = rt.chan(), nobody = rt.chan(), wg = rt.waitGroup(), mu = rt.mutex();
      wg.add(1);
      await mu.lock();
      const pending = {
        recv: attempt(() => ch.recv()),
        send: attempt(() => nobody.send('never received')),
        wait: attempt(() => wg.wait()),
        lock: attempt(() => mu.lock()),
        sleep: attempt(() => rt.sleep(60000)),
        select: attempt(() => rt.select([{ recv: ch }])),
      };
      const g = rt.go(async (rt, ch) => ch.recv(), ch);
      const join = attempt(() => g.join());
      let dump = [];
      for (let i = 0; i < 500 && dump.filter((d) => d.state === 'waiting').length < 7; i++) {
        dump = await rt.goroutines();
        await new Promise((r) => setTimeout(r, 2));
      }
      await rt.shutdown();
      const out = {};
      for (const [k, p] of Object.entries(pending)) out[k] = await p;
      out.join = { ...(await join), id: g.id };
      return out;
    `);
    for (const k of ['recv', 'send', 'wait', 'lock', 'sleep', 'select']) {
      assert.equal(r[k].name, 'ShutdownError', `${k}: ${JSON.stringify(r[k])}`);
      assert.equal(r[k].shutdown, true, k);
    }
    assert.equal(r.join.name, 'ShutdownError', JSON.stringify(r.join));
    assert.equal(r.join.shutdown, true, JSON.stringify(r.join));
    assert.equal(r.join.goroutineId, r.join.id);
    assert.match(r.join.message, /cancel/);
  });

  test('a released handle says it was released, and cannot be sent', async () => {
    const r = await inPage(`
      ${ATTEMPT}
      const rt = await Runtime.start({ procs: 2 });
      try {
        const ch = rt.chan(1), wg = rt.waitGroup(), mu = rt.mutex();
        ch.release();
        wg.release();
        mu.release();
        const out = {
          trySend: attemptSync(() => ch.trySend(1)),
          cap: attemptSync(() => ch.cap),
          send: await attempt(() => ch.send(1)),
          recv: await attempt(() => ch.recv()),
          add: attemptSync(() => wg.add(1)),
          wait: await attempt(() => wg.wait()),
          unlock: attemptSync(() => mu.unlock()),
          lock: await attempt(() => mu.lock()),
          select: await attempt(() => rt.select([{ recv: ch }], { default: true })),
          asArgument: attemptSync(() => rt.go((rt, x) => x, { ch })),
          inMessage: await attempt(() => rt.chan(1).send([wg])),
          releaseAgain: attemptSync(() => ch.release()),
        };
        out.stillWorks = await rt.go((rt, x) => x + 1, 41).join();
        return out;
      } finally {
        await rt.shutdown();
      }
    `);
    for (const k of [
      'trySend',
      'cap',
      'send',
      'recv',
      'add',
      'wait',
      'unlock',
      'lock',
      'select',
      'asArgument',
      'inMessage',
    ]) {
      const x = r[k];
      assert.equal(x.name, 'TypeError', `${k}: ${JSON.stringify(x)}`);
      assert.match(x.message, /released/, k);
      assert.doesNotMatch(x.message, /null pointer/, k);
    }
    assert.match(r.asArgument.message, /argument 1\.ch/);
    assert.match(r.inMessage.message, /channel value\[0\]/);
    assert.deepEqual(r.releaseAgain, { returned: undefined });
    assert.equal(r.stillWorks, 42);
  });
});

describe('one runtime, its own handles', () => {
  test("runtime A's handles given to runtime B are a TypeError at that call, and neither runtime reports a deadlock", async () => {
    const r = await inPage(
      `
      ${ATTEMPT}
      const a = await Runtime.start({ procs: 1 });
      const b = await Runtime.start({ procs: 1 });
      const reports = [];
      for (const rt of [a, b]) rt.addEventListener('deadlock', (e) => reports.push(e.detail.message));
      try {
        const chA = a.chan(1), wgA = a.waitGroup(), muA = a.mutex();
        const chB = b.chan(1);
        const out = {
          go: attemptSync(() => b.go(async (rt, ch) => ch.recv(), chA)),
          goNested: attemptSync(() => b.go((rt, x) => x, 1, { sync: [wgA, muA] })),
          selectRecv: await attempt(() => b.select([{ recv: chA }])),
          selectSend: await attempt(() => b.select([{ send: chA, value: 1 }], { default: true })),
          selectValue: await attempt(() => b.select([{ send: chB, value: { reply: chA } }], { default: true })),
          send: await attempt(() => chB.send({ reply: chA })),
          trySend: attemptSync(() => chB.trySend(muA)),
          // Inside a goroutine of B, a handle of A cannot arrive at all; B's own handles work.
          bOwn: await b.go(async (rt, ch) => { await ch.send('b'); return ch.recv(); }, chB).join(),
        };
        out.lenB = chB.len;
        out.aStill = await a.go(async (rt, ch) => { await ch.send('a'); return ch.recv(); }, chA).join();
        await new Promise((r) => setTimeout(r, 200));
        out.reports = reports;
        return out;
      } finally {
        await a.shutdown();
        await b.shutdown();
      }
    `,
    );
    const typeError = (k, re) => {
      const x = r[k];
      assert.equal(x.name, 'TypeError', `${k}: ${JSON.stringify(x)}`);
      assert.match(x.message, /another runtime/, k);
      assert.match(x.message, re, k);
    };
    typeError('go', /argument 1/);
    typeError('goNested', /argument 2\.sync\[0\]/);
    typeError('selectRecv', /case 0\.recv/);
    typeError('selectSend', /case 0\.send/);
    typeError('selectValue', /case 0 value\.reply/);
    typeError('send', /channel value\.reply/);
    typeError('trySend', /channel value/);
    assert.match(r.trySend.message, /mutex/);
    assert.equal(r.bOwn, 'b');
    assert.equal(r.lenB, 0, 'nothing was half-sent');
    assert.equal(r.aStill, 'a');
    assert.deepEqual(r.reports, []);
  });
});

describe('numbers in range', () => {
  test('WaitGroup counts are Go int32 counts: RangeError past them, nothing changes', async () => {
    const r = await inPage(`
      async function counts(rt) {
        ${ATTEMPT}
        const wg = rt.waitGroup();
        const out = {
          huge: attemptSync(() => wg.add(1e300)),
          hugeNegative: attemptSync(() => wg.add(-1e300)),
          past: attemptSync(() => wg.add(2 ** 31)),
        };
        wg.add(2 ** 31 - 1);
        out.overflow = attemptSync(() => wg.add(1));
        out.nan = attemptSync(() => wg.add(NaN)).name;
        wg.add(-(2 ** 31 - 1));
        out.wait = await Promise.race([wg.wait().then(() => 'returned'), new Promise((r) => setTimeout(() => r('blocked'), 5000))]);
        return out;
      }
      const rt = await Runtime.start({ procs: 2 });
      try {
        return { page: await counts(rt), goroutine: await rt.go(counts).join() };
      } finally {
        await rt.shutdown();
      }
    `);
    for (const side of ['page', 'goroutine']) {
      const x = r[side];
      const msg = `${side}: ${JSON.stringify(x)}`;
      for (const k of ['huge', 'hugeNegative', 'past', 'overflow']) {
        assert.equal(x[k].name, 'RangeError', `${k} ${msg}`);
        assert.equal(x[k].ctor, 'RangeError', `${k} ${msg}`);
      }
      assert.match(x.overflow.message, /WaitGroup counter overflow/, msg);
      assert.equal(x.nan, 'SyncError', msg);
      assert.equal(x.wait, 'returned', msg);
    }
  });

  test('durations: NaN is a RangeError, a non-number a TypeError; zero and negative return at once, as in Go', async () => {
    const r = await inPage(`
      async function durations(rt) {
        ${ATTEMPT}
        const out = {
          sleepNaN: (await attempt(() => rt.sleep(NaN))).name,
          afterNaN: attemptSync(() => rt.after(NaN)).name,
          sleepString: (await attempt(() => rt.sleep('5'))).name,
          afterString: attemptSync(() => rt.after(undefined)).name,
        };
        const t0 = performance.now();
        await rt.sleep(-5);
        await rt.sleep(0);
        await rt.sleep(-Infinity);
        const fired = await rt.after(-100).recv();
        out.afterZero = typeof (await rt.after(0).recv());
        out.elapsed = performance.now() - t0;
        out.fired = typeof fired;
        return out;
      }
      const rt = await Runtime.start({ procs: 2 });
      try {
        return { page: await durations(rt), goroutine: await rt.go(durations).join() };
      } finally {
        await rt.shutdown();
      }
    `);
    for (const side of ['page', 'goroutine']) {
      const x = r[side];
      const msg = `${side}: ${JSON.stringify(x)}`;
      assert.equal(x.sleepNaN, 'RangeError', msg);
      assert.equal(x.afterNaN, 'RangeError', msg);
      assert.equal(x.sleepString, 'TypeError', msg);
      assert.equal(x.afterString, 'TypeError', msg);
      assert.equal(x.fired, 'number', msg);
      assert.equal(x.afterZero, 'number', msg);
      assert.ok(x.elapsed < 2000, msg);
    }
  });

  test('Runtime.start: procs out of 1..64 and capacities past a u32 are RangeErrors', async () => {
    const r = await inPage(`
      ${ATTEMPT}
      const out = {};
      for (const procs of [0, 65, 1.5, NaN, -1]) out['procs ' + procs] = (await attempt(() => Runtime.start({ procs }))).name;
      const rt = await Runtime.start({ procs: 1 });
      try {
        for (const cap of [-1, 0.5, 2 ** 32, Infinity, NaN]) out['cap ' + cap] = attemptSync(() => rt.chan(cap)).name;
        out.maxCap = rt.chan(2 ** 32 - 1).cap;
      } finally {
        await rt.shutdown();
      }
      return out;
    `);
    for (const [k, v] of Object.entries(r)) if (k !== 'maxCap') assert.equal(v, 'RangeError', k);
    assert.equal(r.maxCap, 2 ** 32 - 1);
  });
});

describe('heapLimit', () => {
  test('a value that can never fit is a RangeError at the call that sent it, whichever way; nothing half-written', async () => {
    const r = await inPage(`
      async function sends(rt) {
        ${ATTEMPT}
        const big = new Uint8Array(16 << 20);
        const ch = rt.chan(4);
        const out = {
          trySend: attemptSync(() => ch.trySend(big)),
          trySendInside: attemptSync(() => ch.trySend({ small: 1, big })),
          send: await attempt(() => ch.send(big)),
          select: await attempt(() => rt.select([{ send: ch, value: big }], { default: true })),
          go: attemptSync(() => rt.go((rt, x) => x.length, 1, big)),
        };
        out.len = ch.len;
        out.small = ch.trySend(new Uint8Array(1 << 20));
        out.received = (await ch.recv()).length;
        out.go2 = await rt.go((rt, x) => x.length, new Uint8Array(1 << 20)).join();
        return out;
      }
      const rt = await Runtime.start({ procs: 2, heapLimit: 8 << 20 });
      try {
        ${ATTEMPT}
        const out = { page: await sends(rt), goroutine: await rt.go(sends).join() };
        out.result = await attempt(() => rt.go((rt) => new Uint8Array(16 << 20)).join());
        out.stillWorks = await rt.go(async (rt) => {
          const ch = rt.chan(1);
          await ch.send(new Uint8Array(4 << 20).fill(7));
          return (await ch.recv())[100];
        }).join();
        out.heapLimit = rt.stats().gc.heapLimit;
        return out;
      } finally {
        await rt.shutdown();
      }
    `);
    assert.equal(r.heapLimit, 8 << 20);
    for (const side of ['page', 'goroutine']) {
      const x = r[side];
      const msg = `${side}: ${JSON.stringify(x)}`;
      for (const k of ['trySend', 'trySendInside', 'send', 'select', 'go']) {
        assert.equal(x[k].name, 'RangeError', `${k} ${msg}`);
        assert.match(x[k].message, /heap limit/, `${k} ${msg}`);
      }
      assert.match(x.go.message, /argument 2/, msg);
      assert.match(x.trySend.message, /channel value/, msg);
      assert.equal(x.len, 0, msg);
      assert.equal(x.small, true, msg);
      assert.equal(x.received, 1 << 20, msg);
      assert.equal(x.go2, 1 << 20, msg);
    }
    assert.equal(r.result.name, 'RangeError', JSON.stringify(r.result));
    assert.match(r.result.message, /heap limit/);
    assert.equal(r.stillWorks, 7);
  });
});

test("a stopped Worker's stack and thread-locals are freed once it is gone: start/shutdown cycles do not grow memory", async () => {
  const grewMiB = await inPage(
    `
    const { gortSharedMemory } = await import('/pkg/wasm/gort.js');
    const gortLocks = async () => {
      const { held, pending } = await navigator.locks.query();
      return [...held, ...pending].filter((l) => l.name.startsWith('gort:')).length;
    };
    // One runtime's life, until each of its Workers is known dead (its Web Lock went to the
    // page, which then freed the Worker's thread memory and let the lock go).
    const cycle = async () => {
      const rt = await Runtime.start({ procs: 4 });
      await rt.go((rt) => 1).join();
      await rt.shutdown();
      for (let i = 0; (await gortLocks()) > 0; i++) {
        if (i === 1000) throw new Error('the Workers still hold their locks 10 s after shutdown');
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await cycle();
    const before = gortSharedMemory().buffer.byteLength;
    for (let i = 0; i < 16; i++) await cycle();
    return (gortSharedMemory().buffer.byteLength - before) / 2 ** 20;
  `,
    { timeout: 120_000 },
  );
  // Each Worker's stack is 2 MiB: were they kept, 16 runtimes of 4 Ps would take 128 MiB more.
  assert.ok(grewMiB < 32, `wasm memory grew by ${grewMiB} MiB over 16 runtimes`);
});
