// gort value codec, the format: what encode.js writes and decode.js reads, shared by both.
// The value codec turns the JS values that cross goroutines (arguments, results, channel
// messages) into bytes and back, so they can travel through shared wasm memory between realms
// (the main thread and the worker Ms). Plain ES modules, no dependencies; codec.js exports:
//
//   encode(value, where = 'value', { handle(obj) -> id | undefined,
//                                    shared(sab) -> id | undefined }) -> Uint8Array
//   decode(bytes, { handle(id) -> obj, shared(id) -> SharedArrayBuffer }) -> value
//   sharedIds(bytes) -> the ids of the shared buffers the value names
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
//   0x1c  SHARED_IDS  varint n, n × varint id, then the value: the shared buffers the value
//                     names, in a table before it (only there, at most once)
//   0x1d  SHARED      varint i             * the i-th SharedArrayBuffer of the table
//   0x1e  SHARED_VIEW u8 kind, varint i, varint byteOffset, varint n   * a view (kinds as VIEW)
//                     of n bytes on the i-th SharedArrayBuffer of the table
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
//   two independent buffers.
// - SharedArrayBuffers are shared, as structured clone shares them: with encode's `shared`
//   hook, a fixed-length SharedArrayBuffer, and every view on one, travels as an id (which the
//   hook gives and decode's `shared` hook turns back into the buffer: see pkg/src/shared.js for
//   how a runtime gets the buffer to every thread); the ids a value names are listed once, in
//   the SHARED_IDS table before it, so a receiver learns which buffers it needs before it
//   decodes anything. Views decode over the same buffer with their own byteOffset and length;
//   one buffer named twice decodes as one. A growable SharedArrayBuffer is a TypeError. Without
//   the hook (or where it declines a buffer: the runtime's own wasm memory) views on a
//   SharedArrayBuffer are copied like any view, and a bare one is a TypeError.
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
// Performance (see encode.js and decode.js): encode writes into one module-level scratch buffer
// but for large byte payloads, which it copies only once, straight to where the message goes;
// decode reads its input where it lies (a view on the shared wasm memory included) and copies
// only what becomes a JS value's own bytes, once.

export const T_UNDEFINED = 0x00;
export const T_NULL = 0x01;
export const T_FALSE = 0x02;
export const T_TRUE = 0x03;
export const T_INT8 = 0x04;
export const T_INT32 = 0x05;
export const T_FLOAT64 = 0x06;
export const T_BIGINT = 0x07;
export const T_NEG_BIGINT = 0x08;
export const T_STRING = 0x09;
export const T_ARRAY = 0x10;
export const T_OBJECT = 0x11;
export const T_NULL_OBJECT = 0x12;
export const T_MAP = 0x13;
export const T_SET = 0x14;
export const T_DATE = 0x15;
export const T_REGEXP = 0x16;
export const T_ARRAYBUFFER = 0x17;
export const T_VIEW = 0x18;
export const T_ERROR = 0x19;
export const T_HANDLE = 0x1a;
export const T_HANDLE64 = 0x1b;
export const T_SHARED_IDS = 0x1c;
export const T_SHARED = 0x1d;
export const T_SHARED_VIEW = 0x1e;
export const T_REF = 0x1f;

// ERROR flags.
export const E_MESSAGE = 1;
export const E_STACK = 2;
export const E_CAUSE = 4;
export const E_ERRORS = 8;

// VIEW kinds, by index. Float16Array is used when the platform has it.
export const VIEW_NAMES = [
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
  'DataView',
  'Float16Array',
];
export const VIEW_KIND_DATAVIEW = 11;

// Largest varint value (ids, counts and lengths beyond it are malformed).
export const MAX_SAFE = Number.MAX_SAFE_INTEGER;

export const HasAggregate = typeof AggregateError === 'function';

// V8 and JavaScriptCore throw a RangeError, SpiderMonkey an InternalError.
export function isStackOverflow(e) {
  return (
    e != null && (e.name === 'InternalError' || (e instanceof RangeError && /call stack|recursion/i.test(e.message)))
  );
}
