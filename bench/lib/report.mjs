// Medians over repetitions and the side-by-side tables (markdown).
//
// Metric names are exactly those printed by the anchor's bench.go; round 2 of a
// process carries the suffix "@r2" (warm), round 1 none (cold).

export const WORKLOADS = [
  'spawn',
  'pingpong',
  'fib',
  'pipeline',
  'select',
  'timers',
  'sleep1',
  'gc',
  'gcparallel',
  'hog',
];

const gcRows = (w) => [
  [`${w}.wall`, 'ms'],
  [`${w}.num_gc`, 'count'],
  [`${w}.pause_total`, 'ms'],
  [`${w}.pause_max`, 'ms'],
  [`${w}.heap_sys_peak`, 'MiB'],
  [`${w}.heap_inuse_peak`, 'MiB'],
  [`${w}.heap_alloc_peak`, 'MiB'], // gort only: allocated bytes (Go's HeapAlloc) at the same samples
];

/** Rows of the round tables, in order: [name, unit]. (`*.wall` of the per-op workloads stays in results.json.) */
export const METRICS = [
  ['spawn', 'ns/goroutine'],
  ['pingpong', 'ns/roundtrip'],
  ['fib.par_wall', 'ms'],
  ['fib.seq_wall', 'ms'],
  ['fib.speedup', 'x'],
  ['fib.control_speedup', 'x'], // gort only: plain threads / Workers, 2 vs 1, same process
  ['pipeline', 'ns/item'],
  ['select', 'ns/msg'],
  ['timers.wall', 'ms'],
  ['timers.late_mean', 'ms'],
  ['timers.late_p50', 'ms'],
  ['timers.late_p99', 'ms'],
  ['timers.late_max', 'ms'],
  ['sleep1.mean', 'ms/sleep'],
  ...gcRows('gc'),
  ...gcRows('gcparallel'),
  ['gcparallel.speedup', 'x'],
  ['gcparallel.control_speedup', 'x'],
  // hog (bench/README.md): a JS goroutine (Go: a goroutine) busy-looping 3 s on one of 2 Ps
  ['hog.join_p50', 'ms'],
  ['hog.join_p99', 'ms'],
  ['hog.gc_wall', 'ms'],
  ['hog.timer_p99', 'ms'],
  ['hog.handoff', 'ms'],
  ['hog.handoff_moved', 'bool'],
  ['hog.retake_1p', 'ms'],
  ['hog.shutdown', 'ms'],
  ['hog.kill_recover', 'ms'],
];

/**
 * Figures computed from two metrics of the same configuration, repetition and round (the
 * two may come from different processes): [name, unit, numerator, denominator].
 */
export const DERIVED = [['gcparallel.speedup', 'x', 'gc.wall', 'gcparallel.wall']];
const KNOWN = new Set([
  ...METRICS.map(([n]) => n),
  'spawn.wall',
  'pingpong.wall',
  'pipeline.wall',
  'select.wall',
  'timers.late_min',
  'sleep1.late_mean',
]);

/** Columns: key in the medians, header. */
export const CONFIGS = [
  ['gort-chromium', 'gort chromium'],
  ['go-wasm-chromium', 'Go wasm chromium'],
  ['gort-native', 'gort native'],
  ['go-native-p2', 'Go native P=2'],
  ['go-native-p1', 'Go native P=1'],
];

export const ROUNDS = [
  ['cold', '', 'Cold: round 1 in a fresh process / fresh browser'],
  ['warm', '@r2', 'Warm: round 2 in the same process (code compiled, heap grown)'],
];

/** Metric names that describe the environment rather than a workload. */
export const isMeta = (name) => /^(meta|size|page|runner|host)\./.test(name) || name === 'done';
export const baseName = (name) => name.replace(/@r\d+$/, '');
export const workloadOf = (name) => baseName(name).split('.')[0];

/** Targets for gort in Chromium on 2 cores (from the issue). check -> true | false | undefined. */
export const TARGETS = {
  'fib.speedup': { text: '≥ 1.8', check: (v) => v >= 1.8 },
  spawn: { text: '≤ 1000 ns', check: (v) => v <= 1000 },
  pingpong: { text: '≤ 600 ns', check: (v) => v <= 600 },
  pipeline: { text: '≤ 400 ns', check: (v) => v <= 400 },
  select: { text: '≤ 600 ns', check: (v) => v <= 600 },
  'sleep1.mean': { text: '≤ 1.3 ms', check: (v) => v <= 1.3 },
  'timers.late_p99': { text: '≤ 5 ms', check: (v) => v <= 5 },
  'gc.wall': thirdOfGoWasm('gc.wall'),
  'gc.pause_max': { text: '≤ 1 ms', check: (v) => v <= 1 },
  'gcparallel.wall': thirdOfGoWasm('gcparallel.wall'),
  'gcparallel.pause_max': { text: '≤ 1 ms', check: (v) => v <= 1 },
  'gcparallel.speedup': { text: '≥ 1.7', check: (v) => v >= 1.7 },
  'hog.join_p50': { text: '≤ 20 ms', check: (v) => v <= 20 },
  'hog.gc_wall': { text: '≤ 5 ms', check: (v) => v <= 5 },
  'hog.timer_p99': { text: '≤ 5 ms', check: (v) => v <= 5 },
  'hog.handoff': { text: '≤ 15 ms', check: (v) => v <= 15 },
  'hog.retake_1p': { text: '≤ 15 ms', check: (v) => v <= 15 },
  'hog.shutdown': { text: '≤ 150 ms', check: (v) => v <= 150 },
  'hog.kill_recover': { text: '≤ 300 ms', check: (v) => v <= 300 },
};

/** The target "at most a third of Go's wasm port in the same Chromium" for metric `name`. */
function thirdOfGoWasm(name) {
  const go = (at) => at('go-wasm-chromium', name);
  return {
    text: '≤ Go wasm ÷ 3',
    check: (v, at) => (go(at) == null ? undefined : v <= go(at) / 3),
    detail: (at) => (go(at) == null ? '' : ` (${fmt(go(at) / 3)})`),
  };
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * runs: [{ config, workload, rep, metrics: [{name, value, unit}] }]
 * -> { [config]: { [name]: { median, min, max, n, unit, values } } }
 * Only a run's own workload's metrics (plus environment lines) are taken; the DERIVED
 * figures are computed per repetition, then aggregated like the others.
 */
export function aggregate(runs) {
  const acc = {};
  const byRep = {}; // config -> rep -> name -> value
  const add = (config, name, unit, value) => ((acc[config] ??= {})[name] ??= { unit, values: [] }).values.push(value);
  for (const run of runs) {
    for (const m of run.metrics ?? []) {
      if (!isMeta(m.name) && workloadOf(m.name) !== run.workload) continue;
      if (!Number.isFinite(m.value)) {
        // A figure that could not be taken: its unit says why ("did not settle in 2 s").
        if (typeof m.unit === 'string' && m.unit)
          ((acc[run.config] ??= {})[m.name] ??= { unit: m.unit, values: [] }).note = m.unit;
        continue;
      }
      add(run.config, m.name, m.unit, m.value);
      ((byRep[run.config] ??= {})[run.rep] ??= {})[m.name] = m.value;
    }
  }
  for (const [config, reps] of Object.entries(byRep)) {
    for (const values of Object.values(reps)) {
      for (const [name, unit, num, den] of DERIVED) {
        for (const [, suffix] of ROUNDS) {
          const a = values[num + suffix];
          const b = values[den + suffix];
          if (a != null && b) add(config, name + suffix, unit, a / b);
        }
      }
    }
  }
  for (const c of Object.values(acc)) {
    for (const e of Object.values(c)) {
      if (!e.values.length) {
        e.median = NaN;
        e.n = 0;
        continue;
      }
      e.median = median(e.values);
      e.min = Math.min(...e.values);
      e.max = Math.max(...e.values);
      e.n = e.values.length;
    }
  }
  return acc;
}

export function fmt(v) {
  if (v == null || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (Number.isInteger(v) || a >= 1000) return String(Math.round(v));
  if (a >= 0.001) return v.toPrecision(4);
  return v.toExponential(2);
}

function cell(e, withSpread) {
  if (!e) return '–';
  if (!e.values.length && e.note) return e.note;
  let s = fmt(e.median);
  if (withSpread && e.n > 1 && e.median) {
    const pct = (100 * (e.max - e.min)) / 2 / Math.abs(e.median);
    if (pct >= 0.5) s += ` ±${pct.toFixed(0)}%`;
  }
  return s;
}

const ratio = (a, b) => (a == null || b == null || !b ? '–' : `${(a / b).toPrecision(3)}x`);

/** Rows for one round: the known metrics, then anything else gort reports. */
function roundRows(med, workloads, suffix) {
  const rows = METRICS.filter(([n]) => workloads.includes(workloadOf(n)));
  const extra = new Map();
  for (const key of ['gort-chromium', 'gort-native']) {
    for (const [name, e] of Object.entries(med[key] ?? {})) {
      if (isMeta(name) || !name.endsWith(suffix) || (suffix === '' && /@r\d+$/.test(name))) continue;
      const b = baseName(name);
      if (!KNOWN.has(b) && !extra.has(b)) extra.set(b, e.unit);
    }
  }
  const out = [...rows];
  for (const [n, u] of extra) {
    // place after the last row of the same workload
    let i = out.length;
    for (let j = 0; j < out.length; j++) if (workloadOf(out[j][0]) === workloadOf(n)) i = j + 1;
    out.splice(i, 0, [n, u]);
  }
  return out;
}

/**
 * One markdown table per round + target verdicts.
 * Returns { md, verdicts: { cold: [...], warm: [...] } }.
 */
export function roundTables(med, workloads, { withP1 = false, withSpread = false } = {}) {
  let md = '';
  const verdicts = {};
  for (const [round, suffix, title] of ROUNDS) {
    const at = (config, name) => med[config]?.[name + suffix]?.median;
    const head = [
      'metric',
      'unit',
      'gort chromium',
      'Go wasm chromium',
      'gort÷Go-wasm',
      'gort native',
      'Go native P=2',
      'gort÷Go-native',
    ];
    if (withP1) head.push('Go native P=1');
    head.push('target (chromium, 2 cores)', 'status');
    const lines = [
      `| ${head.join(' | ')} |`,
      `|${head.map((h, i) => (i < 2 || i >= head.length - 2 ? '---' : '---:')).join('|')}|`,
    ];
    verdicts[round] = [];
    for (const [name, unit] of roundRows(med, workloads, suffix)) {
      const get = (k) => med[k]?.[name + suffix];
      const gc = get('gort-chromium');
      const gn = get('gort-native');
      const goUnit = get('go-native-p2')?.unit ?? get('go-wasm-chromium')?.unit ?? unit;
      const gortCell = (e) =>
        e && e.unit !== goUnit && !e.note ? `${cell(e, withSpread)} ${e.unit}` : cell(e, withSpread);
      const row = [
        name,
        goUnit,
        gortCell(gc),
        cell(get('go-wasm-chromium'), withSpread),
        ratio(gc?.median, at('go-wasm-chromium', name)),
        gortCell(gn),
        cell(get('go-native-p2'), withSpread),
        ratio(gn?.median, at('go-native-p2', name)),
      ];
      if (withP1) row.push(cell(get('go-native-p1'), withSpread));
      const t = TARGETS[name];
      if (t) {
        const ok = gc ? t.check(gc.median, at) : undefined;
        const status = ok === undefined ? '–' : ok ? 'met' : '**missed**';
        row.push(t.text + (t.detail?.(at) ?? ''), status);
        verdicts[round].push({
          metric: name,
          target: t.text,
          value: gc?.median ?? null,
          status: ok === undefined ? 'not measured' : ok ? 'met' : 'missed',
        });
      } else row.push('', '');
      lines.push(`| ${row.join(' | ')} |`);
    }
    const v = verdicts[round];
    const met = v.filter((x) => x.status === 'met').length;
    const measured = v.filter((x) => x.status !== 'not measured').length;
    md += `### ${title}\n\n${lines.join('\n')}\n\nTargets met (${round}): ${met} of ${measured} measured (${v.length} defined for these workloads).\n\n`;
  }
  return { md, verdicts };
}

/** Environment / start-up / problem-size lines (round-less), one column per config. */
export function envTable(med, { withP1 = false } = {}) {
  const cols = CONFIGS.filter(([k]) => withP1 || k !== 'go-native-p1');
  const names = new Map();
  for (const [k] of cols)
    for (const [n, e] of Object.entries(med[k] ?? {}))
      if (isMeta(n) && n !== 'done' && !names.has(n)) names.set(n, e.unit);
  if (!names.size) return '';
  const order = (n) => ['size.', 'meta.', 'page.', 'runner.', 'host.'].findIndex((p) => n.startsWith(p));
  const sorted = [...names].sort((a, b) => order(a[0]) - order(b[0]) || a[0].localeCompare(b[0]));
  const head = ['name', 'unit', ...cols.map(([, h]) => h)];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`];
  for (const [n, u] of sorted) {
    const unitCell = n === 'meta.platform' ? 'platform' : u;
    const cells = cols.map(([k]) => {
      const e = med[k]?.[n];
      if (!e) return '–';
      return n === 'meta.platform' ? e.unit : fmt(e.median);
    });
    lines.push(`| ${n} | ${unitCell} | ${cells.join(' | ')} |`);
  }
  return `### Environment, start-up and problem sizes (medians over all processes)\n\n${lines.join('\n')}\n`;
}

/** size.* lines that gort and Go report differently (a workload of another size is not comparable). */
export function sizeMismatches(med) {
  const out = [];
  const go = { ...(med['go-wasm-chromium'] ?? {}), ...(med['go-native-p2'] ?? {}) };
  for (const k of ['gort-chromium', 'gort-native']) {
    for (const [n, e] of Object.entries(med[k] ?? {})) {
      if (n.startsWith('size.') && go[n] && go[n].median !== e.median)
        out.push(`${k} ${n} = ${e.median} but Go uses ${go[n].median}`);
    }
  }
  return out;
}
