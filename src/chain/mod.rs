//! The EVM chain layer. Pure functions of bytes: RLP ([`rlp`]), EIP-1559
//! transactions signed by the core signer ([`tx`]), the token's call data,
//! return data and logs ([`calls`]) and the fee computation ([`fees`]). Network
//! I/O, async on tokio: the JSON-RPC client ([`rpc`]), the per-sender nonce
//! manager that reads the starting nonce through it ([`nonce`]) and the fee
//! estimate from the node ([`fees::FeePolicy::estimate`]). The settlement
//! engine ([`crate::facilitator`]) builds on these.

pub mod calls;
pub mod fees;
pub mod nonce;
pub mod rlp;
pub mod rpc;
pub mod tx;

pub use tx::{AccessList, Eip1559Tx, SignedTx, TxError, EIP1559_TX_TYPE};

/// `tests/vectors/eip1559.json` (generator: `tests/vectors/gen/make_eip1559_vectors.py`).
#[cfg(test)]
pub(crate) mod test_vectors {
    use std::sync::OnceLock;

    use serde_json::Value;

    pub fn vectors() -> &'static Value {
        static VECTORS: OnceLock<Value> = OnceLock::new();
        VECTORS.get_or_init(|| {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/eip1559.json");
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
        })
    }

    /// `0x`-prefixed hex from a vector.
    pub fn hex(s: &str) -> Vec<u8> {
        crate::crypto::hexutil::decode_0x(s).unwrap()
    }
}
