// What the page and the Worker Ms share about goroutines: shipping a function by source, the
// errors a goroutine can end with, and the handle `rt.go` returns. Module contract: a
// Goroutine is made by the runtime that started it, with its id and how to settle its result.

/** A goroutine threw, rejected, panicked or was cancelled. */
export class GoroutineError extends Error {
  constructor(goroutineId, message, cause, stack) {
    super(`goroutine ${goroutineId} failed: ${message}`, cause === undefined ? undefined : { cause });
    this.name = 'GoroutineError';
    this.goroutineId = goroutineId;
    if (stack) this.stack = `${this.name}: ${this.message}\n${stack}`;
  }
}

/**
 * The Worker of M `proc` died (it closed itself, crashed, or was terminated): the `cause` of
 * the GoroutineError of each goroutine that was bound to it.
 */
export class WorkerError extends Error {
  constructor(proc, reason) {
    super(`the Worker of M ${proc} died: ${reason}`);
    this.name = 'WorkerError';
    this.proc = proc;
  }
}

/**
 * The runtime was shut down (or is shutting down). A join of a goroutine that the shutdown
 * cancelled carries the goroutine's id.
 */
export class ShutdownError extends Error {
  constructor(what, goroutineId) {
    super(`${what}: the runtime has been shut down`);
    this.name = 'ShutdownError';
    if (goroutineId !== undefined) this.goroutineId = goroutineId;
  }
}

export function describe(v) {
  if (v === null) return 'null';
  if (typeof v === 'function') return `function ${v.name || '(anonymous)'}`;
  if (typeof v === 'object') return `an object (${Object.prototype.toString.call(v).slice(8, -1)})`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'symbol') return `the symbol ${String(v)}`;
  return `${typeof v} ${String(v)}`;
}

// Function source → an expression that evaluates to the function, checked once per source.
const expressions = new Map();

/**
 * The source `fn` is shipped as: an expression each Worker compiles once. Throws a TypeError for
 * anything that cannot be rebuilt from its source (not a function, native or bound functions,
 * classes).
 */
export function functionSource(fn, what) {
  if (typeof fn !== 'function') {
    throw new TypeError(`${what}: expected a function to run as a goroutine, got ${describe(fn)}`);
  }
  const src = Function.prototype.toString.call(fn);
  let expr = expressions.get(src);
  if (expr === undefined) {
    expr = toExpression(src, fn.name, what);
    expressions.set(src, expr);
  }
  return expr;
}

function toExpression(src, name, what) {
  if (/\{\s*\[native code\]\s*\}\s*$/.test(src)) {
    const which = name.startsWith('bound ')
      ? `the bound function ${name.slice(6) || '(anonymous)'}`
      : `the native function ${name || '(anonymous)'}`;
    throw new TypeError(`${what}: ${which} cannot be shipped by source; pass a self-contained function expression`);
  }
  if (/^(async\s+)?function\s*\*/.test(src))
    throw new TypeError(`${what}: a generator function cannot run as a goroutine`);
  if (/^class\b/.test(src)) throw new TypeError(`${what}: a class cannot run as a goroutine`);
  const candidates = [`(${src})`, `({${src}})[${JSON.stringify(name)}]`]; // expression, or method shorthand
  let firstError;
  for (const expr of candidates) {
    try {
      new Function(`return ${expr}`); // syntax check only; runs nothing
      return expr;
    } catch (e) {
      firstError ??= e;
    }
  }
  throw new TypeError(`${what}: cannot ship ${name || 'the function'} by source: ${firstError.message}`);
}

/** Compiles a shipped function (in a Worker; cached by the caller). */
export function compileFunction(expr) {
  return new Function(`return ${expr}`)();
}

/** A started goroutine: `id`, and `join()` for its result (the same promise every call). */
export class Goroutine {
  #settle;
  #result;
  constructor(id, settle) {
    this.id = id;
    this.#settle = settle;
  }

  /** Resolves with the goroutine's return value; rejects with a GoroutineError. */
  join() {
    this.#result ??= this.#settle();
    return this.#result;
  }
}
