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

// hog: a JS goroutine busy-looping HOG_MS on one Worker of a fresh 2-P runtime (one per
// phase), and what the page sees meanwhile. Every phase starts at a planned moment, PLAN_MS
// after the hog reported its start, and is timed from that moment (the page's event loop is
// free, so it acts on time; Go's wasm port, whose one thread the hog holds, acts only after it).
//   hog.join_p50     ms   200 short goroutines started from the page at once: median of
//                         (join settled − planned); also hog.join_p99
//   hog.gc_wall      ms   rt.gc() from the page: settled − planned
//   hog.timer_p99    ms   100 rt.sleep(10) from the page at once: p99 of (settled − planned − 10)
//   hog.handoff      ms   the hog records its start, then starts a goroutine (queued on its own P)
//                         that records when it starts running: that moment − the hog's start
//                         (both on the epoch clock, performance.timeOrigin + now(), in their
//                         Workers); hog.handoff_moved = 1 if it ran on another P
//   hog.retake_1p    ms   the same hog on a 1-P runtime, where only a spare M can run the P's
//                         work: the page's receive of the hog's start message is a goroutine
//                         the hog's own M cannot run, so it completes once the monitor has
//                         handed the P to a spare (sched/sysmon.rs): that moment − the hog's start
//   hog.shutdown     ms   rt.shutdown({ timeoutMs: 100 }): settled − planned; printed with value
//                         null and unit "did not settle in 2 s" when it did not
//   hog.kill_recover ms   no hog: a goroutine records the time and closes its Worker
//                         (self.close()); the page then starts goroutines, 4 every 5 ms, until
//                         one runs on the killed Worker's P in another Worker (each Worker tags
//                         itself with a random self.benchWorkerTag): that goroutine's start −
//                         the close; null "not recovered in 2 s" when none did
const HOG_MS = 3000;
const PLAN_MS = 10;
const epoch = () => performance.timeOrigin + performance.now();
const sleepMs = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
function hogFn(rt, ms, started, probe) {
  const t0 = performance.timeOrigin + performance.now();
  rt.go((rt, probe) => {
    probe.trySend({ at: performance.timeOrigin + performance.now(), proc: rt.procid() });
  }, probe);
  started.trySend({ at: t0, proc: rt.procid() });
  const end = performance.now() + ms;
  let n = 0;
  while (performance.now() < end) n++;
  return n;
}
/** A fresh runtime with a hog running; resolves at the planned moment (epoch ms). */
async function withHog(phase, procs = 2) {
  const rt = await Runtime.start({ procs });
  // Both Workers up and running goroutines.
  await Promise.all(Array.from({ length: 8 }, (_, i) => rt.go((rt, i) => i, i).join()));
  const started = rt.chan(1);
  const probe = rt.chan(1);
  const hog = rt.go(hogFn, HOG_MS, started, probe);
  const s = await started.recv();
  s.received = epoch();
  // A page timer may fire a little early: then the phase is timed from when the page acted.
  await sleepMs(s.at + PLAN_MS - epoch());
  const planned = Math.max(s.at + PLAN_MS, epoch());
  const out = await phase(rt, planned, s, probe);
  if (phase.keepsRuntime !== true) {
    await hog.join().catch(() => {});
    await Promise.race([rt.shutdown(), sleepMs(5000)]);
  }
  return out;
}
async function hogWorkload(suffix) {
  const emitH = (name, value, unit) => emit(`hog.${name}${suffix}`, value, unit);
  // joins and the hand-off
  await withHog(async (rt, planned, s, probe) => {
    const times = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        rt
          .go((rt, i) => i + 1, i)
          .join()
          .then(() => epoch() - planned),
      ),
    );
    emitH('join_p50', pct(times, 50), 'ms');
    emitH('join_p99', pct(times, 99), 'ms');
    const p = await probe.recv();
    emitH('handoff', p.at - s.at, 'ms');
    emitH('handoff_moved', p.proc !== s.proc ? 1 : 0, 'bool');
  });
  await withHog(async (rt, planned) => {
    await rt.gc();
    emitH('gc_wall', epoch() - planned, 'ms');
  });
  await withHog(async (rt, planned) => {
    const late = await Promise.all(Array.from({ length: 100 }, () => rt.sleep(10).then(() => epoch() - planned - 10)));
    emitH('timer_p99', pct(late, 99), 'ms');
  });
  await withHog(async (rt, planned, s) => emitH('retake_1p', s.received - s.at, 'ms'), 1);
  const shut = async (rt, planned) => {
    const p = rt.shutdown({ timeoutMs: 100 });
    const settled = await Promise.race([p.then(() => true), sleepMs(planned + 2000 - epoch()).then(() => false)]);
    if (settled) emitH('shutdown', epoch() - planned, 'ms');
    else emitH('shutdown', null, 'did not settle in 2 s');
    await Promise.race([p, sleepMs(5000)]);
  };
  shut.keepsRuntime = true;
  await withHog(shut);
  // A killed Worker (no hog).
  const rt = await Runtime.start({ procs: 2 });
  await Promise.all(Array.from({ length: 8 }, (_, i) => rt.go((rt, i) => i, i).join()));
  const killed = rt.chan(1);
  rt.go((rt, ch) => {
    self.benchWorkerTag ??= Math.random();
    ch.trySend({ at: performance.timeOrigin + performance.now(), proc: rt.procid(), tag: self.benchWorkerTag });
    self.close();
  }, killed);
  const k = await killed.recv();
  let recovered = null;
  const probes = [];
  while (recovered === null && epoch() - k.at < 2000) {
    for (let i = 0; i < 4; i++)
      probes.push(
        rt
          .go((rt) => {
            self.benchWorkerTag ??= Math.random();
            return { at: performance.timeOrigin + performance.now(), proc: rt.procid(), tag: self.benchWorkerTag };
          })
          .join()
          .then(
            (r) => {
              // The closed Worker finishes its current task first (it may run goroutines for a
              // few ms more): only another Worker running that P counts.
              if (r.proc === k.proc && r.tag !== k.tag && (recovered === null || r.at < recovered)) recovered = r.at;
            },
            () => {},
          ),
      );
    await sleepMs(5);
  }
  if (recovered !== null) emitH('kill_recover', recovered - k.at, 'ms');
  else emitH('kill_recover', null, 'not recovered in 2 s');
  await Promise.race([rt.shutdown(), sleepMs(2000)]);
}

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
    if (Object.hasOwn(PAGE_WORKLOADS, w) || w === 'hog') {
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
      if (w === 'hog') await hogWorkload(suffix);
      else if (Object.hasOwn(PAGE_WORKLOADS, w)) await PAGE_WORKLOADS[w](rt, suffix);
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
