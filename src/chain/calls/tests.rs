use super::*;
use crate::chain::test_vectors::{hex, vectors};
use crate::crypto::keccak::keccak256;
use serde_json::Value;

fn addr(v: &Value) -> Address {
    Address::parse(v.as_str().unwrap()).unwrap()
}

fn b32(v: &Value) -> [u8; 32] {
    hex(v.as_str().unwrap()).try_into().unwrap()
}

fn u256(v: &Value) -> U256 {
    U256::from_dec_str(v.as_str().unwrap()).unwrap()
}

fn auth(v: &Value) -> Authorization {
    Authorization {
        from: addr(&v["from"]),
        to: addr(&v["to"]),
        value: u256(&v["value"]),
        valid_after: u256(&v["valid_after"]),
        valid_before: u256(&v["valid_before"]),
        nonce: b32(&v["nonce"]),
    }
}

fn sig(v: &Value) -> Signature {
    Signature {
        r: b32(&v["r"]),
        s: b32(&v["s"]),
        y_parity: match v["v"].as_u64().unwrap() {
            27 => false,
            28 => true,
            other => panic!("v {other}"),
        },
    }
}

fn calls() -> &'static Value {
    &vectors()["calls"]
}

#[test]
fn builders_match_eth_abi() {
    let cases = calls()["builders"].as_array().unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let f = case["fn"].as_str().unwrap();
        seen.insert(f);
        let got = match f {
            "transfer_with_authorization_vrs" => transfer_with_authorization_vrs(
                &auth(&case["authorization"]),
                &sig(&case["signature"]),
            ),
            "transfer_with_authorization_bytes" => transfer_with_authorization_bytes(
                &auth(&case["authorization"]),
                &hex(case["signature_bytes"].as_str().unwrap()),
            ),
            "authorization_state" => {
                authorization_state(&addr(&case["authorizer"]), &b32(&case["nonce"]))
            }
            "cancel_authorization" => cancel_authorization(
                &addr(&case["authorizer"]),
                &b32(&case["nonce"]),
                &sig(&case["signature"]),
            ),
            "balance_of" => balance_of(&addr(&case["account"])),
            "name" => super::name(),
            "version" => version(),
            "decimals" => decimals(),
            "is_valid_signature" => is_valid_signature(
                &b32(&case["hash"]),
                &hex(case["signature_bytes"].as_str().unwrap()),
            ),
            other => panic!("unknown builder {other}"),
        };
        assert_eq!(
            crate::crypto::hexutil::encode_0x(&got),
            case["calldata"].as_str().unwrap(),
            "{name}"
        );
    }
    assert_eq!(seen.len(), 9);
}

#[test]
fn transfer_with_authorization_call_data_round_trips() {
    for case in calls()["builders"].as_array().unwrap() {
        let data = hex(case["calldata"].as_str().unwrap());
        match case["fn"].as_str().unwrap() {
            "transfer_with_authorization_vrs" => assert_eq!(
                decode_transfer_with_authorization(&data).unwrap(),
                (
                    auth(&case["authorization"]),
                    AuthorizationSignature::Vrs(sig(&case["signature"]))
                )
            ),
            "transfer_with_authorization_bytes" => assert_eq!(
                decode_transfer_with_authorization(&data).unwrap(),
                (
                    auth(&case["authorization"]),
                    AuthorizationSignature::Bytes(hex(case["signature_bytes"].as_str().unwrap()))
                )
            ),
            _ => assert!(matches!(
                decode_transfer_with_authorization(&data),
                Err(CallDataError::WrongSelector(_)) | Err(CallDataError::TooShort(_))
            )),
        }
    }
    let case = &calls()["builders"][0];
    let mut data = hex(case["calldata"].as_str().unwrap());
    // v = 29
    data[4 + 6 * 32 + 31] = 29;
    assert_eq!(
        decode_transfer_with_authorization(&data),
        Err(CallDataError::BadV(29))
    );
    // v = 0x11b does not fit uint8
    data[4 + 6 * 32 + 30] = 1;
    assert_eq!(
        decode_transfer_with_authorization(&data),
        Err(CallDataError::Abi(AbiError::UintOutOfRange {
            at: 192,
            bits: 8
        }))
    );
    data.truncate(3);
    assert_eq!(
        decode_transfer_with_authorization(&data),
        Err(CallDataError::TooShort(3))
    );
    let mut trailing = hex(case["calldata"].as_str().unwrap());
    trailing.push(0);
    assert_eq!(
        decode_transfer_with_authorization(&trailing),
        Err(CallDataError::Abi(AbiError::NonCanonical))
    );
    assert_eq!(
        CallDataError::WrongSelector([0x70, 0xa0, 0x82, 0x31]).to_string(),
        "selector 0x70a08231 is not transferWithAuthorization"
    );
}

#[test]
fn return_data_decoders() {
    for case in calls()["returns"].as_array().unwrap() {
        let data = hex(case["data"].as_str().unwrap());
        let v = &case["value"];
        match case["fn"].as_str().unwrap() {
            "authorization_state" => {
                assert_eq!(decode_authorization_state(&data), Ok(v.as_bool().unwrap()))
            }
            "balance_of" => assert_eq!(decode_balance_of(&data), Ok(u256(v))),
            "name" => assert_eq!(decode_name(&data).unwrap(), v.as_str().unwrap()),
            "version" => assert_eq!(decode_version(&data).unwrap(), v.as_str().unwrap()),
            "decimals" => {
                assert_eq!(decode_decimals(&data), Ok(v.as_u64().unwrap() as u8))
            }
            "is_valid_signature" => {
                assert_eq!(decode_is_valid_signature(&data), Ok(v.as_bool().unwrap()))
            }
            other => panic!("unknown decoder {other}"),
        }
    }
}

#[test]
fn malformed_return_data_is_refused() {
    let cases = calls()["bad_returns"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for case in cases {
        let data = hex(case["data"].as_str().unwrap());
        let note = case["note"].as_str().unwrap();
        let refused = match case["fn"].as_str().unwrap() {
            "authorization_state" => decode_authorization_state(&data).is_err(),
            "balance_of" => decode_balance_of(&data).is_err(),
            "name" => decode_name(&data).is_err(),
            "version" => decode_version(&data).is_err(),
            "decimals" => decode_decimals(&data).is_err(),
            "is_valid_signature" => decode_is_valid_signature(&data).is_err(),
            other => panic!("unknown decoder {other}"),
        };
        assert!(refused, "{note}");
    }
}

#[test]
fn topics_are_the_event_hashes() {
    let topics = &calls()["topics"];
    for (sig, constant, f, key) in [
        (
            "Transfer(address,address,uint256)",
            TRANSFER_TOPIC,
            transfer_event_topic as fn() -> [u8; 32],
            "transfer",
        ),
        (
            "AuthorizationUsed(address,bytes32)",
            AUTHORIZATION_USED_TOPIC,
            authorization_used_event_topic,
            "authorization_used",
        ),
        (
            "AuthorizationCanceled(address,bytes32)",
            AUTHORIZATION_CANCELED_TOPIC,
            authorization_canceled_event_topic,
            "authorization_canceled",
        ),
    ] {
        assert_eq!(keccak256(sig.as_bytes()), constant, "{sig}");
        assert_eq!(f(), constant);
        assert_eq!(b32(&topics[key]), constant);
    }
}

fn topics_of(case: &Value) -> Vec<[u8; 32]> {
    case["topics"].as_array().unwrap().iter().map(b32).collect()
}

#[test]
fn log_decoders() {
    for case in calls()["logs"].as_array().unwrap() {
        let topics = topics_of(case);
        let data = hex(case["data"].as_str().unwrap());
        let d = &case["decoded"];
        let transfer = decode_transfer_log(&topics, &data).unwrap();
        let used = decode_authorization_used_log(&topics, &data).unwrap();
        let canceled = decode_authorization_canceled_log(&topics, &data).unwrap();
        let auth_event = || AuthorizationEvent {
            authorizer: addr(&d["authorizer"]),
            nonce: b32(&d["nonce"]),
        };
        match case["event"].as_str().unwrap() {
            "transfer" => {
                assert_eq!(
                    transfer,
                    Some(TransferEvent {
                        from: addr(&d["from"]),
                        to: addr(&d["to"]),
                        value: u256(&d["value"]),
                    })
                );
                assert_eq!((used, canceled), (None, None));
            }
            "authorization_used" => {
                assert_eq!(used, Some(auth_event()));
                assert_eq!((transfer, canceled), (None, None));
            }
            "authorization_canceled" => {
                assert_eq!(canceled, Some(auth_event()));
                assert_eq!((transfer, used), (None, None));
            }
            other => panic!("unknown event {other}"),
        }
    }
    // No topics (anonymous event) or another event: not ours.
    assert_eq!(decode_transfer_log(&[], &[]), Ok(None));
    assert_eq!(decode_authorization_used_log(&[[7; 32]], &[]), Ok(None));
}

#[test]
fn malformed_logs_are_refused() {
    let cases = calls()["bad_logs"].as_array().unwrap();
    assert!(cases.len() >= 6);
    for case in cases {
        let topics = topics_of(case);
        let data = hex(case["data"].as_str().unwrap());
        let note = case["note"].as_str().unwrap();
        let err = match case["event"].as_str().unwrap() {
            "transfer" => decode_transfer_log(&topics, &data).unwrap_err(),
            "authorization_used" => decode_authorization_used_log(&topics, &data).unwrap_err(),
            other => panic!("unknown event {other}"),
        };
        let expected = match note {
            "dirty address topic" => matches!(err, LogError::AddressTopic { index: 1, .. }),
            "two topics" | "ERC-721 Transfer: tokenId indexed" | "nonce topic missing" => {
                matches!(err, LogError::TopicCount { .. })
            }
            _ => matches!(err, LogError::DataLength { .. }),
        };
        assert!(expected, "{note}: {err}");
    }
    assert_eq!(
        LogError::TopicCount {
            event: "Transfer",
            expected: 3,
            got: 4
        }
        .to_string(),
        "Transfer log must have 3 topics, got 4"
    );
}
