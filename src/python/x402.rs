//! x402 wire types and the payment schemes for Python: frozen classes over
//! the Rust types (one parser, in Rust), and `create_payment` / `verify_payment`.

use std::time::{SystemTime, UNIX_EPOCH};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyInt, PyString, PyType};
use serde_json::Value;

use super::convert::{to_json_parts, to_py};
use super::PrivateKey;
use crate::error::Error;
use crate::num::U256;
use crate::x402::codec::{self, DEFAULT_MAX_HEADER_BYTES};
use crate::x402::create::CreateOptions;
use crate::x402::error::ProtocolError;
use crate::x402::extensions::{self, bazaar};
use crate::x402::money;
use crate::x402::networks::Registry;
use crate::x402::payload::SchemePayload;
use crate::x402::payment;
use crate::x402::types::{
    PaymentPayload, PaymentRequired, Requirements, SettleResponse, SupportedResponse,
    VerifyResponse,
};
use crate::x402::verify::{self, Verdict, VerifyOptions};
use crate::x402::{reason, receipt};

/// A Python value as an x402 message's JSON; anything unconvertible is `invalid_payload`.
fn to_json(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    to_json_parts(obj).map_err(|(path, message)| {
        Error::from(ProtocolError::field(
            crate::x402::reason::INVALID_PAYLOAD,
            path,
            message,
        ))
        .into()
    })
}

/// A header value as text; a `str` that is not valid Unicode (lone surrogates) is a
/// malformed header, not a Python encoding error.
fn header_text<'a>(header: &'a Bound<'_, PyString>) -> PyResult<std::borrow::Cow<'a, str>> {
    header.to_cow().map_err(|_| {
        Error::from(ProtocolError::new(
            crate::x402::error::ErrorKind::Base64,
            crate::x402::reason::INVALID_PAYLOAD,
            "$",
            "header is not valid text",
        ))
        .into()
    })
}

/// Unix seconds now: the clock used when Python passes no `now`.
pub(super) fn wall_clock() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// An atomic amount or a uint256 time as a Python `int` (exact, any size).
fn py_int(py: Python<'_>, value: U256) -> PyResult<Bound<'_, PyAny>> {
    let text = value.to_string();
    match text.parse::<u128>() {
        Ok(small) => Ok(small.into_pyobject(py)?.into_any()),
        Err(_) => py.get_type::<PyInt>().call1((text,)),
    }
}

/// `decimal.Decimal(text)`.
fn py_decimal<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    static DECIMAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    DECIMAL.import(py, "decimal", "Decimal")?.call1((text,))
}

fn opt_py<'py>(py: Python<'py>, v: Option<&Value>) -> PyResult<Bound<'py, PyAny>> {
    match v {
        Some(v) => to_py(py, v),
        None => Ok(py.None().into_bound(py)),
    }
}

/// `#[pymethods]` for a wire class: the given methods plus `to_dict`, `==`, `repr`;
/// with `from $Core`, also `from_dict` through `$Core::from_json`.
macro_rules! wire_class {
    ($ty:ident from $core:ident { $($body:tt)* }) => {
        wire_class!($ty {
            #[staticmethod]
            fn from_dict(data: &Bound<'_, PyAny>) -> PyResult<Self> {
                let inner = $core::from_json(&to_json(data)?).map_err(Error::from)?;
                Ok($ty { inner })
            }

            $($body)*
        });
    };
    ($ty:ident { $($body:tt)* }) => {
        #[pymethods]
        impl $ty {
            /// The message as a JSON-ready dict (exactly the JSON it was read from).
            fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                to_py(py, &self.inner.raw)
            }

            fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
                other
                    .cast::<$ty>()
                    .map(|o| o.get().inner.raw == self.inner.raw)
                    .unwrap_or(false)
            }

            fn __repr__(&self) -> String {
                format!("{}({})", stringify!($ty), self.inner.raw)
            }

            $($body)*
        }
    };
}

/// One entry of `accepts`: scheme, network, amount, asset, payee, timeout, extra.
#[pyclass(frozen, module = "fastx402._core")]
pub struct PaymentRequirements {
    pub inner: Requirements,
}
wire_class!(PaymentRequirements {
    #[staticmethod]
    #[pyo3(signature = (data, *, x402_version=2))]
    fn from_dict(data: &Bound<'_, PyAny>, x402_version: u8) -> PyResult<Self> {
        let inner = Requirements::from_json(&to_json(data)?, x402_version).map_err(Error::from)?;
        Ok(PaymentRequirements { inner })
    }

    #[getter]
    fn x402_version(&self) -> u8 {
        self.inner.version
    }
    #[getter]
    fn scheme(&self) -> &str {
        &self.inner.scheme
    }
    #[getter]
    fn network(&self) -> &str {
        &self.inner.network
    }
    /// Atomic units, as a decimal string.
    #[getter]
    fn amount(&self) -> String {
        self.inner.amount.to_string()
    }
    /// `amount` as an `int` (atomic units of `asset`).
    #[getter]
    fn amount_atomic<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_int(py, self.inner.amount)
    }
    /// `amount` in whole tokens as a `Decimal` (`"10000"` of a 6-decimals USDC →
    /// `Decimal("0.01")`), with the decimals of the asset registered at `asset` on
    /// `network`; `None` when the network or the asset is not registered (see
    /// `register_asset`): without its decimals an amount has no price.
    #[getter]
    fn price<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let registry = Registry::global();
        let Ok(network) = registry.parse_network(&self.inner.network) else {
            return Ok(None);
        };
        let Ok(asset) = registry.asset(network.chain_id(), &self.inner.asset) else {
            return Ok(None);
        };
        let text = money::atomic_to_decimal(self.inner.amount, asset.decimals);
        py_decimal(py, &text).map(Some)
    }
    #[getter]
    fn asset(&self) -> String {
        self.inner.asset.to_checksum()
    }
    #[getter]
    fn pay_to(&self) -> String {
        self.inner.pay_to.to_checksum()
    }
    #[getter]
    fn max_timeout_seconds(&self) -> u64 {
        self.inner.max_timeout_seconds
    }
    #[getter]
    fn extra<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match &self.inner.extra {
            Some(m) => to_py(py, &Value::Object(m.clone())),
            None => Ok(py.None().into_bound(py)),
        }
    }
    /// v1 only: the resource URL carried in the requirements.
    #[getter]
    fn resource(&self) -> Option<&str> {
        self.inner.resource.as_deref()
    }
});

/// The 402 answer (`PAYMENT-REQUIRED` header in v2, the body in v1).
#[pyclass(frozen, module = "fastx402._core", name = "PaymentRequired")]
pub struct PaymentRequiredMessage {
    pub inner: PaymentRequired,
}
wire_class!(PaymentRequiredMessage from PaymentRequired {
    #[staticmethod]
    #[pyo3(signature = (header, *, max_bytes=DEFAULT_MAX_HEADER_BYTES))]
    fn from_header(header: &Bound<'_, PyString>, max_bytes: usize) -> PyResult<Self> {
        let header = &*header_text(header)?;
        let inner = PaymentRequired::from_header(header, max_bytes).map_err(Error::from)?;
        Ok(PaymentRequiredMessage { inner })
    }

    fn to_header(&self) -> String {
        self.inner.to_header()
    }
    #[getter]
    fn x402_version(&self) -> u8 {
        self.inner.version
    }
    #[getter]
    fn error(&self) -> Option<&str> {
        self.inner.error.as_deref()
    }
    #[getter]
    fn resource<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        opt_py(py, self.inner.resource.as_ref().map(|r| &r.raw))
    }
    #[getter]
    fn accepts(&self) -> Vec<PaymentRequirements> {
        self.inner
            .accepts
            .iter()
            .map(|r| PaymentRequirements { inner: r.clone() })
            .collect()
    }
    #[getter]
    fn extensions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        opt_py(py, self.inner.extensions.as_ref())
    }
});

/// A client's payment (`PAYMENT-SIGNATURE` in v2, `X-PAYMENT` in v1).
#[pyclass(frozen, module = "fastx402._core", name = "PaymentPayload")]
pub struct PaymentPayloadMessage {
    pub inner: PaymentPayload,
}
wire_class!(PaymentPayloadMessage from PaymentPayload {
    #[staticmethod]
    #[pyo3(signature = (header, *, max_bytes=DEFAULT_MAX_HEADER_BYTES))]
    fn from_header(py: Python<'_>, header: &Bound<'_, PyString>, max_bytes: usize) -> PyResult<Self> {
        let header = &*header_text(header)?;
        let inner = py
            .detach(|| PaymentPayload::from_header(header, max_bytes))
            .map_err(Error::from)?;
        Ok(PaymentPayloadMessage { inner })
    }

    fn to_header(&self) -> String {
        self.inner.to_header()
    }
    #[getter]
    fn x402_version(&self) -> u8 {
        self.inner.version
    }
    #[getter]
    fn scheme(&self) -> &str {
        &self.inner.scheme
    }
    #[getter]
    fn network(&self) -> &str {
        &self.inner.network
    }
    #[getter]
    fn accepted(&self) -> Option<PaymentRequirements> {
        self.inner
            .accepted
            .as_ref()
            .map(|r| PaymentRequirements { inner: r.clone() })
    }
    #[getter]
    fn payload<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.raw["payload"])
    }
    /// The client's `payment-identifier` id (`extensions["payment-identifier"].info.id`),
    /// `None` when absent; a malformed one raises `ProtocolError` naming its path.
    #[getter]
    fn payment_identifier(&self) -> PyResult<Option<String>> {
        Ok(extensions::payment_identifier(self.inner.extensions.as_ref()).map_err(Error::from)?)
    }
    /// This payment with `id` as its `payment-identifier` (extensions are not signed: the
    /// signature is unchanged). Resend the result, not a re-signed payment, after a lost answer.
    fn with_payment_identifier(&self, id: &str) -> PyResult<PaymentPayloadMessage> {
        let ext =
            extensions::with_payment_identifier(self.inner.extensions.as_ref(), id).map_err(Error::from)?;
        let mut raw = self.inner.raw.clone();
        if let Some(map) = raw.as_object_mut() {
            map.insert("extensions".into(), ext);
        }
        let inner = PaymentPayload::from_json(&raw).map_err(Error::from)?;
        Ok(PaymentPayloadMessage { inner })
    }
    /// The payer, whatever the scheme: EIP-3009 `authorization.from`, Permit2 (`exact`
    /// or `upto`) `permit2Authorization.from`; `None` for a payload no scheme can read.
    #[getter]
    fn payer(&self) -> Option<String> {
        self.inner.payer().map(|a| a.to_checksum())
    }
    /// The amount the payer authorized, as an `int` in atomic units: EIP-3009
    /// `authorization.value`, Permit2 `permitted.amount` (for `upto`, the maximum);
    /// `None` for a payload no scheme can read.
    #[getter]
    fn amount_atomic<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let amount = match &self.inner.payload {
            SchemePayload::Eip3009 { authorization, .. } => authorization.value,
            SchemePayload::Permit2(p) | SchemePayload::Upto(p) => {
                p.authorization.permitted.amount
            }
            SchemePayload::Other(_) => return Ok(None),
        };
        py_int(py, amount).map(Some)
    }
    /// Unix seconds from which the payment is valid, as an `int`: EIP-3009
    /// `authorization.validAfter`, Permit2 `witness.validAfter`; `None` for a payload
    /// no scheme can read.
    #[getter]
    fn valid_after<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let time = match &self.inner.payload {
            SchemePayload::Eip3009 { authorization, .. } => authorization.valid_after,
            SchemePayload::Permit2(p) | SchemePayload::Upto(p) => {
                p.authorization.witness.valid_after
            }
            SchemePayload::Other(_) => return Ok(None),
        };
        py_int(py, time).map(Some)
    }
    /// Unix seconds before which the payment must settle (exclusive), as an `int`:
    /// EIP-3009 `authorization.validBefore`; `None` otherwise (a Permit2 payment has
    /// an inclusive `deadline` instead).
    #[getter]
    fn valid_before<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match &self.inner.payload {
            SchemePayload::Eip3009 { authorization, .. } => {
                py_int(py, authorization.valid_before).map(Some)
            }
            _ => Ok(None),
        }
    }
    /// Permit2 (`exact` or `upto`) only: the last Unix second the permit is valid
    /// (inclusive), as an `int`; `None` otherwise.
    #[getter]
    fn deadline<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match self.inner.payload.permit2() {
            Some(p) => py_int(py, p.authorization.deadline).map(Some),
            None => Ok(None),
        }
    }
    #[getter]
    fn resource<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        opt_py(py, self.inner.resource.as_ref().map(|r| &r.raw))
    }
    #[getter]
    fn extensions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        opt_py(py, self.inner.extensions.as_ref())
    }
});

/// A settlement result (`PAYMENT-RESPONSE` header, facilitator `/settle`).
#[pyclass(frozen, module = "fastx402._core", name = "SettleResponse")]
pub struct SettleResponseMessage {
    pub inner: SettleResponse,
}
wire_class!(SettleResponseMessage from SettleResponse {
    #[staticmethod]
    #[pyo3(signature = (header, *, max_bytes=DEFAULT_MAX_HEADER_BYTES))]
    fn from_header(header: &Bound<'_, PyString>, max_bytes: usize) -> PyResult<Self> {
        let header = &*header_text(header)?;
        let inner = SettleResponse::from_header(header, max_bytes).map_err(Error::from)?;
        Ok(SettleResponseMessage { inner })
    }
    fn to_header(&self) -> String {
        codec::encode_header(&self.inner.raw)
    }
    /// Raises `ProtocolError` (reason `unexpected_settle_error`, `path` the field
    /// at fault) unless this answer settles the payment of `requirements` by
    /// `payer`: success, the same network, payer and amount (`upto`: at most).
    #[pyo3(signature = (requirements, payer=None))]
    fn check(&self, requirements: &PaymentRequirements, payer: Option<&str>) -> PyResult<()> {
        let payer = payer
            .map(crate::crypto::address::Address::parse)
            .transpose()
            .map_err(Error::from)?;
        let r = &requirements.inner;
        receipt::check_settlement(&self.inner, &r.network, payer, &r.scheme, r.amount).map_err(
            |m| {
                let e = ProtocolError::field(reason::UNEXPECTED_SETTLE_ERROR, m.field(), &m);
                Error::from(e).into()
            },
        )
    }
    #[getter]
    fn success(&self) -> bool {
        self.inner.success
    }
    #[getter]
    fn error_reason(&self) -> Option<&str> {
        self.inner.error_reason.as_deref()
    }
    #[getter]
    fn error_message(&self) -> Option<&str> {
        self.inner.error_message.as_deref()
    }
    #[getter]
    fn payer(&self) -> Option<String> {
        self.inner.payer.map(|a| a.to_checksum())
    }
    #[getter]
    fn transaction(&self) -> &str {
        &self.inner.transaction
    }
    #[getter]
    fn network(&self) -> &str {
        &self.inner.network
    }
    #[getter]
    fn amount(&self) -> Option<String> {
        self.inner.amount.map(|a| a.to_string())
    }
    /// `amount` as an `int` (atomic units); `None` when the answer has none.
    #[getter]
    fn amount_atomic<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner.amount.map(|a| py_int(py, a)).transpose()
    }
});

/// A facilitator's `/verify` answer.
#[pyclass(frozen, module = "fastx402._core", name = "VerifyResponse")]
pub struct VerifyResponseMessage {
    pub inner: VerifyResponse,
}
wire_class!(VerifyResponseMessage from VerifyResponse {
    #[getter]
    fn is_valid(&self) -> bool {
        self.inner.is_valid
    }
    #[getter]
    fn invalid_reason(&self) -> Option<&str> {
        self.inner.invalid_reason.as_deref()
    }
    #[getter]
    fn invalid_message(&self) -> Option<&str> {
        self.inner.invalid_message.as_deref()
    }
    #[getter]
    fn payer(&self) -> Option<String> {
        self.inner.payer.map(|a| a.to_checksum())
    }
});

/// A facilitator's `GET /supported` answer.
#[pyclass(frozen, module = "fastx402._core", name = "SupportedResponse")]
pub struct SupportedResponseMessage {
    pub inner: SupportedResponse,
}
wire_class!(SupportedResponseMessage from SupportedResponse {
    #[getter]
    fn kinds<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.raw["kinds"])
    }
    #[getter]
    fn extensions(&self) -> Vec<String> {
        self.inner.extensions.clone()
    }
    #[getter]
    fn signers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &Value::Object(self.inner.signers.clone()))
    }
});

/// The outcome of local verification. Not valid always means a `reason`.
#[pyclass(frozen, module = "fastx402._core", get_all)]
pub struct VerifyResult {
    /// True only for a plain EOA signature that checks out with every rule.
    is_valid: bool,
    /// An x402 reason code whenever not valid (`needs_onchain_verification` for
    /// `needs_chain`).
    reason: Option<String>,
    message: Option<String>,
    /// Well-formed, but a smart-wallet signature that only chain state can decide.
    needs_chain: bool,
    /// The claimed payer (`from`): authenticated only when valid.
    payer: Option<String>,
    /// `eip155:<chain>:<token>:<from>:<nonce>`, the same for every encoding; only when valid.
    replay_key: Option<String>,
    /// The EIP-712 digest the payer signed; only when valid.
    digest: Option<Py<PyBytes>>,
    /// `needs_chain` only: the replay key of a payment whose signature nobody has checked.
    unauthenticated_replay_key: Option<String>,
    /// `needs_chain` only: the digest the smart wallet must have signed.
    unauthenticated_digest: Option<Py<PyBytes>>,
}

#[pymethods]
impl VerifyResult {
    fn __repr__(&self) -> String {
        let py_str =
            |s: &Option<String>| s.as_ref().map_or("None".to_owned(), |s| format!("{s:?}"));
        format!(
            "VerifyResult(is_valid={}, reason={}, payer={})",
            if self.is_valid { "True" } else { "False" },
            py_str(&self.reason),
            py_str(&self.payer)
        )
    }
}

fn payment_required_arg(obj: &Bound<'_, PyAny>) -> PyResult<PaymentRequired> {
    if let Ok(p) = obj.cast::<PaymentRequiredMessage>() {
        return Ok(p.get().inner.clone());
    }
    if let Ok(s) = obj.cast::<PyString>() {
        let header = header_text(s)?;
        return Ok(
            PaymentRequired::from_header(&header, DEFAULT_MAX_HEADER_BYTES).map_err(Error::from)?,
        );
    }
    Ok(PaymentRequired::from_json(&to_json(obj)?).map_err(Error::from)?)
}

fn payment_payload_arg(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    max_bytes: usize,
) -> PyResult<PaymentPayload> {
    if let Ok(p) = obj.cast::<PaymentPayloadMessage>() {
        return Ok(p.get().inner.clone());
    }
    if let Ok(s) = obj.cast::<PyString>() {
        let header = &*header_text(s)?;
        return Ok(py
            .detach(|| PaymentPayload::from_header(header, max_bytes))
            .map_err(Error::from)?);
    }
    Ok(PaymentPayload::from_json(&to_json(obj)?).map_err(Error::from)?)
}

fn requirements_arg(obj: &Bound<'_, PyAny>) -> PyResult<Requirements> {
    if let Ok(r) = obj.cast::<PaymentRequirements>() {
        return Ok(r.get().inner.clone());
    }
    let dict = obj.cast::<PyDict>()?;
    let version = if dict.contains("maxAmountRequired")? {
        1
    } else {
        2
    };
    Ok(Requirements::from_json(&to_json(obj)?, version).map_err(Error::from)?)
}

/// Signs a payment for a 402 answer (a `PaymentRequired`, its header value or its
/// dict): `exact` over EIP-3009 or Permit2, or `upto`. Unless `requirements` names
/// one, picks the first EIP-3009 `exact` entry, else the first Permit2 one.
#[pyfunction]
#[pyo3(signature = (payment_required, signer, *, requirements=None, now=None, nonce=None))]
fn create_payment(
    py: Python<'_>,
    payment_required: &Bound<'_, PyAny>,
    signer: &Bound<'_, PrivateKey>,
    requirements: Option<&Bound<'_, PyAny>>,
    now: Option<u64>,
    nonce: Option<&[u8]>,
) -> PyResult<PaymentPayloadMessage> {
    let required = payment_required_arg(payment_required)?;
    let chosen = match requirements {
        Some(r) => requirements_arg(r)?,
        None => payment::select_requirements(&required)
            .map_err(Error::from)?
            .clone(),
    };
    let nonce = match nonce {
        Some(n) => Some(<[u8; 32]>::try_from(n).map_err(|_| Error::DigestLength(n.len()))?),
        None => None,
    };
    let options = CreateOptions {
        now: now.unwrap_or_else(wall_clock),
        nonce,
    };
    let key = &signer.get().key;
    let inner = py
        .detach(|| payment::create_payment(&required, &chosen, key, &options))
        .map_err(Error::from)?;
    Ok(PaymentPayloadMessage { inner })
}

/// Verifies a payment locally (no chain) against its requirements: the official
/// checks in the official order and reason strings, plus fastx402's stricter ones.
#[pyfunction]
#[pyo3(signature = (payment, requirements, *, now=None, skew_seconds=verify::DEFAULT_SKEW, resource_url=None, max_header_bytes=DEFAULT_MAX_HEADER_BYTES))]
fn verify_payment(
    py: Python<'_>,
    payment: &Bound<'_, PyAny>,
    requirements: &Bound<'_, PyAny>,
    now: Option<u64>,
    skew_seconds: u64,
    resource_url: Option<String>,
    max_header_bytes: usize,
) -> PyResult<VerifyResult> {
    let payload = payment_payload_arg(py, payment, max_header_bytes)?;
    let requirements = requirements_arg(requirements)?;
    let options = VerifyOptions {
        now: now.unwrap_or_else(wall_clock),
        skew_seconds,
        resource_url,
    };
    let v = py.detach(|| payment::verify_payment(&payload, &requirements, &options));
    let needs_chain = matches!(v.verdict, Verdict::NeedsChain { .. });
    let digest = |keep: bool| {
        v.digest
            .filter(|_| keep)
            .map(|d| PyBytes::new(py, &d).unbind())
    };
    Ok(VerifyResult {
        is_valid: v.is_valid(),
        reason: v.verdict.reason().map(str::to_owned),
        message: v.verdict.message().map(str::to_owned),
        needs_chain,
        payer: v.payer.map(|a| a.to_checksum()),
        replay_key: v.authenticated_replay_key().map(|k| k.to_string()),
        digest: digest(v.is_valid()),
        unauthenticated_replay_key: v.unauthenticated_replay_key().map(|k| k.to_string()),
        unauthenticated_digest: digest(needs_chain),
    })
}

/// What a seller declares in its 402 `extensions["payment-identifier"]`.
#[pyfunction]
#[pyo3(signature = (*, required=false))]
fn payment_identifier_declaration(py: Python<'_>, required: bool) -> PyResult<Bound<'_, PyAny>> {
    to_py(py, &extensions::payment_identifier_declaration(required))
}

fn opt_json(value: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Value>> {
    match value {
        None => Ok(None),
        Some(v) if v.is_none() => Ok(None),
        Some(v) => to_json(v).map(Some),
    }
}

/// A route's `bazaar` discovery declaration (`extensions["bazaar"]` before any request).
#[pyfunction]
#[pyo3(signature = (
    *, method=None, body_type=None, input=None, input_schema=None, path_params_schema=None,
    output_example=None, output_schema=None
))]
#[allow(clippy::too_many_arguments)]
fn bazaar_declaration<'py>(
    py: Python<'py>,
    method: Option<String>,
    body_type: Option<String>,
    input: Option<&Bound<'py, PyAny>>,
    input_schema: Option<&Bound<'py, PyAny>>,
    path_params_schema: Option<&Bound<'py, PyAny>>,
    output_example: Option<&Bound<'py, PyAny>>,
    output_schema: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let discovery = bazaar::Discovery {
        method,
        body_type,
        input: opt_json(input)?,
        input_schema: opt_json(input_schema)?,
        path_params_schema: opt_json(path_params_schema)?,
        output_example: opt_json(output_example)?,
        output_schema: opt_json(output_schema)?,
    };
    to_py(
        py,
        &bazaar::bazaar_declaration(&discovery).map_err(Error::from)?,
    )
}

/// A `bazaar` declaration as answered to one request: its method, and for routes with
/// parameters `pathParams` and `routeTemplate`.
#[pyfunction]
#[pyo3(signature = (declaration, method, *, route=None, path="/"))]
fn bazaar_for_request<'py>(
    py: Python<'py>,
    declaration: &Bound<'py, PyAny>,
    method: &str,
    route: Option<&str>,
    path: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let ext = bazaar::bazaar_for_request(&to_json(declaration)?, method, route, path)
        .map_err(Error::from)?;
    to_py(py, &ext)
}

/// Checks a `bazaar` extension's shape (raises naming the JSON path).
#[pyfunction]
fn validate_bazaar(declaration: &Bound<'_, PyAny>) -> PyResult<()> {
    Ok(bazaar::validate_bazaar(&to_json(declaration)?).map_err(Error::from)?)
}

/// A header value: standard padded base64 of compact JSON.
#[pyfunction]
fn encode_header(data: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(codec::encode_header(&to_json(data)?))
}

/// A header value decoded strictly (size cap first, one base64 alphabet, strict JSON).
#[pyfunction]
#[pyo3(signature = (header, *, max_bytes=DEFAULT_MAX_HEADER_BYTES))]
fn decode_header<'py>(
    py: Python<'py>,
    header: &Bound<'py, PyString>,
    max_bytes: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let value = codec::decode_header_json(&header_text(header)?, max_bytes).map_err(Error::from)?;
    to_py(py, &value)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PaymentRequirements>()?;
    m.add_class::<PaymentRequiredMessage>()?;
    m.add_class::<PaymentPayloadMessage>()?;
    m.add_class::<SettleResponseMessage>()?;
    m.add_class::<VerifyResponseMessage>()?;
    m.add_class::<SupportedResponseMessage>()?;
    m.add_class::<VerifyResult>()?;
    m.add_function(wrap_pyfunction!(create_payment, m)?)?;
    m.add_function(wrap_pyfunction!(verify_payment, m)?)?;
    m.add_function(wrap_pyfunction!(encode_header, m)?)?;
    m.add_function(wrap_pyfunction!(payment_identifier_declaration, m)?)?;
    m.add_function(wrap_pyfunction!(bazaar_declaration, m)?)?;
    m.add_function(wrap_pyfunction!(bazaar_for_request, m)?)?;
    m.add_function(wrap_pyfunction!(validate_bazaar, m)?)?;
    m.add_function(wrap_pyfunction!(decode_header, m)?)?;
    m.add("DEFAULT_MAX_HEADER_BYTES", DEFAULT_MAX_HEADER_BYTES)?;
    // Every x402 reason code (`fastx402.errors.Reason` must list exactly these).
    m.add(
        "REASONS",
        pyo3::types::PyTuple::new(m.py(), crate::x402::reason::ALL)?,
    )?;
    Ok(())
}
