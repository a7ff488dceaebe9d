// bench/lib/report.mjs: gcparallel's speedup row (derived per repetition from two processes'
// figures) and the binary-trees targets.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { aggregate, roundTables } from '../bench/lib/report.mjs';

const run = (config, workload, rep, metrics) => ({
  config,
  workload,
  rep,
  metrics: Object.entries(metrics).map(([name, value]) => ({ name, value, unit: 'ms' })),
});

test('gcparallel.speedup is gc wall / gcparallel wall of the same repetition and round', () => {
  const med = aggregate([
    run('gort-chromium', 'gc', 1, { 'gc.wall': 1200, 'gc.wall@r2': 1000 }),
    run('gort-chromium', 'gcparallel', 1, { 'gcparallel.wall': 600, 'gcparallel.wall@r2': 800 }),
    run('gort-chromium', 'gc', 2, { 'gc.wall': 900 }),
    run('gort-chromium', 'gcparallel', 2, { 'gcparallel.wall': 1000 }),
    run('gort-native', 'gc', 1, { 'gc.wall': 300 }), // no gcparallel run: no speedup
  ]);
  const s = med['gort-chromium']['gcparallel.speedup'];
  assert.deepEqual(s.values, [2, 0.9]);
  assert.equal(s.unit, 'x');
  assert.equal(med['gort-chromium']['gcparallel.speedup@r2'].median, 1.25);
  assert.equal(med['gort-native']['gcparallel.speedup'], undefined);
});

test('binary-trees targets: a third of Go wasm, 1 ms max pause, 1.7x speedup', () => {
  const med = aggregate([
    run('gort-chromium', 'gc', 1, { 'gc.wall': 1500, 'gc.pause_max': 0.8 }),
    run('gort-chromium', 'gcparallel', 1, { 'gcparallel.wall': 1000, 'gcparallel.pause_max': 1.2 }),
    run('go-wasm-chromium', 'gc', 1, { 'gc.wall': 4200 }),
    run('go-wasm-chromium', 'gcparallel', 1, { 'gcparallel.wall': 4800 }),
  ]);
  const { md, verdicts } = roundTables(med, ['gc', 'gcparallel']);
  const cold = Object.fromEntries(verdicts.cold.map((v) => [v.metric, v.status]));
  assert.deepEqual(cold, {
    'gc.wall': 'missed', // 1500 > 4200 / 3
    'gc.pause_max': 'met',
    'gcparallel.wall': 'met', // 1000 <= 4800 / 3
    'gcparallel.pause_max': 'missed',
    'gcparallel.speedup': 'missed', // 1.5
  });
  assert.match(md, /\| gcparallel\.speedup \| x \| 1\.500 \| 0\.8750 \|/);
});

test('hog: a figure that could not be taken shows why, and misses its target', () => {
  const med = aggregate([
    {
      config: 'gort-chromium',
      workload: 'hog',
      rep: 1,
      metrics: [
        { name: 'hog.gc_wall', value: 2, unit: 'ms' },
        { name: 'hog.shutdown', value: NaN, unit: 'did not settle in 2 s' },
      ],
    },
  ]);
  const { md, verdicts } = roundTables(med, ['hog']);
  assert.match(md, /\| hog\.shutdown \| ms \| did not settle in 2 s \|/);
  const v = Object.fromEntries(verdicts.cold.map((x) => [x.metric, x.status]));
  assert.equal(v['hog.gc_wall'], 'met');
  assert.equal(v['hog.shutdown'], 'missed');
});
