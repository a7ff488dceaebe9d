// "Launch burst": one goroutine spawns many CPU-bound children and joins them, so the run
// queues fill and idle Ps steal. The page only awaits the result and keeps drawing.

import { byId, clock, el, fmtInt, fmtMs } from './dom.js';

export const BURST = { children: 64, n: 27 };

/** The burst's parent goroutine (shipped by source: everything it needs is inside). */
async function burst(rt, children, n) {
  function child(rt, n) {
    function fib(n) {
      return n < 2 ? n : fib(n - 1) + fib(n - 2);
    }
    return { value: fib(n), proc: rt.procid() };
  }
  const handles = [];
  for (let i = 0; i < children; i++) handles.push(rt.go(child, n));
  const results = await Promise.all(handles.map((g) => g.join()));
  return {
    sum: results.reduce((acc, r) => acc + r.value, 0),
    procs: results.map((r) => r.proc),
    parentProc: rt.procid(),
  };
}

function fib(n) {
  let [a, b] = [0, 1];
  for (let i = 0; i < n; i++) [a, b] = [b, a + b];
  return a;
}

export function mountBurst(rt, poller, { onError }) {
  const root = byId('burst');
  const button = byId('burst-button');
  const result = byId('burst-result');
  const { children, n } = BURST;
  const expected = children * fib(n);
  byId('burst-description').textContent =
    `One goroutine spawns ${children} children, each computing fib(${n}) recursively, and joins them all.`;

  // The longest gap between two frames while a burst runs: the page never blocks, so it stays
  // near one frame however busy the workers are.
  let longestFrame = 0;
  let lastFrame = 0;
  let start = 0;
  let elapsed = null; // the elapsed-time cell while a burst runs
  poller.subscribe((_, now) => {
    if (root.dataset.state === 'running') {
      if (lastFrame) longestFrame = Math.max(longestFrame, now - lastFrame);
      if (elapsed) elapsed.textContent = `${fmtMs(clock() - start)} ms`;
    }
    lastFrame = now;
  });

  function show(rows) {
    result.replaceChildren(
      ...rows.map(([key, label, value, note, wide]) =>
        el(
          'div',
          { class: wide ? 'result wide' : 'result' },
          el('dt', {}, label),
          el('dd', { dataset: { testid: `burst-${key}` } }, value),
          note ? el('span', { class: 'note muted' }, note) : '',
        ),
      ),
    );
  }

  async function launch() {
    button.disabled = true;
    button.textContent = 'Running…';
    root.dataset.state = 'running';
    longestFrame = 0;
    show([['elapsed', 'elapsed', '0.0 ms', 'running…']]);
    elapsed = result.querySelector('[data-testid="burst-elapsed"]');
    const before = poller.sample().sched;
    start = clock();
    try {
      const out = await rt.go(burst, children, n).join();
      const took = clock() - start;
      elapsed = null;
      const after = poller.sample().sched;
      const perProc = Array.from(after.runs, (_, i) => out.procs.filter((p) => p === i).length);
      show([
        ['elapsed', 'elapsed', `${fmtMs(took)} ms`],
        [
          'sum',
          'sum',
          fmtInt(out.sum),
          out.sum === expected ? `= ${children} × fib(${n}) ✓` : `expected ${fmtInt(expected)}`,
        ],
        [
          'steals',
          'steals',
          fmtInt(after.steals - before.steals),
          `${fmtInt(after.stolen - before.stolen)} goroutines moved`,
        ],
        ['spread', 'children ran on', perProc.map((c, i) => `P${i} ×${c}`).join(' · '), '', perProc.length > 4],
        ['frame', 'longest frame', `${fmtMs(longestFrame)} ms`, longestFrame < 50 ? 'the page kept drawing' : ''],
      ]);
      root.dataset.state = 'done';
    } catch (err) {
      elapsed = null;
      root.dataset.state = 'error';
      show([['error', 'failed', err.message]]);
      onError(err);
    } finally {
      button.disabled = false;
      button.textContent = 'Launch burst';
    }
  }

  button.addEventListener('click', launch);
  button.disabled = false;
  return { launch };
}
