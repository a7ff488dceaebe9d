// gort value codec, the decoder: bytes in the format of format.js back to a JS value.

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

const VIEW_TYPES = VIEW_NAMES.map((name) => globalThis[name]);
const hasOwn = Object.prototype.hasOwnProperty;
const getProto = Object.getPrototypeOf;
const Uint8ArrayProto = Uint8Array.prototype;
const isView = ArrayBuffer.isView;
const HasSAB = typeof SharedArrayBuffer === 'function';

const ERROR_TYPES = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};
if (HasAggregate) ERROR_TYPES.AggregateError = AggregateError;

const textDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenientDecoder = new TextDecoder();

const EMPTY = new Uint8Array(0);

// Some engines' TextDecoder rejects views of a SharedArrayBuffer: there (only) the bytes of a
// string are copied into a scratch buffer first.
const DECODES_SHARED = (() => {
  if (!HasSAB) return true;
  try {
    textDecoder.decode(new Uint8Array(new SharedArrayBuffer(1)));
    return true;
  } catch {
    return false;
  }
})();
const KEEP_SCRATCH = 1 << 20; // a larger scratch buffer is not kept after the string it served
let scratch = new Uint8Array(DECODES_SHARED ? 0 : 4096);

/** `bytes` (a Uint8Array) decoded from UTF-8 by `decoder`, wherever the bytes lie. */
function utf8(decoder, bytes) {
  if (DECODES_SHARED || !(bytes.buffer instanceof SharedArrayBuffer)) return decoder.decode(bytes);
  const n = bytes.length;
  if (n > scratch.length) scratch = new Uint8Array(Math.max(n, scratch.length * 2));
  const copy = scratch.subarray(0, n);
  copy.set(bytes);
  if (scratch.length > KEEP_SCRATCH) scratch = new Uint8Array(4096);
  return decoder.decode(copy);
}

/**
 * UTF-8 text (an outcome's error message or JSON), replacing invalid sequences as TextDecoder
 * does; `bytes` may view a SharedArrayBuffer such as the wasm memory.
 */
export function decodeText(bytes) {
  return utf8(lenientDecoder, bytes);
}

const HEX = [];
for (let i = 0; i < 256; i++) HEX.push((i < 16 ? '0' : '') + i.toString(16));

function corrupt(msg, offset) {
  return new RangeError(`gort codec: malformed input: ${msg} at offset ${offset}`);
}

// The decoder reads its input in place: `u8` and `dv` view the caller's bytes (often a
// message lying in the shared wasm memory), positions count from the input's start.
class Decoder {
  constructor() {
    this.u8 = EMPTY;
    this.dv = null; // a DataView over the input, made when first needed
    this.pos = 0;
    this.end = 0;
    this.refs = [];
    this.nrefs = 0;
    this.hook = null;
    this.sharedHook = null;
    this.shared = []; // the buffers of the SHARED_IDS table, by index
    this.busy = false;
  }

  load(bytes) {
    this.u8 = bytes;
    this.dv = null;
    this.pos = 0;
    this.end = bytes.length;
  }

  reset() {
    const refs = this.refs;
    for (let i = 0; i < this.nrefs; i++) refs[i] = undefined;
    this.nrefs = 0;
    this.hook = null;
    this.sharedHook = null;
    this.shared.length = 0;
    this.busy = false;
    this.u8 = EMPTY; // does not keep the input (or the wasm memory it views) reachable
    this.dv = null;
  }

  data() {
    const u8 = this.u8;
    return (this.dv ??= new DataView(u8.buffer, u8.byteOffset, u8.byteLength));
  }

  need(n) {
    if (this.pos + n > this.end) {
      throw new RangeError(
        `gort codec: truncated input: ${n} more byte${n === 1 ? '' : 's'} ` +
          `needed at offset ${this.pos}, ${this.end - this.pos} left`,
      );
    }
  }

  // Checks that `n` items of at least `each` bytes can still follow.
  count(n, each, what) {
    if (n * each > this.end - this.pos) {
      throw new RangeError(
        `gort codec: truncated input: ${what} of ${n} at offset ${this.pos} ` +
          `does not fit in the ${this.end - this.pos} bytes left`,
      );
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

  add(obj) {
    this.refs[this.nrefs++] = obj;
  }

  value() {
    if (this.pos >= this.end) this.need(1);
    const at = this.pos;
    const tag = this.u8[this.pos++];
    switch (tag) {
      case T_UNDEFINED:
        return undefined;
      case T_NULL:
        return null;
      case T_FALSE:
        return false;
      case T_TRUE:
        return true;
      case T_INT8:
        this.need(1);
        return (this.u8[this.pos++] << 24) >> 24;
      case T_INT32: {
        this.need(4);
        const v = this.data().getInt32(this.pos, true);
        this.pos += 4;
        return v;
      }
      case T_FLOAT64: {
        this.need(8);
        const v = this.data().getFloat64(this.pos, true);
        this.pos += 8;
        return v;
      }
      case T_BIGINT:
        return this.bigint();
      case T_NEG_BIGINT:
        return -this.bigint();
      case T_STRING:
        return this.str();
      case T_ARRAY: {
        const n = this.varint();
        this.count(n, 1, 'an array');
        const a = [];
        this.add(a);
        for (let i = 0; i < n; i++) a.push(this.value());
        return a;
      }
      case T_OBJECT:
        return this.props({});
      case T_NULL_OBJECT:
        return this.props(Object.create(null));
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
        const d = new Date(this.data().getFloat64(this.pos, true));
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
          throw new TypeError(`gort codec: malformed input: bad RegExp at offset ${at}: ` + e.message, { cause: e });
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
      case T_VIEW:
        return this.view(at);
      case T_SHARED: {
        const buf = this.sharedBuffer(at);
        this.add(buf);
        return buf;
      }
      case T_SHARED_VIEW:
        return this.sharedView(at);
      case T_ERROR:
        return this.error(at);
      case T_HANDLE: {
        this.need(4);
        const id = this.data().getUint32(this.pos, true);
        this.pos += 4;
        return this.handle(id, at);
      }
      case T_HANDLE64: {
        this.need(8);
        const big = this.data().getBigUint64(this.pos, true);
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
        throw new TypeError(
          `gort codec: malformed input: unknown tag 0x${tag.toString(16).padStart(2, '0')} at offset ${at}`,
        );
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
        return utf8(textDecoder, u8.subarray(p, p + len));
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

  // The ids of a SHARED_IDS table, if the input starts with one (the position moves past it).
  sharedTable() {
    if (this.end === 0 || this.u8[0] !== T_SHARED_IDS) return [];
    this.pos = 1;
    const n = this.varint();
    this.count(n, 1, 'a shared buffer table');
    const ids = [];
    for (let i = 0; i < n; i++) ids.push(this.varint());
    return ids;
  }

  // The shared buffers of the table, from the shared hook.
  resolveShared(ids) {
    if (ids.length === 0) return;
    if (this.sharedHook === null) {
      throw new TypeError('gort codec: the input names shared buffers but decode was given no shared option');
    }
    for (const id of ids) {
      const buf = this.sharedHook(id);
      if (!(HasSAB && buf instanceof SharedArrayBuffer)) {
        throw new TypeError(`gort codec: the shared hook gave no SharedArrayBuffer for id ${id}`);
      }
      this.shared.push(buf);
    }
  }

  sharedBuffer(at) {
    const i = this.varint();
    if (i >= this.shared.length) throw corrupt(`shared buffer ${i} of ${this.shared.length}`, at);
    return this.shared[i];
  }

  viewType(at) {
    this.need(1);
    const kind = this.u8[this.pos++];
    const Type = VIEW_TYPES[kind];
    if (Type === undefined) {
      throw new TypeError(
        `gort codec: malformed input: ${
          kind < VIEW_NAMES.length ? VIEW_NAMES[kind] + ' is not available here' : 'unknown view kind ' + kind
        } at offset ${at}`,
      );
    }
    return kind;
  }

  // Checks that `n` bytes make a whole number of elements of view kind `kind`.
  viewLength(kind, n, at) {
    if (kind !== VIEW_KIND_DATAVIEW && n % VIEW_TYPES[kind].BYTES_PER_ELEMENT !== 0) {
      throw corrupt(`${VIEW_NAMES[kind]} of ${n} bytes`, at);
    }
  }

  view(at) {
    const kind = this.viewType(at);
    const n = this.varint();
    this.need(n);
    this.viewLength(kind, n, at);
    const buf = this.u8.slice(this.pos, this.pos + n).buffer;
    this.pos += n;
    const v = new VIEW_TYPES[kind](buf);
    this.add(v);
    return v;
  }

  sharedView(at) {
    const kind = this.viewType(at);
    const buf = this.sharedBuffer(at);
    const offset = this.varint();
    const n = this.varint();
    this.viewLength(kind, n, at);
    const Type = VIEW_TYPES[kind];
    const size = kind === VIEW_KIND_DATAVIEW ? 1 : Type.BYTES_PER_ELEMENT;
    if (offset + n > buf.byteLength || offset % size !== 0) {
      throw corrupt(`${VIEW_NAMES[kind]} of ${n} bytes at ${offset} on a shared buffer of ${buf.byteLength}`, at);
    }
    const v = new Type(buf, offset, n / size);
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
    const hidden = (k, v) =>
      Object.defineProperty(err, k, {
        value: v,
        writable: true,
        enumerable: false,
        configurable: true,
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
      throw new TypeError(
        `gort codec: runtime handle ${id} at offset ${at} but decode was ` + 'given no handle option',
      );
    }
    const obj = this.hook(id);
    this.add(obj);
    return obj;
  }
}

const sharedDecoder = new Decoder();

/** `bytes` as a plain Uint8Array over the same bytes (see decode). */
function input(bytes) {
  if (bytes === null || typeof bytes !== 'object' || getProto(bytes) !== Uint8ArrayProto) {
    // A plain Uint8Array over the same bytes, so that slicing copies (a subclass such as Node's
    // Buffer may slice into a view).
    if (bytes instanceof ArrayBuffer || (HasSAB && bytes instanceof SharedArrayBuffer)) {
      bytes = new Uint8Array(bytes);
    } else if (isView(bytes)) {
      bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } else {
      throw new TypeError('gort codec: decode expects a Uint8Array');
    }
  }
  return bytes;
}

/**
 * The ids of the shared buffers the value in `bytes` (as decode takes them) names, which
 * decode will ask its `shared` hook for: an empty array if none. Reads only the table.
 */
export function sharedIds(bytes) {
  bytes = input(bytes);
  if (bytes.length === 0 || bytes[0] !== T_SHARED_IDS) return []; // most values: no Decoder made
  const dec = new Decoder();
  dec.load(bytes);
  return dec.sharedTable();
}

/**
 * Decodes bytes made by encode. `bytes` is a Uint8Array, another view or an ArrayBuffer, read in
 * place (a view of a SharedArrayBuffer such as the wasm memory too: nothing may change the bytes
 * meanwhile); `options.handle(id)` turns runtime handle ids back into objects, and
 * `options.shared(id)` shared buffer ids into SharedArrayBuffers. Throws a RangeError or
 * TypeError for malformed or truncated input.
 */
export function decode(bytes, options = undefined) {
  bytes = input(bytes);
  const dec = sharedDecoder.busy ? new Decoder() : sharedDecoder;
  dec.busy = true;
  const hook = options != null ? options.handle : undefined;
  dec.hook = typeof hook === 'function' ? hook : null;
  const shared = options != null ? options.shared : undefined;
  dec.sharedHook = typeof shared === 'function' ? shared : null;
  try {
    dec.load(bytes);
    dec.resolveShared(dec.sharedTable());
    const v = dec.value();
    if (dec.pos !== dec.end) {
      throw new RangeError(
        `gort codec: malformed input: ${dec.end - dec.pos} trailing ` +
          `byte${dec.end - dec.pos === 1 ? '' : 's'} at offset ${dec.pos}`,
      );
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
