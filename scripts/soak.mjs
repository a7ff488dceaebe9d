#!/usr/bin/env node
// scripts/soak.mjs — the browser chaos suite (tests/chaos/chaos.js) over many seeds: `make soak`.
//
//   node scripts/soak.mjs [--seeds=N | --seeds=A-B | --seeds=7,9] [--phases=drained,shutdown] [--minutes=M]
//   GORT_CHAOS_KILL=1 node scripts/soak.mjs   # also inject killed Workers (self.close())
//
// Defaults: seeds 1000-1199, both phases, at most 20 minutes. Every failing round is printed
// with its seed and phase (replay it with --seeds=SEED --phases=PHASE); exit 1 if any failed.
import { chromium } from 'playwright-core';
import { serve } from './serve.mjs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const arg = (k, d) => process.argv.find((a) => a.startsWith(`--${k}=`))?.split('=')[1] ?? d;
function seedList(spec) {
  if (/^\d+-\d+$/.test(spec)) {
    const [a, b] = spec.split('-').map(Number);
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  }
  if (spec.includes(',')) return spec.split(',').map(Number);
  const n = Number(spec);
  return Array.from({ length: n }, (_, i) => 1000 + i);
}
const seeds = seedList(arg('seeds', '200'));
const phases = arg('phases', 'drained,shutdown').split(',');
const deadline = Date.now() + Number(arg('minutes', '20')) * 60_000;
const faults = process.env.GORT_CHAOS_KILL === '1' ? { killWorker: true } : {};

const server = await serve({ root: ROOT, port: 0 });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu'],
});
const failures = [];
let rounds = 0;
try {
  for (const seed of seeds) {
    for (const phase of phases) {
      if (Date.now() > deadline) break;
      // A fresh page per round: a round that hangs or crashes takes nothing else with it.
      const page = await browser.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(new URL('/tests/pages/blank.html', server.url).href);
      let r;
      try {
        r = await Promise.race([
          page.evaluate(
            async ([seed, phase, faults]) => (await import('/tests/chaos/chaos.js')).round({ seed, phase, faults }),
            [seed, phase, faults],
          ),
          new Promise((_, rej) => setTimeout(() => rej(new Error('no result in 120 s')), 120_000)),
        ]);
      } catch (e) {
        r = { problems: [String(e)], summary: { seed, phase } };
      }
      await page.close();
      rounds++;
      const problems = [...r.problems, ...errors.map((e) => `page error: ${e}`)];
      if (problems.length) {
        failures.push({ seed, phase, problems });
        console.log(`FAIL seed ${seed} phase ${phase}:\n  ${problems.slice(0, 10).join('\n  ')}`);
      } else console.log(`ok   ${JSON.stringify(r.summary)}`);
    }
  }
} finally {
  await browser.close();
  await server.close();
}
console.log(
  `${rounds} rounds, ${failures.length} failed${failures.length ? ': ' + failures.map((f) => `${f.seed}/${f.phase}`).join(' ') : ''}`,
);
process.exit(failures.length ? 1 : 0);
