// The scheduler view: runtime-wide totals and one card per P, refreshed every frame.

import { byId, el, fmtInt, setText } from './dom.js';

const RUNQ_CAPACITY = 256; // slots in a P's local run queue ring
const BUCKET_MS = 100; // the activity chart's resolution
const HISTORY = 60; // buckets kept: 6 s
const ACTIVE_MS = 300; // a P that ran a goroutine this recently is shown as active
const PEAK_BUCKETS = 20; // the run-queue peak marker remembers 2 s

const TOTALS = [
  ['goroutines', 'goroutines', 'live goroutines: spawned − completed', (s) => s.goroutines],
  ['spawned', 'spawned', "goroutines started, the runtime's own helpers included", (s) => s.sched.spawned],
  ['completed', 'completed', 'goroutines finished', (s) => s.sched.completed],
  ['globalQueue', 'global queue', 'runnable goroutines in the global run queue', (s) => s.sched.globalQueue],
  ['idleProcs', 'idle Ps', 'Ps whose M is parked for lack of work', (s) => `${s.sched.idleProcs} / ${s.procs}`],
  ['spinning', 'spinning Ms', 'Ms looking for work before they park', (s) => s.sched.spinning],
  ['steals', 'steals', "successful steals from another P's run queue", (s) => s.sched.steals],
  ['stolen', 'stolen', 'goroutines moved by those steals', (s) => s.sched.stolen],
];

const PROC_FIELDS = [
  ['steals', 'steals', 'times this P stole from another', (s, i) => s.sched.stealsByProc[i]],
  ['stolen', 'stolen', 'goroutines other Ps took from this one', (s, i) => s.sched.stolenByProc[i]],
  ['parks', 'parks', 'times its M went to sleep for lack of work', (s, i) => s.sched.parksByProc[i]],
];

export function mountScheduler(poller, procs) {
  const totals = buildTotals(byId('totals'));
  const cards = Array.from({ length: procs }, (_, i) => new ProcCard(i));
  byId('procs').replaceChildren(...cards.map((c) => c.root));

  let bucketStart = 0;
  poller.subscribe((stats, now) => {
    for (const [key, , , get] of TOTALS) setText(totals[key], fmtValue(get(stats)));
    const closeBucket = now - bucketStart >= BUCKET_MS;
    if (closeBucket) bucketStart = now;
    cards.forEach((card) => card.update(stats, now, closeBucket));
  });
}

function fmtValue(v) {
  return typeof v === 'number' ? fmtInt(v) : v;
}

function buildTotals(dl) {
  const values = {};
  dl.replaceChildren(
    ...TOTALS.map(([key, label, title]) => {
      values[key] = el('dd', { dataset: { testid: `total-${key}` } }, '0');
      return el('div', { class: 'total', title }, el('dt', {}, label), values[key]);
    }),
  );
  return values;
}

class ProcCard {
  constructor(index) {
    this.index = index;
    this.lastRuns = 0;
    this.lastRunAt = -Infinity;
    this.bucketRuns = 0; // runs counter at the start of the open bucket
    this.bucketRunq = 0; // deepest run queue seen in the open bucket
    this.history = []; // [{ runs, runq }] per closed bucket, oldest first

    this.state = el('span', { class: 'proc-state' }, 'idle');
    this.runs = el('span', { class: 'proc-runs', dataset: { field: 'runs', testid: 'proc-runs' } }, '0');
    this.runq = el('span', { class: 'runq-value', dataset: { field: 'runq', testid: 'proc-runq' } }, '0');
    this.runqFill = el('span', { class: 'meter-fill' });
    this.runqPeak = el('span', { class: 'meter-peak' });
    this.fields = {};
    this.chart = el('canvas', { class: 'spark', 'aria-hidden': 'true' });

    this.root = el(
      'article',
      { class: 'proc', dataset: { testid: 'proc-card', proc: index } },
      el(
        'header',
        { class: 'proc-head' },
        el('h3', {}, `P${index}`),
        el('span', { class: 'muted' }, `worker M${index}`),
        this.state,
      ),
      el('div', { class: 'proc-main' }, this.runs, el('span', { class: 'muted' }, 'goroutines run')),
      el(
        'div',
        { class: 'runq', title: `local run queue (${RUNQ_CAPACITY} slots); the tick marks the peak of the last 2 s` },
        el('span', { class: 'muted' }, 'run queue'),
        el('span', { class: 'meter' }, this.runqFill, this.runqPeak),
        this.runq,
      ),
      el(
        'dl',
        { class: 'proc-fields' },
        ...PROC_FIELDS.map(([key, label, title]) => {
          this.fields[key] = el('dd', { dataset: { field: key, testid: `proc-${key}` } }, '0');
          return el('div', { title }, el('dt', {}, label), this.fields[key]);
        }),
      ),
      el(
        'div',
        { class: 'spark-wrap', title: `goroutines run per ${BUCKET_MS} ms, last ${(HISTORY * BUCKET_MS) / 1000} s` },
        this.chart,
      ),
    );
  }

  update(stats, now, closeBucket) {
    const i = this.index;
    const runs = stats.sched.runs[i];
    const runq = stats.sched.runq[i];
    if (runs !== this.lastRuns) {
      this.lastRuns = runs;
      this.lastRunAt = now;
    }
    this.bucketRunq = Math.max(this.bucketRunq, runq);
    if (closeBucket) {
      this.history.push({ runs: runs - this.bucketRuns, runq: this.bucketRunq });
      if (this.history.length > HISTORY) this.history.shift();
      this.bucketRuns = runs;
      this.bucketRunq = runq;
      this.draw();
    }

    setText(this.runs, fmtInt(runs));
    setText(this.runq, runq);
    this.runqFill.style.width = `${Math.min(100, (runq / RUNQ_CAPACITY) * 100)}%`;
    const peak = Math.max(this.bucketRunq, ...this.history.slice(-PEAK_BUCKETS).map((b) => b.runq));
    this.runqPeak.style.left = `${Math.min(100, (peak / RUNQ_CAPACITY) * 100)}%`;
    this.runqPeak.hidden = peak === 0;
    for (const [key, , , get] of PROC_FIELDS) setText(this.fields[key], fmtInt(get(stats, i)));

    const active = now - this.lastRunAt < ACTIVE_MS || runq > 0;
    this.root.classList.toggle('active', active);
    setText(this.state, active ? 'active' : 'idle');
  }

  draw() {
    const canvas = this.chart;
    const dpr = devicePixelRatio || 1;
    const width = Math.round(canvas.clientWidth * dpr);
    const height = Math.round(canvas.clientHeight * dpr);
    if (!width || !height) return;
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    const ctx = canvas.getContext('2d');
    ctx.clearRect(0, 0, width, height);
    ctx.fillStyle = getComputedStyle(canvas).color;
    const max = Math.max(4, ...this.history.map((b) => b.runs));
    const slot = width / HISTORY;
    const offset = HISTORY - this.history.length;
    this.history.forEach((b, k) => {
      if (!b.runs) return;
      const h = Math.max(dpr, (b.runs / max) * (height - dpr));
      ctx.fillRect((offset + k) * slot + dpr / 2, height - h, Math.max(dpr, slot - dpr), h);
    });
  }
}
