// The demo page: starts a gort runtime and mounts the page's sections on it.
//
//   /            one P per core (navigator.hardwareConcurrency, Runtime.start's default)
//   /?procs=4    another number of Ps

import { Runtime } from '../pkg/src/index.js';
import { byId, el } from './dom.js';
import { StatsPoller } from './stats.js';
import { mountHello } from './hello.js';
import { mountScheduler } from './procs.js';
import { mountBurst } from './burst.js';

const status = byId('status');

function setStatus(state, text) {
  status.dataset.state = state;
  status.querySelector('.status-text').textContent = text;
}

function showError(err, title = 'Something went wrong') {
  console.error(title, err);
  const box = byId('error');
  box.hidden = false;
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  box.append(el('div', { class: 'error-item' }, el('strong', {}, title), el('p', {}, message)));
}

/** What this browser or page lacks for gort, or null. */
function missingRequirement() {
  if (typeof SharedArrayBuffer === 'undefined' || !globalThis.crossOriginIsolated) {
    return {
      title: 'SharedArrayBuffer is unavailable',
      message:
        "gort's workers share one WebAssembly.Memory, which exists only on a cross-origin isolated page. " +
        'Serve the page with "Cross-Origin-Opener-Policy: same-origin" and ' +
        '"Cross-Origin-Embedder-Policy: require-corp" (make demo does).',
    };
  }
  if (typeof Atomics.waitAsync !== 'function') {
    return {
      title: 'Atomics.waitAsync is unavailable',
      message: 'The page waits for goroutines without blocking through Atomics.waitAsync, which this browser lacks.',
    };
  }
  return null;
}

/** `?procs=N`, or undefined for the runtime's default (one P per core). */
function requestedProcs() {
  const raw = new URLSearchParams(location.search).get('procs');
  if (raw === null) return undefined;
  const procs = Number(raw);
  if (!Number.isInteger(procs)) throw new RangeError(`?procs= must be an integer, got "${raw}"`);
  return procs;
}

async function boot() {
  const hello = mountHello({ onError: (err) => showError(err, 'The hello program failed') });
  const missing = missingRequirement();
  if (missing) {
    setStatus(
      'error',
      `Cannot start: ${missing.title} (crossOriginIsolated: ${globalThis.crossOriginIsolated === true})`,
    );
    showError(missing.message, missing.title);
    return;
  }

  const procs = requestedProcs();
  setStatus('starting', `Starting ${procs ?? navigator.hardwareConcurrency} procs…`);
  const rt = await Runtime.start(procs === undefined ? {} : { procs });
  globalThis.gortDemo = { rt }; // for poking at from the console

  status.dataset.procs = rt.procs;
  const source = procs === undefined ? 'navigator.hardwareConcurrency' : `?procs=${procs}`;
  setStatus('running', `Runtime running · ${rt.procs} procs (${source}) · crossOriginIsolated: ${crossOriginIsolated}`);

  const poller = new StatsPoller(rt, { onError: (err) => showError(err, 'rt.stats() failed') });
  mountScheduler(poller, rt.procs);
  mountBurst(rt, poller, { onError: (err) => showError(err, 'The burst failed') });
  poller.start();

  hello.attach(rt);
  hello.run();
}

boot().catch((err) => {
  setStatus('error', 'The runtime failed to start');
  showError(err, 'The runtime failed to start');
});
