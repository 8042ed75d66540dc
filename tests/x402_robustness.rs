//! Robustness of the x402 header decoder and the `exact` verifier against hostile
//! input, where the official stack is weak (no size cap, unbounded nesting, lenient parsing).
//!
//! A valid v2 and a valid v1 payment are created from a fixed key, nonce and clock,
//! then mutated thousands of times, half at the byte level (the base64 text) and
//! half at the JSON level (the decoded document, re-encoded). For every case:
//!
//! - decoding and verification never panic (each case runs under `catch_unwind`;
//!   the case seed is reported so it can be replayed);
//! - a refusal is a typed `ProtocolError` with an x402 reason, a path and a message;
//!   `TooLarge` exactly when the header is over the cap;
//! - the verdict is `Valid` **only if** the canonical signed content (version,
//!   scheme, network, the decoded authorization, the signature bytes, the `accepted`
//!   terms and, for v2, the resource URL the verifier binds) equals the original's,
//!   and an unchanged canonical content is always `Valid` (so re-encodings such as
//!   the URL-safe alphabet, dropped padding, reordered keys or lowercase addresses
//!   stay valid);
//! - a valid verdict means the whole document (all fields, not only the signed ones) is
//!   semantically the original: no key added or removed, the same values up to hex case,
//!   except the fields the verdict does not depend on (`resource.description`/`mimeType`
//!   and the opaque `extensions` object of v2),
//!   so an unknown key that slips through cannot hide behind an unchanged signature;
//! - a decoded payload re-encodes (`to_header`) to a header that decodes to itself and to
//!   semantically the same JSON document as the header it came from (all fields);
//! - nesting: a document at most [`MAX_JSON_DEPTH`] (127) levels deep decodes as JSON, one
//!   level deeper is a JSON error (the boundary is hit by the generator and counted).
//!
//! Deterministic: a SplitMix64 PRNG seeded by `MASTER_SEED`. To explore further,
//! `X402_ROBUST_SEED=<u64>` changes the master seed and `X402_ROBUST_CASES=<n>`
//! the number of cases per half; `X402_ROBUST_REPLAY=<case seed>` runs one case
//! (both halves of the generator) and prints it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};

use _core::crypto::address::Address;
use _core::crypto::ecdsa::{SecretKey, Signature};
use _core::num::U256;
use _core::x402::codec::{self, DEFAULT_MAX_HEADER_BYTES};
use _core::x402::create::CreateOptions;
use _core::x402::error::{ErrorKind, ProtocolError};
use _core::x402::reason;
use _core::x402::schemes::exact::eip3009 as exact;
use _core::x402::types::{
    Authorization, PaymentPayload, PaymentRequired, Requirements, SchemePayload, SettleResponse,
};
use _core::x402::verify::{self, ReplayKey, Verdict, Verification, VerifyOptions};
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Map, Value};

const NOW: u64 = 1_740_672_100;
const VERIFY_AT: u64 = NOW + 1;
const MASTER_SEED: u64 = 0x0fa5_7402_5eed_2026;
/// Cases per half (byte level, JSON level); ≥ 5,000 each so ≥ 10,000 in total.
const CASES_PER_HALF: u64 = 6_000;
const RESOURCE: &str = "https://api.example.com/weather";
const OTHER_RESOURCE: &str = "https://api.example.com/premium";
const TOKEN: &str = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
const PAY_TO: &str = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
const ERC6492_MAGIC: &str = "6492649264926492649264926492649264926492649264926492649264926492";

// ---------------------------------------------------------------------------
// PRNG.

/// SplitMix64: tiny, fast, and good enough to drive mutations.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        assert!(n > 0);
        (self.next_u64() % n as u64) as usize
    }

    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

fn case_seed(master: u64, index: u64) -> u64 {
    Rng(master ^ index.wrapping_mul(0xa24b_aed4_963e_e407)).next_u64()
}

fn env_u64(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    let text = text.trim();
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

// ---------------------------------------------------------------------------
// Fixtures and the oracle.

/// Everything the verifier's verdict may depend on, decoded (typed, so encodings
/// that mean the same thing compare equal).
#[derive(Debug, Clone, PartialEq)]
struct Canonical {
    version: u8,
    scheme: String,
    network: String,
    authorization: Authorization,
    signature: Vec<u8>,
    accepted: Option<Terms>,
    /// v2 only: the resource URL the verifier binds (`VerifyOptions::resource_url`).
    resource_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
struct Terms {
    scheme: String,
    network: String,
    amount: U256,
    asset: Address,
    pay_to: Address,
    max_timeout_seconds: u64,
    extra: Map<String, Value>,
    resource: Option<String>,
}

fn canonical(p: &PaymentPayload) -> Option<Canonical> {
    let SchemePayload::Eip3009 {
        authorization,
        signature,
    } = &p.payload
    else {
        return None;
    };
    Some(Canonical {
        version: p.version,
        scheme: p.scheme.clone(),
        network: p.network.clone(),
        authorization: authorization.clone(),
        signature: signature.clone(),
        accepted: p.accepted.as_ref().map(|a| Terms {
            scheme: a.scheme.clone(),
            network: a.network.clone(),
            amount: a.amount,
            asset: a.asset,
            pay_to: a.pay_to,
            max_timeout_seconds: a.max_timeout_seconds,
            extra: a.extra.clone().unwrap_or_default(),
            resource: a.resource.clone(),
        }),
        resource_url: if p.version == 2 {
            p.resource.as_ref().map(|r| r.url.clone())
        } else {
            None
        },
    })
}

/// What kind of value sits at a JSON pointer (drives well-typed replacements).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldKind {
    Address,
    Uint,
    Nonce,
    Signature,
    Token,
    Integer,
    Text,
    Object,
}

struct Fixture {
    label: &'static str,
    requirements: Requirements,
    header: String,
    json: Value,
    canonical: Canonical,
    options: VerifyOptions,
    payer: Address,
    replay_key: ReplayKey,
    digest: [u8; 32],
    /// Every signed (verdict-relevant) field, by JSON pointer.
    signed: Vec<(&'static str, FieldKind)>,
    /// What a valid verdict may leave changed (and nothing else): the unsigned leaves and,
    /// in v2, the opaque `extensions` object (added, removed or any content).
    free: Vec<String>,
}

fn key() -> SecretKey {
    SecretKey::from_bytes(&[0x42; 32]).unwrap()
}

fn v2_requirements() -> Requirements {
    let mut extra = Map::new();
    extra.insert("name".into(), json!("USDC"));
    extra.insert("version".into(), json!("2"));
    Requirements::new_v2(
        "exact",
        "eip155:84532",
        U256::from_u64(10_000),
        Address::parse(TOKEN).unwrap(),
        Address::parse(PAY_TO).unwrap(),
        60,
        Some(extra),
    )
}

fn v1_requirements() -> Requirements {
    let raw = json!({
        "scheme": "exact",
        "network": "base-sepolia",
        "maxAmountRequired": "10000",
        "resource": RESOURCE,
        "description": "weather",
        "mimeType": "application/json",
        "payTo": PAY_TO,
        "maxTimeoutSeconds": 60,
        "asset": TOKEN,
        "extra": {"name": "USDC", "version": "2"}
    });
    Requirements::from_json(&raw, 1).unwrap()
}

fn payment_required(req: &Requirements) -> PaymentRequired {
    let mut raw = json!({"x402Version": req.version, "accepts": [req.raw]});
    if req.version == 2 {
        raw["resource"] =
            json!({"url": RESOURCE, "description": "weather", "mimeType": "application/json"});
    }
    PaymentRequired::from_json(&raw).unwrap()
}

const AUTH_FIELDS: &[(&str, FieldKind)] = &[
    ("/payload/signature", FieldKind::Signature),
    ("/payload/authorization/from", FieldKind::Address),
    ("/payload/authorization/to", FieldKind::Address),
    ("/payload/authorization/value", FieldKind::Uint),
    ("/payload/authorization/validAfter", FieldKind::Uint),
    ("/payload/authorization/validBefore", FieldKind::Uint),
    ("/payload/authorization/nonce", FieldKind::Nonce),
    ("/x402Version", FieldKind::Integer),
];

fn fixture(version: u8) -> Fixture {
    let req = if version == 2 {
        v2_requirements()
    } else {
        v1_requirements()
    };
    let required = payment_required(&req);
    let key = key();
    let options = CreateOptions {
        now: NOW,
        nonce: Some([0x9a; 32]),
    };
    let payment = exact::create_payment(&required, &req, &key, &options).unwrap();
    let header = payment.to_header();
    let decoded = PaymentPayload::from_header(&header, DEFAULT_MAX_HEADER_BYTES).unwrap();
    assert_eq!(decoded, payment);
    let mut verify = VerifyOptions::at(VERIFY_AT);
    verify.resource_url = Some(RESOURCE.to_owned());
    let v = exact::verify_payment(&decoded, &req, &verify);
    assert_eq!(
        v.verdict,
        Verdict::Valid,
        "fixture v{version} must verify: {v:?}"
    );
    let mut signed: Vec<(&'static str, FieldKind)> = AUTH_FIELDS.to_vec();
    if version == 2 {
        signed.extend_from_slice(&[
            ("/accepted/scheme", FieldKind::Token),
            ("/accepted/network", FieldKind::Token),
            ("/accepted/amount", FieldKind::Uint),
            ("/accepted/asset", FieldKind::Address),
            ("/accepted/payTo", FieldKind::Address),
            ("/accepted/maxTimeoutSeconds", FieldKind::Integer),
            ("/accepted/extra", FieldKind::Object),
            ("/accepted/extra/name", FieldKind::Text),
            ("/accepted/extra/version", FieldKind::Text),
            ("/resource/url", FieldKind::Text),
        ]);
    } else {
        signed.extend_from_slice(&[
            ("/scheme", FieldKind::Token),
            ("/network", FieldKind::Token),
        ]);
    }
    for (pointer, _) in &signed {
        assert!(
            payment.raw.pointer(pointer).is_some(),
            "fixture lacks {pointer}"
        );
    }
    let mut leaves = Vec::new();
    leaf_pointers(&payment.raw, "", &mut leaves);
    let unsigned: Vec<String> = leaves
        .into_iter()
        .filter(|p| {
            payment.raw.pointer(p).is_some_and(|v| !v.is_object())
                && !signed.iter().any(|(s, _)| s == p)
        })
        .collect();
    let expected_unsigned: &[&str] = if version == 2 {
        &["/resource/description", "/resource/mimeType"]
    } else {
        &[]
    };
    assert_eq!(unsigned, expected_unsigned, "v{version} unsigned leaves");
    let mut free = unsigned;
    if version == 2 {
        assert!(payment.raw.get("extensions").is_none());
        free.push("/extensions".to_owned());
    }
    Fixture {
        label: if version == 2 { "v2" } else { "v1" },
        requirements: req,
        json: payment.raw.clone(),
        canonical: canonical(&decoded).unwrap(),
        options: verify,
        payer: key.address(),
        replay_key: v.replay_key.unwrap(),
        digest: v.digest.unwrap(),
        signed,
        free,
        header,
    }
}

/// Strict JSON decoding refuses documents nested deeper than this (serde_json's recursion
/// limit of 128 counts the level that fails: 127 levels decode, 128 do not).
const MAX_JSON_DEPTH: usize = 127;

/// The JSON value with every hex string (`0x…`, any case) lower-cased: what "the same value"
/// means for addresses, nonces and signatures. Key order is not compared (`Map` equality).
fn semantic(v: &Value) -> Value {
    match v {
        Value::String(s)
            if s.len() > 2
                && s.starts_with("0x")
                && s[2..].bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            Value::String(s.to_ascii_lowercase())
        }
        Value::Array(a) => Value::Array(a.iter().map(semantic).collect()),
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), semantic(v))).collect())
        }
        other => other.clone(),
    }
}

/// JSON pointers at which `a` and `b` differ (a key on one side only counts as a difference).
fn differences(a: &Value, b: &Value, at: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                let here = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(w)) => differences(u, w, &here, out),
                    _ => out.push(here),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (u, w)) in x.iter().zip(y).enumerate() {
                differences(u, w, &format!("{at}/{i}"), out);
            }
        }
        _ if a == b => {}
        _ => out.push(at.to_owned()),
    }
}

/// Nesting depth of a value (a scalar is 0, `[]` is 1).
fn value_depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(value_depth).max().unwrap_or(0),
        Value::Object(m) => 1 + m.values().map(value_depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Deepest bracket nesting of a text, brackets inside JSON strings not counted.
fn text_depth(text: &[u8]) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in text {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Outcome classes, in summary order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    TooLarge,
    Base64,
    Json,
    Field,
    Invalid,
    NeedsChain,
    Valid,
}

const CLASSES: [Class; 7] = [
    Class::TooLarge,
    Class::Base64,
    Class::Json,
    Class::Field,
    Class::Invalid,
    Class::NeedsChain,
    Class::Valid,
];

fn check_error(e: &ProtocolError, header: &str, max_bytes: usize) -> Result<Class, String> {
    if !reason::ALL.contains(&e.reason) {
        return Err(format!("error reason {:?} is not an x402 reason", e.reason));
    }
    // (`path` may be empty: an unexpected empty key at the top level.)
    if e.message.is_empty() {
        return Err(format!("error without a message: {e:?}"));
    }
    let over = header.len() > max_bytes;
    if over != (e.kind == ErrorKind::TooLarge) {
        return Err(format!(
            "{}-byte header under a {max_bytes} cap gave {:?}",
            header.len(),
            e.kind
        ));
    }
    Ok(match e.kind {
        ErrorKind::TooLarge => Class::TooLarge,
        ErrorKind::Base64 => Class::Base64,
        ErrorKind::Json => Class::Json,
        ErrorKind::Field => Class::Field,
        ErrorKind::Create => return Err(format!("decoding reported a creation error: {e:?}")),
    })
}

/// Decodes and verifies one header and checks every property; `Err` is a violation.
fn evaluate(fx: &Fixture, header: &str) -> Result<Class, String> {
    let max = DEFAULT_MAX_HEADER_BYTES;
    let payload = match PaymentPayload::from_header(header, max) {
        Ok(p) => p,
        Err(e) => return check_error(&e, header, max),
    };
    // Whatever decodes re-encodes to a header that decodes to the same payload ...
    let again = PaymentPayload::from_header(&payload.to_header(), usize::MAX)
        .map_err(|e| format!("to_header of a decoded payload does not decode: {e}"))?;
    if again != payload {
        return Err("to_header round trip changed the payload".into());
    }
    // ... and to the same JSON document as the header it came from, every field included.
    let doc = codec::decode_header_json(header, max)
        .map_err(|e| format!("a payload decoded but its JSON does not: {e}"))?;
    let reencoded = codec::decode_header_json(&payload.to_header(), usize::MAX)
        .map_err(|e| format!("to_header is not JSON: {e}"))?;
    let mut changed = Vec::new();
    differences(&semantic(&doc), &semantic(&reencoded), "", &mut changed);
    if !changed.is_empty() {
        return Err(format!("to_header changed the document at {changed:?}"));
    }
    let v: Verification = exact::verify_payment(&payload, &fx.requirements, &fx.options);
    let same = canonical(&payload).as_ref() == Some(&fx.canonical);
    match &v.verdict {
        Verdict::Valid => {
            if !same {
                return Err(format!(
                    "VALID but the signed content changed: {:?}",
                    canonical(&payload)
                ));
            }
            // The whole document, not only its signed content: an accepted header is the
            // original up to encoding, hex case and the fields the verdict ignores.
            let mut changed = Vec::new();
            differences(&semantic(&doc), &semantic(&fx.json), "", &mut changed);
            changed.retain(|p| {
                !fx.free.iter().any(|f| {
                    p == f
                        || p.strip_prefix(f.as_str())
                            .is_some_and(|r| r.starts_with('/'))
                })
            });
            if !changed.is_empty() {
                return Err(format!("VALID but the document changed at {changed:?}"));
            }
            if v.payer != Some(fx.payer)
                || v.replay_key != Some(fx.replay_key)
                || v.digest != Some(fx.digest)
            {
                return Err(format!(
                    "valid with a different payer/replay key/digest: {v:?}"
                ));
            }
            Ok(Class::Valid)
        }
        _ if same => Err(format!("unchanged signed content refused: {:?}", v.verdict)),
        Verdict::Invalid { reason, message } => {
            if !reason::ALL.contains(reason) || message.is_empty() {
                return Err(format!("untyped refusal {reason:?} {message:?}"));
            }
            Ok(Class::Invalid)
        }
        Verdict::NeedsChain { .. } => Ok(Class::NeedsChain),
    }
}

/// The nesting boundary: when the header is base64 of some text under the cap, the strict
/// decoder takes it only if it is at most `MAX_JSON_DEPTH` deep (and then the value is as
/// deep as the text), and refuses anything deeper with a JSON error. Returns the depth.
fn check_depth(header: &str) -> Result<Option<usize>, String> {
    let max = DEFAULT_MAX_HEADER_BYTES;
    let Some(text) = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(header).ok())
    else {
        return Ok(None);
    };
    if header.len() > max {
        return Ok(None);
    }
    let depth = text_depth(&text);
    match codec::decode_header_json(header, max) {
        Ok(_) if depth > MAX_JSON_DEPTH => Err(format!("{depth} levels decoded")),
        Ok(doc) if value_depth(&doc) != depth => Err(format!(
            "text {depth} levels deep decoded to a value {} deep",
            value_depth(&doc)
        )),
        Err(e) if depth > MAX_JSON_DEPTH && e.kind != ErrorKind::Json => Err(format!(
            "{depth} levels refused as {:?}, not as JSON",
            e.kind
        )),
        _ => Ok(Some(depth)),
    }
}

/// Other decoders must not panic on the same text either (their result is not judged
/// beyond being typed).
fn other_decoders(header: &str) -> Result<(), String> {
    for result in [
        PaymentRequired::from_header(header, DEFAULT_MAX_HEADER_BYTES).map(|_| ()),
        SettleResponse::from_header(header, DEFAULT_MAX_HEADER_BYTES).map(|_| ()),
        codec::decode_header_json(header, DEFAULT_MAX_HEADER_BYTES).map(|_| ()),
    ] {
        if let Err(e) = result {
            check_error(&e, header, DEFAULT_MAX_HEADER_BYTES)?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Byte-level mutations of the base64 text.

const B64_STD: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const INSERTIONS: &[&str] = &[
    "=", "==", " ", "\t", "\n", "\r\n", "\0", ".", "%", "!", "-", "_", "+", "/", "é", "＝",
    "\u{200b}", "\u{feff}", "Ａ", "%3D", "A", "AAAA", "====",
];

fn byte_mutation(rng: &mut Rng, fx: &Fixture) -> (String, Vec<&'static str>) {
    let mut text: Vec<u8> = fx.header.clone().into_bytes();
    let mut ops = Vec::new();
    let rounds = if rng.one_in(4) { 2 + rng.below(3) } else { 1 };
    for _ in 0..rounds {
        let len = text.len();
        let at = rng.below(len.max(1));
        let op = match rng.below(18) {
            0 => {
                if len > 0 {
                    text[at] ^= 1 << rng.below(8);
                }
                "flip_bit"
            }
            1 | 2 => {
                if len > 0 {
                    text[at] = *rng.pick(B64_STD);
                }
                "replace_b64_char"
            }
            3 => {
                let s = rng.pick(INSERTIONS).as_bytes();
                text.splice(at..at, s.iter().copied());
                "insert"
            }
            4 => {
                let s = rng.pick(B64_STD);
                text.insert(at, *s);
                "insert_b64_char"
            }
            5 => {
                let end = (at + 1 + rng.below(4)).min(len);
                text.drain(at..end);
                "delete"
            }
            6 => {
                let end = (at + 1 + rng.below(64)).min(len);
                let chunk = text[at..end].to_vec();
                let to = rng.below(text.len() + 1);
                text.splice(to..to, chunk);
                "duplicate_range"
            }
            7 => {
                text.truncate(at);
                "truncate"
            }
            8 => {
                text = String::from_utf8_lossy(&text)
                    .replace('+', "-")
                    .replace('/', "_")
                    .into_bytes();
                "to_url_safe"
            }
            9 => {
                // One character of the other alphabet: a mixed header.
                if let Some(i) = text.iter().position(|&c| c == b'+' || c == b'/') {
                    text[i] = if text[i] == b'+' { b'-' } else { b'_' };
                } else {
                    text.insert(at, b'-');
                }
                "mixed_alphabet"
            }
            10 => {
                while text.last() == Some(&b'=') {
                    text.pop();
                }
                "strip_padding"
            }
            11 => {
                text.extend(std::iter::repeat_n(b'=', 1 + rng.below(3)));
                "add_padding"
            }
            12 => {
                let ws = *rng.pick(&[" ", "\t", "\n", "\r\n", "  "]);
                match rng.below(3) {
                    0 => text.splice(0..0, ws.bytes()),
                    1 => text.splice(len..len, ws.bytes()),
                    _ => text.splice(at..at, ws.bytes()),
                };
                "whitespace"
            }
            13 => {
                if len > 0 && text[at].is_ascii_alphabetic() {
                    text[at] ^= 0x20;
                }
                "swap_case"
            }
            14 => {
                if at + 1 < len {
                    text.swap(at, at + 1);
                }
                "swap_adjacent"
            }
            15 => {
                text.insert(at, b'=');
                "inner_padding"
            }
            16 => {
                let copy = text.clone();
                text.extend_from_slice(&copy);
                if rng.one_in(4) {
                    // Grow over the cap.
                    while text.len() <= DEFAULT_MAX_HEADER_BYTES {
                        text.extend_from_slice(&copy);
                    }
                }
                "repeat"
            }
            _ => {
                let n = 1 + rng.below(16);
                let junk = rng.bytes(n);
                text.splice(at..at, junk);
                "raw_junk"
            }
        };
        ops.push(op);
    }
    (String::from_utf8_lossy(&text).into_owned(), ops)
}

// ---------------------------------------------------------------------------
// JSON-level mutations of the decoded document.

fn encode(rng: &mut Rng, text: &str) -> (String, &'static str) {
    match rng.below(10) {
        0 => (STANDARD_NO_PAD.encode(text), "std_nopad"),
        1 => (URL_SAFE.encode(text), "url_pad"),
        2 => (URL_SAFE_NO_PAD.encode(text), "url_nopad"),
        _ => (STANDARD.encode(text), "std"),
    }
}

fn leaf_pointers(v: &Value, prefix: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            out.push(prefix.to_owned());
            for (k, child) in m {
                leaf_pointers(
                    child,
                    &format!("{prefix}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(a) => {
            out.push(prefix.to_owned());
            for (i, child) in a.iter().enumerate() {
                leaf_pointers(child, &format!("{prefix}/{i}"), out);
            }
        }
        _ => out.push(prefix.to_owned()),
    }
}

fn object_pointers(v: &Value) -> Vec<String> {
    let mut all = Vec::new();
    leaf_pointers(v, "", &mut all);
    all.into_iter()
        .filter(|p| v.pointer(p).is_some_and(Value::is_object))
        .collect()
}

fn random_address(rng: &mut Rng) -> String {
    let mut a = [0u8; 20];
    a.copy_from_slice(&rng.bytes(20));
    Address(a).to_checksum()
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::from("0x");
    for b in bytes {
        write!(s, "{b:02x}").unwrap();
    }
    s
}

fn unhex(s: &str) -> Vec<u8> {
    let d = s.strip_prefix("0x").unwrap().as_bytes();
    d.chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

/// Changes one hex digit (after `0x`) of a hex string, staying lowercase hex.
fn tweak_hex_digit(rng: &mut Rng, s: &str) -> String {
    let mut b = s.to_ascii_lowercase().into_bytes();
    let i = 2 + rng.below(b.len() - 2);
    let digits = b"0123456789abcdef";
    let mut d = *rng.pick(digits);
    while d == b[i] {
        d = *rng.pick(digits);
    }
    b[i] = d;
    String::from_utf8(b).unwrap()
}

/// `(r, n − s, v ^ 1)`: the high-s twin of a low-s signature.
fn high_s_twin(sig: &[u8]) -> Vec<u8> {
    Signature::from_bytes(sig)
        .unwrap()
        .flip_s()
        .to_bytes()
        .to_vec()
}

/// A well-typed value different from `original` for a signed field.
fn different_value(rng: &mut Rng, kind: FieldKind, pointer: &str, original: &Value) -> Value {
    let orig_str = original.as_str().unwrap_or_default();
    for _ in 0..64 {
        let v = match kind {
            FieldKind::Address => match rng.below(5) {
                0 => json!(random_address(rng)),
                1 => json!(tweak_hex_digit(rng, orig_str)),
                2 => json!("0x0000000000000000000000000000000000000000"),
                3 => json!(key().address().to_checksum()),
                _ => {
                    json!(rng.pick(&[TOKEN, PAY_TO, "0x857b06519E91e3A54538791bDbb0E22373e36b66"]))
                }
            },
            FieldKind::Uint => {
                let n: u128 = orig_str.parse().unwrap();
                let s = match rng.below(8) {
                    0 => (n + 1).to_string(),
                    1 => n.saturating_sub(1).to_string(),
                    2 => "0".into(),
                    3 => (rng.next_u64() >> rng.below(64)).to_string(),
                    4 => U256::MAX.to_string(),
                    5 => (NOW + 10 * 365 * 86_400).to_string(),
                    6 => (n + 1 + rng.below(1000) as u128).to_string(),
                    _ => (VERIFY_AT + rng.below(200) as u64).to_string(),
                };
                json!(s)
            }
            FieldKind::Nonce => match rng.below(3) {
                0 => json!(tweak_hex_digit(rng, orig_str)),
                1 => json!(hex(&[0u8; 32])),
                _ => json!(hex(&rng.bytes(32))),
            },
            FieldKind::Signature => {
                let sig = unhex(orig_str);
                let s = match rng.below(9) {
                    0 | 1 => tweak_hex_digit(rng, orig_str),
                    2 => {
                        let mut s = sig.clone();
                        s[64] = if s[64] == 27 { 28 } else { 27 };
                        hex(&s)
                    }
                    3 => {
                        let mut s = sig.clone();
                        s[64] -= 27; // v = 0/1
                        hex(&s)
                    }
                    4 => hex(&high_s_twin(&sig)),
                    5 => {
                        // EIP-2098 compact form of the same signature.
                        let mut s = sig[..64].to_vec();
                        s[32] |= (sig[64] - 27) << 7;
                        hex(&s)
                    }
                    6 => format!("{orig_str}{}", rng.pick(&["00", "1b", ERC6492_MAGIC])),
                    7 => rng.pick(&["0x", "0x00", "0x1b"]).to_string(),
                    _ => hex(&rng.bytes(65)),
                };
                json!(s)
            }
            FieldKind::Token => {
                let choices: &[&str] = if pointer.ends_with("scheme") {
                    &["upto", "EXACT", "Exact", "exact2", "exacts", "e"]
                } else {
                    &[
                        "eip155:8453",
                        "base-sepolia",
                        "base",
                        "eip155:84533",
                        "eip155:084532",
                        "eip155:0x14a34",
                        "solana:1",
                    ]
                };
                json!(rng.pick(choices))
            }
            FieldKind::Integer => {
                if pointer == "/x402Version" {
                    json!(rng.pick(&[0, 1, 2, 3, 255]))
                } else {
                    json!(rng.pick(&[0u64, 1, 59, 61, 600, 3600, u64::MAX]))
                }
            }
            FieldKind::Text => {
                let choices: &[&str] = if pointer.ends_with("url") {
                    &[
                        OTHER_RESOURCE,
                        "https://api.example.com/weather/",
                        "https://API.example.com/weather",
                        "",
                        "x",
                    ]
                } else {
                    &["USD Coin", "usdc", "USDC ", "1", "2.0", "", "USDC\u{200b}"]
                };
                json!(rng.pick(choices))
            }
            FieldKind::Object => match rng.below(4) {
                0 => json!({}),
                1 => json!({"name": "USDC"}),
                2 => json!({"name": "USDC", "version": "2", "assetTransferMethod": "eip3009"}),
                _ => json!({"version": "2", "name": "USD Coin"}),
            },
        };
        if &v != original {
            return v;
        }
    }
    unreachable!("no different value for {pointer}")
}

/// Type confusion: the same information (where possible) as another JSON type.
fn other_type(rng: &mut Rng, original: &Value) -> String {
    let same_digits = match original {
        Value::String(s) if !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) => {
            Some(s.clone())
        }
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    match (rng.below(12), same_digits) {
        (0 | 1, Some(d)) if original.is_string() => d, // "10000" → 10000
        (0 | 1, Some(d)) => format!("\"{d}\""),        // 60 → "60"
        (2, Some(d)) => format!("{d}.0"),
        (3, Some(d)) => format!("{d}e0"),
        (4, Some(d)) => format!("-{d}"),
        (5, Some(d)) => format!("{{\"$serde_json::private::Number\":\"{d}\"}}"),
        (6, _) => "false".into(),
        (7, _) => "true".into(),
        (8, _) => "null".into(),
        (9, _) => format!("[{original}]"),
        (10, _) => "{}".into(),
        _ => rng
            .pick(&[
                "0",
                "1.5",
                "-1",
                "1e400",
                "\"\"",
                "[]",
                "{\"value\":\"10000\"}",
            ])
            .to_string(),
    }
}

const FULL_WIDTH: [char; 10] = ['０', '１', '２', '３', '４', '５', '６', '７', '８', '９'];

/// Lenient spellings of a value (what the official stack coerces); some mean the same (lowercase
/// address, uppercase hex) and may stay valid, most must be refused.
fn spelling(rng: &mut Rng, kind: FieldKind, original: &Value) -> Option<String> {
    let s = original.as_str().unwrap_or_default();
    let quoted = |t: String| serde_json::to_string(&Value::String(t)).unwrap();
    Some(match kind {
        FieldKind::Uint => quoted(match rng.below(16) {
            0 => format!(" {s} "),
            1 => format!("0{s}"),
            2 => {
                let (a, b) = s.split_at(s.len() / 2);
                format!("{a}_{b}")
            }
            3 => s
                .chars()
                .map(|c| FULL_WIDTH[c.to_digit(10).unwrap() as usize])
                .collect(),
            4 => {
                // One full-width digit.
                let i = rng.below(s.len());
                s.char_indices()
                    .map(|(j, c)| {
                        if i == j {
                            FULL_WIDTH[c.to_digit(10).unwrap() as usize]
                        } else {
                            c
                        }
                    })
                    .collect()
            }
            5 => format!("+{s}"),
            6 => format!("{s}.0"),
            7 => format!("{}e{}", &s[..1], s.len() - 1),
            8 => format!("0x{:x}", s.parse::<u128>().unwrap()),
            9 => format!("{s}\u{0}"),
            10 => s
                .chars()
                .map(|c| char::from_u32(0x660 + c.to_digit(10).unwrap()).unwrap())
                .collect(),
            11 => format!("{s}\u{200b}"),
            12 => format!("00{s}"),
            13 => "".into(),
            14 => format!(
                "{s}1157920892373161954235709850086879078532699846656405640394575840079131296399"
            ),
            _ => format!("-{s}"),
        }),
        FieldKind::Address | FieldKind::Nonce | FieldKind::Signature => {
            quoted(match rng.below(10) {
                0 | 1 => s.to_ascii_lowercase(),
                2 => format!("0x{}", s[2..].to_ascii_uppercase()),
                3 => format!("0X{}", &s[2..]),
                4 => s[2..].to_owned(),
                5 => format!(" {s}"),
                6 => s[..s.len() - 1].to_owned(),
                7 => format!("{s}0"),
                8 => format!("0ｘ{}", &s[2..]),
                _ => {
                    // Flip the case of one letter: a bad EIP-55 checksum for addresses,
                    // the same bytes for hex blobs.
                    let mut b = s.as_bytes().to_vec();
                    if let Some(i) =
                        (2..b.len()).find(|&i| b[i].is_ascii_alphabetic() && rng.one_in(3))
                    {
                        b[i] ^= 0x20;
                    }
                    String::from_utf8(b).unwrap()
                }
            })
        }
        FieldKind::Integer => rng
            .pick(&[
                "60.0",
                "6e1",
                "060",
                "-60",
                "\"60\"",
                "60 ",
                " 60",
                "18446744073709551616",
                "1e400",
                "-0",
                "0x3c",
                "2.0",
                "02",
                "\"2\"",
                "{\"$serde_json::private::Number\":\"60\"}",
                "{\"$serde_json::private::Number\":\"2\"}",
                "２",
            ])
            .to_string(),
        FieldKind::Token | FieldKind::Text => quoted(match rng.below(7) {
            0 => format!(" {s}"),
            1 => format!("{s} "),
            2 => s.to_ascii_uppercase(),
            3 => s.replacen('a', "а", 1), // Cyrillic a
            4 => format!("{s}\u{0}"),
            5 => s
                .chars()
                .map(|c| {
                    if c.is_ascii_lowercase() {
                        char::from_u32(c as u32 + 0xfee0).unwrap()
                    } else {
                        c
                    }
                })
                .collect(),
            _ => format!("{s}\n"),
        }),
        FieldKind::Object => return None,
    })
}

/// Finds the compact text of member `key` holding `value` and replaces its value text.
fn splice_value(text: &str, key: &str, value: &Value, new_value: &str) -> Option<String> {
    let member = format!("{}:{}", Value::String(key.to_owned()), value);
    let at = text.find(&member)?;
    let value_at = at + member.len() - value.to_string().len();
    Some(format!(
        "{}{}{}",
        &text[..value_at],
        new_value,
        &text[at + member.len()..]
    ))
}

/// The last key of a JSON pointer.
fn last_key(pointer: &str) -> &str {
    pointer.rsplit('/').next().unwrap()
}

fn shuffle_keys(rng: &mut Rng, v: &mut Value) {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(String, Value)> = std::mem::take(m).into_iter().collect();
            for i in (1..entries.len()).rev() {
                entries.swap(i, rng.below(i + 1));
            }
            for (k, mut child) in entries {
                shuffle_keys(rng, &mut child);
                m.insert(k, child);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| shuffle_keys(rng, c)),
        _ => {}
    }
}

/// Replaces one ASCII character inside the string token `"token"` with a `\u` escape.
fn escape_one(rng: &mut Rng, text: &str, token: &str) -> Option<String> {
    let quoted = format!("\"{token}\"");
    let at = text.find(&quoted)? + 1;
    let i = at + rng.below(token.len());
    let c = text.as_bytes()[i];
    let esc = if rng.one_in(2) {
        format!("\\u{c:04x}")
    } else {
        format!("\\u{c:04X}")
    };
    Some(format!("{}{}{}", &text[..i], esc, &text[i + 1..]))
}

fn json_mutation(rng: &mut Rng, fx: &Fixture) -> (String, Vec<&'static str>, bool) {
    let mut doc = fx.json.clone();
    let mut leaves = Vec::new();
    leaf_pointers(&doc, "", &mut leaves);
    leaves.retain(|p| !p.is_empty());
    // `text` wins over `doc` when set (raw splices).
    let mut text: Option<String> = None;
    let mut changed_signed = false;
    let op: &'static str = match rng.below(20) {
        0..=4 => {
            let (pointer, kind) = *rng.pick(&fx.signed);
            let original = doc.pointer(pointer).unwrap().clone();
            *doc.pointer_mut(pointer).unwrap() = different_value(rng, kind, pointer, &original);
            changed_signed = true;
            "change_signed_field"
        }
        5 | 6 => {
            let pointer = rng.pick(&leaves).clone();
            let original = doc.pointer(&pointer).unwrap().clone();
            let compact = doc.to_string();
            let new = other_type(rng, &original);
            text = splice_value(&compact, last_key(&pointer), &original, &new);
            "change_type"
        }
        7 | 8 => {
            let (pointer, kind) = *rng.pick(&fx.signed);
            let original = doc.pointer(pointer).unwrap().clone();
            let compact = doc.to_string();
            text = spelling(rng, kind, &original)
                .and_then(|new| splice_value(&compact, last_key(pointer), &original, &new));
            "lenient_spelling"
        }
        9 => {
            let pointer = rng.pick(&leaves).clone();
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            if let Some(Value::Object(m)) = doc.pointer_mut(parent) {
                m.shift_remove(key);
            } else if let Some(Value::Array(a)) = doc.pointer_mut(parent) {
                a.clear();
            }
            "remove_key"
        }
        10 => {
            let objects = object_pointers(&doc);
            let at = rng.pick(&objects).clone();
            let name = *rng.pick(&[
                "foo",
                "__proto__",
                "x402version",
                "Value",
                "value ",
                "signature2",
                "",
                "\u{0}",
            ]);
            if let Some(Value::Object(m)) = doc.pointer_mut(&at) {
                if !m.contains_key(name) {
                    m.insert(name.to_owned(), json!(rng.pick(&["1", "", "x"])));
                }
            }
            "unknown_key"
        }
        11 => {
            // Duplicate a member by splicing the raw text: same value or another.
            let pointer = rng.pick(&leaves).clone();
            let original = doc.pointer(&pointer).unwrap().clone();
            let compact = doc.to_string();
            let key = last_key(&pointer);
            let member = format!("{}:{}", Value::String(key.to_owned()), original);
            if let (Some(at), false) = (compact.find(&member), key.parse::<usize>().is_ok()) {
                let dup = if rng.one_in(2) {
                    member.clone()
                } else {
                    format!(
                        "{}:{}",
                        Value::String(key.to_owned()),
                        other_type(rng, &original)
                    )
                };
                let end = at + member.len();
                text = Some(if rng.one_in(2) {
                    format!("{},{}{}", &compact[..end], dup, &compact[end..])
                } else {
                    format!("{}{},{}", &compact[..at], dup, &compact[at..])
                });
            }
            "duplicate_key"
        }
        12 => {
            let compact = doc.to_string();
            let token = *rng.pick(&[
                "value",
                "exact",
                "USDC",
                "nonce",
                "x402Version",
                "authorization",
                "validBefore",
                "payTo",
                "accepted",
                "eip155:84532",
                "base-sepolia",
                "10000",
                RESOURCE,
            ]);
            text = escape_one(rng, &compact, token);
            "unicode_escape"
        }
        13 => {
            let compact = doc.to_string();
            let (needle, with) = *rng.pick(&[
                ("\"USDC\"", "\"US\\ud800DC\""),
                ("\"exact\"", "\"ex\\udc00act\""),
                ("\"10000\"", "\"10000\\u0000\""),
                ("\"exact\"", "\"exact\\u0301\""),
                ("\"2\"", "\"\\uff12\""),
            ]);
            text = compact
                .find(needle)
                .map(|_| compact.replacen(needle, with, 1));
            "unicode_junk"
        }
        14 => {
            shuffle_keys(rng, &mut doc);
            "reorder_keys"
        }
        15 => {
            let pretty = serde_json::to_string_pretty(&doc).unwrap();
            text = Some(match rng.below(4) {
                0 => format!("\u{feff}{pretty}"),
                1 => format!(" \t\r\n{pretty}\n "),
                _ => pretty,
            });
            "whitespace_json"
        }
        16 => {
            let depth = *rng.pick(&[1usize, 10, 64, 126, 127, 128, 129, 200, 1000, 50_000]);
            let nested = if rng.one_in(2) {
                format!("{}{}", "[".repeat(depth), "]".repeat(depth))
            } else {
                format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth))
            };
            let pointer = rng.pick(&leaves).clone();
            let original = doc.pointer(&pointer).unwrap().clone();
            let compact = doc.to_string();
            text = if rng.one_in(3) {
                Some(format!("{{\"extensions\":{nested},{}", &compact[1..]))
            } else {
                splice_value(&compact, last_key(&pointer), &original, &nested)
            };
            "deep_nesting"
        }
        17 => {
            let compact = doc.to_string();
            text = Some(match rng.below(8) {
                0 => format!("[{compact}]"),
                1 => format!("{compact} {{}}"),
                2 => format!("{compact}\u{0}"),
                3 => compact.replacen(':', " : ", 3),
                4 => compact.replacen("\"", "'", 2),
                5 => format!("{}/*c*/{}", &compact[..1], &compact[1..]),
                6 => compact.replacen("60", "NaN", 1),
                _ => compact[..compact.len() - 1].to_owned(),
            });
            "syntax"
        }
        18 => {
            let n = *rng.pick(&[4097usize, 5000, 100]);
            let long: String = "a".repeat(n);
            if fx.label == "v2" {
                let field = *rng.pick(&["description", "mimeType"]);
                doc["resource"][field] = match rng.below(3) {
                    0 => json!(long),
                    1 => json!("a\u{7}b"),
                    _ => json!("ok\tfine\nhere"),
                };
            } else {
                doc["payload"]["authorization"]["value"] = json!(long);
            }
            "long_or_control_text"
        }
        _ => {
            // Huge numbers where numbers and strings are expected.
            let pointer = *rng.pick(&[
                "/x402Version",
                "/payload/authorization/value",
                "/payload/authorization/validBefore",
            ]);
            let original = doc.pointer(pointer).unwrap().clone();
            let compact = doc.to_string();
            let big = *rng.pick(&[
                "115792089237316195423570985008687907853269984665640564039457584007913129639936",
                "\"115792089237316195423570985008687907853269984665640564039457584007913129639936\"",
                "\"115792089237316195423570985008687907853269984665640564039457584007913129639935\"",
                "1e1000000",
                "-1e-1000000",
                "0.00000000000000000000000000000000000001",
                "\"99999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999\"",
            ]);
            text = splice_value(&compact, last_key(pointer), &original, big);
            "huge_number"
        }
    };
    let text = text.unwrap_or_else(|| doc.to_string());
    let (header, enc) = encode(rng, &text);
    (header, vec![op, enc], changed_signed)
}

// ---------------------------------------------------------------------------
// The runs.

#[derive(Default)]
struct Tally {
    by_class: BTreeMap<Class, usize>,
    by_op: BTreeMap<&'static str, BTreeMap<Class, usize>>,
    /// Cases whose header text differs from the original yet verified as valid.
    mutated_valid: usize,
    /// Cases exactly `MAX_JSON_DEPTH` deep (decoded as JSON) and deeper (refused).
    at_depth_limit: usize,
    over_depth_limit: usize,
    violations: Vec<String>,
    cases: usize,
}

impl Tally {
    fn record(&mut self, ops: &[&'static str], class: Class) {
        self.cases += 1;
        *self.by_class.entry(class).or_default() += 1;
        *self
            .by_op
            .entry(ops[0])
            .or_default()
            .entry(class)
            .or_default() += 1;
    }

    fn count(&self, class: Class) -> usize {
        self.by_class.get(&class).copied().unwrap_or(0)
    }

    fn print(&self, title: &str) {
        let mut out = format!("\n== {title}: {} cases ==\n", self.cases);
        for c in CLASSES {
            let _ = write!(out, "{c:?}={}  ", self.count(c));
        }
        let _ = writeln!(
            out,
            "mutated-but-valid={} depth-127={} depth>127={}",
            self.mutated_valid, self.at_depth_limit, self.over_depth_limit
        );
        for (op, classes) in &self.by_op {
            let _ = write!(out, "  {op:<22}");
            for c in CLASSES {
                if let Some(n) = classes.get(&c) {
                    let _ = write!(out, " {c:?}={n}");
                }
            }
            out.push('\n');
        }
        eprint!("{out}");
    }
}

fn short(s: &str) -> String {
    if s.len() <= 300 {
        s.to_owned()
    } else {
        let mut end = 300;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}… ({} bytes)", &s[..end], s.len())
    }
}

/// Runs one case: generate, decode, verify, judge; a panic becomes a violation.
fn run_case(fx: &Fixture, seed: u64, json_level: bool, tally: &mut Tally) {
    let mut rng = Rng(seed);
    let (header, ops, changed_signed) = if json_level {
        json_mutation(&mut rng, fx)
    } else {
        let (h, ops) = byte_mutation(&mut rng, fx);
        (h, ops, false)
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let class = evaluate(fx, &header)?;
        other_decoders(&header)?;
        let depth = check_depth(&header)?;
        Ok::<(Class, Option<usize>), String>((class, depth))
    }));
    let class = match outcome {
        Ok(Ok((class, depth))) => {
            match depth {
                Some(MAX_JSON_DEPTH) => tally.at_depth_limit += 1,
                Some(d) if d > MAX_JSON_DEPTH => tally.over_depth_limit += 1,
                _ => {}
            }
            class
        }
        Ok(Err(violation)) => {
            tally.violations.push(format!(
                "{} case seed {seed:#018x} ops {ops:?}: {violation}\n  header: {}",
                fx.label,
                short(&header)
            ));
            return;
        }
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            tally.violations.push(format!(
                "{} case seed {seed:#018x} ops {ops:?}: PANIC {msg}\n  header: {}",
                fx.label,
                short(&header)
            ));
            return;
        }
    };
    if changed_signed && class == Class::Valid {
        tally.violations.push(format!(
            "{} case seed {seed:#018x}: a signed field changed and stayed valid",
            fx.label
        ));
    }
    if class == Class::Valid && header != fx.header {
        tally.mutated_valid += 1;
    }
    tally.record(&ops, class);
}

fn fail_on_violations(tally: &Tally) {
    if tally.violations.is_empty() {
        return;
    }
    let shown: Vec<&String> = tally.violations.iter().take(25).collect();
    panic!(
        "{} violation(s) (replay one with X402_ROBUST_REPLAY=<case seed>):\n{}",
        tally.violations.len(),
        shown
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn mutated_payment_headers() {
    let start = std::time::Instant::now();
    let fixtures = [fixture(2), fixture(1)];
    if let Some(seed) = env_u64("X402_ROBUST_REPLAY") {
        for fx in &fixtures {
            for json_level in [false, true] {
                let mut tally = Tally::default();
                let mut rng = Rng(seed);
                let header = if json_level {
                    json_mutation(&mut rng, fx).0
                } else {
                    byte_mutation(&mut rng, fx).0
                };
                eprintln!(
                    "{} {}: {header}",
                    fx.label,
                    if json_level { "json" } else { "bytes" }
                );
                run_case(fx, seed, json_level, &mut tally);
                tally.print("replay");
                fail_on_violations(&tally);
            }
        }
        return;
    }
    let master = env_u64("X402_ROBUST_SEED").unwrap_or(MASTER_SEED);
    let per_half = env_u64("X402_ROBUST_CASES").unwrap_or(CASES_PER_HALF);
    let mut bytes = Tally::default();
    let mut jsons = Tally::default();
    for i in 0..per_half {
        // Two thirds v2 (the richer message), one third v1.
        let fx = &fixtures[usize::from(i % 3 == 2)];
        run_case(fx, case_seed(master, 2 * i), false, &mut bytes);
        run_case(fx, case_seed(master, 2 * i + 1), true, &mut jsons);
    }
    eprintln!("master seed {master:#018x}, {:.2?}", start.elapsed());
    bytes.print("byte-level mutations");
    jsons.print("JSON-level mutations");
    fail_on_violations(&bytes);
    fail_on_violations(&jsons);

    // Not vacuous: every outcome class occurs, in numbers.
    assert!(bytes.cases + jsons.cases >= 10_000 || per_half != CASES_PER_HALF);
    if per_half >= 1_000 {
        let at_least = |tally: &Tally, name: &str, classes: &[Class], share: usize| {
            for &c in classes {
                let n = tally.count(c);
                assert!(
                    n >= tally.cases / share,
                    "{name}: too few {c:?} ({n} of {})",
                    tally.cases
                );
            }
        };
        use Class::*;
        at_least(&bytes, "bytes", &[Base64, Json, Field, Valid], 100);
        at_least(&bytes, "bytes", &[TooLarge, Invalid], 500);
        at_least(&jsons, "json", &[Json, Field, Invalid, Valid], 100);
        at_least(&jsons, "json", &[TooLarge, NeedsChain], 500);
        assert!(
            bytes.mutated_valid >= bytes.cases / 100,
            "bytes: too few mutated headers stayed valid"
        );
        assert!(
            jsons.mutated_valid >= jsons.cases / 100,
            "json: too few mutated headers stayed valid"
        );
        assert!(
            jsons.at_depth_limit > 0 && jsons.over_depth_limit > 0,
            "json: the nesting boundary was not reached ({} at, {} over)",
            jsons.at_depth_limit,
            jsons.over_depth_limit
        );
        let changed = &jsons.by_op["change_signed_field"];
        assert!(changed.values().sum::<usize>() >= jsons.cases / 5);
        assert!(!changed.contains_key(&Class::Valid));
        for op in [
            "reorder_keys",
            "unicode_escape",
            "whitespace_json",
            "lenient_spelling",
        ] {
            assert!(
                jsons.by_op[op].get(&Class::Valid).copied().unwrap_or(0) > 0,
                "{op} never stayed valid"
            );
        }
        for op in ["to_url_safe", "strip_padding"] {
            assert!(
                bytes.by_op[op].get(&Class::Valid).copied().unwrap_or(0) > 0,
                "{op} never stayed valid"
            );
        }
    }
}

/// Whatever 402 decodes and offers `exact`, a client's payment for it is accepted by
/// the same requirements (client and server read every field the same way).
/// Returns whether a payment was made.
fn pay_and_verify(required: &PaymentRequired) -> bool {
    let Ok(req) = exact::select_requirements(required) else {
        return false;
    };
    let options = CreateOptions {
        now: NOW,
        nonce: Some([0x5a; 32]),
    };
    let Ok(payment) = exact::create_payment(required, req, &key(), &options) else {
        return false;
    };
    let decoded = PaymentPayload::from_header(&payment.to_header(), usize::MAX).unwrap();
    assert_eq!(decoded, payment);
    let mut verify = VerifyOptions::at(NOW);
    verify.resource_url = required.resource.as_ref().map(|r| r.url.clone());
    let v = exact::verify_payment(&decoded, req, &verify);
    if req.max_timeout_seconds >= verify::MIN_VALIDITY_LEFT {
        assert_eq!(
            v.verdict,
            Verdict::Valid,
            "own payment refused for {}",
            required.raw
        );
    } else {
        assert!(!v.is_valid());
    }
    true
}

/// Byte- and JSON-level mutations of a `PaymentRequired` header: never a panic, every
/// refusal typed, whatever decodes round-trips through `to_header`, and whatever can
/// be paid is paid validly.
#[test]
fn mutated_payment_required_headers() {
    let required = payment_required(&v2_requirements());
    let header = required.to_header();
    let mut rng = Rng(MASTER_SEED ^ 0x5eed);
    let mut decoded = 0usize;
    let mut refused = 0usize;
    let mut paid = 0usize;
    for i in 0..3_000u64 {
        let mut text = if i % 2 == 0 {
            header.clone().into_bytes()
        } else {
            let mut doc = required.raw.clone();
            let mut leaves = Vec::new();
            leaf_pointers(&doc, "", &mut leaves);
            leaves.retain(|p| !p.is_empty());
            let pointer = rng.pick(&leaves).clone();
            let original = doc.pointer(&pointer).unwrap().clone();
            let compact = doc.to_string();
            let new = other_type(&mut rng, &original);
            let t =
                splice_value(&compact, last_key(&pointer), &original, &new).unwrap_or_else(|| {
                    *doc.pointer_mut(&pointer).unwrap() = json!(null);
                    doc.to_string()
                });
            encode(&mut rng, &t).0.into_bytes()
        };
        if i % 2 == 0 {
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(text.len());
                match rng.below(4) {
                    0 => text[at] = *rng.pick(B64_STD),
                    1 => text[at] ^= 1 << rng.below(8),
                    2 => text.truncate(at),
                    _ => text.insert(at, *rng.pick(b"=+/-_ \n\0")),
                }
                if text.is_empty() {
                    break;
                }
            }
        }
        let text = String::from_utf8_lossy(&text).into_owned();
        let result = catch_unwind(AssertUnwindSafe(|| {
            PaymentRequired::from_header(&text, DEFAULT_MAX_HEADER_BYTES)
        }));
        match result {
            Err(_) => panic!("PaymentRequired::from_header panicked on {text:?}"),
            Ok(Ok(p)) => {
                decoded += 1;
                assert_eq!(
                    PaymentRequired::from_header(&p.to_header(), usize::MAX).unwrap(),
                    p
                );
                paid += usize::from(pay_and_verify(&p));
            }
            Ok(Err(e)) => {
                refused += 1;
                check_error(&e, &text, DEFAULT_MAX_HEADER_BYTES).unwrap();
            }
        }
    }
    eprintln!("PaymentRequired mutations: {decoded} decoded ({paid} paid and verified), {refused} refused");
    assert!(
        decoded >= 30 && paid >= 10 && refused >= 1_000,
        "{decoded} decoded, {paid} paid, {refused} refused"
    );
}

/// serde_json (`arbitrary_precision`) hands exact numbers to visitors as a one-entry
/// map under a private key; a JSON object spelling that key (even escaped) must not
/// pass for a number.
#[test]
fn number_token_object_is_not_a_number() {
    let fx = fixture(2);
    let compact = fx.json.to_string();
    for (member, spoof) in [
        (
            "\"maxTimeoutSeconds\":60",
            "\"maxTimeoutSeconds\":{\"$serde_json::private::Number\":\"60\"}",
        ),
        (
            "\"x402Version\":2",
            "\"x402Version\":{\"$serde_json::private::Number\":\"2\"}",
        ),
        (
            "\"x402Version\":2",
            "\"x402Version\":{\"\\u0024serde_json::private::Number\":\"2\"}",
        ),
        (
            "\"maxTimeoutSeconds\":60",
            "\"maxTimeoutSeconds\":{\"$serde_json::private::Number\":\"60\",\"b\":1}",
        ),
    ] {
        assert!(compact.contains(member));
        let header = STANDARD.encode(compact.replacen(member, spoof, 1));
        let result = PaymentPayload::from_header(&header, DEFAULT_MAX_HEADER_BYTES);
        assert!(
            result.is_err(),
            "{spoof} accepted as a number: {:?}",
            result.map(|p| p.raw)
        );
    }
}

// ---------------------------------------------------------------------------
// Size and depth limits.

fn no_panic<T>(what: &str, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| panic!("{what} panicked"))
}

#[test]
fn one_megabyte_header_is_too_large() {
    let valid_json_header = STANDARD.encode(format!(
        "{{\"x402Version\":2,\"pad\":\"{}\"}}",
        "a".repeat(1 << 20)
    ));
    for header in ["A".repeat(1 << 20), valid_json_header, "é".repeat(1 << 19)] {
        let e = no_panic("1 MB PaymentPayload", || {
            PaymentPayload::from_header(&header, DEFAULT_MAX_HEADER_BYTES)
        })
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::TooLarge, "{e}");
        assert_eq!((e.reason, e.path.as_str()), (reason::INVALID_PAYLOAD, "$"));
        for e in [
            PaymentRequired::from_header(&header, DEFAULT_MAX_HEADER_BYTES).unwrap_err(),
            SettleResponse::from_header(&header, DEFAULT_MAX_HEADER_BYTES).unwrap_err(),
            codec::decode_header_json(&header, DEFAULT_MAX_HEADER_BYTES).unwrap_err(),
        ] {
            assert_eq!(e.kind, ErrorKind::TooLarge, "{e}");
        }
    }
    // The cap counts bytes, not characters, and is inclusive.
    let fx = fixture(2);
    assert!(PaymentPayload::from_header(&fx.header, fx.header.len()).is_ok());
    let e = PaymentPayload::from_header(&fx.header, fx.header.len() - 1).unwrap_err();
    assert_eq!(e.kind, ErrorKind::TooLarge);
}

#[test]
fn deep_nesting_is_a_typed_json_error() {
    const DEPTH: usize = 100_000;
    let cap = 4 << 20;
    let documents = [
        "[".repeat(DEPTH),
        format!("{}{}", "[".repeat(DEPTH), "]".repeat(DEPTH)),
        format!("{}1{}", "{\"a\":".repeat(DEPTH), "}".repeat(DEPTH)),
        format!(
            "{{\"x402Version\":2,\"extensions\":{}{}}}",
            "[".repeat(DEPTH),
            "]".repeat(DEPTH)
        ),
        format!(
            "{{\"x402Version\":2,\"payload\":{}}}",
            "{\"a\":[".repeat(DEPTH / 2)
        ),
    ];
    for doc in &documents {
        for header in [STANDARD.encode(doc), URL_SAFE_NO_PAD.encode(doc)] {
            let e = no_panic("deep PaymentPayload", || {
                PaymentPayload::from_header(&header, cap)
            })
            .unwrap_err();
            assert_eq!(e.kind, ErrorKind::Json, "{e}");
            assert_eq!(e.reason, reason::INVALID_PAYLOAD);
            let e = no_panic("deep PaymentRequired", || {
                PaymentRequired::from_header(&header, cap)
            })
            .unwrap_err();
            assert_eq!(e.kind, ErrorKind::Json, "{e}");
            // Under the default cap it is refused before decoding.
            let e = PaymentPayload::from_header(&header, DEFAULT_MAX_HEADER_BYTES).unwrap_err();
            assert_eq!(e.kind, ErrorKind::TooLarge);
        }
    }
    // Moderate nesting parses as JSON and is then refused by the schema.
    let doc = format!(
        "{{\"x402Version\":2,\"extensions\":{}{}}}",
        "[".repeat(100),
        "]".repeat(100)
    );
    let e = PaymentPayload::from_header(&STANDARD.encode(doc), cap).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Field, "{e}");
}

/// The exact boundary: 127 levels of arrays or objects decode (generic decoder and strict
/// parser), 128 are a JSON error, inside a payment document too.
#[test]
fn nesting_boundary_is_127_levels() {
    let arrays = |d: usize| format!("{}{}", "[".repeat(d), "]".repeat(d));
    let objects = |d: usize| format!("{}1{}", "{\"a\":".repeat(d), "}".repeat(d));
    for (shape, nest) in [
        ("arrays", &arrays as &dyn Fn(usize) -> String),
        ("objects", &objects),
    ] {
        let ok = nest(MAX_JSON_DEPTH);
        let doc = codec::decode_header_json(&STANDARD.encode(&ok), usize::MAX)
            .unwrap_or_else(|e| panic!("{shape}: {MAX_JSON_DEPTH} levels refused: {e}"));
        assert_eq!(value_depth(&doc), MAX_JSON_DEPTH, "{shape}");
        assert_eq!(text_depth(ok.as_bytes()), MAX_JSON_DEPTH, "{shape}");
        assert!(_core::json::parse_strict(ok.as_bytes()).is_ok(), "{shape}");

        let deep = nest(MAX_JSON_DEPTH + 1);
        let e = codec::decode_header_json(&STANDARD.encode(&deep), usize::MAX).unwrap_err();
        assert_eq!(
            (e.kind, e.reason),
            (ErrorKind::Json, reason::INVALID_PAYLOAD),
            "{shape}"
        );
        assert!(
            _core::json::parse_strict(deep.as_bytes()).is_err(),
            "{shape}"
        );

        // Inside a payment, one level for the document: 126 more decode as JSON (and are
        // refused by the schema), 127 more are a JSON error.
        let within = |d: usize| format!("{{\"x402Version\":2,\"extensions\":{}}}", nest(d));
        let e = PaymentPayload::from_header(&STANDARD.encode(within(MAX_JSON_DEPTH - 1)), 1 << 20)
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Field, "{shape}: {e}");
        let e = PaymentPayload::from_header(&STANDARD.encode(within(MAX_JSON_DEPTH)), 1 << 20)
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Json, "{shape}: {e}");
    }
}

#[test]
fn junk_headers_are_typed_errors() {
    let mut rng = Rng(MASTER_SEED ^ 0x64);
    let cap = 1 << 20;
    let raw = rng.bytes(64 << 10);
    let b64_chars: String = (0..64 << 10).map(|_| *rng.pick(B64_STD) as char).collect();
    let cases: Vec<(String, ErrorKind)> = vec![
        (
            String::from_utf8_lossy(&raw).into_owned(),
            ErrorKind::Base64,
        ),
        (b64_chars.clone(), ErrorKind::Json),
        (STANDARD.encode(&raw), ErrorKind::Json),
        (URL_SAFE_NO_PAD.encode(&raw), ErrorKind::Json),
        (" ".repeat(64 << 10), ErrorKind::Base64),
        ("=".repeat(64 << 10), ErrorKind::Base64),
        ("\0".repeat(64 << 10), ErrorKind::Base64),
        (STANDARD.encode(" ".repeat(48 << 10)), ErrorKind::Json),
        (STANDARD.encode("\"".repeat(48 << 10)), ErrorKind::Json),
        (
            STANDARD.encode(format!("\"{}\"", "\\u0000".repeat(8 << 10))),
            ErrorKind::Field,
        ),
        (
            STANDARD.encode(format!("[{}0]", "0,".repeat(24 << 10))),
            ErrorKind::Field,
        ),
    ];
    for (header, expected) in &cases {
        for (max, kind) in [
            (cap, *expected),
            (DEFAULT_MAX_HEADER_BYTES, ErrorKind::TooLarge),
        ] {
            let e = no_panic("junk", || PaymentPayload::from_header(header, max)).unwrap_err();
            assert_eq!(e.kind, kind, "{}: {e}", short(header));
            check_error(&e, header, max).unwrap();
            let e = no_panic("junk", || PaymentRequired::from_header(header, max)).unwrap_err();
            check_error(&e, header, max).unwrap();
        }
    }
    // Many short random headers.
    for _ in 0..2_000 {
        let n = rng.below(200);
        let header = String::from_utf8_lossy(&rng.bytes(n)).into_owned();
        let e = no_panic("short junk", || {
            PaymentPayload::from_header(&header, DEFAULT_MAX_HEADER_BYTES)
        })
        .unwrap_err();
        check_error(&e, &header, DEFAULT_MAX_HEADER_BYTES).unwrap();
    }
}
