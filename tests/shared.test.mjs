// Headless-browser tests of "shared memory is shared": a SharedArrayBuffer, or a view on one, in
// a value that crosses goroutines arrives as the same memory, on every thread of the runtime
// (pkg/src/shared.js); everything else is copied, large buffers exactly.
//
//   node --test tests/shared.test.mjs

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { close, inPage } from './harness.mjs';

after(close);

describe('SharedArrayBuffers cross goroutines by reference', () => {
  test('page → goroutine argument → result: the same memory and the same buffer, views keep their extent', async () => {
    const r = await inPage(`
      const rt = await Runtime.start({ procs: 2 });
      try {
        const sab = new SharedArrayBuffer(64);
        const i32 = new Int32Array(sab, 8, 4);
        const f64 = new Float64Array(sab, 16, 2);
        const dv = new DataView(sab, 40, 8);
        i32[0] = 11;
        f64[0] = 1.5;
        dv.setUint16(0, 513, true);
        const plain = new Uint8Array([1, 2, 3]);
        const value = { sab, i32, f64, dv, nested: new Map([['k', [sab, { again: sab }]]]), plain, plainAgain: plain };
        const back = await rt.go((rt, v) => {
          const seen = {
            shared: v.sab instanceof SharedArrayBuffer,
            oneBuffer: v.i32.buffer === v.sab && v.f64.buffer === v.sab && v.dv.buffer === v.sab &&
              v.nested.get('k')[0] === v.sab && v.nested.get('k')[1].again === v.sab,
            extents: [v.i32.byteOffset, v.i32.length, v.f64.byteOffset, v.f64.length, v.dv.byteOffset, v.dv.byteLength],
            read: [v.i32[0], v.f64[0], v.dv.getUint16(0, true)],
            plainCopied: v.plain.buffer instanceof ArrayBuffer && v.plainAgain === v.plain,
          };
          v.i32[1] = 22;
          v.f64[1] = -2.25;
          v.dv.setUint8(7, 99);
          v.plain[0] = 100;
          return { seen, sab: v.sab, view: new Uint16Array(v.sab, 2, 3), plain: v.plain, i32: v.i32 };
        }, value).join();
        return {
          seen: back.seen,
          writes: [i32[1], f64[1], dv.getUint8(7)],
          sameBuffer: back.sab === sab && back.view.buffer === sab && back.i32.buffer === sab,
          view: [back.view.byteOffset, back.view.length],
          plainHere: [...plain],
          plainBack: [...back.plain],
          plainIsCopy: back.plain !== plain && back.plain.buffer !== plain.buffer,
        };
      } finally {
        await rt.shutdown();
      }
    `);
    assert.deepEqual(r, {
      seen: {
        shared: true,
        oneBuffer: true,
        extents: [8, 4, 16, 2, 40, 8],
        read: [11, 1.5, 513],
        plainCopied: true,
      },
      writes: [22, -2.25, 99],
      sameBuffer: true,
      view: [2, 3],
      plainHere: [1, 2, 3],
      plainBack: [100, 2, 3],
      plainIsCopy: true,
    });
  });

  test('a buffer a goroutine makes reaches a goroutine on another Worker by channel, and Atomics work across them', async () => {
    const r = await inPage(`
      const rt = await Runtime.start({ procs: 2 });
      try {
        const started = rt.chan(2);
        const roles = rt.chan();
        const ch = rt.chan(1);
        const pair = (rt, started, roles, ch) => (async () => {
          await started.send(rt.procid());
          const role = await roles.recv();
          if (role === 'a') {
            // A makes a buffer, sends a view on it, and waits until notified (without blocking
            // its Worker: what a goroutine that blocks its Worker holds up is the hog tests').
            const flag = new Int32Array(new SharedArrayBuffer(16));
            const waiting = Atomics.waitAsync(flag, 0, 0, 20000);
            await ch.send({ flag });
            const woke = await waiting.value;
            return { role, woke, value: Atomics.load(flag, 1), proc: rt.procid(), flag };
          }
          if (role === 'b') {
            // B, on the other Worker, receives it, writes, and notifies until A is woken.
            const { flag } = await ch.recv();
            Atomics.store(flag, 1, 42);
            let notified = 0;
            for (const t0 = Date.now(); notified === 0 && Date.now() - t0 < 20000; ) notified = Atomics.notify(flag, 0);
            return { role, notified, proc: rt.procid(), flag };
          }
          return { role };
        })();
        // Two goroutines, until they run on different Workers.
        for (let attempt = 0; attempt < 30; attempt++) {
          const gs = [rt.go(pair, started, roles, ch), rt.go(pair, started, roles, ch)];
          const procs = [await started.recv(), await started.recv()];
          const apart = procs[0] !== procs[1];
          await roles.send(apart ? 'a' : 'none');
          await roles.send(apart ? 'b' : 'none');
          const [x, y] = await Promise.all(gs.map((g) => g.join()));
          if (!apart) continue;
          const [a, b] = x.role === 'a' ? [x, y] : [y, x];
          return {
            woke: a.woke, value: a.value, notified: b.notified, otherWorker: a.proc !== b.proc,
            oneBufferHere: a.flag.buffer === b.flag.buffer && a.flag.buffer instanceof SharedArrayBuffer,
          };
        }
        return 'never on different Workers';
      } finally {
        await rt.shutdown();
      }
    `);
    assert.deepEqual(r, { woke: 'ok', value: 42, notified: 1, otherWorker: true, oneBufferHere: true });
  });

  test('tryRecv gives back a value whose buffer has not reached its thread, and a later receive gets it', async () => {
    const r = await inPage(`
      const rt = await Runtime.start({ procs: 2 });
      try {
        const ch = rt.chan(1);
        const g = rt.go((rt, ch) => {
          const bytes = new Uint8Array(new SharedArrayBuffer(4));
          bytes[0] = 7;
          ch.trySend(bytes);
          return bytes.buffer;
        }, ch);
        // This task does not end until the value is in the channel, so the page cannot have
        // had the buffer, which comes in a task of its own.
        const t0 = Date.now();
        while (ch.len === 0 && Date.now() - t0 < 10000);
        const len = ch.len;
        const early = ch.tryRecv();
        const kept = ch.len;
        const v = await ch.recv();
        return {
          len, early, kept, value: v[0], shared: v.buffer instanceof SharedArrayBuffer,
          same: (await g.join()) === v.buffer,
        };
      } finally {
        await rt.shutdown();
      }
    `);
    assert.deepEqual(r, { len: 1, early: undefined, kept: 1, value: 7, shared: true, same: true });
  });

  test("the runtime's own memory and growable buffers are not shared; large values round-trip exactly", async () => {
    const r = await inPage(`
      const { gortSharedMemory } = await import('/pkg/wasm/gort.js');
      const rt = await Runtime.start({ procs: 2 });
      const attempt = (f) => { try { f(); return 'sent'; } catch (e) { return e.name + ': ' + e.message; } };
      try {
        // The memory's buffer is replaced when it grows: read it at each use.
        const memView = await rt
          .go((rt, v) => v.buffer instanceof ArrayBuffer && v.length, new Uint8Array(gortSharedMemory().buffer, 0, 16))
          .join();
        const ch = rt.chan(1);
        const refused = {
          memory: attempt(() => ch.trySend({ memory: gortSharedMemory().buffer })),
          growable: attempt(() => ch.trySend([new Int8Array(new SharedArrayBuffer(8, { maxByteLength: 16 }))])),
        };
        const n = (8 << 20) + 5;
        const big = new Uint8Array(n);
        for (let i = 0; i < n; i++) big[i] = (i * 7919) >>> 3;
        const f64 = new Float64Array(big.buffer, 0, 1 << 20);
        const exact = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
        const back = await rt.go((rt, v) => v, { big, f64 }).join();
        const there = rt.chan();
        const echo = rt.go(async (rt, there) => there.send(await there.recv()), there);
        await there.send(big);
        const echoed = await there.recv();
        await echo.join();
        return {
          memView, refused,
          result: exact(back.big, big) && back.big.buffer !== big.buffer && exact(back.f64, f64),
          channel: exact(echoed, big),
        };
      } finally {
        await rt.shutdown();
      }
    `);
    assert.deepEqual(r, {
      memView: 16,
      refused: {
        memory:
          "TypeError: cannot send channel value.memory: the runtime's own wasm memory cannot cross goroutines (send a view on it: it is copied)",
        growable:
          'TypeError: cannot send channel value[0]: a growable SharedArrayBuffer cannot cross goroutines (only fixed-length ones are shared)',
      },
      result: true,
      channel: true,
    });
  });
});
