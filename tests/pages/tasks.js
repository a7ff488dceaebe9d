// Module tasks for tests/modtasks.test.mjs and tests/dump.test.mjs: each export is a goroutine
// function, called by the Worker that imports this module as `export(rt, ...args)`. Module
// contract: `evaluations` counts how many times this module was evaluated in the calling Worker
// (once, if the runtime imports a module once per Worker); the tests find the lines of the
// `throw` in `boom` and of the `rt.go` in `spawnRecv` here.

let evaluated = 0;
evaluated++;

export function fib(rt, n) {
  return n < 2 ? n : fib(rt, n - 1) + fib(rt, n - 2);
}

/** Sends 0..n-1 on `ch`, then closes it; returns the goroutine's id. */
export async function produce(rt, ch, n) {
  for (let i = 0; i < n; i++) await ch.send(i);
  ch.close();
  return rt.goid();
}

/** How many times this module was evaluated in this Worker, and the Worker's P. */
export function evaluations(rt) {
  return { evaluated, proc: rt.procid() };
}

export function boom() {
  throw new RangeError('boom from a module task');
}

/** Runs `fib(n)` as a module task of its own (a goroutine started from a goroutine). */
export async function spawnFib(rt, n) {
  return rt.go({ module: new URL('./tasks.js', import.meta.url), export: 'fib', name: 'inner fib' }, n).join();
}

/** Tries to start a function target from this goroutine; what it threw, if it did. */
export async function spawnFunction(rt) {
  try {
    return { value: await rt.go((rt, n) => n + 1, 41).join() };
  } catch (e) {
    return { name: e.name, message: e.message, cause: e.cause?.name };
  }
}

/** Waits to receive from `ch`. */
export function recv(rt, ch) {
  return ch.recv();
}

export const notAFunction = 42;

/** Starts `recv(rt, ch)` as a module task of its own, and receives from `ch` too (tests/dump.test.mjs). */
export async function spawnRecv(rt, ch) {
  rt.go({ module: new URL('./tasks.js', import.meta.url), export: 'recv' }, ch);
  await ch.recv();
}
