//! Networks, assets and prices for Python: thin wrappers over `x402::networks` and
//! `x402::money` on the global registry. Errors go through `crate::Error`
//! (`python/errors.rs` raises `InvalidNetwork`, `InvalidAsset` and `InvalidPrice`,
//! each `(message, reason, code)`: `reason` the x402 reason code, `code` the
//! specific failure, `too_precise`, …).

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType};

use crate::crypto::address::Address;
use crate::error::Error;
use crate::num::U256;
use crate::x402::money::{self, MoneyError};
use crate::x402::networks::{
    Asset, Network, NetworkError, Register, Registry, TransferMethod, MAX_DECIMALS,
};

fn network_err(e: NetworkError) -> PyErr {
    Error::from(e).into()
}

fn money_err(text: &str, e: MoneyError) -> PyErr {
    Error::price(text, e).into()
}

fn network(name: &str) -> PyResult<Network> {
    Registry::global().parse_network(name).map_err(network_err)
}

fn network_tuple(n: &Network) -> (String, u64, Option<String>) {
    (n.caip2(), n.chain_id(), n.v1_name().map(str::to_owned))
}

fn asset_dict<'py>(py: Python<'py>, a: &Asset) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("address", a.address.to_checksum())?;
    d.set_item("name", &a.name)?;
    d.set_item("version", &a.version)?;
    d.set_item("decimals", a.decimals)?;
    d.set_item("symbol", a.symbol.as_deref())?;
    d.set_item("transfer_method", a.transfer_method.as_str())?;
    d.set_item("supports_eip2612", a.supports_eip2612)?;
    Ok(d)
}

fn address(s: &str) -> PyResult<Address> {
    Address::parse(s).map_err(|e| network_err(NetworkError::InvalidAddress(e)))
}

/// A price given as `str`, `decimal.Decimal` or `int`, as text for the grammar.
/// `float` and `bool` are refused (floats are not exact); a non-finite `Decimal` is
/// an `InvalidPrice`; a finite one is written in plain notation (`format(d, "f")`).
fn price_text(price: &Bound<'_, PyAny>) -> PyResult<String> {
    static DECIMAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    if let Ok(s) = price.cast::<PyString>() {
        return Ok(s.to_str()?.to_owned());
    }
    if price.is_instance_of::<PyBool>() || price.is_instance_of::<PyFloat>() {
        return Err(PyTypeError::new_err(format!(
            "price must be str, decimal.Decimal or int, not {} (floats are not exact)",
            price.get_type().name()?
        )));
    }
    if price.is_instance_of::<PyInt>() {
        return Ok(price.str()?.to_str()?.to_owned());
    }
    let decimal = DECIMAL.import(price.py(), "decimal", "Decimal")?;
    if price.is_instance(decimal)? {
        if !price.call_method0("is_finite")?.is_truthy()? {
            let text = price.str()?.to_str()?.to_owned();
            return Err(money_err(&text, MoneyError::NonFinite));
        }
        let text = price.call_method1("__format__", ("f",))?;
        return Ok(text.cast::<PyString>()?.to_str()?.to_owned());
    }
    Err(PyTypeError::new_err(format!(
        "price must be str, decimal.Decimal or int, not {}",
        price.get_type().name()?
    )))
}

/// `(caip2, chain_id, v1_name)` of a CAIP-2 id (`eip155:8453`) or a v1 name (`base`).
#[pyfunction]
fn parse_network(network: &str) -> PyResult<(String, u64, Option<String>)> {
    Ok(network_tuple(&self::network(network)?))
}

/// The network's default asset: `address` (EIP-55), `name` and `version` (EIP-712
/// domain), `decimals`, `symbol`, `transfer_method` (`eip3009` | `permit2`),
/// `supports_eip2612`.
#[pyfunction]
fn default_asset<'py>(py: Python<'py>, network: &str) -> PyResult<Bound<'py, PyDict>> {
    let n = self::network(network)?;
    let a = Registry::global()
        .default_asset(n.chain_id())
        .map_err(network_err)?;
    asset_dict(py, &a)
}

/// Every asset registered for the network, the default first.
#[pyfunction]
fn network_assets<'py>(py: Python<'py>, network: &str) -> PyResult<Bound<'py, PyList>> {
    let n = self::network(network)?;
    let list = PyList::empty(py);
    for a in Registry::global().assets(n.chain_id()) {
        list.append(asset_dict(py, &a)?)?;
    }
    Ok(list)
}

/// The asset registered at `address` on the network.
#[pyfunction]
fn find_asset<'py>(py: Python<'py>, network: &str, address: &str) -> PyResult<Bound<'py, PyDict>> {
    let n = self::network(network)?;
    let a = Registry::global()
        .asset(n.chain_id(), &self::address(address)?)
        .map_err(network_err)?;
    asset_dict(py, &a)
}

/// Registers an asset on a network for this process. `mode`: `"add"` (a new asset;
/// the first of a network becomes its default; clashing with a registered address
/// or symbol is an error), `"replace"` (replace the entries with the same address
/// or symbol) or `"default"` (replace, and make it the network's default).
#[pyfunction]
#[pyo3(signature = (
    network, address, name, version, decimals, *,
    transfer_method="eip3009", symbol=None, supports_eip2612=false, mode="add"
))]
#[allow(clippy::too_many_arguments)]
fn register_asset(
    network: &str,
    address: &str,
    name: String,
    version: String,
    decimals: &Bound<'_, PyAny>,
    transfer_method: &str,
    symbol: Option<&str>,
    supports_eip2612: bool,
    mode: &str,
) -> PyResult<()> {
    let n = self::network(network)?;
    let mode = match mode {
        "add" => Register::Add,
        "replace" => Register::Replace,
        "default" => Register::Default,
        other => {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "mode must be 'add', 'replace' or 'default', not {other:?}"
            )))
        }
    };
    let asset = Asset {
        address: self::address(address)?,
        name,
        version,
        decimals: decimals_arg(decimals)?
            .map_err(|shown| Error::Decimals { shown, asset: true })?,
        symbol: symbol.map(str::to_owned),
        transfer_method: TransferMethod::parse(transfer_method).map_err(network_err)?,
        supports_eip2612,
    };
    Registry::global()
        .register_asset(n.chain_id(), asset, mode)
        .map_err(network_err)
}

/// A `decimals` argument: an `int` (not `bool`) from 0 to `MAX_DECIMALS`. Out of
/// range: `Err(shown)` with the value as text, for the caller's exception.
fn decimals_arg(obj: &Bound<'_, PyAny>) -> PyResult<Result<u8, String>> {
    if obj.is_instance_of::<PyBool>() || !obj.is_instance_of::<PyInt>() {
        return Err(PyTypeError::new_err(format!(
            "decimals must be an int, not {}",
            obj.get_type().name()?
        )));
    }
    Ok(match obj.extract::<u8>() {
        Ok(d) if d <= MAX_DECIMALS => Ok(d),
        _ => Err(obj.str()?.to_string()),
    })
}

/// Makes a chain known for this process, optionally under a v1 name; returns
/// `(caip2, chain_id, v1_name)`. With `replace=True` an existing name is remapped.
#[pyfunction]
#[pyo3(signature = (v1_name, chain_id, *, replace=false))]
fn register_network(
    v1_name: Option<&str>,
    chain_id: &Bound<'_, PyAny>,
    replace: bool,
) -> PyResult<(String, u64, Option<String>)> {
    let chain_id = chain_id_arg(chain_id)?;
    let registry = Registry::global();
    let n = match (v1_name, replace) {
        (Some(name), true) => registry.replace_network(name, chain_id),
        _ => registry.register_network(v1_name, chain_id),
    }
    .map_err(network_err)?;
    Ok(network_tuple(&n))
}

fn chain_id_arg(obj: &Bound<'_, PyAny>) -> PyResult<u64> {
    if obj.is_instance_of::<PyBool>() || !obj.is_instance_of::<PyInt>() {
        return Err(PyTypeError::new_err("chain_id must be an int"));
    }
    obj.extract::<u64>().map_err(|_| {
        let text = obj.str().map(|s| s.to_string()).unwrap_or_default();
        network_err(NetworkError::InvalidChainId {
            input: text,
            problem: if obj.lt(0).unwrap_or(false) {
                crate::x402::networks::ChainIdProblem::NotDecimal
            } else {
                crate::x402::networks::ChainIdProblem::Overflow
            },
        })
    })
}

fn resolve(
    price: &Bound<'_, PyAny>,
    network: &str,
    asset: Option<&str>,
) -> PyResult<(Asset, U256)> {
    let text = price_text(price)?;
    let n = self::network(network)?;
    let asset = asset.map(self::address).transpose()?;
    money::resolve_price(Registry::global(), n.chain_id(), &text, asset.as_ref())
        .map_err(|e| Error::resolve(&text, e).into())
}

/// A price (`"$0.001"`, `"0.001"`, `"1.5 USDC"`, `Decimal("0.001")`, `10`) in atomic
/// units of the asset, as a decimal string. The asset is the one at `asset` if
/// given, else the one whose symbol the price names, else the network's default.
/// More fractional digits than the asset's decimals is an error (even zeros).
#[pyfunction]
#[pyo3(signature = (price, network, *, asset=None))]
fn price_to_atomic(
    price: &Bound<'_, PyAny>,
    network: &str,
    asset: Option<&str>,
) -> PyResult<String> {
    Ok(resolve(price, network, asset)?.1.to_string())
}

/// Like `price_to_atomic`, also returning the asset chosen: `(amount, asset_dict)`.
#[pyfunction]
#[pyo3(signature = (price, network, *, asset=None))]
fn resolve_price<'py>(
    py: Python<'py>,
    price: &Bound<'py, PyAny>,
    network: &str,
    asset: Option<&str>,
) -> PyResult<Bound<'py, PyTuple>> {
    let (asset, amount) = resolve(price, network, asset)?;
    PyTuple::new(
        py,
        [
            amount.to_string().into_pyobject(py)?.into_any(),
            asset_dict(py, &asset)?.into_any(),
        ],
    )
}

/// The canonical decimal form of an atomic amount (`"10000"`, 6 → `"0.01"`).
/// `amount` is a decimal string `0|[1-9][0-9]*` below 2^256, or a non-negative
/// int; `decimals` is 0 to 36.
#[pyfunction]
fn atomic_to_price(amount: &Bound<'_, PyAny>, decimals: &Bound<'_, PyAny>) -> PyResult<String> {
    let text = if let Ok(s) = amount.cast::<PyString>() {
        s.to_str()?.to_owned()
    } else if amount.is_instance_of::<PyInt>() && !amount.is_instance_of::<PyBool>() {
        amount.str()?.to_str()?.to_owned()
    } else {
        return Err(PyTypeError::new_err(format!(
            "amount must be a decimal str or an int, not {}",
            amount.get_type().name()?
        )));
    };
    let value = money::parse_atomic(&text).map_err(|e| money_err(&text, e))?;
    let decimals = decimals_arg(decimals)?.map_err(|shown| Error::Decimals {
        shown,
        asset: false,
    })?;
    Ok(money::atomic_to_decimal(value, decimals))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("MAX_DECIMALS", MAX_DECIMALS)?;
    m.add_function(wrap_pyfunction!(parse_network, m)?)?;
    m.add_function(wrap_pyfunction!(default_asset, m)?)?;
    m.add_function(wrap_pyfunction!(network_assets, m)?)?;
    m.add_function(wrap_pyfunction!(find_asset, m)?)?;
    m.add_function(wrap_pyfunction!(register_asset, m)?)?;
    m.add_function(wrap_pyfunction!(register_network, m)?)?;
    m.add_function(wrap_pyfunction!(price_to_atomic, m)?)?;
    m.add_function(wrap_pyfunction!(resolve_price, m)?)?;
    m.add_function(wrap_pyfunction!(atomic_to_price, m)?)?;
    Ok(())
}
