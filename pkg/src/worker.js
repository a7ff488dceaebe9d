// A gort M: a module Worker that instantiates the runtime's wasm module over the shared
// memory and runs the scheduler loop. The loop is Rust (`Machine.run`); this file gives the
// Worker's event loop a turn whenever the M asks (see crate/src/sched/m.rs, "Hosting JS
// goroutines") and hosts the JS goroutines that run here (machine.js).
//
// Module contract: started by index.js as a module Worker, whose first message is
// `{ glue, module, memory, reference, index, lock, died, callSites, shared }` (the URL of a
// custom glue module, or undefined for this package's own, which is imported statically so that
// bundlers bundle it; the compiled module, which this Worker instantiates without fetching
// anything; the shared memory, the runtime reference, this M's index, the name of the Web Lock
// this Worker holds for its life, for a Worker that replaces a dead one, why that one died,
// whether `rt.go` records where it was called (`Runtime.start`'s option), and `{ prefix,
// buffers }`: the prefix of the ids of the buffers this Worker shares first and the `[id,
// buffer]` pairs shared so far, shared.js); it answers `ready` (with `failed`, how many
// goroutines of the dead Worker failed), then `stopped` (with `thread`, its wasm thread's TLS
// and stack addresses, which the page frees once this Worker is dead) or `crash`. Between
// them, both ways, `{ type: 'shared', id, buffer }` publishes a SharedArrayBuffer (shared.js).
// The page learns that this Worker died when it is granted `lock` (crate/src/js/faults.rs).
// The exit codes of `Machine.run` and the outcome tags come from the glue (`RunExit`,
// `OutcomeTag`).

import { createHost, driveMachine } from './machine.js';
import { SharedBuffers } from './shared.js';
import * as packageGlue from '../wasm/gort.js';

/**
 * Holds the Web Lock `name` until this Worker dies (closes, crashes or is terminated): the page
 * asks for it too, and is granted it only then. Resolves once it is held. Where Web Locks are
 * not available (not a secure context) the page only learns of crashes.
 */
async function holdForLife(name) {
  if (!name || !globalThis.navigator?.locks) return;
  try {
    await new Promise((held, refused) => {
      navigator.locks
        .request(name, () => {
          held();
          return new Promise(() => {});
        })
        .catch(refused);
    });
  } catch {
    // Locks refused here (an opaque origin): deaths go unnoticed, crashes are still reported.
  }
}

async function runMachine({ glue: glueUrl, module, memory, reference, index, lock, died, callSites }, shared) {
  await holdForLife(lock);
  const glue = glueUrl === undefined ? packageGlue : await import(/* webpackIgnore: true */ /* @vite-ignore */ glueUrl);
  const exports = glue.initSync({ module, memory });
  // Every goroutine's realm on this Worker shares the one owner: the Worker's runtime.
  const park = (address, value, timeoutMs) => {
    const r = Atomics.waitAsync(new Int32Array(memory.buffer), address >>> 2, value, timeoutMs);
    return r.async ? r.value : undefined;
  };
  const m = new glue.Machine(
    reference,
    index,
    createHost(glue, index, {}, { wait: (address, value) => park(address, value), callSites, shared }),
  );
  // Replacing a dead Worker: its goroutines fail before this one runs anything.
  const lost = died === undefined ? 0 : m.takeOver(died);
  postMessage({ type: 'ready', failed: lost });
  await driveMachine(glue, m, park, () => {
    m.free();
    // This thread's TLS block and stack are freed by the page once this Worker is dead
    // (index.js, `freeThread`), not here: wasm-bindgen's finalizers were seen to run on a
    // Worker blocked below, before it was gone, and wasm code on a thread whose TLS is freed
    // reads out of bounds, which poisons the module for every thread sharing the memory, the
    // page's later runtimes included.
    postMessage({ type: 'stopped', thread: { tls: exports.__tls_base.value, stack: exports.__stack_alloc.value } });
    // Never return to the event loop: a JS goroutine's continuation queued before the M
    // stopped, or a timer, would find no M. The page terminates this Worker once every M has
    // stopped.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  });
}

self.onmessage = ({ data }) => {
  // The table exists before this turn ends: the buffers published after the first message
  // are the next messages.
  const shared = new SharedBuffers(data.shared.prefix, (id, buffer) => postMessage({ type: 'shared', id, buffer }));
  for (const [id, buffer] of data.shared.buffers) shared.arrived(id, buffer);
  self.onmessage = ({ data: { type, id, buffer } }) => {
    if (type === 'shared') shared.arrived(id, buffer);
  };
  runMachine(data, shared).catch((e) => {
    postMessage({ type: 'crash', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  });
};
