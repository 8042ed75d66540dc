//! The client: transport, retries for reads, one send for writes, and the
//! typed methods over them.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{HeaderValue, ACCEPT, CONTENT_TYPE};
use hyper::{Request, StatusCode, Uri};
use serde_json::{json, Value};

use super::classify::{classify_rejection, is_already_known, is_unsupported, revert_data};
use super::error::{malformed, RpcError, Unanswered};
use super::grammar::{
    parse_data, parse_hash, parse_quantity_u256, parse_quantity_u64, quantity, short_json,
};
use super::wire::{Block, BlockTag, CallRequest, FeeHistory, Log, Receipt, Sent};
use crate::abi::{self, RevertReason};
use crate::crypto::address::Address;
use crate::crypto::hexutil;
use crate::crypto::keccak::keccak256;
use crate::http::{self, Failure, Transport};
use crate::num::U256;

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
pub(super) fn parse_url(url: &str) -> Result<(Uri, String), RpcError> {
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
pub(super) fn parse_answer(
    method: &str,
    id: u64,
    status: StatusCode,
    body: &[u8],
) -> Result<Value, RpcError> {
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
pub(super) fn envelope(
    method: &str,
    id: u64,
    v: &Value,
) -> Result<Result<Value, RpcError>, String> {
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
