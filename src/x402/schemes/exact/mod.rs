//! The `exact` scheme: the payer authorizes exactly `amount`. Two asset transfer
//! methods (`extra.assetTransferMethod`, [`crate::x402::networks::TransferMethod`]):
//! EIP-3009 `transferWithAuthorization` (absent or `eip3009`) and Permit2 (`permit2`).

pub mod eip3009;
pub mod permit2;

/// The scheme's wire name.
pub const SCHEME: &str = super::EXACT;
