//! What every scheme's local (sans-chain) verification shares: the verifier's options,
//! the verdict and its [`Verification`] (payer, replay key, digest), the replay key
//! that settles at most once, the official timing constants, and the strict EOA
//! signature check. Schemes (`super::schemes`) produce these; the facilitator and
//! the Python layer consume them.

use super::reason;
use crate::crypto::address::Address;
use crate::crypto::ecdsa::{self, Policy, Signature};
use crate::crypto::hexutil;

/// Seconds a `validBefore` must still have left (the official facilitators' 6 s).
pub const MIN_VALIDITY_LEFT: u64 = 6;
/// Default clock skew allowed on top of `maxTimeoutSeconds`.
pub const DEFAULT_SKEW: u64 = 30;

#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// The verifier's clock, Unix seconds.
    pub now: u64,
    /// Allowed `validBefore − now` beyond `maxTimeoutSeconds`.
    pub skew_seconds: u64,
    /// If set, the payment must be for exactly this resource URL (v2: the payment's
    /// `resource.url`; v1: the requirements' `resource`). Advisory: `resource` is not
    /// signed (see [`super::checks::bound_to_resource`]).
    pub resource_url: Option<String>,
}

impl VerifyOptions {
    pub fn at(now: u64) -> Self {
        VerifyOptions {
            now,
            skew_seconds: DEFAULT_SKEW,
            resource_url: None,
        }
    }
}

/// The canonical identity of one authorization: the same for every encoding of it
/// (base64 alphabet, key order, address case), and what settles at most once on chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReplayKey {
    pub chain_id: u64,
    /// The contract whose nonce space holds `nonce` (the token for EIP-3009).
    pub contract: Address,
    pub from: Address,
    pub nonce: [u8; 32],
}

impl std::fmt::Display for ReplayKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "eip155:{}:{}:{}:{}",
            self.chain_id,
            hexutil::encode_0x(&self.contract.0),
            hexutil::encode_0x(&self.from.0),
            hexutil::encode_0x(&self.nonce)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    Invalid {
        reason: &'static str,
        message: String,
    },
    /// Well-formed, but the signature is not a plain EOA signature (ERC-6492 or
    /// EIP-1271): only chain state can decide.
    NeedsChain {
        message: String,
    },
}

impl Verdict {
    /// The x402 reason of a verdict that is not `Valid`: every refusal carries one, and
    /// `NeedsChain` is [`reason::NEEDS_ONCHAIN_VERIFICATION`] (not valid until the chain
    /// has authenticated the signature).
    pub fn reason(&self) -> Option<&'static str> {
        match self {
            Verdict::Valid => None,
            Verdict::Invalid { reason, .. } => Some(reason),
            Verdict::NeedsChain { .. } => Some(reason::NEEDS_ONCHAIN_VERIFICATION),
        }
    }

    /// The human-readable message of a verdict that is not `Valid`.
    pub fn message(&self) -> Option<&str> {
        match self {
            Verdict::Valid => None,
            Verdict::Invalid { message, .. } | Verdict::NeedsChain { message } => Some(message),
        }
    }
}

/// The outcome of local verification.
///
/// `replay_key` and `digest` are set as soon as the authorization is well-formed, whatever
/// the verdict on its signature (the facilitator needs them to authenticate smart-wallet
/// signatures on chain): they identify what the payment *claims*. Only
/// [`Verification::authenticated_replay_key`] may be reserved by a seller before a
/// facilitator has verified the payment; reserving an unauthenticated key lets anyone who
/// saw a victim's payment burn its nonce with a forged signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub verdict: Verdict,
    pub payer: Option<Address>,
    pub replay_key: Option<ReplayKey>,
    /// The EIP-712 digest the payer signed (when the payload got that far).
    pub digest: Option<[u8; 32]>,
}

impl Verification {
    pub fn is_valid(&self) -> bool {
        self.verdict == Verdict::Valid
    }

    /// The replay key, only when the signature authenticated (`Valid`).
    pub fn authenticated_replay_key(&self) -> Option<ReplayKey> {
        self.replay_key.filter(|_| self.is_valid())
    }

    /// The replay key of a payment only the chain can authenticate (`NeedsChain`): NOT
    /// proof of anything; must not be reserved before a facilitator has verified it.
    pub fn unauthenticated_replay_key(&self) -> Option<ReplayKey> {
        self.replay_key
            .filter(|_| matches!(self.verdict, Verdict::NeedsChain { .. }))
    }

    pub(crate) fn invalid(
        reason: &'static str,
        message: impl Into<String>,
        payer: Option<Address>,
    ) -> Self {
        Verification {
            verdict: Verdict::Invalid {
                reason,
                message: message.into(),
            },
            payer,
            replay_key: None,
            digest: None,
        }
    }
}

/// The verdict on a signature over `digest` by `from`: `Valid` only for a strict
/// 65-byte EOA signature (low s, v = 27/28) that recovers to `from`; failures carry
/// `reason`; other shapes (ERC-6492, EIP-1271) need chain state.
pub(crate) fn eoa_verdict(
    digest: &[u8; 32],
    signature: &[u8],
    from: &Address,
    reason: &'static str,
) -> Verdict {
    if signature.is_empty() {
        return Verdict::Invalid {
            reason,
            message: "signature is empty".into(),
        };
    }
    if signature.len() != 65 || super::smart_wallet::is_erc6492(signature) {
        return Verdict::NeedsChain {
            message: format!(
                "{}-byte signature is not a plain EOA signature",
                signature.len()
            ),
        };
    }
    let invalid = |message: String| Verdict::Invalid { reason, message };
    let parsed = match Signature::from_bytes(signature) {
        Ok(s) => s,
        Err(e) => return invalid(e.to_string()),
    };
    if parsed.to_bytes()[64] != signature[64] {
        // v = 0/1: ecrecover in USDC and Permit2 only takes 27/28.
        return invalid("signature v must be 27 or 28".into());
    }
    match ecdsa::recover_public_key_with::<ecdsa::DefaultBackend>(
        digest,
        &parsed,
        Policy::default(),
    ) {
        Ok(public) if Address::from_public_key(&public) == *from => Verdict::Valid,
        Ok(public) => invalid(format!(
            "signature recovers to {}, not the payer {from}",
            Address::from_public_key(&public)
        )),
        Err(e) => invalid(e.to_string()),
    }
}
