// Headless-browser tests of goroutine dumps (`rt.goroutines()` and the deadlock report): each
// goroutine's name (the task spec's, the function's, or the module task's), who started it
// and where (Go's "created by … in goroutine N" and the location under it), how long it has
// waited, in Go's format; and stack traces of shipped functions that name them.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { close, inPage } from './harness.mjs';

after(close);

const TASKS = '/tests/pages/tasks.js';
// The line of tests/pages/tasks.js where `spawnRecv` starts its child.
const SPAWN_RECV_LINE =
  readFileSync(new URL(`..${TASKS}`, import.meta.url), 'utf8')
    .split('\n')
    .findIndex((l) => l.includes("export: 'recv' }, ch);")) + 1;

// Page code: `lineHere()` is the line of the page code that calls it, in the script named
// `dump-page.js` (its `sourceURL`, set at the end of each test's page code).
const LINE_HERE = `
  function lineHere() {
    const caller = new Error().stack.split('\\n')[2];
    return Number(/dump-page\\.js:(\\d+):\\d+/.exec(caller)[1]);
  }
`;
const PAGE_URL = '\n//# sourceURL=dump-page.js\n';

/** A regex source matching `text` literally. */
const literal = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('goroutine dumps', () => {
  test('the deadlock report names each goroutine, who started it and where, in Go’s format', async () => {
    const r = await inPage(
      `
      ${LINE_HERE}
      const rt = await Runtime.start({ procs: 2 });
      try {
        const report = new Promise((resolve) => rt.addEventListener('deadlock', (e) => resolve(e.detail.message)));
        const ch = rt.chan();
        const lines = {};
        const gs = {};
        lines.named = lineHere() + 1;
        gs.named = rt.go(async function waiter(rt, ch) { await ch.recv(); }, ch);
        lines.spec = lineHere() + 1;
        gs.spec = rt.go({ fn: async (rt, ch) => { await ch.recv(); }, name: 'by spec' }, ch);
        lines.anonymous = lineHere() + 1;
        gs.anonymous = rt.go(async (rt, ch) => { await ch.recv(); }, ch);
        lines.parent = lineHere() + 1;
        gs.parent = rt.go(async function parent(rt, ch) {
          const child = rt.go(async function child(rt, ch) { await ch.recv(); }, ch);
          await rt.go(() => 0).join(); // after an await: rt.go from a promise reaction
          const late = rt.go(async function late(rt, ch) { await ch.recv(); }, ch);
          return [child.id, late.id, await ch.recv()];
        }, ch);
        lines.module = lineHere() + 1;
        gs.module = rt.go({ module: '${TASKS}', export: 'spawnRecv' }, ch);
        lines.afterFunc = lineHere() + 1;
        rt.afterFunc(0, async function fired(rt, ch) { await ch.recv(); }, ch);
        let dump = [];
        for (let i = 0; i < 1000 && dump.filter((g) => g.waitReason === 'chan receive').length < 9; i++) {
          await new Promise((r) => setTimeout(r, 5));
          dump = await rt.goroutines();
        }
        ch.release(); // the page lets go: every receiver is now deadlocked
        const message = await Promise.race([report, new Promise((r) => setTimeout(() => r(null), 10000))]);
        const ids = Object.fromEntries(Object.entries(gs).map(([k, g]) => [k, g.id]));
        return { message, dump, ids, lines, origin: location.origin };
      } finally {
        await rt.shutdown();
      }
      ${PAGE_URL}`,
      { expectErrors: (errors, r) => assert.deepEqual(errors, [r.message], 'the report, on the console once') },
    );
    assert.equal(typeof r.message, 'string', `a deadlock event fired: ${JSON.stringify(r.dump)}`);
    assert.match(r.message, /^fatal error: all goroutines are asleep - deadlock!\n\n/);
    const paragraphs = r.message.replace(/\n$/, '').split('\n\n').slice(1);
    /** The report's paragraph for goroutine `id`: it must match `lines` exactly. */
    const expect = (id, lines) => {
      const paragraph = paragraphs.find((p) => p.startsWith(`goroutine ${id} [`));
      assert.ok(paragraph, `goroutine ${id} in the report: ${r.message}`);
      assert.match(paragraph, new RegExp(`^${lines.join('\n')}$`), r.message);
    };
    const page = (key) => `created by the page\n\tdump-page\\.js:${r.lines[key]}:\\d+`;
    const header = (id) => literal(`goroutine ${id} [chan receive]:`);
    expect(r.ids.named, [header(r.ids.named), 'waiter\\(\\.\\.\\.\\)', page('named')]);
    expect(r.ids.spec, [header(r.ids.spec), 'by spec\\(\\.\\.\\.\\)', page('spec')]);
    expect(r.ids.anonymous, [header(r.ids.anonymous), '<anonymous>\\(\\.\\.\\.\\)', page('anonymous')]);
    expect(r.ids.parent, [header(r.ids.parent), 'parent\\(\\.\\.\\.\\)', page('parent')]);
    // The children: the parent's source is its own script, gort-goroutine/parent.js, from line 1.
    const byName = (name) => r.dump.find((g) => g.name === name);
    const [child, late] = [byName('child'), byName('late')];
    const fromParent = (line) =>
      `created by parent in goroutine ${r.ids.parent}\n\tgort-goroutine/parent\\.js:${line}:\\d+`;
    expect(child.id, [header(child.id), 'child\\(\\.\\.\\.\\)', fromParent(2)]);
    expect(late.id, [header(late.id), 'late\\(\\.\\.\\.\\)', fromParent(4)]);
    // Module tasks: their name is module#export, their location the module's own line.
    const tasks = `${r.origin}${TASKS}`;
    expect(r.ids.module, [header(r.ids.module), literal(`${tasks}#spawnRecv(...)`), page('module')]);
    const inner = r.dump.find((g) => g.name === `${tasks}#recv`);
    expect(inner.id, [
      header(inner.id),
      literal(`${tasks}#recv(...)`),
      literal(`created by ${tasks}#spawnRecv in goroutine ${r.ids.module}`),
      `\t${literal(tasks)}:${SPAWN_RECV_LINE}:\\d+`,
    ]);
    // An afterFunc's goroutine is started by its timer, set where rt.afterFunc was called.
    const fired = byName('fired');
    expect(fired.id, [
      header(fired.id),
      'fired\\(\\.\\.\\.\\)',
      `created by rt\\.afterFunc\n\tdump-page\\.js:${r.lines.afterFunc}:\\d+`,
    ]);
    assert.equal(paragraphs.length, 9, r.message);
  });

  test('rt.goroutines() gives each entry its name, who started it and where, and how long it has waited', async () => {
    const r = await inPage(
      `
      ${LINE_HERE}
      const rt = await Runtime.start({ procs: 2 });
      try {
        const ch = rt.chan();
        const line = lineHere() + 1;
        const parent = rt.go(async function parent(rt, ch) {
          await rt.go(async function child(rt, ch) { await ch.recv(); }, ch).join();
        }, ch);
        const pageRecv = ch.recv(); // the page's own operation, a goroutine too
        const reasons = (dump) => ['parent', 'child', 'Chan.recv'].map((n) => dump.find((g) => g.name === n)?.waitReason);
        const waiting = (dump) => reasons(dump).join() === 'goroutine join,chan receive,chan receive';
        let first = [];
        for (let i = 0; i < 1000 && !waiting(first); i++) {
          await new Promise((r) => setTimeout(r, 5));
          first = await rt.goroutines();
        }
        const afterFirst = performance.now();
        await new Promise((r) => setTimeout(r, 60));
        const beforeSecond = performance.now();
        const second = await rt.goroutines();
        await ch.send(1); // the page's receive takes it
        await ch.send(2); // the child's
        await parent.join();
        await pageRecv;
        return { first, second, line, parent: parent.id, elapsed: beforeSecond - afterFirst };
      } finally {
        await rt.shutdown();
      }
      ${PAGE_URL}`,
    );
    const entry = (dump, name) => dump.find((g) => g.name === name);
    const parent = entry(r.first, 'parent');
    assert.deepEqual(Object.keys(parent).sort(), [
      'createdAt',
      'createdBy',
      'id',
      'name',
      'proc',
      'state',
      'waitMs',
      'waitReason',
    ]);
    assert.equal(parent.id, r.parent);
    assert.equal(parent.createdBy, null, 'started by the page');
    assert.match(parent.createdAt, new RegExp(`^dump-page\\.js:${r.line}:\\d+$`));
    // It awaits its child's join, a goroutine join.
    assert.equal(parent.waitReason, 'goroutine join', JSON.stringify(r.first));
    const child = entry(r.first, 'child');
    assert.deepEqual(child.createdBy, { id: r.parent, name: 'parent' });
    assert.match(child.createdAt, /^gort-goroutine\/parent\.js:2:\d+$/);
    assert.equal(child.waitReason, 'chan receive');
    const op = entry(r.first, 'Chan.recv');
    assert.ok(op, `the page's receive is listed: ${JSON.stringify(r.first)}`);
    assert.deepEqual([op.waitReason, op.createdBy, op.createdAt, op.proc], ['chan receive', null, null, null]);
    // Still blocked: the wait grew by at least the time between the two dumps.
    for (const name of ['parent', 'child', 'Chan.recv']) {
      const [a, b] = [entry(r.first, name), entry(r.second, name)];
      assert.equal(typeof a.waitMs, 'number');
      assert.ok(a.waitMs >= 0, name);
      assert.ok(b.waitMs - a.waitMs >= r.elapsed - 1, `${name}: ${a.waitMs} then ${b.waitMs}, ${r.elapsed} ms apart`);
    }
  });

  test('callSites: false records no location; the rest of the dump is the same', async () => {
    const r = await inPage(`
      const rt = await Runtime.start({ procs: 2, callSites: false });
      try {
        const ch = rt.chan();
        const parent = rt.go(async function parent(rt, ch) {
          await rt.go(async function child(rt, ch) { await ch.recv(); }, ch).join();
        }, ch);
        let dump = [];
        for (let i = 0; i < 1000 && !dump.some((g) => g.name === 'child' && g.waitReason === 'chan receive'); i++) {
          await new Promise((r) => setTimeout(r, 5));
          dump = await rt.goroutines();
        }
        await ch.send(1);
        await parent.join();
        return { dump, parent: parent.id };
      } finally {
        await rt.shutdown();
      }
    `);
    const [parent, child] = ['parent', 'child'].map((n) => r.dump.find((g) => g.name === n));
    assert.deepEqual([parent.createdBy, parent.createdAt], [null, null]);
    assert.deepEqual([child.createdBy, child.createdAt], [{ id: r.parent, name: 'parent' }, null]);
  });
});

describe('stack traces of shipped functions', () => {
  test("a GoroutineError's stack names the function and its line in the function's source", async () => {
    const r = await inPage(`
      const rt = await Runtime.start({ procs: 1 });
      try {
        const stackOf = async (g) => {
          try {
            await g.join();
            return null;
          } catch (e) {
            return { name: e.name, stack: e.stack, causeStack: e.cause?.stack };
          }
        };
        const named = await stackOf(rt.go(function thrower(rt) {
          const x = 1;
          throw new Error('boom ' + x);
        }));
        const anonymous = await stackOf(rt.go(async (rt) => {
          await rt.sleep(1);
          null.boom;
        }));
        const method = await stackOf(rt.go({ run(rt) { throw new TypeError('from a method'); } }.run));
        return { named, anonymous, method };
      } finally {
        await rt.shutdown();
      }
    `);
    assert.equal(r.named.name, 'GoroutineError');
    assert.match(r.named.stack, /^GoroutineError: goroutine \d+ failed: Error: boom 1\n/);
    assert.match(r.named.stack, /\n {4}at thrower \(gort-goroutine\/thrower\.js:3:\d+\)\n/);
    assert.match(r.named.causeStack, /at thrower \(gort-goroutine\/thrower\.js:3:\d+\)/);
    assert.match(r.anonymous.stack, /gort-goroutine\/anonymous\.js:3:\d+/);
    assert.match(r.method.stack, /\n {4}at run \(gort-goroutine\/run\.js:1:\d+\)\n/);
    for (const { stack } of Object.values(r)) assert.doesNotMatch(stack, /eval at|<anonymous>/);
  });
});
