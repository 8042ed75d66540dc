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

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{HeaderValue, ACCEPT, CONTENT_TYPE};
use hyper::{Request, StatusCode, Uri};
use serde_json::{json, Map, Value};

use crate::abi::{self, RevertReason};
use crate::crypto::address::Address;
use crate::crypto::hexutil;
use crate::crypto::keccak::keccak256;
use crate::http::{self, Failure, Transport};
use crate::num::U256;
use crate::text::bounded;

// ---------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------

/// Timeouts, retry bounds and limits of an [`RpcClient`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpcConfig {
    /// TCP connect (and TLS handshake) timeout. Must not exceed
    /// `request_timeout`, so that a connect failure is always classified as
    /// [`RpcError::NotSent`].
    pub connect_timeout: Duration,
    /// One attempt, end to end: connect, write the request, read the whole
    /// answer. Past it the attempt is [`RpcError::OutcomeUnknown`].
    pub request_timeout: Duration,
    /// Extra attempts for reads (0 = no retry). Writes never retry.
    pub read_retries: u32,
    /// The whole of one read, retries and back-off included.
    pub read_budget: Duration,
    /// First back-off between read attempts, doubled each time, at most 2 s.
    pub retry_backoff: Duration,
    /// Largest answer body accepted, in bytes.
    pub max_response_bytes: usize,
    /// Idle keep-alive connections are closed after this long.
    pub pool_idle_timeout: Duration,
    /// Idle keep-alive connections kept per host.
    pub pool_max_idle: usize,
}

impl Default for RpcConfig {
    fn default() -> Self {
        RpcConfig {
            connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(10),
            read_retries: 2,
            read_budget: Duration::from_secs(20),
            retry_backoff: Duration::from_millis(100),
            max_response_bytes: 16 * 1024 * 1024,
            pool_idle_timeout: Duration::from_secs(60),
            pool_max_idle: 64,
        }
    }
}

const MAX_BACKOFF: Duration = Duration::from_secs(2);

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
    fn is_transient(&self) -> bool {
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

fn malformed(method: &str, detail: impl fmt::Display) -> RpcError {
    RpcError::Malformed {
        method: method.to_owned(),
        detail: detail.to_string(),
    }
}

// ---------------------------------------------------------------------------
// Strict hex grammar of the execution APIs
// ---------------------------------------------------------------------------

fn expect_str<'a>(v: &'a Value, what: &str) -> Result<&'a str, String> {
    v.as_str()
        .ok_or_else(|| format!("{what}: expected a hex string, got {}", short_json(v)))
}

fn short_json(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(80) {
        Some((end, _)) => format!("{}…", &s[..end]),
        None => s,
    }
}

/// `0x0` or `0x[1-9a-f][0-9a-f]*`: the digits after `0x`.
fn quantity_digits<'a>(v: &'a Value, what: &str) -> Result<&'a [u8], String> {
    let s = expect_str(v, what)?;
    let digits = s
        .strip_prefix("0x")
        .ok_or_else(|| format!("{what}: quantity {s:?} lacks the 0x prefix"))?
        .as_bytes();
    if digits.is_empty() {
        return Err(format!("{what}: empty quantity \"0x\""));
    }
    if let Some(i) = digits
        .iter()
        .position(|c| !matches!(c, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(format!(
            "{what}: quantity {s:?} has a non-lowercase-hex digit at offset {}",
            i + 2
        ));
    }
    if digits.len() > 1 && digits[0] == b'0' {
        return Err(format!("{what}: quantity {s:?} has leading zeros"));
    }
    Ok(digits)
}

/// A strict hex quantity that fits a `u64`.
pub fn parse_quantity_u64(v: &Value, what: &str) -> Result<u64, String> {
    let digits = quantity_digits(v, what)?;
    if digits.len() > 16 {
        return Err(format!("{what}: quantity does not fit 64 bits"));
    }
    Ok(digits.iter().fold(0u64, |acc, &c| {
        acc << 4 | u64::from((c as char).to_digit(16).expect("checked hex"))
    }))
}

/// A strict hex quantity of at most 256 bits.
pub fn parse_quantity_u256(v: &Value, what: &str) -> Result<U256, String> {
    let digits = quantity_digits(v, what)?;
    if digits.len() > 64 {
        return Err(format!("{what}: quantity does not fit 256 bits"));
    }
    U256::from_hex_digits(digits).map_err(|e| format!("{what}: {e}"))
}

/// `0x` + an even number of lowercase hex digits.
pub fn parse_data(v: &Value, what: &str) -> Result<Vec<u8>, String> {
    let s = expect_str(v, what)?;
    let digits = s
        .strip_prefix("0x")
        .ok_or_else(|| format!("{what}: data lacks the 0x prefix"))?;
    if digits.bytes().any(|c| c.is_ascii_uppercase()) {
        return Err(format!("{what}: data must be lowercase hex"));
    }
    hexutil::decode_0x(s).map_err(|e| format!("{what}: {e}"))
}

fn parse_fixed<const N: usize>(v: &Value, what: &str) -> Result<[u8; N], String> {
    let bytes = parse_data(v, what)?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("{what}: expected {N} bytes, got {}", b.len()))
}

/// A 32-byte hash in lowercase hex.
pub fn parse_hash(v: &Value, what: &str) -> Result<[u8; 32], String> {
    parse_fixed::<32>(v, what)
}

/// An address: 40 hex digits, lowercase (or EIP-55 when mixed case).
pub fn parse_address(v: &Value, what: &str) -> Result<Address, String> {
    Address::parse(expect_str(v, what)?).map_err(|e| format!("{what}: {e}"))
}

/// A `u64` as a hex quantity.
pub fn quantity(v: u64) -> String {
    format!("{v:#x}")
}

/// A `U256` as a hex quantity (no leading zeros; `0x0` for zero).
pub fn quantity_u256(v: &U256) -> String {
    let hex = hexutil::encode_0x(&v.to_be_bytes());
    let digits = hex[2..].trim_start_matches('0');
    if digits.is_empty() {
        "0x0".to_owned()
    } else {
        format!("0x{digits}")
    }
}

fn field<'a>(obj: &'a Map<String, Value>, key: &str, what: &str) -> Result<&'a Value, String> {
    obj.get(key)
        .ok_or_else(|| format!("{what}: missing field {key:?}"))
}

fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| format!("{what}: expected an object, got {}", short_json(v)))
}

/// A field that may be absent or null.
fn optional<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

// ---------------------------------------------------------------------------
// Typed requests and answers
// ---------------------------------------------------------------------------

/// A block parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockTag {
    Latest,
    Pending,
    Safe,
    Finalized,
    Earliest,
    Number(u64),
}

impl BlockTag {
    pub fn to_json(&self) -> Value {
        match self {
            BlockTag::Latest => json!("latest"),
            BlockTag::Pending => json!("pending"),
            BlockTag::Safe => json!("safe"),
            BlockTag::Finalized => json!("finalized"),
            BlockTag::Earliest => json!("earliest"),
            BlockTag::Number(n) => json!(quantity(*n)),
        }
    }
}

/// The call object of `eth_call` and `eth_estimateGas`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallRequest {
    pub from: Option<Address>,
    /// `None` simulates a contract creation.
    pub to: Option<Address>,
    pub data: Vec<u8>,
    pub value: Option<U256>,
    pub gas: Option<u64>,
}

impl CallRequest {
    /// A call of `data` on `to`.
    pub fn new(to: Address, data: Vec<u8>) -> Self {
        CallRequest {
            to: Some(to),
            data,
            ..Default::default()
        }
    }

    /// The same call, made by `from`.
    pub fn from(mut self, from: Address) -> Self {
        self.from = Some(from);
        self
    }

    pub fn to_json(&self) -> Value {
        let mut obj = Map::new();
        if let Some(from) = &self.from {
            obj.insert("from".into(), json!(hexutil::encode_0x(&from.0)));
        }
        if let Some(to) = &self.to {
            obj.insert("to".into(), json!(hexutil::encode_0x(&to.0)));
        }
        if let Some(gas) = self.gas {
            obj.insert("gas".into(), json!(quantity(gas)));
        }
        if let Some(value) = &self.value {
            obj.insert("value".into(), json!(quantity_u256(value)));
        }
        obj.insert("data".into(), json!(hexutil::encode_0x(&self.data)));
        Value::Object(obj)
    }
}

/// The header fields of a block that fastx402 needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub number: u64,
    pub hash: [u8; 32],
    pub parent_hash: [u8; 32],
    pub timestamp: u64,
    /// `None` before London (EIP-1559).
    pub base_fee_per_gas: Option<U256>,
    pub gas_limit: u64,
    pub gas_used: u64,
}

impl Block {
    pub fn from_json(v: &Value) -> Result<Self, String> {
        const W: &str = "block";
        let o = object(v, W)?;
        Ok(Block {
            number: parse_quantity_u64(field(o, "number", W)?, "block.number")?,
            hash: parse_hash(field(o, "hash", W)?, "block.hash")?,
            parent_hash: parse_hash(field(o, "parentHash", W)?, "block.parentHash")?,
            timestamp: parse_quantity_u64(field(o, "timestamp", W)?, "block.timestamp")?,
            base_fee_per_gas: optional(o, "baseFeePerGas")
                .map(|v| parse_quantity_u256(v, "block.baseFeePerGas"))
                .transpose()?,
            gas_limit: parse_quantity_u64(field(o, "gasLimit", W)?, "block.gasLimit")?,
            gas_used: parse_quantity_u64(field(o, "gasUsed", W)?, "block.gasUsed")?,
        })
    }
}

/// A log of a receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Log {
    pub address: Address,
    pub topics: Vec<[u8; 32]>,
    pub data: Vec<u8>,
    pub log_index: Option<u64>,
    /// The transaction that emitted it (absent in receipts of some nodes).
    pub transaction_hash: Option<[u8; 32]>,
    pub removed: bool,
}

impl Log {
    pub fn from_json(v: &Value) -> Result<Self, String> {
        const W: &str = "log";
        let o = object(v, W)?;
        let topics = field(o, "topics", W)?
            .as_array()
            .ok_or("log.topics: expected an array")?;
        if topics.len() > 4 {
            return Err(format!("log.topics: {} topics (at most 4)", topics.len()));
        }
        Ok(Log {
            address: parse_address(field(o, "address", W)?, "log.address")?,
            topics: topics
                .iter()
                .map(|t| parse_hash(t, "log.topics[]"))
                .collect::<Result<_, _>>()?,
            data: parse_data(field(o, "data", W)?, "log.data")?,
            log_index: optional(o, "logIndex")
                .map(|v| parse_quantity_u64(v, "log.logIndex"))
                .transpose()?,
            transaction_hash: optional(o, "transactionHash")
                .map(|v| parse_hash(v, "log.transactionHash"))
                .transpose()?,
            removed: match optional(o, "removed") {
                None => false,
                Some(Value::Bool(b)) => *b,
                Some(other) => {
                    return Err(format!("log.removed: expected a bool, got {other}"));
                }
            },
        })
    }
}

/// A transaction receipt (post-Byzantium: with `status`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub transaction_hash: [u8; 32],
    pub block_number: u64,
    pub block_hash: [u8; 32],
    /// `true` for status 1 (success), `false` for 0 (reverted).
    pub status: bool,
    pub from: Address,
    pub to: Option<Address>,
    pub contract_address: Option<Address>,
    pub gas_used: u64,
    pub cumulative_gas_used: u64,
    pub effective_gas_price: U256,
    pub logs: Vec<Log>,
}

impl Receipt {
    pub fn from_json(v: &Value) -> Result<Self, String> {
        const W: &str = "receipt";
        let o = object(v, W)?;
        let status = match parse_quantity_u64(field(o, "status", W)?, "receipt.status")? {
            0 => false,
            1 => true,
            s => return Err(format!("receipt.status: {s} is neither 0 nor 1")),
        };
        let logs = field(o, "logs", W)?
            .as_array()
            .ok_or("receipt.logs: expected an array")?;
        Ok(Receipt {
            transaction_hash: parse_hash(
                field(o, "transactionHash", W)?,
                "receipt.transactionHash",
            )?,
            block_number: parse_quantity_u64(field(o, "blockNumber", W)?, "receipt.blockNumber")?,
            block_hash: parse_hash(field(o, "blockHash", W)?, "receipt.blockHash")?,
            status,
            from: parse_address(field(o, "from", W)?, "receipt.from")?,
            to: optional(o, "to")
                .map(|v| parse_address(v, "receipt.to"))
                .transpose()?,
            contract_address: optional(o, "contractAddress")
                .map(|v| parse_address(v, "receipt.contractAddress"))
                .transpose()?,
            gas_used: parse_quantity_u64(field(o, "gasUsed", W)?, "receipt.gasUsed")?,
            cumulative_gas_used: parse_quantity_u64(
                field(o, "cumulativeGasUsed", W)?,
                "receipt.cumulativeGasUsed",
            )?,
            effective_gas_price: parse_quantity_u256(
                field(o, "effectiveGasPrice", W)?,
                "receipt.effectiveGasPrice",
            )?,
            logs: logs.iter().map(Log::from_json).collect::<Result<_, _>>()?,
        })
    }

    /// `0x`-prefixed transaction hash.
    pub fn transaction_hash_hex(&self) -> String {
        hexutil::encode_0x(&self.transaction_hash)
    }

    /// The logs emitted by `address`.
    pub fn logs_from<'a>(&'a self, address: &'a Address) -> impl Iterator<Item = &'a Log> + 'a {
        self.logs.iter().filter(move |l| &l.address == address)
    }
}

/// `eth_feeHistory`, without `gasUsedRatio` (floats fastx402 does not use).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeeHistory {
    pub oldest_block: u64,
    /// One entry per block, plus the next block's.
    pub base_fee_per_gas: Vec<U256>,
    /// Per block, one tip per requested percentile.
    pub reward: Vec<Vec<U256>>,
}

impl FeeHistory {
    pub fn from_json(v: &Value) -> Result<Self, String> {
        const W: &str = "feeHistory";
        let o = object(v, W)?;
        let list = |key: &str| -> Result<&Vec<Value>, String> {
            field(o, key, W)?
                .as_array()
                .ok_or_else(|| format!("feeHistory.{key}: expected an array"))
        };
        let base_fee_per_gas = list("baseFeePerGas")?
            .iter()
            .map(|v| parse_quantity_u256(v, "feeHistory.baseFeePerGas[]"))
            .collect::<Result<_, _>>()?;
        let reward = match optional(o, "reward") {
            None => Vec::new(),
            Some(_) => list("reward")?
                .iter()
                .map(|row| {
                    row.as_array()
                        .ok_or_else(|| "feeHistory.reward[]: expected an array".to_owned())?
                        .iter()
                        .map(|v| parse_quantity_u256(v, "feeHistory.reward[][]"))
                        .collect::<Result<Vec<_>, _>>()
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(FeeHistory {
            oldest_block: parse_quantity_u64(
                field(o, "oldestBlock", W)?,
                "feeHistory.oldestBlock",
            )?,
            base_fee_per_gas,
            reward,
        })
    }
}

/// A transaction the node accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    /// keccak256 of the raw bytes (checked against the node's answer).
    pub hash: [u8; 32],
    /// The node already had exactly these bytes ("already known").
    pub already_known: bool,
}

impl Sent {
    pub fn hash_hex(&self) -> String {
        hexutil::encode_0x(&self.hash)
    }
}

// ---------------------------------------------------------------------------
// Error classification
// ---------------------------------------------------------------------------

/// Whether a node's error message for `eth_sendRawTransaction` says it
/// already holds this very transaction.
fn is_already_known(message: &str) -> bool {
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
fn revert_data(code: i64, message: &str, data: Option<&Value>) -> Option<Result<Vec<u8>, String>> {
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

// ---------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------

struct Inner {
    http: Transport,
    uri: Uri,
    /// `scheme://host[:port]`: the URL without its path, which often holds an API key.
    shown: String,
    config: RpcConfig,
    next_id: AtomicU64,
}

/// An async JSON-RPC client for one node. Cheap to clone (shared pool).
#[derive(Clone)]
pub struct RpcClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for RpcClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RpcClient")
            .field("url", &self.inner.shown)
            .finish_non_exhaustive()
    }
}

/// Checks the URL: `http` or `https`, a host, no user info.
fn parse_url(url: &str) -> Result<(Uri, String), RpcError> {
    http::parse_url(url).map_err(|why| RpcError::Config(format!("RPC URL: {why}")))
}

impl RpcClient {
    /// A client for `url` with the default [`RpcConfig`]. Must be called
    /// within a tokio runtime only when requests are made (not here).
    pub fn new(url: &str) -> Result<Self, RpcError> {
        Self::with_config(url, RpcConfig::default())
    }

    pub fn with_config(url: &str, config: RpcConfig) -> Result<Self, RpcError> {
        let (uri, shown) = parse_url(url)?;
        if config.request_timeout.is_zero() || config.connect_timeout.is_zero() {
            return Err(RpcError::Config("timeouts must be positive".into()));
        }
        if config.connect_timeout > config.request_timeout {
            return Err(RpcError::Config(
                "connect_timeout must not exceed request_timeout".into(),
            ));
        }
        if config.max_response_bytes == 0 {
            return Err(RpcError::Config(
                "max_response_bytes must be positive".into(),
            ));
        }
        let http = Transport::new(
            config.connect_timeout,
            config.pool_idle_timeout,
            config.pool_max_idle,
        )
        .map_err(RpcError::Config)?;
        Ok(RpcClient {
            inner: Arc::new(Inner {
                http,
                uri,
                shown,
                config,
                next_id: AtomicU64::new(1),
            }),
        })
    }

    /// `scheme://host[:port]` of the node (the path, which may hold an API key, is not shown).
    pub fn url_shown(&self) -> &str {
        &self.inner.shown
    }

    pub fn config(&self) -> &RpcConfig {
        &self.inner.config
    }

    // ----- transport ---------------------------------------------------------

    /// One HTTP exchange, bounded by `timeout`: the JSON-RPC `result`.
    async fn attempt(
        &self,
        method: &str,
        params: &Value,
        timeout: Duration,
    ) -> Result<Value, RpcError> {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let body = serde_json::to_vec(&json!({
            "jsonrpc": "2.0",
            "id": id,
            "method": method,
            "params": params,
        }))
        .map_err(|e| RpcError::Config(format!("request body: {e}")))?;
        let request = Request::post(self.inner.uri.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| RpcError::Config(format!("request: {e}")))?;
        let cap = self.inner.config.max_response_bytes;
        let unknown = |cause| RpcError::OutcomeUnknown {
            method: method.to_owned(),
            cause,
        };
        let (status, body) = self
            .inner
            .http
            .exchange(request, timeout, cap)
            .await
            .map_err(|failure| match failure {
                Failure::NotSent(detail) => RpcError::NotSent {
                    method: method.to_owned(),
                    detail,
                },
                Failure::ConnectionLost(e) => unknown(Unanswered::ConnectionLost(e)),
                Failure::Timeout(after) => unknown(Unanswered::Timeout(after)),
                Failure::TooLarge { cap, declared } => malformed(
                    method,
                    format_args!(
                        "answer larger than {cap} bytes{}",
                        if declared { " (content-length)" } else { "" }
                    ),
                ),
            })?;
        parse_answer(method, id, status, &body)
    }

    /// A read: retried while transient, within the retry count and the read budget.
    async fn read(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        let deadline = Instant::now() + self.inner.config.read_budget;
        self.read_until(method, params, deadline).await
    }

    /// A read that ends by `deadline` (attempts are cut short to fit it).
    async fn read_until(
        &self,
        method: &str,
        params: Value,
        deadline: Instant,
    ) -> Result<Value, RpcError> {
        let config = &self.inner.config;
        let started = Instant::now();
        let mut backoff = config.retry_backoff;
        let mut attempt = 0u32;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let timeout = config.request_timeout.min(left);
            let err = if timeout.is_zero() {
                RpcError::OutcomeUnknown {
                    method: method.to_owned(),
                    cause: Unanswered::Timeout(started.elapsed()),
                }
            } else {
                match self.attempt(method, &params, timeout).await {
                    Ok(v) => return Ok(v),
                    Err(e) => e,
                }
            };
            attempt += 1;
            let left = deadline.saturating_duration_since(Instant::now());
            if !err.is_transient() || attempt > config.read_retries || left <= backoff {
                return Err(err);
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// Any read-only method, with the read retry policy: the raw `result`.
    /// Use it for methods without a typed wrapper (never for writes).
    pub async fn request(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        self.read(method, params).await
    }

    /// Any method, sent exactly once (no retry): for writes and test-node
    /// controls such as `evm_mine`.
    pub async fn request_once(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        self.attempt(method, &params, self.inner.config.request_timeout)
            .await
    }

    async fn read_with<T>(
        &self,
        method: &str,
        params: Value,
        parse: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Result<T, RpcError> {
        let v = self.read(method, params).await?;
        parse(&v).map_err(|e| malformed(method, e))
    }

    // ----- typed methods -----------------------------------------------------

    /// `eth_chainId`.
    pub async fn chain_id(&self) -> Result<u64, RpcError> {
        self.read_with("eth_chainId", json!([]), |v| {
            parse_quantity_u64(v, "result")
        })
        .await
    }

    /// `eth_blockNumber`.
    pub async fn block_number(&self) -> Result<u64, RpcError> {
        self.read_with("eth_blockNumber", json!([]), |v| {
            parse_quantity_u64(v, "result")
        })
        .await
    }

    /// `eth_getBlockByNumber(tag, false)`; `None` for a block the node does not have.
    pub async fn get_block(&self, tag: BlockTag) -> Result<Option<Block>, RpcError> {
        self.read_with(
            "eth_getBlockByNumber",
            json!([tag.to_json(), false]),
            |v| match v {
                Value::Null => Ok(None),
                v => Block::from_json(v).map(Some),
            },
        )
        .await
    }

    /// The latest block (an error if the node has none).
    pub async fn latest_block(&self) -> Result<Block, RpcError> {
        self.get_block(BlockTag::Latest)
            .await?
            .ok_or_else(|| malformed("eth_getBlockByNumber", "no latest block"))
    }

    /// `eth_getTransactionCount(address, tag)`: with [`BlockTag::Pending`],
    /// the next nonce counting the node's pending transactions.
    pub async fn get_transaction_count(
        &self,
        address: &Address,
        tag: BlockTag,
    ) -> Result<u64, RpcError> {
        self.read_with(
            "eth_getTransactionCount",
            json!([hexutil::encode_0x(&address.0), tag.to_json()]),
            |v| parse_quantity_u64(v, "result"),
        )
        .await
    }

    /// `eth_getBalance(address, tag)` in wei.
    pub async fn get_balance(&self, address: &Address, tag: BlockTag) -> Result<U256, RpcError> {
        self.read_with(
            "eth_getBalance",
            json!([hexutil::encode_0x(&address.0), tag.to_json()]),
            |v| parse_quantity_u256(v, "result"),
        )
        .await
    }

    /// `eth_getCode(address, tag)` (empty for an account without code).
    pub async fn get_code(&self, address: &Address, tag: BlockTag) -> Result<Vec<u8>, RpcError> {
        self.read_with(
            "eth_getCode",
            json!([hexutil::encode_0x(&address.0), tag.to_json()]),
            |v| parse_data(v, "result"),
        )
        .await
    }

    /// Maps a revert answer to [`RpcError::Reverted`].
    fn surface_revert(err: RpcError) -> RpcError {
        if let RpcError::Rpc {
            method,
            code,
            message,
            data,
        } = &err
        {
            match revert_data(*code, message, data.as_deref()) {
                Some(Ok(bytes)) => {
                    let reason = abi::decode_revert_reason(&bytes)
                        .unwrap_or_else(|_| RevertReason::Other(bytes.clone()));
                    return RpcError::Reverted {
                        method: method.clone(),
                        reason,
                        data: bytes,
                    };
                }
                Some(Err(detail)) => return malformed(method, detail),
                None => {}
            }
        }
        err
    }

    /// `eth_call`: the return data, or [`RpcError::Reverted`] with the decoded reason.
    pub async fn call(&self, call: &CallRequest, tag: BlockTag) -> Result<Vec<u8>, RpcError> {
        self.read_with("eth_call", json!([call.to_json(), tag.to_json()]), |v| {
            parse_data(v, "result")
        })
        .await
        .map_err(Self::surface_revert)
    }

    /// `eth_estimateGas` (against the pending state); a revert is [`RpcError::Reverted`].
    pub async fn estimate_gas(&self, call: &CallRequest) -> Result<u64, RpcError> {
        self.read_with("eth_estimateGas", json!([call.to_json()]), |v| {
            parse_quantity_u64(v, "result")
        })
        .await
        .map_err(Self::surface_revert)
    }

    /// `eth_sendRawTransaction`, sent exactly once. `Ok` when the node accepted
    /// the bytes or already had them; a recognised refusal is
    /// [`RpcError::Rejected`]; for any other error see [`RpcError::write_outcome`].
    pub async fn send_raw_transaction(&self, raw: &[u8]) -> Result<Sent, RpcError> {
        const METHOD: &str = "eth_sendRawTransaction";
        let hash = keccak256(raw);
        let params = json!([hexutil::encode_0x(raw)]);
        match self.request_once(METHOD, params).await {
            Ok(v) => {
                let answered = parse_hash(&v, "result").map_err(|e| malformed(METHOD, e))?;
                if answered != hash {
                    return Err(malformed(
                        METHOD,
                        format_args!(
                            "node answered hash {} for transaction {}",
                            hexutil::encode_0x(&answered),
                            hexutil::encode_0x(&hash)
                        ),
                    ));
                }
                Ok(Sent {
                    hash,
                    already_known: false,
                })
            }
            Err(RpcError::Rpc { code, message, .. }) if is_already_known(&message) => {
                let _ = code;
                Ok(Sent {
                    hash,
                    already_known: true,
                })
            }
            Err(RpcError::Rpc {
                code,
                message,
                data,
                method,
            }) => match classify_rejection(code, &message) {
                Some(rejection) => Err(RpcError::Rejected {
                    hash: hexutil::encode_0x(&hash),
                    rejection,
                    code,
                    message,
                }),
                None => Err(RpcError::Rpc {
                    method,
                    code,
                    message,
                    data,
                }),
            },
            Err(e) => Err(e),
        }
    }

    /// `eth_getTransactionReceipt`; `None` while not mined (or unknown to the node).
    pub async fn get_transaction_receipt(
        &self,
        hash: &[u8; 32],
    ) -> Result<Option<Receipt>, RpcError> {
        let deadline = Instant::now() + self.inner.config.read_budget;
        self.receipt_until(hash, deadline).await
    }

    async fn receipt_until(
        &self,
        hash: &[u8; 32],
        deadline: Instant,
    ) -> Result<Option<Receipt>, RpcError> {
        const METHOD: &str = "eth_getTransactionReceipt";
        let v = self
            .read_until(METHOD, json!([hexutil::encode_0x(hash)]), deadline)
            .await?;
        match v {
            Value::Null => Ok(None),
            v => match Receipt::from_json(&v) {
                Ok(r) if &r.transaction_hash != hash => {
                    Err(malformed(METHOD, "receipt is for another transaction"))
                }
                Ok(r) => Ok(Some(r)),
                Err(e) => Err(malformed(METHOD, e)),
            },
        }
    }

    /// Polls for the receipt (again after 2 ms, then backing off to every
    /// `poll`) until `timeout` has passed: `None` if the transaction is still
    /// not mined then. Transient read failures are polled through; others are
    /// returned. Total time is bounded by `timeout` plus one
    /// [`RpcConfig::request_timeout`].
    pub async fn wait_for_receipt(
        &self,
        hash: &[u8; 32],
        timeout: Duration,
        poll: Duration,
    ) -> Result<Option<Receipt>, RpcError> {
        let deadline = Instant::now() + timeout;
        let poll = poll.max(Duration::from_millis(1));
        // Nodes often answer the send a moment before the block is sealed:
        // ask again soon, backing off to `poll` (2, 4, 8 … ms).
        let mut delay = Duration::from_millis(2).min(poll);
        loop {
            // Each poll ends by the deadline, but gets at least one full attempt.
            let now = Instant::now();
            let poll_deadline = deadline
                .max(now + self.inner.config.request_timeout)
                .min(now + self.inner.config.read_budget);
            match self.receipt_until(hash, poll_deadline).await {
                Ok(Some(r)) => return Ok(Some(r)),
                Ok(None) => {}
                Err(e) if e.is_transient() => {
                    if Instant::now() >= deadline {
                        return Err(e);
                    }
                }
                Err(e) => return Err(e),
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            tokio::time::sleep(delay.min(left)).await;
            delay = (delay * 2).min(poll);
        }
    }

    /// `eth_getLogs` of `address` with `topics` (each `None` matches any)
    /// between two blocks, inclusive.
    pub async fn get_logs(
        &self,
        address: &Address,
        topics: &[Option<[u8; 32]>],
        from_block: BlockTag,
        to_block: BlockTag,
    ) -> Result<Vec<Log>, RpcError> {
        let topics: Vec<Value> = topics
            .iter()
            .map(|t| t.map_or(Value::Null, |t| json!(hexutil::encode_0x(&t))))
            .collect();
        let filter = json!({
            "address": hexutil::encode_0x(&address.0),
            "topics": topics,
            "fromBlock": from_block.to_json(),
            "toBlock": to_block.to_json(),
        });
        self.read_with("eth_getLogs", json!([filter]), |v| {
            v.as_array()
                .ok_or_else(|| "result: expected an array of logs".to_owned())?
                .iter()
                .map(Log::from_json)
                .collect()
        })
        .await
    }

    /// Whether the node knows the transaction (`eth_getTransactionByHash` is
    /// not null): pending in its pool or mined.
    pub async fn transaction_known(&self, hash: &[u8; 32]) -> Result<bool, RpcError> {
        self.read_with(
            "eth_getTransactionByHash",
            json!([hexutil::encode_0x(hash)]),
            |v| match v {
                Value::Null => Ok(false),
                Value::Object(o) => match o.get("hash") {
                    Some(h) if parse_hash(h, "result.hash")? == *hash => Ok(true),
                    _ => Err("result: transaction for another hash".to_owned()),
                },
                other => Err(format!(
                    "result: expected a transaction or null, got {}",
                    short_json(other)
                )),
            },
        )
        .await
    }

    /// `eth_feeHistory(block_count, newest, percentiles)`.
    pub async fn fee_history(
        &self,
        block_count: u64,
        newest: BlockTag,
        reward_percentiles: &[u8],
    ) -> Result<FeeHistory, RpcError> {
        if reward_percentiles.iter().any(|&p| p > 100)
            || reward_percentiles.windows(2).any(|w| w[0] > w[1])
        {
            return Err(RpcError::Config(
                "reward percentiles must be ascending, in 0..=100".into(),
            ));
        }
        self.read_with(
            "eth_feeHistory",
            json!([quantity(block_count), newest.to_json(), reward_percentiles]),
            FeeHistory::from_json,
        )
        .await
    }

    /// The node's suggested tip (`eth_maxPriorityFeePerGas`). If the node does
    /// not implement that method, the median of the 50th-percentile tips of
    /// the last 5 non-empty blocks (`eth_feeHistory`), or 0 if all were empty.
    pub async fn max_priority_fee_per_gas(&self) -> Result<U256, RpcError> {
        match self
            .read_with("eth_maxPriorityFeePerGas", json!([]), |v| {
                parse_quantity_u256(v, "result")
            })
            .await
        {
            Err(RpcError::Rpc { code, message, .. }) if is_unsupported(code, &message) => {
                let history = self.fee_history(5, BlockTag::Latest, &[50]).await?;
                Ok(median_tip(&history))
            }
            other => other,
        }
    }
}

fn is_unsupported(code: i64, message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    code == -32601
        || m.contains("method not found")
        || m.contains("not supported")
        || m.contains("does not exist")
        || m.contains("not available")
}

/// The median non-zero first-percentile tip of a fee history (0 if none).
pub fn median_tip(history: &FeeHistory) -> U256 {
    let mut tips: Vec<U256> = history
        .reward
        .iter()
        .filter_map(|row| row.first().copied())
        .filter(|t| !t.is_zero())
        .collect();
    tips.sort();
    tips.get(tips.len() / 2).copied().unwrap_or(U256::ZERO)
}

/// Parses one JSON-RPC answer for request `id`: its `result`, or the error.
fn parse_answer(method: &str, id: u64, status: StatusCode, body: &[u8]) -> Result<Value, RpcError> {
    let parsed = crate::json::parse_strict(body);
    if !status.is_success() {
        // A JSON-RPC error object under a non-2xx status (e.g. 429 with
        // {"error": …}) is reported as that error; anything else by status.
        if let Ok(v) = &parsed {
            if let Ok(Err(e)) = envelope(method, id, v) {
                return Err(e);
            }
        }
        return Err(RpcError::Http {
            method: method.to_owned(),
            status: status.as_u16(),
        });
    }
    let v = parsed.map_err(|e| malformed(method, format_args!("not JSON: {e}")))?;
    envelope(method, id, &v).map_err(|detail| malformed(method, detail))?
}

/// Checks the envelope: `Ok(Ok(result))`, `Ok(Err(rpc error))`, or `Err(why malformed)`.
fn envelope(method: &str, id: u64, v: &Value) -> Result<Result<Value, RpcError>, String> {
    let o = v
        .as_object()
        .ok_or_else(|| format!("expected a JSON-RPC object, got {}", short_json(v)))?;
    if o.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err("\"jsonrpc\" is not \"2.0\"".into());
    }
    match o.get("id") {
        Some(Value::Number(n)) if n.as_u64() == Some(id) && n.as_str() == id.to_string() => {}
        other => {
            return Err(format!(
                "id {} does not match the request's {id}",
                other.map_or("(missing)".to_owned(), short_json)
            ))
        }
    }
    match (o.get("result"), o.get("error")) {
        (Some(result), None) => Ok(Ok(result.clone())),
        (None, Some(error)) => {
            let e = error
                .as_object()
                .ok_or_else(|| format!("error is not an object: {}", short_json(error)))?;
            let code = e
                .get("code")
                .and_then(|c| c.as_number())
                .filter(|n| !n.as_str().contains(['.', 'e', 'E']))
                .and_then(|n| n.as_i64())
                .ok_or("error.code is not an integer")?;
            let message = e
                .get("message")
                .and_then(Value::as_str)
                .ok_or("error.message is not a string")?
                .to_owned();
            Ok(Err(RpcError::Rpc {
                method: method.to_owned(),
                code,
                message,
                data: e.get("data").cloned().map(Box::new),
            }))
        }
        (Some(_), Some(_)) => Err("both result and error".into()),
        (None, None) => Err("neither result nor error".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_are_strict() {
        let q = |s: &str| parse_quantity_u64(&json!(s), "q");
        assert_eq!(q("0x0"), Ok(0));
        assert_eq!(q("0x1a"), Ok(26));
        assert_eq!(q("0xffffffffffffffff"), Ok(u64::MAX));
        for bad in [
            "0x",
            "0x00",
            "0x01",
            "1a",
            "0X1",
            "0x1A",
            "0x 1",
            "0x10000000000000000",
            "",
        ] {
            assert!(q(bad).is_err(), "{bad:?}");
        }
        assert!(parse_quantity_u64(&json!(26), "q").is_err());
        let big = format!("0x1{}", "0".repeat(63));
        assert!(parse_quantity_u256(&json!(big), "q").is_ok());
        let too_big = format!("0x1{}", "0".repeat(64));
        assert!(parse_quantity_u256(&json!(too_big), "q").is_err());
        assert_eq!(quantity_u256(&U256::ZERO), "0x0");
        assert_eq!(quantity_u256(&U256::from_u64(0x1234)), "0x1234");
        assert_eq!(quantity(0), "0x0");
        assert_eq!(quantity(255), "0xff");
    }

    #[test]
    fn data_and_hashes_are_strict() {
        assert_eq!(parse_data(&json!("0x"), "d"), Ok(vec![]));
        assert_eq!(parse_data(&json!("0x0a0b"), "d"), Ok(vec![10, 11]));
        for bad in ["0x0", "0xAB", "ab", "0xzz"] {
            assert!(parse_data(&json!(bad), "d").is_err(), "{bad}");
        }
        assert!(parse_hash(&json!(format!("0x{}", "ab".repeat(31))), "h").is_err());
        assert!(parse_hash(&json!(format!("0x{}", "ab".repeat(32))), "h").is_ok());
    }

    #[test]
    fn envelopes_are_strict() {
        let ok = StatusCode::OK;
        let p = |body: &str| parse_answer("m", 7, ok, body.as_bytes());
        assert_eq!(
            p(r#"{"jsonrpc":"2.0","id":7,"result":"0x1"}"#),
            Ok(json!("0x1"))
        );
        assert!(matches!(
            p(r#"{"jsonrpc":"2.0","id":7,"error":{"code":-32000,"message":"nope","data":"0x"}}"#),
            Err(RpcError::Rpc { code: -32000, .. })
        ));
        for bad in [
            r#"{"jsonrpc":"2.0","id":8,"result":"0x1"}"#,
            r#"{"jsonrpc":"2.0","id":"7","result":"0x1"}"#,
            r#"{"jsonrpc":"2.0","id":7.0,"result":"0x1"}"#,
            r#"{"jsonrpc":"1.0","id":7,"result":"0x1"}"#,
            r#"{"jsonrpc":"2.0","id":7,"result":"0x1","result":"0x2"}"#,
            r#"{"jsonrpc":"2.0","id":7,"result":"0x1","error":{"code":1,"message":""}}"#,
            r#"{"jsonrpc":"2.0","id":7}"#,
            r#"{"jsonrpc":"2.0","id":7,"error":{"code":1.5,"message":""}}"#,
            r#"[{"jsonrpc":"2.0","id":7,"result":"0x1"}]"#,
            r#"{"jsonrpc":"2.0","id":7,"result":"0x1"} x"#,
            "<html>",
        ] {
            assert!(matches!(p(bad), Err(RpcError::Malformed { .. })), "{bad}");
        }
        assert!(matches!(
            parse_answer("m", 7, StatusCode::BAD_GATEWAY, b"<html>"),
            Err(RpcError::Http { status: 502, .. })
        ));
        assert!(matches!(
            parse_answer(
                "m",
                7,
                StatusCode::TOO_MANY_REQUESTS,
                br#"{"jsonrpc":"2.0","id":7,"error":{"code":-32005,"message":"slow down"}}"#
            ),
            Err(RpcError::Rpc { code: -32005, .. })
        ));
    }

    #[test]
    fn rejections_are_classified() {
        use TxRejection as R;
        for (msg, want) in [
            (
                "nonce too low: next nonce 5, tx nonce 4",
                Some(R::NonceTooLow),
            ),
            (
                "replacement transaction underpriced",
                Some(R::ReplacementUnderpriced),
            ),
            ("transaction underpriced", Some(R::Underpriced)),
            (
                "max fee per gas less than block base fee: address 0x…",
                Some(R::Underpriced),
            ),
            (
                "insufficient funds for gas * price + value",
                Some(R::InsufficientFunds),
            ),
            ("intrinsic gas too low", Some(R::GasLimit)),
            (
                "tx fee (1.10 ether) exceeds the configured cap (1.00 ether)",
                Some(R::FeeCapExceeded),
            ),
            ("txpool is full", Some(R::PoolFull)),
            ("invalid sender", Some(R::Invalid)),
            ("internal error", None),
        ] {
            assert_eq!(classify_rejection(-32000, msg), want, "{msg}");
        }
        assert_eq!(classify_rejection(-32601, "whatever"), Some(R::BadRequest));
        assert!(is_already_known("already known"));
        assert!(is_already_known("Transaction already imported"));
        assert!(!is_already_known("nonce too low"));
    }

    #[test]
    fn write_outcomes() {
        let m = || "eth_sendRawTransaction".to_owned();
        let unknown = RpcError::OutcomeUnknown {
            method: m(),
            cause: Unanswered::Timeout(Duration::from_secs(1)),
        };
        assert_eq!(unknown.write_outcome(), WriteOutcome::Unknown);
        assert!(unknown.is_timeout());
        let not_sent = RpcError::NotSent {
            method: m(),
            detail: "refused".into(),
        };
        assert_eq!(not_sent.write_outcome(), WriteOutcome::NotSent);
        for (status, want) in [
            (301, WriteOutcome::NotSent),
            (401, WriteOutcome::NotSent),
            (429, WriteOutcome::NotSent),
            (408, WriteOutcome::Unknown),
            (502, WriteOutcome::Unknown),
        ] {
            let e = RpcError::Http {
                method: m(),
                status,
            };
            assert_eq!(e.write_outcome(), want, "{status}");
        }
        assert_eq!(malformed("x", "y").write_outcome(), WriteOutcome::Unknown);
    }

    #[test]
    fn urls() {
        assert!(parse_url("http://127.0.0.1:8545").is_ok());
        let (_, shown) = parse_url("https://eth.example/v2/SECRETKEY").unwrap();
        assert_eq!(shown, "https://eth.example");
        for bad in [
            "ftp://x",
            "127.0.0.1:8545",
            "http://user:pw@host/",
            "nonsense",
        ] {
            assert!(matches!(parse_url(bad), Err(RpcError::Config(_))), "{bad}");
        }
    }

    #[test]
    fn revert_payloads() {
        assert_eq!(revert_data(-32000, "nonce too low", None), None);
        assert_eq!(revert_data(3, "execution reverted", None), Some(Ok(vec![])));
        assert_eq!(
            revert_data(
                -32000,
                "execution reverted: x",
                Some(&json!({"data": "0x01"}))
            ),
            Some(Ok(vec![1]))
        );
        assert!(matches!(
            revert_data(3, "execution reverted", Some(&json!("0xZZ"))),
            Some(Err(_))
        ));
    }

    #[test]
    fn receipts_parse_strictly() {
        let good = json!({
            "transactionHash": format!("0x{}", "11".repeat(32)),
            "blockNumber": "0x5",
            "blockHash": format!("0x{}", "22".repeat(32)),
            "status": "0x1",
            "from": "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
            "to": null,
            "contractAddress": "0x5fbdb2315678afecb367f032d93f642f64180aa3",
            "gasUsed": "0x5208",
            "cumulativeGasUsed": "0x5208",
            "effectiveGasPrice": "0x3b9aca00",
            "logs": [{"address": "0x5fbdb2315678afecb367f032d93f642f64180aa3",
                       "topics": [format!("0x{}", "33".repeat(32))], "data": "0x", "logIndex": "0x0", "removed": false}]
        });
        let r = Receipt::from_json(&good).unwrap();
        assert!(r.status && r.to.is_none() && r.contract_address.is_some());
        assert_eq!(r.gas_used, 21000);
        assert_eq!(r.logs.len(), 1);
        let mut bad = good.clone();
        bad["status"] = json!("0x2");
        assert!(Receipt::from_json(&bad).is_err());
        let mut bad = good.clone();
        bad["gasUsed"] = json!("0x05208");
        assert!(Receipt::from_json(&bad).is_err());
        let mut bad = good;
        bad.as_object_mut().unwrap().remove("status");
        assert!(Receipt::from_json(&bad).is_err());
    }

    #[test]
    fn median_tip_ignores_empty_blocks() {
        let u = U256::from_u64;
        let h = FeeHistory {
            oldest_block: 1,
            base_fee_per_gas: vec![],
            reward: vec![vec![u(0)], vec![u(5)], vec![u(1)], vec![u(9)], vec![]],
        };
        assert_eq!(median_tip(&h), u(5));
        let empty = FeeHistory {
            oldest_block: 1,
            base_fee_per_gas: vec![],
            reward: vec![vec![u(0)]],
        };
        assert_eq!(median_tip(&empty), U256::ZERO);
    }
}
