//! Errors of the JSON-RPC client: at which point a request failed, and what
//! that means for a write (see the table in [`super`]).

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::abi::RevertReason;
use crate::text::bounded;

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// Why the node refused a transaction (`eth_sendRawTransaction`), from its
/// error message. In every case this node did not accept *this submission*.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TxRejection {
    /// The sender's nonce is past this one: the nonce is used on chain, by
    /// this very transaction (sent before: look up its receipt by hash) or by
    /// another one. Never hand the nonce out again; resync.
    NonceTooLow,
    /// The node refuses nonces this far ahead (a lower nonce is missing).
    NonceTooHigh,
    /// Another transaction with this nonce is pending and this one does not
    /// pay enough more to replace it: the nonce is taken.
    ReplacementUnderpriced,
    /// The sender cannot pay `gas_limit × max_fee + value`.
    InsufficientFunds,
    /// Max fee below the base fee, or tip below the node's minimum.
    Underpriced,
    /// Gas limit below the intrinsic gas or above the block gas limit.
    GasLimit,
    /// Over the node's own transaction-fee cap (geth `--rpc.txfeecap`).
    FeeCapExceeded,
    /// The node's pool is full.
    PoolFull,
    /// Wrong chain id, unsupported type, invalid signature or sender.
    Invalid,
    /// The request itself was refused (method not found, invalid params).
    BadRequest,
}

impl TxRejection {
    pub fn code(&self) -> &'static str {
        match self {
            TxRejection::NonceTooLow => "nonce_too_low",
            TxRejection::NonceTooHigh => "nonce_too_high",
            TxRejection::ReplacementUnderpriced => "replacement_underpriced",
            TxRejection::InsufficientFunds => "insufficient_funds",
            TxRejection::Underpriced => "underpriced",
            TxRejection::GasLimit => "gas_limit",
            TxRejection::FeeCapExceeded => "fee_cap_exceeded",
            TxRejection::PoolFull => "pool_full",
            TxRejection::Invalid => "invalid",
            TxRejection::BadRequest => "bad_request",
        }
    }
}

/// What an error means for a write that was attempted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The request did not reach the node (or was refused before processing):
    /// the transaction was not broadcast by this request.
    NotSent,
    /// The node answered and refused the transaction.
    Rejected(TxRejection),
    /// It may have been broadcast: never reuse its nonce for other bytes;
    /// reconcile by looking up the receipt and/or resending the same bytes.
    Unknown,
}

/// What went wrong after the request had (maybe) been written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unanswered {
    /// No complete answer within the timeout.
    Timeout(Duration),
    /// The connection broke after the request may have been written.
    ConnectionLost(String),
}

impl fmt::Display for Unanswered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unanswered::Timeout(d) => write!(f, "no answer within {} ms", d.as_millis()),
            Unanswered::ConnectionLost(e) => write!(f, "connection lost: {}", bounded(e)),
        }
    }
}

/// An RPC failure. See the module docs for what each variant means for writes.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RpcError {
    /// The URL or configuration is not usable (nothing was sent).
    #[error("invalid RPC configuration: {0}")]
    Config(String),
    /// The request never left: connection refused, DNS or TLS failure,
    /// connect timeout, or a connection hyper proved unused.
    #[error("{method}: request not sent ({})", bounded(.detail))]
    NotSent { method: String, detail: String },
    /// Timeout or connection lost after the request may have been written.
    #[error("{method}: outcome unknown, {cause}")]
    OutcomeUnknown { method: String, cause: Unanswered },
    /// A non-2xx HTTP status without a JSON-RPC answer (redirects are not followed).
    #[error("{method}: HTTP status {status}")]
    Http { method: String, status: u16 },
    /// A JSON-RPC error object (`data` boxed to keep the error small).
    #[error("{method}: JSON-RPC error {code}: {}", bounded(.message))]
    Rpc {
        method: String,
        code: i64,
        message: String,
        data: Option<Box<Value>>,
    },
    /// The node refused the transaction (`eth_sendRawTransaction`).
    #[error("transaction {hash} rejected ({}): {}", .rejection.code(), bounded(.message))]
    Rejected {
        hash: String,
        rejection: TxRejection,
        code: i64,
        message: String,
    },
    /// `eth_call` or `eth_estimateGas` reverted; `data` is the raw revert data.
    #[error("{method}: {reason}")]
    Reverted {
        method: String,
        reason: RevertReason,
        data: Vec<u8>,
    },
    /// The answer is not a valid JSON-RPC response (or too large).
    #[error("{method}: malformed answer: {}", bounded(.detail))]
    Malformed { method: String, detail: String },
}

impl RpcError {
    /// A stable snake_case name for the failure.
    pub fn code(&self) -> &'static str {
        match self {
            RpcError::Config(_) => "config",
            RpcError::NotSent { .. } => "not_sent",
            RpcError::OutcomeUnknown {
                cause: Unanswered::Timeout(_),
                ..
            } => "timeout",
            RpcError::OutcomeUnknown { .. } => "connection_lost",
            RpcError::Http { .. } => "http",
            RpcError::Rpc { .. } => "rpc",
            RpcError::Rejected { .. } => "rejected",
            RpcError::Reverted { .. } => "reverted",
            RpcError::Malformed { .. } => "malformed",
        }
    }

    /// For a write, whether the transaction may have reached the network.
    /// Conservative: anything not proven otherwise is [`WriteOutcome::Unknown`]
    /// (including a garbage answer and an unclassified JSON-RPC error).
    pub fn write_outcome(&self) -> WriteOutcome {
        match self {
            RpcError::Config(_) | RpcError::NotSent { .. } => WriteOutcome::NotSent,
            RpcError::Http { status, .. } if (300..500).contains(status) && *status != 408 => {
                WriteOutcome::NotSent
            }
            RpcError::Rejected { rejection, .. } => WriteOutcome::Rejected(*rejection),
            RpcError::OutcomeUnknown { .. }
            | RpcError::Http { .. }
            | RpcError::Rpc { .. }
            | RpcError::Reverted { .. }
            | RpcError::Malformed { .. } => WriteOutcome::Unknown,
        }
    }

    /// A timeout (the attempt, or the whole read budget, ran out).
    pub fn is_timeout(&self) -> bool {
        matches!(
            self,
            RpcError::OutcomeUnknown {
                cause: Unanswered::Timeout(_),
                ..
            }
        )
    }

    /// Whether a read that failed this way may succeed when asked again.
    pub(super) fn is_transient(&self) -> bool {
        match self {
            RpcError::NotSent { .. } | RpcError::OutcomeUnknown { .. } => true,
            RpcError::Http { status, .. } => matches!(status, 408 | 429 | 500 | 502 | 503 | 504),
            // -32005: "limit exceeded" (rate limiting, EIP-1474).
            RpcError::Rpc { code, .. } => *code == -32005,
            _ => false,
        }
    }

    /// The JSON-RPC method that failed.
    pub fn method(&self) -> &str {
        match self {
            RpcError::Config(_) => "",
            RpcError::Rejected { .. } => "eth_sendRawTransaction",
            RpcError::NotSent { method, .. }
            | RpcError::OutcomeUnknown { method, .. }
            | RpcError::Http { method, .. }
            | RpcError::Rpc { method, .. }
            | RpcError::Reverted { method, .. }
            | RpcError::Malformed { method, .. } => method,
        }
    }
}

pub(super) fn malformed(method: &str, detail: impl fmt::Display) -> RpcError {
    RpcError::Malformed {
        method: method.to_owned(),
        detail: detail.to_string(),
    }
}
