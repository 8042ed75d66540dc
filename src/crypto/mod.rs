//! Ethereum cryptography: hashing, addresses, ECDSA and typed-data signing.

pub mod address;
pub mod ecdsa;
pub mod eip191;
pub mod eip712;
pub mod hexutil;
pub mod keccak;
