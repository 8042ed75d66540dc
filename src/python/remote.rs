//! `RemoteFacilitator`: the remote facilitator client for Python, awaitable
//! methods and blocking twins (GIL released) over `facilitator::remote`.

use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::errors::outcome_unknown;
use super::runtime::{pymethods_with_twins, seconds};
use super::x402::{
    PaymentPayloadMessage, PaymentRequirements, SettleResponseMessage, SupportedResponseMessage,
    VerifyResponseMessage,
};
use crate::error::Error;
use crate::facilitator::remote::{self, RemoteConfig, RemoteError, SettleOutcome};
use crate::x402::types::{PaymentPayload, Requirements};

fn verify_result(
    r: Result<crate::x402::types::VerifyResponse, RemoteError>,
) -> PyResult<VerifyResponseMessage> {
    r.map(|inner| VerifyResponseMessage { inner })
        .map_err(|e| Error::from(e).into())
}

fn supported_result(
    r: Result<crate::x402::types::SupportedResponse, RemoteError>,
) -> PyResult<SupportedResponseMessage> {
    r.map(|inner| SupportedResponseMessage { inner })
        .map_err(|e| Error::from(e).into())
}

/// Settled and failed answers are returned (the caller checks `.success`); an
/// unknown outcome raises `SettlementOutcomeUnknown`, with the answer if any.
fn settle_result(r: Result<SettleOutcome, RemoteError>) -> PyResult<SettleResponseMessage> {
    match r {
        Ok(SettleOutcome::Settled(inner) | SettleOutcome::Failed(inner)) => {
            Ok(SettleResponseMessage { inner })
        }
        Ok(SettleOutcome::Unknown { error, response }) => Python::attach(|py| {
            let response = response
                .map(|inner| Py::new(py, SettleResponseMessage { inner }))
                .transpose()?;
            Err(outcome_unknown(error.to_string(), error.code(), response))
        }),
        Err(e) => Err(Error::from(e).into()),
    }
}

/// A client for a remote x402 facilitator (`/verify`, `/settle`, `/supported`).
#[pyclass(frozen, module = "fastx402._core")]
struct RemoteFacilitator {
    inner: remote::RemoteFacilitator,
}

impl RemoteFacilitator {
    fn args(
        &self,
        payload: &Bound<'_, PaymentPayloadMessage>,
        requirements: &Bound<'_, PaymentRequirements>,
    ) -> (remote::RemoteFacilitator, PaymentPayload, Requirements) {
        (
            self.inner.clone(),
            payload.get().inner.clone(),
            requirements.get().inner.clone(),
        )
    }
}

pymethods_with_twins! {
impl RemoteFacilitator {
    /// `POST /verify`: the facilitator's verdict.
    #[pyo3(signature = (payload, requirements))]
    async fn verify / verify_blocking(
        &self,
        py,
        payload: &Bound<'py, PaymentPayloadMessage>,
        requirements: &Bound<'py, PaymentRequirements>,
    ) -> VerifyResponseMessage {
        let (client, payload, requirements) = self.args(payload, requirements);
        async move { verify_result(client.verify(&payload, &requirements).await) }
    }

    /// `POST /settle`: settled and failed answers are returned; an unknown outcome
    /// raises `SettlementOutcomeUnknown`.
    #[pyo3(signature = (payload, requirements))]
    async fn settle / settle_blocking(
        &self,
        py,
        payload: &Bound<'py, PaymentPayloadMessage>,
        requirements: &Bound<'py, PaymentRequirements>,
    ) -> SettleResponseMessage {
        let (client, payload, requirements) = self.args(payload, requirements);
        async move { settle_result(client.settle(&payload, &requirements).await) }
    }

    /// `GET /supported`.
    #[pyo3(signature = ())]
    async fn supported / supported_blocking(&self, py) -> SupportedResponseMessage {
        let client = self.inner.clone();
        async move { supported_result(client.supported().await) }
    }
    ;
    #[new]
    #[pyo3(signature = (url, *, headers=None, timeout=10.0, settle_timeout=60.0, connect_timeout=3.0, max_response_bytes=65536))]
    fn new(
        url: &str,
        headers: Option<&Bound<'_, PyDict>>,
        timeout: f64,
        settle_timeout: f64,
        connect_timeout: f64,
        max_response_bytes: usize,
    ) -> PyResult<Self> {
        let mut pairs = Vec::new();
        for (name, value) in headers.into_iter().flat_map(|h| h.iter()) {
            pairs.push((name.extract::<String>()?, value.extract::<String>()?));
        }
        let config = RemoteConfig {
            connect_timeout: seconds("connect_timeout", connect_timeout)?,
            verify_timeout: seconds("timeout", timeout)?,
            settle_timeout: seconds("settle_timeout", settle_timeout)?,
            max_response_bytes,
            headers: pairs,
        };
        let inner = remote::RemoteFacilitator::new(url, config).map_err(Error::from)?;
        Ok(RemoteFacilitator { inner })
    }

    fn __repr__(&self) -> String {
        format!("RemoteFacilitator(url={:?})", self.inner.url_shown())
    }
}
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<RemoteFacilitator>()
}
