//! The `exact` scheme over EIP-3009 `transferWithAuthorization` (the spec's
//! `scheme_exact_evm`, `assetTransferMethod` absent or `eip3009`): typed data, client
//! payment creation, and local (sans-chain) verification in the official order with
//! the official reason strings, plus fastx402's stricter checks.

use serde_json::{json, Value};

pub use super::SCHEME;
use crate::cache::Memo;
use crate::crypto::address::Address;
use crate::crypto::ecdsa::SecretKey;
use crate::crypto::hexutil;
use crate::crypto::keccak::{keccak256, keccak256_concat};
use crate::num::U256;
use crate::x402::checks;
use crate::x402::create::{self, CreateOptions};
use crate::x402::error::ProtocolError;
use crate::x402::networks::{self, TransferMethod};
use crate::x402::reason;
use crate::x402::types::{
    Authorization, PaymentPayload, PaymentRequired, Requirements, SchemePayload,
};
use crate::x402::verify::{eoa_verdict, ReplayKey, Verification, VerifyOptions, MIN_VALIDITY_LEFT};

/// `keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")`
pub const DOMAIN_TYPEHASH: [u8; 32] =
    hexutil::const_hex("8b73c3c69bb8fe3d512ecc4cf759cc79239f7b179b0ffacaa9a75d522b39400f");
/// `keccak256("TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)")`
pub const TRANSFER_TYPEHASH: [u8; 32] =
    hexutil::const_hex("7c7c6cdb67a18743f49ec6fa9b35f50d52ed05cbed4cc592e13b44501c1a2267");

/// The token's EIP-712 domain, built only from the server's requirements.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenDomain {
    pub name: String,
    pub version: String,
    pub chain_id: u64,
    pub verifying_contract: Address,
}

impl TokenDomain {
    /// From requirements: `extra.name`, `extra.version`, the network's chain id, the asset.
    pub fn from_requirements(req: &Requirements) -> Result<Self, ProtocolError> {
        // v1 names networks (`base-sepolia`), v2 uses CAIP-2 (`eip155:84532`); the
        // official facilitators refuse the other form, and so does fastx402.
        let caip2 = req.network.starts_with("eip155:");
        if caip2 != (req.version == 2) {
            return Err(ProtocolError::field(
                reason::FAILED_TO_GET_NETWORK_CONFIG,
                "network",
                format_args!(
                    "x402 v{} names networks {}, not {:?}",
                    req.version,
                    if req.version == 2 {
                        "by CAIP-2 id (eip155:<chainId>)"
                    } else {
                        "by v1 name (base-sepolia, …)"
                    },
                    req.network
                ),
            ));
        }
        let chain_id = networks::Network::parse(&req.network)
            .map(|n| n.chain_id())
            .map_err(|e| {
                ProtocolError::field(reason::FAILED_TO_GET_NETWORK_CONFIG, "network", e)
            })?;
        let (Some(name), Some(version)) = (req.extra_str("name"), req.extra_str("version")) else {
            return Err(ProtocolError::field(
                reason::MISSING_EIP712_DOMAIN,
                "extra",
                "extra must carry the token's EIP-712 name and version",
            ));
        };
        Ok(TokenDomain {
            name: name.to_owned(),
            version: version.to_owned(),
            chain_id,
            verifying_contract: req.asset,
        })
    }

    /// The domain separator, memoized per domain.
    pub fn separator(&self) -> [u8; 32] {
        static MEMO: Memo<TokenDomain, [u8; 32]> = Memo::new(256);
        MEMO.get_or_insert_with(self, || {
            keccak256_concat(&[
                &DOMAIN_TYPEHASH,
                &keccak256(self.name.as_bytes()),
                &keccak256(self.version.as_bytes()),
                &U256::from_u64(self.chain_id).to_be_bytes(),
                &self.verifying_contract.to_word(),
            ])
        })
    }

    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": self.verifying_contract.to_checksum(),
        })
    }
}

/// The EIP-712 digest a payer signs for an authorization.
pub fn authorization_digest(domain: &TokenDomain, auth: &Authorization) -> [u8; 32] {
    let struct_hash = keccak256_concat(&[
        &TRANSFER_TYPEHASH,
        &auth.from.to_word(),
        &auth.to.to_word(),
        &auth.value.to_be_bytes(),
        &auth.valid_after.to_be_bytes(),
        &auth.valid_before.to_be_bytes(),
        &auth.nonce,
    ]);
    keccak256_concat(&[b"\x19\x01", &domain.separator(), &struct_hash])
}

/// The full typed-data document (what a wallet shows and signs).
pub fn authorization_typed_data(domain: &TokenDomain, auth: &Authorization) -> Value {
    json!({
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"}
            ],
            "TransferWithAuthorization": [
                {"name": "from", "type": "address"},
                {"name": "to", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "validAfter", "type": "uint256"},
                {"name": "validBefore", "type": "uint256"},
                {"name": "nonce", "type": "bytes32"}
            ]
        },
        "primaryType": "TransferWithAuthorization",
        "domain": domain.to_json(),
        "message": auth.to_json(),
    })
}

// ---------------------------------------------------------------------------
// Client side.

/// How far back `validAfter` is set, absorbing clock skew between client and chain.
pub const VALID_AFTER_BACKDATE: u64 = 600;

/// The first entry of `accepts` this client can pay: `exact` over EIP-3009.
pub fn select_requirements(required: &PaymentRequired) -> Result<&Requirements, ProtocolError> {
    required
        .accepts
        .iter()
        .find(|r| {
            r.scheme == SCHEME
                && r.transfer_method()
                    .is_none_or(|m| m == Ok(TransferMethod::Eip3009))
        })
        .ok_or_else(|| {
            ProtocolError::field(
                reason::UNSUPPORTED_SCHEME,
                "accepts",
                "no 'exact' EIP-3009 payment option is offered",
            )
        })
}

/// Signs an EIP-3009 payment for `requirements` (one entry of a `PaymentRequired`)
/// and returns the payload, with `accepted` echoing the server's JSON unchanged.
pub fn create_payment(
    required: &PaymentRequired,
    requirements: &Requirements,
    signer: &SecretKey,
    options: &CreateOptions,
) -> Result<PaymentPayload, ProtocolError> {
    if requirements.scheme != SCHEME {
        return Err(ProtocolError::field(
            reason::UNSUPPORTED_SCHEME,
            "scheme",
            format_args!(
                "this signer pays the 'exact' scheme, not {:?}",
                requirements.scheme
            ),
        ));
    }
    if requirements
        .transfer_method()
        .is_some_and(|m| m != Ok(TransferMethod::Eip3009))
    {
        return Err(ProtocolError::field(
            reason::INVALID_PAYMENT_REQUIREMENTS,
            "extra.assetTransferMethod",
            "only EIP-3009 transfers are signed here",
        ));
    }
    if requirements.pay_to.is_zero() {
        return Err(ProtocolError::field(
            reason::INVALID_PAYMENT_REQUIREMENTS,
            "payTo",
            "refusing to pay the zero address",
        ));
    }
    let domain = TokenDomain::from_requirements(requirements)?;
    let nonce = create::nonce(options)?;
    let authorization = Authorization {
        from: signer.address(),
        to: requirements.pay_to,
        value: requirements.amount,
        valid_after: U256::from_u64(options.now.saturating_sub(VALID_AFTER_BACKDATE)),
        valid_before: U256::from_u64(options.now.saturating_add(requirements.max_timeout_seconds)),
        nonce,
    };
    let signature = signer.sign_digest(&authorization_digest(&domain, &authorization));
    let payload_json = json!({
        "authorization": authorization.to_json(),
        "signature": hexutil::encode_0x(&signature.to_bytes()),
    });
    let payload = SchemePayload::Eip3009 {
        authorization,
        signature: signature.to_bytes().to_vec(),
    };
    if requirements.version != 1 {
        return Ok(create::v2_payment(
            required,
            requirements,
            payload_json,
            payload,
        ));
    }
    Ok(PaymentPayload {
        version: 1,
        scheme: requirements.scheme.clone(),
        network: requirements.network.clone(),
        accepted: None,
        raw: json!({
            "x402Version": 1,
            "scheme": requirements.scheme,
            "network": requirements.network,
            "payload": payload_json,
        }),
        payload,
        resource: required.resource.clone(),
        extensions: None,
    })
}

// ---------------------------------------------------------------------------
// Server / facilitator side.

/// Verifies an `exact` EIP-3009 payment against the requirements it claims to meet,
/// without chain access. Order and reasons follow the official facilitator; fastx402
/// adds: `accepted` must equal the requirements (addresses as bytes), zero addresses,
/// high-s and bad v are refused, `validBefore − now ≤ maxTimeoutSeconds + skew`, and
/// optionally the resource URL is bound.
pub fn verify_payment(
    payload: &PaymentPayload,
    requirements: &Requirements,
    options: &VerifyOptions,
) -> Verification {
    let SchemePayload::Eip3009 {
        authorization: auth,
        signature,
    } = &payload.payload
    else {
        return Verification::invalid(
            reason::INVALID_PAYLOAD,
            "payload must be {authorization, signature} for exact EIP-3009",
            None,
        );
    };
    // The payload is EIP-3009: its payer is `authorization.from`.
    let payer = payload.payer();
    let fail = |reason, message: String| Verification::invalid(reason, message, payer);

    if payload.version != requirements.version {
        return fail(
            reason::INVALID_X402_VERSION,
            format!(
                "payment is x402 v{}, requirements are v{}",
                payload.version, requirements.version
            ),
        );
    }
    if payload.scheme != SCHEME || requirements.scheme != SCHEME {
        return fail(
            reason::UNSUPPORTED_SCHEME,
            format!("scheme {:?} is not 'exact'", payload.scheme),
        );
    }
    if payload.network != requirements.network {
        return fail(
            reason::NETWORK_MISMATCH,
            format!(
                "payment is for {:?}, requirements are for {:?}",
                payload.network, requirements.network
            ),
        );
    }
    let domain = match TokenDomain::from_requirements(requirements) {
        Ok(d) => d,
        Err(e) => return fail(e.reason, e.message),
    };
    let strict = checks::accepted_matches(payload, requirements)
        .and_then(|()| checks::no_zero_addresses(&auth.from, "authorization.from", requirements));
    if let Err((reason, message)) = strict {
        return fail(reason, message);
    }
    if auth.to != requirements.pay_to {
        return fail(
            reason::RECIPIENT_MISMATCH,
            format!(
                "authorization.to is {}, payTo is {}",
                auth.to, requirements.pay_to
            ),
        );
    }
    if auth.value != requirements.amount {
        return fail(
            reason::VALUE_MISMATCH,
            format!(
                "authorization.value is {}, amount is {}",
                auth.value, requirements.amount
            ),
        );
    }
    let now = U256::from_u64(options.now);
    let min_before = U256::from_u64(options.now.saturating_add(MIN_VALIDITY_LEFT));
    if auth.valid_before < min_before {
        return fail(
            reason::VALID_BEFORE,
            format!(
                "validBefore {} leaves less than {MIN_VALIDITY_LEFT} s",
                auth.valid_before
            ),
        );
    }
    if now < auth.valid_after {
        return fail(
            reason::VALID_AFTER,
            format!("validAfter {} is in the future", auth.valid_after),
        );
    }
    let strict = checks::within_horizon(
        &auth.valid_before,
        "validBefore",
        requirements,
        options,
        reason::VALID_BEFORE,
    )
    .and_then(|()| checks::bound_to_resource(payload, requirements, options));
    if let Err((reason, message)) = strict {
        return fail(reason, message);
    }

    let digest = authorization_digest(&domain, auth);
    let replay_key = ReplayKey {
        chain_id: domain.chain_id,
        contract: requirements.asset,
        from: auth.from,
        nonce: auth.nonce,
    };
    let verdict = eoa_verdict(&digest, signature, &auth.from, reason::INVALID_SIGNATURE);
    Verification {
        verdict,
        payer,
        replay_key: Some(replay_key),
        digest: Some(digest),
    }
}

#[cfg(test)]
mod tests;
