// Headless-browser tests of module tasks, `rt.go({ module, export }, …args)`: the Worker that
// runs the goroutine imports the module (once per Worker) and calls the export as a function
// target is called; its results, channels and errors behave the same, its stack traces point
// into the module, and it needs no eval, so it works under a Content-Security-Policy that
// forbids eval, where a function target fails with an error that says to use a module task.
// Also on a page without cross-origin isolation (the one M is the page's thread), task specs
// `{ fn, name }`, how specs are checked, and goroutine names in dumps.
//
//   node --test tests/modtasks.test.mjs
//
// The fixtures are tests/pages/tasks.js (the module tasks), tests/pages/broken-task.js (a
// module whose evaluation throws) and tests/pages/csp.{html,js} (an app served under /csp/
// with the strict policy, scripts/serve.mjs).

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { STRICT_CSP } from '../scripts/serve.mjs';
import { ROOT, close, inPage, openPage } from './harness.mjs';

after(close);

const TASKS = '/tests/pages/tasks.js';

/** The 1-based line of tests/pages/tasks.js that contains `text`. */
function lineOf(text) {
  const lines = readFileSync(`${ROOT}tests/pages/tasks.js`, 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(text));
  assert.ok(i >= 0, `tasks.js has ${text}`);
  return i + 1;
}

// In-page helper: what awaiting `p` gave, `{ value }` or `{ name, message, cause, stack }`.
const SETTLED = `
async function settled(p) {
  try {
    return { value: await p };
  } catch (e) {
    return { name: e.name, message: e.message, stack: e.stack, cause: e.cause && {
      name: e.cause.name, message: e.cause.message, stack: e.cause.stack,
      cause: e.cause.cause && { name: e.cause.cause.name, message: e.cause.cause.message },
    } };
  }
}
`;

describe('module tasks', () => {
  test('run an export of a module named by a URL, or a string resolved against the page', async () => {
    const r = await inPage(`
      const rt = await Runtime.start({ procs: 2 });
      try {
        return {
          url: await rt.go({ module: new URL('${TASKS}', location.href), export: 'fib' }, 20).join(),
          absolute: await rt.go({ module: location.origin + '${TASKS}', export: 'fib' }, 15).join(),
          rooted: await rt.go({ module: '${TASKS}', export: 'fib' }, 10).join(),
          relative: await rt.go({ module: './tasks.js', export: 'fib' }, 12).join(),
        };
      } finally {
        await rt.shutdown();
      }
    `);
    assert.deepEqual(r, { url: 6765, absolute: 610, rooted: 55, relative: 144 });
  });

  test('pass channels, return results and run async like function targets', async () => {
    const r = await inPage(`
      const rt = await Runtime.start({ procs: 2 });
      try {
        const ch = rt.chan(0);
        const g = rt.go({ module: '${TASKS}', export: 'produce' }, ch, 5);
        const received = [];
        for await (const v of ch) received.push(v);
        return { received, id: g.id, returned: await g.join() };
      } finally {
        await rt.shutdown();
      }
    `);
    assert.deepEqual(r.received, [0, 1, 2, 3, 4]);
    assert.equal(r.returned, r.id, 'the export got the goroutine’s own rt');
  });

  test('a throw rejects the join with a GoroutineError whose stack points into the module', async () => {
    const r = await inPage(`
      ${SETTLED}
      const rt = await Runtime.start({ procs: 2 });
      try {
        return await settled(rt.go({ module: '${TASKS}', export: 'boom' }).join());
      } finally {
        await rt.shutdown();
      }
    `);
    assert.equal(r.name, 'GoroutineError');
    assert.match(r.message, /^goroutine \d+ failed: RangeError: boom from a module task$/);
    assert.equal(r.cause.name, 'RangeError');
    const where = `/tests/pages/tasks.js:${lineOf("throw new RangeError('boom")}:`;
    assert.ok(r.cause.stack.includes(`at boom (`) && r.cause.stack.includes(where), r.cause.stack);
    assert.ok(r.stack.includes(where), r.stack);
  });

  test('a module is imported once per Worker', async () => {
    const r = await inPage(`
      const rt = await Runtime.start({ procs: 2 });
      try {
        const batch = () =>
          Promise.all(Array.from({ length: 16 }, () => rt.go({ module: '${TASKS}', export: 'evaluations' }).join()));
        const first = await batch(); // the first tasks of each Worker wait for its import
        const second = await batch(); // later ones find it imported
        return [...first, ...second];
      } finally {
        await rt.shutdown();
      }
    `);
    assert.equal(r.length, 32);
    for (const { evaluated, proc } of r) assert.equal(evaluated, 1, `the module was evaluated once on M ${proc}`);
  });

  test('goroutines start module tasks too, with an absolute module URL', async () => {
    const r = await inPage(`
      ${SETTLED}
      const rt = await Runtime.start({ procs: 2 });
      try {
        return {
          nested: await rt.go({ module: '${TASKS}', export: 'spawnFib' }, 10).join(),
          fromFunction: await rt.go((rt, url) => rt.go({ module: url, export: 'fib' }, 12).join(),
            new URL('${TASKS}', location.href).href).join(),
          relative: await settled(rt.go((rt) => rt.go({ module: './tasks.js', export: 'fib' }, 1)).join()),
        };
      } finally {
        await rt.shutdown();
      }
    `);
    assert.equal(r.nested, 55);
    assert.equal(r.fromFunction, 144);
    assert.equal(r.relative.cause.name, 'TypeError');
    assert.equal(
      r.relative.cause.message,
      'rt.go: the task spec\'s module must be an absolute URL inside a goroutine, got "./tasks.js"; ' +
        "pass new URL('./tasks.js', import.meta.url)",
    );
  });

  test('a module that fails to import, lacks the export or exports no function fails only its goroutine', async () => {
    const r = await inPage(`
      ${SETTLED}
      const rt = await Runtime.start({ procs: 2 });
      try {
        const run = (module, exp) => settled(rt.go({ module, export: exp }, 1).join());
        return {
          base: location.origin,
          missing: await run('/tests/pages/no-such-task.js', 'fib'),
          broken: await run('/tests/pages/broken-task.js', 'never'),
          noExport: await run('${TASKS}', 'fibonacci'),
          notAFunction: await run('${TASKS}', 'notAFunction'),
          afterwards: await rt.go({ module: '${TASKS}', export: 'fib' }, 10).join(),
        };
      } finally {
        await rt.shutdown();
      }
    `);
    const url = (path) => `${r.base}${path}`;
    for (const key of ['missing', 'broken', 'noExport', 'notAFunction'])
      assert.equal(r[key].name, 'GoroutineError', key);

    const missing = url('/tests/pages/no-such-task.js');
    assert.equal(r.missing.cause.name, 'Error');
    assert.ok(
      r.missing.message.includes(`rt.go: cannot import the module ${missing} for its export "fib": TypeError: `),
      r.missing.message,
    );
    assert.equal(r.missing.cause.cause.name, 'TypeError', 'the cause is the import’s error');
    assert.ok(r.missing.cause.cause.message.includes(missing), r.missing.cause.cause.message);

    const broken = url('/tests/pages/broken-task.js');
    assert.ok(
      r.broken.message.endsWith(
        `rt.go: cannot import the module ${broken} for its export "never": SyntaxError: broken-task.js refuses to load`,
      ),
      r.broken.message,
    );
    assert.deepEqual(r.broken.cause.cause, { name: 'SyntaxError', message: 'broken-task.js refuses to load' });

    const tasks = url(TASKS);
    assert.equal(r.noExport.cause.name, 'TypeError');
    assert.ok(r.noExport.message.endsWith(`rt.go: the module ${tasks} has no export "fibonacci"`), r.noExport.message);
    assert.equal(r.notAFunction.cause.name, 'TypeError');
    assert.ok(
      r.notAFunction.message.endsWith(`rt.go: the module ${tasks} exports "notAFunction" as number 42, not a function`),
      r.notAFunction.message,
    );
    assert.equal(r.afterwards, 55, 'the runtime keeps running');
  });

  test('run on a page without cross-origin isolation too, where the one M is the page', async () => {
    const r = await inPage(
      `
      ${SETTLED}
      const rt = await Runtime.start();
      try {
        const ch = rt.chan(0);
        const producer = rt.go({ module: './tasks.js', export: 'produce' }, ch, 3);
        const received = [];
        for await (const v of ch) received.push(v);
        await producer.join();
        return {
          threaded: rt.threaded,
          received,
          nested: await rt.go({ module: '${TASKS}', export: 'spawnFib' }, 10).join(),
          evaluations: await rt.go({ module: '${TASKS}', export: 'evaluations' }).join(),
          noExport: await settled(rt.go({ module: '${TASKS}', export: 'fibonacci' }).join()),
        };
      } finally {
        await rt.shutdown();
      }
    `,
      { path: '/tests/pages/blank.html?isolated=0' },
    );
    assert.equal(r.threaded, false);
    assert.deepEqual(r.received, [0, 1, 2]);
    assert.equal(r.nested, 55);
    assert.deepEqual(r.evaluations, { evaluated: 1, proc: 0 });
    assert.equal(r.noExport.name, 'GoroutineError');
    assert.match(r.noExport.message, /rt\.go: the module \S+\/tests\/pages\/tasks\.js has no export "fibonacci"$/);
  });
});

describe('task specs', () => {
  test('{ fn } runs the function as a function target does', async () => {
    const r = await inPage(`
      const rt = await Runtime.start({ procs: 2 });
      try {
        return await rt.go({ fn: (rt, a, b) => a * b, name: 'multiply' }, 6, 7).join();
      } finally {
        await rt.shutdown();
      }
    `);
    assert.equal(r, 42);
  });

  test('a malformed spec is a TypeError at the call that names the problem', async () => {
    const r = await inPage(`
      const rt = await Runtime.start({ procs: 1 });
      const fn = (rt) => 1;
      const specs = {
        null: null,
        string: '${TASKS}',
        empty: {},
        exportOnly: { export: 'fib' },
        moduleNumber: { module: 42, export: 'fib' },
        badUrl: { module: 'http://[::1', export: 'fib' },
        noExport: { module: '${TASKS}' },
        exportNumber: { module: '${TASKS}', export: 7 },
        fnNotFunction: { fn: 'fib' },
        both: { fn, module: '${TASKS}', export: 'fib' },
        nameNumber: { module: '${TASKS}', export: 'fib', name: 1 },
      };
      const out = {};
      try {
        for (const [key, spec] of Object.entries(specs)) {
          try {
            rt.go(spec, 1);
            out[key] = 'started';
          } catch (e) {
            out[key] = e.name + ': ' + e.message;
          }
        }
        out.base = location.origin;
        out.goroutines = (await rt.goroutines()).length;
      } finally {
        await rt.shutdown();
      }
      return out;
    `);
    const tasks = `${r.base}${TASKS}`;
    const needs = 'TypeError: rt.go: a task spec needs fn (a function), or module (a URL) and export (a name)';
    const expected = {
      null: 'TypeError: rt.go: expected a function or a task spec ({ module, export } or { fn }) to run as a goroutine, got null',
      string:
        'TypeError: rt.go: expected a function or a task spec ({ module, export } or { fn }) to run as a goroutine, ' +
        'got the string "/tests/pages/tasks.js"',
      empty: needs,
      exportOnly: needs,
      moduleNumber: "TypeError: rt.go: the task spec's module must be a URL or a string, got number 42",
      badUrl: 'TypeError: rt.go: the task spec\'s module is not a valid URL: "http://[::1"',
      noExport: `TypeError: rt.go: a module task needs export, the name of the function of ${tasks} to run`,
      exportNumber: "TypeError: rt.go: the task spec's export must be the name of a function, got number 7",
      fnNotFunction: 'TypeError: rt.go: the task spec\'s fn must be a function, got the string "fib"',
      both: 'TypeError: rt.go: a task spec has either fn, or module and export, not both',
      nameNumber: "TypeError: rt.go: the task spec's name must be a string, got number 1",
    };
    for (const [key, message] of Object.entries(expected)) assert.equal(r[key], message, key);
    assert.equal(r.goroutines, 0, 'nothing was started');
  });

  test('goroutine dumps and deadlock reports show the name: the spec’s, the function’s, or module#export', async () => {
    const r = await inPage(
      `
      const rt = await Runtime.start({ procs: 2 });
      try {
        const report = new Promise((resolve) => rt.addEventListener('deadlock', (e) => resolve(e.detail.message)));
        const ch = rt.chan();
        const gs = {
          spec: rt.go({ module: '${TASKS}', export: 'recv', name: 'waiter "one"' }, ch),
          module: rt.go({ module: '${TASKS}', export: 'recv' }, ch),
          fn: rt.go(async function receiver(rt, ch) { await ch.recv(); }, ch),
          fnSpec: rt.go({ fn: async function ignored(rt, ch) { await ch.recv(); }, name: 'by spec' }, ch),
          anonymous: rt.go(async (rt, ch) => { await ch.recv(); }, ch),
        };
        let dump;
        for (let i = 0; i < 1000; i++) {
          dump = await rt.goroutines();
          if (dump.filter((g) => g.waitReason === 'chan receive').length === 5) break;
          await new Promise((r) => setTimeout(r, 10));
        }
        const names = Object.fromEntries(Object.entries(gs).map(([k, g]) => [k, dump.find((d) => d.id === g.id)?.name]));
        ch.release(); // the page lets go: every receiver is now deadlocked
        const message = await Promise.race([report, new Promise((r) => setTimeout(() => r(null), 10000))]);
        const ids = Object.fromEntries(Object.entries(gs).map(([k, g]) => [k, g.id]));
        return { names, message, ids, base: location.origin };
      } finally {
        await rt.shutdown();
      }
    `,
      { expectErrors: (errors, r) => assert.deepEqual(errors, [r.message], 'the report, on the console once') },
    );
    const tasks = `${r.base}${TASKS}`;
    assert.deepEqual(r.names, {
      spec: 'waiter "one"',
      module: `${tasks}#recv`,
      fn: 'receiver',
      fnSpec: 'by spec',
      anonymous: null,
    });
    assert.equal(typeof r.message, 'string', 'a deadlock event fired');
    for (const [key, name] of Object.entries(r.names)) {
      const header = `goroutine ${r.ids[key]} [chan receive]:\n`;
      assert.ok(r.message.includes(name === null ? header : `${header}${name}(...)\n`), `${key}: ${r.message}`);
    }
  });
});

describe('under a Content-Security-Policy that forbids eval', () => {
  test('module tasks work; a function target is an EvalError that says to use a module task', async () => {
    const page = await openPage('/csp/tests/pages/csp.html');
    try {
      const response = await page.request.get(page.url());
      assert.equal(response.headers()['content-security-policy'], STRICT_CSP);
      const r = await page.evaluate(() => window.result);
      const advice = (realm, name) =>
        `rt.go: this ${realm}'s Content-Security-Policy forbids compiling functions shipped by source ` +
        `('unsafe-eval' is not allowed); use a module task: ` +
        `rt.go({ module: new URL('./tasks.js', import.meta.url), export: "${name}" }, …)`;
      assert.deepEqual(r, {
        pageEval: 'EvalError',
        fib: 6765,
        received: [0, 1, 2],
        nested: 55,
        functionTarget: { name: 'EvalError', message: advice('page', 'task'), cause: 'EvalError' },
        namedFunctionTarget: { name: 'EvalError', message: advice('page', 'fib'), cause: 'EvalError' },
        fnSpec: { name: 'EvalError', message: advice('page', 'work'), cause: 'EvalError' },
        inGoroutine: { name: 'EvalError', message: advice('Worker', 'task'), cause: 'EvalError' },
        afterwards: 55,
      });
      assert.deepEqual(page.errors, []);
    } finally {
      await page.close();
    }
  });

  test('where only the Workers forbid eval, a function target’s join rejects with that EvalError', async () => {
    // The page allows eval, but the package (and so its Workers) is served under the policy.
    const r = await inPage(
      `
      ${SETTLED}
      const rt = await Runtime.start({ procs: 1 });
      try {
        return {
          fn: await settled(rt.go(function double(rt, n) { return 2 * n; }, 21).join()),
          module: await rt.go({ module: '/csp${TASKS}', export: 'fib' }, 10).join(),
        };
      } finally {
        await rt.shutdown();
      }
    `,
      { module: '/csp/pkg/src/index.js' },
    );
    assert.equal(r.fn.name, 'GoroutineError');
    assert.equal(r.fn.cause.name, 'EvalError');
    assert.ok(
      r.fn.cause.message.startsWith(
        "rt.go: this Worker's Content-Security-Policy forbids compiling functions shipped by source ('unsafe-eval' is not allowed); use a module task: ",
      ),
      r.fn.cause.message,
    );
    assert.equal(r.fn.cause.cause.name, 'EvalError', 'the browser’s refusal is the cause');
    assert.equal(r.module, 55);
  });
});
