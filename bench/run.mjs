#!/usr/bin/env node
// bench/run.mjs — gort against Go's own runtime, side by side.
//
//   node bench/run.mjs [--only=spawn,fib] [--skip-go] [--with-missing] [--go-p1] [--timeout=S] [--gctrace]
//   REPS=3 node bench/run.mjs
//
// Four configurations run the same workloads (defined by the Go anchor program,
// ../shared/anchors/go-wasm/bench.go, and mirrored by gort's bench crate and page):
//   gort chromium     /bench/web/index.html?only=W&rounds=2, repo root served with COOP/COEP
//   Go wasm chromium  the anchor's GOOS=js GOARCH=wasm build and page
//   gort native       cargo's gort-bench binary (--only=W --rounds=2), built once in release
//   Go native P=2     the anchor's native build with GOMAXPROCS=2 (P=1 too with --go-p1)
// Every side prints one JSON line per metric, {"name","value","unit"}, with the names
// of bench.go; round 2 carries the suffix "@r2".
//
// Method (the anchor's, see its README):
// * One fresh process per (configuration, repetition, workload) — in Chromium a fresh
//   browser with a fresh profile — running only that workload. A runtime keeps what a
//   workload left behind (Go never frees its g structs, heaps stay grown), so running
//   the suite in one process would make each figure depend on the ones before it.
// * Each process runs its workload twice: cold = round 1 (first-touch memory growth,
//   V8's baseline tier and lazy compilation, worker start-up), warm = round 2 in the
//   same process (code optimized, heap grown). They answer different questions, so
//   both are reported, each in its own table.
// * REPS repetitions (default 1) and the median of each metric over them; with
//   REPS > 1 the ± is half the min–max range as % of the median.
// * The same Chromium binary, and gort and Go interleaved workload by workload in one
//   batch: on a shared 2-core VM the speed drifts over the hour, so only figures taken
//   side by side are comparable, never figures against old ones. --skip-go trades that
//   for speed by reusing the cached Go figures (target/bench/go-cache.json).
// * Before each run we wait briefly for the CPU to go quiet and record how busy it was.
//
// A gort workload that its crate or page does not implement yet prints nothing: its
// gort cells read "–" (a warning, not a failure). Without --only, Go runs only the
// workloads gort reports, unless --with-missing. Raw samples: target/bench/results.json;
// the tables: target/bench/results.md (also printed).
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { runProcess, parseLines, tail } from './lib/proc.mjs';
import { serveStatic } from './lib/serve.mjs';
import { loadPlaywright, runPage, chromiumVersion, CHROMIUM } from './lib/browser.mjs';
import { prepareGoRef, prepareGoHog, anchorDir, anchorHash } from './lib/goref.mjs';
import { waitQuiet } from './lib/host.mjs';
import { WORKLOADS, aggregate, roundTables, envTable, sizeMismatches, isMeta, workloadOf } from './lib/report.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'target', 'bench');
const GO_CACHE = path.join(OUT, 'go-cache.json');

// ---------------------------------------------------------------- options
const USAGE = `usage: node bench/run.mjs [options]
  --only=W1,W2     workloads to run (default: every one gort reports; known: ${WORKLOADS.join(',')})
  --with-missing   also run Go for workloads gort does not implement yet
  --skip-go        reuse the Go figures cached in target/bench/go-cache.json
  --go-p1          also run native Go with GOMAXPROCS=1
  --timeout=S      per-process time limit in seconds (default 300, env BENCH_TIMEOUT_S)
  --verbose        echo the pages' non-metric console lines
  --gctrace        gort prints a Go-format gctrace line per collection (echoed here)
environment: REPS (default 1), CHROMIUM (default /usr/bin/chromium), GO_ANCHOR_DIR,
  QUIET_WAIT_S (default 15) / QUIET_PCT (default 20): wait up to S s for the CPU to be at most PCT % busy`;

const opts = {
  only: null,
  skipGo: false,
  withMissing: false,
  goP1: false,
  gctrace: false,
  verbose: !!process.env.VERBOSE,
  timeoutS: Number(process.env.BENCH_TIMEOUT_S || 300),
};
for (const a of process.argv.slice(2)) {
  const [k, v] = a.split(/=(.*)/s);
  if (k === '--only')
    opts.only = v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  else if (k === '--skip-go') opts.skipGo = true;
  else if (k === '--with-missing') opts.withMissing = true;
  else if (k === '--go-p1') opts.goP1 = true;
  else if (k === '--verbose') opts.verbose = true;
  else if (k === '--gctrace') opts.gctrace = true;
  else if (k === '--timeout') opts.timeoutS = Number(v);
  else if (k === '--help' || k === '-h') {
    console.log(USAGE);
    process.exit(0);
  } else {
    console.error(`unknown option ${a}\n${USAGE}`);
    process.exit(2);
  }
}
const REPS = Math.max(1, Number(process.env.REPS || 1) | 0);
const QUIET_WAIT_S = Number(process.env.QUIET_WAIT_S ?? 15);
const QUIET_PCT = Number(process.env.QUIET_PCT ?? 20);
const TIMEOUT_MS = opts.timeoutS * 1000;
const workloads = opts.only ?? WORKLOADS;
const explicit = !!opts.only;

const warnings = [];
const errors = [];
const log = (s) => process.stderr.write(`bench: ${s}\n`);
const warn = (s) => {
  warnings.push(s);
  log(`warning: ${s}`);
};
const fail = (s) => {
  errors.push(s);
  log(`ERROR: ${s}`);
};

// ---------------------------------------------------------------- set-up
fs.mkdirSync(OUT, { recursive: true });
const versions = { node: process.version, chromium: chromiumVersion() || `(${CHROMIUM} not found)` };

// Go reference: fatal when it cannot be built (the comparison is the point).
let goRef = null;
let goHog = null; // the hog workload's Go program (bench/go/hog), beside the anchor
if (!opts.skipGo) {
  try {
    goRef = await prepareGoRef(ROOT, log);
    versions.go = goRef.goVersion;
  } catch (e) {
    log(`ERROR: ${e.message}`);
    process.exit(1);
  }
  if (workloads.includes('hog')) {
    try {
      goHog = await prepareGoHog(ROOT, goRef, log);
    } catch (e) {
      warn(`Go hog program: ${e.message.split('\n')[0]} — its Go columns stay empty`);
    }
  }
}

// gort native: build the bench binary once (cargo run would re-check the build
// before every process and may wait on another build's lock while timing).
async function buildGortNative() {
  if (!fs.existsSync(path.join(ROOT, 'bench', 'Cargo.toml'))) {
    warn('gort native: bench/Cargo.toml does not exist yet (crate gort-bench) — gort native columns stay empty');
    return null;
  }
  log('building gort-bench (cargo build --release -p gort-bench --bin gort-bench)');
  const r = await runProcess(
    'cargo',
    ['build', '--release', '-p', 'gort-bench', '--bin', 'gort-bench', '--message-format=json-render-diagnostics'],
    { cwd: ROOT },
  );
  if (r.code !== 0) {
    warn(`gort native: cargo build -p gort-bench failed — gort native columns stay empty\n${tail(r.stderr)}`);
    return null;
  }
  let exe = null;
  for (const line of r.stdout.split('\n')) {
    try {
      const o = JSON.parse(line);
      if (o.reason === 'compiler-artifact' && o.target?.name === 'gort-bench' && o.executable) exe = o.executable;
    } catch {
      /* not JSON */
    }
  }
  if (!exe) warn('gort native: cargo built no gort-bench executable');
  return exe;
}
const gortExe = await buildGortNative();

const gortPage = path.join(ROOT, 'bench', 'web', 'index.html');
let gortWeb = fs.existsSync(gortPage);
if (!gortWeb) warn('gort chromium: bench/web/index.html does not exist yet — gort chromium columns stay empty');

// playwright-core: the repo's devDependency; else the scratch copy of the anchor,
// installed there from its own lock file.
async function ensurePlaywright() {
  const dirs = [ROOT, path.join(ROOT, 'target', 'go-ref')];
  let pw = await loadPlaywright(dirs);
  const scratch = path.join(ROOT, 'target', 'go-ref');
  if (!pw && fs.existsSync(path.join(scratch, 'package.json'))) {
    log('playwright-core is not installed at the repo root (npm ci); installing it into target/go-ref');
    const r = await runProcess(
      'npm',
      [fs.existsSync(path.join(scratch, 'package-lock.json')) ? 'ci' : 'install', '--no-audit', '--no-fund'],
      { cwd: scratch },
    );
    if (r.code !== 0) log(tail(r.stderr));
    pw = await loadPlaywright(dirs);
  }
  return pw;
}
const needBrowser = gortWeb || goRef;
const pw = needBrowser ? await ensurePlaywright() : null;
if (needBrowser && !pw) {
  warn('playwright-core not found (run npm ci at the repo root) — chromium columns stay empty');
  gortWeb = false;
}
if (pw) versions.playwright = pw.version;
if (needBrowser && !fs.existsSync(CHROMIUM)) {
  log(`ERROR: ${CHROMIUM} not found (apt-get install -y chromium, or set CHROMIUM)`);
  process.exit(1);
}

const repoServer = gortWeb ? await serveStatic({ root: ROOT }) : null;
const goServer = goRef && pw ? await serveStatic({ root: goRef.site }) : null;
const goHogServer = goHog && pw ? await serveStatic({ root: goHog.site }) : null;
// The Go program and page of workload w: the anchor's, or the hog program for 'hog'.
const goSide = (w) =>
  w === 'hog' ? { native: goHog?.native, url: goHogServer?.url } : { native: goRef.native, url: goServer.url };

// ---------------------------------------------------------------- runners
const ROUND_ARGS = 2;

/** The metrics of a run that belong to its workload (environment lines aside). */
const own = (metrics, w) => metrics.filter((m) => !isMeta(m.name) && workloadOf(m.name) === w);

async function nativeRun(exe, args, env, { echoStderr = false, label = '' } = {}) {
  const r = await runProcess(exe, args, { env: { ...process.env, ...env }, timeoutMs: TIMEOUT_MS });
  if (echoStderr)
    for (const line of r.stderr.split('\n').filter(Boolean)) process.stderr.write(`  [${label}] ${line}\n`);
  const { metrics } = parseLines(r.stdout);
  let error = null;
  if (r.timedOut) error = `timed out after ${opts.timeoutS} s`;
  else if (r.code !== 0) error = `exit code ${r.code}${r.signal ? ` (${r.signal})` : ''}: ${tail(r.stderr, 5)}`;
  return { metrics, error, exitCode: r.code, wallMs: r.wallMs, stderr: tail(r.stderr, 20) };
}

const RUNNERS = {
  'gort-chromium': (w) =>
    runPage(
      pw.chromium,
      `${repoServer.url}/bench/web/index.html?only=${encodeURIComponent(w)}&rounds=${ROUND_ARGS}${opts.gctrace ? '&gctrace=1' : ''}`,
      {
        doneNames: ['done'],
        errorNames: ['page.error'],
        timeoutMs: TIMEOUT_MS,
        verbose: opts.verbose || opts.gctrace,
        label: `gort ${w}`,
      },
    ),
  'go-wasm-chromium': (w) =>
    runPage(pw.chromium, `${goSide(w).url}/index.html?args=${encodeURIComponent(`-only=${w} -rounds=${ROUND_ARGS}`)}`, {
      doneNames: ['page.finished'],
      errorNames: ['page.error'],
      timeoutMs: TIMEOUT_MS,
      verbose: opts.verbose,
      label: `go ${w}`,
    }),
  'gort-native': (w) =>
    nativeRun(
      gortExe,
      [`--only=${w}`, `--rounds=${ROUND_ARGS}`, ...(opts.gctrace ? ['--gctrace'] : [])],
      { GOMAXPROCS: '2' },
      { echoStderr: opts.gctrace, label: `gort native ${w}` },
    ),
  'go-native-p2': (w) => nativeRun(goSide(w).native, [`-only=${w}`, `-rounds=${ROUND_ARGS}`], { GOMAXPROCS: '2' }),
  'go-native-p1': (w) => nativeRun(goSide(w).native, [`-only=${w}`, `-rounds=${ROUND_ARGS}`], { GOMAXPROCS: '1' }),
};

const runs = [];
async function measure(config, w, rep) {
  const busyBefore = QUIET_WAIT_S > 0 ? await waitQuiet(QUIET_WAIT_S, QUIET_PCT) : -1;
  const r = await RUNNERS[config](w);
  const mine = own(r.metrics, w);
  const gort = config.startsWith('gort-');
  let status = r.error ? 'error' : 'ok';
  // gort-bench may reject a workload it does not know like bench.go does (exit 2).
  if (
    gort &&
    !mine.length &&
    (!r.error || (r.exitCode === 2 && /unknown workload|not implemented|unsupported/i.test(r.stderr ?? '')))
  )
    status = 'missing';
  const rec = {
    config,
    workload: w,
    rep,
    status,
    error: status === 'error' ? r.error : null,
    wallMs: Math.round(r.wallMs),
    busyBefore,
    metrics: r.metrics,
  };
  if (status === 'error') rec.output = r.stderr ?? r.other?.slice(-20).join('\n');
  runs.push(rec);
  const what =
    status === 'ok'
      ? `${mine.length} metrics`
      : status === 'missing'
        ? 'not implemented (no lines)'
        : `FAILED: ${r.error}`;
  log(
    `rep ${rep}/${REPS}  ${config.padEnd(16)} ${w.padEnd(10)} ${(r.wallMs / 1000).toFixed(1).padStart(6)} s  cpu busy before ${busyBefore < 0 ? 'n/a' : busyBefore + '%'}  ${what}`,
  );
  if (status === 'error') fail(`${config} ${w} (rep ${rep}): ${r.error}`);
  return rec;
}

// ---------------------------------------------------------------- the batch
const gortConfigs = [gortWeb && 'gort-chromium', gortExe && 'gort-native'].filter(Boolean);
const goConfigs = goRef
  ? ['go-wasm-chromium', 'go-native-p2', ...(opts.goP1 ? ['go-native-p1'] : [])].filter(
      (c) => pw || c !== 'go-wasm-chromium',
    )
  : [];
const gortHas = {}; // workload -> true once any gort configuration printed its metrics
const gortMissing = {}; // config -> Set of workloads it printed nothing for
const goRan = new Set();

log(
  `workloads: ${workloads.join(', ')}; REPS=${REPS}; configurations: ${[...gortConfigs, ...goConfigs].join(', ') || 'none'}${opts.skipGo ? ' (+ Go from cache)' : ''}`,
);
try {
  for (let rep = 1; rep <= REPS; rep++) {
    for (const w of workloads) {
      // interleaved: gort chromium, Go wasm chromium, gort native, Go native
      const order = ['gort-chromium', 'go-wasm-chromium', 'gort-native', 'go-native-p2', 'go-native-p1'];
      const gortFirst = order.filter((c) => gortConfigs.includes(c));
      for (const c of gortFirst) {
        if (gortMissing[c]?.has(w)) continue;
        const rec = await measure(c, w, rep);
        if (rec.status !== 'missing') gortHas[w] = true; // a failing gort run still gets its Go row
        if (rec.status === 'missing') (gortMissing[c] ??= new Set()).add(w);
      }
      const goWanted = WORKLOADS.includes(w) && (explicit || opts.withMissing || gortHas[w]) && (w !== 'hog' || goHog);
      if (!goWanted) continue;
      for (const c of order.filter((c) => goConfigs.includes(c))) {
        await measure(c, w, rep);
        goRan.add(w);
      }
    }
  }
} finally {
  await repoServer?.close();
  await goServer?.close();
  await goHogServer?.close();
}
for (const [c, set] of Object.entries(gortMissing))
  warn(`${c}: nothing printed for ${[...set].join(', ')} (not implemented yet)`);
const unknown = workloads.filter((w) => !WORKLOADS.includes(w));
if (unknown.length) warn(`not anchor workloads (no Go reference): ${unknown.join(', ')}`);

// ---------------------------------------------------------------- the Go cache
const goRuns = runs.filter((r) => r.config.startsWith('go-'));
let goFromCache = null;
function readCache() {
  try {
    return JSON.parse(fs.readFileSync(GO_CACHE, 'utf8'));
  } catch {
    return null;
  }
}
if (opts.skipGo) {
  const cache = readCache();
  if (!cache) warn('--skip-go: no target/bench/go-cache.json yet (run once without --skip-go) — Go columns stay empty');
  else {
    const wanted = workloads.filter((w) => WORKLOADS.includes(w) && (explicit || opts.withMissing || gortHas[w]));
    const cached = cache.runs.filter((r) => wanted.includes(r.workload) && (opts.goP1 || r.config !== 'go-native-p1'));
    runs.push(...cached.map((r) => ({ ...r, cached: true })));
    const lacking = wanted.filter((w) => !cached.some((r) => r.workload === w));
    if (lacking.length) warn(`--skip-go: the Go cache has nothing for ${lacking.join(', ')}`);
    goFromCache = { savedAt: cache.savedAt, goVersion: cache.versions?.go, anchorHash: cache.anchorHash };
    versions.go = cache.versions?.go;
    try {
      if (cache.anchorHash !== anchorHash(anchorDir(ROOT)))
        warn('--skip-go: the Go cache was made from another version of the anchor');
    } catch {
      /* anchor absent: the cache is all we have */
    }
    log(`Go figures from the cache of ${cache.savedAt}`);
  }
} else if (goRuns.length) {
  const old = readCache();
  const keep =
    old && old.anchorHash === goRef.hash && old.versions?.go === goRef.goVersion
      ? old.runs.filter((r) => !goRan.has(r.workload) || (r.config === 'go-native-p1' && !opts.goP1))
      : [];
  const cache = {
    savedAt: new Date().toISOString(),
    anchorHash: goRef.hash,
    versions: { go: goRef.goVersion, chromium: versions.chromium, playwright: versions.playwright },
    runs: [...keep, ...goRuns],
  };
  fs.writeFileSync(GO_CACHE, JSON.stringify(cache, null, 1) + '\n');
}

// ---------------------------------------------------------------- report
const med = aggregate(runs.filter((r) => r.status !== 'missing'));
for (const s of sizeMismatches(med)) warn(`problem size differs: ${s}`);
const shown = explicit
  ? workloads
  : workloads.filter((w) => gortHas[w] || goRan.has(w) || runs.some((r) => r.workload === w && r.status === 'ok'));
const { md: tables, verdicts } = roundTables(med, shown, { withP1: opts.goP1, withSpread: REPS > 1 });

function busyLine() {
  const b = runs
    .filter((r) => !r.cached && r.busyBefore >= 0)
    .map((r) => r.busyBefore)
    .sort((x, y) => x - y);
  if (!b.length) return '';
  const loud = b.filter((x) => x > QUIET_PCT).length;
  return (
    `CPU busy just before a run (all cores): median ${b[b.length >> 1]}%, max ${b[b.length - 1]}%` +
    (loud
      ? ` — **${loud} of ${b.length} runs started on a busy machine** (other jobs skew these figures; rerun when idle).`
      : '.')
  );
}
const header =
  [
    `## gort vs Go — ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`,
    `Fresh process / fresh browser per workload, \`--only=W --rounds=2\`; median of ${REPS} repetition${REPS > 1 ? 's' : ''}` +
      `${REPS > 1 ? ' (± = half the min–max range)' : ''}. Ratios are gort ÷ Go (below 1 = gort faster, except fib.speedup). ` +
      `Targets apply to gort in Chromium on 2 cores.`,
    `Versions: ${Object.entries(versions)
      .filter(([, v]) => v)
      .map(([k, v]) => `${k} ${v}`)
      .join('; ')}; host ${os.cpus()[0]?.model ?? '?'} × ${os.cpus().length}.`,
    busyLine(),
    goFromCache
      ? `**Go figures reused from the cache of ${goFromCache.savedAt}** (--skip-go), not measured in this batch.`
      : '',
  ]
    .filter(Boolean)
    .join('\n\n') + '\n\n';
const notes = [...warnings, ...errors.map((e) => `ERROR: ${e}`)];
const md = `${header}${shown.length ? tables : 'No workload produced figures.\n\n'}${envTable(med, { withP1: opts.goP1 })}${notes.length ? `\n### Notes\n\n${notes.map((n) => `- ${n.split('\n')[0]}`).join('\n')}\n` : ''}`;

fs.writeFileSync(path.join(OUT, 'results.md'), md);
fs.writeFileSync(
  path.join(OUT, 'results.json'),
  JSON.stringify(
    {
      date: new Date().toISOString(),
      argv: process.argv.slice(2),
      reps: REPS,
      rounds: ROUND_ARGS,
      workloads,
      shown,
      versions,
      goFromCache,
      warnings,
      errors,
      verdicts,
      medians: med,
      runs,
    },
    null,
    1,
  ) + '\n',
);
console.log(md);
log(`wrote ${path.relative(ROOT, path.join(OUT, 'results.md'))} and results.json`);
process.exit(errors.length ? 1 : 0);
