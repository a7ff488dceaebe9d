// The npm package as apps meet it: `npm pack` of pkg/ (its exact contents), installed from
// that tarball into a Vite app and a webpack 5 app (tests/bundlers/*-app, copied to a temp
// folder), built for production with no plugin, and run in Chromium: each app starts a
// runtime, runs a module task that sends on a channel and a function target, and shows the
// results in #result; served cross-origin isolated it runs on Workers, served without
// isolation on one P (the build without threads), served under a CSP without 'unsafe-eval'
// the module task still runs. The builds use the repository's own vite and webpack (dev dependencies),
// through their Node APIs. Also: TypeScript resolves the installed package's types through its
// `exports`, and the `workerUrl`, `wasmUrl` and `wasm` (custom glue) options of `Runtime.start`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build, createLogger, createServer, preview } from 'vite';
import webpack from 'webpack';
import { serve } from '../scripts/serve.mjs';
import { ROOT, baseURL, close, evalModule, inPage, openPage } from './harness.mjs';

const run = promisify(execFile);
const PKG = join(ROOT, 'pkg');
const FIXTURES = join(ROOT, 'tests', 'bundlers');
/** What each app shows once its goroutines ran: the sum of the squares of 1 to 10, and so on. */
const THREADED = { sum: 385, sent: 10, fn: 42, procs: 2, threaded: true };
/** The same on a page that is not cross-origin isolated. */
const LOCAL = { ...THREADED, procs: 1, threaded: false };

const work = mkdtemp(join(tmpdir(), 'gort-bundlers-'));
after(async () => {
  await close();
  await rm(await work, { recursive: true, force: true });
});

/** `fn`'s promise, made on the first call: what several tests share is built once. */
function once(fn) {
  let p;
  return () => (p ??= fn());
}

/** The package, packed as `npm pack` does for publishing: `{ tarball, files }` (paths). */
const packed = once(async () => {
  const dir = await work;
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: PKG });
  const [{ filename, files }] = JSON.parse(stdout);
  return { tarball: join(dir, filename), files: files.map((f) => f.path).sort() };
});

/**
 * A copy of the fixture app `name`, with the sources both apps share (app-src) as its src/,
 * and the packed package installed: its folder.
 */
async function install(name) {
  const [dir, { tarball }] = await Promise.all([work, packed()]);
  const app = join(dir, name);
  await cp(join(FIXTURES, name), app, { recursive: true });
  await cp(join(FIXTURES, 'app-src'), join(app, 'src'), { recursive: true });
  await run('npm', ['install', tarball, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
    cwd: app,
  });
  return app;
}

const viteApp = once(() => install('vite-app'));
const webpackApp = once(() => install('webpack-app'));

/** A logger for Vite that keeps warnings and errors, which the tests require to be none. */
function quietLogger() {
  const logger = createLogger('warn');
  logger.complaints = [];
  logger.warn = logger.warnOnce = logger.error = (msg) => logger.complaints.push(msg);
  return logger;
}

/** The Vite app, built for production: its folder (the build is in dist/). */
const viteBuilt = once(async () => {
  const app = await viteApp();
  const logger = quietLogger();
  const t0 = performance.now();
  await build({ root: app, logLevel: 'warn', customLogger: logger });
  console.log(`vite build: ${Math.round(performance.now() - t0)} ms`);
  assert.deepEqual(logger.complaints, [], 'vite build warnings');
  return app;
});

/** The webpack app, built for production (its webpack.config.js): its dist/ folder. */
const webpackBuilt = once(async () => {
  const app = await webpackApp();
  const { default: config } = await import(pathToFileURL(join(app, 'webpack.config.js')).href);
  const t0 = performance.now();
  const compiler = webpack(config);
  const stats = await promisify(compiler.run.bind(compiler))();
  await promisify(compiler.close.bind(compiler))();
  console.log(`webpack build: ${Math.round(performance.now() - t0)} ms`);
  assert.ok(!stats.hasErrors() && !stats.hasWarnings(), stats.toString('errors-warnings'));
  const dist = config.output.path;
  // No HTML plugin: the app's page is copied beside the bundle it loads.
  await cp(join(app, 'index.html'), join(dist, 'index.html'));
  return dist;
});

/**
 * Opens an app's page at `url`, waits for its result and checks it: the goroutine's result
 * (`expected`: THREADED on a cross-origin isolated page, else LOCAL), no errors, every response
 * a success, the wasm binary of that build fetched once (by the page: the Workers get the
 * compiled module), and the package bundled (no request for its sources). Returns the URLs of
 * the scripts requested (the page's and the Workers').
 */
async function runApp(url, expected = THREADED) {
  const page = await openPage(url);
  try {
    await page.waitForSelector('#result:not([data-state="running"])', { timeout: 30_000 });
    const state = await page.getAttribute('#result', 'data-state');
    const text = await page.textContent('#result');
    assert.equal(state, 'done', `the app failed: ${text}\n${page.logs.join('\n')}`);
    assert.deepEqual(JSON.parse(text), expected);
    assert.equal(await page.evaluate(() => crossOriginIsolated), expected.threaded);
    // Chromium reports the eval a CSP refused on the console.
    const errors = page.errors.filter((e) => !(expected.fn === 'EvalError' && /'unsafe-eval'/.test(e)));
    assert.deepEqual(errors, [], 'console errors on the page');
    const failed = page.responses.filter((r) => r.status >= 400);
    assert.deepEqual(failed, [], 'failed requests');
    const wasm = page.responses.filter((r) => new URL(r.url).pathname.endsWith('.wasm'));
    assert.equal(wasm.length, 1, `wasm fetched: ${JSON.stringify(wasm)}`);
    const sources = page.responses.filter((r) => /\/(src|wasm)\/[^/]+\.js$/.test(new URL(r.url).pathname));
    assert.deepEqual(sources, [], 'unbundled package modules requested');
    return page.responses.map((r) => r.url).filter((u) => new URL(u).pathname.endsWith('.js'));
  } finally {
    await page.close();
  }
}

test('npm pack ships the facade, its types, the wasm build, README and LICENSE, and nothing else', async () => {
  const { files } = await packed();
  const src = (await readdir(join(PKG, 'src'), { recursive: true }))
    .filter((f) => f.endsWith('.js') || f === 'index.d.ts')
    .map((f) => `src/${f}`);
  // wasm-bindgen writes a snippet for every JS module the crate names, but a glue imports only
  // those its build uses: the package ships those (none, today).
  const glues = await Promise.all(['gort.js', 'gort_st.js'].map((f) => readFile(join(PKG, 'wasm', f), 'utf8')));
  const snippets = [
    ...new Set(glues.flatMap((g) => [...g.matchAll(/\bfrom\s*['"]\.\/(snippets\/[^'"]+)['"]/g)].map((m) => m[1]))),
  ].map((f) => `wasm/${f}`);
  const expected = [
    'LICENSE',
    'README.md',
    'package.json',
    ...src,
    'wasm/gort.d.ts',
    'wasm/gort.js',
    'wasm/gort_bg.wasm',
    'wasm/gort_bg.wasm.d.ts',
    'wasm/gort_st.d.ts',
    'wasm/gort_st.js',
    'wasm/gort_st_bg.wasm',
    'wasm/gort_st_bg.wasm.d.ts',
    ...snippets,
  ].sort();
  assert.deepEqual(files, expected);
  assert.equal(await readFile(join(PKG, 'LICENSE'), 'utf8'), await readFile(join(ROOT, 'LICENSE'), 'utf8'));
});

test("the installed package's exports resolve: the API, its types, the Worker, the wasm, package.json", async () => {
  const app = await viteApp();
  const require = createRequire(join(app, 'package.json'));
  const dir = join(app, 'node_modules', 'gort');
  assert.equal(require.resolve('gort/package.json'), join(dir, 'package.json'));
  assert.equal(require.resolve('gort/worker.js'), join(dir, 'src', 'worker.js'));
  assert.equal(require.resolve('gort/wasm/gort_bg.wasm'), join(dir, 'wasm', 'gort_bg.wasm'));
  const { exports } = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
  assert.deepEqual(Object.keys(exports['.']), ['types', 'default']);

  // A TypeScript consumer, under the resolutions apps use: Node's and bundlers'.
  await cp(join(FIXTURES, 'consumer.ts'), join(app, 'consumer.ts'));
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const common = ['--noEmit', '--strict', '--target', 'es2022', '--lib', 'es2022,dom', 'consumer.ts'];
  for (const resolution of [
    ['--module', 'nodenext'],
    ['--module', 'esnext', '--moduleResolution', 'bundler'],
  ]) {
    const out = await run(process.execPath, [tsc, ...resolution, ...common], { cwd: app }).catch((e) => e);
    assert.equal(`${out.stdout}${out.stderr}`.trim(), '', `tsc ${resolution.join(' ')}`);
  }
});

test('a Vite production build runs, served by vite preview with the headers of its config', async () => {
  const app = await viteBuilt();
  const files = await readdir(join(app, 'dist', 'assets'));
  assert.ok(
    files.some((f) => /^worker-.*\.js$/.test(f)),
    `the Worker is bundled as its own chunk: ${files}`,
  );
  assert.ok(
    files.some((f) => /^gort_bg-.*\.wasm$/.test(f)),
    `the wasm binary is emitted: ${files}`,
  );
  const server = await preview({ root: app, preview: { port: 0 }, logLevel: 'warn', customLogger: quietLogger() });
  try {
    const scripts = await runApp(server.resolvedUrls.local[0]);
    const workers = scripts.filter((u) => /\/assets\/worker-[^/]+\.js$/.test(u));
    assert.ok(workers.length >= 2, `a Worker per P runs the bundled worker: ${scripts}`);
  } finally {
    await server.close();
  }
});

test('the Vite build runs under Cross-Origin-Embedder-Policy: credentialless', async () => {
  const app = await viteBuilt();
  const server = await serve({
    root: join(app, 'dist'),
    port: 0,
    headers: { 'Cross-Origin-Embedder-Policy': 'credentialless' },
  });
  try {
    assert.equal((await fetch(server.url)).headers.get('cross-origin-embedder-policy'), 'credentialless');
    await runApp(server.url);
  } finally {
    await server.close();
  }
});

test("the Vite build runs its module task under script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'", async () => {
  const app = await viteBuilt();
  const files = await readdir(join(app, 'dist', 'assets'));
  assert.ok(
    files.some((f) => /^tasks-.*\.js$/.test(f)),
    `the module task is emitted as a file: ${files}`,
  );
  const csp = "script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'";
  const server = await serve({ root: join(app, 'dist'), port: 0, headers: { 'Content-Security-Policy': csp } });
  try {
    await runApp(server.url, { ...THREADED, fn: 'EvalError' });
  } finally {
    await server.close();
  }
});

test('the Vite build runs on one P, without threads, on a page that is not cross-origin isolated', async () => {
  const app = await viteBuilt();
  const files = await readdir(join(app, 'dist', 'assets'));
  assert.ok(
    files.some((f) => /^gort_st_bg-.*\.wasm$/.test(f)),
    `the wasm binary without threads is emitted: ${files}`,
  );
  const server = await serve({ root: join(app, 'dist'), port: 0 });
  try {
    await runApp(`${server.url}?isolated=0`, LOCAL); // serve.mjs: no COOP, COEP or CORP
  } finally {
    await server.close();
  }
});

test('the Vite app runs on the Vite dev server, with the headers of its config', async () => {
  const app = await viteApp();
  const server = await createServer({
    root: app,
    server: { port: 0, watch: null },
    logLevel: 'warn',
    customLogger: quietLogger(),
  });
  await server.listen();
  try {
    const page = await openPage(server.resolvedUrls.local[0]);
    try {
      await page.waitForSelector('#result:not([data-state="running"])', { timeout: 30_000 });
      assert.deepEqual(JSON.parse(await page.textContent('#result')), THREADED);
      assert.deepEqual(page.errors, []);
    } finally {
      await page.close();
    }
  } finally {
    await server.close();
  }
});

test('a webpack 5 production build runs, with threads and on a page that is not isolated', async () => {
  const dist = await webpackBuilt();
  const files = await readdir(dist);
  assert.equal(files.filter((f) => f.endsWith('.wasm')).length, 2, `both wasm binaries are emitted: ${files}`);
  const server = await serve({ root: dist, port: 0 });
  try {
    const scripts = await runApp(server.url);
    const chunks = scripts.filter((u) => !u.endsWith('/main.js'));
    assert.ok(chunks.length >= 2, `a Worker per P runs the worker's chunk: ${scripts}`);
    await runApp(`${server.url}?isolated=0`, LOCAL);
  } finally {
    await server.close();
  }
});

test('Runtime.start refuses URL options that are not URLs, with a TypeError naming the option', async () => {
  const errors = await inPage(`
    const out = [];
    for (const options of [{ workerUrl: 42 }, { wasmUrl: 'http://[' }, { wasm: {} }]) {
      try {
        await Runtime.start({ procs: 1, ...options });
        out.push('started');
      } catch (e) {
        out.push(e.name + ': ' + e.message);
      }
    }
    return out;
  `);
  assert.deepEqual(errors, [
    'TypeError: Runtime.start: workerUrl must be a URL or a string, got number 42',
    'TypeError: Runtime.start: wasmUrl is not a valid URL: "http://["',
    'TypeError: Runtime.start: wasm must be a URL or a string, got an object (Object)',
  ]);
});

test('workerUrl and wasmUrl load the Worker and the wasm from elsewhere, another origin included', async () => {
  // The package's folder on a second origin, as a CDN serves it: with CORS headers, which
  // COEP require-corp accepts (its Cross-Origin-Resource-Policy stays same-origin).
  const cdn = await serve({ root: PKG, port: 0, headers: { 'Access-Control-Allow-Origin': '*' } });
  try {
    assert.notEqual(new URL(cdn.url).origin, new URL(await baseURL()).origin);
    const page = await openPage();
    try {
      const v = await evalModule(
        page,
        `
        const rt = await Runtime.start({
          procs: 2,
          workerUrl: new URL('src/worker.js', ${JSON.stringify(cdn.url)}),
          wasmUrl: ${JSON.stringify(`${cdn.url}wasm/gort_bg.wasm`)},
        });
        try {
          return await rt.go((rt, n) => rt.procid() >= 0 && n * 2, 21).join();
        } finally {
          await rt.shutdown();
        }
      `,
      );
      assert.equal(v, 42);
      assert.deepEqual(page.errors, []);
      const from = (path) => page.responses.filter((r) => r.url.startsWith(cdn.url) && r.url.endsWith(path));
      assert.ok(from('/src/worker.js').length >= 2, 'the Workers ran the worker script of the other origin');
      assert.equal(from('/wasm/gort_bg.wasm').length, 1, 'the wasm came from the other origin');
      assert.deepEqual(
        page.responses.filter((r) => r.url.endsWith('.wasm') && !r.url.startsWith(cdn.url)),
        [],
      );
    } finally {
      await page.close();
    }
  } finally {
    await cdn.close();
  }
});

test('imported from another origin (a CDN), the package needs only workerUrl', async () => {
  const cdn = await serve({ root: PKG, port: 0, headers: { 'Access-Control-Allow-Origin': '*' } });
  try {
    const page = await openPage();
    try {
      const v = await evalModule(
        page,
        `
        const rt = await Runtime.start({ procs: 2, workerUrl: ${JSON.stringify(`${cdn.url}src/worker.js`)} });
        try {
          return await rt.go((rt, n) => n * 2, 21).join();
        } finally {
          await rt.shutdown();
        }
      `,
        { module: `${cdn.url}src/index.js` },
      );
      assert.equal(v, 42);
      assert.deepEqual(page.errors, []);
      const wasm = page.responses.filter((r) => r.url.endsWith('.wasm')).map((r) => r.url);
      assert.deepEqual(wasm, [`${cdn.url}wasm/gort_bg.wasm`], 'the wasm beside the package, fetched once');
    } finally {
      await page.close();
    }
  } finally {
    await cdn.close();
  }
});

test('a worker script that does not load fails the start, naming an M', async () => {
  const message = await inPage(
    `
    try {
      await Runtime.start({ procs: 1, workerUrl: '/no/such/worker.js' });
      return 'started';
    } catch (e) {
      return e.message;
    }
  `,
    { expectErrors: (errors) => assert.ok(errors.length > 0) },
  );
  // Whichever M's Worker failed first: a P's, or the spare M's the runtime starts with.
  assert.match(message, /^gort: M \d+ failed to start: the Worker script failed to load$/);
});

test('a custom glue (`wasm`) is what the page and every Worker run', async () => {
  const page = await openPage();
  try {
    const v = await evalModule(
      page,
      `
      const rt = await Runtime.start({ procs: 2, wasm: '/pkg/wasm/gort.js?custom' });
      try {
        // The facade initialized that module instance (this import is the same one).
        const custom = await import('/pkg/wasm/gort.js?custom');
        const initialized = custom.gortSharedMemory() instanceof WebAssembly.Memory;
        return { initialized, sum: await rt.go((rt, a, b) => a + b, 40, 2).join() };
      } finally {
        await rt.shutdown();
      }
    `,
    );
    assert.deepEqual(v, { initialized: true, sum: 42 });
    assert.deepEqual(page.errors, []);
    const custom = page.responses.filter((r) => r.url.endsWith('/pkg/wasm/gort.js?custom'));
    assert.ok(custom.length >= 3, `the page and both Ps' Workers imported the custom glue: ${custom.length}`);
  } finally {
    await page.close();
  }
});
