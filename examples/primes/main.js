// The example app's page: starts gort's runtime over the app's own wasm (its glue in wasm/,
// built by build.sh), then runs the pipeline of src/lib.rs. In an app outside this repository
// the import is `from 'gort'` (the npm package).
//
// Shown for the tests: #status's data-state (running, done, failed), one row per result in
// #results (data-n, data-count, data-proc), the generator's primes in #primes, and #error.
import { Runtime } from '../../pkg/src/index.js';

export const JOBS = [10, 100, 1000, 10_000, 100_000, 1_000_000, 2_000_000, 5_000_000];

const $ = (id) => document.getElementById(id);

function status(state, text) {
  $('status').dataset.state = state;
  $('status').textContent = text;
}

function show({ n, count, proc }) {
  const row = document.createElement('tr');
  Object.assign(row.dataset, { n, count, proc });
  for (const cell of [n, count, proc]) row.insertCell().textContent = String(cell);
  $('results').append(row);
}

async function main() {
  const rt = await Runtime.start({ wasm: new URL('./wasm/primes.js', import.meta.url) });
  status('running', `Running on ${rt.procs} procs…`);
  try {
    const jobs = rt.chan();
    const results = rt.chan(4);
    // Rust goroutines, one per P, reading `jobs` and writing `results`.
    const workers = rt.goRust('primeWorkers', jobs, results, rt.procs);
    // A JS goroutine (on a worker M) feeding them.
    const feeder = rt.go(
      async (rt, jobs, ns) => {
        for (const n of ns) await jobs.send(n);
        jobs.close();
      },
      jobs,
      JOBS,
    );
    for await (const r of results) show(r);
    await feeder.join();
    const done = await workers.join();

    const primes = await rt.goRust('primesBelow', 50).join();
    const list = [];
    for await (const p of primes) list.push(p);
    $('primes').textContent = list.join(' ');
    status('done', `${done} jobs counted by Rust goroutines on ${rt.procs} procs.`);
  } finally {
    await rt.shutdown();
  }
}

main().catch((e) => {
  console.error(e);
  $('error').hidden = false;
  $('error').textContent = String(e);
  status('failed', 'Failed.');
});
