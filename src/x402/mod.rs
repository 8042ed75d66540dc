//! The x402 message layer: wire types (v1, v2), the header codec, networks and
//! assets, money, and the `exact` (EIP-3009, Permit2) and `upto` schemes. Sans-I/O:
//! every check takes `now` as an argument.

pub mod money;
pub mod networks;
pub mod smart_wallet;
pub mod codec;
pub mod error;
pub mod reason;
pub mod fields;
pub mod types;
pub mod exact;
pub mod permit2;
