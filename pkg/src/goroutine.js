// What the page and the Worker Ms share about goroutines: shipping a function by source,
// encoding its arguments, turning an outcome back into a value or a typed error, and the
// handle `rt.go` returns.
//
// Outcome bytes (made by the Worker host in worker.js, or by the runtime):
//   0, value    the goroutine returned (an encoded value)
//   1, thrown   it threw or rejected (the encoded thrown value, usually an Error)
//   2, text     the runtime failed it (a Rust panic, or a shutdown before it finished)
//   3, text     JSON produced by the runtime itself (the goroutine dump)

import { encode, decode } from './codec.js';

export const OUTCOME_VALUE = 0;
export const OUTCOME_THROWN = 1;
const OUTCOME_RUNTIME_ERROR = 2;
const OUTCOME_JSON = 3;

const utf8 = new TextDecoder();

/** A goroutine threw, rejected, panicked or was cancelled. */
export class GoroutineError extends Error {
  constructor(goroutineId, message, cause, stack) {
    super(`goroutine ${goroutineId} failed: ${message}`, cause === undefined ? undefined : { cause });
    this.name = 'GoroutineError';
    this.goroutineId = goroutineId;
    if (stack) this.stack = `${this.name}: ${this.message}\n${stack}`;
  }
}

/** The runtime was shut down (or is shutting down). */
export class ShutdownError extends Error {
  constructor(what) {
    super(`${what}: the runtime has been shut down`);
    this.name = 'ShutdownError';
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
    throw new TypeError(
      `${what}: ${name || 'this function'} is native or bound and cannot be shipped by source; ` +
        'pass a self-contained function expression',
    );
  }
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

/**
 * Encodes goroutine arguments. On failure, finds the argument at fault so the TypeError names
 * it ("argument 2.items[3]"); nothing is sent.
 */
export function encodeArgs(args, options) {
  try {
    return encode(args, 'arguments', options);
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    args.forEach((a, i) => encode(a, `argument ${i + 1}`, options));
    throw e;
  }
}

export function decodeArgs(bytes, options) {
  return decode(bytes, options);
}

function errorSummary(thrown) {
  if (thrown instanceof Error) return `${thrown.name}: ${thrown.message}`;
  try {
    return `threw ${typeof thrown === 'string' ? thrown : JSON.stringify(thrown)}`;
  } catch {
    return `threw ${String(thrown)}`;
  }
}

/** Turns outcome bytes into the goroutine's value, or throws its GoroutineError. */
export function settleOutcome(bytes, goroutineId, options) {
  const body = bytes.subarray(1);
  switch (bytes[0]) {
    case OUTCOME_VALUE:
      return decode(body, options);
    case OUTCOME_THROWN: {
      const thrown = decode(body, options);
      throw new GoroutineError(goroutineId, errorSummary(thrown), thrown, thrown?.stack);
    }
    case OUTCOME_RUNTIME_ERROR:
      throw new GoroutineError(goroutineId, utf8.decode(body));
    case OUTCOME_JSON:
      return JSON.parse(utf8.decode(body));
    default:
      throw new RangeError(`goroutine ${goroutineId}: unknown outcome tag ${bytes[0]}`);
  }
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
