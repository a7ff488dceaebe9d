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

// Set synchronously, so the first message cannot arrive before it.
const hostSource = `self.onmessage = async ({ data }) => {
  self.onmessage = null;
  const glue = await import(data.glue);
  glue.initSync({ module: data.module, memory: data.memory });
  glue.gortThreadHost();
};`;
let hostUrl;

export function startHost(module, memory) {
  glueUrl ??= findGlueUrl();
  hostUrl ??= URL.createObjectURL(new Blob([hostSource], { type: 'text/javascript' }));
  const worker = new Worker(hostUrl, { type: 'module', name: 'gort-thread' });
  worker.addEventListener('error', (e) => console.error(`gort: a thread Worker failed: ${e.message}`));
  worker.postMessage({ glue: glueUrl, module, memory });
}

export async function waitAtLeast(memory, address, target) {
  const words = new Int32Array(memory.buffer);
  const i = address >>> 2;
  for (;;) {
    const v = Atomics.load(words, i);
    if (v >= target) return;
    const r = Atomics.waitAsync(words, i, v, 1000);
    if (r.async) await r.value;
  }
}
