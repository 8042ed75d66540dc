//! An async Ethereum JSON-RPC client (HTTP/1.1 on tokio, hyper + rustls).
//!
//! - **Transport**: keep-alive connection pool, connect timeout, a per-attempt
//!   request timeout (write the request, read the whole answer), a response
//!   size cap, no redirects (a 3xx is an error), no proxies from the
//!   environment, TLS via rustls (ring, Mozilla roots) for `https://` URLs.
//! - **Strict answers**: JSON parsed with [`crate::json::parse_strict`]
//!   (duplicate keys refused), the envelope checked (`jsonrpc` "2.0", our `id`,
//!   exactly one of `result` / `error`), quantities as the execution-API
//!   grammar says (`0x0` or `0x` + lowercase hex without leading zeros), data
//!   and hashes as lowercase hex of the right length.
//! - **Retries**: reads only, bounded by [`RpcConfig::read_retries`] *and* by
//!   [`RpcConfig::read_budget`] (the whole read, retries and back-off
//!   included, never runs longer). [`RpcClient::send_raw_transaction`] is sent
//!   exactly once.
//!
//! # Errors and outcome-unknown
//!
//! [`RpcError`] says at which point a request failed, because for a write
//! that decides whether the transaction may have reached the network:
//!
//! | variant | meaning | a write… ([`RpcError::write_outcome`]) |
//! |---|---|---|
//! | [`RpcError::NotSent`] | refused, DNS, TLS, connect timeout, or hyper proved the request was never written | was not sent |
//! | [`RpcError::OutcomeUnknown`] | timeout or connection lost after the request may have been written | **may have been broadcast** |
//! | [`RpcError::Http`] | a non-2xx answer without a JSON-RPC body | 3xx/4xx (not 408): not processed; 408/5xx: unknown |
//! | [`RpcError::Rpc`] | a JSON-RPC error object | unknown, unless classified as [`RpcError::Rejected`] |
//! | [`RpcError::Rejected`] | the node refused the transaction (nonce too low, underpriced…) | not accepted by that node |
//! | [`RpcError::Reverted`] | `eth_call` / `eth_estimateGas` reverted | — (reads only) |
//! | [`RpcError::Malformed`] | an answer that is not a valid JSON-RPC response | **unknown** |
//!
//! A node answering "already known" for `eth_sendRawTransaction` is a success
//! ([`Sent::already_known`]): the transaction hash is the keccak of the raw
//! bytes, so the node holds exactly these bytes. That is also why resending
//! the *same* raw bytes is the one safe way to reconcile an unknown outcome,
//! and signing *different* bytes with the same nonce is never done blindly
//! (see [`super::nonce`]).
//!
//! The node's words (JSON-RPC error messages, odd answers, revert strings) are
//! kept whole in the variants' fields, for classification, but an error's
//! `Display` shows them bounded ([`crate::text::bounded`]): a hostile node or
//! contract cannot make an error message long or put control characters in it.

mod classify;
mod client;
mod error;
mod grammar;
mod wire;

#[cfg(test)]
mod tests;

pub use classify::classify_rejection;
pub use client::{median_tip, RpcClient, RpcConfig};
pub use error::{RpcError, TxRejection, Unanswered, WriteOutcome};
pub use grammar::{
    parse_address, parse_data, parse_hash, parse_quantity_u256, parse_quantity_u64, quantity,
    quantity_u256,
};
pub use wire::{Block, BlockTag, CallRequest, FeeHistory, Log, Receipt, Sent};
