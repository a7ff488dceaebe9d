// gort value codec: turns the JS values that cross goroutines (arguments, results, channel
// messages) into bytes and back, so they can travel through shared wasm memory between realms
// (the main thread and the worker Ms). Plain ES module, no dependencies.
//
//   encode(value, where = 'value', { handle(obj) -> id | undefined }) -> Uint8Array
//   decode(bytes, { handle(id) -> obj }) -> value
//
// Format: one value, recursively; every value starts with a one-byte tag. Integers inside the
// format are little-endian; "varint" is unsigned LEB128 (7 bits a byte, at most 8 bytes);
// "str" is varint h followed by the string bytes, where h = 2 * byteLength + kind,
// kind 0 = UTF-8, kind 1 = UTF-16LE code units (used only for strings with lone surrogates).
//
//   tag   name        payload
//   0x00  UNDEFINED   -
//   0x01  NULL        -
//   0x02  FALSE       -
//   0x03  TRUE        -
//   0x04  INT8        i8                   integers -128..127 (never -0)
//   0x05  INT32       i32                  other int32 values (never -0)
//   0x06  FLOAT64     f64                  every other number, incl. -0, NaN, ±Infinity
//   0x07  BIGINT      varint n, n bytes    magnitude, little-endian (n = 0 for 0n)
//   0x08  NEG_BIGINT  varint n, n bytes    magnitude of a negative BigInt
//   0x09  STRING      str
//   0x10  ARRAY       varint n, n values   * holes are sent as undefined
//   0x11  OBJECT      varint n, n × (str key, value)   * prototype Object.prototype
//   0x12  NULL_OBJECT varint n, n × (str key, value)   * prototype null
//   0x13  MAP         varint n, n × (key value, value)  *
//   0x14  SET         varint n, n values   *
//   0x15  DATE        f64 time value       * NaN for an invalid date
//   0x16  REGEXP      str source, str flags *
//   0x17  ARRAYBUFFER varint n, n bytes    *
//   0x18  VIEW        u8 kind, varint n, n bytes   * n = byteLength; kind: 0 Int8, 1 Uint8,
//                     2 Uint8Clamped, 3 Int16, 4 Uint16, 5 Int32, 6 Uint32, 7 Float32,
//                     8 Float64, 9 BigInt64, 10 BigUint64 (…Array), 11 DataView, 12 Float16Array
//   0x19  ERROR       u8 flags, str name, [str message], [str stack], [cause value],
//                     [errors value], varint n, n × (str key, value)        *
//                     flags: 1 message, 2 stack, 4 cause, 8 errors (AggregateError)
//   0x1a  HANDLE      u32 id               * runtime handle, resolved by decode's handle hook
//   0x1b  HANDLE64    u64 id               *
//   0x1f  REF         varint i             the i-th object (*) of this message
//
// Invariants:
// - Every value marked * is an object. Objects are numbered 0, 1, 2, ... in the order their tags
//   appear (pre-order, parent before children), and decode creates and numbers each one before
//   reading its children, so REF can express shared references and cycles, as structured clone
//   does. A REF only ever points to an object whose tag came before it.
// - Plain objects carry their own enumerable string-keyed properties in Object.keys order;
//   symbol keys and non-enumerable properties are dropped, getters are read.
// - Arrays are dense: holes become undefined; extra non-index properties are dropped.
// - Typed arrays and DataViews carry only the bytes they view: they decode over a fresh
//   ArrayBuffer of exactly that size with byteOffset 0, so two views over one buffer decode as
//   two independent buffers. A view over a SharedArrayBuffer is copied the same way; a bare
//   SharedArrayBuffer cannot be sent (it would silently stop being shared).
// - Strings round-trip exactly, lone surrogates included: well-formed strings travel as UTF-8,
//   strings with lone surrogates as UTF-16 code units.
// - Errors keep their name, message, stack, cause, AggregateError errors and own enumerable
//   properties (e.g. code); they decode as the built-in error class of that name (else Error,
//   with the name as an own property).
// - Runtime handles: encode's handle hook is asked about every object that is neither an array
//   nor a plain object (before the built-in types); a number or bigint id it returns is sent as
//   HANDLE/HANDLE64 and numbered like any object, so one handle sent twice decodes once.
// - Functions, symbols and objects of any other class are a TypeError naming the path to them.
//   encode is all-or-nothing: it returns the complete message or throws.
// - Nesting is handled by recursion, so the depth limit is the engine's stack, about as deep as
//   structuredClone goes (a couple of thousand levels); beyond it encode and decode throw a
//   RangeError saying the value is nested too deeply.
// - decode checks every length against the input, so malformed or truncated input throws a
//   RangeError or TypeError (naming the offset) and never allocates beyond the input's size.
//
// Performance: encode writes into one module-level scratch buffer (grown by doubling, dropped
// again after an unusually large message) and returns an exact-size copy; decode copies its input
// into a module-level scratch buffer (TextDecoder rejects views of a SharedArrayBuffer). Small
// integers, short ASCII strings and flat arrays take fast paths. Object identity is tracked with
// a short linear list, switching to a Map only for messages with many objects.

const T_UNDEFINED = 0x00;
const T_NULL = 0x01;
const T_FALSE = 0x02;
const T_TRUE = 0x03;
const T_INT8 = 0x04;
const T_INT32 = 0x05;
const T_FLOAT64 = 0x06;
const T_BIGINT = 0x07;
const T_NEG_BIGINT = 0x08;
const T_STRING = 0x09;
const T_ARRAY = 0x10;
const T_OBJECT = 0x11;
const T_NULL_OBJECT = 0x12;
const T_MAP = 0x13;
const T_SET = 0x14;
const T_DATE = 0x15;
const T_REGEXP = 0x16;
const T_ARRAYBUFFER = 0x17;
const T_VIEW = 0x18;
const T_ERROR = 0x19;
const T_HANDLE = 0x1a;
const T_HANDLE64 = 0x1b;
const T_REF = 0x1f;

const E_MESSAGE = 1;
const E_STACK = 2;
const E_CAUSE = 4;
const E_ERRORS = 8;

// View kinds, by index. Float16Array is used when the platform has it.
const VIEW_NAMES = [
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array',
  'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array', 'DataView',
  'Float16Array',
];
const VIEW_KIND_DATAVIEW = 11;
const VIEW_TYPES = VIEW_NAMES.map((name) => globalThis[name]);
const VIEW_KIND = Object.create(null);
VIEW_NAMES.forEach((name, i) => { VIEW_KIND[name] = i; });

const ObjectProto = Object.prototype;
const getProto = Object.getPrototypeOf;
const objectKeys = Object.keys;
const isArray = Array.isArray;
const isView = ArrayBuffer.isView;
const hasOwn = Object.prototype.hasOwnProperty;
// Returns 'Uint8Array' etc. for any typed array (subclasses included), undefined otherwise.
const typedArrayTag = Object.getOwnPropertyDescriptor(
  getProto(Uint8Array.prototype), Symbol.toStringTag).get;
const HasSAB = typeof SharedArrayBuffer === 'function';
const HasAggregate = typeof AggregateError === 'function';

const ERROR_TYPES = {
  Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError,
};
if (HasAggregate) ERROR_TYPES.AggregateError = AggregateError;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const isWellFormed = typeof String.prototype.isWellFormed === 'function'
  ? (s) => s.isWellFormed()
  : (s) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const KEEP_SCRATCH = 1 << 20;   // scratch buffers larger than this are not kept between calls
const LINEAR_SEEN = 24;         // identity list length before switching to a Map

const HEX = [];
for (let i = 0; i < 256; i++) HEX.push((i < 16 ? '0' : '') + i.toString(16));

function varintSize(n) {
  let s = 1;
  while (n >= 0x80) { n = Math.floor(n / 128); s++; }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Errors

// Thrown inside encode when a value cannot be sent; collects the path on its way out
// (innermost segment first) and becomes a TypeError at the top.
class SendError {
  constructor(what, message) {
    this.what = what;        // "a function", used as `${what} cannot cross goroutines`
    this.message = message;  // or a complete reason
    this.segs = [];
  }
  toTypeError(where) {
    let path = String(where);
    for (let i = this.segs.length - 1; i >= 0; i--) path += this.segs[i];
    const reason = this.message || `${this.what} cannot cross goroutines`;
    return new TypeError(`cannot send ${path}: ${reason}`);
  }
}

function withSeg(e, seg) {
  if (e instanceof SendError) e.segs.push(seg);
  return e;
}

const IDENT = /^[A-Za-z_$][\w$]*$/;
function keySeg(k) { return IDENT.test(k) ? '.' + k : '[' + JSON.stringify(k) + ']'; }

function describeKey(k) {
  switch (typeof k) {
    case 'string': return JSON.stringify(k.length > 40 ? k.slice(0, 40) + '…' : k);
    case 'number': return Object.is(k, -0) ? '-0' : String(k);
    case 'bigint': return k + 'n';
    case 'boolean': case 'undefined': return String(k);
    case 'symbol': return 'a symbol';
    case 'function': return 'a function';
    default:
      if (k === null) return 'null';
      if (isArray(k)) return '[…]';
      return '{…}';
  }
}

// V8 and JavaScriptCore throw a RangeError, SpiderMonkey an InternalError.
function isStackOverflow(e) {
  return e != null && (e.name === 'InternalError' ||
    (e instanceof RangeError && /call stack|recursion/i.test(e.message)));
}

function article(name) { return (/^[AEIOU]/i.test(name) ? 'an ' : 'a ') + name; }

// Why an object of an unsupported kind cannot be sent.
function describeObject(v, proto) {
  let name = '';
  try {
    const ctor = proto && hasOwn.call(proto, 'constructor') ? proto.constructor : undefined;
    if (typeof ctor === 'function' && typeof ctor.name === 'string') name = ctor.name;
  } catch { /* a hostile proxy or getter: keep the generic description */ }
  if (typeof Node === 'function' && v instanceof Node) return `a DOM node (${name || 'Node'})`;
  switch (name) {
    case 'Promise': case 'WeakMap': case 'WeakSet': case 'WeakRef': case 'FinalizationRegistry':
    case 'Proxy': case 'Generator': case 'AsyncGenerator': case 'Number': case 'String':
    case 'Boolean': case 'BigInt': case 'Symbol':
      return article(name);
    case '':
      return 'an object with a non-plain prototype';
    default:
      return `an instance of ${name}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Encoder

class Encoder {
  constructor(size) {
    this.alloc(size);
    this.pos = 0;
    this.seen = [];       // objects by number while there are few of them
    this.seenMap = null;  // object -> number once there are many
    this.count = 0;
    this.hook = null;
    this.busy = false;
  }

  alloc(size) {
    this.buf = new ArrayBuffer(size);
    this.u8 = new Uint8Array(this.buf);
    this.dv = new DataView(this.buf);
  }

  grow(need) {
    let size = this.u8.length * 2;
    while (size < need) size *= 2;
    const old = this.u8;
    this.alloc(size);
    this.u8.set(old.subarray(0, this.pos));
  }

  ensure(n) { if (this.pos + n > this.u8.length) this.grow(this.pos + n); }

  reset() {
    const seen = this.seen;
    for (let i = 0, n = Math.min(this.count, seen.length); i < n; i++) seen[i] = undefined;
    this.seenMap = null;
    this.count = 0;
    this.pos = 0;
    this.hook = null;
    this.busy = false;
    if (this.u8.length > KEEP_SCRATCH) this.alloc(4096);
  }

  byte(b) {
    if (this.pos >= this.u8.length) this.grow(this.pos + 1);
    this.u8[this.pos++] = b;
  }

  varint(n) {
    if (n < 0x80) { this.byte(n); return; }
    this.ensure(8);
    const u8 = this.u8;
    let p = this.pos;
    while (n >= 0x80) { u8[p++] = (n & 0x7f) | 0x80; n = Math.floor(n / 128); }
    u8[p++] = n;
    this.pos = p;
  }

  // The number of an object already in this message, or -1 (and the object gets the next one).
  lookup(v) {
    if (this.seenMap !== null) {
      const i = this.seenMap.get(v);
      if (i !== undefined) return i;
      this.seenMap.set(v, this.count++);
      return -1;
    }
    const seen = this.seen;
    const n = this.count;
    for (let i = 0; i < n; i++) if (seen[i] === v) return i;
    if (n < LINEAR_SEEN) {
      seen[n] = v;
    } else {
      const map = new Map();
      for (let i = 0; i < n; i++) { map.set(seen[i], i); seen[i] = undefined; }
      map.set(v, n);
      this.seenMap = map;
    }
    this.count = n + 1;
    return -1;
  }

  value(v) {
    switch (typeof v) {
      case 'number': this.number(v); return;
      case 'string': this.byte(T_STRING); this.str(v); return;
      case 'object':
        if (v === null) this.byte(T_NULL);
        else this.object(v);
        return;
      case 'boolean': this.byte(v ? T_TRUE : T_FALSE); return;
      case 'undefined': this.byte(T_UNDEFINED); return;
      case 'bigint': this.bigint(v); return;
      case 'function': throw new SendError('a function');
      case 'symbol': throw new SendError('a symbol');
      default: throw new SendError(`a value of type ${typeof v}`);
    }
  }

  number(v) {
    this.ensure(9);
    const p = this.pos;
    if ((v | 0) === v && (v !== 0 || 1 / v > 0)) {
      if (v >= -128 && v < 128) {
        this.u8[p] = T_INT8;
        this.u8[p + 1] = v;
        this.pos = p + 2;
      } else {
        this.u8[p] = T_INT32;
        this.dv.setInt32(p + 1, v, true);
        this.pos = p + 5;
      }
    } else {
      this.u8[p] = T_FLOAT64;
      this.dv.setFloat64(p + 1, v, true);
      this.pos = p + 9;
    }
  }

  bigint(v) {
    const neg = v < 0n;
    const m = neg ? -v : v;
    this.byte(neg ? T_NEG_BIGINT : T_BIGINT);
    if (m <= 0xffffffffffffffffn) {
      this.ensure(9);
      const p = this.pos + 1;
      this.dv.setBigUint64(p, m, true);
      let n = 8;
      while (n > 0 && this.u8[p + n - 1] === 0) n--;
      this.u8[this.pos] = n;
      this.pos = p + n;
      return;
    }
    let hex = m.toString(16);
    if (hex.length & 1) hex = '0' + hex;
    const n = hex.length >> 1;
    this.varint(n);
    this.ensure(n);
    const u8 = this.u8;
    const p = this.pos;
    // hex is most significant first; the format is least significant first.
    for (let i = 0, j = hex.length - 2; i < n; i++, j -= 2) {
      u8[p + i] = hexVal(hex.charCodeAt(j)) * 16 + hexVal(hex.charCodeAt(j + 1));
    }
    this.pos = p + n;
  }

  // A raw string: varint (2 * byteLength + kind), then the bytes.
  str(s) {
    const n = s.length;
    if (n < 64) {
      this.ensure(n + 1);
      const u8 = this.u8;
      const p = this.pos + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        u8[p + i] = c;
      }
      if (i === n) {
        u8[this.pos] = n << 1;
        this.pos = p + n;
        return;
      }
    }
    this.strSlow(s);
  }

  strSlow(s) {
    const n = s.length;
    if (isWellFormed(s)) {
      const max = n * 3;
      const hb = varintSize(max * 2);
      this.ensure(hb + max);
      const start = this.pos + hb;
      const { written } = textEncoder.encodeInto(s, this.u8.subarray(start, start + max));
      const h = written * 2;
      const hb2 = varintSize(h);
      if (hb2 < hb) this.u8.copyWithin(this.pos + hb2, start, start + written);
      this.varint(h);
      this.pos += written;
    } else {
      this.varint(n * 4 + 1);
      this.ensure(n * 2);
      const u8 = this.u8;
      let p = this.pos;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        u8[p++] = c & 0xff;
        u8[p++] = c >>> 8;
      }
      this.pos = p;
    }
  }

  object(v) {
    const ref = this.lookup(v);
    if (ref >= 0) {
      this.byte(T_REF);
      this.varint(ref);
      return;
    }
    if (isArray(v)) { this.array(v); return; }
    const proto = getProto(v);
    if (proto === ObjectProto) { this.props(T_OBJECT, v); return; }
    if (proto === null) { this.props(T_NULL_OBJECT, v); return; }
    this.special(v, proto);
  }

  array(v) {
    const n = v.length;
    this.byte(T_ARRAY);
    this.varint(n);
    let i = 0;
    try {
      for (; i < n; i++) this.value(v[i]);
    } catch (e) {
      throw withSeg(e, '[' + i + ']');
    }
  }

  props(tag, v) {
    const keys = objectKeys(v);
    const n = keys.length;
    this.byte(tag);
    this.varint(n);
    this.propList(v, keys, n);
  }

  propList(v, keys, n) {
    let i = 0;
    try {
      for (; i < n; i++) {
        const k = keys[i];
        this.str(k);
        this.value(v[k]);
      }
    } catch (e) {
      throw withSeg(e, keySeg(keys[i]));
    }
  }

  // Everything that is neither an array nor a plain object.
  special(v, proto) {
    if (this.hook !== null) {
      const id = this.hook(v);
      if (id !== undefined) { this.handle(id); return; }
    }
    if (v instanceof Map) { this.map(v); return; }
    if (v instanceof Set) { this.set(v); return; }
    if (v instanceof Date) {
      this.ensure(9);
      this.u8[this.pos] = T_DATE;
      this.dv.setFloat64(this.pos + 1, Date.prototype.getTime.call(v), true);
      this.pos += 9;
      return;
    }
    if (v instanceof RegExp) {
      this.byte(T_REGEXP);
      this.str(v.source);
      this.str(v.flags);
      return;
    }
    if (isView(v)) { this.view(v); return; }
    if (v instanceof ArrayBuffer) {
      const n = v.byteLength;
      this.byte(T_ARRAYBUFFER);
      this.varint(n);
      this.ensure(n);
      this.u8.set(new Uint8Array(v), this.pos);
      this.pos += n;
      return;
    }
    if (v instanceof Error) { this.error(v); return; }
    if (HasSAB && v instanceof SharedArrayBuffer) {
      throw new SendError(null, 'a SharedArrayBuffer cannot cross goroutines as a value ' +
        '(it would be copied, not shared); send a typed array over it to copy its bytes');
    }
    throw new SendError(describeObject(v, proto));
  }

  handle(id) {
    if (typeof id === 'number' && id >= 0 && id <= MAX_SAFE && Math.floor(id) === id) {
      if (id <= 0xffffffff) {
        this.ensure(5);
        this.u8[this.pos] = T_HANDLE;
        this.dv.setUint32(this.pos + 1, id, true);
        this.pos += 5;
        return;
      }
      id = BigInt(id);
    }
    if (typeof id === 'bigint' && id >= 0n && id <= 0xffffffffffffffffn) {
      if (id <= 0xffffffffn) { this.handle(Number(id)); return; }
      this.ensure(9);
      this.u8[this.pos] = T_HANDLE64;
      this.dv.setBigUint64(this.pos + 1, id, true);
      this.pos += 9;
      return;
    }
    throw new SendError(null,
      `the handle hook returned ${describeKey(id)}, not a u64 id or undefined`);
  }

  map(m) {
    const size = m.size;
    this.byte(T_MAP);
    this.varint(size);
    let done = 0;
    let key;
    let inKey = true;
    try {
      for (const entry of m) {
        if (done === size) break;
        key = entry[0];
        inKey = true;
        this.value(key);
        inKey = false;
        this.value(entry[1]);
        done++;
      }
    } catch (e) {
      throw withSeg(e, inKey ? '<Map key>' : `<Map value of ${describeKey(key)}>`);
    }
    if (done !== size) throw new SendError(null, 'a Map changed size while it was being sent');
  }

  set(s) {
    const size = s.size;
    this.byte(T_SET);
    this.varint(size);
    let done = 0;
    try {
      for (const x of s) {
        if (done === size) break;
        this.value(x);
        done++;
      }
    } catch (e) {
      throw withSeg(e, '<Set element>');
    }
    if (done !== size) throw new SendError(null, 'a Set changed size while it was being sent');
  }

  view(v) {
    const tag = typedArrayTag.call(v);
    const kind = tag === undefined ? VIEW_KIND_DATAVIEW : VIEW_KIND[tag];
    if (kind === undefined) throw new SendError(article(String(tag)));
    const n = v.byteLength;
    this.byte(T_VIEW);
    this.byte(kind);
    this.varint(n);
    this.ensure(n);
    this.u8.set(new Uint8Array(v.buffer, v.byteOffset, n), this.pos);
    this.pos += n;
  }

  error(v) {
    let name = v.name;
    name = typeof name === 'string' ? name : name === undefined ? 'Error' : String(name);
    let message = hasOwn.call(v, 'message') ? v.message : undefined;
    if (message !== undefined && typeof message !== 'string') message = String(message);
    const stack = typeof v.stack === 'string' ? v.stack : undefined;
    const hasCause = hasOwn.call(v, 'cause');
    const errors = HasAggregate && v instanceof AggregateError && isArray(v.errors)
      ? v.errors : undefined;
    const flags = (message !== undefined ? E_MESSAGE : 0) | (stack !== undefined ? E_STACK : 0) |
      (hasCause ? E_CAUSE : 0) | (errors !== undefined ? E_ERRORS : 0);
    this.byte(T_ERROR);
    this.byte(flags);
    this.str(name);
    if (message !== undefined) this.str(message);
    if (stack !== undefined) this.str(stack);
    let seg = '.cause';
    try {
      if (hasCause) this.value(v.cause);
      seg = '.errors';
      if (errors !== undefined) this.value(errors);
    } catch (e) {
      throw withSeg(e, seg);
    }
    const keys = objectKeys(v).filter(
      (k) => k !== 'name' && k !== 'message' && k !== 'stack' && k !== 'cause' &&
        !(errors !== undefined && k === 'errors'));
    this.varint(keys.length);
    this.propList(v, keys, keys.length);
  }
}

function hexVal(c) { return c <= 57 ? c - 48 : c - 87; }  // '0'-'9', 'a'-'f'

const sharedEncoder = new Encoder(4096);

/**
 * Encodes a value for another goroutine. `where` names the value in error messages
 * ('argument 1', 'result', 'channel value'); `options.handle(obj)` may return a u64 id
 * (number or bigint) to send a runtime handle in place of an object it recognizes; it is asked
 * about every object that is neither an array nor a plain object.
 * Throws a TypeError naming the path of the first value that cannot be sent.
 */
export function encode(value, where = 'value', options = undefined) {
  const enc = sharedEncoder.busy ? new Encoder(256) : sharedEncoder;
  enc.busy = true;
  const hook = options != null ? options.handle : undefined;
  enc.hook = typeof hook === 'function' ? hook : null;
  try {
    enc.value(value);
    return enc.u8.slice(0, enc.pos);
  } catch (e) {
    if (e instanceof SendError) throw e.toTypeError(where);
    if (isStackOverflow(e)) {
      throw new RangeError(`cannot send ${where}: it is nested too deeply (${e.message})`, { cause: e });
    }
    throw e;
  } finally {
    enc.reset();
  }
}

// ---------------------------------------------------------------------------------------------
// Decoder

function corrupt(msg, offset) {
  return new RangeError(`gort codec: malformed input: ${msg} at offset ${offset}`);
}

class Decoder {
  constructor(size) {
    this.alloc(size);
    this.pos = 0;
    this.end = 0;
    this.refs = [];
    this.nrefs = 0;
    this.hook = null;
    this.busy = false;
  }

  alloc(size) {
    this.u8 = new Uint8Array(size);
    this.dv = new DataView(this.u8.buffer);
  }

  load(bytes) {
    const n = bytes.length;
    if (n > this.u8.length) {
      let size = this.u8.length * 2;
      while (size < n) size *= 2;
      this.alloc(size);
    }
    this.u8.set(bytes);
    this.pos = 0;
    this.end = n;
  }

  reset() {
    const refs = this.refs;
    for (let i = 0; i < this.nrefs; i++) refs[i] = undefined;
    this.nrefs = 0;
    this.hook = null;
    this.busy = false;
    if (this.u8.length > KEEP_SCRATCH) this.alloc(4096);
  }

  need(n) {
    if (this.pos + n > this.end) {
      throw new RangeError(`gort codec: truncated input: ${n} more byte${n === 1 ? '' : 's'} ` +
        `needed at offset ${this.pos}, ${this.end - this.pos} left`);
    }
  }

  // Checks that `n` items of at least `each` bytes can still follow.
  count(n, each, what) {
    if (n * each > this.end - this.pos) {
      throw new RangeError(`gort codec: truncated input: ${what} of ${n} at offset ${this.pos} ` +
        `does not fit in the ${this.end - this.pos} bytes left`);
    }
  }

  varint() {
    const start = this.pos;
    const u8 = this.u8;
    let n = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.end) this.need(1);
      const b = u8[this.pos++];
      n += (b & 0x7f) * mul;
      if (b < 0x80) {
        if (n > MAX_SAFE) throw corrupt('varint out of range', start);
        return n;
      }
      mul *= 128;
    }
    throw corrupt('varint too long', start);
  }

  add(obj) { this.refs[this.nrefs++] = obj; }

  value() {
    if (this.pos >= this.end) this.need(1);
    const at = this.pos;
    const tag = this.u8[this.pos++];
    switch (tag) {
      case T_UNDEFINED: return undefined;
      case T_NULL: return null;
      case T_FALSE: return false;
      case T_TRUE: return true;
      case T_INT8:
        this.need(1);
        return (this.u8[this.pos++] << 24) >> 24;
      case T_INT32: {
        this.need(4);
        const v = this.dv.getInt32(this.pos, true);
        this.pos += 4;
        return v;
      }
      case T_FLOAT64: {
        this.need(8);
        const v = this.dv.getFloat64(this.pos, true);
        this.pos += 8;
        return v;
      }
      case T_BIGINT: return this.bigint();
      case T_NEG_BIGINT: return -this.bigint();
      case T_STRING: return this.str();
      case T_ARRAY: {
        const n = this.varint();
        this.count(n, 1, 'an array');
        const a = [];
        this.add(a);
        for (let i = 0; i < n; i++) a.push(this.value());
        return a;
      }
      case T_OBJECT: return this.props({});
      case T_NULL_OBJECT: return this.props(Object.create(null));
      case T_MAP: {
        const n = this.varint();
        this.count(n, 2, 'a map');
        const m = new Map();
        this.add(m);
        for (let i = 0; i < n; i++) {
          const k = this.value();
          m.set(k, this.value());
        }
        return m;
      }
      case T_SET: {
        const n = this.varint();
        this.count(n, 1, 'a set');
        const s = new Set();
        this.add(s);
        for (let i = 0; i < n; i++) s.add(this.value());
        return s;
      }
      case T_DATE: {
        this.need(8);
        const d = new Date(this.dv.getFloat64(this.pos, true));
        this.pos += 8;
        this.add(d);
        return d;
      }
      case T_REGEXP: {
        const source = this.str();
        const flags = this.str();
        let re;
        try {
          re = new RegExp(source, flags);
        } catch (e) {
          throw new TypeError(`gort codec: malformed input: bad RegExp at offset ${at}: ` +
            e.message, { cause: e });
        }
        this.add(re);
        return re;
      }
      case T_ARRAYBUFFER: {
        const n = this.varint();
        this.need(n);
        const buf = this.u8.slice(this.pos, this.pos + n).buffer;
        this.pos += n;
        this.add(buf);
        return buf;
      }
      case T_VIEW: return this.view(at);
      case T_ERROR: return this.error(at);
      case T_HANDLE: {
        this.need(4);
        const id = this.dv.getUint32(this.pos, true);
        this.pos += 4;
        return this.handle(id, at);
      }
      case T_HANDLE64: {
        this.need(8);
        const big = this.dv.getBigUint64(this.pos, true);
        this.pos += 8;
        return this.handle(big <= BigInt(MAX_SAFE) ? Number(big) : big, at);
      }
      case T_REF: {
        const i = this.varint();
        if (i >= this.nrefs) {
          throw corrupt(`reference to object ${i} of ${this.nrefs}`, at);
        }
        return this.refs[i];
      }
      default:
        throw new TypeError(`gort codec: malformed input: unknown tag 0x${
          tag.toString(16).padStart(2, '0')} at offset ${at}`);
    }
  }

  bigint() {
    const n = this.varint();
    this.need(n);
    const u8 = this.u8;
    const p = this.pos;
    this.pos += n;
    if (n <= 6) {
      let v = 0;
      for (let i = n - 1; i >= 0; i--) v = v * 256 + u8[p + i];
      return BigInt(v);
    }
    if (n <= 8) {
      let lo = 0;
      let hi = 0;
      for (let i = 3; i >= 0; i--) lo = lo * 256 + u8[p + i];
      for (let i = n - 1; i >= 4; i--) hi = hi * 256 + u8[p + i];
      return (BigInt(hi) << 32n) | BigInt(lo);
    }
    const parts = new Array(n);
    for (let i = 0; i < n; i++) parts[i] = HEX[u8[p + n - 1 - i]];
    return BigInt('0x' + parts.join(''));
  }

  str() {
    const at = this.pos;
    const h = this.varint();
    const len = Math.floor(h / 2);
    this.need(len);
    const u8 = this.u8;
    const p = this.pos;
    this.pos += len;
    if (h % 2 === 0) {
      if (len <= 16) {
        let s = '';
        let i = 0;
        for (; i < len; i++) {
          const c = u8[p + i];
          if (c > 0x7f) break;
          s += String.fromCharCode(c);
        }
        if (i === len) return s;
      }
      try {
        return textDecoder.decode(u8.subarray(p, p + len));
      } catch {
        throw new TypeError(`gort codec: malformed input: invalid UTF-8 at offset ${at}`);
      }
    }
    if (len % 2 !== 0) throw corrupt('odd UTF-16 byte length', at);
    let s = '';
    const chunk = [];
    for (let i = 0; i < len; i += 2) {
      chunk.push(u8[p + i] | (u8[p + i + 1] << 8));
      if (chunk.length === 4096) {
        s += String.fromCharCode.apply(null, chunk);
        chunk.length = 0;
      }
    }
    return s + String.fromCharCode.apply(null, chunk);
  }

  props(o) {
    const n = this.varint();
    this.count(n, 2, 'an object');
    this.add(o);
    this.propsInto(o, n);
    return o;
  }

  propsInto(o, n) {
    for (let i = 0; i < n; i++) {
      const k = this.str();
      const v = this.value();
      if (k === '__proto__') {
        Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
      } else {
        o[k] = v;
      }
    }
  }

  view(at) {
    this.need(1);
    const kind = this.u8[this.pos++];
    const Type = VIEW_TYPES[kind];
    if (Type === undefined) {
      throw new TypeError(`gort codec: malformed input: ${kind < VIEW_NAMES.length
        ? VIEW_NAMES[kind] + ' is not available here' : 'unknown view kind ' + kind} at offset ${at}`);
    }
    const n = this.varint();
    this.need(n);
    if (kind !== VIEW_KIND_DATAVIEW && n % Type.BYTES_PER_ELEMENT !== 0) {
      throw corrupt(`${VIEW_NAMES[kind]} of ${n} bytes`, at);
    }
    const buf = this.u8.slice(this.pos, this.pos + n).buffer;
    this.pos += n;
    const v = new Type(buf);
    this.add(v);
    return v;
  }

  error(at) {
    this.need(1);
    const flags = this.u8[this.pos++];
    if (flags > 15) throw corrupt(`error flags 0x${flags.toString(16)}`, at);
    const name = this.str();
    const message = flags & E_MESSAGE ? this.str() : undefined;
    const stack = flags & E_STACK ? this.str() : undefined;
    const Type = hasOwn.call(ERROR_TYPES, name) ? ERROR_TYPES[name] : Error;
    const err = Type === ERROR_TYPES.AggregateError ? new Type([]) : new Type();
    const hidden = (k, v) => Object.defineProperty(err, k, {
      value: v, writable: true, enumerable: false, configurable: true,
    });
    if (Type.prototype.name !== name) hidden('name', name);
    if (message !== undefined) hidden('message', message);
    if (stack !== undefined) hidden('stack', stack);
    else delete err.stack;
    this.add(err);
    if (flags & E_CAUSE) hidden('cause', this.value());
    if (flags & E_ERRORS) hidden('errors', this.value());
    const n = this.varint();
    this.count(n, 2, 'error properties');
    this.propsInto(err, n);
    return err;
  }

  handle(id, at) {
    if (this.hook === null) {
      throw new TypeError(`gort codec: runtime handle ${id} at offset ${at} but decode was ` +
        'given no handle option');
    }
    const obj = this.hook(id);
    this.add(obj);
    return obj;
  }
}

const sharedDecoder = new Decoder(4096);

/**
 * Decodes bytes made by encode. `bytes` is a Uint8Array (a view of a SharedArrayBuffer is
 * fine: it is copied first) or an ArrayBuffer; `options.handle(id)` turns runtime handle ids
 * back into objects. Throws a RangeError or TypeError for malformed or truncated input.
 */
export function decode(bytes, options = undefined) {
  if (!(bytes instanceof Uint8Array)) {
    if (bytes instanceof ArrayBuffer || (HasSAB && bytes instanceof SharedArrayBuffer)) {
      bytes = new Uint8Array(bytes);
    } else if (isView(bytes)) {
      bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } else {
      throw new TypeError('gort codec: decode expects a Uint8Array');
    }
  }
  const dec = sharedDecoder.busy ? new Decoder(Math.max(64, bytes.length)) : sharedDecoder;
  dec.busy = true;
  const hook = options != null ? options.handle : undefined;
  dec.hook = typeof hook === 'function' ? hook : null;
  try {
    dec.load(bytes);
    const v = dec.value();
    if (dec.pos !== dec.end) {
      throw new RangeError(`gort codec: malformed input: ${dec.end - dec.pos} trailing ` +
        `byte${dec.end - dec.pos === 1 ? '' : 's'} at offset ${dec.pos}`);
    }
    return v;
  } catch (e) {
    if (isStackOverflow(e)) {
      throw new RangeError(`gort codec: input nested too deeply (${e.message})`, { cause: e });
    }
    throw e;
  } finally {
    dec.reset();
  }
}
