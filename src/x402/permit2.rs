//! Permit2 payments: the `exact` scheme with `extra.assetTransferMethod == "permit2"`
//! and the `upto` scheme (always Permit2). Typed payload parsing, EIP-712 typed data,
//! client payment creation, local (sans-chain) verification in the official order
//! with the official reason strings plus fastx402's stricter checks, and the pure
//! part of `upto` settlement.
//!
//! Byte-compatible with the official Python SDK x402 2.25.0
//! (`mechanisms/evm/exact/permit2_utils.py`, `mechanisms/evm/upto/`):
//!
//! - payload `{permit2Authorization: {from, permitted: {token, amount}, spender, nonce,
//!   deadline, witness: {to, [facilitator,] validAfter}}, signature}` in that key order,
//!   addresses EIP-55, every number a decimal string (the nonce is a uint256, not
//!   bytes32), signature `0x` + 65 bytes with v = 27/28;
//! - the client sets `validAfter = "0"`, `deadline = now + maxTimeoutSeconds` and
//!   draws the nonce from 32 random bytes; the spender is the x402 proxy of the
//!   scheme, which only pays `witness.to`;
//! - x402 v2 only: the SDKs have no v1 Permit2 or `upto`.
//!
//! Recorded SDK payments and the SDK facilitator's verdicts on mutated copies live in
//! `tests/vectors/permit2.json` (generator: `tests/vectors/gen/make_permit2_vectors.py`).

use serde_json::{json, Value};

use super::checks;
use super::create::{self, CreateOptions};
use super::error::ProtocolError;
use super::networks;
pub use super::payload::{
    Permit2Authorization, Permit2Kind, Permit2Payload, TokenPermissions, Witness,
};
use super::reason;
use super::types::{PaymentPayload, PaymentRequired, Requirements, SchemePayload};
use super::verify::{eoa_verdict, ReplayKey, Verification, VerifyOptions, MIN_VALIDITY_LEFT};
use crate::cache::Memo;
use crate::crypto::address::Address;
use crate::crypto::ecdsa::SecretKey;
use crate::crypto::hexutil;
use crate::crypto::keccak::{keccak256, keccak256_concat};
use crate::num::U256;

/// The canonical Permit2 contract (same address on every chain, CREATE2).
pub const PERMIT2_ADDRESS: Address = Address(hexutil::const_hex(
    "000000000022d473030f116ddee9f6b43ac78ba3",
));
/// `x402ExactPermit2Proxy`: the spender of `exact` Permit2 payments.
pub const EXACT_PROXY_ADDRESS: Address = Address(hexutil::const_hex(
    "402085c248eea27d92e8b30b2c58ed07f9e20001",
));
/// `x402UptoPermit2Proxy`: the spender of `upto` payments.
pub const UPTO_PROXY_ADDRESS: Address = Address(hexutil::const_hex(
    "4020a4f3b7b90cca423b9fabcc0ce57c6c240002",
));

pub const EXACT_SCHEME: &str = "exact";
pub const UPTO_SCHEME: &str = "upto";
/// `extra.assetTransferMethod` value that selects Permit2 for `exact`.
pub const ASSET_TRANSFER_METHOD: &str = "permit2";

/// Seconds a `deadline` must still have left (the official `PERMIT2_DEADLINE_BUFFER`).
pub const DEADLINE_BUFFER: u64 = 6;

pub const DOMAIN_TYPE: &str = "EIP712Domain(string name,uint256 chainId,address verifyingContract)";
pub const TOKEN_PERMISSIONS_TYPE: &str = "TokenPermissions(address token,uint256 amount)";
pub const EXACT_WITNESS_TYPE: &str = "Witness(address to,uint256 validAfter)";
pub const UPTO_WITNESS_TYPE: &str = "Witness(address to,address facilitator,uint256 validAfter)";
pub const EXACT_PERMIT_TYPE: &str = "PermitWitnessTransferFrom(TokenPermissions permitted,address spender,uint256 nonce,uint256 deadline,Witness witness)TokenPermissions(address token,uint256 amount)Witness(address to,uint256 validAfter)";
pub const UPTO_PERMIT_TYPE: &str = "PermitWitnessTransferFrom(TokenPermissions permitted,address spender,uint256 nonce,uint256 deadline,Witness witness)TokenPermissions(address token,uint256 amount)Witness(address to,address facilitator,uint256 validAfter)";

/// `keccak256(DOMAIN_TYPE)`
pub const DOMAIN_TYPEHASH: [u8; 32] =
    hexutil::const_hex("8cad95687ba82c2ce50e74f7b754645e5117c3a5bec8151c0726d5857980a866");
/// `keccak256(TOKEN_PERMISSIONS_TYPE)`
pub const TOKEN_PERMISSIONS_TYPEHASH: [u8; 32] =
    hexutil::const_hex("618358ac3db8dc274f0cd8829da7e234bd48cd73c4a740aede1adec9846d06a1");
/// `keccak256(EXACT_WITNESS_TYPE)`
pub const EXACT_WITNESS_TYPEHASH: [u8; 32] =
    hexutil::const_hex("d97b3239a7f32295517bd14cb074edfdd188dfe5eb42f802bb26d4fd1eb12c37");
/// `keccak256(UPTO_WITNESS_TYPE)`
pub const UPTO_WITNESS_TYPEHASH: [u8; 32] =
    hexutil::const_hex("d4171c445a74218b01d4fd8af34ff1106580ea1e36ff837e64484bfaa2253b75");
/// `keccak256(EXACT_PERMIT_TYPE)`
pub const EXACT_PERMIT_TYPEHASH: [u8; 32] =
    hexutil::const_hex("ebc156cd23678a74c94df13d772ef5478420637f0c94bd10d509e1dc98f521c7");
/// `keccak256(UPTO_PERMIT_TYPE)`
pub const UPTO_PERMIT_TYPEHASH: [u8; 32] =
    hexutil::const_hex("51dff6974ad4388c499e7fcfe838d2bd767162553a144098ce20ea661d70c2ee");

impl Permit2Kind {
    /// What requirements ask for: `exact` with `extra.assetTransferMethod == "permit2"`,
    /// or `upto` (whose `assetTransferMethod`, if present, must be `"permit2"`).
    pub fn of(requirements: &Requirements) -> Option<Self> {
        let method = requirements.extra_str("assetTransferMethod");
        match requirements.scheme.as_str() {
            EXACT_SCHEME if method == Some(ASSET_TRANSFER_METHOD) => Some(Permit2Kind::Exact),
            UPTO_SCHEME if method.is_none_or(|m| m == ASSET_TRANSFER_METHOD) => {
                Some(Permit2Kind::Upto)
            }
            _ => None,
        }
    }

    pub fn scheme(self) -> &'static str {
        match self {
            Permit2Kind::Exact => EXACT_SCHEME,
            Permit2Kind::Upto => UPTO_SCHEME,
        }
    }

    /// The x402 proxy that must be the Permit2 `spender`.
    pub fn proxy(self) -> Address {
        match self {
            Permit2Kind::Exact => EXACT_PROXY_ADDRESS,
            Permit2Kind::Upto => UPTO_PROXY_ADDRESS,
        }
    }

    pub fn permit_typehash(self) -> [u8; 32] {
        match self {
            Permit2Kind::Exact => EXACT_PERMIT_TYPEHASH,
            Permit2Kind::Upto => UPTO_PERMIT_TYPEHASH,
        }
    }

    fn scheme_reason(self) -> &'static str {
        match self {
            Permit2Kind::Exact => reason::UNSUPPORTED_SCHEME,
            Permit2Kind::Upto => reason::UPTO_INVALID_SCHEME,
        }
    }

    fn network_reason(self) -> &'static str {
        match self {
            Permit2Kind::Exact => reason::NETWORK_MISMATCH,
            Permit2Kind::Upto => reason::UPTO_NETWORK_MISMATCH,
        }
    }

    fn config_reason(self) -> &'static str {
        match self {
            Permit2Kind::Exact => reason::FAILED_TO_GET_NETWORK_CONFIG,
            Permit2Kind::Upto => reason::UPTO_FAILED_TO_GET_NETWORK_CONFIG,
        }
    }
}

// ---------------------------------------------------------------------------
// Payload.

// ---------------------------------------------------------------------------
// EIP-712.

/// The Permit2 domain separator of a chain: `{name: "Permit2", chainId,
/// verifyingContract: PERMIT2_ADDRESS}` (no version), memoized per chain.
pub fn domain_separator(chain_id: u64) -> [u8; 32] {
    static MEMO: Memo<u64, [u8; 32]> = Memo::new(256);
    MEMO.get_or_insert_with(&chain_id, || {
        keccak256_concat(&[
            &DOMAIN_TYPEHASH,
            &keccak256(b"Permit2"),
            &U256::from_u64(chain_id).to_be_bytes(),
            &PERMIT2_ADDRESS.to_word(),
        ])
    })
}

/// `hashStruct(PermitWitnessTransferFrom)` of an authorization (its witness type
/// follows its kind).
pub fn struct_hash(auth: &Permit2Authorization) -> [u8; 32] {
    let permitted = keccak256_concat(&[
        &TOKEN_PERMISSIONS_TYPEHASH,
        &auth.permitted.token.to_word(),
        &auth.permitted.amount.to_be_bytes(),
    ]);
    let witness = match &auth.witness.facilitator {
        None => keccak256_concat(&[
            &EXACT_WITNESS_TYPEHASH,
            &auth.witness.to.to_word(),
            &auth.witness.valid_after.to_be_bytes(),
        ]),
        Some(f) => keccak256_concat(&[
            &UPTO_WITNESS_TYPEHASH,
            &auth.witness.to.to_word(),
            &f.to_word(),
            &auth.witness.valid_after.to_be_bytes(),
        ]),
    };
    keccak256_concat(&[
        &auth.kind().permit_typehash(),
        &permitted,
        &auth.spender.to_word(),
        &auth.nonce.to_be_bytes(),
        &auth.deadline.to_be_bytes(),
        &witness,
    ])
}

/// The EIP-712 digest a payer signs.
pub fn permit2_digest(chain_id: u64, auth: &Permit2Authorization) -> [u8; 32] {
    keccak256_concat(&[b"\x19\x01", &domain_separator(chain_id), &struct_hash(auth)])
}

/// The full typed-data document (what a wallet shows and signs); hashing it with
/// the generic strict-v4 engine gives [`permit2_digest`].
pub fn permit2_typed_data(chain_id: u64, auth: &Permit2Authorization) -> Value {
    let witness = if auth.witness.facilitator.is_some() {
        json!([
            {"name": "to", "type": "address"},
            {"name": "facilitator", "type": "address"},
            {"name": "validAfter", "type": "uint256"}
        ])
    } else {
        json!([
            {"name": "to", "type": "address"},
            {"name": "validAfter", "type": "uint256"}
        ])
    };
    json!({
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"}
            ],
            "PermitWitnessTransferFrom": [
                {"name": "permitted", "type": "TokenPermissions"},
                {"name": "spender", "type": "address"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
                {"name": "witness", "type": "Witness"}
            ],
            "TokenPermissions": [
                {"name": "token", "type": "address"},
                {"name": "amount", "type": "uint256"}
            ],
            "Witness": witness,
        },
        "primaryType": "PermitWitnessTransferFrom",
        "domain": {
            "name": "Permit2",
            "chainId": chain_id,
            "verifyingContract": PERMIT2_ADDRESS.to_checksum(),
        },
        "message": auth.message_json(),
    })
}

/// The chain id of a v2 (CAIP-2) network. The SDK's `get_evm_chain_id` accepts only
/// `eip155:<id>`; fastx402 additionally refuses leading zeros, 0 and overflow.
fn caip2_chain_id(network: &str) -> Result<u64, String> {
    let id = network
        .strip_prefix("eip155:")
        .ok_or_else(|| format!("network {network:?} is not a CAIP-2 eip155:<chain id>"))?;
    networks::parse_chain_id(id).map_err(|e| e.to_string())
}

/// `extra.facilitatorAddress` of `upto` requirements.
pub fn upto_facilitator(requirements: &Requirements) -> Result<Address, ProtocolError> {
    let fail = |message: &str| {
        ProtocolError::field(
            reason::INVALID_PAYMENT_REQUIREMENTS,
            "extra.facilitatorAddress",
            message,
        )
    };
    let Some(raw) = requirements
        .extra
        .as_ref()
        .and_then(|e| e.get("facilitatorAddress"))
    else {
        return Err(fail(
            "upto requires the facilitator's address in extra.facilitatorAddress",
        ));
    };
    let Some(s) = raw.as_str() else {
        return Err(fail("must be an address string"));
    };
    let address = Address::parse(s).map_err(|e| {
        ProtocolError::field(
            reason::INVALID_PAYMENT_REQUIREMENTS,
            "extra.facilitatorAddress",
            e,
        )
    })?;
    if address.is_zero() {
        return Err(fail("is the zero address"));
    }
    Ok(address)
}

// ---------------------------------------------------------------------------
// Client side.

/// The first entry of `accepts` this client can pay with Permit2 (`exact` with
/// `assetTransferMethod: permit2`, or `upto`), x402 v2 only.
pub fn select_permit2_requirements(
    required: &PaymentRequired,
) -> Result<&Requirements, ProtocolError> {
    required
        .accepts
        .iter()
        .find(|r| r.version == 2 && Permit2Kind::of(r).is_some())
        .ok_or_else(|| {
            ProtocolError::field(
                reason::UNSUPPORTED_SCHEME,
                "accepts",
                "no x402 v2 Permit2 ('exact' with assetTransferMethod permit2, or 'upto') option is offered",
            )
        })
}

/// Signs a Permit2 payment for `requirements` (one entry of a v2 `PaymentRequired`)
/// as the official SDK client does: spender = the scheme's x402 proxy,
/// `validAfter = 0`, `deadline = now + maxTimeoutSeconds`, nonce = `options.nonce`
/// (big-endian) or 32 random bytes. `accepted` echoes the server's JSON unchanged.
///
/// Refused: x402 v1 (no Permit2 or `upto` there), other schemes, `upto` without
/// `extra.facilitatorAddress`, a zero `payTo` or asset, and `maxTimeoutSeconds == 0`
/// (the SDK's `exact` client would silently sign for 3600 s instead, which
/// fastx402's verifier refuses).
pub fn create_permit2_payment(
    required: &PaymentRequired,
    requirements: &Requirements,
    signer: &SecretKey,
    options: &CreateOptions,
) -> Result<PaymentPayload, ProtocolError> {
    if requirements.version != 2 {
        return Err(ProtocolError::field(
            reason::INVALID_X402_VERSION,
            "x402Version",
            "Permit2 and upto payments exist only in x402 v2",
        ));
    }
    let Some(kind) = Permit2Kind::of(requirements) else {
        return Err(ProtocolError::field(
            reason::UNSUPPORTED_SCHEME,
            "scheme",
            format_args!(
                "this signer pays 'exact' with assetTransferMethod permit2, or 'upto', not {:?}",
                requirements.scheme
            ),
        ));
    };
    let chain_id = caip2_chain_id(&requirements.network)
        .map_err(|e| ProtocolError::field(kind.config_reason(), "network", e))?;
    let refuse = |path: &str, message: &str| {
        ProtocolError::field(reason::INVALID_PAYMENT_REQUIREMENTS, path, message)
    };
    if requirements.pay_to.is_zero() {
        return Err(refuse("payTo", "refusing to pay the zero address"));
    }
    if requirements.asset.is_zero() {
        return Err(refuse("asset", "the asset is the zero address"));
    }
    if requirements.max_timeout_seconds == 0 {
        return Err(refuse("maxTimeoutSeconds", "must be positive"));
    }
    let facilitator = match kind {
        Permit2Kind::Exact => None,
        Permit2Kind::Upto => Some(upto_facilitator(requirements)?),
    };
    let nonce = create::nonce(options)?;
    let authorization = Permit2Authorization {
        from: signer.address(),
        permitted: TokenPermissions {
            token: requirements.asset,
            amount: requirements.amount,
        },
        spender: kind.proxy(),
        nonce: U256::from_be_bytes(&nonce),
        deadline: U256::from_u64(options.now.saturating_add(requirements.max_timeout_seconds)),
        witness: Witness {
            to: requirements.pay_to,
            facilitator,
            valid_after: U256::ZERO,
        },
    };
    let signature = signer.sign_digest(&permit2_digest(chain_id, &authorization));
    let payload = Permit2Payload {
        authorization,
        signature: signature.to_bytes().to_vec(),
    };
    Ok(create::v2_payment(
        required,
        requirements,
        payload.to_json(),
        SchemePayload::from_permit2(payload),
    ))
}

// ---------------------------------------------------------------------------
// Server / facilitator side.

/// The replay key of a Permit2 authorization: `(chainId, PERMIT2_ADDRESS, from, nonce
/// as 32 big-endian bytes)`. Permit2 nonces live in the Permit2 contract's per-owner
/// bitmap, shared by every token and spender, so the key names Permit2 (not the
/// asset) as the contract; it can never collide with an EIP-3009 key (the token).
pub fn replay_key(chain_id: u64, auth: &Permit2Authorization) -> ReplayKey {
    ReplayKey {
        chain_id,
        contract: PERMIT2_ADDRESS,
        from: auth.from,
        nonce: auth.nonce.to_be_bytes(),
    }
}

/// Verifies a Permit2 payment (`exact` with Permit2, or `upto`) against the
/// requirements it claims to meet, without chain access. For `upto` the signed
/// `witness.facilitator` must equal `extra.facilitatorAddress`; a facilitator should
/// call [`verify_permit2_payment_with`] with its own addresses.
pub fn verify_permit2_payment(
    payload: &PaymentPayload,
    requirements: &Requirements,
    options: &VerifyOptions,
) -> Verification {
    verify_permit2_payment_with(payload, requirements, options, &[])
}

/// [`verify_permit2_payment`] as the facilitator owning `facilitator_addresses`: for
/// `upto`, `witness.facilitator` must also be one of them (the official check; an
/// empty slice skips it).
///
/// Order and reasons follow the official facilitators (x402 2.25.0 `verify_permit2`
/// and `verify_upto_permit2`): scheme, network, chain id, spender == the scheme's
/// proxy, `witness.to` == payTo, (upto) facilitator, `deadline ≥ now + 6`,
/// `validAfter ≤ now`, permitted amount == requirements amount (for `upto` the
/// requirements carry the maximum), token == asset, signature.
///
/// fastx402 is stricter. First, because nothing can be read otherwise: strict payload
/// grammar (`invalid_payload`, with the field's path), a witness shape matching the
/// scheme, x402 v2 only. Then, after the official pre-signature checks (so that a
/// payment the official verifier refuses keeps the official reason): `accepted`
/// equal to the requirements, no zero addresses, `deadline − now ≤
/// maxTimeoutSeconds + skew` (`permit2_deadline_expired`), the bound resource URL.
/// Last, the signature must be a plain 65-byte one with low s and v = 27/28; other
/// lengths and ERC-6492 wrappers are [`Verdict::NeedsChain`] (smart wallets).
pub fn verify_permit2_payment_with(
    payload: &PaymentPayload,
    requirements: &Requirements,
    options: &VerifyOptions,
    facilitator_addresses: &[Address],
) -> Verification {
    let Some(kind) = Permit2Kind::of(requirements) else {
        return Verification::invalid(
            reason::UNSUPPORTED_SCHEME,
            format!(
                "requirements ({:?}) offer neither 'exact' with assetTransferMethod permit2 nor 'upto'",
                requirements.scheme
            ),
            None,
        );
    };
    let parsed = match Permit2Payload::from_payload(&payload.payload) {
        Ok(p) => p,
        Err(e) => {
            return Verification::invalid(e.reason, format!("{}: {}", e.path, e.message), None)
        }
    };
    let auth = &parsed.authorization;
    let payer = Some(auth.from);
    let fail = |reason, message: String| Verification::invalid(reason, message, payer);

    if auth.kind() != kind {
        return fail(
            reason::INVALID_PAYLOAD,
            match kind {
                Permit2Kind::Exact => "payload.permit2Authorization.witness.facilitator: an exact witness is {to, validAfter}",
                Permit2Kind::Upto => "payload.permit2Authorization.witness.facilitator: required for upto",
            }
            .into(),
        );
    }
    if payload.version != 2 || requirements.version != 2 {
        return fail(
            reason::INVALID_X402_VERSION,
            format!(
                "Permit2 payments are x402 v2 only (payment v{}, requirements v{})",
                payload.version, requirements.version
            ),
        );
    }
    // 1. Scheme.
    if payload.scheme != kind.scheme() {
        return fail(
            kind.scheme_reason(),
            format!(
                "payment scheme {:?} is not {:?}",
                payload.scheme,
                kind.scheme()
            ),
        );
    }
    // 2. Network, and its chain id.
    if payload.network != requirements.network {
        return fail(
            kind.network_reason(),
            format!(
                "payment is for {:?}, requirements are for {:?}",
                payload.network, requirements.network
            ),
        );
    }
    let chain_id = match caip2_chain_id(&requirements.network) {
        Ok(id) => id,
        Err(e) => return fail(kind.config_reason(), e),
    };
    // 3. Spender.
    if auth.spender != kind.proxy() {
        return fail(
            reason::PERMIT2_INVALID_SPENDER,
            format!(
                "spender is {}, not the x402 {} proxy {}",
                auth.spender,
                kind.scheme(),
                kind.proxy()
            ),
        );
    }
    // 4. Recipient.
    if auth.witness.to != requirements.pay_to {
        return fail(
            reason::PERMIT2_RECIPIENT_MISMATCH,
            format!(
                "witness.to is {}, payTo is {}",
                auth.witness.to, requirements.pay_to
            ),
        );
    }
    // 5. (upto) Facilitator.
    if let Some(signed) = auth.witness.facilitator {
        if !facilitator_addresses.is_empty() && !facilitator_addresses.contains(&signed) {
            return fail(
                reason::UPTO_FACILITATOR_MISMATCH,
                format!("witness.facilitator {signed} is not this facilitator"),
            );
        }
        match upto_facilitator(requirements) {
            Ok(configured) if configured == signed => {}
            Ok(configured) => {
                return fail(
                    reason::UPTO_FACILITATOR_MISMATCH,
                    format!(
                        "witness.facilitator is {signed}, extra.facilitatorAddress is {configured}"
                    ),
                )
            }
            Err(e) => return fail(e.reason, format!("{}: {}", e.path, e.message)),
        }
    }
    // 6. Deadline (with the official 6 s buffer).
    let now = U256::from_u64(options.now);
    if auth.deadline < U256::from_u64(options.now.saturating_add(DEADLINE_BUFFER)) {
        return fail(
            reason::PERMIT2_DEADLINE_EXPIRED,
            format!(
                "deadline {} leaves less than {DEADLINE_BUFFER} s",
                auth.deadline
            ),
        );
    }
    // 7. validAfter.
    if now < auth.witness.valid_after {
        return fail(
            reason::PERMIT2_NOT_YET_VALID,
            format!(
                "witness.validAfter {} is in the future",
                auth.witness.valid_after
            ),
        );
    }
    // 8. Amount: exactly the requirements' amount (for upto, the maximum).
    if auth.permitted.amount != requirements.amount {
        return fail(
            reason::PERMIT2_AMOUNT_MISMATCH,
            format!(
                "permitted.amount is {}, amount is {}",
                auth.permitted.amount, requirements.amount
            ),
        );
    }
    // 9. Token.
    if auth.permitted.token != requirements.asset {
        return fail(
            reason::PERMIT2_TOKEN_MISMATCH,
            format!(
                "permitted.token is {}, asset is {}",
                auth.permitted.token, requirements.asset
            ),
        );
    }

    // fastx402's stricter checks.
    let strict = checks::accepted_matches(payload, requirements)
        .and_then(|()| {
            checks::no_zero_addresses(&auth.from, "permit2Authorization.from", requirements)
        })
        .and_then(|()| {
            checks::within_horizon(
                &auth.deadline,
                "deadline",
                requirements,
                options,
                reason::PERMIT2_DEADLINE_EXPIRED,
            )
        })
        .and_then(|()| checks::bound_to_resource(payload, requirements, options));
    if let Err((reason, message)) = strict {
        return fail(reason, message);
    }

    // 10. Signature.
    let digest = permit2_digest(chain_id, auth);
    Verification {
        verdict: eoa_verdict(
            &digest,
            &parsed.signature,
            &auth.from,
            reason::PERMIT2_INVALID_SIGNATURE,
        ),
        payer,
        replay_key: Some(replay_key(chain_id, auth)),
        digest: Some(digest),
    }
}

/// The amount an `upto` payment settles: `requirements_amount` is the maximum the
/// server offered (and the payer permitted), `actual` what the handler charged
/// (`Settlement-Overrides`). `Ok(None)`: charge nothing, send no transaction.
pub fn settle_amount(
    requirements_amount: U256,
    permitted_amount: U256,
    actual: U256,
) -> Result<Option<U256>, ProtocolError> {
    if permitted_amount != requirements_amount {
        return Err(ProtocolError::field(
            reason::PERMIT2_AMOUNT_MISMATCH,
            "payload.permit2Authorization.permitted.amount",
            format_args!(
                "permitted {permitted_amount}, the requirements' maximum is {requirements_amount}"
            ),
        ));
    }
    if permitted_amount < actual {
        return Err(ProtocolError::field(
            reason::UPTO_SETTLEMENT_EXCEEDS_AMOUNT,
            "amount",
            format_args!("settling {actual} exceeds the permitted {permitted_amount}"),
        ));
    }
    Ok((!actual.is_zero()).then_some(actual))
}

const _: () = assert!(DEADLINE_BUFFER == MIN_VALIDITY_LEFT);

#[cfg(test)]
mod tests {
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
        let err = create_permit2_payment(&required(&zero_timeout), &zero_timeout, &key, &opts)
            .unwrap_err();
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
            let check =
                |mutate: &dyn Fn(&mut Value), req: &Requirements, now: u64, expected: &str| {
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
                    assert!(
                        verify_permit2_payment_with(&good, &req, &opts, &[other, mine]).is_valid()
                    );
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

    #[test]
    fn upto_settlement_amounts() {
        let max = U256::from_u64(5_000_000);
        let some = |v: u64| Ok(Some(U256::from_u64(v)));
        assert_eq!(settle_amount(max, max, U256::from_u64(1_234)), some(1_234));
        assert_eq!(settle_amount(max, max, max), some(5_000_000));
        assert_eq!(settle_amount(max, max, U256::ZERO), Ok(None));
        let err = settle_amount(max, max, U256::from_u64(5_000_001)).unwrap_err();
        assert_eq!(err.reason, reason::UPTO_SETTLEMENT_EXCEEDS_AMOUNT);
        let err = settle_amount(max, U256::from_u64(4_999_999), U256::from_u64(1)).unwrap_err();
        assert_eq!(err.reason, reason::PERMIT2_AMOUNT_MISMATCH);
        assert_eq!(
            settle_amount(U256::MAX, U256::MAX, U256::MAX),
            Ok(Some(U256::MAX))
        );
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
        let v =
            verify_permit2_payment_with(&payload, &req, &VerifyOptions::at(now), &[facilitator]);
        match v.verdict {
            Verdict::Valid => None,
            Verdict::Invalid { reason, .. } => Some(reason.into()),
            Verdict::NeedsChain { message } => Some(format!("needs chain: {message}")),
        }
    }

    #[test]
    fn sdk_payments_verify_and_are_reproduced_byte_for_byte() {
        let doc = vectors();
        let key =
            SecretKey::from_hex(doc["keys"]["anvil0"]["private_key"].as_str().unwrap()).unwrap();
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
                hexutil::encode_0x(
                    &hash_typed_data(&case["typed_data"], DomainTypes::Given).unwrap()
                ),
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
                    base64::Engine::decode(&base64::engine::general_purpose::STANDARD, header)
                        .unwrap()
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
}
