//! A client for a remote x402 facilitator (`POST /verify`, `POST /settle`,
//! `GET /supported`), for sellers that verify and settle through a public
//! facilitator rather than on their own chain connection.
//!
//! Transport: [`crate::http`] (keep-alive pool, connect timeout, one timeout
//! per call, response size cap, no redirects: a 3xx is an error). Answers are
//! parsed with the strict wire types of [`crate::x402::types`].
//!
//! # Settlement outcomes
//!
//! A settlement moves money, so [`RemoteFacilitator::settle`] never guesses:
//!
//! | result | meaning |
//! |---|---|
//! | [`SettleOutcome::Settled`] | `success: true`, a 32-byte transaction hash, the requirements' network, the payment's payer and amount ([`check_settlement`]) |
//! | [`SettleOutcome::Failed`] | `success: false` without a transaction: the facilitator answered definitively |
//! | [`SettleOutcome::Unknown`] | anything else once the request may have been written: timeout, connection lost, a 3xx or 5xx, any status without a valid answer, garbage, an oversized or inconsistent answer |
//! | `Err(`[`RemoteError`]`)` | the request was certainly not sent ([`RemoteError::not_sent`]): this call settled nothing |
//!
//! A timeout or a garbage answer is never reported as a failure: the payment
//! may have settled, and a new payment must not be asked for until the outcome
//! is reconciled.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{HeaderName, HeaderValue, ACCEPT, CONTENT_TYPE};
use hyper::{Method, Request, StatusCode, Uri};
use serde_json::{json, Value};

use crate::http::{self, Failure, Transport};
use crate::x402::reason;
use crate::x402::receipt::{check_settlement, Mismatch};
use crate::x402::types::{
    PaymentPayload, Requirements, SettleResponse, SupportedResponse, VerifyResponse,
};

/// Timeouts, limits and extra headers of a [`RemoteFacilitator`].
#[derive(Clone, PartialEq, Eq)]
pub struct RemoteConfig {
    /// TCP connect timeout; at most the other two, so that a connect failure
    /// is always reported as not sent.
    pub connect_timeout: Duration,
    /// `/verify` and `/supported`, end to end.
    pub verify_timeout: Duration,
    /// `/settle`, end to end: longer, the facilitator waits for a receipt.
    pub settle_timeout: Duration,
    /// Largest answer body accepted, in bytes.
    pub max_response_bytes: usize,
    /// Sent with every request (e.g. `Authorization: Bearer …`). The values
    /// are secrets: never shown by `Debug` nor in errors.
    pub headers: Vec<(String, String)>,
}

impl Default for RemoteConfig {
    fn default() -> Self {
        RemoteConfig {
            connect_timeout: Duration::from_secs(3),
            verify_timeout: Duration::from_secs(10),
            settle_timeout: Duration::from_secs(60),
            max_response_bytes: 64 * 1024,
            headers: Vec::new(),
        }
    }
}

impl fmt::Debug for RemoteConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<String> = self
            .headers
            .iter()
            .map(|(name, _)| format!("{name}: <redacted>"))
            .collect();
        f.debug_struct("RemoteConfig")
            .field("connect_timeout", &self.connect_timeout)
            .field("verify_timeout", &self.verify_timeout)
            .field("settle_timeout", &self.settle_timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("headers", &headers)
            .finish()
    }
}

/// Idle pooled connections are dropped sooner than the 5 s keep-alive of
/// uvicorn and Node, so that a request is rarely written on a connection the
/// server is closing (which would make a settlement's outcome unknown).
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(4);
const POOL_MAX_IDLE: usize = 32;

/// Headers the client sets itself (or that would change the framing).
const RESERVED_HEADERS: [&str; 6] = [
    "host",
    "content-type",
    "content-length",
    "transfer-encoding",
    "connection",
    "accept",
];

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// A URL or configuration that cannot be used (nothing was sent).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid facilitator configuration: {0}")]
pub struct ConfigError(pub String);

impl ConfigError {
    pub fn code(&self) -> &'static str {
        "config"
    }
}

/// The facilitator call that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Verify,
    Settle,
    Supported,
}

impl Endpoint {
    fn path(self) -> &'static str {
        match self {
            Endpoint::Verify => "/verify",
            Endpoint::Settle => "/settle",
            Endpoint::Supported => "/supported",
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path()[1..])
    }
}

/// What went wrong with one call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Refused, DNS, TLS, connect timeout: the request was certainly not sent.
    NotSent(String),
    /// The request could not be built (nothing was sent).
    Request(String),
    /// No complete answer within the call's timeout.
    Timeout(Duration),
    /// The connection broke after the request may have been written.
    ConnectionLost(String),
    /// A 3xx answer; redirects are never followed.
    Redirect(u16),
    /// A status without a usable answer (or a 5xx, whatever its body).
    Status(u16),
    /// An answer over [`RemoteConfig::max_response_bytes`].
    TooLarge(usize),
    /// Not strict JSON, or not the expected message.
    Malformed(String),
    /// `success: false` naming a transaction: the money may have moved.
    FailedWithTransaction(String),
    /// `settlement_pending`: broadcast, outcome not known yet; settle the same
    /// payment again later (it settles at most once).
    Pending(String),
    /// `success: true` that is not this payment's settlement: another network,
    /// payer or amount ([`check_settlement`]).
    Mismatch(Mismatch),
}

impl ErrorKind {
    /// A stable snake_case name for the failure.
    pub fn code(&self) -> &'static str {
        match self {
            ErrorKind::NotSent(_) => "unavailable",
            ErrorKind::Request(_) => "request",
            ErrorKind::Timeout(_) => "timeout",
            ErrorKind::ConnectionLost(_) => "connection_lost",
            ErrorKind::Redirect(_) => "redirect",
            ErrorKind::Status(_) => "http_status",
            ErrorKind::TooLarge(_) => "too_large",
            ErrorKind::Malformed(_) => "malformed",
            ErrorKind::FailedWithTransaction(_) => "failed_with_transaction",
            ErrorKind::Pending(_) => "pending",
            ErrorKind::Mismatch(m) => m.code(),
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::NotSent(d) => write!(f, "unavailable, request not sent ({d})"),
            ErrorKind::Request(d) => write!(f, "request not built: {d}"),
            ErrorKind::Timeout(t) => write!(f, "no complete answer within {} ms", t.as_millis()),
            ErrorKind::ConnectionLost(d) => {
                write!(
                    f,
                    "connection lost after the request may have been sent: {d}"
                )
            }
            ErrorKind::Redirect(s) => write!(f, "HTTP {s} redirect (redirects are not followed)"),
            ErrorKind::Status(s) => write!(f, "HTTP status {s}"),
            ErrorKind::TooLarge(cap) => write!(f, "answer larger than {cap} bytes"),
            ErrorKind::Malformed(d) => write!(f, "malformed answer: {d}"),
            ErrorKind::FailedWithTransaction(tx) => write!(
                f,
                "answer says not settled but names transaction {tx}: the payment may have moved"
            ),
            ErrorKind::Pending(tx) => {
                write!(f, "settlement pending: transaction {tx} not final yet")
            }
            ErrorKind::Mismatch(m) => write!(f, "{m}"),
        }
    }
}

/// A failed facilitator call: where (`url` shown without its path), which
/// endpoint, and what.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("facilitator {url} {endpoint}: {kind}")]
pub struct RemoteError {
    pub url: String,
    pub endpoint: Endpoint,
    pub kind: ErrorKind,
}

impl RemoteError {
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// The request certainly never reached the facilitator.
    pub fn not_sent(&self) -> bool {
        matches!(self.kind, ErrorKind::NotSent(_) | ErrorKind::Request(_))
    }

    pub fn is_timeout(&self) -> bool {
        matches!(self.kind, ErrorKind::Timeout(_))
    }
}

/// The result of a `/settle` call that may have reached the facilitator.
#[derive(Clone, Debug, PartialEq)]
pub enum SettleOutcome {
    /// Settled: a 32-byte transaction hash, on the right network, for the right payer.
    Settled(SettleResponse),
    /// The facilitator answered definitively that it did not settle
    /// (`errorReason` kept verbatim).
    Failed(SettleResponse),
    /// It may or may not have settled: reconcile before asking for a new payment.
    /// `response` is the answer, when one was parsed.
    Unknown {
        error: RemoteError,
        response: Option<SettleResponse>,
    },
}

impl SettleOutcome {
    /// The facilitator's answer, if one was parsed.
    pub fn response(&self) -> Option<&SettleResponse> {
        match self {
            SettleOutcome::Settled(r) | SettleOutcome::Failed(r) => Some(r),
            SettleOutcome::Unknown { response, .. } => response.as_ref(),
        }
    }
}

// ---------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------

struct Inner {
    transport: Transport,
    /// `scheme://host[:port]` (the path may hold a key).
    shown: String,
    verify: Uri,
    settle: Uri,
    supported: Uri,
    headers: Vec<(HeaderName, HeaderValue)>,
    config: RemoteConfig,
}

/// An async client for one facilitator. Cheap to clone (shared pool).
#[derive(Clone)]
pub struct RemoteFacilitator {
    inner: Arc<Inner>,
}

impl fmt::Debug for RemoteFacilitator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteFacilitator")
            .field("url", &self.inner.shown)
            .field("config", &self.inner.config)
            .finish()
    }
}

fn endpoint_uri(base: &Uri, shown: &str, endpoint: Endpoint) -> Result<Uri, ConfigError> {
    let path = base.path().trim_end_matches('/');
    format!("{shown}{path}{}", endpoint.path())
        .parse()
        .map_err(|_| ConfigError("facilitator URL: not a valid URL".into()))
}

fn header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), ConfigError> {
    let name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| ConfigError(format!("header name {name:?} is not valid")))?;
    if RESERVED_HEADERS.contains(&name.as_str()) {
        return Err(ConfigError(format!(
            "header {name} is set by the client itself"
        )));
    }
    // The value is a secret: the error names the header, never its value.
    let mut value = HeaderValue::from_str(value)
        .map_err(|_| ConfigError(format!("header {name}: value is not valid header text")))?;
    value.set_sensitive(true);
    Ok((name, value))
}

impl RemoteFacilitator {
    /// A client for the facilitator at `base_url` (`http` or `https`; the
    /// endpoints are `base_url` + `/verify`, `/settle`, `/supported`). Needs a
    /// tokio runtime only when a call is made.
    pub fn new(base_url: &str, config: RemoteConfig) -> Result<Self, ConfigError> {
        let (base, shown) = http::parse_url(base_url)
            .map_err(|why| ConfigError(format!("facilitator URL: {why}")))?;
        if base.query().is_some() {
            return Err(ConfigError("facilitator URL: must not have a query".into()));
        }
        let timeouts = [
            config.connect_timeout,
            config.verify_timeout,
            config.settle_timeout,
        ];
        if timeouts.iter().any(Duration::is_zero) {
            return Err(ConfigError("timeouts must be positive".into()));
        }
        if config.connect_timeout > config.verify_timeout.min(config.settle_timeout) {
            return Err(ConfigError(
                "connect_timeout must not exceed the verify and settle timeouts".into(),
            ));
        }
        if config.max_response_bytes == 0 {
            return Err(ConfigError("max_response_bytes must be positive".into()));
        }
        let headers = config
            .headers
            .iter()
            .map(|(n, v)| header(n, v))
            .collect::<Result<_, _>>()?;
        let transport = Transport::new(config.connect_timeout, POOL_IDLE_TIMEOUT, POOL_MAX_IDLE)
            .map_err(ConfigError)?;
        Ok(RemoteFacilitator {
            inner: Arc::new(Inner {
                transport,
                verify: endpoint_uri(&base, &shown, Endpoint::Verify)?,
                settle: endpoint_uri(&base, &shown, Endpoint::Settle)?,
                supported: endpoint_uri(&base, &shown, Endpoint::Supported)?,
                shown,
                headers,
                config,
            }),
        })
    }

    /// `scheme://host[:port]` of the facilitator.
    pub fn url_shown(&self) -> &str {
        &self.inner.shown
    }

    pub fn config(&self) -> &RemoteConfig {
        &self.inner.config
    }

    fn error(&self, endpoint: Endpoint, kind: ErrorKind) -> RemoteError {
        RemoteError {
            url: self.inner.shown.clone(),
            endpoint,
            kind,
        }
    }

    /// One exchange: the status and body of any non-3xx answer.
    async fn call(
        &self,
        endpoint: Endpoint,
        body: Option<Vec<u8>>,
    ) -> Result<(StatusCode, Bytes), RemoteError> {
        let inner = &*self.inner;
        let (method, uri, timeout) = match endpoint {
            Endpoint::Verify => (Method::POST, &inner.verify, inner.config.verify_timeout),
            Endpoint::Settle => (Method::POST, &inner.settle, inner.config.settle_timeout),
            Endpoint::Supported => (Method::GET, &inner.supported, inner.config.verify_timeout),
        };
        let mut builder = Request::builder()
            .method(method)
            .uri(uri.clone())
            .header(ACCEPT, HeaderValue::from_static("application/json"));
        if body.is_some() {
            builder = builder.header(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        for (name, value) in &inner.headers {
            builder = builder.header(name, value);
        }
        let request = builder
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| self.error(endpoint, ErrorKind::Request(e.to_string())))?;
        let cap = inner.config.max_response_bytes;
        let (status, body) = inner
            .transport
            .exchange(request, timeout, cap)
            .await
            .map_err(|failure| {
                let kind = match failure {
                    Failure::NotSent(d) => ErrorKind::NotSent(d),
                    Failure::ConnectionLost(d) => ErrorKind::ConnectionLost(d),
                    Failure::Timeout(t) => ErrorKind::Timeout(t),
                    Failure::TooLarge { cap, .. } => ErrorKind::TooLarge(cap),
                };
                self.error(endpoint, kind)
            })?;
        if status.is_redirection() {
            return Err(self.error(endpoint, ErrorKind::Redirect(status.as_u16())));
        }
        Ok((status, body))
    }

    /// `POST /verify`. A non-2xx answer carrying a valid `isValid: false`
    /// body (the official facilitators answer 400) is an answer, not an error.
    pub async fn verify(
        &self,
        payload: &PaymentPayload,
        requirements: &Requirements,
    ) -> Result<VerifyResponse, RemoteError> {
        let endpoint = Endpoint::Verify;
        let (status, body) = self
            .call(endpoint, Some(request_body(payload, requirements)))
            .await?;
        match (status.is_success(), parse(&body, VerifyResponse::from_json)) {
            (true, Ok(answer)) => Ok(answer),
            (false, Ok(answer)) if !answer.is_valid => Ok(answer),
            (true, Err(detail)) => Err(self.error(endpoint, ErrorKind::Malformed(detail))),
            (false, _) => Err(self.error(endpoint, ErrorKind::Status(status.as_u16()))),
        }
    }

    /// `POST /settle`. `Err` only when the request was certainly not sent;
    /// see the module docs for the outcomes. A `settlement_pending` answer is
    /// asked once more at once, as the official resource servers do (a
    /// facilitator settles one authorization at most once, so asking again is
    /// safe); if it is still pending, the outcome is unknown.
    pub async fn settle(
        &self,
        payload: &PaymentPayload,
        requirements: &Requirements,
    ) -> Result<SettleOutcome, RemoteError> {
        let first = self.settle_once(payload, requirements).await?;
        match &first {
            SettleOutcome::Unknown { error, .. } if matches!(error.kind, ErrorKind::Pending(_)) => {
                Ok(self
                    .settle_once(payload, requirements)
                    .await
                    .unwrap_or(first))
            }
            _ => Ok(first),
        }
    }

    async fn settle_once(
        &self,
        payload: &PaymentPayload,
        requirements: &Requirements,
    ) -> Result<SettleOutcome, RemoteError> {
        let endpoint = Endpoint::Settle;
        let unknown = |kind, response| SettleOutcome::Unknown {
            error: self.error(endpoint, kind),
            response,
        };
        let (status, body) = match self
            .call(endpoint, Some(request_body(payload, requirements)))
            .await
        {
            Ok(answer) => answer,
            Err(e) if e.not_sent() => return Err(e),
            Err(error) => {
                return Ok(SettleOutcome::Unknown {
                    error,
                    response: None,
                })
            }
        };
        let status_kind = ErrorKind::Status(status.as_u16());
        let answer = match parse(&body, SettleResponse::from_json) {
            Ok(answer) => answer,
            Err(_) if !status.is_success() => return Ok(unknown(status_kind, None)),
            Err(detail) => return Ok(unknown(ErrorKind::Malformed(detail), None)),
        };
        // A 5xx, or a success under an error status, is not a clear answer.
        if status.is_server_error() || (!status.is_success() && answer.success) {
            return Ok(unknown(status_kind, Some(answer)));
        }
        if !answer.success {
            if !answer.transaction.is_empty() {
                let tx = answer.transaction.clone();
                let kind = if answer.error_reason.as_deref() == Some(reason::SETTLEMENT_PENDING) {
                    ErrorKind::Pending(tx)
                } else {
                    ErrorKind::FailedWithTransaction(tx)
                };
                return Ok(unknown(kind, Some(answer)));
            }
            return Ok(SettleOutcome::Failed(answer));
        }
        let checked = check_settlement(
            &answer,
            &requirements.network,
            payload.payer(),
            &requirements.scheme,
            requirements.amount,
        );
        if let Err(mismatch) = checked {
            return Ok(unknown(ErrorKind::Mismatch(mismatch), Some(answer)));
        }
        Ok(SettleOutcome::Settled(answer))
    }

    /// `GET /supported`.
    pub async fn supported(&self) -> Result<SupportedResponse, RemoteError> {
        let endpoint = Endpoint::Supported;
        let (status, body) = self.call(endpoint, None).await?;
        if !status.is_success() {
            return Err(self.error(endpoint, ErrorKind::Status(status.as_u16())));
        }
        parse(&body, SupportedResponse::from_json)
            .map_err(|detail| self.error(endpoint, ErrorKind::Malformed(detail)))
    }
}

/// `{x402Version, paymentPayload, paymentRequirements}`, the payload exactly
/// as the client sent it.
fn request_body(payload: &PaymentPayload, requirements: &Requirements) -> Vec<u8> {
    json!({
        "x402Version": payload.version,
        "paymentPayload": payload.raw,
        "paymentRequirements": requirements.raw,
    })
    .to_string()
    .into_bytes()
}

fn parse<T, E: fmt::Display>(
    body: &[u8],
    from_json: impl FnOnce(&Value) -> Result<T, E>,
) -> Result<T, String> {
    let value = crate::json::parse_strict(body).map_err(|e| format!("not strict JSON: {e}"))?;
    from_json(&value).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests;
