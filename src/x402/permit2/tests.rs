use super::*;
use crate::crypto::ecdsa::{self, Policy, Signature};
use crate::crypto::eip712::{hash_typed_data, DomainTypes, Types};
use crate::x402::types::PaymentRequired;
use crate::x402::verify::Verdict;
use crate::x402::verify::DEFAULT_SKEW;

const NOW: u64 = 1_740_672_100;
const ANVIL0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const FACILITATOR: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const PAY_TO: &str = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
const USDC_BASE_SEPOLIA: &str = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";

fn requirements(kind: Permit2Kind) -> Requirements {
    let extra = match kind {
        Permit2Kind::Exact => {
            json!({"assetTransferMethod": "permit2", "name": "USDC", "version": "2"})
        }
        Permit2Kind::Upto => {
            json!({"assetTransferMethod": "permit2", "facilitatorAddress": FACILITATOR})
        }
    };
    let raw = json!({
        "scheme": kind.scheme(),
        "network": "eip155:84532",
        "asset": USDC_BASE_SEPOLIA,
        "amount": "10000",
        "payTo": PAY_TO,
        "maxTimeoutSeconds": 60,
        "extra": extra,
    });
    Requirements::from_json(&raw, 2).unwrap()
}

fn required(req: &Requirements) -> PaymentRequired {
    PaymentRequired::from_json(&json!({
        "x402Version": 2,
        "resource": {"url": "https://api.example.com/weather"},
        "accepts": [req.raw],
    }))
    .unwrap()
}

fn key() -> SecretKey {
    SecretKey::from_hex(ANVIL0).unwrap()
}

fn create(kind: Permit2Kind) -> PaymentPayload {
    let req = requirements(kind);
    let opts = CreateOptions {
        now: NOW,
        nonce: Some([7u8; 32]),
    };
    create_permit2_payment(&required(&req), &req, &key(), &opts).unwrap()
}

fn reason_of(v: &Verification) -> &'static str {
    match &v.verdict {
        Verdict::Invalid { reason, .. } => reason,
        other => panic!("expected invalid, got {other:?}"),
    }
}

fn auth_of(p: &PaymentPayload) -> Permit2Authorization {
    Permit2Payload::from_payload(&p.payload)
        .unwrap()
        .authorization
}

#[test]
fn constants_match_their_definitions() {
    assert_eq!(
        PERMIT2_ADDRESS.to_checksum(),
        "0x000000000022D473030F116dDEE9F6B43aC78BA3"
    );
    assert_eq!(
        EXACT_PROXY_ADDRESS.to_checksum(),
        "0x402085c248EeA27D92E8b30b2C58ed07f9E20001"
    );
    assert_eq!(
        UPTO_PROXY_ADDRESS.to_checksum(),
        "0x4020A4f3b7b90ccA423B9fabCc0CE57C6C240002"
    );
    for (text, hash) in [
        (DOMAIN_TYPE, DOMAIN_TYPEHASH),
        (TOKEN_PERMISSIONS_TYPE, TOKEN_PERMISSIONS_TYPEHASH),
        (EXACT_WITNESS_TYPE, EXACT_WITNESS_TYPEHASH),
        (UPTO_WITNESS_TYPE, UPTO_WITNESS_TYPEHASH),
        (EXACT_PERMIT_TYPE, EXACT_PERMIT_TYPEHASH),
        (UPTO_PERMIT_TYPE, UPTO_PERMIT_TYPEHASH),
    ] {
        assert_eq!(keccak256(text.as_bytes()), hash, "{text}");
    }
    // The generic engine's encodeType of the typed data agrees with the constants.
    for kind in [Permit2Kind::Exact, Permit2Kind::Upto] {
        let typed = permit2_typed_data(8453, &auth_of(&create(kind)));
        let types = Types::from_json(&typed["types"]).unwrap();
        let expected = match kind {
            Permit2Kind::Exact => EXACT_PERMIT_TYPE,
            Permit2Kind::Upto => UPTO_PERMIT_TYPE,
        };
        assert_eq!(
            types.encode_type("PermitWitnessTransferFrom").unwrap(),
            expected
        );
        assert_eq!(types.encode_type("EIP712Domain").unwrap(), DOMAIN_TYPE);
    }
}

#[test]
fn fast_path_equals_generic_engine() {
    let mut auth = auth_of(&create(Permit2Kind::Exact));
    let upto = auth_of(&create(Permit2Kind::Upto));
    for (chain_id, a) in [(84532u64, auth), (1, upto), (u64::MAX, upto)] {
        let typed = permit2_typed_data(chain_id, &a);
        assert_eq!(
            hash_typed_data(&typed, DomainTypes::Given).unwrap(),
            permit2_digest(chain_id, &a)
        );
    }
    auth.nonce = U256::MAX;
    auth.deadline = U256::MAX;
    auth.permitted.amount = U256::ZERO;
    auth.witness.valid_after = U256::from_u64(1);
    let typed = permit2_typed_data(137, &auth);
    assert_eq!(
        hash_typed_data(&typed, DomainTypes::Given).unwrap(),
        permit2_digest(137, &auth)
    );
}

#[test]
fn create_then_verify_exact_and_upto() {
    for kind in [Permit2Kind::Exact, Permit2Kind::Upto] {
        let req = requirements(kind);
        let payment = create(kind);
        let decoded = PaymentPayload::from_header(&payment.to_header(), 8192).unwrap();
        assert_eq!(decoded, payment);
        assert_eq!(
            payment.raw["accepted"], req.raw,
            "accepted echoed unchanged"
        );
        assert_eq!(
            payment.raw["resource"]["url"],
            "https://api.example.com/weather"
        );
        let keys: Vec<_> = payment.raw.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["x402Version", "payload", "accepted", "resource"]);
        let auth = auth_of(&decoded);
        assert_eq!(auth.kind(), kind);
        assert_eq!(auth.spender, kind.proxy());
        assert_eq!(auth.witness.valid_after, U256::ZERO);
        assert_eq!(auth.deadline, U256::from_u64(NOW + 60));
        assert_eq!(auth.nonce, U256::from_be_bytes(&[7u8; 32]));
        assert_eq!(auth.from, key().address());
        let nonce = payment.raw["payload"]["permit2Authorization"]["nonce"]
            .as_str()
            .unwrap();
        assert!(
            nonce.bytes().all(|c| c.is_ascii_digit()),
            "decimal nonce: {nonce}"
        );
        for now in [NOW, NOW + 1, NOW + 60 - DEADLINE_BUFFER] {
            let v = verify_permit2_payment(&decoded, &req, &VerifyOptions::at(now));
            assert_eq!(v.verdict, Verdict::Valid, "{kind:?} at {now}: {v:?}");
            assert_eq!(v.payer, Some(key().address()));
            let rk = v.replay_key.unwrap();
            assert_eq!(
                (rk.chain_id, rk.contract, rk.from),
                (84532, PERMIT2_ADDRESS, key().address())
            );
            assert_eq!(rk.nonce, [7u8; 32]);
        }
    }
}

#[test]
fn payload_key_order_is_the_sdks() {
    let payment = create(Permit2Kind::Upto);
    let text = serde_json::to_string(&payment.raw["payload"]).unwrap();
    let order = [
        "permit2Authorization",
        "from",
        "permitted",
        "token",
        "amount",
        "spender",
        "nonce",
        "deadline",
        "witness",
        "to",
        "facilitator",
        "validAfter",
        "signature",
    ];
    let positions: Vec<usize> = order
        .iter()
        .map(|k| text.find(&format!("\"{k}\"")).unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
}

#[test]
fn v1_and_other_schemes_refused() {
    let key = key();
    let opts = CreateOptions {
        now: NOW,
        nonce: None,
    };
    let v1 = Requirements::from_json(
        &json!({
            "scheme": "exact", "network": "base-sepolia", "maxAmountRequired": "10000",
            "resource": "https://api.example.com/weather", "payTo": PAY_TO, "maxTimeoutSeconds": 60,
            "asset": USDC_BASE_SEPOLIA, "extra": {"assetTransferMethod": "permit2"},
        }),
        1,
    )
    .unwrap();
    let required_v1 =
        PaymentRequired::from_json(&json!({"x402Version": 1, "accepts": [v1.raw]})).unwrap();
    let err = create_permit2_payment(&required_v1, &v1, &key, &opts).unwrap_err();
    assert_eq!(
        (err.reason, err.path.as_str()),
        (reason::INVALID_X402_VERSION, "x402Version")
    );
    assert!(select_permit2_requirements(&required_v1).is_err());

    let mut eip3009 = requirements(Permit2Kind::Exact);
    eip3009
        .extra
        .as_mut()
        .unwrap()
        .insert("assetTransferMethod".into(), json!("eip3009"));
    let err = create_permit2_payment(&required(&eip3009), &eip3009, &key, &opts).unwrap_err();
    assert_eq!(err.reason, reason::UNSUPPORTED_SCHEME);
    let err = create_permit2_payment(&required(&eip3009), &eip3009, &key, &opts).unwrap_err();
    assert_eq!(err.path, "scheme");
    // Verifying against requirements that do not offer Permit2.
    let v = verify_permit2_payment(
        &create(Permit2Kind::Exact),
        &eip3009,
        &VerifyOptions::at(NOW),
    );
    assert_eq!(reason_of(&v), reason::UNSUPPORTED_SCHEME);

    let mut no_facilitator = requirements(Permit2Kind::Upto);
    no_facilitator
        .extra
        .as_mut()
        .unwrap()
        .shift_remove("facilitatorAddress");
    let err = create_permit2_payment(&required(&no_facilitator), &no_facilitator, &key, &opts)
        .unwrap_err();
    assert_eq!(
        (err.reason, err.path.as_str()),
        (
            reason::INVALID_PAYMENT_REQUIREMENTS,
            "extra.facilitatorAddress"
        )
    );
    let mut zero_timeout = requirements(Permit2Kind::Exact);
    zero_timeout.max_timeout_seconds = 0;
    let err =
        create_permit2_payment(&required(&zero_timeout), &zero_timeout, &key, &opts).unwrap_err();
    assert_eq!(err.path, "maxTimeoutSeconds");
    let mut bad_net = requirements(Permit2Kind::Upto);
    bad_net.network = "base".into();
    let err = create_permit2_payment(&required(&bad_net), &bad_net, &key, &opts).unwrap_err();
    assert_eq!(err.reason, reason::UPTO_FAILED_TO_GET_NETWORK_CONFIG);

    // Selection skips what it cannot pay.
    let mut eip3009_raw = eip3009.raw.clone();
    eip3009_raw["extra"]["assetTransferMethod"] = json!("eip3009");
    let mixed = PaymentRequired::from_json(&json!({
        "x402Version": 2,
        "accepts": [eip3009_raw, requirements(Permit2Kind::Upto).raw],
    }))
    .unwrap();
    assert_eq!(select_permit2_requirements(&mixed).unwrap().scheme, "upto");
    // Random nonces differ.
    let req = requirements(Permit2Kind::Exact);
    let a = create_permit2_payment(&required(&req), &req, &key, &opts).unwrap();
    let b = create_permit2_payment(&required(&req), &req, &key, &opts).unwrap();
    assert_ne!(auth_of(&a).nonce, auth_of(&b).nonce);
}

#[test]
fn every_local_reason() {
    for kind in [Permit2Kind::Exact, Permit2Kind::Upto] {
        let req = requirements(kind);
        let good = create(kind);
        let check = |mutate: &dyn Fn(&mut Value), req: &Requirements, now: u64, expected: &str| {
            let mut raw = good.raw.clone();
            mutate(&mut raw);
            let payload = PaymentPayload::from_json(&raw).unwrap();
            let v = verify_permit2_payment(&payload, req, &VerifyOptions::at(now));
            assert_eq!(reason_of(&v), expected, "{kind:?}: {raw}");
        };
        fn auth(r: &mut Value) -> &mut Value {
            &mut r["payload"]["permit2Authorization"]
        }
        let noop = |_: &mut Value| {};
        let other = "0x1111111111111111111111111111111111111111";
        let zero = "0x0000000000000000000000000000000000000000";
        let (scheme_reason, network_reason, config_reason) = (
            kind.scheme_reason(),
            kind.network_reason(),
            kind.config_reason(),
        );
        let other_scheme = if kind == Permit2Kind::Exact {
            "upto"
        } else {
            "exact"
        };

        check(
            &|r| r["accepted"]["scheme"] = json!(other_scheme),
            &req,
            NOW,
            scheme_reason,
        );
        check(
            &|r| r["accepted"]["network"] = json!("eip155:8453"),
            &req,
            NOW,
            network_reason,
        );
        let mut bad_net = req.clone();
        bad_net.network = "eip155:084532".into();
        check(
            &|r| r["accepted"]["network"] = json!("eip155:084532"),
            &bad_net,
            NOW,
            config_reason,
        );
        let wrong_proxy = if kind == Permit2Kind::Exact {
            UPTO_PROXY_ADDRESS
        } else {
            EXACT_PROXY_ADDRESS
        };
        check(
            &|r| auth(r)["spender"] = json!(wrong_proxy.to_checksum()),
            &req,
            NOW,
            reason::PERMIT2_INVALID_SPENDER,
        );
        check(
            &|r| auth(r)["witness"]["to"] = json!(other),
            &req,
            NOW,
            reason::PERMIT2_RECIPIENT_MISMATCH,
        );
        check(
            &noop,
            &req,
            NOW + 60 - DEADLINE_BUFFER + 1,
            reason::PERMIT2_DEADLINE_EXPIRED,
        );
        check(
            &|r| auth(r)["witness"]["validAfter"] = json!((NOW + 1).to_string()),
            &req,
            NOW,
            reason::PERMIT2_NOT_YET_VALID,
        );
        check(
            &|r| auth(r)["permitted"]["amount"] = json!("10001"),
            &req,
            NOW,
            reason::PERMIT2_AMOUNT_MISMATCH,
        );
        let token = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913";
        check(
            &|r| auth(r)["permitted"]["token"] = json!(token),
            &req,
            NOW,
            reason::PERMIT2_TOKEN_MISMATCH,
        );
        check(
            &|r| auth(r)["nonce"] = json!("1"),
            &req,
            NOW,
            reason::PERMIT2_INVALID_SIGNATURE,
        );
        check(
            &|r| r["payload"]["signature"] = json!("0x"),
            &req,
            NOW,
            reason::PERMIT2_INVALID_SIGNATURE,
        );
        // fastx402's extras.
        check(
            &|r| r["accepted"]["maxTimeoutSeconds"] = json!(61),
            &req,
            NOW,
            reason::INVALID_PAYMENT_REQUIREMENTS,
        );
        check(
            &|r| auth(r)["from"] = json!(zero),
            &req,
            NOW,
            reason::INVALID_PAYLOAD,
        );
        let far = (NOW + 60 + DEFAULT_SKEW + 1).to_string();
        check(
            &|r| auth(r)["deadline"] = json!(far),
            &req,
            NOW,
            reason::PERMIT2_DEADLINE_EXPIRED,
        );
        check(
            &|r| auth(r)["nonce"] = json!("0x01"),
            &req,
            NOW,
            reason::INVALID_PAYLOAD,
        );
        check(
            &|r| auth(r)["nonce"] = json!(1),
            &req,
            NOW,
            reason::INVALID_PAYLOAD,
        );
        check(
            &|r| auth(r)["witness"]["extra"] = json!({}),
            &req,
            NOW,
            reason::INVALID_PAYLOAD,
        );
        check(
            &|r| r["payload"]["extra"] = json!(1),
            &req,
            NOW,
            reason::INVALID_PAYLOAD,
        );
        check(
            &|r| auth(r)["witness"]["to"] = json!(PAY_TO.replace("Bc6a", "bc6a")),
            &req,
            NOW,
            reason::INVALID_PAYLOAD,
        );
        let mut v1 = req.clone();
        v1.version = 1;
        check(&noop, &v1, NOW, reason::INVALID_X402_VERSION);
        let mut zero_pay_to = req.clone();
        zero_pay_to.pay_to = Address::ZERO;
        check(
            &|r| auth(r)["witness"]["to"] = json!(zero),
            &zero_pay_to,
            NOW,
            reason::INVALID_PAYMENT_REQUIREMENTS,
        );
        let mut resource = VerifyOptions::at(NOW);
        resource.resource_url = Some("https://api.example.com/other".into());
        let v = verify_permit2_payment(&good, &req, &resource);
        assert_eq!(reason_of(&v), reason::INVALID_PAYLOAD);
        resource.resource_url = Some("https://api.example.com/weather".into());
        assert!(verify_permit2_payment(&good, &req, &resource).is_valid());

        match kind {
            Permit2Kind::Exact => {
                check(
                    &|r| auth(r)["witness"]["facilitator"] = json!(FACILITATOR),
                    &req,
                    NOW,
                    reason::INVALID_PAYLOAD,
                );
            }
            Permit2Kind::Upto => {
                check(
                    &|r| auth(r)["witness"]["facilitator"] = json!(other),
                    &req,
                    NOW,
                    reason::UPTO_FACILITATOR_MISMATCH,
                );
                check(
                    &|r| {
                        auth(r)["witness"]
                            .as_object_mut()
                            .unwrap()
                            .shift_remove("facilitator");
                    },
                    &req,
                    NOW,
                    reason::INVALID_PAYLOAD,
                );
                // The facilitator's own addresses (the official check).
                let mine = Address::parse(FACILITATOR).unwrap();
                let other = Address::parse(other).unwrap();
                let opts = VerifyOptions::at(NOW);
                assert!(verify_permit2_payment_with(&good, &req, &opts, &[other, mine]).is_valid());
                let v = verify_permit2_payment_with(&good, &req, &opts, &[other]);
                assert_eq!(reason_of(&v), reason::UPTO_FACILITATOR_MISMATCH);
                let mut unconfigured = req.clone();
                unconfigured
                    .extra
                    .as_mut()
                    .unwrap()
                    .shift_remove("facilitatorAddress");
                let v = verify_permit2_payment(&good, &unconfigured, &opts);
                assert_eq!(reason_of(&v), reason::INVALID_PAYMENT_REQUIREMENTS);
            }
        }
        // Not 65 bytes: possibly a contract wallet's signature; only the chain can tell.
        let mut raw = good.raw.clone();
        raw["payload"]["signature"] = json!("0x1234");
        let v = verify_permit2_payment(
            &PaymentPayload::from_json(&raw).unwrap(),
            &req,
            &VerifyOptions::at(NOW),
        );
        assert!(matches!(v.verdict, Verdict::NeedsChain { .. }), "{v:?}");
        assert!(v.replay_key.is_some() && v.digest.is_some());
        // An EIP-3009 payload is not a Permit2 payload.
        let exact_payload = json!({"x402Version": 2, "accepted": req.raw, "payload": {
                "authorization": {"from": PAY_TO, "to": PAY_TO, "value": "1", "validAfter": "0", "validBefore": "1",
                    "nonce": hexutil::encode_0x(&[0u8; 32])},
                "signature": "0x"}});
        let v = verify_permit2_payment(
            &PaymentPayload::from_json(&exact_payload).unwrap(),
            &req,
            &VerifyOptions::at(NOW),
        );
        assert_eq!(reason_of(&v), reason::INVALID_PAYLOAD);
        assert_eq!(v.payer, None);
    }
}

#[test]
fn high_s_twin_and_v01_rejected() {
    for kind in [Permit2Kind::Exact, Permit2Kind::Upto] {
        let req = requirements(kind);
        let good = create(kind);
        let sig = good.payload.permit2().unwrap().signature.clone();
        let twin = Signature::from_bytes(&sig).unwrap().flip_s();
        assert!(twin.is_high_s());
        let mut v01 = sig.clone();
        v01[64] -= 27;
        for bad in [twin.to_bytes().to_vec(), v01] {
            let mut raw = good.raw.clone();
            raw["payload"]["signature"] = json!(hexutil::encode_0x(&bad));
            let v = verify_permit2_payment(
                &PaymentPayload::from_json(&raw).unwrap(),
                &req,
                &VerifyOptions::at(NOW),
            );
            assert_eq!(reason_of(&v), reason::PERMIT2_INVALID_SIGNATURE, "{kind:?}");
        }
        // The twin really is a signature by the payer (accepted when high s is allowed).
        let digest = permit2_digest(84532, &auth_of(&good));
        let policy = Policy { allow_high_s: true };
        let public =
            ecdsa::recover_public_key_with::<ecdsa::DefaultBackend>(&digest, &twin, policy)
                .unwrap();
        assert_eq!(Address::from_public_key(&public), key().address());
    }
}

// -----------------------------------------------------------------------
// Interop: tests/vectors/permit2.json, made with the official Python SDK.

fn vectors() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/permit2.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn apply_edits(payment: &mut Value, requirements: &mut Value, edits: &[Value]) {
    for edit in edits {
        let path = edit["path"].as_array().unwrap();
        let mut node = match path[0].as_str().unwrap() {
            "payment" => &mut *payment,
            "requirements" => &mut *requirements,
            other => panic!("edit root {other}"),
        };
        for step in &path[1..path.len() - 1] {
            node = &mut node[step.as_str().unwrap()];
        }
        let last = path[path.len() - 1].as_str().unwrap();
        let map = node.as_object_mut().unwrap();
        if edit.get("delete").is_some() {
            map.shift_remove(last).unwrap();
        } else {
            map.insert(last.into(), edit["value"].clone());
        }
    }
}

/// fastx402's answer as a reason (None = valid), including decode refusals.
fn verdict_of(payment: &Value, requirements: &Value, now: u64) -> Option<String> {
    let payload = match PaymentPayload::from_json(payment) {
        Ok(p) => p,
        Err(e) => return Some(e.reason.into()),
    };
    let req = match Requirements::from_json(requirements, 2) {
        Ok(r) => r,
        Err(e) => return Some(e.reason.into()),
    };
    let facilitator = Address::parse(FACILITATOR).unwrap();
    let v = verify_permit2_payment_with(&payload, &req, &VerifyOptions::at(now), &[facilitator]);
    match v.verdict {
        Verdict::Valid => None,
        Verdict::Invalid { reason, .. } => Some(reason.into()),
        Verdict::NeedsChain { message } => Some(format!("needs chain: {message}")),
    }
}

#[test]
fn sdk_payments_verify_and_are_reproduced_byte_for_byte() {
    let doc = vectors();
    let key = SecretKey::from_hex(doc["keys"]["anvil0"]["private_key"].as_str().unwrap()).unwrap();
    assert_eq!(
        key.address().to_checksum(),
        doc["keys"]["anvil0"]["address"]
    );
    assert_eq!(doc["constants"]["permit2"], PERMIT2_ADDRESS.to_checksum());
    assert_eq!(
        doc["constants"]["exact_permit2_proxy"],
        EXACT_PROXY_ADDRESS.to_checksum()
    );
    assert_eq!(
        doc["constants"]["upto_permit2_proxy"],
        UPTO_PROXY_ADDRESS.to_checksum()
    );
    assert_eq!(doc["constants"]["deadline_buffer"], DEADLINE_BUFFER);
    let payments = doc["payments"].as_array().unwrap();
    assert!(payments.len() >= 4);
    let mut checks = 0;
    for case in payments {
        let name = case["name"].as_str().unwrap();
        let now: u64 = case["now"].as_u64().unwrap();
        let required = PaymentRequired::from_json(&case["payment_required"]).unwrap();
        let req = &required.accepts[0];
        let kind = Permit2Kind::of(req).unwrap();
        assert_eq!(kind.scheme(), case["kind"], "{name}");

        // The SDK's header decodes, verifies, and carries the SDK's digest.
        let header = case["header"].as_str().unwrap();
        let payment = PaymentPayload::from_header(header, 8192).unwrap();
        assert_eq!(payment.raw, case["payment"], "{name}");
        let v = verify_permit2_payment(&payment, req, &VerifyOptions::at(now));
        assert_eq!(v.verdict, Verdict::Valid, "{name}: {v:?}");
        assert_eq!(v.payer.unwrap().to_checksum(), case["payer"], "{name}");
        let digest = hexutil::encode_0x(&v.digest.unwrap());
        assert_eq!(digest, case["digest"], "{name}");
        let auth = auth_of(&payment);
        let chain_id = caip2_chain_id(&req.network).unwrap();
        let typed = permit2_typed_data(chain_id, &auth);
        assert_eq!(typed, case["typed_data"], "{name}: typed data");
        assert_eq!(
            hexutil::encode_0x(&hash_typed_data(&case["typed_data"], DomainTypes::Given).unwrap()),
            digest
        );

        // fastx402 makes the same payment from the same inputs, byte for byte.
        let nonce = U256::from_dec_str(case["nonce"].as_str().unwrap())
            .unwrap()
            .to_be_bytes();
        let ours = create_permit2_payment(
            &required,
            req,
            &key,
            &CreateOptions {
                now,
                nonce: Some(nonce),
            },
        )
        .unwrap();
        assert_eq!(ours.raw, case["payment"], "{name}");
        assert_eq!(
            serde_json::to_string(&ours.raw).unwrap(),
            String::from_utf8(
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, header).unwrap()
            )
            .unwrap(),
            "{name}"
        );
        assert_eq!(ours.to_header(), header, "{name}: header");

        // The SDK facilitator's verdicts on mutated copies.
        for check in case["checks"].as_array().unwrap() {
            let check_name = check["name"].as_str().unwrap();
            let mut p = case["payment"].clone();
            let mut r = case["payment_required"]["accepts"][0].clone();
            apply_edits(
                &mut p,
                &mut r,
                check
                    .get("edits")
                    .and_then(Value::as_array)
                    .map_or(&[], |v| v),
            );
            let ours = verdict_of(&p, &r, check["now"].as_u64().unwrap());
            let expected = check["fastx402"].as_str().map(str::to_owned);
            assert_eq!(ours, expected, "{name}/{check_name}");
            let sdk = &check["sdk"];
            let sdk_reason = match sdk.get("isValid").and_then(Value::as_bool) {
                Some(true) => Some(None),
                Some(false) => Some(sdk["invalidReason"].as_str().map(str::to_owned)),
                None => None, // raised
            };
            if check.get("divergence").is_none() {
                assert_eq!(
                    sdk_reason,
                    Some(ours),
                    "{name}/{check_name}: same verdict as the SDK"
                );
            } else {
                assert_ne!(
                    sdk_reason,
                    Some(ours),
                    "{name}/{check_name}: documented divergence"
                );
            }
            checks += 1;
        }
    }
    assert!(checks >= 100, "{checks}");
}

/// The x402 spec's Permit2 example reuses the EIP-3009 example's signature: not valid.
#[test]
fn spec_permit2_example_is_not_valid() {
    let doc = vectors();
    let examples = doc["spec_examples"].as_array().unwrap();
    assert_eq!(examples.len(), 2);
    for ex in examples {
        let ours = verdict_of(
            &ex["payment"],
            &ex["requirements"],
            ex["now"].as_u64().unwrap(),
        );
        assert_eq!(ours.as_deref(), ex["fastx402"].as_str(), "{}", ex["name"]);
        assert_eq!(ex["sdk"]["invalidReason"], ex["fastx402"], "{}", ex["name"]);
    }
    let repaired = &examples[1];
    let payment = PaymentPayload::from_json(&repaired["payment"]).unwrap();
    let req = Requirements::from_json(&repaired["requirements"], 2).unwrap();
    let v = verify_permit2_payment(&payment, &req, &VerifyOptions::at(NOW));
    assert_eq!(hexutil::encode_0x(&v.digest.unwrap()), repaired["digest"]);
    let Verdict::Invalid { message, .. } = &v.verdict else {
        panic!("{v:?}")
    };
    assert!(
        message.contains(repaired["recovers_to"].as_str().unwrap()),
        "{message}"
    );
    // Inline too: the spec's signature and from, everything else made valid.
    let auth = auth_of(&payment);
    assert_eq!(
        auth.from.to_checksum(),
        "0x857b06519E91e3A54538791bDbb0E22373e36b66"
    );
    assert_eq!(
            hexutil::encode_0x(&Permit2Payload::from_payload(&payment.payload).unwrap().signature),
            "0x2d6a7588d6acca505cbf0d9a4a227e0c52c6c34008c8e8986a1283259764173608a2ce6496642e377d6da8dbbf5836e9bd15092f9ecab05ded3d6293af148b571c"
        );
    assert_eq!(reason_of(&v), reason::PERMIT2_INVALID_SIGNATURE);
}
