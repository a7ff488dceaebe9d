#!/usr/bin/env node
// scripts/bench-values.mjs — what a large value costs to cross goroutines, in headless Chromium.
//
//   node scripts/bench-values.mjs [--mib=8] [--rounds=7] [--procs=2]
//
// With the built package (pkg/), on a cross-origin-isolated page: an N MiB Uint8Array
// - `arg+result`: page → goroutine argument → the goroutine returns it → the page (`rt.go(f, a).join()`);
// - `channel`: page → a goroutine on a channel → back to the page on a second channel;
// - `shared`: the same round trip of a view on an N MiB SharedArrayBuffer (passed by reference).
// Prints, per case, the first round (cold) and the median and minimum of `rounds` more, in ms.
import { chromium } from 'playwright-core';
import { serve } from './serve.mjs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const arg = (k, d) => Number(process.argv.find((a) => a.startsWith(`--${k}=`))?.split('=')[1] ?? d);
const mib = arg('mib', 8);
const rounds = arg('rounds', 7);
const procs = arg('procs', 2);

const PAGE_CODE = async ({ mib, rounds, procs }) => {
  const { Runtime } = await import('/pkg/src/index.js');
  const rt = await Runtime.start({ procs, heapLimit: 512 << 20 });
  const n = mib << 20;
  const check = (a, b) => {
    if (a.length !== b.length || a[0] !== b[0] || a[n - 1] !== b[n - 1])
      throw new Error('round trip changed the value');
  };
  const time = async (make, trip) => {
    const samples = [];
    for (let i = 0; i <= rounds; i++) {
      const a = make(i);
      const t0 = performance.now();
      const b = await trip(a);
      const dt = performance.now() - t0;
      check(a, b);
      samples.push(dt);
    }
    const first = samples.shift();
    samples.sort((x, y) => x - y);
    return { first, median: samples[samples.length >> 1], min: samples[0] };
  };
  const bytes = (i) => new Uint8Array(n).fill(i + 1);
  const out = {};
  try {
    out['arg+result'] = await time(bytes, (a) => rt.go((rt, a) => a, a).join());
    const there = rt.chan();
    const back = rt.chan();
    const echo = rt.go(
      async (rt, there, back) => {
        for await (const v of there) await back.send(v);
      },
      there,
      back,
    );
    out.channel = await time(bytes, async (a) => {
      await there.send(a);
      return back.recv();
    });
    if (typeof SharedArrayBuffer === 'function') {
      const sab = (i) => new Uint8Array(new SharedArrayBuffer(n)).fill(i + 1);
      out.shared = await time(sab, async (a) => {
        await there.send(a);
        return back.recv();
      });
    }
    there.close();
    await echo.join();
  } finally {
    await rt.shutdown();
  }
  return out;
};

const server = await serve({ root: ROOT, port: 0 });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu'],
});
try {
  const page = await browser.newPage();
  await page.goto(new URL('/tests/pages/blank.html', server.url).href);
  const out = await page.evaluate(PAGE_CODE, { mib, rounds, procs });
  console.log(`${mib} MiB Uint8Array round trips, procs ${procs}, ${rounds} rounds (ms):`);
  const ms = (x) => x.toFixed(1).padStart(7);
  for (const [k, { first, median, min }] of Object.entries(out)) {
    console.log(`  ${k.padEnd(10)} first ${ms(first)}   median ${ms(median)}   min ${ms(min)}`);
  }
} finally {
  await browser.close();
  await server.close();
}
