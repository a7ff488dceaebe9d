import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { close, inPage } from './harness.mjs';
after(close);
test('gc stats from js', async () => {
  const v = await inPage(`
    const rt = await Runtime.start({ procs: 2, gcPercent: 100, heapLimit: 64 << 20 });
    try {
      await rt.gc();
      const s = rt.stats();
      let err; try { await Runtime.start({ heapLimit: -1 }); } catch (e) { err = e.name; }
      return { gc: s.gc, err };
    } finally { await rt.shutdown(); }
  `);
  console.log(JSON.stringify(v));
  assert.equal(v.gc.numGC >= 1, true);
  assert.equal(v.gc.numForcedGC >= 1, true);
  assert.equal(v.gc.heapLimit, 64 << 20);
  assert.equal(v.gc.gcPercent, 100);
  assert.equal(v.err, 'RangeError');
});

// JS values in the GC heap: messages move into the heap when a goroutine sends them, and the
// collector frees them (and the channels only they reach) once nothing can receive them.

test('20,000 messages of 1 KiB live in the heap while buffered; heapAlloc returns to its baseline after rt.gc()', async () => {
  const v = await inPage(`
    const rt = await Runtime.start({ procs: 2 });
    try {
      const N = 20000;
      await rt.gc();
      const base = rt.stats().gc.heapAlloc;
      const ch = rt.chan(N);
      await rt.go(async (rt, ch, N) => {
        for (let i = 0; i < N; i++) {
          const b = new Uint8Array(1024);
          b[0] = i & 255; b[1] = i >> 8; b[1023] = 7;
          await ch.send(b);
        }
        ch.close();
        ch.release();
      }, ch, N).join();
      const full = rt.stats().gc.heapAlloc;
      const bad = await rt.go(async (rt, ch) => {
        let i = 0, bad = 0;
        for await (const b of ch) {
          if (b.length !== 1024 || b[0] !== (i & 255) || b[1] !== i >> 8 || b[1023] !== 7) bad++;
          i++;
        }
        ch.release();
        return { bad, received: i };
      }, ch).join();
      ch.release();
      await rt.gc();
      const after = rt.stats().gc.heapAlloc;
      return { base, full, after, ...bad };
    } finally { await rt.shutdown(); }
  `);
  console.log(JSON.stringify(v));
  assert.equal(v.received, 20000);
  assert.equal(v.bad, 0);
  assert.ok(v.full - v.base >= 20000 * 1024, `buffered messages are in the heap: ${v.full - v.base} bytes`);
  assert.ok(v.after - v.base <= 64 << 10, `heapAlloc back to its baseline: ${v.after - v.base} bytes left`);
});

test('heap limit: a send that cannot fit rejects with a RangeError naming the limit; the runtime recovers', async () => {
  const v = await inPage(`
    const rt = await Runtime.start({ procs: 2, heapLimit: 16 << 20 });
    try {
      const ch = rt.chan(64);
      const failed = await rt.go(async (rt, ch) => {
        let sent = 0;
        try {
          for (;;) { await ch.send(new Uint8Array(1 << 20).fill(sent)); sent++; }
        } catch (e) {
          return { name: e.name, message: e.message, sent };
        }
      }, ch).join();
      const got = [];
      for (let i = 0; i < failed.sent; i++) got.push((await ch.recv())[0]);
      const again = await rt.go(async (rt, ch) => { await ch.send(new Uint8Array(1 << 20).fill(99)); return 'sent'; }, ch).join();
      const last = await ch.recv();
      return { failed, got, again, last: [last.length, last[0], last[last.length - 1]], stats: rt.stats().gc };
    } finally { await rt.shutdown(); }
  `);
  console.log(JSON.stringify({ ...v, stats: undefined }));
  assert.equal(v.failed.name, 'RangeError');
  assert.match(v.failed.message, /heap limit/);
  assert.ok(v.failed.sent >= 4 && v.failed.sent < 16, `${v.failed.sent} MiB fit under a 16 MiB limit`);
  assert.deepEqual(
    v.got,
    Array.from({ length: v.failed.sent }, (_, i) => i),
    'nothing sent before the failure was lost',
  );
  assert.equal(v.again, 'sent');
  assert.deepEqual(v.last, [1 << 20, 99, 99]);
});

test('channel handles inside messages: reachable only through a buffered message stays alive; an unreachable cycle is collected', async () => {
  const v = await inPage(`
    const rt = await Runtime.start({ procs: 2 });
    try {
      // b is reachable only through the message buffered in a.
      const a = rt.chan(1);
      let b = rt.chan(1);
      await b.send('inside b');
      await a.send({ b });
      b.release(); b = null;
      await rt.gc(); await rt.gc();
      const { b: b2 } = await a.recv();
      const inside = await b2.recv();

      // c's buffer holds a message holding c (and 4 MiB): a cycle nothing else reaches.
      await rt.gc();
      const base = rt.stats().gc.heapAlloc;
      let c = rt.chan(1);
      await rt.go(async (rt, c) => { await c.send({ self: c, pad: new Uint8Array(4 << 20) }); c.release(); }, c).join();
      const held = rt.stats().gc.heapAlloc;
      await rt.gc();
      const kept = rt.stats().gc.heapAlloc; // c is still held by the page
      c.release(); c = null;
      await rt.gc();
      const freed = rt.stats().gc.heapAlloc;
      return { inside, base, held, kept, freed };
    } finally { await rt.shutdown(); }
  `);
  console.log(JSON.stringify(v));
  assert.equal(v.inside, 'inside b');
  assert.ok(v.held - v.base >= 4 << 20, 'the 4 MiB message is in the heap');
  assert.ok(v.kept - v.base >= 4 << 20, 'kept while the page holds the channel');
  assert.ok(v.freed - v.base < 1 << 20, `the cycle was collected: ${v.freed - v.base} bytes left`);
});

test('messages stay intact and arrive once while the heap collects under them', async () => {
  const v = await inPage(`
    const rt = await Runtime.start({ procs: 2, gcPercent: 10 });
    try {
      const chans = [rt.chan(0), rt.chan(3), rt.chan(32)];
      const P = 4, N = 250;
      const consumers = chans.map((ch) => rt.go(async (rt, ch) => {
        const got = [];
        let bad = 0;
        for await (const m of ch) {
          const { p, i, data, via } = m;
          let ok = data.length === ((p * 7919 + i * 104729) % 6000) + 1;
          for (let k = 0; ok && k < data.length; k += 97) ok = data[k] === ((p + i + k) & 255);
          if (via !== undefined && via.cap !== ch.cap) ok = false; // each channel has its own capacity
          if (!ok) bad++;
          got.push(p * 100000 + i);
        }
        return { got, bad };
      }, ch));
      const producers = Array.from({ length: P }, (_, p) => rt.go(async (rt, p, N, chans) => {
        for (let i = 0; i < N; i++) {
          const len = ((p * 7919 + i * 104729) % 6000) + 1;
          const data = new Uint8Array(len);
          for (let k = 0; k < len; k++) data[k] = (p + i + k) & 255;
          const ch = chans[(p + i) % chans.length];
          await ch.send(i % 5 === 0 ? { p, i, data, via: ch } : { p, i, data });
        }
      }, p, N, chans));
      let collections = 0, stop = false;
      const collector = (async () => { while (!stop) { await rt.gc(); collections++; } })();
      for (const g of producers) await g.join();
      chans.forEach((c) => c.close());
      const results = [];
      for (const g of consumers) results.push(await g.join());
      stop = true;
      await collector;
      const all = results.flatMap((r) => r.got).sort((a, b) => a - b);
      return { n: all.length, unique: new Set(all).size, bad: results.reduce((s, r) => s + r.bad, 0), collections,
               numGC: rt.stats().gc.numGC };
    } finally { await rt.shutdown(); }
  `);
  console.log(JSON.stringify(v));
  assert.equal(v.bad, 0, 'every message arrived intact');
  assert.equal(v.n, 4 * 250, 'every message arrived');
  assert.equal(v.unique, 4 * 250, 'no message arrived twice');
  assert.ok(v.collections >= 3, `collections ran meanwhile: ${v.collections}`);
});
