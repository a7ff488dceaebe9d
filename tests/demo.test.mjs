// The demo page (index.html, www/): it starts a runtime, prints the hello program's ten lines
// interleaved as they happened, shows one card per P, and runs a burst that makes Ps steal.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { close, openPage } from './harness.mjs';

after(close);

let page;
before(async () => {
  page = await openPage('/');
});

const noErrors = () => assert.deepEqual(page.errors, [], `page errors:\n${page.errors.join('\n')}`);

async function procs() {
  return Number(await page.getAttribute('[data-testid="status"]', 'data-procs'));
}

test('starts the runtime with one P per core, cross-origin isolated', async () => {
  await page.waitForSelector('[data-testid="status"][data-state="running"]', { timeout: 15_000 });
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  assert.equal(await procs(), cores);
  const text = await page.textContent('[data-testid="status"]');
  assert.match(text, new RegExp(`${cores} procs`));
  assert.match(text, /crossOriginIsolated: true/);
  assert.equal(await page.isHidden('[data-testid="error"]'), true);
  noErrors();
});

test('prints the ten lines of the hello program, interleaved in the order they happened', async () => {
  await page.waitForSelector('[data-testid="hello"][data-state="done"]', { timeout: 10_000 });
  const lines = await page.$$eval('[data-testid="hello-line"]', (items) =>
    items.map((li) => ({
      who: li.dataset.who,
      t: Number(li.dataset.t),
      proc: li.dataset.proc === undefined ? null : Number(li.dataset.proc),
      text: li.querySelector('.text').textContent,
    })),
  );
  assert.equal(lines.length, 10);
  const main = lines.filter((l) => l.who === 'main');
  const goroutine = lines.filter((l) => l.who === 'goroutine');
  assert.equal(main.length, 5);
  assert.equal(goroutine.length, 5);
  assert.ok(main.every((l) => l.text === 'Hello from main!'));
  assert.ok(goroutine.every((l) => l.text === 'Hello from goroutine!'));

  // Shown in the order they happened, each no earlier than its tick (sleeps never end early;
  // a little slack for timer and clock rounding).
  const times = lines.map((l) => l.t);
  assert.deepEqual(
    times,
    [...times].sort((a, b) => a - b),
  );
  const SLACK = 5;
  main.forEach((l, i) => assert.ok(l.t >= i * 150 - SLACK, `main line ${i} at ${l.t} ms`));
  goroutine.forEach((l, i) => assert.ok(l.t >= i * 100 - SLACK, `goroutine line ${i} at ${l.t} ms`));

  // The goroutine's lines come from workers: each names a real P.
  const n = await procs();
  for (const l of goroutine) assert.ok(Number.isInteger(l.proc) && l.proc >= 0 && l.proc < n, `P${l.proc}`);
  noErrors();
});

test('shows one card per P with its counters', async () => {
  const n = await procs();
  const cards = await page.$$eval('[data-testid="proc-card"]', (items) =>
    items.map((card) => ({
      proc: Number(card.dataset.proc),
      runs: card.querySelector('[data-testid="proc-runs"]').textContent,
      runq: card.querySelector('[data-testid="proc-runq"]').textContent,
      steals: card.querySelector('[data-testid="proc-steals"]').textContent,
      stolen: card.querySelector('[data-testid="proc-stolen"]').textContent,
    })),
  );
  assert.deepEqual(
    cards.map((c) => c.proc),
    Array.from({ length: n }, (_, i) => i),
  );
  for (const c of cards) {
    for (const field of ['runs', 'runq', 'steals', 'stolen']) assert.match(c[field], /^[\d,]+$/, `P${c.proc} ${field}`);
  }
  // The hello program ran goroutines, and the view has caught up with them.
  await page.waitForFunction(
    () => Number(document.querySelector('[data-testid="total-completed"]').textContent.replace(/,/g, '')) >= 5,
    null,
    { timeout: 5_000 },
  );
  noErrors();
});

test('a burst completes with the right sum, and idle Ps steal', async () => {
  await page.click('[data-testid="burst-button"]');
  await page.waitForSelector('[data-testid="burst"][data-state="done"]', { timeout: 60_000 });
  const read = (id) => page.textContent(`[data-testid="burst-${id}"]`);
  assert.equal(await read('sum'), (64 * 196418).toLocaleString('en-US'));
  assert.match(await read('elapsed'), /^\d+(\.\d)? ms$/);
  const steals = Number((await read('steals')).replace(/,/g, ''));
  if ((await procs()) > 1) assert.ok(steals > 0, `steals: ${steals}`);
  assert.equal(await page.isEnabled('[data-testid="burst-button"]'), true);
  noErrors();
});
