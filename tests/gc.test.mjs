import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { openPage, evalModule, close } from './harness.mjs';
after(close);
test('gc stats from js', async () => {
  const page = await openPage();
  const v = await evalModule(page, `
    const rt = await Runtime.start({ procs: 2, gcPercent: 100, heapLimit: 64 << 20 });
    try {
      await rt.gc();
      const s = rt.stats();
      let err; try { await Runtime.start({ heapLimit: -1 }); } catch (e) { err = e.name; }
      return { gc: s.gc, err };
    } finally { await rt.shutdown(); }
  `);
  console.log(JSON.stringify(v));
  assert.equal(v.gc.numGC >= 1, true);
  assert.equal(v.gc.numForcedGC >= 1, true);
  assert.equal(v.gc.heapLimit, 64 << 20);
  assert.equal(v.gc.gcPercent, 100);
  assert.equal(v.err, 'RangeError');
  assert.deepEqual(page.errors, []);
});
