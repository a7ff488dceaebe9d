// The example Rust app (examples/primes, built by `make example`): its page in Chromium, and
// the typed bridge under it. Rust goroutines of the app's own wasm (gort inside, the facade
// started over its glue) exchange values with JS goroutines and the page over the same
// channels, both ways, as JS values: every job and every result is accounted for exactly once.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ATTEMPT, UNTIL, close, inPage, openPage } from './harness.mjs';

after(close);

const GLUE = '/examples/primes/wasm/primes.js';

/** The primes below `n`, counted here, in Node. */
function countPrimes(n) {
  const composite = new Uint8Array(n);
  let count = 0;
  for (let i = 2; i < n; i++) {
    if (composite[i]) continue;
    count++;
    for (let j = i * i; j < n; j += i) composite[j] = 1;
  }
  return count;
}

test('the page counts primes in Rust goroutines fed by a JS goroutine and reads them with for await', async () => {
  const page = await openPage('/examples/primes/index.html');
  try {
    await page.waitForSelector(
      '[data-testid="status"][data-state="done"], [data-testid="status"][data-state="failed"]',
      {
        timeout: 60_000,
      },
    );
    assert.deepEqual(page.errors, [], `page errors:\n${page.errors.join('\n')}`);
    assert.equal(await page.getAttribute('[data-testid="status"]', 'data-state'), 'done');
    const { JOBS, procs, rows } = await page.evaluate(async () => ({
      JOBS: (await import('/examples/primes/main.js')).JOBS,
      procs: navigator.hardwareConcurrency,
      rows: [...document.querySelectorAll('[data-testid="results"] tr')].map((r) => ({ ...r.dataset })),
    }));
    // Every job once, with its count; the order is whatever the workers finished in.
    assert.deepEqual(
      rows.map((r) => Number(r.n)).sort((a, b) => a - b),
      JOBS,
    );
    for (const r of rows) {
      assert.equal(Number(r.count), countPrimes(Number(r.n)), `primes below ${r.n}`);
      assert.ok(Number(r.proc) >= 0 && Number(r.proc) < procs, `proc ${r.proc}`);
    }
    assert.equal(await page.textContent('[data-testid="primes"]'), '2 3 5 7 11 13 17 19 23 29 31 37 41 43 47');
    assert.match(await page.textContent('[data-testid="status"]'), new RegExp(`^${JOBS.length} jobs counted`));
  } finally {
    await page.close();
  }
});

test('Rust and JS goroutines exchange values over the same channels, each exactly once', async () => {
  const { jobs, results, done, fed } = await inPage(`
    const rt = await Runtime.start({ procs: 2, wasm: ${JSON.stringify(GLUE)} });
    try {
      const N = 400;
      const jobs = rt.chan();
      const results = rt.chan(8);
      // Three Rust goroutines serve two JS feeders (on Worker Ms) and one JS consumer.
      const workers = rt.goRust('primeWorkers', jobs, results, 3);
      const feed = async (rt, jobs, from, to) => {
        for (let n = from; n < to; n++) await jobs.send(n);
        return to - from;
      };
      const feeders = [rt.go(feed, jobs, 0, N / 2), rt.go(feed, jobs, N / 2, N)];
      const consumer = rt.go(async (rt, results) => {
        const got = [];
        for await (const r of results) got.push([r.n, r.count]);
        return got;
      }, results);
      let fed = 0;
      for (const f of feeders) fed += await f.join();
      jobs.close();
      const done = await workers.join();
      return { jobs: N, results: await consumer.join(), done, fed };
    } finally {
      await rt.shutdown();
    }
  `);
  assert.equal(fed, jobs);
  assert.equal(done, jobs, 'the Rust goroutines report every job done');
  assert.equal(results.length, jobs, 'one result per job');
  const seen = new Map(results);
  assert.equal(seen.size, jobs, 'no job twice');
  for (let n = 0; n < jobs; n++) assert.equal(seen.get(n), countPrimes(n), `primes below ${n}`);
});

test('a channel made in Rust reaches the page as a Chan; the page closing it stops its sender', async () => {
  const r = await inPage(`
    ${UNTIL}
    const rt = await Runtime.start({ procs: 2, wasm: ${JSON.stringify(GLUE)} });
    try {
      const primes = await rt.goRust('primesBelow', 30).join();
      const all = [];
      for await (const p of primes) all.push(p);
      const again = await rt.goRust('primesBelow', 1_000_000).join();
      const first = [await again.recv(), await again.recv()];
      again.close(); // the generator's next send fails and it returns
      await until(rt, (dump) => dump.length === 0, 'the generator to return');
      return { isChan: primes instanceof gort.Chan, all, first };
    } finally {
      await rt.shutdown();
    }
  `);
  assert.deepEqual(r, { isChan: true, all: [2, 3, 5, 7, 11, 13, 17, 19, 23, 29], first: [2, 3] });
});

test('arguments and values of the wrong type are typed errors naming what and where', async () => {
  const r = await inPage(`
    ${ATTEMPT}
    const rt = await Runtime.start({ procs: 2, wasm: ${JSON.stringify(GLUE)} });
    try {
      const jobs = rt.chan();
      const results = rt.chan(8);
      const notChan = attemptSync(() => rt.goRust('primeWorkers', 'jobs', results, 1));
      const missing = attemptSync(() => rt.goRust('primeWorkers', jobs, results));
      const waitGroup = attemptSync(() => rt.goRust('primeWorkers', rt.waitGroup(), results, 1));
      const zero = attemptSync(() => rt.goRust('primeWorkers', jobs, results, 0));
      const noExport = attemptSync(() => rt.goRust('nope'));
      // A JS value the Rust goroutine cannot read as a u32: it fails, naming it; the value was
      // received (once) and is not sent on.
      const workers = rt.goRust('primeWorkers', jobs, results, 1);
      await jobs.send({ n: 7 });
      jobs.close();
      const failed = await attempt(() => workers.join());
      const after = [];
      for await (const v of results) after.push(v);
      return { notChan, missing, waitGroup, zero, noExport, failed, after };
    } finally {
      await rt.shutdown();
    }
  `);
  const typeError = (message) => ({ name: 'TypeError', ctor: 'TypeError', message });
  const pick = ({ name, ctor, message }) => ({ name, ctor, message });
  assert.deepEqual(pick(r.notChan), typeError('gort: argument 1: expected a channel (a gort Chan), got a string'));
  assert.deepEqual(pick(r.missing), typeError('gort: argument 3: expected a u32 (an integer number), got undefined'));
  assert.deepEqual(pick(r.waitGroup), typeError('gort: argument 1: a WaitGroup cannot be read (only channels)'));
  assert.deepEqual(pick(r.zero), {
    name: 'RangeError',
    ctor: 'RangeError',
    message: 'primeWorkers: workers must be at least 1',
  });
  assert.deepEqual(pick(r.noExport), typeError('rt.goRust: the wasm module has no exported function "nope"'));
  assert.equal(r.failed.name, 'GoroutineError');
  assert.equal(
    r.failed.message.includes('a job: expected a u32 (an integer number), got an object'),
    true,
    r.failed.message,
  );
  assert.deepEqual(r.after, []);
});

test("the README's example: a Rust goroutine sends on a page's channel and ends with a value", async () => {
  const r = await inPage(`
    const rt = await Runtime.start({ procs: 2, wasm: ${JSON.stringify(GLUE)} });
    try {
      const out = rt.chan(4);
      const g = rt.goRust('squares', out, 5);
      const got = [];
      for await (const v of out) got.push(v);
      return { got, result: await g.join() };
    } finally {
      await rt.shutdown();
    }
  `);
  assert.deepEqual(r, { got: [0, 1, 4, 9, 16], result: '5 sent' });
});

test('JS values cross to Rust and back as themselves; what Rust cannot hold is named', async () => {
  const r = await inPage(`
    ${ATTEMPT}
    const rt = await Runtime.start({ procs: 2, wasm: ${JSON.stringify(GLUE)} });
    try {
      const ch = rt.chan(1);
      const value = {
        undef: undefined, nul: null, t: true, f: false, small: -7, int: 70000, float: 0.1, negZero: -0,
        nan: NaN, inf: -Infinity, big: -(2n ** 100n), zero: 0n, s: 'gort ✓ 𝄞', empty: '',
        bytes: new Uint8Array([0, 1, 255]), list: [1, [2, [3]], {}], nested: { a: { b: 'c' } }, ch,
      };
      const back = await rt.goRust('echo', value).join();
      await back.ch.send('through the echoed handle');
      const viaOriginal = await ch.recv();
      const map = attemptSync(() => rt.goRust('echo', { deep: [new Map()] }));
      const lone = attemptSync(() => rt.goRust('echo', 'a\uD800'));
      return {
        same: Object.is(back.negZero, -0) && Number.isNaN(back.nan) && back.bytes instanceof Uint8Array,
        keys: Object.keys(back),
        back: { ...back, ch: back.ch instanceof gort.Chan, nan: null, negZero: null, bytes: [...back.bytes] },
        viaOriginal,
        map: map.message,
        lone: lone.message,
      };
    } finally {
      await rt.shutdown();
    }
  `);
  assert.equal(r.same, true);
  assert.deepEqual(r.keys, [
    'undef',
    'nul',
    't',
    'f',
    'small',
    'int',
    'float',
    'negZero',
    'nan',
    'inf',
    'big',
    'zero',
    's',
    'empty',
    'bytes',
    'list',
    'nested',
    'ch',
  ]);
  assert.deepEqual(r.back, {
    undef: undefined,
    nul: null,
    t: true,
    f: false,
    small: -7,
    int: 70000,
    float: 0.1,
    negZero: null,
    nan: null,
    inf: -Infinity,
    big: -(2n ** 100n),
    zero: 0n,
    s: 'gort ✓ 𝄞',
    empty: '',
    bytes: [0, 1, 255],
    list: [1, [2, [3]], {}],
    nested: { a: { b: 'c' } },
    ch: true,
  });
  assert.equal(r.viaOriginal, 'through the echoed handle');
  assert.equal(r.map, 'gort: argument 1.deep[0]: a Map cannot be read');
  assert.equal(r.lone, 'gort: argument 1: a string with lone surrogates cannot be a Rust String');
});
