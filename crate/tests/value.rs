//! The typed bridge's codec (`gort::value`) against the facade's format
//! (pkg/src/codec/format.js): the bytes Rust writes are those `encode.js` writes for the same
//! JS value (the fixtures below were made by it), what `encode.js` writes decodes to the
//! values and Rust types it stands for, and bad bytes or values of the wrong type are errors
//! that say what and where. Native only (the codec is platform-free; the browser test
//! `tests/example.test.mjs` checks the exchange with JS itself).
#![cfg(not(target_arch = "wasm32"))]

use gort::value::{decode, encode, encode_error, DecodeError, FromValue, IntoValue, Value};

/// `encode.js` of `{ n: 7, neg: -200, big: 2n ** 64n, nb: -5n, f: 1.5, s: 'hé', u: undefined,
/// z: null, t: true, bytes: new Uint8Array([1, 2, 255]), list: [0, -1, 70000] }`.
const COMPOSITE: &[u8] = &[
    0x11, 0x0b, 0x02, 0x6e, 0x04, 0x07, 0x06, 0x6e, 0x65, 0x67, 0x05, 0x38, 0xff, 0xff, 0xff, 0x06, 0x62,
    0x69, 0x67, 0x07, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x04, 0x6e, 0x62, 0x08,
    0x01, 0x05, 0x02, 0x66, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x3f, 0x02, 0x73, 0x09, 0x06,
    0x68, 0xc3, 0xa9, 0x02, 0x75, 0x00, 0x02, 0x7a, 0x01, 0x02, 0x74, 0x03, 0x0a, 0x62, 0x79, 0x74, 0x65,
    0x73, 0x18, 0x01, 0x03, 0x01, 0x02, 0xff, 0x08, 0x6c, 0x69, 0x73, 0x74, 0x10, 0x03, 0x04, 0x00, 0x04,
    0xff, 0x05, 0x70, 0x11, 0x01, 0x00,
];

fn composite() -> Value {
    Value::object([
        ("n", Value::Number(7.0)),
        ("neg", Value::Number(-200.0)),
        ("big", Value::BigInt(1 << 64)),
        ("nb", Value::BigInt(-5)),
        ("f", Value::Number(1.5)),
        ("s", Value::String("hé".into())),
        ("u", Value::Undefined),
        ("z", Value::Null),
        ("t", Value::Bool(true)),
        ("bytes", Value::Bytes(vec![1, 2, 255])),
        ("list", Value::Array(vec![Value::Number(0.0), Value::Number(-1.0), Value::Number(70000.0)])),
    ])
}

fn no_handles(i: u32) -> Result<gort::value::JsChan, DecodeError> {
    Err(DecodeError::new(format!("no handle {i}")))
}

fn bytes_of(v: impl IntoValue) -> Vec<u8> {
    let (bytes, chans) = encode(&v.into_value());
    assert!(chans.is_empty());
    bytes
}

fn read<T: FromValue>(bytes: &[u8]) -> Result<T, DecodeError> {
    decode(bytes, &no_handles).and_then(T::from_value)
}

fn round_trip<T: IntoValue + FromValue + Clone + PartialEq + std::fmt::Debug>(v: T) {
    assert_eq!(read::<T>(&bytes_of(v.clone())).as_ref(), Ok(&v));
}

#[test]
fn rust_writes_the_bytes_encode_js_writes() {
    assert_eq!(bytes_of(composite()), COMPOSITE);
    assert_eq!(bytes_of(-0.0f64), [0x06, 0, 0, 0, 0, 0, 0, 0, 0x80]);
    assert_eq!(bytes_of(()), [0x00]);
    assert_eq!(bytes_of(false), [0x02]);
    assert_eq!(bytes_of(127i32), [0x04, 0x7f]);
    assert_eq!(bytes_of(128u32), [0x05, 0x80, 0, 0, 0]);
    assert_eq!(bytes_of(u32::MAX), [0x06, 0, 0, 0xe0, 0xff, 0xff, 0xff, 0xef, 0x41]);
    assert_eq!(bytes_of(0i64), [0x07, 0x00]);
    assert_eq!(bytes_of(-1i64), [0x08, 0x01, 0x01]);
    assert_eq!(bytes_of(None::<u32>), [0x00]);
    assert_eq!(bytes_of(vec![String::from("a")]), [0x10, 0x01, 0x09, 0x02, b'a']);
    assert_eq!(bytes_of((1u32, true)), [0x10, 0x02, 0x04, 0x01, 0x03]);
}

#[test]
fn what_encode_js_writes_decodes_to_the_values_it_stands_for() {
    assert_eq!(decode(COMPOSITE, &no_handles), Ok(composite()));
    let mut v = composite();
    assert_eq!(v.take::<u32>("n"), Ok(7));
    assert_eq!(v.take::<i32>("neg"), Ok(-200));
    assert_eq!(v.take::<u128>("big"), Ok(1 << 64));
    assert_eq!(v.take::<i64>("nb"), Ok(-5));
    assert_eq!(v.take::<f64>("f"), Ok(1.5));
    assert_eq!(v.take::<String>("s"), Ok("hé".into()));
    assert_eq!(v.take::<Option<u32>>("u"), Ok(None));
    assert_eq!(v.take::<Option<u32>>("z"), Ok(None));
    assert_eq!(v.take::<Option<u32>>("missing"), Ok(None));
    assert_eq!(v.take::<bool>("t"), Ok(true));
    assert_eq!(v.take::<Vec<u8>>("bytes"), Ok(vec![1, 2, 255]));
    assert_eq!(v.take::<Vec<i32>>("list"), Ok(vec![0, -1, 70000]));
    assert_eq!(v, Value::Object(vec![]));
}

#[test]
fn every_type_round_trips() {
    round_trip(());
    round_trip(true);
    round_trip(-7i8);
    round_trip(-30000i16);
    round_trip(i32::MIN);
    round_trip(u16::MAX);
    round_trip(u32::MAX);
    round_trip(i64::MIN);
    round_trip(u64::MAX);
    round_trip(i128::MIN);
    round_trip(u128::from(u64::MAX) << 40);
    round_trip(usize::MAX);
    round_trip(isize::MIN);
    round_trip(0.1f64);
    round_trip(f64::INFINITY);
    round_trip(2.5f32);
    round_trip(String::from("gort ✓ 𝄞"));
    round_trip(vec![0u8, 1, 2, 255]);
    round_trip(Some(vec![Some(1u32), None]));
    round_trip((1u32, String::from("x"), vec![true], -2i64));
    round_trip(composite());
    let nan = read::<f64>(&bytes_of(f64::NAN)).unwrap();
    assert!(nan.is_nan());
    assert_eq!(read::<f64>(&bytes_of(-0.0f64)).map(f64::is_sign_negative), Ok(true));
}

#[test]
fn shared_references_decode_as_copies_and_cycles_are_refused() {
    // encode.js of `[s, s]` with `s = [1, 2]`: the second is a REF to object 1.
    let shared = [0x10, 0x02, 0x10, 0x02, 0x04, 0x01, 0x04, 0x02, 0x1f, 0x01];
    assert_eq!(read::<Vec<Vec<u32>>>(&shared), Ok(vec![vec![1, 2], vec![1, 2]]));
    // An array holding itself: `a = []; a.push(a)`.
    let cycle = [0x10, 0x01, 0x1f, 0x00];
    let e = decode(&cycle, &no_handles).unwrap_err();
    assert_eq!(e.to_string(), "at [0]: a value that contains itself (a cycle) cannot be read");
    // Each level holds the level below twice (the second time as a REF): 2^40 nodes from 162
    // bytes.
    let mut bomb = vec![];
    for _ in 0..40 {
        bomb.extend([0x10, 0x02]);
    }
    bomb.extend([0x10, 0x00]);
    for i in (0..40u8).rev() {
        bomb.extend([0x1f, i + 1]);
    }
    let e = decode(&bomb, &no_handles).unwrap_err();
    assert!(e.message().contains("expands past"), "{e}");
}

#[test]
fn bad_bytes_are_errors_naming_the_offset() {
    let e = decode(&[0x10, 0x02, 0x04], &no_handles).unwrap_err();
    assert!(e.message().starts_with("malformed value bytes"), "{e}");
    let e = decode(&[0x4c], &no_handles).unwrap_err();
    assert_eq!(e.message(), "malformed value bytes at offset 0: unknown tag 0x4c");
    let e = decode(&[0x04, 0x01, 0x00], &no_handles).unwrap_err();
    assert!(e.message().contains("1 bytes after the value"), "{e}");
    let e = decode(&[0x10, 0xff, 0xff, 0xff, 0x0f], &no_handles).unwrap_err();
    assert!(e.message().contains("past the end"), "{e}");
    let e = decode(&[0x09, 0x04, 0xff, 0xfe], &no_handles).unwrap_err();
    assert!(e.message().contains("not UTF-8"), "{e}");
    let deep: Vec<u8> = std::iter::repeat_n([0x10u8, 0x01], 600).flatten().chain([0x00]).collect();
    assert!(decode(&deep, &no_handles).unwrap_err().message().contains("nested deeper"));
}

#[test]
fn js_values_rust_cannot_hold_are_named() {
    // encode.js of `[new Map()]`, of 'a\uD800', and a HANDLE no channel answers for.
    assert_eq!(
        decode(&[0x10, 0x01, 0x13, 0x00], &no_handles).unwrap_err().to_string(),
        "at [0]: a Map cannot be read"
    );
    let e = decode(&[0x09, 0x09, 0x61, 0x00, 0x00, 0xd8], &no_handles).unwrap_err();
    assert_eq!(e.to_string(), "a string with lone surrogates cannot be a Rust String");
    let e = decode(&[0x18, 0x05, 0x04, 1, 0, 0, 0], &no_handles).unwrap_err();
    assert_eq!(e.to_string(), "an Int32Array cannot be read (only a Uint8Array)");
    assert_eq!(decode(&[0x1a, 3, 0, 0, 0], &no_handles).unwrap_err().to_string(), "no handle 3");
    let big = [0x07, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    assert_eq!(decode(&big, &no_handles).unwrap_err().to_string(), "a BigInt past 128 bits");
}

#[test]
fn values_of_the_wrong_type_say_what_and_where() {
    let e = read::<Vec<u32>>(&bytes_of(Value::Array(vec![Value::Number(1.0), Value::String("x".into())])))
        .unwrap_err();
    assert_eq!(e.to_string(), "at [1]: expected a u32 (an integer number), got a string");
    assert_eq!(e.in_arguments(), "argument 2: expected a u32 (an integer number), got a string");
    let e = read::<u32>(&bytes_of(1.5f64)).unwrap_err();
    assert_eq!(e.to_string(), "expected a u32 (an integer number), got the number 1.5");
    let e = read::<i32>(&bytes_of(1u64 << 31)).unwrap_err();
    assert_eq!(e.to_string(), "expected an i32 (an integer number), got a BigInt");
    let e = read::<i32>(&bytes_of(2147483648.0f64)).unwrap_err();
    assert!(e.to_string().contains("out of its range"), "{e}");
    let e = read::<u64>(&bytes_of(-1i64)).unwrap_err();
    assert!(e.to_string().contains("out of its range"), "{e}");
    let e = read::<(u32, u32)>(&bytes_of(vec![1u32, 2, 3])).unwrap_err();
    assert_eq!(e.in_arguments(), "arguments: expected at most 2 values, got 3");
    // Missing trailing arguments are undefined.
    assert_eq!(read::<(u32, Option<String>)>(&bytes_of(vec![5u32])), Ok((5, None)));
    let mut v = Value::object([("job", Value::object([("n", Value::Bool(true))]))]);
    let e = v.take::<Value>("job").unwrap().take::<u32>("n").unwrap_err().at_key("job");
    assert_eq!(e.to_string(), "at .job.n: expected a u32 (an integer number), got a boolean");
    let e = read::<gort::value::JsChan>(&bytes_of(3u32)).unwrap_err();
    assert_eq!(e.to_string(), "expected a channel (a gort Chan), got a number");
}

#[test]
fn a_rust_error_is_an_error_object_for_js() {
    // encode.js of `new Error('no')` without its stack: flags 1, name, message, no properties.
    assert_eq!(encode_error("no"), [0x19, 0x01, 0x0a, b'E', b'r', b'r', b'o', b'r', 0x04, b'n', b'o', 0x00]);
}
