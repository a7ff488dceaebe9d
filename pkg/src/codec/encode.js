// gort value codec, the encoder: a JS value to bytes in the format of format.js.
//
// encode writes into one module-level scratch buffer (grown by doubling, dropped again after an
// unusually large message), but for the bytes of large ArrayBuffers and views: those are
// noted as splices (where they go, and a view of them where they lie) and copied only once,
// straight into the message's destination (the wasm memory, for a runtime's Message), when the
// exact length is known. Small integers and short ASCII strings take fast paths. Object
// identity is tracked with a short linear list, switching to a Map only for messages with many
// objects. A value that cannot be sent is a TypeError naming
// its path (SendError below collects the path on the way out).

import {
  E_CAUSE,
  E_ERRORS,
  E_MESSAGE,
  E_STACK,
  HasAggregate,
  MAX_SAFE,
  T_ARRAY,
  T_ARRAYBUFFER,
  T_BIGINT,
  T_DATE,
  T_ERROR,
  T_FALSE,
  T_FLOAT64,
  T_HANDLE,
  T_HANDLE64,
  T_INT32,
  T_INT8,
  T_MAP,
  T_NEG_BIGINT,
  T_NULL,
  T_NULL_OBJECT,
  T_OBJECT,
  T_REF,
  T_REGEXP,
  T_SET,
  T_SHARED,
  T_SHARED_IDS,
  T_SHARED_VIEW,
  T_STRING,
  T_TRUE,
  T_UNDEFINED,
  T_VIEW,
  VIEW_KIND_DATAVIEW,
  VIEW_NAMES,
  isStackOverflow,
} from './format.js';

const VIEW_KIND = Object.create(null);
VIEW_NAMES.forEach((name, i) => {
  VIEW_KIND[name] = i;
});

const ObjectProto = Object.prototype;
const getProto = Object.getPrototypeOf;
const objectKeys = Object.keys;
const isArray = Array.isArray;
const isView = ArrayBuffer.isView;
const hasOwn = Object.prototype.hasOwnProperty;
// Returns 'Uint8Array' etc. for any typed array (subclasses included), undefined otherwise.
const typedArrayTag = Object.getOwnPropertyDescriptor(getProto(Uint8Array.prototype), Symbol.toStringTag).get;
const HasSAB = typeof SharedArrayBuffer === 'function';

const textEncoder = new TextEncoder();
const isWellFormed =
  typeof String.prototype.isWellFormed === 'function'
    ? (s) => s.isWellFormed()
    : (s) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

const KEEP_SCRATCH = 1 << 20; // scratch buffers larger than this are not kept between calls
const SPLICE_MIN = 4096; // byte payloads at least this long are spliced in, not staged in scratch
const LINEAR_SEEN = 24; // identity list length before switching to a Map

function varintSize(n) {
  let s = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    s++;
  }
  return s;
}

// Thrown inside encode when a value cannot be sent; collects the path on its way out
// (innermost segment first) and becomes a TypeError at the top.
class SendError {
  constructor(what, message) {
    this.what = what; // "a function", used as `${what} cannot cross goroutines`
    this.message = message; // or a complete reason
    this.segs = [];
  }
  toTypeError(where) {
    let path = String(where);
    for (let i = this.segs.length - 1; i >= 0; i--) path += this.segs[i];
    const reason = this.message || `${this.what} cannot cross goroutines`;
    return new TypeError(`cannot send ${path}: ${reason}`);
  }
}

/**
 * For a `handle` hook that recognizes an object it must refuse: throw this, and `encode` throws
 * a TypeError that names the object's path and gives `reason`.
 */
export function cannotSend(reason) {
  return new SendError(null, reason);
}

function withSeg(e, seg) {
  if (e instanceof SendError) e.segs.push(seg);
  return e;
}

const IDENT = /^[A-Za-z_$][\w$]*$/;
function keySeg(k) {
  return IDENT.test(k) ? '.' + k : '[' + JSON.stringify(k) + ']';
}

function describeKey(k) {
  switch (typeof k) {
    case 'string':
      return JSON.stringify(k.length > 40 ? k.slice(0, 40) + '…' : k);
    case 'number':
      return Object.is(k, -0) ? '-0' : String(k);
    case 'bigint':
      return k + 'n';
    case 'boolean':
    case 'undefined':
      return String(k);
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    default:
      if (k === null) return 'null';
      if (isArray(k)) return '[…]';
      return '{…}';
  }
}

function article(name) {
  return (/^[AEIOU]/i.test(name) ? 'an ' : 'a ') + name;
}

// Why an object of an unsupported kind cannot be sent.
function describeObject(v, proto) {
  let name = '';
  try {
    const ctor = proto && hasOwn.call(proto, 'constructor') ? proto.constructor : undefined;
    if (typeof ctor === 'function' && typeof ctor.name === 'string') name = ctor.name;
  } catch {
    /* a hostile proxy or getter: keep the generic description */
  }
  if (typeof Node === 'function' && v instanceof Node) return `a DOM node (${name || 'Node'})`;
  switch (name) {
    case 'Promise':
    case 'WeakMap':
    case 'WeakSet':
    case 'WeakRef':
    case 'FinalizationRegistry':
    case 'Proxy':
    case 'Generator':
    case 'AsyncGenerator':
    case 'Number':
    case 'String':
    case 'Boolean':
    case 'BigInt':
    case 'Symbol':
      return article(name);
    case '':
      return 'an object with a non-plain prototype';
    default:
      return `an instance of ${name}`;
  }
}

class Encoder {
  constructor(size) {
    this.alloc(size);
    this.pos = 0;
    this.seen = []; // objects by number while there are few of them
    this.seenMap = null; // object -> number once there are many
    this.count = 0;
    this.hook = null;
    this.sharedHook = null; // (SharedArrayBuffer) => id | undefined
    this.admit = null; // (bytes) => void: throws if a message of that many bytes cannot be taken
    this.busy = false;
    this.splices = []; // scratch position, Uint8Array of the bytes that go there, their count; in order
    this.spliced = 0; // bytes in splices: the message is pos + spliced long
    this.sharedIds = []; // ids of the shared buffers this message names, by index
    this.sharedIndex = null; // id -> index in sharedIds, once there is one
  }

  alloc(size) {
    this.buf = new ArrayBuffer(size);
    this.u8 = new Uint8Array(this.buf);
    this.dv = new DataView(this.buf);
  }

  // `least`: bytes the message will surely take (`need` may be an upper bound, for a string).
  grow(need, least = need) {
    // A value too large for its destination is refused before the scratch grows for it.
    if (this.admit !== null) this.admit(least + this.spliced);
    let size = this.u8.length * 2;
    while (size < need) size *= 2;
    const old = this.u8;
    this.alloc(size);
    this.u8.set(old.subarray(0, this.pos));
  }

  ensure(n, least = n) {
    if (this.pos + n > this.u8.length) this.grow(this.pos + n, this.pos + least);
  }

  reset() {
    const seen = this.seen;
    for (let i = 0, n = Math.min(this.count, seen.length); i < n; i++) seen[i] = undefined;
    this.seenMap = null;
    this.count = 0;
    this.pos = 0;
    this.hook = null;
    this.sharedHook = null;
    this.admit = null;
    this.busy = false;
    this.splices.length = 0;
    this.spliced = 0;
    this.sharedIds.length = 0;
    this.sharedIndex = null;
    if (this.u8.length > KEEP_SCRATCH) this.alloc(4096);
  }

  // `src`'s bytes (a Uint8Array), at the current position.
  bytes(src) {
    const n = src.length;
    if (n < SPLICE_MIN) {
      this.ensure(n);
      this.u8.set(src, this.pos);
      this.pos += n;
      return;
    }
    this.spliced += n;
    if (this.admit !== null) this.admit(this.pos + this.spliced);
    this.splices.push(this.pos, src, n);
  }

  // The message's length: the scratch bytes and the spliced ones.
  length() {
    return this.pos + this.spliced;
  }

  // Copies the message into `out` (a Uint8Array of length()): each byte once. A SendError if
  // a getter or hook that ran later in the same encode detached or shrank a spliced buffer.
  writeTo(out) {
    const u8 = this.u8;
    const sp = this.splices;
    let from = 0; // in scratch
    let to = 0; // in out
    for (let i = 0; i < sp.length; i += 3) {
      const at = sp[i];
      const src = sp[i + 1];
      if (src.length !== sp[i + 2])
        throw new SendError(null, 'an ArrayBuffer was detached or shrunk while it was being sent');
      out.set(u8.subarray(from, at), to);
      to += at - from;
      from = at;
      out.set(src, to);
      to += src.length;
    }
    out.set(u8.subarray(from, this.pos), to);
  }

  // The index of shared buffer `id` in this message's table.
  sharedAt(id) {
    const ids = this.sharedIds;
    let i = this.sharedIndex === null ? ids.indexOf(id) : (this.sharedIndex.get(id) ?? -1);
    if (i >= 0) return i;
    i = ids.push(id) - 1;
    if (this.sharedIndex !== null) this.sharedIndex.set(id, i);
    else if (ids.length > LINEAR_SEEN) this.sharedIndex = new Map(ids.map((x, j) => [x, j]));
    return i;
  }

  // Puts the table of the shared buffers named (T_SHARED_IDS) before the value at `start`.
  sharedTable(start) {
    const end = this.pos;
    this.byte(T_SHARED_IDS);
    this.varint(this.sharedIds.length);
    for (const id of this.sharedIds) this.varint(id);
    const table = this.u8.slice(end, this.pos);
    this.pos = end;
    this.splices.unshift(start, table, table.length);
    this.spliced += table.length;
    if (this.admit !== null) this.admit(this.length());
  }

  // The index in this message's table of the shared buffer `sab` (see the shared hook), or
  // undefined if it is to be copied.
  sharedId(sab) {
    if (this.sharedHook === null) return undefined;
    if (sab.growable) {
      throw new SendError(
        null,
        'a growable SharedArrayBuffer cannot cross goroutines (only fixed-length ones are shared)',
      );
    }
    const id = this.sharedHook(sab);
    if (id === undefined) return undefined;
    if (typeof id !== 'number' || !(id >= 0 && id <= MAX_SAFE) || Math.floor(id) !== id) {
      throw new SendError(null, `the shared hook returned ${describeKey(id)}, not a safe integer id or undefined`);
    }
    return this.sharedAt(id);
  }

  byte(b) {
    if (this.pos >= this.u8.length) this.grow(this.pos + 1);
    this.u8[this.pos++] = b;
  }

  varint(n) {
    if (n < 0x80) {
      this.byte(n);
      return;
    }
    this.ensure(8);
    const u8 = this.u8;
    let p = this.pos;
    while (n >= 0x80) {
      u8[p++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
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
      for (let i = 0; i < n; i++) {
        map.set(seen[i], i);
        seen[i] = undefined;
      }
      map.set(v, n);
      this.seenMap = map;
    }
    this.count = n + 1;
    return -1;
  }

  value(v) {
    switch (typeof v) {
      case 'number':
        this.number(v);
        return;
      case 'string':
        this.byte(T_STRING);
        this.str(v);
        return;
      case 'object':
        if (v === null) this.byte(T_NULL);
        else this.object(v);
        return;
      case 'boolean':
        this.byte(v ? T_TRUE : T_FALSE);
        return;
      case 'undefined':
        this.byte(T_UNDEFINED);
        return;
      case 'bigint':
        this.bigint(v);
        return;
      case 'function':
        throw new SendError('a function');
      case 'symbol':
        throw new SendError('a symbol');
      default:
        throw new SendError(`a value of type ${typeof v}`);
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
      this.ensure(hb + max, hb + n);
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
    if (isArray(v)) {
      this.array(v);
      return;
    }
    const proto = getProto(v);
    if (proto === ObjectProto) {
      this.props(T_OBJECT, v);
      return;
    }
    if (proto === null) {
      this.props(T_NULL_OBJECT, v);
      return;
    }
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
      if (id !== undefined) {
        this.handle(id);
        return;
      }
    }
    if (v instanceof Map) {
      this.map(v);
      return;
    }
    if (v instanceof Set) {
      this.set(v);
      return;
    }
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
    if (isView(v)) {
      this.view(v);
      return;
    }
    if (v instanceof ArrayBuffer) {
      this.byte(T_ARRAYBUFFER);
      this.varint(v.byteLength);
      this.bytes(new Uint8Array(v));
      return;
    }
    if (v instanceof Error) {
      this.error(v);
      return;
    }
    if (HasSAB && v instanceof SharedArrayBuffer) {
      const i = this.sharedId(v);
      if (i === undefined) {
        throw new SendError(
          null,
          this.sharedHook === null
            ? 'a SharedArrayBuffer can cross goroutines only through a runtime, which shares it'
            : "the runtime's own wasm memory cannot cross goroutines (send a view on it: it is copied)",
        );
      }
      this.byte(T_SHARED);
      this.varint(i);
      return;
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
      if (id <= 0xffffffffn) {
        this.handle(Number(id));
        return;
      }
      this.ensure(9);
      this.u8[this.pos] = T_HANDLE64;
      this.dv.setBigUint64(this.pos + 1, id, true);
      this.pos += 9;
      return;
    }
    throw new SendError(null, `the handle hook returned ${describeKey(id)}, not a u64 id or undefined`);
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
    const buffer = v.buffer;
    if (HasSAB && buffer instanceof SharedArrayBuffer) {
      const i = this.sharedId(buffer);
      if (i !== undefined) {
        this.byte(T_SHARED_VIEW);
        this.byte(kind);
        this.varint(i);
        this.varint(v.byteOffset);
        this.varint(n);
        return;
      }
    }
    this.byte(T_VIEW);
    this.byte(kind);
    this.varint(n);
    this.bytes(new Uint8Array(buffer, v.byteOffset, n));
  }

  error(v) {
    let name = v.name;
    name = typeof name === 'string' ? name : name === undefined ? 'Error' : String(name);
    let message = hasOwn.call(v, 'message') ? v.message : undefined;
    if (message !== undefined && typeof message !== 'string') message = String(message);
    const stack = typeof v.stack === 'string' ? v.stack : undefined;
    const hasCause = hasOwn.call(v, 'cause');
    const errors = HasAggregate && v instanceof AggregateError && isArray(v.errors) ? v.errors : undefined;
    const flags =
      (message !== undefined ? E_MESSAGE : 0) |
      (stack !== undefined ? E_STACK : 0) |
      (hasCause ? E_CAUSE : 0) |
      (errors !== undefined ? E_ERRORS : 0);
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
      (k) =>
        k !== 'name' && k !== 'message' && k !== 'stack' && k !== 'cause' && !(errors !== undefined && k === 'errors'),
    );
    this.varint(keys.length);
    this.propList(v, keys, keys.length);
  }
}

function hexVal(c) {
  return c <= 57 ? c - 48 : c - 87;
} // '0'-'9', 'a'-'f'

const sharedEncoder = new Encoder(4096);
const copy = (length, writeTo) => {
  const out = new Uint8Array(length);
  writeTo(out);
  return out;
};

/**
 * Encodes a value for another goroutine. `where` names the value in error messages
 * ('argument 1', 'result', 'channel value'); `options.handle(obj)` may return a u64 id
 * (number or bigint) to send a runtime handle in place of an object it recognizes; it is asked
 * about every object that is neither an array nor a plain object. `options.shared(sab)` may
 * return a safe-integer id to send a (fixed-length) SharedArrayBuffer, and the views on it, by
 * reference (decode's `shared` option gives the buffer back), or undefined to refuse the
 * buffer and copy the views on it; without it views on a SharedArrayBuffer are copied and a
 * bare one is refused.
 * Throws a TypeError naming the path of the first value that cannot be sent.
 */
export function encode(value, where = 'value', options = undefined) {
  return encodeWith(undefined, value, where, options, copy);
}

/**
 * Like encode, but the bytes follow one `tag` byte (a runtime Message's outcome tag) and are
 * handed over by `take(length, writeTo)`, whose result is returned: `take` makes room for
 * `length` bytes (in the wasm memory, say) and calls `writeTo(out)` with a Uint8Array of that
 * length, which copies them there, each byte once, before `take` returns. If `writeTo` throws
 * (a buffer was detached meanwhile), `take` must let go of the room and rethrow.
 * `options.admit(n)`, if given, is called before the message grows to `n` bytes (the tag
 * included) and may throw to refuse a value too large for where it goes, before it is copied;
 * `take` sees the exact length and checks it again.
 */
export function encodeTagged(tag, value, where, options, take) {
  return encodeWith(tag, value, where, options, take);
}

function encodeWith(tag, value, where, options, take) {
  const enc = sharedEncoder.busy ? new Encoder(256) : sharedEncoder;
  enc.busy = true;
  const hook = options != null ? options.handle : undefined;
  enc.hook = typeof hook === 'function' ? hook : null;
  const admit = options != null ? options.admit : undefined;
  enc.admit = typeof admit === 'function' ? admit : null;
  const shared = options != null ? options.shared : undefined;
  enc.sharedHook = typeof shared === 'function' ? shared : null;
  try {
    if (tag !== undefined) enc.byte(tag);
    const start = enc.pos;
    enc.value(value);
    if (enc.sharedIds.length > 0) enc.sharedTable(start);
    return take(enc.length(), (out) => enc.writeTo(out));
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
