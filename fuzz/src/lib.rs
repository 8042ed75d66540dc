//! Shared fixtures and invariant checks for the fuzz targets: fixed v1/v2
//! requirements (Base Sepolia USDC), a fixed clock, and the header decoding mode.

use std::borrow::Cow;
use std::sync::OnceLock;

use _core::crypto::address::Address;
use _core::crypto::ecdsa::SecretKey;
use _core::num::U256;
use _core::x402::error::{ErrorKind, ProtocolError};
use _core::x402::create::CreateOptions;
use _core::x402::schemes::exact::eip3009 as exact;
use _core::x402::verify::{self, Verdict, VerifyOptions};
use _core::x402::reason;
use _core::x402::types::{PaymentPayload, PaymentRequired, Requirements, SchemePayload};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Map};

pub const NOW: u64 = 1_740_672_100;
pub const RESOURCE: &str = "https://api.example.com/weather";
/// Large enough for anything the fuzzer builds, so inputs reach the decoders.
pub const MAX_BYTES: usize = 1 << 20;
pub const TOKEN: &str = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
pub const PAY_TO: &str = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";

/// The header text for an input. First byte even: the rest, as UTF-8-lossy header
/// text (base64 level). First byte odd: the rest base64-encoded first, so the
/// fuzzer works on the JSON directly (JSON and field level).
pub fn header_of(data: &[u8]) -> Cow<'_, str> {
    match data.split_first() {
        Some((mode, rest)) if mode & 1 == 1 => Cow::Owned(STANDARD.encode(rest)),
        Some((_, rest)) => String::from_utf8_lossy(rest),
        None => Cow::Borrowed(""),
    }
}

pub struct Fixtures {
    pub v2: Requirements,
    pub v1: Requirements,
    pub key: SecretKey,
    pub options: VerifyOptions,
}

pub fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| {
        let mut extra = Map::new();
        extra.insert("name".into(), json!("USDC"));
        extra.insert("version".into(), json!("2"));
        let v2 = Requirements::new_v2(
            "exact",
            "eip155:84532",
            U256::from_u64(10_000),
            Address::parse(TOKEN).unwrap(),
            Address::parse(PAY_TO).unwrap(),
            60,
            Some(extra),
        );
        let v1 = Requirements::from_json(
            &json!({
                "scheme": "exact",
                "network": "base-sepolia",
                "maxAmountRequired": "10000",
                "resource": RESOURCE,
                "payTo": PAY_TO,
                "maxTimeoutSeconds": 60,
                "asset": TOKEN,
                "extra": {"name": "USDC", "version": "2"}
            }),
            1,
        )
        .unwrap();
        let mut options = VerifyOptions::at(NOW + 1);
        options.resource_url = Some(RESOURCE.to_owned());
        Fixtures {
            v2,
            v1,
            key: SecretKey::from_bytes(&[0x42; 32]).unwrap(),
            options,
        }
    })
}

/// A refusal is typed: an x402 reason, a message, `TooLarge` only over the cap.
pub fn check_error(e: &ProtocolError, header: &str, max_bytes: usize) {
    assert!(
        reason::ALL.contains(&e.reason),
        "untyped reason {:?}",
        e.reason
    );
    assert!(!e.message.is_empty());
    assert_eq!(
        header.len() > max_bytes,
        e.kind == ErrorKind::TooLarge,
        "{e}"
    );
}

/// Verifies a decoded payment against both fixed requirements and checks that a
/// `Valid` verdict only ever comes with terms that match.
pub fn verify_and_check(payment: &PaymentPayload) {
    let f = fixtures();
    for req in [&f.v2, &f.v1] {
        let v = exact::verify_payment(payment, req, &f.options);
        match &v.verdict {
            Verdict::Valid => {
                let SchemePayload::Eip3009 {
                    authorization,
                    signature,
                } = &payment.payload
                else {
                    panic!("valid without an EIP-3009 payload");
                };
                assert_eq!(payment.version, req.version);
                assert_eq!(payment.network, req.network);
                assert_eq!(authorization.to, req.pay_to);
                assert_eq!(authorization.value, req.amount);
                assert_eq!(signature.len(), 65);
                assert_eq!(v.payer, Some(authorization.from));
                assert!(v.replay_key.is_some() && v.digest.is_some());
                if let Some(accepted) = &payment.accepted {
                    assert!(accepted.same_terms(req));
                }
                if payment.version == 2 {
                    assert_eq!(
                        payment.resource.as_ref().map(|r| r.url.as_str()),
                        Some(RESOURCE)
                    );
                }
            }
            Verdict::Invalid { reason, message } => {
                assert!(reason::ALL.contains(reason), "untyped reason {reason:?}");
                assert!(!message.is_empty());
            }
            Verdict::NeedsChain { .. } => {}
        }
    }
}

/// Whatever decodes re-encodes to a header that decodes to the same message.
pub fn round_trip_payment(payment: &PaymentPayload) {
    let again = PaymentPayload::from_header(&payment.to_header(), usize::MAX)
        .expect("re-encoded payment decodes");
    assert_eq!(&again, payment);
}

pub fn round_trip_required(required: &PaymentRequired) {
    let again = PaymentRequired::from_header(&required.to_header(), usize::MAX)
        .expect("re-encoded 402 decodes");
    assert_eq!(&again, required);
}

/// A client paying any decodable 402 it can pay produces a payment that the same
/// requirements accept (the server and the client agree on every field).
pub fn pay_and_verify(required: &PaymentRequired) {
    let Ok(req) = exact::select_requirements(required) else {
        return;
    };
    let f = fixtures();
    let options = CreateOptions {
        now: NOW,
        nonce: Some([0x5a; 32]),
    };
    let Ok(payment) = exact::create_payment(required, req, &f.key, &options) else {
        return;
    };
    let decoded = PaymentPayload::from_header(&payment.to_header(), usize::MAX)
        .expect("created payment decodes");
    assert_eq!(decoded, payment);
    let mut verify = VerifyOptions::at(NOW);
    verify.resource_url = required.resource.as_ref().map(|r| r.url.clone());
    let v = exact::verify_payment(&decoded, req, &verify);
    if req.max_timeout_seconds >= verify::MIN_VALIDITY_LEFT {
        assert_eq!(v.verdict, Verdict::Valid, "own payment refused: {v:?}");
    } else {
        assert!(!v.is_valid());
    }
}
