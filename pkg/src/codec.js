// gort value codec: turns the JS values that cross goroutines (arguments, results, channel
// messages) into bytes and back, so they can travel through shared wasm memory between realms
// (the main thread and the worker Ms). Plain ES modules, no dependencies:
//
//   codec/format.js   the format (tags, layout, invariants), shared by both sides
//   codec/encode.js   encode(value, where = 'value', { handle(obj) -> id | undefined,
//                     shared(sab) -> id | undefined }) -> Uint8Array;
//                     encodeTagged(tag, ...) for a runtime Message's bytes, without extra copies;
//                     cannotSend(reason), which a handle hook throws to refuse an object
//   codec/decode.js   decode(bytes, { handle(id) -> obj, shared(id) -> sab }) -> value, read
//                     where the bytes lie; sharedIds(bytes), the shared buffers a value names;
//                     decodeText(bytes) for the UTF-8 texts of runtime outcomes

export { cannotSend, encode, encodeTagged } from './codec/encode.js';
export { decode, decodeText, sharedIds } from './codec/decode.js';
