use super::*;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn addr(s: &str) -> Address {
    Address::parse(s).unwrap()
}

fn word(v: u64) -> [u8; 32] {
    usize_word(v as usize)
}

fn b32(s: &str) -> [u8; 32] {
    h(s).try_into().unwrap()
}

#[test]
fn selector_constants_match_their_signatures() {
    use selectors::*;
    let table: [(&str, [u8; 4]); 14] = [
        ("transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)", TRANSFER_WITH_AUTHORIZATION_VRS),
        ("transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)", TRANSFER_WITH_AUTHORIZATION_BYTES),
        ("receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)", RECEIVE_WITH_AUTHORIZATION_VRS),
        ("receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)", RECEIVE_WITH_AUTHORIZATION_BYTES),
        ("authorizationState(address,bytes32)", AUTHORIZATION_STATE),
        ("cancelAuthorization(address,bytes32,uint8,bytes32,bytes32)", CANCEL_AUTHORIZATION),
        ("balanceOf(address)", BALANCE_OF),
        ("allowance(address,address)", ALLOWANCE),
        ("name()", NAME),
        ("version()", VERSION),
        ("decimals()", DECIMALS),
        ("isValidSignature(bytes32,bytes)", IS_VALID_SIGNATURE),
        ("Error(string)", ERROR_STRING),
        ("Panic(uint256)", PANIC_UINT256),
    ];
    for (sig, constant) in table {
        assert_eq!(selector(sig), constant, "{sig}");
    }
    // Well-known values, independently of our keccak.
    assert_eq!(IS_VALID_SIGNATURE, [0x16, 0x26, 0xba, 0x7e]);
    assert_eq!(BALANCE_OF, [0x70, 0xa0, 0x82, 0x31]);
    assert_eq!(ERROR_STRING, [0x08, 0xc3, 0x79, 0xa0]);
    assert_eq!(PANIC_UINT256, [0x4e, 0x48, 0x7b, 0x71]);
}

// ----- eth_abi vectors --------------------------------------------------

const FROM: &str = "0x857b06519E91e3A54538791bDbb0E22373e36b66";
const TO: &str = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
const NONCE: &str = "f3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480";

// eth_abi 6.0.0: selector + encode(['address','address','uint256','uint256','uint256','bytes32','uint8','bytes32','bytes32'],
//   [FROM, TO, 10000, 1740672089, 1740672154, NONCE, 27, b'\x11'*32, b'\x22'*32])
const TWA_VRS: &str = "e3ee160e000000000000000000000000857b06519e91e3a54538791bdbb0e22373e36b66000000000000000000000000209693bc6afc0c5328ba36faf03c514ef312287c00000000000000000000000000000000000000000000000000000000000027100000000000000000000000000000000000000000000000000000000067c08c590000000000000000000000000000000000000000000000000000000067c08c9af3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480000000000000000000000000000000000000000000000000000000000000001b11111111111111111111111111111111111111111111111111111111111111112222222222222222222222222222222222222222222222222222222222222222";

// eth_abi 6.0.0: selector + encode(['address','address','uint256','uint256','uint256','bytes32','bytes'],
//   [FROM, TO, 10000, 1740672089, 1740672154, NONCE, b'\x11'*32 + b'\x22'*32 + b'\x1c'])
const TWA_BYTES: &str = "cf092995000000000000000000000000857b06519e91e3a54538791bdbb0e22373e36b66000000000000000000000000209693bc6afc0c5328ba36faf03c514ef312287c00000000000000000000000000000000000000000000000000000000000027100000000000000000000000000000000000000000000000000000000067c08c590000000000000000000000000000000000000000000000000000000067c08c9af3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f1348000000000000000000000000000000000000000000000000000000000000000e00000000000000000000000000000000000000000000000000000000000000041111111111111111111111111111111111111111111111111111111111111111122222222222222222222222222222222222222222222222222222222222222221c00000000000000000000000000000000000000000000000000000000000000";

// eth_abi 6.0.0: encode(['string','bool','bytes','uint256','address'], ['USD Coin', True, b'', 2**256-1, TO])
const MIXED: &str = "00000000000000000000000000000000000000000000000000000000000000a0000000000000000000000000000000000000000000000000000000000000000100000000000000000000000000000000000000000000000000000000000000e0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff000000000000000000000000209693bc6afc0c5328ba36faf03c514ef312287c000000000000000000000000000000000000000000000000000000000000000855534420436f696e0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000";

// eth_abi 6.0.0: encode(['string','string'], ['', 'héllo wörld — x402 ✓ ' * 3])
const UNICODE: &str = "000000000000000000000000000000000000000000000000000000000000004000000000000000000000000000000000000000000000000000000000000000600000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000005168c3a96c6c6f2077c3b6726c6420e28094207834303220e29c932068c3a96c6c6f2077c3b6726c6420e28094207834303220e29c932068c3a96c6c6f2077c3b6726c6420e28094207834303220e29c9320000000000000000000000000000000";

// eth_abi 6.0.0: selector + encode(['bytes32','bytes'], [b'\xab'*32, bytes(range(1, 34))])
const IS_VALID_SIG_CALL: &str = "1626ba7eabababababababababababababababababababababababababababababababab000000000000000000000000000000000000000000000000000000000000004000000000000000000000000000000000000000000000000000000000000000210102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202100000000000000000000000000000000000000000000000000000000000000";

// eth_abi 6.0.0: selector('Error(string)') + encode(['string'], ['FiatTokenV2: invalid signature'])
const ERROR_REVERT: &str = "08c379a00000000000000000000000000000000000000000000000000000000000000020000000000000000000000000000000000000000000000000000000000000001e46696174546f6b656e56323a20696e76616c6964207369676e61747572650000";

// eth_abi 6.0.0: selector('Panic(uint256)') + encode(['uint256'], [0x11])
const PANIC_REVERT: &str =
    "4e487b710000000000000000000000000000000000000000000000000000000000000011";

fn twa_head() -> Vec<Token> {
    vec![
        Token::Address(addr(FROM)),
        Token::Address(addr(TO)),
        Token::uint(10000),
        Token::uint(1740672089),
        Token::uint(1740672154),
        Token::FixedBytes32(b32(NONCE)),
    ]
}

/// (eth_abi hex, selector if it is call data, types, tokens)
type Vector = (&'static str, Option<[u8; 4]>, Vec<ParamType>, Vec<Token>);

fn vectors() -> Vec<Vector> {
    use ParamType as P;
    let mut vrs = twa_head();
    vrs.extend([
        Token::uint(27),
        Token::FixedBytes32([0x11; 32]),
        Token::FixedBytes32([0x22; 32]),
    ]);
    let mut sig = vec![0x11; 32];
    sig.extend([0x22; 32]);
    sig.push(0x1c);
    let mut bytes = twa_head();
    bytes.push(Token::Bytes(sig));
    let head_types = [
        P::Address,
        P::Address,
        P::UINT256,
        P::UINT256,
        P::UINT256,
        P::FixedBytes32,
    ];
    let mut vrs_types = head_types.to_vec();
    vrs_types.extend([P::UINT8, P::FixedBytes32, P::FixedBytes32]);
    let mut bytes_types = head_types.to_vec();
    bytes_types.push(P::Bytes);
    vec![
        (
            TWA_VRS,
            Some(selectors::TRANSFER_WITH_AUTHORIZATION_VRS),
            vrs_types,
            vrs,
        ),
        (
            TWA_BYTES,
            Some(selectors::TRANSFER_WITH_AUTHORIZATION_BYTES),
            bytes_types,
            bytes,
        ),
        (
            MIXED,
            None,
            vec![P::String, P::Bool, P::Bytes, P::UINT256, P::Address],
            vec![
                Token::String("USD Coin".into()),
                Token::Bool(true),
                Token::Bytes(vec![]),
                Token::Uint(U256::MAX),
                Token::Address(addr(TO)),
            ],
        ),
        (
            UNICODE,
            None,
            vec![P::String, P::String],
            vec![
                Token::String(String::new()),
                Token::String("héllo wörld — x402 ✓ ".repeat(3)),
            ],
        ),
        (
            IS_VALID_SIG_CALL,
            Some(selectors::IS_VALID_SIGNATURE),
            vec![P::FixedBytes32, P::Bytes],
            vec![
                Token::FixedBytes32([0xab; 32]),
                Token::Bytes((1..34).collect()),
            ],
        ),
    ]
}

#[test]
fn encode_matches_eth_abi() {
    for (expected, sel, _, tokens) in vectors() {
        let got = match sel {
            Some(sel) => encode_call(sel, &tokens),
            None => encode(&tokens),
        };
        assert_eq!(hex::encode(got), expected);
    }
    assert_eq!(
        hex::encode(encode_call(
            selectors::ERROR_STRING,
            &[Token::String("FiatTokenV2: invalid signature".into())]
        )),
        ERROR_REVERT
    );
    assert_eq!(
        hex::encode(encode_call(selectors::PANIC_UINT256, &[Token::uint(0x11)])),
        PANIC_REVERT
    );
}

#[test]
fn decode_eth_abi_vectors_round_trip() {
    for (hex_data, sel, types, tokens) in vectors() {
        let data = h(hex_data);
        let body = match sel {
            Some(sel) => {
                assert_eq!(data[..4], sel);
                &data[4..]
            }
            None => &data[..],
        };
        assert_eq!(decode(&types, body).unwrap(), tokens, "{hex_data}");
        assert_eq!(decode_canonical(&types, body).unwrap(), tokens);
    }
}

#[test]
fn round_trip_many_shapes() {
    for len_a in [0usize, 1, 31, 32, 33, 64, 65, 100] {
        for len_b in [0usize, 5, 32, 97] {
            let tokens = vec![
                Token::Bytes((0..len_a).map(|i| i as u8 ^ 0x5a).collect()),
                Token::Bool(len_a % 2 == 0),
                Token::String("x".repeat(len_b)),
                Token::Address(Address([0xff; 20])),
                Token::Uint(U256::from_u64(len_a as u64 * 1_000_003)),
                Token::FixedBytes32([len_b as u8; 32]),
                Token::Bytes(vec![0xff; len_b]),
            ];
            let types: Vec<_> = tokens.iter().map(Token::param_type).collect();
            let data = encode(&tokens);
            assert_eq!(data.len() % 32, 0);
            assert_eq!(decode_canonical(&types, &data).unwrap(), tokens);
        }
    }
    assert_eq!(decode(&[], &[]).unwrap(), vec![]);
    assert_eq!(encode(&[]), Vec::<u8>::new());
}

#[test]
fn word_helpers() {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(&[0xaa; 20]);
    assert_eq!(decode_address(&w).unwrap(), Address([0xaa; 20]));
    w[11] = 1;
    assert_eq!(decode_address(&w), Err(AbiError::InvalidAddress { at: 0 }));
    assert_eq!(decode_uint(&[0xff; 32]), U256::MAX);
    assert_eq!(decode_uint(&word(7)), U256::from_u64(7));
    assert_eq!(decode_bool(&word(0)), Ok(false));
    assert_eq!(decode_bool(&word(1)), Ok(true));
    assert_eq!(decode_bool(&word(2)), Err(AbiError::InvalidBool { at: 0 }));
    let mut high = word(1);
    high[0] = 1;
    assert_eq!(decode_bool(&high), Err(AbiError::InvalidBool { at: 0 }));
}

// ----- rejections -------------------------------------------------------

/// `(bytes)` holding `[0xaa]`, canonical.
fn one_bytes() -> Vec<u8> {
    encode(&[Token::Bytes(vec![0xaa])])
}

#[test]
fn rejects_truncated() {
    let data = one_bytes(); // 96 bytes
    for cut in [0, 1, 31, 32, 33, 63, 64, 95] {
        assert!(
            matches!(
                decode(&[ParamType::Bytes], &data[..cut]),
                Err(AbiError::Truncated { .. })
                    | Err(AbiError::OffsetOutOfRange { .. })
                    | Err(AbiError::LengthOutOfRange { .. })
            ),
            "cut at {cut}"
        );
    }
    // Head shorter than the number of parameters.
    assert_eq!(
        decode(&[ParamType::UINT256, ParamType::Bool], &word(1)),
        Err(AbiError::Truncated {
            at: 0,
            need: 64,
            have: 32
        })
    );
    // Missing padding after the last bytes: refused (eth_abi refuses it too).
    assert_eq!(
        decode(&[ParamType::Bytes], &data[..65]),
        Err(AbiError::Truncated {
            at: 64,
            need: 32,
            have: 1
        })
    );
    assert!(decode_revert_reason(&h(&PANIC_REVERT[..70])).is_err());
}

#[test]
fn rejects_offsets() {
    let mut data = one_bytes();
    // Out of range: beyond the data, and a huge 2^255 word.
    data[..32].copy_from_slice(&word(96));
    assert!(matches!(
        decode(&[ParamType::Bytes], &data),
        Err(AbiError::Truncated { at: 96, .. })
    ));
    data[..32].copy_from_slice(&word(4096));
    assert!(matches!(
        decode(&[ParamType::Bytes], &data),
        Err(AbiError::OffsetOutOfRange { at: 0, .. })
    ));
    let mut huge = [0u8; 32];
    huge[0] = 0x80;
    data[..32].copy_from_slice(&huge);
    assert_eq!(
        decode(&[ParamType::Bytes], &data),
        Err(AbiError::OffsetOutOfRange {
            at: 0,
            offset: U256::from_be_bytes(&huge),
            len: 96
        })
    );
    // Misaligned (eth_abi accepts this).
    let mut mis = word(33).to_vec();
    mis.extend([0u8]);
    mis.extend(word(1));
    mis.extend([0xaa]);
    mis.extend([0u8; 31]);
    assert_eq!(
        decode(&[ParamType::Bytes], &mis),
        Err(AbiError::MisalignedOffset { at: 0, offset: 33 })
    );
    // Into the head: the offset word itself read as the length.
    let mut into = word(0).to_vec();
    into.extend(word(0));
    assert_eq!(
        decode(&[ParamType::Bytes, ParamType::UINT256], &into),
        Err(AbiError::OffsetIntoHead {
            at: 0,
            offset: 0,
            head: 64
        })
    );
}

#[test]
fn rejects_huge_lengths_without_allocating() {
    let mut data = one_bytes();
    for length in [
        {
            let mut w = [0xffu8; 32];
            w[0] = 0x7f;
            w
        },
        {
            let mut w = [0u8; 32];
            w[24..].copy_from_slice(&u64::MAX.to_be_bytes());
            w
        },
        word(33),
        word(1 << 40),
    ] {
        data[32..64].copy_from_slice(&length);
        assert!(
            matches!(
                decode(&[ParamType::Bytes], &data),
                Err(AbiError::LengthOutOfRange {
                    at: 32,
                    available: 32,
                    ..
                })
            ),
            "{length:?}"
        );
    }
    // Exactly the remaining bytes is fine.
    data[32..64].copy_from_slice(&word(32));
    data[64..].fill(0xcc);
    assert_eq!(
        decode(&[ParamType::Bytes], &data).unwrap(),
        vec![Token::Bytes(vec![0xcc; 32])]
    );
}

#[test]
fn rejects_dirty_values() {
    // Dirty padding after bytes and after a string.
    let mut data = one_bytes();
    data[95] = 1;
    assert_eq!(
        decode(&[ParamType::Bytes], &data),
        Err(AbiError::DirtyPadding { at: 65 })
    );
    let mut s = encode(&[Token::String("hi".into())]);
    s[66] = b'!';
    assert_eq!(
        decode(&[ParamType::String], &s),
        Err(AbiError::DirtyPadding { at: 66 })
    );
    // Bools other than 0/1.
    for v in [2u64, 0x100, u64::MAX] {
        assert_eq!(
            decode(
                &[ParamType::UINT256, ParamType::Bool],
                &[word(0), word(v)].concat()
            ),
            Err(AbiError::InvalidBool { at: 32 })
        );
    }
    // Address with any of the 12 high bytes set.
    for i in 0..12 {
        let mut w = Address([0x11; 20]).to_word();
        w[i] = 0x01;
        assert_eq!(
            decode(&[ParamType::Address], &w),
            Err(AbiError::InvalidAddress { at: 0 })
        );
    }
    // uint8 out of range, uint8 max accepted.
    assert_eq!(
        decode(&[ParamType::UINT8], &word(256)),
        Err(AbiError::UintOutOfRange { at: 0, bits: 8 })
    );
    assert_eq!(
        decode(&[ParamType::UINT8], &word(255)).unwrap(),
        vec![Token::uint(255)]
    );
    assert_eq!(
        decode(&[ParamType::Uint(64)], &word(u64::MAX)).unwrap(),
        vec![Token::uint(u64::MAX)]
    );
    // Invalid UTF-8 in a string.
    let mut bad = encode(&[Token::Bytes(vec![0xff, 0xfe])]);
    assert_eq!(
        decode(&[ParamType::String], &bad),
        Err(AbiError::InvalidUtf8 { at: 0 })
    );
    bad[64] = b'o';
    bad[65] = b'k';
    assert_eq!(
        decode(&[ParamType::String], &bad).unwrap(),
        vec![Token::String("ok".into())]
    );
    // Nonsense uint widths.
    for bits in [0u16, 7, 257, 512] {
        assert_eq!(
            decode(&[ParamType::Uint(bits)], &word(0)),
            Err(AbiError::InvalidUintBits(bits))
        );
    }
}

#[test]
fn canonical_rejects_what_plain_decode_tolerates() {
    let types = [ParamType::Bytes, ParamType::Bytes];
    let canonical = encode(&[Token::Bytes(vec![0xaa]), Token::Bytes(vec![0xaa])]);
    // Trailing bytes.
    let mut trailing = canonical.clone();
    trailing.extend([0u8; 32]);
    // Both offsets sharing one tail.
    let shared = [word(64), word(64), word(1), {
        let mut w = [0u8; 32];
        w[0] = 0xaa;
        w
    }]
    .concat();
    // A gap of garbage between head and tail.
    let gap = [word(96), word(96), [0xff; 32], word(1), {
        let mut w = [0u8; 32];
        w[0] = 0xaa;
        w
    }]
    .concat();
    let expected = decode(&types, &canonical).unwrap();
    for variant in [&trailing, &shared, &gap] {
        assert_eq!(decode(&types, variant).unwrap(), expected);
        assert_eq!(
            decode_canonical(&types, variant),
            Err(AbiError::NonCanonical)
        );
    }
}

#[test]
fn revert_reasons() {
    assert_eq!(
        decode_revert_reason(&h(ERROR_REVERT)).unwrap(),
        RevertReason::Error("FiatTokenV2: invalid signature".into())
    );
    let panic = decode_revert_reason(&h(PANIC_REVERT)).unwrap();
    assert_eq!(panic, RevertReason::Panic(U256::from_u64(0x11)));
    assert_eq!(
        panic.to_string(),
        "panic 0x11 (arithmetic overflow or underflow)"
    );
    assert_eq!(decode_revert_reason(&[]).unwrap(), RevertReason::Empty);
    assert_eq!(
        decode_revert_reason(&[1, 2]).unwrap(),
        RevertReason::Other(vec![1, 2])
    );
    let custom = h("fb8f41b2000000000000000000000000000000000000000000000000000000000000002a");
    assert_eq!(
        decode_revert_reason(&custom).unwrap(),
        RevertReason::Other(custom.clone())
    );
    // A malformed Error(string) payload is an error, not a message.
    let mut bad = h(ERROR_REVERT);
    bad[4 + 31] = 0x21;
    assert_eq!(
        decode_revert_reason(&bad),
        Err(AbiError::MisalignedOffset {
            at: 0,
            offset: 0x21
        })
    );
    assert_eq!(RevertReason::Error("x".into()).to_string(), "reverted: x");
    assert_eq!(
        RevertReason::Panic(U256::from_u64(0x99)).to_string(),
        "panic 0x99"
    );
}

/// A contract chooses its revert data: however long or strange, the
/// reason's text is bounded (crate::text), cut at a character boundary and
/// without control characters.
#[test]
fn revert_reason_display_is_bounded() {
    use crate::text::{CHAIN_TEXT_MAX_BYTES, ELLIPSIS};
    let limit = "reverted with ".len() + CHAIN_TEXT_MAX_BYTES + ELLIPSIS.len() + 16;
    for text in [
        "A".repeat(10 * 1024),
        "é€😀".repeat(1200),
        format!("x{}", "😀".repeat(2560)),
        "\x1b[31m\r\n\0".repeat(1000),
    ] {
        let data = encode_call(selectors::ERROR_STRING, &[Token::String(text.clone())]);
        let reason = decode_revert_reason(&data).unwrap();
        assert_eq!(reason, RevertReason::Error(text.clone()));
        let shown = reason.to_string();
        assert!(shown.len() <= limit, "{} bytes", shown.len());
        assert!(shown.starts_with("reverted: "));
        assert!(shown.contains(ELLIPSIS));
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
    }
    // Not UTF-8: not an Error(string) to this decoder; its bytes are shown as bounded hex.
    let mut data = encode_call(selectors::ERROR_STRING, &[Token::Bytes(vec![0xff; 10_240])]);
    assert!(decode_revert_reason(&data).is_err());
    for bytes in [std::mem::take(&mut data), vec![0xab; 10_240]] {
        let len = bytes.len();
        let shown = RevertReason::Other(bytes).to_string();
        assert!(shown.len() <= limit, "{} bytes", shown.len());
        assert!(
            shown.ends_with(&format!("{ELLIPSIS} [{len} bytes]")),
            "{shown}"
        );
    }
}
