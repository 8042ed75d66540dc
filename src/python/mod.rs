//! `fastx402._core`: the PyO3 adapter. Thin: converts arguments, releases the GIL
//! around curve operations, maps errors. No protocol logic lives here.

mod convert;
mod errors;
mod facilitator;
mod networks;
mod remote;
mod runtime;
mod view;
mod x402;

use pyo3::exceptions::PyValueError;

/// Only the extension module (the `python` feature) replaces the allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use crate::crypto::address::Address;
use crate::crypto::ecdsa::{self, Policy, SecretKey};
use crate::crypto::eip712::{self, DomainTypes, Types};
use crate::crypto::{eip191, hexutil, keccak};
use crate::error::Error;
use convert::{document_to_json, to_json};

fn domain_types(arg: Option<&str>) -> PyResult<DomainTypes> {
    match arg {
        None | Some("given") => Ok(DomainTypes::Given),
        Some("infer") => Ok(DomainTypes::Infer),
        Some(other) => Err(PyValueError::new_err(format!(
            "domain_types must be None, 'given' or 'infer', not {other:?}"
        ))),
    }
}

fn digest32(digest: &[u8]) -> Result<[u8; 32], Error> {
    digest
        .try_into()
        .map_err(|_| Error::DigestLength(digest.len()))
}

/// Signature bytes, or a `0x` hex string of them.
fn signature_bytes(sig: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = sig.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(s) = sig.cast::<PyString>() {
        return hexutil::decode_0x(s.to_str()?)
            .map_err(|e| errors::signature_input_error(format!("signature hex: {e}")));
    }
    Err(errors::signature_input_error(
        "signature must be bytes or a 0x hex string".to_owned(),
    ))
}

/// Message bytes; `str` is encoded as UTF-8.
fn message_bytes(message: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = message.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(s) = message.cast::<PyString>() {
        return Ok(s.to_str()?.as_bytes().to_vec());
    }
    Err(pyo3::exceptions::PyTypeError::new_err(
        "message must be bytes or str",
    ))
}

fn policy(allow_high_s: bool) -> Policy {
    Policy { allow_high_s }
}

fn typed_data_digest(data: &serde_json::Value, mode: DomainTypes) -> Result<[u8; 32], Error> {
    Ok(eip712::hash_typed_data(data, mode)?)
}

/// A typed-data document ready to hash: already hashed in place (a plain `dict` the
/// engine accepted as it is), or converted to JSON for the general path.
enum TypedDoc {
    Digest([u8; 32]),
    Json(serde_json::Value),
}

impl TypedDoc {
    /// Conversion errors are raised here, engine errors by [`TypedDoc::digest`], as the
    /// general path alone would.
    fn new(data: &Bound<'_, PyAny>, mode: DomainTypes) -> PyResult<Self> {
        Ok(match view::digest_in_place(data, mode) {
            Some(digest) => TypedDoc::Digest(digest),
            None => TypedDoc::Json(document_to_json(data)?),
        })
    }

    fn digest(&self, mode: DomainTypes) -> Result<[u8; 32], Error> {
        match self {
            TypedDoc::Digest(digest) => Ok(*digest),
            TypedDoc::Json(value) => typed_data_digest(value, mode),
        }
    }
}

#[pyfunction]
fn keccak256<'py>(py: Python<'py>, data: &[u8]) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &keccak::keccak256(data))
}

#[pyfunction]
fn to_checksum_address(address: &str) -> PyResult<String> {
    Ok(Address::parse(address).map_err(Error::from)?.to_checksum())
}

#[pyfunction]
fn hash_message<'py>(
    py: Python<'py>,
    message: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    Ok(PyBytes::new(
        py,
        &eip191::hash_message(&message_bytes(message)?),
    ))
}

#[pyfunction]
#[pyo3(signature = (data, *, domain_types=None))]
fn hash_typed_data<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    domain_types: Option<&str>,
) -> PyResult<Bound<'py, PyBytes>> {
    let mode = self::domain_types(domain_types)?;
    let doc = TypedDoc::new(data, mode)?;
    Ok(PyBytes::new(py, &doc.digest(mode)?))
}

/// The digest computed by reading a `dict` in place, or `None` where `hash_typed_data`
/// takes the general path (conversion to JSON). For tests: both paths must agree.
#[pyfunction]
#[pyo3(signature = (data, *, domain_types=None))]
fn _hash_typed_data_in_place<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    domain_types: Option<&str>,
) -> PyResult<Option<Bound<'py, PyBytes>>> {
    let mode = self::domain_types(domain_types)?;
    Ok(view::digest_in_place(data, mode).map(|d| PyBytes::new(py, &d)))
}

#[pyfunction]
#[pyo3(signature = (data, *, domain_types=None))]
fn domain_separator<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    domain_types: Option<&str>,
) -> PyResult<Bound<'py, PyBytes>> {
    let mode = self::domain_types(domain_types)?;
    let value = document_to_json(data)?;
    let hash = eip712::domain_separator(&value, mode).map_err(Error::from)?;
    Ok(PyBytes::new(py, &hash))
}

#[pyfunction]
fn encode_type(types: &Bound<'_, PyAny>, primary_type: &str) -> PyResult<String> {
    let types = Types::from_json(&to_json(types)?).map_err(Error::from)?;
    Ok(types.encode_type(primary_type).map_err(Error::from)?)
}

#[pyfunction]
fn type_hash<'py>(
    py: Python<'py>,
    types: &Bound<'py, PyAny>,
    primary_type: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let types = Types::from_json(&to_json(types)?).map_err(Error::from)?;
    let hash = types.type_hash(primary_type).map_err(Error::from)?;
    Ok(PyBytes::new(py, &hash))
}

#[pyfunction]
fn hash_struct<'py>(
    py: Python<'py>,
    types: &Bound<'py, PyAny>,
    primary_type: &str,
    value: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let types = Types::from_json(&to_json(types)?).map_err(Error::from)?;
    let value = to_json(value)?;
    let hash = types
        .hash_struct(primary_type, &value, "message")
        .map_err(Error::from)?;
    Ok(PyBytes::new(py, &hash))
}

#[pyfunction]
#[pyo3(signature = (digest, signature, *, allow_high_s=false))]
fn recover_digest(
    py: Python<'_>,
    digest: &[u8],
    signature: &Bound<'_, PyAny>,
    allow_high_s: bool,
) -> PyResult<String> {
    let digest = digest32(digest)?;
    let sig = signature_bytes(signature)?;
    let address = py
        .detach(|| ecdsa::recover_address(&digest, &sig, policy(allow_high_s)))
        .map_err(Error::from)?;
    Ok(address.to_checksum())
}

#[pyfunction]
#[pyo3(signature = (data, signature, *, domain_types=None, allow_high_s=false))]
fn recover_typed_data(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    signature: &Bound<'_, PyAny>,
    domain_types: Option<&str>,
    allow_high_s: bool,
) -> PyResult<String> {
    let mode = self::domain_types(domain_types)?;
    let doc = TypedDoc::new(data, mode)?;
    let sig = signature_bytes(signature)?;
    let address = py.detach(|| -> Result<Address, Error> {
        let digest = doc.digest(mode)?;
        Ok(ecdsa::recover_address(&digest, &sig, policy(allow_high_s))?)
    })?;
    Ok(address.to_checksum())
}

#[pyfunction]
#[pyo3(signature = (message, signature, *, allow_high_s=false))]
fn recover_message(
    py: Python<'_>,
    message: &Bound<'_, PyAny>,
    signature: &Bound<'_, PyAny>,
    allow_high_s: bool,
) -> PyResult<String> {
    let message = message_bytes(message)?;
    let sig = signature_bytes(signature)?;
    let address = py
        .detach(|| {
            ecdsa::recover_address(&eip191::hash_message(&message), &sig, policy(allow_high_s))
        })
        .map_err(Error::from)?;
    Ok(address.to_checksum())
}

/// The low-s twin of a 65- or 64-byte signature, as 65 bytes with v = 27/28.
#[pyfunction]
fn normalize_signature<'py>(
    py: Python<'py>,
    signature: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let sig = ecdsa::Signature::from_bytes(&signature_bytes(signature)?).map_err(Error::from)?;
    sig.check(policy(true)).map_err(Error::from)?;
    Ok(PyBytes::new(py, &sig.normalize_s().to_bytes()))
}

/// A secp256k1 private key; the scalar stays in Rust, is zeroized on drop and is
/// never shown.
#[pyclass(frozen, module = "fastx402._core")]
struct PrivateKey {
    key: SecretKey,
}

#[pymethods]
impl PrivateKey {
    #[new]
    fn new(key: &[u8]) -> PyResult<Self> {
        Ok(PrivateKey {
            key: SecretKey::from_bytes(key).map_err(Error::from)?,
        })
    }

    #[staticmethod]
    fn from_hex(key: &str) -> PyResult<Self> {
        Ok(PrivateKey {
            key: SecretKey::from_hex(key).map_err(Error::from)?,
        })
    }

    #[staticmethod]
    fn generate() -> PyResult<Self> {
        Ok(PrivateKey {
            key: SecretKey::generate().map_err(Error::from)?,
        })
    }

    #[getter]
    fn address(&self) -> String {
        self.key.address().to_checksum()
    }

    #[getter]
    fn public_key<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.key.public_key())
    }

    fn sign_digest<'py>(&self, py: Python<'py>, digest: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        let digest = digest32(digest)?;
        let sig = py.detach(|| self.key.sign_digest(&digest));
        Ok(PyBytes::new(py, &sig.to_bytes()))
    }

    #[pyo3(signature = (data, *, domain_types=None))]
    fn sign_typed_data<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
        domain_types: Option<&str>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let mode = self::domain_types(domain_types)?;
        let doc = TypedDoc::new(data, mode)?;
        let sig = py.detach(|| -> Result<_, Error> {
            let digest = doc.digest(mode)?;
            Ok(self.key.sign_digest(&digest))
        })?;
        Ok(PyBytes::new(py, &sig.to_bytes()))
    }

    fn sign_message<'py>(
        &self,
        py: Python<'py>,
        message: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let message = message_bytes(message)?;
        let sig = py.detach(|| self.key.sign_digest(&eip191::hash_message(&message)));
        Ok(PyBytes::new(py, &sig.to_bytes()))
    }

    fn __repr__(&self) -> String {
        format!("PrivateKey(address={})", self.key.address())
    }
}

/// Which secp256k1 implementation this build uses.
#[pyfunction]
fn ecdsa_backend() -> &'static str {
    use crate::crypto::ecdsa::Backend;
    ecdsa::DefaultBackend::NAME
}

#[pymodule(gil_used = false)]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<PrivateKey>()?;
    m.add_function(wrap_pyfunction!(keccak256, m)?)?;
    m.add_function(wrap_pyfunction!(to_checksum_address, m)?)?;
    m.add_function(wrap_pyfunction!(hash_message, m)?)?;
    m.add_function(wrap_pyfunction!(hash_typed_data, m)?)?;
    m.add_function(wrap_pyfunction!(_hash_typed_data_in_place, m)?)?;
    m.add_function(wrap_pyfunction!(domain_separator, m)?)?;
    m.add_function(wrap_pyfunction!(encode_type, m)?)?;
    m.add_function(wrap_pyfunction!(type_hash, m)?)?;
    m.add_function(wrap_pyfunction!(hash_struct, m)?)?;
    m.add_function(wrap_pyfunction!(recover_digest, m)?)?;
    m.add_function(wrap_pyfunction!(recover_typed_data, m)?)?;
    m.add_function(wrap_pyfunction!(recover_message, m)?)?;
    m.add_function(wrap_pyfunction!(normalize_signature, m)?)?;
    m.add_function(wrap_pyfunction!(ecdsa_backend, m)?)?;
    x402::register(m)?;
    networks::register(m)?;
    facilitator::register(m)?;
    remote::register(m)?;
    Ok(())
}
