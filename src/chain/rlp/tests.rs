use super::*;
use crate::chain::test_vectors::{hex, vectors};
use serde_json::Value;

/// A JSON vector item (hex string = bytes, array = list) as an [`Item`] over `store`.
fn item_from_json<'a>(v: &Value, store: &'a [Vec<u8>], next: &mut usize) -> Item<'a> {
    match v {
        Value::String(_) => {
            let i = *next;
            *next += 1;
            Item::Bytes(&store[i])
        }
        Value::Array(items) => Item::List(
            items
                .iter()
                .map(|x| item_from_json(x, store, next))
                .collect(),
        ),
        other => panic!("bad vector item {other}"),
    }
}

fn collect_strings(v: &Value, out: &mut Vec<Vec<u8>>) {
    match v {
        Value::String(s) => out.push(hex(s)),
        Value::Array(items) => items.iter().for_each(|x| collect_strings(x, out)),
        other => panic!("bad vector item {other}"),
    }
}

#[test]
fn pyrlp_vectors_encode_and_decode() {
    let cases = vectors()["rlp"]["valid"].as_array().unwrap();
    assert!(cases.len() >= 20);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let mut store = Vec::new();
        collect_strings(&case["item"], &mut store);
        let item = item_from_json(&case["item"], &store, &mut 0);
        let encoded = hex(case["encoded"].as_str().unwrap());
        assert_eq!(item.encode(), encoded, "{name}");
        assert_eq!(decode(&encoded).unwrap(), item, "{name}");
        if let Item::Bytes(b) = item {
            assert_eq!(bytes_len(b), encoded.len(), "{name}");
        }
    }
}

#[test]
fn invalid_vectors_are_refused() {
    let cases = vectors()["rlp"]["invalid"].as_array().unwrap();
    assert!(cases.len() >= 15);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let data = hex(case["encoded"].as_str().unwrap());
        let err = decode(&data).expect_err(name);
        let expected = match name {
            "empty" => matches!(err, RlpError::Empty),
            "single_byte_as_short_string_00" | "single_byte_as_short_string_7f" => {
                matches!(err, RlpError::NonCanonicalSingleByte { at: 0, .. })
            }
            "long_string_for_short" | "long_string_for_55" | "long_list_for_short" => {
                matches!(err, RlpError::NonCanonicalLongLength { at: 0, .. })
            }
            "long_string_length_leading_zero" | "long_list_length_leading_zero" => {
                matches!(err, RlpError::LengthLeadingZero { at: 0 })
            }
            "trailing_bytes" | "two_items" => matches!(err, RlpError::TrailingBytes { .. }),
            "non_canonical_inside_list" => {
                matches!(err, RlpError::NonCanonicalSingleByte { at: 1, byte: 0 })
            }
            "too_deep" => matches!(err, RlpError::TooDeep { max: MAX_DEPTH, .. }),
            _ => matches!(err, RlpError::Truncated { .. }),
        };
        assert!(expected, "{name}: {err:?}");
    }
}

#[test]
fn wiki_examples() {
    let mut out = Vec::new();
    encode_bytes(&mut out, b"dog");
    assert_eq!(out, b"\x83dog");
    let cat_dog = Item::List(vec![Item::Bytes(b"cat"), Item::Bytes(b"dog")]);
    assert_eq!(cat_dog.encode(), b"\xc8\x83cat\x83dog");
    for (v, enc) in [
        (0u64, &[0x80u8][..]),
        (15, &[0x0f]),
        (127, &[0x7f]),
        (128, &[0x81, 0x80]),
        (1024, &[0x82, 0x04, 0x00]),
        (
            u64::MAX,
            &[0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        ),
    ] {
        let mut out = Vec::new();
        encode_u64(&mut out, v);
        assert_eq!(out, enc, "{v}");
        assert_eq!(decode(enc).unwrap().as_u64().unwrap(), v);
        let mut big = Vec::new();
        encode_u256(&mut big, &U256::from_u64(v));
        assert_eq!(big, enc);
    }
    let mut out = Vec::new();
    encode_u256(&mut out, &U256::MAX);
    assert_eq!(out.len(), 33);
    assert_eq!(out[0], 0xa0);
    assert_eq!(decode(&out).unwrap().as_u256().unwrap(), U256::MAX);
}

#[test]
fn header_boundaries() {
    for len in [0usize, 1, 55, 56, 255, 256, 65535, 65536, 1 << 24] {
        for list in [false, true] {
            let mut out = Vec::new();
            encode_header(&mut out, list, len);
            assert_eq!(out.len(), header_len(len), "{len}");
            out.resize(out.len() + len, 0x81);
            let header = decode_header(&out, 0).unwrap();
            assert_eq!(
                (header.list, header.end - header.start, header.end),
                (list, len, out.len())
            );
        }
    }
    // Nested lists built with encode_list get the right headers at every size.
    let mut out = Vec::new();
    encode_list(&mut out, |out| {
        encode_bytes(out, &[0xaa; 60]);
        encode_list(out, |out| encode_bytes(out, &[1]));
        encode_list(out, |_| {});
    });
    let item = decode(&out).unwrap();
    assert_eq!(
        item,
        Item::List(vec![
            Item::Bytes(&[0xaa; 60]),
            Item::List(vec![Item::Bytes(&[1])]),
            Item::List(vec![]),
        ])
    );
    assert_eq!(item.encode(), out);
}

#[test]
fn truncation_everywhere_is_refused() {
    // Every strict prefix of a valid multi-level encoding fails.
    let item = Item::List(vec![
        Item::Bytes(&[0x55; 70]),
        Item::List(vec![Item::Bytes(b"abc"), Item::Bytes(&[])]),
        Item::Bytes(&[0x7f]),
    ]);
    let data = item.encode();
    for cut in 0..data.len() {
        assert!(decode(&data[..cut]).is_err(), "cut {cut}");
    }
    assert_eq!(decode(&data).unwrap(), item);
}

#[test]
fn huge_declared_lengths_do_not_allocate() {
    for data in [
        &[0xbf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff][..],
        &[0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc0],
        &[0xbb, 0x01, 0x00, 0x00, 0x00],
        &[0xb8],
        &[0xf9, 0x01],
    ] {
        assert!(
            matches!(decode(data), Err(RlpError::Truncated { at: 0, .. })),
            "{data:02x?}: {:?}",
            decode(data)
        );
    }
}

#[test]
fn depth_limit() {
    fn nested(depth: usize) -> Vec<u8> {
        let mut out = vec![0xc0];
        for _ in 1..depth {
            let mut wrapped = Vec::new();
            encode_header(&mut wrapped, true, out.len());
            wrapped.extend(out);
            out = wrapped;
        }
        out
    }
    assert!(decode(&nested(MAX_DEPTH)).is_ok());
    assert!(matches!(
        decode(&nested(MAX_DEPTH + 1)),
        Err(RlpError::TooDeep { max: MAX_DEPTH, .. })
    ));
    // Deep inputs are refused without recursing through them.
    assert!(decode(&nested(10_000)).is_err());
    assert!(decode_with_max_depth(&nested(1), 1).is_ok());
    assert_eq!(
        decode_with_max_depth(&nested(1), 0),
        Err(RlpError::TooDeep { at: 0, max: 0 })
    );
    assert_eq!(
        decode_with_max_depth(&[0x83, b'a', b'b', b'c'], 0).unwrap(),
        Item::Bytes(b"abc")
    );
}

#[test]
fn typed_accessors() {
    let one = decode(&[0x01]).unwrap();
    assert_eq!(one.as_u64(), Ok(1));
    assert_eq!(one.as_bool(), Ok(true));
    assert_eq!(decode(&[0x80]).unwrap().as_bool(), Ok(false));
    assert_eq!(decode(&[0x02]).unwrap().as_bool(), Err(RlpError::NotABool));
    // 0x00 is the single byte zero: a non-canonical integer.
    assert_eq!(
        decode(&[0x00]).unwrap().as_u64(),
        Err(RlpError::IntegerLeadingZero)
    );
    assert_eq!(
        decode(&[0x82, 0x00, 0x80]).unwrap().as_u64(),
        Err(RlpError::IntegerLeadingZero)
    );
    let nine = [0x89, 1, 0, 0, 0, 0, 0, 0, 0, 0];
    assert_eq!(
        decode(&nine).unwrap().as_u64(),
        Err(RlpError::IntegerTooLarge { len: 9, max: 8 })
    );
    assert_eq!(
        decode(&nine).unwrap().as_u256().unwrap(),
        U256([0, 1, 0, 0])
    );
    let mut word33 = vec![0xa1, 1];
    word33.extend([0u8; 32]);
    assert_eq!(
        decode(&word33).unwrap().as_u256(),
        Err(RlpError::IntegerTooLarge { len: 33, max: 32 })
    );
    let mut addr = vec![0x94];
    addr.extend([0x11; 20]);
    assert_eq!(decode(&addr).unwrap().as_address(), Ok(Address([0x11; 20])));
    assert_eq!(
        decode(&addr).unwrap().as_fixed::<32>(),
        Err(RlpError::WrongLength {
            expected: 32,
            got: 20
        })
    );
    let list = decode(&[0xc2, 0x01, 0x02]).unwrap();
    assert_eq!(list.as_bytes(), Err(RlpError::ExpectedBytes));
    assert_eq!(list.as_u64(), Err(RlpError::ExpectedBytes));
    assert_eq!(list.as_list_of(2).unwrap().len(), 2);
    assert_eq!(
        list.as_list_of(3),
        Err(RlpError::ItemCount {
            expected: 3,
            got: 2
        })
    );
    assert_eq!(one.as_list(), Err(RlpError::ExpectedList));
    assert_eq!(
        decode(&[0x01, 0x02]),
        Err(RlpError::TrailingBytes { at: 1, count: 1 })
    );
}

#[test]
fn every_two_byte_input_is_consistent() {
    // Whatever decodes must re-encode to the same bytes (canonical = unique).
    for a in 0..=255u8 {
        for b in 0..=255u8 {
            for data in [&[a][..], &[a, b]] {
                if let Ok(item) = decode(data) {
                    assert_eq!(item.encode(), data);
                }
            }
        }
    }
}
