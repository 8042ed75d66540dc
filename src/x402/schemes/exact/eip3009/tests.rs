use super::*;
use crate::crypto::ecdsa::Signature;
use crate::crypto::eip712::{hash_typed_data, DomainTypes};
use crate::x402::types::PaymentRequired;
use crate::x402::verify::{Verdict, DEFAULT_SKEW};

const NOW: u64 = 1_740_672_100;

fn spec_requirements() -> Requirements {
    let mut extra = serde_json::Map::new();
    extra.insert("name".into(), json!("USDC"));
    extra.insert("version".into(), json!("2"));
    Requirements::new_v2(
        "exact",
        "eip155:84532",
        U256::from_u64(10_000),
        Address::parse("0x036CbD53842c5426634e7929541eC2318f3dCF7e").unwrap(),
        Address::parse("0x209693Bc6afc0C5328bA36FaF03C514EF312287C").unwrap(),
        60,
        Some(extra),
    )
}

/// The x402 v2 specification's example payment (a real signature).
fn spec_payload() -> PaymentPayload {
    let req = spec_requirements();
    let raw = json!({
        "x402Version": 2,
        "payload": {
            "authorization": {
                "from": "0x857b06519E91e3A54538791bDbb0E22373e36b66",
                "to": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
                "value": "10000",
                "validAfter": "1740672089",
                "validBefore": "1740672154",
                "nonce": "0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480"
            },
            "signature": "0x2d6a7588d6acca505cbf0d9a4a227e0c52c6c34008c8e8986a1283259764173608a2ce6496642e377d6da8dbbf5836e9bd15092f9ecab05ded3d6293af148b571c"
        },
        "accepted": req.raw,
    });
    PaymentPayload::from_json(&raw).unwrap()
}

fn required(req: &Requirements) -> PaymentRequired {
    let mut raw = json!({"x402Version": req.version, "accepts": [req.raw]});
    if req.version == 2 {
        raw["resource"] = json!({"url": "https://api.example.com/weather"});
    }
    PaymentRequired::from_json(&raw).unwrap()
}

fn reason_of(v: &Verification) -> &'static str {
    match &v.verdict {
        Verdict::Invalid { reason, .. } => reason,
        other => panic!("expected invalid, got {other:?}"),
    }
}

#[test]
fn spec_example_digest_and_signature() {
    let req = spec_requirements();
    let payload = spec_payload();
    let SchemePayload::Eip3009 { authorization, .. } = &payload.payload else {
        unreachable!()
    };
    let domain = TokenDomain::from_requirements(&req).unwrap();
    assert_eq!(
        hexutil::encode_0x(&domain.separator()),
        "0x71f17a3b2ff373b803d70a5a07c046c1a2bc8e89c09ef722fcb047abe94c9818"
    );
    let digest = authorization_digest(&domain, authorization);
    assert_eq!(
        hexutil::encode_0x(&digest),
        "0xf256992871671abcb27ff92885a7afa46218724e5fc0bac35d050115aa1d22e6"
    );
    // The fast path and the generic strict-v4 engine agree.
    let typed = authorization_typed_data(&domain, authorization);
    assert_eq!(hash_typed_data(&typed, DomainTypes::Given).unwrap(), digest);
    let v = verify_payment(&payload, &req, &VerifyOptions::at(NOW));
    assert_eq!(v.verdict, Verdict::Valid, "{v:?}");
    assert_eq!(
        v.payer.unwrap().to_checksum(),
        "0x857b06519E91e3A54538791bDbb0E22373e36b66"
    );
    assert_eq!(
            v.replay_key.unwrap().to_string(),
            "eip155:84532:0x036cbd53842c5426634e7929541ec2318f3dcf7e:0x857b06519e91e3a54538791bdbb0e22373e36b66:0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480"
        );
}

#[test]
fn high_s_twin_and_v01_rejected() {
    let req = spec_requirements();
    let mut payload = spec_payload();
    let SchemePayload::Eip3009 { signature, .. } = &mut payload.payload else {
        unreachable!()
    };
    let original = signature.clone();
    let n_minus = Signature::from_bytes(&original).unwrap().flip_s();
    *signature = n_minus.to_bytes().to_vec();
    let v = verify_payment(&payload, &req, &VerifyOptions::at(NOW));
    assert_eq!(reason_of(&v), reason::INVALID_SIGNATURE);
    let SchemePayload::Eip3009 { signature, .. } = &mut payload.payload else {
        unreachable!()
    };
    *signature = original.clone();
    signature[64] -= 27;
    let v = verify_payment(&payload, &req, &VerifyOptions::at(NOW));
    assert_eq!(reason_of(&v), reason::INVALID_SIGNATURE);
}

#[test]
fn create_then_verify_v2_and_v1() {
    let key = SecretKey::from_bytes(&[7u8; 32]).unwrap();
    for version in [2u8, 1] {
        let mut req = spec_requirements();
        if version == 1 {
            let mut raw = req.raw.clone();
            let obj = raw.as_object_mut().unwrap();
            let amount = obj.shift_remove("amount").unwrap();
            obj.insert("maxAmountRequired".into(), amount);
            obj.insert("network".into(), json!("base-sepolia"));
            obj.insert("resource".into(), json!("https://api.example.com/weather"));
            req = Requirements::from_json(&raw, 1).unwrap();
        }
        let opts = CreateOptions {
            now: NOW,
            nonce: Some([9u8; 32]),
        };
        let payment = create_payment(&required(&req), &req, &key, &opts).unwrap();
        let decoded = PaymentPayload::from_header(&payment.to_header(), 8192).unwrap();
        assert_eq!(decoded, payment);
        if version == 2 {
            assert_eq!(
                payment.raw["accepted"], req.raw,
                "accepted echoed unchanged"
            );
            assert_eq!(
                payment.raw["resource"]["url"],
                "https://api.example.com/weather"
            );
        }
        let v = verify_payment(&decoded, &req, &VerifyOptions::at(NOW + 1));
        assert_eq!(v.verdict, Verdict::Valid, "v{version}: {v:?}");
        assert_eq!(v.payer, Some(key.address()));
        let SchemePayload::Eip3009 { authorization, .. } = &decoded.payload else {
            unreachable!()
        };
        assert_eq!(authorization.valid_after, U256::from_u64(NOW - 600));
        assert_eq!(authorization.valid_before, U256::from_u64(NOW + 60));
    }
}

/// `extra` numbers in `accepted` compare by exact value: 2^53 + 1 is not 2^53 (they are
/// the same double), while `150` is the offered `150.0` (a JavaScript client's echo).
#[test]
fn accepted_extra_numbers_compare_exactly() {
    let key = SecretKey::from_bytes(&[7u8; 32]).unwrap();
    let with_extra = |text: &str| {
        let mut raw = spec_requirements().raw;
        raw["extra"]["n"] = crate::json::parse_strict(text.as_bytes()).unwrap();
        Requirements::from_json(&raw, 2).unwrap()
    };
    let opts = CreateOptions {
        now: NOW,
        nonce: Some([3u8; 32]),
    };
    for (offered, echoed, equal) in [
        ("9007199254740993", "9007199254740992", false),
        ("9007199254740992", "9007199254740993", false),
        ("9007199254740993", "9007199254740993", true),
        ("0.1", "0.10000000000000001", false),
        ("150.0", "150", true),
        ("1.5e2", "150", true),
        ("1", "1.0", true),
        ("-0", "0", true),
        ("1", "-1", false),
    ] {
        let req = with_extra(offered);
        let payment = create_payment(&required(&req), &req, &key, &opts).unwrap();
        let mut raw = payment.raw.clone();
        raw["accepted"]["extra"]["n"] = crate::json::parse_strict(echoed.as_bytes()).unwrap();
        let payload = PaymentPayload::from_json(&raw).unwrap();
        let v = verify_payment(&payload, &req, &VerifyOptions::at(NOW + 1));
        if equal {
            assert_eq!(v.verdict, Verdict::Valid, "{offered} vs {echoed}");
        } else {
            assert_eq!(
                reason_of(&v),
                reason::INVALID_PAYMENT_REQUIREMENTS,
                "{offered} vs {echoed}"
            );
        }
    }
}

#[test]
fn every_local_reason() {
    let key = SecretKey::from_bytes(&[7u8; 32]).unwrap();
    let req = spec_requirements();
    let opts = CreateOptions {
        now: NOW,
        nonce: Some([1u8; 32]),
    };
    let good = create_payment(&required(&req), &req, &key, &opts).unwrap();
    let check = |mutate: &dyn Fn(&mut Value), req: &Requirements, now: u64, expected: &str| {
        let mut raw = good.raw.clone();
        mutate(&mut raw);
        let payload = PaymentPayload::from_json(&raw).unwrap();
        let v = verify_payment(&payload, req, &VerifyOptions::at(now));
        assert_eq!(reason_of(&v), expected, "{raw}");
    };
    let noop = |_: &mut Value| {};
    let mut other = req.clone();
    other.scheme = "upto".into();
    check(&noop, &other, NOW, reason::UNSUPPORTED_SCHEME);
    check(
        &|r| r["accepted"]["scheme"] = json!("upto"),
        &req,
        NOW,
        reason::UNSUPPORTED_SCHEME,
    );
    check(
        &|r| r["accepted"]["network"] = json!("eip155:8453"),
        &req,
        NOW,
        reason::NETWORK_MISMATCH,
    );
    let mut bad_net = req.clone();
    bad_net.network = "eip155:x".into();
    check(
        &|r| r["accepted"]["network"] = json!("eip155:x"),
        &bad_net,
        NOW,
        reason::FAILED_TO_GET_NETWORK_CONFIG,
    );
    let mut no_domain = req.clone();
    no_domain.extra = None;
    check(&noop, &no_domain, NOW, reason::MISSING_EIP712_DOMAIN);
    check(
        &|r| r["accepted"]["maxTimeoutSeconds"] = json!(61),
        &req,
        NOW,
        reason::INVALID_PAYMENT_REQUIREMENTS,
    );
    check(
        &|r| r["accepted"]["extra"]["name"] = json!("USD Coin"),
        &req,
        NOW,
        reason::INVALID_PAYMENT_REQUIREMENTS,
    );
    let to = "0x0000000000000000000000000000000000000001";
    check(
        &|r| r["payload"]["authorization"]["to"] = json!(to),
        &req,
        NOW,
        reason::RECIPIENT_MISMATCH,
    );
    check(
        &|r| r["payload"]["authorization"]["value"] = json!("10001"),
        &req,
        NOW,
        reason::VALUE_MISMATCH,
    );
    check(&noop, &req, NOW + 60 - 5, reason::VALID_BEFORE);
    check(&noop, &req, NOW - 601, reason::VALID_AFTER);
    let far = (NOW + 60 + DEFAULT_SKEW + 1).to_string();
    check(
        &|r| r["payload"]["authorization"]["validBefore"] = json!(far),
        &req,
        NOW,
        reason::VALID_BEFORE,
    );
    check(
        &|r| r["payload"]["authorization"]["nonce"] = json!(hexutil::encode_0x(&[2u8; 32])),
        &req,
        NOW,
        reason::INVALID_SIGNATURE,
    );
    let zero = "0x0000000000000000000000000000000000000000";
    check(
        &|r| r["payload"]["authorization"]["from"] = json!(zero),
        &req,
        NOW,
        reason::INVALID_PAYLOAD,
    );
    check(
        &|r| r["payload"]["signature"] = json!("0x"),
        &req,
        NOW,
        reason::INVALID_SIGNATURE,
    );
    // Not 65 bytes: possibly a contract wallet's signature; only the chain can tell.
    let mut raw = good.raw.clone();
    raw["payload"]["signature"] = json!("0x1234");
    let v = verify_payment(
        &PaymentPayload::from_json(&raw).unwrap(),
        &req,
        &VerifyOptions::at(NOW),
    );
    assert!(matches!(v.verdict, Verdict::NeedsChain { .. }), "{v:?}");
    // Not valid, so it has a reason; its key is handed out as unauthenticated only.
    assert_eq!(v.verdict.reason(), Some(reason::NEEDS_ONCHAIN_VERIFICATION));
    assert!(v.verdict.message().is_some());
    assert_eq!(v.authenticated_replay_key(), None);
    assert_eq!(v.unauthenticated_replay_key(), v.replay_key);
    assert!(v.replay_key.is_some(), "the facilitator still needs it");
}

/// A replay key authenticates only with its signature: a forged one gets none.
#[test]
fn replay_key_handed_out_only_when_the_signature_authenticates() {
    let key = SecretKey::from_bytes(&[7u8; 32]).unwrap();
    let req = spec_requirements();
    let opts = CreateOptions {
        now: NOW,
        nonce: Some([5u8; 32]),
    };
    let good = create_payment(&required(&req), &req, &key, &opts).unwrap();
    let v = verify_payment(&good, &req, &VerifyOptions::at(NOW + 1));
    assert!(v.is_valid());
    assert_eq!(v.verdict.reason(), None);
    assert_eq!(v.authenticated_replay_key(), v.replay_key);
    assert_eq!(v.unauthenticated_replay_key(), None);
    let mut raw = good.raw.clone();
    let other = SecretKey::from_bytes(&[8u8; 32]).unwrap();
    raw["payload"]["signature"] = json!(hexutil::encode_0x(
        &other.sign_digest(&[0u8; 32]).to_bytes()
    ));
    let forged = verify_payment(
        &PaymentPayload::from_json(&raw).unwrap(),
        &req,
        &VerifyOptions::at(NOW + 1),
    );
    assert_eq!(forged.verdict.reason(), Some(reason::INVALID_SIGNATURE));
    assert_eq!(forged.authenticated_replay_key(), None);
    assert_eq!(forged.unauthenticated_replay_key(), None);
}

/// `resource_url` binds a v1 payment through its requirements' `resource` (a v1 payment
/// names none), as it binds a v2 payment through its `resource.url`.
#[test]
fn resource_url_binds_v1_through_the_requirements() {
    let key = SecretKey::from_bytes(&[7u8; 32]).unwrap();
    let weather = "https://api.example.com/weather";
    let v1 = |resource: &str| {
        let mut raw = spec_requirements().raw;
        let obj = raw.as_object_mut().unwrap();
        let amount = obj.shift_remove("amount").unwrap();
        obj.insert("maxAmountRequired".into(), amount);
        obj.insert("network".into(), json!("base-sepolia"));
        obj.insert("resource".into(), json!(resource));
        Requirements::from_json(&raw, 1).unwrap()
    };
    let req = v1(weather);
    let opts = CreateOptions {
        now: NOW,
        nonce: Some([6u8; 32]),
    };
    let payment = create_payment(&required(&req), &req, &key, &opts).unwrap();
    let bound = |url: &str, req: &Requirements| {
        let mut options = VerifyOptions::at(NOW + 1);
        options.resource_url = Some(url.into());
        verify_payment(&payment, req, &options)
    };
    assert_eq!(bound(weather, &req).verdict, Verdict::Valid);
    let admin = "https://api.example.com/admin";
    assert_eq!(
        reason_of(&bound(admin, &req)),
        reason::INVALID_PAYMENT_REQUIREMENTS
    );
    assert_eq!(
        reason_of(&bound(weather, &v1(admin))),
        reason::INVALID_PAYMENT_REQUIREMENTS
    );
    let unbound = verify_payment(&payment, &v1(admin), &VerifyOptions::at(NOW + 1));
    assert_eq!(
        unbound.verdict,
        Verdict::Valid,
        "no resource_url, no binding"
    );
}
