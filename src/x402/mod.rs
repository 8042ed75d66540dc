//! The x402 message layer: wire types (v1, v2), the header codec, networks and
//! assets, money, and the `exact` (EIP-3009, Permit2) and `upto` schemes. Sans-I/O:
//! every check takes `now` as an argument.

pub mod checks;
pub mod codec;
pub mod create;
pub mod error;
pub mod extensions;
pub mod fields;
pub mod money;
pub mod networks;
pub mod payload;
pub mod payment;
pub mod permit2;
pub mod reason;
pub mod receipt;
pub mod schemes;
pub mod smart_wallet;
pub mod types;
pub mod verify;
