// What the page and the Worker Ms share about goroutines: what `rt.go` runs (a function
// shipped by source, or a module task), the errors a goroutine can end with, and the handle
// `rt.go` returns. Module contract: `goroutineTask` checks and describes a goroutine target
// (a TypeError names what is wrong, an EvalError says when the realm's Content-Security-Policy
// forbids compiling functions shipped by source), `wasmTarget` makes the glue's `Target` of
// it, `callSite` finds where the caller of `rt.go` is (for goroutine dumps), and
// `compileFunction` rebuilds a shipped function in a Worker, under the URL
// `gort-goroutine/<function name>.js`, so that stack traces name it. A Goroutine is made by
// the runtime that started it, with its id and how to settle its result. `abortSignal` reads
// the `signal` of a blocking call's options, and `NEVER_ABORTED` is the signal of a goroutine
// started without one.

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

/**
 * The `rt.signal` of a goroutine started without a signal: it never aborts. Operations given it
 * treat it as no signal at all.
 */
export const NEVER_ABORTED = new AbortController().signal;

/**
 * The AbortSignal `signal` given to the call `what` as `label` (undefined, or NEVER_ABORTED:
 * none); a TypeError naming the call for anything else.
 */
export function checkSignal(signal, what, label = 'signal') {
  if (signal === undefined || signal === NEVER_ABORTED) return undefined;
  if (!(signal instanceof AbortSignal)) {
    throw new TypeError(`${what}: ${label} must be an AbortSignal, got ${describe(signal)}`);
  }
  return signal;
}

/**
 * The `signal` of the options object `options` of the call `what` (see `checkSignal`); throws
 * its reason if it aborted already, so that the call rejects at once and starts nothing.
 */
export function abortSignal(options, what) {
  if (options === undefined || options === null) return undefined;
  if (typeof options !== 'object') throw new TypeError(`${what}: expected an options object, got ${describe(options)}`);
  const signal = checkSignal(options.signal, what);
  signal?.throwIfAborted();
  return signal;
}

/**
 * `promise`, or, if `signal` aborts first, a rejection with its reason (`promise` goes on
 * unobserved by this caller). The listener goes as soon as either settles.
 */
export function untilAborted(promise, signal) {
  if (signal === undefined) return promise;
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

// Function source → an expression that evaluates to the function, checked once per source.
const expressions = new Map();
// The EvalError of this realm's first refused compilation: its Content-Security-Policy forbids
// `eval` for good (a policy added later can only forbid more), so no compilation is tried again.
let evalRefused;

/**
 * The error of a goroutine target that needs `eval` where this realm's Content-Security-Policy
 * forbids it (`cause`: the browser's EvalError), naming the alternative: a module task.
 */
function needsModuleTask(what, name, cause) {
  const realm = globalThis.document === undefined ? 'Worker' : 'page';
  const example = `{ module: new URL('./tasks.js', import.meta.url), export: ${JSON.stringify(name || 'task')} }`;
  return new EvalError(
    `${what}: this ${realm}'s Content-Security-Policy forbids compiling functions shipped by source ` +
      `('unsafe-eval' is not allowed); use a module task: rt.go(${example}, …)`,
    { cause },
  );
}

/** `make()` (which compiles code), or the module-task EvalError where this realm forbids `eval`. */
function compile(make, what, name) {
  if (evalRefused) throw needsModuleTask(what, name, evalRefused);
  try {
    return make();
  } catch (e) {
    if (!(e instanceof EvalError)) throw e;
    evalRefused = e;
    throw needsModuleTask(what, name, e);
  }
}

/**
 * What goroutine `target` runs, for the call `what` (`rt.go`): `{ source, name, signal }` for a
 * function shipped by source, `{ module, export, name, signal }` for a module task (`module`:
 * an absolute URL). `target` is a function or a task spec, `{ fn, name, signal }` or `{ module,
 * export, name, signal }` (`signal`: an AbortSignal, or undefined); other keys are left alone. A relative `module` string resolves against `base` (the
 * page's base URL; none in a goroutine: it must be absolute there). `name`, what goroutine
 * dumps call it, defaults to the function's name, or to `module#export`. Throws a TypeError
 * naming what is wrong.
 */
export function goroutineTask(target, what, base) {
  if (typeof target === 'function') return { source: functionSource(target, what), name: target.name || undefined };
  if (target === null || typeof target !== 'object') {
    throw new TypeError(
      `${what}: expected a function or a task spec ({ module, export } or { fn }) to run as a goroutine, got ${describe(target)}`,
    );
  }
  const { fn, module, export: exportName, name } = target;
  if (name !== undefined && typeof name !== 'string') {
    throw new TypeError(`${what}: the task spec's name must be a string, got ${describe(name)}`);
  }
  const signal = checkSignal(target.signal, what, "the task spec's signal");
  if (fn !== undefined) {
    if (module !== undefined || exportName !== undefined) {
      throw new TypeError(`${what}: a task spec has either fn, or module and export, not both`);
    }
    if (typeof fn !== 'function') {
      throw new TypeError(`${what}: the task spec's fn must be a function, got ${describe(fn)}`);
    }
    return { source: functionSource(fn, what), name: name ?? (fn.name || undefined), signal };
  }
  if (module === undefined) {
    throw new TypeError(`${what}: a task spec needs fn (a function), or module (a URL) and export (a name)`);
  }
  const url = moduleUrl(module, what, base);
  if (exportName === undefined) {
    throw new TypeError(`${what}: a module task needs export, the name of the function of ${url} to run`);
  }
  if (typeof exportName !== 'string') {
    throw new TypeError(`${what}: the task spec's export must be the name of a function, got ${describe(exportName)}`);
  }
  return { module: url, export: exportName, name: name ?? `${url}#${exportName}`, signal };
}

/** A task spec's `module` as an absolute URL's text (see `goroutineTask`). */
function moduleUrl(module, what, base) {
  if (Object.prototype.toString.call(module) === '[object URL]') return module.href;
  if (typeof module !== 'string') {
    throw new TypeError(`${what}: the task spec's module must be a URL or a string, got ${describe(module)}`);
  }
  try {
    return new URL(module, base).href;
  } catch {
    throw new TypeError(
      base === undefined
        ? `${what}: the task spec's module must be an absolute URL inside a goroutine, got ${JSON.stringify(module)}; ` +
            `pass new URL('./tasks.js', import.meta.url)`
        : `${what}: the task spec's module is not a valid URL: ${JSON.stringify(module)}`,
    );
  }
}

/**
 * The glue's `Target` for `task` (from `goroutineTask`), which `go` consumes; `at`: where
 * `rt.go` was called (`callSite`), if known.
 */
export function wasmTarget(glue, task, at) {
  const target =
    task.module === undefined
      ? glue.Target.function(task.source, task.name)
      : glue.Target.module(task.module, task.export, task.name);
  if (at !== undefined) {
    try {
      target.setCreatedAt(at);
    } catch {
      // Memory could not hold the location: dumps go without it, and the goroutine starts.
    }
  }
  return target;
}

// The longest call site kept, in characters (the glue keeps at most 200 bytes of it).
const CALL_SITE_MAX = 200;
// This package's own files: frames there are not the caller's.
const PACKAGE = new URL('.', import.meta.url).href;
// A stack frame's `url:line:column` (V8's `at f (url:1:2)`, `at url:1:2`; Firefox's and
// Safari's `f@url:1:2`).
const FRAME_SITE = /([^\s(@]+:\d+:\d+)\)?$/;

/**
 * Where the code that called `api` (a function of this package, such as `rt.go`) is:
 * `url:line:column`, or undefined. Where the engine can (`Error.captureStackTrace`: V8) only
 * the caller's frame is taken, so that the cost stays small; elsewhere the first frame
 * outside this package's files.
 */
export function callSite(api) {
  let stack;
  if (typeof Error.captureStackTrace === 'function') {
    const limit = Error.stackTraceLimit;
    const holder = {};
    Error.stackTraceLimit = 1;
    try {
      Error.captureStackTrace(holder, api);
    } finally {
      Error.stackTraceLimit = limit;
    }
    stack = holder.stack;
  } else {
    stack = new Error().stack;
  }
  if (typeof stack !== 'string') return undefined;
  for (const line of stack.split('\n')) {
    const site = FRAME_SITE.exec(line.trim())?.[1];
    // Kept short (a `data:` URL can be long): its end says the line and column.
    if (site !== undefined && !site.startsWith(PACKAGE)) return site.slice(-CALL_SITE_MAX);
  }
  return undefined;
}

/**
 * The source `fn` is shipped as: an expression each Worker compiles once. Throws a TypeError for
 * anything that cannot be rebuilt from its source (not a function, native or bound functions,
 * classes).
 */
function functionSource(fn, what) {
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
  // Stack traces of the Worker's copy name the function (`compileFunction` evaluates this).
  const url = `\n//# sourceURL=gort-goroutine/${encodeURIComponent(name || 'anonymous')}.js`;
  let firstError;
  for (const expr of candidates) {
    try {
      compile(() => new Function(`return ${expr}`), what, name); // syntax check only; runs nothing
      return `${expr}${url}`;
    } catch (e) {
      if (e instanceof EvalError) throw e; // forbidden here: a module task is the way
      firstError ??= e;
    }
  }
  throw new TypeError(`${what}: cannot ship ${name || 'the function'} by source: ${firstError.message}`);
}

/**
 * Compiles a shipped function (in a Worker; cached by the caller). An EvalError that names
 * module tasks where the Worker's Content-Security-Policy forbids it. Evaluated as it is (an
 * indirect `eval`, which only makes the function), so that its lines in stack traces are the
 * lines of its source, under its `sourceURL`.
 */
export function compileFunction(expr) {
  return compile(() => (0, eval)(expr), 'rt.go');
}

/** A started goroutine: `id`, and `join()` for its result (the same promise every call). */
export class Goroutine {
  #settle;
  #result;
  constructor(id, settle) {
    this.id = id;
    this.#settle = settle;
  }

  /**
   * Resolves with the goroutine's return value; rejects with a GoroutineError. With
   * `{ signal }`, rejects with the signal's reason if it aborts first: this call stops waiting,
   * the goroutine runs on, and a later `join()` still gets its result.
   */
  join(options) {
    let signal;
    try {
      signal = abortSignal(options, 'join');
    } catch (e) {
      return Promise.reject(e);
    }
    this.#result ??= this.#settle();
    return untilAborted(this.#result, signal);
  }
}
