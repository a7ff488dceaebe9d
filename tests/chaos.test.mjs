// The browser chaos suite (tests/chaos/chaos.js has the rounds and what they check): random
// mixes of goroutines doing channel, select, sync, timer and gc work, with hogs, heap
// pressure near `heapLimit`, throws, the page's collections and `shutdown()` mid-flight,
// every message and every join accounted for exactly once. A few fixed seeds here; `make soak`
// runs many more (scripts/soak.mjs). A failure names its seed and phase; to replay one:
//   node scripts/soak.mjs --seeds=SEED --phases=PHASE
//
//   node --test tests/chaos.test.mjs

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { close, inPage } from './harness.mjs';

after(close);

/** Runs `rounds` ([{ seed, phase }]) one after another in one page; their results. */
export function runRounds(rounds, faults = {}) {
  return inPage(
    `
    const { round } = await import('/tests/chaos/chaos.js');
    const out = [];
    for (const r of ${JSON.stringify(rounds)}) out.push(await round({ ...r, faults: ${JSON.stringify(faults)} }));
    return out;
  `,
    { timeout: 120_000 },
  );
}

function check(results) {
  for (const { problems, summary } of results) {
    console.log(JSON.stringify(summary));
    assert.deepEqual(problems, [], `chaos seed ${summary.seed}, phase ${summary.phase} on ${summary.procs} Ps`);
  }
}

test('chaos, drained: every message delivered exactly once or refused by a typed error; every join once', async () => {
  const results = await runRounds([1, 2, 3, 4, 5, 6, 7, 8].map((seed) => ({ seed, phase: 'drained' })));
  check(results);
  // The fixed seeds exercise what the suite is for.
  const sum = (f) => results.reduce((a, r) => a + (f(r.summary) ?? 0), 0);
  assert.ok(sum((s) => s.messages.SENT) > 0, 'messages were delivered');
  assert.ok(sum((s) => s.kinds.hog) > 0 && sum((s) => s.kinds.pressure) > 0, 'hogs and heap pressure were injected');
});

test('chaos, shutdown mid-flight: every join settles once with a value or a typed error; no message twice', async () => {
  check(await runRounds([11, 12, 13, 14, 15, 16].map((seed) => ({ seed, phase: 'shutdown' }))));
});
