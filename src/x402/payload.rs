//! The scheme-specific `payload` of a payment, typed: EIP-3009 `{authorization,
//! signature}` and Permit2 `{permit2Authorization, signature}` (`exact` or `upto`).
//! Parsed once when a payment is decoded; the schemes (`super::schemes`) verify them.

use std::borrow::Cow;

use serde_json::{json, Value};

use super::error::ProtocolError;
use super::fields::Obj;
use super::reason;
use crate::crypto::address::Address;
use crate::crypto::hexutil;
use crate::num::U256;

/// Largest signature accepted in a payload (ERC-6492 wrappers carry deploy data).
pub const MAX_SIGNATURE_BYTES: usize = 4096;

/// The EIP-3009 `TransferWithAuthorization` fields a payer signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub from: Address,
    pub to: Address,
    pub value: U256,
    pub valid_after: U256,
    pub valid_before: U256,
    pub nonce: [u8; 32],
}

impl Authorization {
    pub fn parse(obj: &Obj) -> Result<Self, ProtocolError> {
        obj.only(&["from", "to", "value", "validAfter", "validBefore", "nonce"])?;
        Ok(Authorization {
            from: obj.address("from")?,
            to: obj.address("to")?,
            value: obj.uint("value")?,
            valid_after: obj.uint("validAfter")?,
            valid_before: obj.uint("validBefore")?,
            nonce: obj.bytes32("nonce")?,
        })
    }

    pub fn to_json(&self) -> Value {
        json!({
            "from": self.from.to_checksum(),
            "to": self.to.to_checksum(),
            "value": self.value.to_string(),
            "validAfter": self.valid_after.to_string(),
            "validBefore": self.valid_before.to_string(),
            "nonce": crate::crypto::hexutil::encode_0x(&self.nonce),
        })
    }
}

/// The scheme-specific `payload` of a payment, parsed once when the payment is decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum SchemePayload {
    /// `exact` with EIP-3009: `{authorization, signature}`.
    Eip3009 {
        authorization: Authorization,
        signature: Vec<u8>,
    },
    /// `exact` with Permit2: `{permit2Authorization, signature}`, witness `{to, validAfter}`.
    Permit2(Permit2Payload),
    /// `upto` (always Permit2): witness `{to, facilitator, validAfter}`.
    Upto(Permit2Payload),
    /// Anything else: other schemes, and a `permit2Authorization` payload that breaks
    /// the Permit2 grammar (kept as JSON so that its verifier can say which field).
    Other(Value),
}

impl SchemePayload {
    pub(crate) fn parse(obj: &Obj) -> Result<Self, ProtocolError> {
        if obj.get("authorization").is_some() {
            obj.only(&["authorization", "signature"])?;
            return Ok(SchemePayload::Eip3009 {
                authorization: Authorization::parse(&obj.object("authorization")?)?,
                signature: obj.hex_bytes("signature", MAX_SIGNATURE_BYTES)?,
            });
        }
        if obj.get("permit2Authorization").is_some() {
            if let Ok(p) = Permit2Payload::parse(obj) {
                return Ok(SchemePayload::from_permit2(p));
            }
        }
        Ok(SchemePayload::Other(Value::Object(obj.map.clone())))
    }

    /// `Upto` when the witness names a facilitator, else `Permit2`.
    pub fn from_permit2(payload: Permit2Payload) -> Self {
        match payload.authorization.kind() {
            Permit2Kind::Exact => SchemePayload::Permit2(payload),
            Permit2Kind::Upto => SchemePayload::Upto(payload),
        }
    }

    /// The Permit2 payload of a Permit2 (`exact` or `upto`) payment.
    pub fn permit2(&self) -> Option<&Permit2Payload> {
        match self {
            SchemePayload::Permit2(p) | SchemePayload::Upto(p) => Some(p),
            _ => None,
        }
    }

    /// The payer: EIP-3009 `authorization.from`, Permit2 `permit2Authorization.from`.
    pub fn payer(&self) -> Option<Address> {
        match self {
            SchemePayload::Eip3009 { authorization, .. } => Some(authorization.from),
            SchemePayload::Permit2(p) | SchemePayload::Upto(p) => Some(p.authorization.from),
            SchemePayload::Other(_) => None,
        }
    }
}
/// Which Permit2 payment: `exact` (witness `to, validAfter`) or `upto` (witness
/// `to, facilitator, validAfter`). Defined here, beside the payload it tells apart;
/// what it means for requirements (`Permit2Kind::of`, the proxy, the typehash, the
/// reasons) is implemented in [`super::permit2`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permit2Kind {
    Exact,
    Upto,
}

/// `permitted`: which token and how much (for `upto`, the maximum).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenPermissions {
    pub token: Address,
    pub amount: U256,
}

/// The x402 witness: where the proxy may send the funds, and from when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Witness {
    pub to: Address,
    /// `upto` only: the one facilitator allowed to settle.
    pub facilitator: Option<Address>,
    pub valid_after: U256,
}

/// The `PermitWitnessTransferFrom` fields a payer signs, plus `from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permit2Authorization {
    pub from: Address,
    pub permitted: TokenPermissions,
    pub spender: Address,
    /// A Permit2 unordered nonce (word `nonce >> 8`, bit `nonce & 0xff` of the owner's
    /// bitmap in the Permit2 contract).
    pub nonce: U256,
    pub deadline: U256,
    pub witness: Witness,
}

impl Permit2Authorization {
    /// Strict: exactly the official keys (`witness.facilitator` optional here; the
    /// verifier requires it for `upto` and refuses it for `exact`).
    pub fn parse(obj: &Obj) -> Result<Self, ProtocolError> {
        obj.only(&[
            "from",
            "permitted",
            "spender",
            "nonce",
            "deadline",
            "witness",
        ])?;
        let permitted = obj.object("permitted")?;
        permitted.only(&["token", "amount"])?;
        let witness = obj.object("witness")?;
        witness.only(&["to", "facilitator", "validAfter"])?;
        let facilitator = match witness.get("facilitator") {
            None => None,
            Some(_) => Some(witness.address("facilitator")?),
        };
        Ok(Permit2Authorization {
            from: obj.address("from")?,
            permitted: TokenPermissions {
                token: permitted.address("token")?,
                amount: permitted.uint("amount")?,
            },
            spender: obj.address("spender")?,
            nonce: obj.uint("nonce")?,
            deadline: obj.uint("deadline")?,
            witness: Witness {
                to: witness.address("to")?,
                facilitator,
                valid_after: witness.uint("validAfter")?,
            },
        })
    }

    /// `upto` when the witness names a facilitator (the SDK's `is_upto_permit2_payload`).
    pub fn kind(&self) -> Permit2Kind {
        if self.witness.facilitator.is_some() {
            Permit2Kind::Upto
        } else {
            Permit2Kind::Exact
        }
    }

    /// The wire JSON, in the official SDK's key order.
    pub fn to_json(&self) -> Value {
        let mut witness = json!({"to": self.witness.to.to_checksum()});
        if let Some(f) = &self.witness.facilitator {
            witness["facilitator"] = json!(f.to_checksum());
        }
        witness["validAfter"] = json!(self.witness.valid_after.to_string());
        json!({
            "from": self.from.to_checksum(),
            "permitted": {
                "token": self.permitted.token.to_checksum(),
                "amount": self.permitted.amount.to_string(),
            },
            "spender": self.spender.to_checksum(),
            "nonce": self.nonce.to_string(),
            "deadline": self.deadline.to_string(),
            "witness": witness,
        })
    }

    /// The EIP-712 message (`message` of the typed data): uint256 values as decimal strings.
    pub fn message_json(&self) -> Value {
        let mut v = self.to_json();
        v.as_object_mut().expect("object").shift_remove("from");
        v
    }
}

/// A Permit2 payment's `payload`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permit2Payload {
    pub authorization: Permit2Authorization,
    pub signature: Vec<u8>,
}

impl Permit2Payload {
    pub fn parse(obj: &Obj) -> Result<Self, ProtocolError> {
        obj.only(&["permit2Authorization", "signature"])?;
        Ok(Permit2Payload {
            authorization: Permit2Authorization::parse(&obj.object("permit2Authorization")?)?,
            signature: obj.hex_bytes("signature", MAX_SIGNATURE_BYTES)?,
        })
    }

    /// Parses the `payload` member of a payment; errors carry `invalid_payload` and
    /// a path such as `payload.permit2Authorization.witness.to`.
    pub fn from_json(value: &Value) -> Result<Self, ProtocolError> {
        Self::parse(&Obj::new(value, "payload", reason::INVALID_PAYLOAD)?)
    }

    /// The Permit2 payload of a decoded payment's `payload`: the typed one, or for a
    /// `permit2Authorization` payload that broke the grammar, the error saying where.
    pub fn from_payload(payload: &SchemePayload) -> Result<Cow<'_, Self>, ProtocolError> {
        match payload {
            SchemePayload::Permit2(p) | SchemePayload::Upto(p) => Ok(Cow::Borrowed(p)),
            SchemePayload::Other(value) => Self::from_json(value).map(Cow::Owned),
            SchemePayload::Eip3009 { .. } => Err(ProtocolError::field(
                reason::INVALID_PAYLOAD,
                "payload",
                "an EIP-3009 {authorization, signature} payload, not {permit2Authorization, signature}",
            )),
        }
    }

    /// `{permit2Authorization, signature}`, the official key order.
    pub fn to_json(&self) -> Value {
        json!({
            "permit2Authorization": self.authorization.to_json(),
            "signature": hexutil::encode_0x(&self.signature),
        })
    }
}
