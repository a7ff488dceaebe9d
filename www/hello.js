// "Hello, goroutines": the program from the Go runtime article, with sayHello running as gort
// goroutines on a worker and main running on the page.

import { byId, clock, delay, el, fmtMs, highlight } from './dom.js';

const GO_SOURCE = `package main

import (
	"fmt"
	"time"
)

func sayHello() {
	for i := 0; i < 5; i++ {
		fmt.Println("Hello from goroutine!")
		time.Sleep(100 * time.Millisecond)
	}
}

func main() {
	go sayHello()
	for i := 0; i < 5; i++ {
		fmt.Println("Hello from main!")
		time.Sleep(150 * time.Millisecond)
	}
}`;

const TIMELINE_MS = 800; // the width of the timeline strip; the program exits at about 750 ms

// The three functions below are the program as it runs here; the page shows their source.

/** One iteration of sayHello, run as a goroutine on a worker: wait for its tick, then print. */
async function sayHelloStep(rt, tick) {
  const now = () => performance.timeOrigin + performance.now();
  const wait = tick - now();
  if (wait > 0) await rt.sleep(wait);
  return { text: 'Hello from goroutine!', t: now(), goid: rt.goid(), proc: rt.procid() };
}

/** go sayHello(): a print every 100 ms, each iteration a goroutine the page starts and joins. */
async function sayHello(rt, start, print) {
  for (let i = 0; i < 5; i++) {
    print(await rt.go(sayHelloStep, start + i * 100).join());
  }
}

/** main, on the page: a print every 150 ms. */
async function main(print) {
  for (let i = 0; i < 5; i++) {
    print({ text: 'Hello from main!', t: performance.timeOrigin + performance.now() });
    await delay(150);
  }
}

/**
 * Renders the section (the sources, the timeline axis) and returns `{ attach, run }`: `attach(rt)`
 * connects it to a started runtime, `run()` runs the program once (concurrent calls share the
 * run in progress).
 */
export function mountHello({ onError }) {
  const section = byId('hello');
  const output = byId('hello-output');
  const button = byId('hello-run');
  const summary = byId('hello-summary');
  const lanes = { main: byId('lane-main'), goroutine: byId('lane-goroutine') };

  byId('go-source').replaceChildren(highlight(GO_SOURCE, 'go'));
  byId('js-source').replaceChildren(highlight([sayHelloStep, sayHello, main].map(String).join('\n\n'), 'js'));
  drawAxis(byId('timeline-axis'));

  let rt = null;
  let running = null;

  function clear() {
    output.replaceChildren();
    lanes.main.replaceChildren();
    lanes.goroutine.replaceChildren();
    summary.textContent = '';
  }

  // Each printed line, placed by its timestamp: lines reach the page a little after they are
  // printed (a join takes a moment), so arrival order is not always the order they happened.
  function printer(who, start) {
    return (line) => {
      const t = line.t - start;
      const where = who === 'main' ? 'page' : `g${line.goid} · P${line.proc}`;
      const item = el(
        'li',
        {
          class: 'line',
          dataset: {
            testid: 'hello-line',
            who,
            t: t.toFixed(3),
            ...(who === 'goroutine' ? { proc: line.proc, goid: line.goid } : {}),
          },
        },
        el('span', { class: 't' }, `+${fmtMs(t).padStart(5, '\u2007')} ms`),
        el('span', { class: 'who' }, who),
        el('span', { class: 'where' }, where),
        el('span', { class: 'text' }, line.text),
      );
      const next = [...output.children].find((li) => Number(li.dataset.t) > t);
      output.insertBefore(item, next ?? null);

      const dot = el('span', { class: 'mark', title: `${who} at ${fmtMs(t)} ms (${where})` });
      dot.style.left = `${Math.min(100, (t / TIMELINE_MS) * 100)}%`;
      lanes[who].append(dot);
    };
  }

  async function program() {
    section.dataset.state = 'running';
    button.disabled = true;
    clear();
    const start = clock();
    try {
      // go sayHello(), then main. Go exits when main returns; sayHello is done long before
      // (400 ms < 750 ms), and waiting for both surfaces a failure of either.
      await Promise.all([sayHello(rt, start, printer('goroutine', start)), main(printer('main', start))]);
      summary.textContent = `${output.children.length} lines · exited after ${fmtMs(clock() - start)} ms`;
      section.dataset.state = 'done';
    } catch (err) {
      section.dataset.state = 'error';
      summary.textContent = 'failed';
      onError(err);
    } finally {
      button.disabled = false;
    }
  }

  function run() {
    if (!rt) return Promise.reject(new Error('the runtime has not started'));
    running ??= program().finally(() => (running = null));
    return running;
  }

  function attach(runtime) {
    rt = runtime;
    button.disabled = false;
  }

  button.addEventListener('click', run);
  return { attach, run };
}

function drawAxis(axis) {
  const track = el('div', { class: 'axis-track' });
  for (let ms = 0; ms <= TIMELINE_MS; ms += 100) {
    const tick = el('span', { class: 'tick' }, ms % 200 === 0 ? `${ms}` : '');
    tick.style.left = `${(ms / TIMELINE_MS) * 100}%`;
    track.append(tick);
  }
  axis.replaceChildren(el('span', { class: 'lane-label' }, 'ms'), track);
}
