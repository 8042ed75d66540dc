//! What a node's words mean: a rejected transaction (nonce too low,
//! underpriced, already known), revert data, an unsupported method.

use serde_json::Value;

use super::error::TxRejection;
use super::grammar::parse_data;

// ---------------------------------------------------------------------------
// Error classification
// ---------------------------------------------------------------------------

/// Whether a node's error message for `eth_sendRawTransaction` says it
/// already holds this very transaction.
pub(super) fn is_already_known(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "already known",       // geth, erigon, reth
        "alreadyknown",        // nethermind
        "known transaction",   // besu, older geth
        "already imported",    // parity / openethereum, anvil
        "already in the pool", // some L2 sequencers
    ]
    .iter()
    .any(|p| m.contains(p))
}

/// Classifies a node's refusal of `eth_sendRawTransaction`; `None` when the
/// message is not recognised (the outcome is then unknown).
pub fn classify_rejection(code: i64, message: &str) -> Option<TxRejection> {
    use TxRejection as R;
    let m = message.to_ascii_lowercase();
    let has = |pats: &[&str]| pats.iter().any(|p| m.contains(p));
    // Order matters: "replacement transaction underpriced" also contains "underpriced".
    let rejection = if has(&["nonce too low", "oldnonce", "nonce is too low"]) {
        R::NonceTooLow
    } else if has(&["nonce too high", "nonce gap", "noncegap"]) {
        R::NonceTooHigh
    } else if has(&[
        "replacement transaction underpriced",
        "replacement underpriced",
    ]) {
        R::ReplacementUnderpriced
    } else if has(&["insufficient funds", "insufficient balance"]) {
        R::InsufficientFunds
    } else if has(&[
        "exceeds the configured cap",
        "exceeds the configured fee cap",
    ]) {
        R::FeeCapExceeded
    } else if has(&[
        "underpriced",
        "less than block base fee",
        "fee cap less than",
        "feetoolow",
        "max fee per gas less than",
        "gas price too low",
    ]) {
        R::Underpriced
    } else if has(&[
        "intrinsic gas too low",
        "exceeds block gas limit",
        "gas limit too high",
        "gas limit reached",
    ]) {
        R::GasLimit
    } else if has(&["txpool is full", "pool is full", "queue full"]) {
        R::PoolFull
    } else if has(&[
        "invalid sender",
        "invalid chain id",
        "chain id mismatch",
        "incorrect chain id",
        "transaction type not supported",
        "tx type not supported",
        "invalid signature",
        "rlp: ",
        "failed to decode",
    ]) {
        R::Invalid
    } else if matches!(code, -32700 | -32600 | -32601 | -32602) {
        R::BadRequest
    } else {
        return None;
    };
    Some(rejection)
}

/// The revert data of an `eth_call` / `eth_estimateGas` error, if it is one:
/// code 3 (geth and anvil) or a message starting "execution reverted".
pub(super) fn revert_data(
    code: i64,
    message: &str,
    data: Option<&Value>,
) -> Option<Result<Vec<u8>, String>> {
    let reverted = code == 3
        || message
            .to_ascii_lowercase()
            .starts_with("execution reverted");
    if !reverted {
        return None;
    }
    let data = match data {
        None | Some(Value::Null) => return Some(Ok(Vec::new())),
        // Some nodes nest it: {"data": "0x…"}.
        Some(Value::Object(o)) => match o.get("data") {
            Some(inner) => inner,
            None => return Some(Ok(Vec::new())),
        },
        Some(v) => v,
    };
    Some(parse_data(data, "error.data"))
}

pub(super) fn is_unsupported(code: i64, message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    code == -32601
        || m.contains("method not found")
        || m.contains("not supported")
        || m.contains("does not exist")
        || m.contains("not available")
}
