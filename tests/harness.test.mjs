// Self-test of the browser harness: the served pages must be cross-origin isolated, or no
// shared wasm memory (and so no gort) can exist in them.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { close, evalModule, openPage } from './harness.mjs';

after(close);

test('the test page is cross-origin isolated', async () => {
  const page = await openPage();
  const got = await evalModule(
    page,
    `return {
      isolated: crossOriginIsolated,
      sab: typeof SharedArrayBuffer,
      shared: new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true }).buffer
        instanceof SharedArrayBuffer,
    };`,
    { module: null },
  );
  assert.deepEqual(got, { isolated: true, sab: 'function', shared: true });
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('evalModule awaits the snippet and returns its result', async () => {
  const page = await openPage();
  const got = await evalModule(
    page,
    `await new Promise((r) => setTimeout(r, 5));
     const { serve } = await import('/scripts/serve.mjs').catch(() => ({}));
     return { url: import.meta.url, sum: [1, 2, 3].reduce((a, b) => a + b), serve: typeof serve };`,
    { module: null },
  );
  assert.equal(got.sum, 6);
  assert.match(got.url, /\/tests\/pages\/blank\.html$/);
  await page.close();
});

test('evalModule rejects with the error of the snippet, a bad import, or a syntax error', async () => {
  const page = await openPage();
  await assert.rejects(evalModule(page, 'throw new RangeError("boom")', { module: null }), /boom/);
  await assert.rejects(evalModule(page, 'return 1', { module: '/tests/pages/missing.js' }), /failed to load/);
  await assert.rejects(evalModule(page, 'return )(', { module: null }), /SyntaxError/);
  assert.equal(await evalModule(page, 'return "still usable"', { module: null }), 'still usable');
  await page.close();
});

test('a module worker shares memory with the page', async () => {
  const page = await openPage();
  const got = await evalModule(
    page,
    `const src = 'onmessage = (e) => { Atomics.store(e.data, 0, 42); Atomics.notify(e.data, 0); };';
     const url = URL.createObjectURL(new Blob([src], { type: 'text/javascript' }));
     const w = new Worker(url, { type: 'module' });
     const cell = new Int32Array(new SharedArrayBuffer(4));
     w.postMessage(cell);
     const r = Atomics.waitAsync(cell, 0, 0, 5000);
     await r.value;
     w.terminate();
     return Atomics.load(cell, 0);`,
    { module: null },
  );
  assert.equal(got, 42);
  await page.close();
});
