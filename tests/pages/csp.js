// The app of tests/pages/csp.html, served under /csp/ with a Content-Security-Policy that
// forbids eval (scripts/serve.mjs, STRICT_CSP), as a strict site is: it runs module tasks, and
// tries function targets, on the page and inside a goroutine. Module contract: it sets
// `window.result` to a promise of what it saw (tests/modtasks.test.mjs reads it).

import { Runtime } from '../../pkg/src/index.js';

const tasks = new URL('./tasks.js', import.meta.url);

/** What `f()` threw: `{ name, message, cause }` (the cause's name), or `{ returned: true }`. */
function thrown(f) {
  try {
    f();
    return { returned: true };
  } catch (e) {
    return { name: e.name, message: e.message, cause: e.cause?.name };
  }
}

async function run() {
  const out = { pageEval: thrown(() => new Function('')).name };
  const rt = await Runtime.start({ procs: 2 });
  try {
    out.fib = await rt.go({ module: tasks, export: 'fib' }, 20).join();
    const ch = rt.chan(0);
    const producer = rt.go({ module: tasks, export: 'produce' }, ch, 3);
    out.received = [];
    for await (const v of ch) out.received.push(v);
    await producer.join();
    out.nested = await rt.go({ module: tasks, export: 'spawnFib' }, 10).join();
    out.functionTarget = thrown(() => rt.go((rt, n) => n + 1, 1));
    out.namedFunctionTarget = thrown(() =>
      rt.go(function fib(rt, n) {
        return n;
      }, 1),
    );
    out.fnSpec = thrown(() =>
      rt.go({
        fn: function work(rt) {
          return rt.goid();
        },
        name: 'worker',
      }),
    );
    out.inGoroutine = await rt.go({ module: tasks, export: 'spawnFunction' }).join();
    out.afterwards = await rt.go({ module: tasks, export: 'fib' }, 10).join();
  } finally {
    await rt.shutdown();
  }
  return out;
}

window.result = run().catch((e) => ({ error: `${e.name}: ${e.message}` }));
