// Headless-browser tests of the runtime at the edge of wasm memory, as the contract puts it: a
// value or a goroutine that memory cannot hold is a RangeError at the call that asked (from
// the page and inside goroutines alike), naming the size and the limit, with nothing
// half-written; nothing traps the module, so the runtime and every other runtime on the page
// keep working, and shutdown settles. Memory is one shared wasm memory of at most 4 GiB − 64 KiB
// for the whole page; the second test fills it for real (about 4 GiB of RAM for a few seconds).
//
//   node --test tests/memory.test.mjs

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { close, inPage } from './harness.mjs';

after(close);

const MAX_MEMORY = 4294901760; // .cargo/config.toml's --max-memory

// `attempt(f)` / `attemptSync(f)`: what calling `f` did: `{ returned }`, or the error's name
// and message. Pasted into goroutine functions too.
const ATTEMPT = `
const attempt = async (f) => {
  try { return { returned: await f() }; } catch (e) { return { name: e.name, message: e.message }; }
};
const attemptSync = (f) => {
  try { const v = f(); return { returned: v instanceof Promise ? 'a promise' : v }; }
  catch (e) { return { name: e.name, message: e.message }; }
};
`;

// Settles `p`, or reports that it did not within `ms` (a hang is a failure, not a stuck test).
const WITHIN = `
const within = (p, ms, what) => Promise.race([
  p, new Promise((_, reject) => setTimeout(() => reject(new Error(what + ': nothing after ' + ms + ' ms')), ms)),
]);
`;

test('a value wasm memory cannot hold is a RangeError at the call, page and goroutine alike; a 900 MiB argument works', async () => {
  const r = await inPage(`
    ${ATTEMPT}
    async function sends(rt) {
      ${ATTEMPT}
      // 2.5 GiB: it would be held twice while it moves into the heap, more than 4 GiB. Never
      // written, so it takes no RAM (and the encoder refuses it before copying it).
      const huge = new Uint8Array(2.5 * 2 ** 30);
      const ch = rt.chan(4);
      const out = {
        go: attemptSync(() => rt.go((rt, x) => x.length, 1, huge)),
        trySend: attemptSync(() => ch.trySend({ huge })),
        send: await attempt(() => ch.send(huge)),
        select: await attempt(() => rt.select([{ send: ch, value: huge }], { default: true })),
      };
      out.len = ch.len;
      out.small = ch.trySend(new Uint8Array(1 << 20).fill(3));
      out.received = (await ch.recv())[5];
      out.go2 = await rt.go((rt, x) => x.length, new Uint8Array(1 << 20)).join();
      return out;
    }
    const rt = await Runtime.start({ procs: 2 });
    const other = await Runtime.start({ procs: 1 });
    try {
      const out = { page: await sends(rt), goroutine: await rt.go(sends).join() };
      // What trapped both Ms when memory's maximum was 1 GiB.
      out.big = await rt.go((rt, a) => a.length, new Uint8Array(900 << 20)).join();
      out.result = await attempt(() => rt.go((rt) => new Uint8Array(2.5 * 2 ** 30)).join());
      out.stillWorks = await rt.go((rt, x) => x + 1, 41).join();
      out.other = await other.go((rt, x) => x * 2, 21).join();
      return out;
    } finally {
      await rt.shutdown();
      await other.shutdown();
    }
  `);
  for (const side of ['page', 'goroutine']) {
    const x = r[side];
    const msg = `${side}: ${JSON.stringify(x)}`;
    for (const k of ['go', 'trySend', 'send', 'select']) {
      assert.equal(x[k].name, 'RangeError', `${k} ${msg}`);
      assert.match(x[k].message, /out of memory/, `${k} ${msg}`);
      assert.match(x[k].message, new RegExp(`maximum is ${MAX_MEMORY} bytes`), `${k} ${msg}`);
      const size = Number(/a value of (\d+) bytes/.exec(x[k].message)?.[1]);
      assert.ok(size >= 2.5 * 2 ** 30, `${k} names the size: ${msg}`);
    }
    assert.match(x.go.message, /argument 2/, msg);
    assert.match(x.trySend.message, /channel value/, msg);
    assert.equal(x.len, 0, `nothing half-written: ${msg}`);
    assert.equal(x.small, true, msg);
    assert.equal(x.received, 3, msg);
    assert.equal(x.go2, 1 << 20, msg);
  }
  assert.equal(r.big, 900 << 20);
  assert.equal(r.result.name, 'RangeError', JSON.stringify(r.result));
  assert.match(r.result.message, /out of memory/);
  assert.equal(r.stillWorks, 42);
  assert.equal(r.other, 42);
});

test('memory exhausted: rt.go and operations are RangeErrors (page and goroutines); both runtimes recover; shutdown settles', async () => {
  const r = await inPage(
    `
    ${ATTEMPT}
    ${WITHIN}
    const rt = await Runtime.start({ procs: 2 });
    const rt2 = await Runtime.start({ procs: 1 });
    const out = {};
    // Fills wasm memory from the page with values held outside the heap in a buffered
    // channel, halving the size at each refusal down to \`least\` bytes.
    const fill = rt.chan(100000);
    let filled = 0;
    const fillDown = (from, least) => {
      for (let size = from; size >= least; size >>>= 1) {
        const v = new Uint8Array(size);
        for (;;) {
          try { if (!fill.trySend(v)) throw new Error('the fill channel is full'); filled += size; }
          catch (e) { if (e.name !== 'RangeError') throw e; break; }
        }
      }
    };
    try {
      // The heap's first chunk, which small values (a goroutine's result) go into.
      out.warm = await rt.go(async (rt) => { const c = rt.chan(1); await c.send(5); return c.recv(); }).join();
      out.before = rt.stats().gc.stackInuse;
      // 1. Less than 8 MiB left above the reserve.
      fillDown(512 << 20, 4 << 20);
      out.filledMiB = Math.round(filled / 2 ** 20);
      // 2. A goroutine spawns children (each waits on a gate) until rt.go refuses one. It says
      // so by closing \`done\` (no message: past that refusal the children's own start may use
      // the reserve, and a message could be refused), joins them once the gate closes and
      // memory is back, and reports.
      const gate = rt.chan(0);
      const done = rt.chan(0);
      const spawning = done.recv();
      const spawner = rt.go(async (rt, gate, done) => {
        const closed = gate.recv(); // started while memory allows: joins wait for the gate
        const children = [];
        let error;
        for (;;) {
          try {
            children.push(rt.go(async (rt, gate) => {
              try { await gate.recv(); return 'ok'; } catch (e) { return e.name; }
            }, gate));
          } catch (e) {
            error = { name: e.name, message: e.message };
            break;
          }
        }
        done.close();
        await closed;
        // A child refused its receive returns at once, maybe while memory is still exhausted:
        // then its result is refused too, and its join rejects with a RangeError.
        const results = await Promise.all(children.map((g) => g.join().catch((e) => 'join ' + e.name)));
        return {
          error,
          spawned: children.length,
          n: results.length,
          ok: results.filter((x) => x === 'ok').length,
          refused: results.filter((x) => x === 'RangeError' || x === 'join RangeError').length,
        };
      }, gate, done);
      // The spawner's join settles first only if it failed: then its error is the failure.
      await within(Promise.race([spawning, spawner.join()]), 30000, 'the spawner');
      out.during = rt.stats().gc.stackInuse;
      // 3. The rest of memory: now nothing of 4 KiB fits. Children refused their receive may
      // still be exiting and giving memory back: a call that finds room again may succeed, so
      // each call is tried on memory filled again just before, until it meets none.
      const f = (rt, x) => x; // any goroutine
      const whenFull = async (call) => {
        for (let tries = 1; tries <= 20; tries++) {
          fillDown(2 << 20, 1 << 10);
          const r = await call();
          if (r.name) return r;
        }
        return { name: 'none', message: 'succeeded on each of 20 fills' };
      };
      out.pageGo = await whenFull(() => attemptSync(() => rt.go(f, 1)));
      out.pageSend = await whenFull(() => attempt(() => rt.chan(1).send(1)));
      out.otherGo = await whenFull(() => attemptSync(() => rt2.go(f, 1)));
      // 4. Memory back: drop the fill channel and everything it held.
      fill.release();
      gate.close();
      const spawnerResult = await within(spawner.join(), 30000, 'the children');
      out.children = { n: spawnerResult.n, ok: spawnerResult.ok, refused: spawnerResult.refused };
      out.spawnError = spawnerResult.error;
      out.spawned = spawnerResult.spawned;
      out.after = await within(rt.go((rt, x) => x + 1, 1).join(), 10000, 'a goroutine after');
      out.otherAfter = await within(rt2.go((rt, x) => x * 2, 21).join(), 10000, 'a goroutine of the other runtime after');
      const rt3 = await Runtime.start({ procs: 1 });
      out.third = await within(rt3.go((rt) => 'third').join(), 10000, 'a third runtime');
      await within(rt3.shutdown(), 10000, 'the third shutdown');
    } finally {
      await within(rt.shutdown(), 10000, 'shutdown');
      await within(rt2.shutdown(), 10000, 'the other shutdown');
    }
    out.shutdown = 'settled';
    return out;
  `,
    { timeout: 90_000 },
  );
  console.log(JSON.stringify({ ...r, spawnError: r.spawnError.message.slice(0, 200) }));
  assert.ok(r.filledMiB > 3000, `memory was filled: ${r.filledMiB} MiB`);
  assert.equal(r.spawnError.name, 'RangeError', JSON.stringify(r.spawnError));
  // Whichever check meets the exhausted memory first refuses the call: its argument's or its
  // goroutine's admission (both before anything is allocated).
  assert.match(
    r.spawnError.message,
    /(cannot start the rt\.go's goroutine|cannot send argument \d+: gort: a value of \d+ bytes cannot be held): out of memory: \d+ bytes needed/,
  );
  assert.match(r.spawnError.message, new RegExp(`maximum is ${MAX_MEMORY} bytes`));
  assert.ok(r.spawned > 100, `goroutines started before memory ran out: ${r.spawned}`);
  assert.ok(r.during - r.before >= r.spawned * 200, `stackInuse counts them: ${r.before} -> ${r.during}`);
  for (const k of ['pageGo', 'otherGo']) {
    assert.equal(r[k].name, 'RangeError', `${k}: ${JSON.stringify(r[k])}`);
    assert.match(r[k].message, /out of memory/, k);
  }
  assert.equal(r.pageSend.name, 'RangeError', JSON.stringify(r.pageSend));
  // Refused for its value or, if that still fit, for the operation's goroutine.
  assert.match(
    r.pageSend.message,
    /(cannot send channel value|cannot start the operation's goroutine): .*out of memory/,
  );
  assert.equal(r.warm, 5);
  assert.equal(r.children.n, r.spawned);
  assert.equal(r.children.ok + r.children.refused, r.spawned, 'every child either received or was refused its receive');
  assert.ok(r.children.ok > 0);
  assert.equal(r.after, 2);
  assert.equal(r.otherAfter, 42);
  assert.equal(r.third, 'third');
  assert.equal(r.shutdown, 'settled');
});
