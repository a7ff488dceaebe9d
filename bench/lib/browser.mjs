// Headless Debian Chromium driven by playwright-core (never a downloaded browser).
//
// runPage() launches a *fresh* browser with a fresh profile directory for one page
// load, collects the JSON metric lines the page prints with console.log, and closes
// the browser: nothing (JIT caches, code cache, grown heaps, worker pools) carries
// over from one workload to the next.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { execFileSync } from 'node:child_process';
import { parseMetric } from './proc.mjs';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-extensions',
  '--mute-audio',
];

/**
 * Import playwright-core from the first folder that has it installed
 * (normally the repo root, where it is a devDependency).
 * Returns { chromium, version, from } or null.
 */
export async function loadPlaywright(dirs) {
  for (const dir of dirs) {
    let pkgJson;
    try {
      pkgJson = createRequire(path.join(dir, 'noop.js')).resolve('playwright-core/package.json');
    } catch {
      continue;
    }
    const req = createRequire(pkgJson);
    const mod = await import(pathToFileURL(req.resolve('playwright-core')).href);
    const chromium = mod.chromium ?? mod.default?.chromium;
    const { version } = JSON.parse(fs.readFileSync(pkgJson, 'utf8'));
    return { chromium, version, from: path.dirname(pkgJson) };
  }
  return null;
}

export function chromiumVersion() {
  try {
    return execFileSync(CHROMIUM, ['--version'], {
      encoding: 'utf8',
      timeout: 30000,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return '';
  }
}

/**
 * Open `url` in a fresh headless Chromium and collect metric lines until a line
 * whose name is in `doneNames` arrives, the page throws, or `timeoutMs` passes.
 * Resolves { ok, error, metrics, other, wallMs }; `error` is a readable sentence.
 */
export async function runPage(
  chromium,
  url,
  { doneNames = ['done'], errorNames = [], timeoutMs = 300000, verbose = false, label = '' } = {},
) {
  const t0 = performance.now();
  const metrics = [];
  const other = [];
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gort-bench-profile-'));
  let context;
  let timer;
  let error;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [...LAUNCH_ARGS, ...(process.env.BENCH_CHROMIUM_FLAGS ?? '').split(';').filter(Boolean)],
    });
    const page = context.pages()[0] ?? (await context.newPage());
    let finish;
    const finished = new Promise((resolve) => (finish = resolve));
    page.on('console', (msg) => {
      for (const line of msg.text().split('\n')) {
        const m = parseMetric(line);
        if (m) {
          if (errorNames.includes(m.name)) {
            finish(`the page reported ${m.name}: ${m.unit}`);
            continue;
          }
          if (doneNames.includes(m.name)) {
            metrics.push(m);
            finish(null);
            continue;
          }
          metrics.push(m);
        } else if (line.trim()) {
          other.push(line);
          if (verbose || msg.type() === 'error') process.stderr.write(`  [page${label ? ' ' + label : ''}] ${line}\n`);
        }
      }
    });
    page.on('pageerror', (e) => {
      other.push(String(e?.stack ?? e));
      finish(`uncaught exception in the page: ${e?.message ?? e}`);
    });
    page.on('crash', () => finish('the page crashed'));
    timer = setTimeout(
      () =>
        finish(
          `timed out after ${Math.round(timeoutMs / 1000)} s without a ${doneNames.join('/')} line (${metrics.length} metric lines so far)`,
        ),
      timeoutMs,
    );
    const resp = await page.goto(url, { waitUntil: 'load', timeout: timeoutMs });
    if (!resp || !resp.ok()) {
      finish(`GET ${url} answered ${resp ? resp.status() : 'nothing'}`);
    }
    error = await finished;
  } catch (e) {
    error = `browser run failed: ${e?.message ?? e}`;
  } finally {
    clearTimeout(timer);
    if (context) await context.close().catch(() => {});
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  return { ok: !error, error, metrics, other, wallMs: performance.now() - t0 };
}
