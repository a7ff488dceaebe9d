// The browser chaos suite's rounds, run in a page (tests/chaos.test.mjs, and `make soak`
// through scripts/soak.mjs): random mixes of JS goroutines (and the Rust goroutines that run
// every channel, select, sync and timer operation of theirs and of the page) doing channel,
// select, WaitGroup/Mutex, timer and gc work, with injected faults, and exactly-once
// accounting of every message and every join.
//
//   const { round } = await import('/tests/chaos/chaos.js');
//   const r = await round({ seed: 7, phase: 'drained' });   // or phase: 'shutdown'
//   r.problems   // [] when every check held; r.summary: what the round did
//
// Accounting. Every message carries an id (unique: its sender's number and a counter); each
// sender logs each id's fate as it saw it (OFFERED, SENT,
// RETURNED: a ChannelError, the channel was closed; REFUSED: a RangeError, the heap limit;
// KEPT: a losing select case, a default, a full buffer; CANCELLED: a ShutdownError) and how
// many times it was received, and sends its log to the page in batches over a `report` channel.
// Every join is counted as it settles.
// - phase 'drained': the mix runs to completion, the page closes the channels, drainers
//   empty them. Exactly: SENT ids were received once, every other id never; no id is left
//   OFFERED; each join settled once, with its value, or a GoroutineError for an injected throw;
//   the mutex-protected counter, wait groups and timers add up; every value held under heap
//   pressure came back intact.
// - phase 'shutdown': open-ended workers, and the page's own sends and receives, are cut off
//   by `shutdown()` mid-flight. Then every join settles once, with a value or a
//   GoroutineError, ShutdownError or RangeError, never anything else, never twice, never not at
//   all; no id is received twice; no id whose send failed with a typed error was received.
//   (Values in buffers, or taken by a goroutine the shutdown stopped, are gone with the
//   runtime: "received exactly once" cannot hold for them.)
//
// Faults (FAULTS): a hog (a JS goroutine busy-looping for some ms), heap pressure (filling a
// channel with 1 MiB values up to `heapLimit`, until a send is refused with a RangeError; the
// values held are then read back, all of them intact), a throw, the page's `rt.gc()`, the
// page's `rt.setProcs(n)` (1 to 3 Ps: Workers added, Ps removed mid-run), and the shutdown
// itself. New faults are new entries in FAULTS and in `draw`.
// `killWorker` (a goroutine calling `self.close()` on its Worker) is off by default: the
// runtime replaces a dead Worker only once the "faults are contained" change lands. Turn it
// on with `round({ faults: { killWorker: true } })` (scripts/soak.mjs: GORT_CHAOS_KILL=1);
// its goroutine's join must then reject with a GoroutineError, and goroutines bound to the
// same Worker may too (their messages are then accounted for like the shutdown phase's): a
// goroutine that dies so takes what it had not reported yet (fates, receives, closes) with it,
// so a value may then be received and never sent, or sent and never received, but never
// received twice. A drainer that dies so is replaced, or the senders would wait for ever. Kill rounds leave out the mutex and wait-group work: a
// lock held, or a `done` owed, by a goroutine whose Worker died stays so for good, as in Go a
// lock held by a thread that vanished would.
//
// Every choice comes from a PRNG seeded by `seed` (mulberry32); the interleaving still varies.

import { Runtime } from '/pkg/src/index.js';

export const FAULTS = { hog: true, pressure: true, throw: true, gc: true, resize: true, killWorker: false };

const F = { NONE: 0, OFFERED: 1, SENT: 2, RETURNED: 3, REFUSED: 4, KEPT: 5, CANCELLED: 6 };
const FATE_NAMES = Object.fromEntries(Object.entries(F).map(([k, v]) => [v, k]));

function mulberry32(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ------------------------------------------------------------------ goroutine functions
// Shipped to the Workers by source: self-contained (their helpers are nested).

/**
 * `ops` random channel operations (< 0: until the runtime shuts down). Ids are `who * 2^20 +
 * n`. What happened to each id goes to the page through `report` in batches (a shutdown loses
 * only the batch not yet sent).
 */
async function chatter(rt, who, seed, ops, chans, report, fault) {
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let next = 0;
  let log = { f: [], r: [] };
  const flush = async () => {
    const batch = log;
    log = { f: [], r: [] };
    for (;;) {
      try {
        return await report.send(batch);
      } catch (e) {
        if (e?.name !== 'RangeError') throw e;
        await rt.sleep(1); // refused under heap pressure: the batch is still here, try again
      }
    }
  };
  const fate = (id, f) => log.f.push(id, f);
  const got = (v) => {
    const ok =
      v &&
      typeof v.id === 'number' &&
      v.pad instanceof Uint8Array &&
      v.pad.length === v.n &&
      (v.n === 0 || (v.pad[0] === (v.id & 255) && v.pad[v.n - 1] === (v.id & 255)));
    if (!ok) throw new Error(`a corrupted message: ${JSON.stringify(v).slice(0, 200)}`);
    log.r.push(v.id);
  };
  const take = () => who * 2 ** 20 + next++;
  // Mostly small; sometimes 256 KiB to 1.25 MiB, which the heap limit may refuse.
  const message = (id) => {
    const n = rand() < 0.04 ? (256 << 10) + Math.floor(rand() * (1 << 20)) : Math.floor(rand() * 48);
    fate(id, 1);
    return { id, n, pad: new Uint8Array(n).fill(id & 255) };
  };
  // A send's typed failure: the value was not delivered.
  const failed = (id, e) => {
    const f = { ChannelError: 3, RangeError: 4, ShutdownError: 6 }[e?.name];
    if (!f) throw e;
    fate(id, f);
  };
  let closes = 0;
  try {
    for (let op = 0; ops < 0 || op < ops; op++) {
      if (fault === 'throw' && op === 3) throw new Error('injected throw');
      if (log.f.length + log.r.length > 64) await flush();
      const r = rand();
      const c = chans[Math.floor(rand() * chans.length)];
      if (r < 0.28) {
        const id = take();
        try {
          await c.send(message(id));
          fate(id, 2);
        } catch (e) {
          failed(id, e);
        }
      } else if (r < 0.38) {
        const id = take();
        try {
          fate(id, c.trySend(message(id)) ? 2 : 5);
        } catch (e) {
          failed(id, e);
        }
      } else if (r < 0.58) {
        const id = take();
        const withDefault = rand() < 0.4;
        const cases = [{ send: c, value: message(id) }, { recv: chans[Math.floor(rand() * chans.length)] }];
        if (!withDefault) cases.push({ recv: rt.after(rand() * 2) });
        try {
          const res = await rt.select(cases, { default: withDefault });
          if (res.index === 0) fate(id, 2);
          else {
            fate(id, 5);
            if (res.index === 1 && res.ok) got(res.value);
          }
        } catch (e) {
          failed(id, e);
        }
      } else if (r < 0.68) {
        const res = c.tryRecv();
        if (res && res.ok) got(res.value);
      } else if (r < 0.83) {
        const res = await rt.select([{ recv: c }, { recv: rt.after(rand() * 3) }]);
        if (res.index === 0 && res.ok) got(res.value);
      } else if (r < 0.9) {
        await rt.sleep(rand() * 2);
      } else if (r < 0.98) {
        await rt.gosched();
      } else if (ops > 0 && op > ops / 2 && rand() < 0.15) {
        // Rarely, late in a finite run: an early close (later sends get a ChannelError).
        try {
          c.close();
          closes++;
        } catch (e) {
          if (e.name !== 'ChannelError') throw e;
        }
      }
    }
  } finally {
    if (log.f.length + log.r.length) await flush();
  }
  return { closes, ids: next };
}

/** Go's idiom: select over every open channel until all are closed and drained. */
async function drainer(rt, chans, report) {
  const open = chans.slice();
  let n = 0;
  let batch = [];
  while (open.some((c) => c)) {
    const r = await rt.select(open.map((c) => ({ recv: c })));
    if (!r.ok) {
      open[r.index] = null;
      continue;
    }
    const v = r.value;
    if (!v || !(v.pad instanceof Uint8Array) || v.pad.length !== v.n) throw new Error('a corrupted message');
    batch.push(v.id);
    n++;
    if (batch.length >= 64 || !open.some((c) => c)) {
      await report.send({ f: [], r: batch });
      batch = [];
    }
  }
  if (batch.length) await report.send({ f: [], r: batch });
  return { drained: n };
}

/**
 * A wait group of children incrementing a counter under a mutex. The counter lives in `cell`, a
 * channel of capacity 1: the holder of the lock takes it out with `tryRecv`, yields, and puts
 * it back; without mutual exclusion a second holder would find the cell empty.
 */
async function syncWork(rt, children, perChild, mu, cell) {
  async function child(rt, perChild, mu, wg, cell) {
    for (let k = 0; k < perChild; k++) {
      await mu.lock();
      const x = cell.tryRecv();
      if (!x?.ok) throw new Error('the mutex let two goroutines in: the counter cell was empty');
      if (k % 2 === 0) await rt.gosched();
      if (!cell.trySend(x.value + 1)) throw new Error('the mutex let two goroutines in: the counter cell was full');
      mu.unlock();
    }
    wg.done();
  }
  const wg = rt.waitGroup();
  wg.add(children);
  const gs = [];
  for (let i = 0; i < children; i++) gs.push(rt.go(child, perChild, mu, wg, cell));
  await wg.wait();
  for (const g of gs) await g.join();
  return { increments: children * perChild };
}

/** Timers: two `after`s raced in a select, each delivering exactly once, and sleeps. */
async function timerWork(rt, seed, n) {
  let s = seed >>> 0;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  let fired = 0;
  for (let i = 0; i < n; i++) {
    const a = rt.after(rand() * 3);
    const b = rt.after(rand() * 3);
    for (let got = 0; got < 2; got++) {
      const r = await rt.select([{ recv: a }, { recv: b }]);
      if (!r.ok) throw new Error('a timer channel was closed');
      fired++;
    }
    if (a.tryRecv()?.ok || b.tryRecv()?.ok) throw new Error('a timer delivered twice');
    await rt.sleep(rand() * 2);
  }
  return { fired };
}

/** A JS goroutine that holds its Worker: a busy loop of `ms`. */
function hog(rt, ms) {
  const t = performance.now();
  let spins = 0;
  while (performance.now() - t < ms) spins++;
  return { spins: spins > 0 ? 1 : 0 };
}

/** Fills a channel with 1 MiB values until the heap limit refuses one, holds them, reads them back. */
async function pressure(rt, ms) {
  const ch = rt.chan(64);
  let n = 0;
  let refused = null;
  while (n < 64) {
    try {
      await ch.send(new Uint8Array(1 << 20).fill(n & 255));
      n++;
    } catch (e) {
      if (e.name !== 'RangeError') throw e;
      refused = e.message;
      break;
    }
  }
  await rt.sleep(ms);
  for (let i = 0; i < n; i++) {
    const v = await ch.recv();
    if (!(v instanceof Uint8Array) || v.length !== 1 << 20 || v[0] !== (i & 255) || v[v.length - 1] !== (i & 255))
      throw new Error(`pressure: value ${i} of ${n} came back wrong`);
  }
  return { filled: n, refused };
}

/** Closes this goroutine's Worker (a killed M). */
async function killWorker(rt) {
  await rt.sleep(1);
  self.close();
  await rt.sleep(1000);
  return 'survived its Worker';
}

// ------------------------------------------------------------------ a round

function draw(rand, faults) {
  const kinds = [
    ['chatter', 40],
    ['sync', faults.killWorker ? 0 : 14],
    ['timers', 10],
    ['throw', faults.throw ? 4 : 0],
    ['hog', faults.hog ? 8 : 0],
    ['pressure', faults.pressure ? 6 : 0],
    ['kill', faults.killWorker ? 3 : 0],
  ];
  const total = kinds.reduce((a, [, w]) => a + w, 0);
  let x = rand() * total;
  for (const [k, w] of kinds) if ((x -= w) < 0) return k;
  return 'chatter';
}

const TYPED = new Set(['GoroutineError', 'ShutdownError', 'RangeError']);

/**
 * One round. Options: `seed`, `phase` ('drained' | 'shutdown'), `faults` (over FAULTS),
 * `procs` (default 1 to 3 from the seed), `heapLimit` (default 12 MiB).
 */
export async function round({ seed, phase = 'drained', faults = {}, procs, heapLimit = 12 << 20 }) {
  const fx = { ...FAULTS, ...faults };
  const rand = mulberry32(seed ^ (phase === 'shutdown' ? 0x5d5d : 0));
  procs ??= 1 + Math.floor(rand() * 3);
  const problems = [];
  const problem = (s) => problems.length < 40 && problems.push(s);
  const rt = await Runtime.start({ procs, heapLimit });
  const openEnded = phase === 'shutdown';
  const chans = Array.from({ length: 2 + Math.floor(rand() * 3) }, () =>
    rt.chan([0, 0, 1, 3, 8][Math.floor(rand() * 5)]),
  );
  const mu = rt.mutex();
  const cell = rt.chan(1);
  cell.trySend(0);
  // The page's ledger: fate and receive count by id, from the senders' and receivers' logs.
  const fate = new Map();
  const recv = new Map();
  const apply = ({ f, r }) => {
    for (let i = 0; i < f.length; i += 2) fate.set(f[i], f[i + 1]);
    for (const id of r) recv.set(id, (recv.get(id) ?? 0) + 1);
  };
  const report = rt.chan(256);
  const collector = (async () => {
    try {
      for await (const batch of report) apply(batch);
    } catch (e) {
      if (!(openEnded && e?.name === 'ShutdownError')) problem(`report channel: ${e}`);
    }
  })();
  const ops = openEnded ? -1 : 100 + Math.floor(rand() * 300);
  const n = 6 + Math.floor(rand() * 10);
  const workers = [];
  let rtClosing = false;
  let who = 1;
  // Every join, counted as it settles (once: a second settlement would be a bug of the promise).
  // `who`: a chatter's sender number, the high part of its message ids (`take`).
  const track = (kind, g, who) => {
    const rec = { kind, id: g.id, who, settles: 0, value: undefined, error: undefined };
    const p = g.join();
    if (g.join() !== p) problem(`goroutine ${g.id}: join() returned another promise`);
    rec.done = p.then(
      (v) => {
        rec.settles++;
        rec.value = v;
      },
      (e) => {
        rec.settles++;
        rec.error = { name: e?.name, message: String(e?.message), cause: e?.cause?.message };
        rec.killed = e?.cause?.name === 'WorkerError';
        if (rec.killed && kind !== 'kill') lostLogs++;
        if (kind === 'drainer' && rec.killed && !rtClosing) {
          track('drainer', rt.go(drainer, chans, report));
        }
      },
    );
    workers.push(rec);
    return rec;
  };
  // Waits until every goroutine that `pick` selects has settled, those started meanwhile too.
  const settled = async (pick) => {
    for (let w; (w = workers.filter((r) => pick(r) && !r.settles)).length;) await Promise.all(w.map((r) => r.done));
  };
  // Goroutines whose Worker died: their logs of fates and receives died with them.
  let lostLogs = 0;
  const drainers = openEnded ? 1 : 1 + Math.floor(rand() * 2);
  for (let i = 0; i < drainers; i++) track('drainer', rt.go(drainer, chans, report));
  let expectedIncrements = 0;
  const spawnOne = (kind, sub) => {
    switch (kind) {
      case 'chatter':
      case 'throw': {
        const id = who++;
        return track(kind, rt.go(chatter, id, sub, ops, chans, report, kind === 'throw' ? 'throw' : null), id);
      }
      case 'sync': {
        const c = 1 + Math.floor(rand() * 5);
        const per = 1 + Math.floor(rand() * 8);
        expectedIncrements += c * per;
        return track(kind, rt.go(syncWork, c, per, mu, cell));
      }
      case 'timers':
        return track(kind, rt.go(timerWork, sub, 3 + Math.floor(rand() * 8)));
      case 'hog':
        return track(kind, rt.go(hog, 2 + Math.floor(rand() * 25)));
      case 'pressure':
        return track(kind, rt.go(pressure, Math.floor(rand() * 5)));
      case 'kill':
        return track(kind, rt.go(killWorker));
    }
  };
  for (let i = 0; i < n; i++) spawnOne(draw(rand, fx), (seed * 7919 + i * 104729) >>> 0);
  if (openEnded) spawnOne('chatter', (seed ^ 0xabcdef) >>> 0);
  // The page takes part: its own sends and receives, goroutines started mid-run, collections.
  const pageSeed = (seed * 31 + 17) >>> 0;
  const pageWork = (async () => {
    try {
      return await chatter(rt, 0, pageSeed, openEnded ? -1 : 150, chans, { send: async (b) => apply(b) }, null);
    } catch (e) {
      if (!(openEnded && e?.name === 'ShutdownError')) problem(`the page's chatter: ${e?.name}: ${e?.message}`);
      return { closes: 0, cut: e?.name };
    }
  })();
  const extra = (async () => {
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 5 + rand() * 30));
      if (rtClosing) return;
      if (fx.gc) await rt.gc().catch((e) => e?.name === 'ShutdownError' || problem(`rt.gc(): ${e}`));
      if (rtClosing) return;
      if (fx.resize) {
        const n = 1 + Math.floor(rand() * 3);
        await rt.setProcs(n).catch((e) => e?.name === 'ShutdownError' || problem(`rt.setProcs(${n}): ${e}`));
        if (rtClosing) return;
      }
      spawnOne(draw(rand, fx), (pageSeed + i) >>> 0);
    }
  })();
  const summary = { seed, phase, procs, chans: chans.map((c) => c.cap) };

  if (!openEnded) {
    const page = await pageWork;
    await extra;
    // Everything but the drainers finishes; then the page closes what is still open.
    const notDrainer = (w) => w.kind !== 'drainer';
    await settled(notDrainer);
    let closes = page.closes;
    for (const w of workers.filter(notDrainer)) closes += w.value?.closes ?? 0;
    for (const c of chans) {
      try {
        c.close();
        closes++;
      } catch (e) {
        if (e.name !== 'ChannelError') problem(`close: ${e}`);
      }
    }
    await settled(() => true);
    report.close();
    await collector;
    // A join whose result did not fit under the heap limit rejects with a RangeError: its
    // report (its closes) is lost, so the count is exact only without one.
    const lostReports = workers.some((w) => w.error?.name === 'RangeError');
    if (closes !== chans.length && !lostReports && !lostLogs)
      problem(`${closes} successful closes of ${chans.length} channels`);
    for (const w of workers) {
      if (w.settles !== 1) problem(`goroutine ${w.id} (${w.kind}) settled ${w.settles} times`);
      const killed = w.killed;
      if (w.kind === 'throw' && !killed) {
        if (w.error?.name !== 'GoroutineError' || !/injected throw/.test(w.error.message + w.error.cause))
          problem(`goroutine ${w.id} (throw): ${JSON.stringify(w.error ?? w.value)}`);
      } else if (w.kind === 'kill') {
        if (w.error?.name !== 'GoroutineError')
          problem(`goroutine ${w.id} (kill): ${JSON.stringify(w.error ?? w.value)}`);
      } else if (w.error?.name === 'RangeError' && /heap limit/.test(w.error.message)) {
        // its result did not fit: a typed refusal; only the result is lost
      } else if (w.error && !killed) problem(`goroutine ${w.id} (${w.kind}) failed: ${JSON.stringify(w.error)}`);
      if (w.kind === 'pressure' && w.value && (w.value.refused === null || !/heap limit/.test(w.value.refused)))
        problem(`pressure never reached the heap limit: ${JSON.stringify(w.value)}`);
    }
    const counter = cell.tryRecv();
    if (!fx.killWorker && !(counter?.ok && counter.value === expectedIncrements))
      problem(`mutex-protected counter ${JSON.stringify(counter)}, expected ${expectedIncrements}`);
    const counts = {};
    for (const [id, f] of fate) {
      const got = recv.get(id) ?? 0;
      counts[FATE_NAMES[f]] = (counts[FATE_NAMES[f]] ?? 0) + 1;
      if (f === F.SENT && got !== 1 && !(got === 0 && lostLogs)) problem(`message ${id}: sent, received ${got} times`);
      else if (f !== F.SENT && f !== F.OFFERED && got !== 0)
        problem(`message ${id}: ${FATE_NAMES[f]}, received ${got} times`);
      else if (f === F.OFFERED && !fx.killWorker) problem(`message ${id}: left OFFERED after its sender finished`);
    }
    // A sender whose Worker died took the fates it had not reported yet with it.
    const killedSenders = new Set(workers.filter((w) => w.killed && w.who !== undefined).map((w) => w.who));
    for (const id of recv.keys())
      if (!fate.has(id) && !killedSenders.has(Math.floor(id / 2 ** 20))) problem(`message ${id}: received, never sent`);
    if (chans.some((c) => c.len !== 0)) problem(`channels left with values: ${chans.map((c) => c.len)}`);
    await rt.shutdown();
    Object.assign(summary, {
      workers: workers.length,
      kinds: countKinds(workers),
      messages: counts,
      increments: counter?.value,
      pressure: workers.filter((w) => w.kind === 'pressure').map((w) => w.value?.filled),
    });
    return { problems, summary };
  }

  // Shutdown phase: wait for traffic, then cut everything off.
  const want = 30 + Math.floor(rand() * 300);
  const t0 = performance.now();
  while (recv.size < want && performance.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 2));
  if (recv.size < want) problem(`only ${recv.size} of ${want} messages received before the shutdown, in 30 s`);
  rtClosing = true;
  // The page's receives, pending as the runtime shuts down.
  const pending = chans.map((c, i) =>
    c.recv().then(
      (v) => v && apply({ f: [], r: [v.id] }),
      (e) => {
        if (e?.name !== 'ShutdownError') problem(`page recv ${i} during shutdown: ${e}`);
      },
    ),
  );
  await rt.shutdown();
  await Promise.all(pending);
  await pageWork;
  await extra;
  await collector;
  const all = Promise.all(workers.map((w) => w.done));
  const late = await Promise.race([all.then(() => false), new Promise((r) => setTimeout(() => r(true), 5000))]);
  if (late)
    problem(
      `joins not settled 5 s after shutdown: ${workers.filter((w) => !w.settles).map((w) => `${w.id} (${w.kind})`)}`,
    );
  const outcomes = {};
  for (const w of workers) {
    if (w.settles > 1) problem(`goroutine ${w.id} (${w.kind}) settled ${w.settles} times`);
    const name = w.error ? w.error.name : 'value';
    outcomes[name] = (outcomes[name] ?? 0) + 1;
    if (w.error && !TYPED.has(w.error.name))
      problem(`goroutine ${w.id} (${w.kind}): untyped ${JSON.stringify(w.error)}`);
    if (w.error?.name === 'GoroutineError' && !['throw', 'kill'].includes(w.kind) && !fx.killWorker)
      problem(`goroutine ${w.id} (${w.kind}) failed: ${JSON.stringify(w.error)}`);
  }
  const counts = {};
  for (const [id, f] of fate) {
    const got = recv.get(id) ?? 0;
    counts[FATE_NAMES[f]] = (counts[FATE_NAMES[f]] ?? 0) + 1;
    if ((f === F.RETURNED || f === F.REFUSED || f === F.KEPT || f === F.CANCELLED) && got !== 0)
      problem(`message ${id}: ${FATE_NAMES[f]} but received ${got} times`);
  }
  for (const [id, got] of recv) if (got > 1) problem(`message ${id}: received ${got} times`);
  Object.assign(summary, {
    workers: workers.length,
    kinds: countKinds(workers),
    joins: outcomes,
    messages: counts,
    received: recv.size,
  });
  return { problems, summary };
}

function countKinds(workers) {
  const k = {};
  for (const w of workers) k[w.kind] = (k[w.kind] ?? 0) + 1;
  return k;
}
