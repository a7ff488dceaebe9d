// Shared helper for the headless-browser tests (`node --test tests/`).
//
// One static server (scripts/serve.mjs, cross-origin isolated) and one Debian Chromium per
// test file, started on first use and closed after the file's tests:
//
//   import { after, test } from 'node:test';
//   import { openPage, evalModule, close } from './harness.mjs';
//   after(close);
//   test('fib', async () => {
//     const page = await openPage();                      // /tests/pages/blank.html
//     const v = await evalModule(page, `
//       const rt = await gort.Runtime.start({ procs: 2 });
//       try { return await rt.go((rt, n) => n * 2, 21).join(); } finally { await rt.shutdown(); }
//     `);
//     assert.equal(v, 42);
//     assert.deepEqual(page.errors, []);
//   });

import assert from 'node:assert/strict';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../scripts/serve.mjs';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BLANK_PAGE = '/tests/pages/blank.html';
export const GORT_MODULE = '/pkg/src/index.js';

// Page code: `startHog(rt)` starts a JS goroutine that spins until its `stop` channel holds a
// value, and resolves with `{ hog, stop, proc }` once it spins (hog.test.mjs, faults.test.mjs).
export const START_HOG = `
  async function startHog(rt) {
    const stop = rt.chan(1);
    const started = rt.chan(1);
    const hog = rt.go((rt, stop, started) => {
      started.trySend(rt.procid());
      let spins = 0;
      while (stop.tryRecv() === undefined) spins++;
      return spins;
    }, stop, started);
    const proc = await started.recv();
    return { hog, stop, proc };
  }
`;
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let shared = null; // Promise<{ server, browser }>

function start() {
  shared ??= (async () => {
    const server = await serve({ root: ROOT, port: 0 });
    try {
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_ARGS,
      });
      return { server, browser };
    } catch (err) {
      await server.close();
      throw err;
    }
  })();
  return shared;
}

// Under `node --test` each file runs in its own process: close its browser after its tests
// even if the file forgets `after(close)` (which is harmless to call as well).
if (process.env.NODE_TEST_CONTEXT) after(() => close());

/** The server's base URL, e.g. `http://localhost:41234/`. */
export async function baseURL() {
  return (await start()).server.url;
}

/**
 * Opens `path` (default: an empty page; an absolute URL may name another server) in a fresh
 * browser context and waits for its load. The page collects console errors and uncaught page
 * errors in `page.errors` (strings), every console line (`"type: text"`, workers' included)
 * in `page.logs`, and every response (`{ url, status }`, workers' included, from the
 * navigation on) in `page.responses`.
 * @param {string} [path]
 * @returns {Promise<import('playwright-core').Page & { errors: string[], logs: string[],
 *   responses: { url: string, status: number }[] }>}
 */
export async function openPage(path = BLANK_PAGE) {
  const { server, browser } = await start();
  const context = await browser.newContext();
  const page = await context.newPage();
  page.errors = [];
  page.logs = [];
  page.responses = [];
  page.on('response', (r) => page.responses.push({ url: r.url(), status: r.status() }));
  page.on('console', (msg) => {
    page.logs.push(`${msg.type()}: ${msg.text()}`);
    if (msg.type() === 'error') page.errors.push(msg.text());
  });
  page.on('pageerror', (err) => {
    page.errors.push(String(err));
    page.logs.push(`pageerror: ${err.stack ?? err}`);
  });
  page.on('crash', () => page.errors.push('page crashed'));
  page.on('close', () => context.close().catch(() => {}));
  const response = await page.goto(new URL(path, server.url).href);
  if (!response?.ok()) {
    await page.close();
    throw new Error(`openPage(${path}): HTTP ${response?.status()}`);
  }
  return page;
}

let nextId = 0;

/**
 * Runs `code` as the body of an async function inside a `<script type=module>` of `page` and
 * returns what it returns (anything Playwright can serialize: JSON-like values, and more).
 * In scope: `gort`, the namespace of `options.module` (default /pkg/src/index.js; `null` to
 * import nothing), and `Runtime` (= gort.Runtime). Other modules: `await import('/path.js')`.
 * Rejects with the snippet's error, or when the module fails to load or to parse; the page's
 * collected errors are appended to the message.
 * @param {import('playwright-core').Page} page
 * @param {string} code
 * @param {{ module?: string | null, timeout?: number }} [options]
 */
export async function evalModule(page, code, { module = GORT_MODULE, timeout = 60_000 } = {}) {
  const id = `eval${++nextId}`;
  const src = [
    module ? `import * as gort from ${JSON.stringify(module)};` : 'const gort = undefined;',
    'const { Runtime } = gort ?? {};',
    `const slot = window.__gortHarness[${JSON.stringify(id)}];`,
    'slot.started = true;',
    `slot.settle((async () => {\n${code}\n})());`,
  ].join('\n');

  const run = page.evaluate(
    ({ id, src }) =>
      new Promise((resolve, reject) => {
        const slots = (window.__gortHarness ??= {});
        const script = document.createElement('script');
        const done = () => {
          delete slots[id];
          removeEventListener('error', onError);
          script.remove();
        };
        // A module that fails to parse or link reports to the window, not to the script.
        const onError = (e) => {
          if (slots[id] && !slots[id].started) {
            done();
            reject(new Error(`evalModule: module did not run: ${e.message}`));
          }
        };
        slots[id] = {
          started: false,
          settle: (p) =>
            p.then(
              (v) => (done(), resolve(v)),
              (e) => (done(), reject(e)),
            ),
        };
        addEventListener('error', onError);
        script.type = 'module';
        script.onerror = () => {
          done();
          reject(new Error('evalModule: an import of the module failed to load'));
        };
        script.textContent = src;
        document.head.append(script);
      }),
    { id, src },
  );

  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`evalModule: no result after ${timeout} ms`)), timeout);
  });
  try {
    return await Promise.race([run, expired]);
  } catch (err) {
    if (page.errors?.length && err instanceof Error) {
      err.message += `\npage errors:\n  ${page.errors.join('\n  ')}`;
    }
    throw err;
  } finally {
    clearTimeout(timer);
    run.catch(() => {}); // settled or abandoned: never an unhandled rejection
  }
}

/** Closes the browser and the server (idempotent; the next use starts them again). */
export async function close() {
  if (!shared) return;
  const pending = shared;
  shared = null;
  const { server, browser } = await pending.catch(() => ({}));
  await browser?.close();
  await server?.close();
}

/**
 * Runs `code` in a fresh page (see `evalModule`; `path`: the page, as for `openPage`) and
 * closes the page. The page must log no errors, unless `expectErrors` is given: a function
 * that receives `page.errors` (and the result) and checks them.
 */
export async function inPage(code, { expectErrors, path, ...options } = {}) {
  const page = await openPage(path);
  try {
    const result = await evalModule(page, code, options);
    if (expectErrors) expectErrors(page.errors, result);
    else assert.deepEqual(page.errors, [], 'console errors on the page');
    return result;
  } finally {
    await page.close();
  }
}

// In-page helpers, pasted into the snippets (and goroutine functions) that use them.

// `until(rt, pred, what)` polls the goroutine dump until `pred(dump)` holds; `blocked(dump,
// reason)` counts the goroutines waiting for `reason` ("chan send", …); `pause(ms)` is a page
// timer.
export const UNTIL = `
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

// `attempt(f)`: what calling `f` did, awaited: `{ returned }` or the error's name, class and
// message. `attemptSync(f)`: the same for a sync call, which must throw rather than return a
// rejected promise. Pasted into the functions that run as goroutines too (where `gort` is
// not in scope: an error's class is then told by its name).
export const ATTEMPT = `
const describeError = (e) => ({
  name: e.name, ctor: e.constructor.name, message: e.message,
  shutdown: typeof gort === 'object' && e instanceof gort.ShutdownError,
  goroutineId: e.goroutineId,
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
