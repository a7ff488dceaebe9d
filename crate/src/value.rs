//! Values shared with JavaScript, as Rust sees them: the dynamic [`Value`], the conversions
//! between Rust types and it ([`IntoValue`], [`FromValue`]), and the facade's value codec in
//! Rust ([`encode`], [`decode`]), so that Rust goroutines and JS goroutines exchange real JS
//! values over the same channels (`JsChan`, wasm only), not JSON text.
//!
//! # The format
//! `pkg/src/codec/format.js` defines it; this module writes and reads the part a [`Value`] can
//! hold, and writes it as `encode.js` does: a number is INT8 or INT32 when it is an int32 (not
//! −0) and FLOAT64 otherwise; a BigInt's magnitude has no trailing zero bytes; strings are UTF-8;
//! a channel sent twice in one value is written once and referred to (REF) after. What decodes:
//!
//! | JS | [`Value`] | Rust types ([`FromValue`]) |
//! |---|---|---|
//! | `undefined`, `null` | `Undefined`, `Null` | `()`, `Option::None` |
//! | boolean | `Bool` | `bool` |
//! | number | `Number` | `f64`, `f32`, the integers up to 32 bits (exact integers only), `i64`, `u64`, … (safe integers) |
//! | BigInt | `BigInt` (up to 128 bits) | `i64`, `u64`, `i128`, `u128` (in range) |
//! | string | `String` | `String` |
//! | Uint8Array | `Bytes` | `Vec<u8>` |
//! | Array | `Array` | `Vec<T>`, tuples of up to 4 |
//! | plain object | `Object` (keys in order) | [`Value`] (`get`) |
//! | a gort `Chan` | `Chan` | `JsChan` |
//!
//! Anything else (a Map, a Date, another typed array, a WaitGroup, …) is a [`DecodeError`]
//! naming it and where in the value it was; so is a string with lone surrogates (it is not
//! UTF-8), a cycle, and a value whose shared references would expand past
//! [`MAX_EXPANSION`] nodes per input byte (a tree has no sharing: each reference is copied).
//!
//! # Errors
//! [`DecodeError`] says what was expected, what was found and where (`[1].name`), for the
//! bytes and for the conversions alike: it is what a Rust goroutine's `recv` returns for a
//! value of the wrong type, and what `Message::decode_args` turns into a `TypeError`.
//!
//! Natively there are no JS channels: [`JsChan`] there is a type without values, so that the
//! codec and the conversions build and are tested on every target.

use std::fmt;

#[cfg(target_arch = "wasm32")]
pub use crate::js::JsChan;

/// Natively there are no JS channels (they live in the browser build): no value has this type.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Clone, Debug, PartialEq)]
pub enum JsChan {}

/// A JS value, as Rust holds it (see the module header for what maps to what).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Undefined,
    Null,
    Bool(bool),
    Number(f64),
    BigInt(i128),
    String(String),
    /// A `Uint8Array`.
    Bytes(Vec<u8>),
    Array(Vec<Value>),
    /// A plain object: its keys in order.
    Object(Vec<(String, Value)>),
    /// A gort channel, shared with JS: the page gets a `Chan`.
    Chan(JsChan),
}

impl Value {
    /// A plain object of `fields`, in order.
    pub fn object<K: Into<String>>(fields: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(fields.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// The field `key` of an object (None for a missing key or another kind of value).
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Takes the field `key` out of an object as a `T`: `T` from `undefined` if it is missing
    /// (so an `Option` field may be left out); the error names the key.
    pub fn take<T: FromValue>(&mut self, key: &str) -> Result<T, DecodeError> {
        let found = match self {
            Value::Object(fields) => match fields.iter().position(|(k, _)| k == key) {
                Some(i) => fields.remove(i).1,
                None => Value::Undefined,
            },
            other => return Err(DecodeError::expected("an object", other)),
        };
        T::from_value(found).map_err(|e| e.at_key(key))
    }

    /// What the value is, as an error message names it: "a number", "a Uint8Array", ….
    pub fn describe(&self) -> &'static str {
        match self {
            Value::Undefined => "undefined",
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::BigInt(_) => "a BigInt",
            Value::String(_) => "a string",
            Value::Bytes(_) => "a Uint8Array",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
            Value::Chan(_) => "a channel",
        }
    }
}

/// A step of the path to a value inside another, for [`DecodeError`].
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Index(usize),
    Key(String),
}

/// A value could not be read as the type asked for (or its bytes are malformed): what and
/// where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// Outermost first.
    path: Vec<Step>,
    message: String,
}

impl DecodeError {
    pub fn new(message: impl Into<String>) -> DecodeError {
        DecodeError { path: Vec::new(), message: message.into() }
    }

    /// "expected `what`, got …" for the value `found`.
    pub fn expected(what: &str, found: &Value) -> DecodeError {
        DecodeError::new(format!("expected {what}, got {}", found.describe()))
    }

    /// The same error, inside element `i` of an array.
    pub fn at_index(mut self, i: usize) -> DecodeError {
        self.path.insert(0, Step::Index(i));
        self
    }

    /// The same error, inside field `key` of an object.
    pub fn at_key(mut self, key: &str) -> DecodeError {
        self.path.insert(0, Step::Key(key.to_string()));
        self
    }

    /// What was wrong, without where.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Where, as JS would write it: `[1].name` (empty: the value itself).
    pub fn path(&self) -> String {
        self.path
            .iter()
            .map(|s| match s {
                Step::Index(i) => format!("[{i}]"),
                Step::Key(k) if is_identifier(k) => format!(".{k}"),
                Step::Key(k) => format!("[{k:?}]"),
            })
            .collect()
    }

    /// The message for the arguments of a call (the path's first index is the argument's
    /// position): "argument 2: expected a number, got a string".
    pub fn in_arguments(&self) -> String {
        match self.path.split_first() {
            Some((Step::Index(i), rest)) => {
                let inner = DecodeError { path: rest.to_vec(), message: self.message.clone() };
                let at = inner.path();
                format!("argument {}{}: {}", i + 1, at, self.message)
            }
            _ => format!("arguments: {self}"),
        }
    }
}

fn is_identifier(k: &str) -> bool {
    let mut chars = k.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$')
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path();
        if path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "at {path}: {}", self.message)
        }
    }
}

impl std::error::Error for DecodeError {}

/// A Rust value that can be sent to JS (as the JS value the module header's table gives).
pub trait IntoValue {
    fn into_value(self) -> Value;
}

/// A Rust value that can be read from a JS value; a [`DecodeError`] names what did not fit.
pub trait FromValue: Sized {
    fn from_value(v: Value) -> Result<Self, DecodeError>;
}

impl IntoValue for Value {
    fn into_value(self) -> Value {
        self
    }
}

impl FromValue for Value {
    fn from_value(v: Value) -> Result<Self, DecodeError> {
        Ok(v)
    }
}

impl IntoValue for () {
    fn into_value(self) -> Value {
        Value::Undefined
    }
}

impl FromValue for () {
    fn from_value(v: Value) -> Result<Self, DecodeError> {
        match v {
            Value::Undefined | Value::Null => Ok(()),
            other => Err(DecodeError::expected("undefined", &other)),
        }
    }
}

impl IntoValue for bool {
    fn into_value(self) -> Value {
        Value::Bool(self)
    }
}

impl FromValue for bool {
    fn from_value(v: Value) -> Result<Self, DecodeError> {
        match v {
            Value::Bool(b) => Ok(b),
            other => Err(DecodeError::expected("a boolean", &other)),
        }
    }
}

impl IntoValue for f64 {
    fn into_value(self) -> Value {
        Value::Number(self)
    }
}

impl FromValue for f64 {
    fn from_value(v: Value) -> Result<Self, DecodeError> {
        match v {
            Value::Number(n) => Ok(n),
            other => Err(DecodeError::expected("a number", &other)),
        }
    }
}

impl IntoValue for f32 {
    fn into_value(self) -> Value {
        Value::Number(self.into())
    }
}

impl FromValue for f32 {
    fn from_value(v: Value) -> Result<Self, DecodeError> {
        f64::from_value(v).map(|n| n as f32)
    }
}

/// JS's largest safe integer (2^53 − 1): numbers past it are not exact integers.
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

/// An integer from a number (exact, in `T`'s range) or, when `bigint`, from a BigInt too.
fn integer<T: TryFrom<i128>>(v: Value, what: &str, bigint: bool) -> Result<T, DecodeError> {
    let n = match v {
        Value::Number(n) if n.fract() == 0.0 && n.abs() <= MAX_SAFE => n as i128,
        Value::Number(n) => return Err(DecodeError::new(format!("expected {what}, got the number {n}"))),
        Value::BigInt(n) if bigint => n,
        other => return Err(DecodeError::expected(what, &other)),
    };
    T::try_from(n)
        .map_err(|_| DecodeError::new(format!("expected {what}, got {n}, which is out of its range")))
}

macro_rules! number_integers {
    ($($t:ty: $what:literal),*) => {$(
        impl IntoValue for $t {
            fn into_value(self) -> Value {
                Value::Number(self.into())
            }
        }
        impl FromValue for $t {
            fn from_value(v: Value) -> Result<Self, DecodeError> {
                integer(v, $what, false)
            }
        }
    )*};
}

number_integers!(i8: "an i8 (an integer number)", i16: "an i16 (an integer number)",
    i32: "an i32 (an integer number)", u16: "a u16 (an integer number)",
    u32: "a u32 (an integer number)");

// u8 is not a value of its own, so that `Vec<u8>` can be a Uint8Array (send a u32 instead).

macro_rules! bigint_integers {
    ($($t:ty: $what:literal),*) => {$(
        impl IntoValue for $t {
            fn into_value(self) -> Value {
                Value::BigInt(self as i128)
            }
        }
        impl FromValue for $t {
            fn from_value(v: Value) -> Result<Self, DecodeError> {
                integer(v, $what, true)
            }
        }
    )*};
}

bigint_integers!(i64: "an i64 (a BigInt or an integer number)",
    u64: "a u64 (a BigInt or an integer number)", i128: "an i128 (a BigInt or an integer number)");

impl IntoValue for u128 {
    /// A BigInt; past `i128::MAX` it does not fit a [`Value`] and saturates there.
    fn into_value(self) -> Value {
        Value::BigInt(i128::try_from(self).unwrap_or(i128::MAX))
    }
}

impl FromValue for u128 {
    fn from_value(v: Value) -> Result<Self, DecodeError> {
        integer(v, "a u128 (a BigInt or an integer number)", true)
    }
}

impl IntoValue for usize {
    /// A number while it is a safe integer (always, in wasm32), a BigInt past that.
    fn into_value(self) -> Value {
        if self as f64 <= MAX_SAFE {
            Value::Number(self as f64)
        } else {
            Value::BigInt(self as i128)
        }
    }
}

impl FromValue for usize {
    fn from_value(v: Value) -> Result<Self, DecodeError> {
        integer(v, "a usize (an integer number)", true)
    }
}

impl IntoValue for isize {
    /// A number while it is a safe integer (always, in wasm32), a BigInt past that.
    fn into_value(self) -> Value {
        if (self as f64).abs() <= MAX_SAFE {
            Value::Number(self as f64)
        } else {
            Value::BigInt(self as i128)
        }
    }
}

impl FromValue for isize {
    fn from_value(v: Value) -> Result<Self, DecodeError> {
        integer(v, "an isize (an integer number)", true)
    }
}

impl IntoValue for String {
    fn into_value(self) -> Value {
        Value::String(self)
    }
}

impl IntoValue for &str {
    fn into_value(self) -> Value {
        Value::String(self.to_string())
    }
}

impl FromValue for String {
    fn from_value(v: Value) -> Result<Self, DecodeError> {
        match v {
            Value::String(s) => Ok(s),
            other => Err(DecodeError::expected("a string", &other)),
        }
    }
}

impl IntoValue for Vec<u8> {
    fn into_value(self) -> Value {
        Value::Bytes(self)
    }
}

impl IntoValue for &[u8] {
    fn into_value(self) -> Value {
        Value::Bytes(self.to_vec())
    }
}

impl FromValue for Vec<u8> {
    fn from_value(v: Value) -> Result<Self, DecodeError> {
        match v {
            Value::Bytes(b) => Ok(b),
            other => Err(DecodeError::expected("a Uint8Array", &other)),
        }
    }
}

impl<T: IntoValue> IntoValue for Option<T> {
    /// `None` is `undefined`.
    fn into_value(self) -> Value {
        self.map_or(Value::Undefined, T::into_value)
    }
}

impl<T: FromValue> FromValue for Option<T> {
    /// `undefined` and `null` are `None`.
    fn from_value(v: Value) -> Result<Self, DecodeError> {
        match v {
            Value::Undefined | Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

impl<T: IntoValue> IntoValue for Vec<T> {
    fn into_value(self) -> Value {
        Value::Array(self.into_iter().map(T::into_value).collect())
    }
}

impl<T: FromValue> FromValue for Vec<T> {
    fn from_value(v: Value) -> Result<Self, DecodeError> {
        match v {
            Value::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| T::from_value(v).map_err(|e| e.at_index(i)))
                .collect(),
            other => Err(DecodeError::expected("an array", &other)),
        }
    }
}

impl IntoValue for JsChan {
    fn into_value(self) -> Value {
        Value::Chan(self)
    }
}

impl FromValue for JsChan {
    fn from_value(v: Value) -> Result<Self, DecodeError> {
        match v {
            Value::Chan(c) => Ok(c),
            other => Err(DecodeError::expected("a channel (a gort Chan)", &other)),
        }
    }
}

/// Tuples are arrays: a missing trailing element reads as `undefined` (as a JS function's
/// missing arguments do), an extra one is an error.
macro_rules! tuples {
    ($(($n:literal: $($t:ident $i:tt),+)),*) => {$(
        impl<$($t: IntoValue),+> IntoValue for ($($t,)+) {
            fn into_value(self) -> Value {
                Value::Array(vec![$(self.$i.into_value()),+])
            }
        }
        impl<$($t: FromValue),+> FromValue for ($($t,)+) {
            fn from_value(v: Value) -> Result<Self, DecodeError> {
                let items = match v {
                    Value::Array(items) if items.len() <= $n => items,
                    Value::Array(items) => {
                        return Err(DecodeError::new(format!(
                            "expected at most {} values, got {}", $n, items.len()
                        )))
                    }
                    other => return Err(DecodeError::expected("an array", &other)),
                };
                let mut items = items.into_iter();
                Ok(($({
                    let v = items.next().unwrap_or(Value::Undefined);
                    $t::from_value(v).map_err(|e| e.at_index($i))?
                },)+))
            }
        }
    )*};
}

tuples!((1: A 0), (2: A 0, B 1), (3: A 0, B 1, C 2), (4: A 0, B 1, C 2, D 3));

// The codec's tags (pkg/src/codec/format.js); the facade's own results use a few of them too
// (js/value.rs).
pub(crate) const T_UNDEFINED: u8 = 0x00;
const T_NULL: u8 = 0x01;
pub(crate) const T_FALSE: u8 = 0x02;
pub(crate) const T_TRUE: u8 = 0x03;
const T_INT8: u8 = 0x04;
const T_INT32: u8 = 0x05;
/// Followed by the number's 8 bytes, little-endian.
pub(crate) const T_FLOAT64: u8 = 0x06;
const T_BIGINT: u8 = 0x07;
const T_NEG_BIGINT: u8 = 0x08;
const T_STRING: u8 = 0x09;
const T_ARRAY: u8 = 0x10;
const T_OBJECT: u8 = 0x11;
const T_NULL_OBJECT: u8 = 0x12;
const T_MAP: u8 = 0x13;
const T_SET: u8 = 0x14;
const T_DATE: u8 = 0x15;
const T_REGEXP: u8 = 0x16;
const T_ARRAYBUFFER: u8 = 0x17;
const T_VIEW: u8 = 0x18;
const T_ERROR: u8 = 0x19;
const T_HANDLE: u8 = 0x1a;
const T_HANDLE64: u8 = 0x1b;
const T_REF: u8 = 0x1f;
/// The VIEW kind of a Uint8Array.
const VIEW_UINT8: u8 = 1;
const VIEW_NAMES: [&str; 13] = [
    "an Int8Array",
    "a Uint8Array",
    "a Uint8ClampedArray",
    "an Int16Array",
    "a Uint16Array",
    "an Int32Array",
    "a Uint32Array",
    "a Float32Array",
    "a Float64Array",
    "a BigInt64Array",
    "a BigUint64Array",
    "a DataView",
    "a Float16Array",
];
/// The ERROR flag of a message.
const E_MESSAGE: u8 = 1;

/// How many nodes a decoded value may have per byte of input: a REF copies the value it names
/// (a [`Value`] has no sharing), and this bounds what a few bytes of nested references could
/// expand to.
pub const MAX_EXPANSION: usize = 64;
/// How deep values may nest (the decoder recurses, on a goroutine's stack).
const MAX_DEPTH: usize = 512;

/// `v` in the codec's bytes, and the channels it holds: the bytes name each by its index
/// there (HANDLE). A channel that appears twice is written once, then referred to (REF).
pub fn encode(v: &Value) -> (Vec<u8>, Vec<JsChan>) {
    let mut w = Writer { out: Vec::new(), objects: 0, chans: Vec::new(), seen: Vec::new() };
    w.value(v);
    (w.out, w.chans)
}

/// The codec's bytes of an `Error` with `message` (as the built-in class `Error`): what a
/// Rust goroutine's failure is to the JS that joins it.
pub fn encode_error(message: &str) -> Vec<u8> {
    let mut w = Writer { out: vec![T_ERROR, E_MESSAGE], objects: 1, chans: Vec::new(), seen: Vec::new() };
    w.str("Error");
    w.str(message);
    w.varint(0);
    w.out
}

struct Writer {
    out: Vec<u8>,
    /// Objects written so far (the format numbers them in order, for REF).
    objects: u64,
    chans: Vec<JsChan>,
    /// The channels written: their object number, by their index in `chans` (natively there
    /// are none).
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    seen: Vec<u64>,
}

impl Writer {
    fn varint(&mut self, mut n: u64) {
        while n >= 0x80 {
            self.out.push((n as u8 & 0x7f) | 0x80);
            n >>= 7;
        }
        self.out.push(n as u8);
    }

    fn str(&mut self, s: &str) {
        self.varint(2 * s.len() as u64);
        self.out.extend_from_slice(s.as_bytes());
    }

    /// A new object's tag: it takes the next number.
    fn object(&mut self, tag: u8) {
        self.out.push(tag);
        self.objects += 1;
    }

    fn value(&mut self, v: &Value) {
        match v {
            Value::Undefined => self.out.push(T_UNDEFINED),
            Value::Null => self.out.push(T_NULL),
            Value::Bool(b) => self.out.push(if *b { T_TRUE } else { T_FALSE }),
            Value::Number(n) => self.number(*n),
            Value::BigInt(n) => {
                self.out.push(if *n < 0 { T_NEG_BIGINT } else { T_BIGINT });
                let magnitude = n.unsigned_abs().to_le_bytes();
                let len = magnitude.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
                self.varint(len as u64);
                self.out.extend_from_slice(&magnitude[..len]);
            }
            Value::String(s) => {
                self.out.push(T_STRING);
                self.str(s);
            }
            Value::Bytes(b) => {
                self.object(T_VIEW);
                self.out.push(VIEW_UINT8);
                self.varint(b.len() as u64);
                self.out.extend_from_slice(b);
            }
            Value::Array(items) => {
                self.object(T_ARRAY);
                self.varint(items.len() as u64);
                items.iter().for_each(|v| self.value(v));
            }
            Value::Object(fields) => {
                self.object(T_OBJECT);
                self.varint(fields.len() as u64);
                for (k, v) in fields {
                    self.str(k);
                    self.value(v);
                }
            }
            Value::Chan(c) => self.chan(c),
        }
    }

    fn number(&mut self, n: f64) {
        let int = n as i32;
        if f64::from(int) == n && !(n == 0.0 && n.is_sign_negative()) {
            if let Ok(small) = i8::try_from(int) {
                self.out.extend_from_slice(&[T_INT8, small as u8]);
            } else {
                self.out.push(T_INT32);
                self.out.extend_from_slice(&int.to_le_bytes());
            }
        } else {
            self.out.push(T_FLOAT64);
            self.out.extend_from_slice(&n.to_le_bytes());
        }
    }

    #[cfg(target_arch = "wasm32")]
    fn chan(&mut self, c: &JsChan) {
        if let Some(i) = self.chans.iter().position(|seen| seen.same_channel(c)) {
            self.out.push(T_REF);
            self.varint(self.seen[i]);
            return;
        }
        self.seen.push(self.objects);
        self.object(T_HANDLE);
        self.out.extend_from_slice(&(self.chans.len() as u32).to_le_bytes());
        self.chans.push(c.clone());
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn chan(&mut self, c: &JsChan) {
        match *c {}
    }
}

/// The value of the codec's `bytes`; `chan(i)` is the channel its HANDLE `i` names (an error
/// if that handle is not a channel). Every length is checked against the input: malformed or
/// truncated bytes are a [`DecodeError`] naming the offset, never a panic.
pub fn decode(bytes: &[u8], chan: &dyn Fn(u32) -> Result<JsChan, DecodeError>) -> Result<Value, DecodeError> {
    let mut r = Reader {
        bytes,
        pos: 0,
        objects: Vec::new(),
        replaying: 0,
        budget: bytes.len().saturating_mul(MAX_EXPANSION).max(MAX_EXPANSION),
        depth: 0,
        chan,
    };
    let v = r.value()?;
    if r.pos != bytes.len() {
        return Err(r.corrupt(format!("{} bytes after the value", bytes.len() - r.pos)));
    }
    Ok(v)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Each object's offset, and whether it was read to its end (a REF to an unfinished
    /// object is a cycle).
    objects: Vec<(usize, bool)>,
    /// Above 0 while a REF's object is read again: its objects are numbered already.
    replaying: usize,
    /// Nodes the value may still have.
    budget: usize,
    depth: usize,
    chan: &'a dyn Fn(u32) -> Result<JsChan, DecodeError>,
}

impl Reader<'_> {
    fn corrupt(&self, what: String) -> DecodeError {
        DecodeError::new(format!("malformed value bytes at offset {}: {what}", self.pos))
    }

    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        if self.bytes.len() - self.pos < n {
            return Err(self.corrupt(format!("{n} bytes needed, {} left", self.bytes.len() - self.pos)));
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn varint(&mut self) -> Result<usize, DecodeError> {
        let mut n: u64 = 0;
        for i in 0..8 {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return usize::try_from(n)
                    .ok()
                    .filter(|&n| n as f64 <= MAX_SAFE)
                    .ok_or_else(|| self.corrupt("a varint out of range".into()));
            }
        }
        Err(self.corrupt("a varint longer than 8 bytes".into()))
    }

    /// A count of items of at least `min` bytes each, checked against what is left.
    fn count(&mut self, min: usize) -> Result<usize, DecodeError> {
        let n = self.varint()?;
        if n.saturating_mul(min) > self.bytes.len() - self.pos {
            return Err(self.corrupt(format!("a count of {n} past the end")));
        }
        Ok(n)
    }

    fn str(&mut self) -> Result<String, DecodeError> {
        let h = self.varint()?;
        let bytes = self.take(h >> 1)?;
        if h & 1 == 1 {
            return Err(DecodeError::new("a string with lone surrogates cannot be a Rust String"));
        }
        String::from_utf8(bytes.to_vec()).map_err(|_| self.corrupt("a string that is not UTF-8".into()))
    }

    /// A new object starts here (at the tag just read): its number, unless it is being read
    /// again for a REF.
    fn object(&mut self) -> Option<usize> {
        (self.replaying == 0).then(|| {
            self.objects.push((self.pos - 1, false));
            self.objects.len() - 1
        })
    }

    fn finished(&mut self, index: Option<usize>) {
        if let Some(i) = index {
            self.objects[i].1 = true;
        }
    }

    fn value(&mut self) -> Result<Value, DecodeError> {
        if self.budget == 0 {
            return Err(DecodeError::new(format!(
                "the value expands past {MAX_EXPANSION} nodes per byte through shared references"
            )));
        }
        self.budget -= 1;
        if self.depth == MAX_DEPTH {
            return Err(DecodeError::new(format!("the value is nested deeper than {MAX_DEPTH} levels")));
        }
        self.depth += 1;
        let v = self.value_inner();
        self.depth -= 1;
        v
    }

    fn value_inner(&mut self) -> Result<Value, DecodeError> {
        let tag = self.byte()?;
        Ok(match tag {
            T_UNDEFINED => Value::Undefined,
            T_NULL => Value::Null,
            T_FALSE => Value::Bool(false),
            T_TRUE => Value::Bool(true),
            T_INT8 => Value::Number(f64::from(self.byte()? as i8)),
            T_INT32 => Value::Number(f64::from(i32::from_le_bytes(self.take(4)?.try_into().unwrap()))),
            T_FLOAT64 => Value::Number(f64::from_le_bytes(self.take(8)?.try_into().unwrap())),
            T_BIGINT | T_NEG_BIGINT => {
                let n = self.varint()?;
                let magnitude = self.take(n)?;
                let mut le = [0u8; 16];
                if n > 16 && magnitude[16..].iter().any(|&b| b != 0) {
                    return Err(DecodeError::new("a BigInt past 128 bits"));
                }
                le[..n.min(16)].copy_from_slice(&magnitude[..n.min(16)]);
                let m = u128::from_le_bytes(le);
                let v = if tag == T_BIGINT { i128::try_from(m).ok() } else { 0i128.checked_sub_unsigned(m) };
                Value::BigInt(v.ok_or_else(|| DecodeError::new("a BigInt past 128 bits"))?)
            }
            T_STRING => Value::String(self.str()?),
            T_ARRAY => {
                let index = self.object();
                let n = self.count(1)?;
                let mut items = Vec::with_capacity(n);
                for i in 0..n {
                    items.push(self.value().map_err(|e| e.at_index(i))?);
                }
                self.finished(index);
                Value::Array(items)
            }
            T_OBJECT | T_NULL_OBJECT => {
                let index = self.object();
                let n = self.count(2)?;
                let mut fields = Vec::with_capacity(n);
                for _ in 0..n {
                    let k = self.str()?;
                    let v = self.value().map_err(|e| e.at_key(&k))?;
                    fields.push((k, v));
                }
                self.finished(index);
                Value::Object(fields)
            }
            T_VIEW => {
                let index = self.object();
                let kind = self.byte()?;
                let n = self.varint()?;
                let bytes = self.take(n)?.to_vec();
                if kind != VIEW_UINT8 {
                    let name = VIEW_NAMES.get(usize::from(kind)).copied().unwrap_or("a typed array");
                    return Err(DecodeError::new(format!("{name} cannot be read (only a Uint8Array)")));
                }
                self.finished(index);
                Value::Bytes(bytes)
            }
            T_HANDLE => {
                let index = self.object();
                let id = u32::from_le_bytes(self.take(4)?.try_into().unwrap());
                let c = (self.chan)(id)?;
                self.finished(index);
                Value::Chan(c)
            }
            T_REF => self.reference()?,
            T_HANDLE64 => return Err(DecodeError::new("a runtime handle numbered past 2^32")),
            T_MAP => return Err(DecodeError::new("a Map cannot be read")),
            T_SET => return Err(DecodeError::new("a Set cannot be read")),
            T_DATE => return Err(DecodeError::new("a Date cannot be read")),
            T_REGEXP => return Err(DecodeError::new("a RegExp cannot be read")),
            T_ARRAYBUFFER => {
                return Err(DecodeError::new("an ArrayBuffer cannot be read (send a Uint8Array)"))
            }
            T_ERROR => return Err(DecodeError::new("an Error cannot be read")),
            other => {
                self.pos -= 1;
                return Err(self.corrupt(format!("unknown tag 0x{other:02x}")));
            }
        })
    }

    /// A REF: the object it names, read again from its offset.
    fn reference(&mut self) -> Result<Value, DecodeError> {
        let i = self.varint()?;
        let Some(&(offset, done)) = self.objects.get(i) else {
            return Err(self.corrupt(format!("a reference to object {i}, which does not precede it")));
        };
        if !done {
            return Err(DecodeError::new("a value that contains itself (a cycle) cannot be read"));
        }
        let resume = std::mem::replace(&mut self.pos, offset);
        self.replaying += 1;
        let v = self.value_inner();
        self.replaying -= 1;
        self.pos = resume;
        v
    }
}
