// A page of a Vite app using gort from its npm package: a goroutine sends the squares of 1 to
// 10 on an unbuffered channel and returns their count; the page sums what it receives. The
// result goes to #result (`data-state`: done or failed), which tests/bundlers.test.mjs reads,
// with whether the runtime has threads (it has one P without them, on a page that is not
// cross-origin isolated).
import { Runtime } from 'gort';

async function main() {
  const rt = await Runtime.start({ procs: 2 });
  try {
    const ch = rt.chan(0);
    const g = rt.go(
      async (rt, ch, n) => {
        for (let i = 1; i <= n; i++) await ch.send(i * i);
        ch.close();
        return n;
      },
      ch,
      10,
    );
    let sum = 0;
    for await (const v of ch) sum += v;
    return { sum, sent: await g.join(), procs: rt.procs, threaded: rt.threaded };
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
