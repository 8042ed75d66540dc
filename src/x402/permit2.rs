//! The Permit2 transfer method, shared by two schemes: `exact` with
//! `extra.assetTransferMethod == "permit2"` ([`super::schemes::exact::permit2`]) and
//! `upto` ([`super::schemes::upto`], always Permit2). Not a scheme itself: the
//! contract and proxy addresses, EIP-712 typed data, the replay key, and the one
//! client and one verifier both schemes run (they differ only in the witness, the
//! spender proxy and their reason strings, all chosen by [`Permit2Kind`]). The payload
//! types live in [`super::payload`].
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
use super::networks::{self, TransferMethod};
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

pub const EXACT_SCHEME: &str = super::schemes::EXACT;
pub const UPTO_SCHEME: &str = super::schemes::UPTO;
/// `extra.assetTransferMethod` value that selects Permit2 for `exact`.
pub const ASSET_TRANSFER_METHOD: &str = TransferMethod::Permit2.as_str();

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

/// What a [`Permit2Kind`] (defined with the payloads, in `super::payload`) means for
/// requirements, the spender and the reasons.
impl Permit2Kind {
    /// What requirements ask for: `exact` with `extra.assetTransferMethod == "permit2"`,
    /// or `upto` (whose `assetTransferMethod`, if present, must be `"permit2"`).
    pub fn of(requirements: &Requirements) -> Option<Self> {
        let method = requirements.transfer_method();
        let permit2 = Ok(TransferMethod::Permit2);
        match requirements.scheme.as_str() {
            EXACT_SCHEME if method == Some(permit2) => Some(Permit2Kind::Exact),
            UPTO_SCHEME if method.is_none_or(|m| m == permit2) => Some(Permit2Kind::Upto),
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
/// lengths and ERC-6492 wrappers are [`Verdict::NeedsChain`](super::verify::Verdict::NeedsChain) (smart wallets).
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
    // The payload is Permit2: its payer is `permit2Authorization.from`.
    let payer = payload.payer();
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

const _: () = assert!(DEADLINE_BUFFER == MIN_VALIDITY_LEFT);

#[cfg(test)]
mod tests;
