//! EIP-1559 (type 2) transactions: canonical encoding, signing with the core
//! signer, and a strict decoder. Sans-I/O.
//!
//! ```text
//! signing payload  0x02 ‖ rlp([chainId, nonce, maxPriorityFeePerGas, maxFeePerGas,
//!                              gasLimit, to, value, data, accessList])
//! raw transaction  0x02 ‖ rlp([… the 9 fields …, yParity, r, s])
//! signing hash     keccak256(signing payload)
//! transaction hash keccak256(raw transaction)
//! ```
//!
//! [`SignedTx::decode`] accepts exactly the bytes [`SignedTx::raw`] would
//! produce: type 2 only, canonical RLP (see [`super::rlp`]) with no trailing
//! bytes, exactly 12 fields, integers without leading zeros and within their
//! widths (`chainId`, `nonce`, `gasLimit`: 64 bits; fees, value, r, s: 256 bits),
//! `to` empty or 20 bytes, access-list addresses of 20 bytes and storage keys
//! of 32, `yParity` 0 or 1, r and s in [1, n) with s ≤ n/2 (EIP-2), and the
//! transaction rules of [`Eip1559Tx::validate`].

use super::rlp::{self, Item, RlpError};
use crate::crypto::address::Address;
use crate::crypto::ecdsa::{self, Policy, SecretKey, Signature, SignatureError};
use crate::crypto::hexutil;
use crate::crypto::keccak::keccak256;
use crate::num::U256;

/// The EIP-2718 type byte of EIP-1559 transactions.
pub const EIP1559_TX_TYPE: u8 = 0x02;

/// EIP-2930 access list: addresses and the storage keys the transaction touches.
pub type AccessList = Vec<(Address, Vec<[u8; 32]>)>;

/// An unsigned EIP-1559 transaction.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Eip1559Tx {
    pub chain_id: u64,
    pub nonce: u64,
    pub max_priority_fee_per_gas: U256,
    pub max_fee_per_gas: U256,
    pub gas_limit: u64,
    /// `None` creates a contract whose init code is `data`.
    pub to: Option<Address>,
    pub value: U256,
    pub data: Vec<u8>,
    pub access_list: AccessList,
}

/// Why a transaction was refused (when built, signed or decoded).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    #[error("transaction bytes are empty")]
    Empty,
    #[error("transaction type {0:#04x} is not supported (only EIP-1559, type 0x02)")]
    UnsupportedType(u8),
    #[error("transaction RLP: {0}")]
    Rlp(RlpError),
    #[error("transaction payload is an RLP string, not a list")]
    NotAList,
    #[error("EIP-1559 transaction must have {expected} fields, got {got}")]
    FieldCount { expected: usize, got: usize },
    #[error("transaction field {field}: {source}")]
    Field {
        field: &'static str,
        source: RlpError,
    },
    #[error("gas limit must be greater than 0")]
    GasLimitZero,
    #[error("max priority fee per gas ({priority}) exceeds max fee per gas ({max})")]
    PriorityFeeAboveMaxFee { priority: U256, max: U256 },
    #[error("nonce 2^64-1 is not allowed (EIP-2681)")]
    NonceOverflow,
    #[error("transaction signature: {0}")]
    Signature(SignatureError),
    #[error("transaction bytes are not in canonical encoding")]
    NonCanonical,
}

impl TxError {
    /// A stable snake_case name for the failure.
    pub fn code(&self) -> &'static str {
        match self {
            TxError::Empty => "empty",
            TxError::UnsupportedType(_) => "unsupported_type",
            TxError::Rlp(_) => "rlp",
            TxError::NotAList => "not_a_list",
            TxError::FieldCount { .. } => "field_count",
            TxError::Field { .. } => "field",
            TxError::GasLimitZero => "gas_limit_zero",
            TxError::PriorityFeeAboveMaxFee { .. } => "priority_fee_above_max_fee",
            TxError::NonceOverflow => "nonce_overflow",
            TxError::Signature(_) => "signature",
            TxError::NonCanonical => "non_canonical",
        }
    }
}

/// Attaches a field name to an RLP accessor error.
fn field<T>(name: &'static str, r: Result<T, RlpError>) -> Result<T, TxError> {
    r.map_err(|source| TxError::Field {
        field: name,
        source,
    })
}

const UNSIGNED_FIELDS: usize = 9;
const SIGNED_FIELDS: usize = 12;

impl Eip1559Tx {
    /// The rules every transaction must meet: `max_priority_fee_per_gas ≤
    /// max_fee_per_gas`, `gas_limit > 0` and `nonce < 2^64 − 1` (EIP-2681).
    pub fn validate(&self) -> Result<(), TxError> {
        if self.gas_limit == 0 {
            return Err(TxError::GasLimitZero);
        }
        if self.max_priority_fee_per_gas > self.max_fee_per_gas {
            return Err(TxError::PriorityFeeAboveMaxFee {
                priority: self.max_priority_fee_per_gas,
                max: self.max_fee_per_gas,
            });
        }
        if self.nonce == u64::MAX {
            return Err(TxError::NonceOverflow);
        }
        Ok(())
    }

    /// Appends the 9 unsigned fields (the payload of the RLP list, no header).
    fn encode_fields(&self, out: &mut Vec<u8>) {
        rlp::encode_u64(out, self.chain_id);
        rlp::encode_u64(out, self.nonce);
        rlp::encode_u256(out, &self.max_priority_fee_per_gas);
        rlp::encode_u256(out, &self.max_fee_per_gas);
        rlp::encode_u64(out, self.gas_limit);
        match &self.to {
            Some(to) => rlp::encode_bytes(out, &to.0),
            None => rlp::encode_bytes(out, &[]),
        }
        rlp::encode_u256(out, &self.value);
        rlp::encode_bytes(out, &self.data);
        rlp::encode_list(out, |out| {
            for (address, keys) in &self.access_list {
                rlp::encode_list(out, |out| {
                    rlp::encode_bytes(out, &address.0);
                    rlp::encode_list(out, |out| {
                        for key in keys {
                            rlp::encode_bytes(out, key);
                        }
                    });
                });
            }
        });
    }

    /// `0x02 ‖ rlp([chainId, …, accessList])`: the bytes whose keccak is signed.
    pub fn signing_payload(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.data.len());
        out.push(EIP1559_TX_TYPE);
        rlp::encode_list(&mut out, |out| self.encode_fields(out));
        out
    }

    /// keccak256 of [`Eip1559Tx::signing_payload`].
    pub fn signing_hash(&self) -> [u8; 32] {
        keccak256(&self.signing_payload())
    }

    /// Validates the transaction and signs it with `key` (RFC 6979, low s).
    pub fn sign(&self, key: &SecretKey) -> Result<SignedTx, TxError> {
        self.validate()?;
        let signing_hash = self.signing_hash();
        let signature = key.sign_digest(&signing_hash);
        SignedTx::build(self.clone(), signature, signing_hash)
    }

    /// Attaches a signature made elsewhere (e.g. by a remote signer over
    /// [`Eip1559Tx::signing_hash`]). The transaction is validated and the
    /// signature range-checked (low s), but not matched against any address:
    /// see [`SignedTx::recover_sender`].
    pub fn into_signed(self, signature: Signature) -> Result<SignedTx, TxError> {
        self.validate()?;
        let signing_hash = self.signing_hash();
        SignedTx::build(self, signature, signing_hash)
    }

    /// The 9 unsigned fields from a decoded list.
    fn from_fields(fields: &[Item<'_>]) -> Result<Self, TxError> {
        let to = field("to", fields[5].as_bytes())?;
        let to = match to.len() {
            0 => None,
            _ => Some(field("to", fields[5].as_address())?),
        };
        let mut access_list = Vec::new();
        for entry in field("access_list", fields[8].as_list())? {
            let pair = field("access_list", entry.as_list_of(2))?;
            let address = field("access_list.address", pair[0].as_address())?;
            let keys = field("access_list.storage_keys", pair[1].as_list())?
                .iter()
                .map(|k| field("access_list.storage_keys", k.as_fixed::<32>()))
                .collect::<Result<Vec<_>, _>>()?;
            access_list.push((address, keys));
        }
        Ok(Eip1559Tx {
            chain_id: field("chain_id", fields[0].as_u64())?,
            nonce: field("nonce", fields[1].as_u64())?,
            max_priority_fee_per_gas: field("max_priority_fee_per_gas", fields[2].as_u256())?,
            max_fee_per_gas: field("max_fee_per_gas", fields[3].as_u256())?,
            gas_limit: field("gas_limit", fields[4].as_u64())?,
            to,
            value: field("value", fields[6].as_u256())?,
            data: field("data", fields[7].as_bytes())?.to_vec(),
            access_list,
        })
    }
}

/// A signed EIP-1559 transaction with its raw bytes and hashes, consistent by
/// construction (the fields are read-only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedTx {
    tx: Eip1559Tx,
    signature: Signature,
    signing_hash: [u8; 32],
    raw: Vec<u8>,
    hash: [u8; 32],
}

impl SignedTx {
    fn build(tx: Eip1559Tx, signature: Signature, signing_hash: [u8; 32]) -> Result<Self, TxError> {
        signature
            .check(Policy::default())
            .map_err(TxError::Signature)?;
        let mut raw = Vec::with_capacity(64 + 70 + tx.data.len());
        raw.push(EIP1559_TX_TYPE);
        rlp::encode_list(&mut raw, |out| {
            tx.encode_fields(out);
            rlp::encode_u64(out, u64::from(signature.y_parity));
            rlp::encode_uint(out, &signature.r);
            rlp::encode_uint(out, &signature.s);
        });
        let hash = keccak256(&raw);
        Ok(SignedTx {
            tx,
            signature,
            signing_hash,
            raw,
            hash,
        })
    }

    /// Strictly decodes a raw type-2 transaction (see the module docs).
    pub fn decode(raw: &[u8]) -> Result<Self, TxError> {
        let (&ty, payload) = raw.split_first().ok_or(TxError::Empty)?;
        if ty != EIP1559_TX_TYPE {
            return Err(TxError::UnsupportedType(ty));
        }
        let item = rlp::decode(payload).map_err(TxError::Rlp)?;
        let Item::List(fields) = &item else {
            return Err(TxError::NotAList);
        };
        if fields.len() != SIGNED_FIELDS {
            return Err(TxError::FieldCount {
                expected: SIGNED_FIELDS,
                got: fields.len(),
            });
        }
        let tx = Eip1559Tx::from_fields(&fields[..UNSIGNED_FIELDS])?;
        let signature = Signature {
            y_parity: field("y_parity", fields[9].as_bool())?,
            r: field("r", fields[10].as_u256())?.to_be_bytes(),
            s: field("s", fields[11].as_u256())?.to_be_bytes(),
        };
        tx.validate()?;
        let signing_hash = tx.signing_hash();
        let signed = SignedTx::build(tx, signature, signing_hash)?;
        // Strict decoding makes this hold; checked so that raw() is always what we parsed.
        if signed.raw != raw {
            return Err(TxError::NonCanonical);
        }
        Ok(signed)
    }

    /// The transaction fields.
    pub fn tx(&self) -> &Eip1559Tx {
        &self.tx
    }

    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// `0x02 ‖ rlp([…, yParity, r, s])`, ready for `eth_sendRawTransaction`.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    pub fn into_raw(self) -> Vec<u8> {
        self.raw
    }

    /// [`SignedTx::raw`] as `0x`-prefixed lowercase hex.
    pub fn raw_hex(&self) -> String {
        hexutil::encode_0x(&self.raw)
    }

    /// The transaction hash: keccak256 of the raw bytes.
    pub fn hash(&self) -> [u8; 32] {
        self.hash
    }

    /// [`SignedTx::hash`] as `0x`-prefixed lowercase hex (what RPCs and
    /// `SettleResponse.transaction` use).
    pub fn hash_hex(&self) -> String {
        hexutil::encode_0x(&self.hash)
    }

    /// The hash that was signed.
    pub fn signing_hash(&self) -> [u8; 32] {
        self.signing_hash
    }

    /// The address whose key made the signature (low s enforced).
    pub fn recover_sender(&self) -> Result<Address, SignatureError> {
        ecdsa::recover_address(
            &self.signing_hash,
            &self.signature.to_bytes(),
            Policy::default(),
        )
    }
}

#[cfg(test)]
mod tests;
