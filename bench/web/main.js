// gort's side of the anchor benchmark in the browser: the page counterpart of the Go
// anchor's web/index.html. Every result is printed with console.log as one JSON object
// {"name","value","unit"} with bench.go's names (round N ≥ 2 suffixed "@rN"), then
// {"name":"done"}; a failure is {"name":"page.error","value":0,"unit":"<message>"}.
//
//   /bench/web/index.html?only=spawn,fib&rounds=2[&stats=1][&procs=P][&gctrace=1]
//
// The runtime is gort's JS facade started over the bench crate's wasm module (its glue
// carries gort's exports, so the facade's Workers run it unchanged), with one P per core
// (`procs=P` overrides, as GOMAXPROCS does natively).
// Each workload runs as a Rust goroutine on the worker Ms (`rt.goRust`, `benchWorkload` in
// bench/src/web.rs) and times itself there; jspingpong and gojoin (page-only, see
// PAGE_WORKLOADS) time JS goroutines from the page. Like bench.go, round 1 is cold — right after
// start-up, with V8's baseline-tier code, no warm-up run — and round 2 runs the same workload
// again in the same page, warm. After the workloads with a speedup target (fib, gcparallel)
// the page measures a plain-JS control of the parallelism available (`<w>.control_speedup`).
// `stats=1` adds the scheduler's counters over each workload
// (`<workload>.runs|steals|parks|wakeups`) and the workloads' explanatory figures. `gctrace=1`
// starts the runtime with gctrace: a Go-format line per collection on the console
// (run.mjs --verbose).
import { Runtime } from '/pkg/src/index.js';

const GLUE = '/target/bench-pkg/gort_bench.js';
const DEFAULT_ONLY = 'spawn,pingpong,fib,pipeline,select,timers,sleep1,gc,gcparallel';

const emit = (name, value, unit) => console.log(JSON.stringify({ name, value, unit }));
const print = (metric) => console.log(JSON.stringify(metric));

// A control for the speedup figures (fib.speedup, gcparallel.speedup): plain JS on two Workers
// of this page, 32 x fib(25) on one Worker, then 16 + 16 on two, measured right after the
// workload. Says how much parallelism the browser and the machine offer at that moment.
const CONTROLLED = ['fib', 'gcparallel'];
const CONTROL = `function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
onmessage = ({ data: n }) => { let s = 0; for (let i = 0; i < n; i++) s += fib(25); postMessage(s); };`;
let controlWorkers = null;
async function controlSpeedup() {
  const run = (w, n) =>
    new Promise((resolve) => {
      w.onmessage = () => resolve();
      w.postMessage(n);
    });
  if (!controlWorkers) {
    controlWorkers = Array.from(
      { length: 2 },
      () => new Worker(URL.createObjectURL(new Blob([CONTROL], { type: 'text/javascript' }))),
    );
    for (const w of controlWorkers) await run(w, 32); // JIT warm-up
  }
  let t = performance.now();
  await run(controlWorkers[0], 32);
  const seq = performance.now() - t;
  t = performance.now();
  await Promise.all(controlWorkers.map((w) => run(w, 16)));
  return seq / (performance.now() - t);
}

function counters(rt) {
  const s = rt.stats().sched;
  const sum = (a) => a.reduce((x, y) => x + y, 0);
  return { runs: sum(s.runs), steals: s.steals, parks: s.parks, wakeups: s.wakeups };
}

// Page-only workloads (no bench.go counterpart): JS goroutines of the facade, timed on the page.
//   jspingpong  two rt.go goroutines ping-pong over two unbuffered channels made on the page:
//               µs per round trip (wall / N, from starting both to joining ping) and wall ms
//   gojoin      the main thread's `await rt.go(fn, i).join()` round trip, N sequential: µs each
const JS_PINGPONG_N = 2000;
const GOJOIN_N = 500;
const PAGE_WORKLOADS = {
  async jspingpong(rt, suffix) {
    const a = rt.chan(0);
    const b = rt.chan(0);
    const t = performance.now();
    const pong = rt.go(
      async (rt, a, b) => {
        for (;;) {
          const v = await a.recv();
          if (v === undefined) return;
          await b.send(v + 1);
        }
      },
      a,
      b,
    );
    const ping = rt.go(
      async (rt, a, b, n) => {
        let v = 0;
        for (let i = 0; i < n; i++) {
          await a.send(v);
          v = await b.recv();
        }
        a.close();
        return v;
      },
      a,
      b,
      JS_PINGPONG_N,
    );
    const v = await ping.join();
    const wall = performance.now() - t;
    await pong.join();
    if (v !== JS_PINGPONG_N) throw new Error(`jspingpong: ping ended at ${v}, want ${JS_PINGPONG_N}`);
    emit(`jspingpong${suffix}`, (wall * 1000) / JS_PINGPONG_N, 'µs/roundtrip');
    emit(`jspingpong.wall${suffix}`, wall, 'ms');
  },
  async gojoin(rt, suffix) {
    const t = performance.now();
    for (let i = 0; i < GOJOIN_N; i++) {
      const v = await rt.go((rt, x) => x + 1, i).join();
      if (v !== i + 1) throw new Error(`gojoin: got ${v} for ${i}`);
    }
    const wall = performance.now() - t;
    emit(`gojoin${suffix}`, (wall * 1000) / GOJOIN_N, 'µs/roundtrip');
    emit(`gojoin.wall${suffix}`, wall, 'ms');
  },
};

async function main() {
  const q = new URLSearchParams(location.search);
  const only = (q.get('only') || DEFAULT_ONLY)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const rounds = Number(q.get('rounds') || 1);
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new RangeError(`rounds must be a positive integer, got ${q.get('rounds')}`);
  const withStats = q.get('stats') === '1';

  emit('page.cross_origin_isolated', self.crossOriginIsolated ? 1 : 0, 'bool');
  emit('page.hardware_concurrency', navigator.hardwareConcurrency, 'count');
  const t0 = performance.now();
  const procs = Number(q.get('procs') || navigator.hardwareConcurrency); // GOMAXPROCS
  const rt = await Runtime.start({ procs, wasm: GLUE, gctrace: q.get('gctrace') === '1' });
  const t1 = performance.now();
  emit('page.runtime_start', t1 - t0, 'ms'); // glue import + compile + instantiate + Workers ready
  emit('page.nav_to_started', t1, 'ms');
  const bench = await import(GLUE); // the module instance the facade initialized

  for (const m of JSON.parse(bench.benchPreamble(navigator.hardwareConcurrency, rt.procs))) print(m);
  const selected = [];
  for (const w of only) {
    if (Object.hasOwn(PAGE_WORKLOADS, w)) {
      selected.push(w);
      continue;
    }
    if (!bench.benchLookup(w)) throw new Error(`unknown workload ${JSON.stringify(w)}`);
    selected.push(w);
  }

  const allStart = performance.now();
  for (let r = 1; r <= rounds; r++) {
    const suffix = r > 1 ? `@r${r}` : '';
    for (const w of selected) {
      const before = withStats ? counters(rt) : null;
      if (Object.hasOwn(PAGE_WORKLOADS, w)) await PAGE_WORKLOADS[w](rt, suffix);
      else (await rt.goRust('benchWorkload', w, r, withStats).join()).forEach(print);
      if (withStats) {
        const after = counters(rt);
        for (const k of Object.keys(after)) emit(`${w}.${k}${suffix}`, after[k] - before[k], 'count');
      }
      if (CONTROLLED.includes(w)) emit(`${w}.control_speedup${suffix}`, await controlSpeedup(), 'x');
    }
  }
  emit('done', performance.now() - allStart, 'ms');
  await rt.shutdown();
  document.getElementById('out').textContent = 'finished';
}

main().catch((e) => emit('page.error', 0, String((e && e.stack) || e)));
