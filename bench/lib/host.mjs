// Load on this (shared, 2-core) machine: other jobs skew timings a lot, so
// before each run we wait a little for the CPU to go quiet and record how busy
// it was. Linux only (/proc/stat); elsewhere the load reads as unknown (-1).
import fs from 'node:fs';

function jiffies() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = f[3] + f[4]; // idle + iowait
  return { busy: total - idle, total };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Percentage of all cores busy over `ms` milliseconds, or -1 if unknown. */
export async function busyPct(ms = 500) {
  try {
    const a = jiffies();
    await sleep(ms);
    const b = jiffies();
    const t = b.total - a.total;
    return t > 0 ? Math.round((100 * (b.busy - a.busy)) / t) : 0;
  } catch {
    return -1;
  }
}

/** Wait up to maxS seconds until at most `pct` % busy; returns the last reading. */
export async function waitQuiet(maxS, pct) {
  const end = Date.now() + maxS * 1000;
  for (;;) {
    const b = await busyPct();
    if (b <= pct || Date.now() >= end) return b;
    await sleep(1000);
  }
}
