// Host Workers for Rust threads on the web (see spawn_web.rs). A host instantiates the wasm
// module that created it over the same shared memory, then calls `gortThreadHost`, which runs
// the closures queued for hosts and never returns.
//
// The Worker needs the wasm-bindgen glue (its `initSync`). This file is one of the glue's
// snippets, so the glue is the JS frame that called into it: its URL comes from a stack trace.

let glueUrl;

function findGlueUrl() {
  const here = import.meta.url;
  for (const line of (new Error().stack || '').split('\n')) {
    // `at f (URL:line:col)` or `at URL:line:col`; wasm frames end in `:0x…`, blob: is a
    // Worker's own bootstrap.
    const m = /((?:https?|file):\/\/[^\s()]+?)(?::\d+){2}\)?\s*$/.exec(line);
    if (m && m[1] !== here) return m[1];
  }
  throw new Error('gort: cannot find the URL of the wasm-bindgen glue to start a thread Worker');
}

// Set synchronously, so the first message cannot arrive before it. A failure to start is
// posted back; once started, the host never returns to this event loop.
const hostSource = `self.onmessage = async ({ data }) => {
  self.onmessage = null;
  try {
    const glue = await import(data.glue);
    glue.initSync({ module: data.module, memory: data.memory });
    glue.gortThreadHost();
  } catch (e) {
    postMessage({ failed: e instanceof Error ? e.name + ': ' + e.message : String(e) });
  }
};`;
let hostUrl;
// Why a host Worker created by this thread failed to start, if one did.
let failure;

export function startHost(module, memory) {
  glueUrl ??= findGlueUrl();
  hostUrl ??= URL.createObjectURL(new Blob([hostSource], { type: 'text/javascript' }));
  const worker = new Worker(hostUrl, { type: 'module', name: 'gort-thread' });
  const failed = (why) => {
    failure ??= why;
    console.error(`gort: a thread Worker failed to start: ${why}`);
  };
  worker.addEventListener('error', (e) => failed(e.message));
  worker.addEventListener('message', ({ data }) => data?.failed !== undefined && failed(data.failed));
  worker.postMessage({ glue: glueUrl, module, memory });
}

// Resolves once the i32 at `address` is at least `target`; rejects if a host failed to start.
export async function waitAtLeast(memory, address, target) {
  const words = new Int32Array(memory.buffer);
  const i = address >>> 2;
  for (;;) {
    const v = Atomics.load(words, i);
    if (v >= target) return;
    if (failure !== undefined) throw new Error(`gort: a thread Worker failed to start: ${failure}`);
    const r = Atomics.waitAsync(words, i, v, 100);
    if (r.async) await r.value;
  }
}
