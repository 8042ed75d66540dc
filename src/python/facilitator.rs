//! `Facilitator`: the Rust settlement engine for Python. Awaitable methods run on
//! the shared tokio runtime; `*_blocking` twins release the GIL.

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use serde_json::Value;

use super::convert::to_py;
use super::errors::outcome_unknown;
use super::runtime::{self, pymethods_with_twins, seconds};
use super::x402::{
    wall_clock, PaymentPayloadMessage, PaymentRequirements, SettleResponseMessage,
    SupportedResponseMessage, VerifyResponseMessage,
};
use super::PrivateKey;
use crate::error::Error;
use crate::facilitator::engine::{self, verify_response, ReconcileReport};
use crate::facilitator::service;
use crate::facilitator::{FacilitatorConfig, FacilitatorRequest, Outcome, SettleResult};
use crate::num::U256;
use crate::text::{self, MESSAGE_MAX_BYTES};
use crate::x402::networks::Network;
use crate::x402::smart_wallet::FactoryAllowList;

fn now_or_clock(now: Option<u64>) -> u64 {
    now.unwrap_or_else(wall_clock)
}

fn config_error(e: impl std::fmt::Display) -> PyErr {
    Error::config(e).into()
}

/// A `SettleResponse`, or `SettlementOutcomeUnknown` while the outcome is unknown.
fn settle_response(result: &SettleResult) -> PyResult<SettleResponseMessage> {
    let inner = result.response();
    if let Outcome::Pending { message, .. } = &result.outcome {
        return Python::attach(|py| {
            let response = Py::new(py, SettleResponseMessage { inner })?;
            Err(outcome_unknown(
                format!(
                    "settlement outcome unknown: {}",
                    text::bounded_to(message, MESSAGE_MAX_BYTES)
                ),
                "pending",
                Some(response),
            ))
        });
    }
    Ok(SettleResponseMessage { inner })
}

fn report_dict(py: Python<'_>, r: &ReconcileReport) -> PyResult<Py<PyAny>> {
    let v = serde_json::json!({
        "settled": r.settled, "failed": r.failed, "still_pending": r.still_pending,
    });
    Ok(to_py(py, &v)?.unbind())
}

fn request(
    payload: &PaymentPayloadMessage,
    requirements: &PaymentRequirements,
) -> FacilitatorRequest {
    FacilitatorRequest {
        version: payload.inner.version,
        payload: payload.inner.clone(),
        requirements: requirements.inner.clone(),
    }
}

fn answer(py: Python<'_>, r: &service::Response) -> (u16, Py<PyBytes>) {
    (r.status, PyBytes::new(py, &r.body).unbind())
}

/// A facilitator that verifies and settles `exact` EIP-3009 payments on one
/// chain through a JSON-RPC endpoint, signing with its own key.
#[pyclass(frozen, module = "fastx402._core")]
pub struct Facilitator {
    inner: Arc<engine::Facilitator>,
}

pymethods_with_twins! {
impl Facilitator {
    /// Local and on-chain verification (nothing is sent).
    #[pyo3(signature = (payload, requirements, *, now=None))]
    async fn verify / verify_blocking(
        &self,
        py,
        payload: &PaymentPayloadMessage,
        requirements: &PaymentRequirements,
        now: Option<u64>,
    ) -> VerifyResponseMessage {
        let (inner, req) = (self.inner.clone(), request(payload, requirements));
        let now = now_or_clock(now);
        async move {
            let inner = verify_response(&inner.verify(&req, now).await);
            Ok(VerifyResponseMessage { inner })
        }
    }

    /// Settles exactly once; raises `SettlementOutcomeUnknown` while pending.
    #[pyo3(signature = (payload, requirements, *, now=None))]
    async fn settle / settle_blocking(
        &self,
        py,
        payload: &PaymentPayloadMessage,
        requirements: &PaymentRequirements,
        now: Option<u64>,
    ) -> SettleResponseMessage {
        let (inner, req) = (self.inner.clone(), request(payload, requirements));
        let now = now_or_clock(now);
        async move { settle_response(&inner.settle(&req, now).await) }
    }

    /// Reconciles every pending settlement once: `{settled, failed, still_pending}`.
    #[pyo3(signature = (*, now=None))]
    async fn reconcile / reconcile_blocking(&self, py, now: Option<u64>) -> Py<PyAny> {
        let (inner, now) = (self.inner.clone(), now_or_clock(now));
        async move {
            let report = inner.reconcile(now).await;
            Python::attach(|py| report_dict(py, &report))
        }
    }
    ;
    #[new]
    #[pyo3(signature = (
        rpc_url, network, private_key, *, journal=None, allowed_factories=Vec::new(),
        receipt_timeout=60.0, poll_interval=0.25, rpc_timeout=10.0, skew_seconds=30,
        max_fee_per_gas=None, log_lookback_blocks=100_000, log_range_blocks=10_000, now=None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        rpc_url: &str,
        network: &str,
        private_key: &PrivateKey,
        journal: Option<PathBuf>,
        allowed_factories: Vec<String>,
        receipt_timeout: f64,
        poll_interval: f64,
        rpc_timeout: f64,
        skew_seconds: u64,
        max_fee_per_gas: Option<u128>,
        log_lookback_blocks: u64,
        log_range_blocks: u64,
        now: Option<u64>,
    ) -> PyResult<Self> {
        let network = Network::parse(network).map_err(config_error)?;
        let mut cfg = FacilitatorConfig::new(network);
        cfg.receipt_timeout = seconds("receipt_timeout", receipt_timeout)?;
        cfg.receipt_poll = seconds("poll_interval", poll_interval)?;
        cfg.rpc.request_timeout = seconds("rpc_timeout", rpc_timeout)?;
        cfg.rpc.connect_timeout = cfg.rpc.connect_timeout.min(cfg.rpc.request_timeout);
        cfg.skew_seconds = skew_seconds;
        cfg.log_lookback_blocks = log_lookback_blocks;
        if log_range_blocks == 0 {
            return Err(config_error("log_range_blocks must be at least 1"));
        }
        cfg.log_range_blocks = log_range_blocks;
        cfg.journal = journal;
        cfg.factories = FactoryAllowList::parse(&allowed_factories).map_err(config_error)?;
        if let Some(cap) = max_fee_per_gas {
            cfg.fees.max_fee_ceiling =
                U256::from_dec_str(&cap.to_string()).map_err(config_error)?;
        }
        let inner =
            engine::Facilitator::new(rpc_url, private_key.key.clone(), cfg, now_or_clock(now))
                .map_err(Error::from)?;
        Ok(Facilitator {
            inner: Arc::new(inner),
        })
    }

    /// Bytes of a torn last journal record dropped at start-up (0: none); the
    /// complete records before it were restored.
    #[getter]
    fn journal_dropped_bytes(&self) -> usize {
        self.inner.ledger().dropped_tail()
    }

    /// The facilitator's signing address (pays the gas).
    #[getter]
    fn address(&self) -> String {
        self.inner.address().to_checksum()
    }

    /// The CAIP-2 network it settles on.
    #[getter]
    fn network(&self) -> String {
        self.inner.network().caip2()
    }

    #[getter]
    fn chain_id(&self) -> u64 {
        self.inner.network().chain_id()
    }

    /// `GET /supported`.
    fn supported(&self) -> SupportedResponseMessage {
        SupportedResponseMessage {
            inner: self.inner.supported(),
        }
    }

    /// Largest request body (bytes) `handle` reads; a longer one is a 413.
    #[classattr]
    const MAX_BODY_BYTES: usize = service::MAX_BODY_BYTES;

    /// The methods `route` answers (the `Allow` header of a 405); None if no such route.
    #[staticmethod]
    fn allow(route: &str) -> Option<&'static str> {
        service::Route::parse(route).map(service::Route::allow)
    }

    /// The answer due before a request's body is read, `(status, json_bytes)`
    /// (404, 405, or 400/413 for its `Content-Length` values), or None: read the
    /// body, no further than `MAX_BODY_BYTES + 1` bytes, and `handle` it.
    #[pyo3(signature = (route, *, method="POST", content_length=Vec::new()))]
    fn refuse_head(
        &self,
        py: Python<'_>,
        route: &str,
        method: &str,
        content_length: Vec<Vec<u8>>,
    ) -> Option<(u16, Py<PyBytes>)> {
        let network = self.inner.network().caip2();
        match service::head(method, route, &content_length, &network) {
            Ok(_) => None,
            Err(refused) => Some(answer(py, &refused)),
        }
    }

    /// One HTTP request (`route`: "verify", "settle", "supported", "health", with or
    /// without a leading "/"; `body`: the raw JSON; `content_length`: the raw
    /// values of its `Content-Length` headers): an awaitable of
    /// `(status, json_bytes)`, refusals included. Every answer is made in Rust.
    #[pyo3(signature = (route, body, *, method="POST", content_length=Vec::new(), now=None))]
    fn handle<'py>(
        &self,
        py: Python<'py>,
        route: String,
        body: Vec<u8>,
        method: &str,
        content_length: Vec<Vec<u8>>,
        now: Option<u64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (inner, now, method) = (self.inner.clone(), now_or_clock(now), method.to_owned());
        runtime::awaitable(py, async move {
            let request = service::Request {
                method: &method,
                path: &route,
                content_length: &content_length,
                body: &body,
            };
            let response = service::handle(&inner, &request, now).await;
            Python::attach(|py| Ok(answer(py, &response)))
        })
    }

    /// Settlements whose outcome is unknown: `[{transaction, payer, pay_to, amount, nonce, network}]`.
    fn pending<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let list: Vec<Value> = self
            .inner
            .ledger()
            .pending()
            .into_iter()
            .map(|(_, tx)| {
                serde_json::json!({
                    "transaction": crate::crypto::hexutil::encode_0x(&tx.tx_hash),
                    "payer": tx.payer.to_checksum(),
                    "pay_to": tx.pay_to.to_checksum(),
                    "amount": tx.amount.to_string(),
                    "nonce": tx.nonce,
                    "network": tx.network,
                })
            })
            .collect();
        to_py(py, &Value::Array(list))
    }

    fn __repr__(&self) -> String {
        format!(
            "Facilitator(network={:?}, address={:?})",
            self.inner.network().caip2(),
            self.inner.address().to_checksum()
        )
    }
}
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Facilitator>()
}
