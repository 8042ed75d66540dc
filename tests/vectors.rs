//! The shared JSON vectors of `tests/vectors/` (also read by the Python suite) run
//! against the Rust engine; signature vectors run on every secp256k1 backend.
//!
//! - `eip55.json`: EIP-55 spec addresses and single-edit rejections;
//! - `signatures.json`: x402 spec payment, EIP-2098 and eth-account vectors, high-s
//!   twins and malformed signatures, under both signature policies;
//! - `eip712_rejections.json`: one typed-data document per strict-v4 rule, with the
//!   JSON path the error must name;
//! - `eip712_noncanonical.json` (+ `eip712_noncanonical_strict.json`): our digests,
//!   domain separators and encodeType equal @metamask/eth-sig-util's, except for the
//!   cases strict v4 rejects on purpose.

use std::collections::BTreeSet;
use std::path::PathBuf;

use _core::crypto::address::{Address, AddressError};
#[cfg(feature = "libsecp256k1")]
use _core::crypto::ecdsa::LibSecp256k1;
use _core::crypto::ecdsa::{
    recover_address, recover_address_with, Backend, Policy, SecretKey, Signature, K256,
};
use _core::crypto::eip191::hash_message;
use _core::crypto::eip712::{hash_typed_data, DomainTypes, TypedData};
use _core::json::parse_strict;
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("vectors")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc = parse_strict(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        doc["provenance"].is_object(),
        "{name}: top-level \"provenance\" object"
    );
    doc
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key:?} must be a string in {v}"))
}

fn items<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key:?} must be an array"))
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.strip_prefix("0x").expect("0x prefix")).expect("hex")
}

fn h32(s: &str) -> [u8; 32] {
    unhex(s).try_into().expect("32 bytes")
}

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

// ---------------------------------------------------------------------------
// EIP-55

#[test]
fn eip55() {
    let doc = load("eip55.json");
    let accepted = items(&doc, "accepted");
    let rejected = items(&doc, "rejected");
    assert!(accepted.len() >= 8 && rejected.len() >= 16);
    for case in accepted {
        let input = text(case, "input");
        let want = text(case, "checksum");
        let address = Address::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(address.to_checksum(), want, "{input}");
        assert_eq!(address, Address::parse(want).unwrap(), "{input}");
        assert_eq!(input.parse::<Address>().unwrap(), address);
    }
    let (mut checksum, mut malformed) = (0, 0);
    for case in rejected {
        let input = text(case, "input");
        let err = Address::parse(input).expect_err(input);
        match (text(case, "error"), &err) {
            ("bad_checksum", AddressError::BadChecksum) => checksum += 1,
            ("malformed", AddressError::Malformed(_)) => malformed += 1,
            (want, got) => panic!("{input:?}: expected {want}, got {got:?}"),
        }
    }
    assert!(checksum >= 8 && malformed >= 5);
}

// ---------------------------------------------------------------------------
// Signatures

fn signatures_on<B: Backend>() {
    let doc = load("signatures.json");
    let keys = &doc["keys"];
    let cases = items(&doc, "cases");
    assert!(cases.len() >= 40, "only {} signature cases", cases.len());
    let by_name = |name: &str| {
        cases
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no case {name}"))
    };
    let (mut messages, mut signed, mut high_s_twins, mut errors) = (0, 0, 0, BTreeSet::new());
    for case in cases {
        let name = text(case, "name");
        let ctx = format!("{name} on {}", B::NAME);
        let digest = h32(text(case, "digest"));
        let sig = unhex(text(case, "signature"));

        if let Some(message) = case.get("message") {
            let body = unhex(text(message, "hex"));
            assert_eq!(hash_message(&body), digest, "{ctx}: EIP-191 digest");
            messages += 1;
        }

        for (key, policy) in [
            ("default", Policy::default()),
            ("allow_high_s", Policy { allow_high_s: true }),
        ] {
            let expect = &case["expect"][key];
            let got = recover_address_with::<B>(&digest, &sig, policy);
            if B::NAME == <_core::crypto::ecdsa::DefaultBackend as Backend>::NAME {
                assert_eq!(recover_address(&digest, &sig, policy), got, "{ctx}");
            }
            match (expect.get("address"), expect.get("error")) {
                (Some(address), None) => {
                    let address = address.as_str().unwrap();
                    let got = got.unwrap_or_else(|e| panic!("{ctx} ({key}): {e}"));
                    assert_eq!(got.to_checksum(), address, "{ctx} ({key})");
                }
                (None, Some(code)) => {
                    let err = got.expect_err(&format!("{ctx} ({key}): must be rejected"));
                    assert_eq!(err.code(), code.as_str().unwrap(), "{ctx} ({key})");
                    errors.insert(err.code());
                }
                _ => panic!("{ctx}: expect.{key} needs exactly one of address, error"),
            }
        }

        if let Some(signer) = case.get("signed_by") {
            let key = &keys[signer.as_str().unwrap()];
            let secret = SecretKey::from_hex(text(key, "private_key")).unwrap();
            assert_eq!(secret.address().to_checksum(), text(key, "address"));
            let ours = secret.sign_digest_with::<B>(&digest);
            assert_eq!(
                hex0x(&ours.to_bytes()),
                hex0x(&sig),
                "{ctx}: RFC 6979 signature"
            );
            signed += 1;
        }

        // Canonical encodings round-trip through Signature.
        if let Ok(parsed) = Signature::from_bytes(&sig) {
            if parsed.check(Policy { allow_high_s: true }).is_ok() {
                match sig.len() {
                    65 if sig[64] >= 27 => assert_eq!(parsed.to_bytes()[..], sig[..], "{ctx}"),
                    64 => assert_eq!(parsed.to_compact()[..], sig[..], "{ctx}"),
                    _ => {}
                }
            }
        }

        // A high-s twin normalizes back to the signature it was derived from.
        if let Some(original) = name
            .strip_suffix("_high_s_twin")
            .or_else(|| name.strip_suffix("_high_s_twin_v0_1"))
        {
            let parsed = Signature::from_bytes(&sig).unwrap();
            assert!(parsed.is_high_s(), "{ctx}");
            let original = unhex(text(by_name(original), "signature"));
            assert_eq!(parsed.normalize_s().to_bytes()[..], original[..], "{ctx}");
            high_s_twins += 1;
        }
    }
    assert!(messages >= 10, "{messages} EIP-191 messages");
    assert!(signed >= 10, "{signed} deterministic signatures");
    assert!(high_s_twins >= 3, "{high_s_twins} high-s twins");
    for code in [
        "bad_length",
        "bad_v",
        "r_out_of_range",
        "s_out_of_range",
        "high_s",
        "recovery_failed",
    ] {
        assert!(errors.contains(code), "no case rejected with {code}");
    }

    // The x402 spec's example payment, pinned (https://github.com/coinbase/x402, specs/).
    let x402 = by_name("x402_v2_example");
    assert_eq!(
        text(x402, "digest"),
        "0xf256992871671abcb27ff92885a7afa46218724e5fc0bac35d050115aa1d22e6"
    );
    assert_eq!(
        text(&x402["expect"]["default"], "address"),
        "0x857b06519E91e3A54538791bDbb0E22373e36b66"
    );
    let twin = by_name("x402_v2_example_high_s_twin");
    assert_eq!(text(&twin["expect"]["default"], "error"), "high_s");
}

#[test]
fn signatures_k256() {
    signatures_on::<K256>();
}

#[cfg(feature = "libsecp256k1")]
#[test]
fn signatures_libsecp256k1() {
    signatures_on::<LibSecp256k1>();
}

// ---------------------------------------------------------------------------
// EIP-712

fn domain_types(case: &Value) -> DomainTypes {
    match text(case, "domain_types") {
        "given" => DomainTypes::Given,
        "infer" => DomainTypes::Infer,
        other => panic!("domain_types {other:?}"),
    }
}

#[test]
fn eip712_rejections() {
    let doc = load("eip712_rejections.json");
    let bases = doc["bases"].as_object().expect("bases");
    for (name, data) in bases {
        hash_typed_data(data, DomainTypes::Given)
            .unwrap_or_else(|e| panic!("base {name} must be valid: {e}"));
    }
    let cases = items(&doc, "cases");
    let mut names = BTreeSet::new();
    for case in cases {
        let name = text(case, "name");
        assert!(names.insert(name), "duplicate case {name}");
        assert!(
            bases.contains_key(text(case, "base")),
            "{name}: unknown base"
        );
        let err = hash_typed_data(&case["data"], domain_types(case))
            .expect_err(&format!("{name} ({}) must be rejected", text(case, "rule")));
        assert_eq!(err.path, text(case, "path"), "{name}: {err}");
    }
    // One case at least per strict-v4 rule.
    for required in [
        "missing_eip712domain",
        "infer_nonstandard_domain_key",
        "unknown_top_level_key",
        "uint8_256",
        "uint256_2pow256",
        "int8_minus_129",
        "int8_128",
        "uint_float_number",
        "uint_string_leading_space",
        "uint_string_trailing_space",
        "uint_string_plus_sign",
        "uint_string_leading_zero",
        "uint_string_minus_zero",
        "uint_string_exponent",
        "uint_string_underscore",
        "uint_string_fullwidth_digits",
        "uint_negative_string",
        "uint_negative_number",
        "bool_as_1",
        "bool_as_string_true",
        "bytes32_too_short",
        "bytes32_too_long",
        "bytes32_no_prefix",
        "bytes_odd_length",
        "address_bad_checksum",
        "address_39_digits",
        "address_no_prefix",
        "nested_address_bad_checksum",
        "missing_field",
        "null_field",
        "undeclared_message_field",
        "fixed_array_too_long",
        "fixed_array_too_short",
        "undefined_type_reference",
        "type_name_shadows_atomic",
        "duplicate_field_name",
        "array_length_zero",
        "array_length_leading_zero",
        "field_type_uint",
        "field_type_int",
        "field_type_bytes0",
        "field_type_bytes33",
        "field_type_uint7",
        "string_as_number",
        "struct_as_string",
        "array_as_object",
    ] {
        assert!(names.contains(required), "no rejection case {required}");
    }
}

#[test]
fn eip712_noncanonical_matches_eth_sig_util() {
    let doc = load("eip712_noncanonical.json");
    let strict = load("eip712_noncanonical_strict.json");
    let rejected = strict["rejected"].as_object().expect("rejected");
    let cases = items(&doc, "cases");
    assert!(cases.len() >= 30);
    let mut seen = BTreeSet::new();
    let mut matched = 0;
    for case in cases {
        let name = text(case, "name");
        seen.insert(name);
        let data = &case["data"];
        let reference = text(&case["digest"], "eth_sig_util");
        if let Some(why) = rejected.get(name) {
            // eth-sig-util hashes it; we refuse it, with this path.
            assert!(reference.starts_with("0x"), "{name}");
            let err = hash_typed_data(data, DomainTypes::Given)
                .expect_err(&format!("{name} must be rejected"));
            assert_eq!(err.path, text(why, "path"), "{name}: {err}");
            continue;
        }
        let td = TypedData::from_json(data, DomainTypes::Given)
            .unwrap_or_else(|e| panic!("{name}: rejected ({e}) but eth-sig-util hashes it"));
        let digest = td
            .signing_hash()
            .unwrap_or_else(|e| panic!("{name}: rejected ({e}) but eth-sig-util hashes it"));
        assert_eq!(hex0x(&digest), reference, "{name}: digest");
        assert_eq!(
            hex0x(&td.domain_separator().unwrap()),
            text(&case["domain_separator"], "eth_sig_util"),
            "{name}: domain separator"
        );
        assert_eq!(
            td.types().encode_type(text(data, "primaryType")).unwrap(),
            text(case, "encode_type"),
            "{name}: encodeType"
        );
        if case["agree"] == Value::Bool(true) {
            assert_eq!(
                hex0x(&digest),
                text(&case["digest"], "viem"),
                "{name}: viem"
            );
        }
        matched += 1;
    }
    for name in rejected.keys() {
        assert!(seen.contains(name.as_str()), "stale strict entry {name}");
    }
    assert_eq!(matched + rejected.len(), cases.len());
}
