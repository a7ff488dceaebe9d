// A page of a bundled app (Vite or webpack: tests/bundlers.test.mjs copies this folder into each
// app as src/) using gort from its npm package: a module task (tasks.js) sends the
// squares of 1 to 10 on an unbuffered channel and returns their count, and the page sums what
// it receives; then a function target adds two numbers, or fails where the page's CSP forbids
// eval (EvalError). The result goes to #result (`data-state`: done or failed), which
// tests/bundlers.test.mjs reads, with whether the runtime has threads (it has one P without
// them, on a page that is not cross-origin isolated).
import { Runtime } from 'gort';

async function main() {
  const rt = await Runtime.start({ procs: 2 });
  try {
    const ch = rt.chan(0);
    const g = rt.go({ module: new URL('./tasks.js', import.meta.url), export: 'squares' }, ch, 10);
    // A task that fails (its module does not load, say) never closes the channel: close it then.
    g.join().catch(() => ch.close());
    let sum = 0;
    for await (const v of ch) sum += v;
    let fn;
    try {
      fn = await rt.go((rt, a, b) => a + b, 40, 2).join();
    } catch (e) {
      fn = e.name;
    }
    return { sum, sent: await g.join(), fn, procs: rt.procs, threaded: rt.threaded };
  } finally {
    await rt.shutdown();
  }
}

const out = document.querySelector('#result');
main().then(
  (result) => {
    out.textContent = JSON.stringify(result);
    out.dataset.state = 'done';
  },
  (err) => {
    out.textContent = `${err.name}: ${err.message}`;
    out.dataset.state = 'failed';
  },
);
