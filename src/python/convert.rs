//! Python objects → exact JSON values, so that dicts never go through `json.dumps`
//! (which loses nothing, but costs more than hashing them).

use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple,
};
use serde_json::{Map, Number, Value};

use super::errors::typed_data_error;
use crate::crypto::hexutil;
use crate::json::parse_strict;

/// Same nesting cap as the JSON parser.
pub(super) const MAX_DEPTH: usize = 128;

enum Seg {
    Key(String),
    Index(usize),
}

struct ConvError {
    rev_path: Vec<Seg>,
    message: String,
}

impl ConvError {
    fn new(message: impl Into<String>) -> Self {
        ConvError {
            rev_path: Vec::new(),
            message: message.into(),
        }
    }

    fn into_pyerr(self) -> PyErr {
        let path = self.path();
        typed_data_error(path, self.message)
    }

    fn path(&self) -> String {
        let mut path = String::new();
        for (i, seg) in self.rev_path.iter().rev().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => path.push_str(k),
                Seg::Key(k) => {
                    path.push('.');
                    path.push_str(k);
                }
                Seg::Index(n) => path.push_str(&format!("[{n}]")),
            }
        }
        if path.is_empty() {
            path.push('$');
        }
        path
    }
}

/// A typed-data document given as a dict, a JSON `str` or JSON `bytes`.
pub fn document_to_json(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    if let Ok(s) = obj.cast::<PyString>() {
        return parse_json(s.to_str()?.as_bytes());
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return parse_json(b.as_bytes());
    }
    to_json(obj)
}

fn parse_json(bytes: &[u8]) -> PyResult<Value> {
    parse_strict(bytes).map_err(|e| typed_data_error("$".into(), format_args!("invalid JSON: {e}")))
}

/// Any JSON-like Python value (dict, list, tuple, str, int, bool, None; bytes become
/// `0x` hex; floats are kept so that the engine can name and reject them). Failures
/// raise `InvalidTypedData`.
pub fn to_json(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    convert(obj, 0).map_err(ConvError::into_pyerr)
}

/// [`to_json`] for x402 messages: failures are `(path, message)` for the caller to raise.
pub fn to_json_parts(obj: &Bound<'_, PyAny>) -> Result<Value, (String, String)> {
    convert(obj, 0).map_err(|e| (e.path(), e.message))
}

fn convert(obj: &Bound<'_, PyAny>, depth: usize) -> Result<Value, ConvError> {
    if depth > MAX_DEPTH {
        return Err(ConvError::new("nesting is too deep"));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return s
            .to_str()
            .map(|s| Value::String(s.to_owned()))
            .map_err(|_| ConvError::new("string is not valid UTF-8"));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = Map::with_capacity(d.len());
        for (k, v) in d.iter() {
            let key = k
                .cast::<PyString>()
                .map_err(|_| ConvError::new("dict keys must be str"))?
                .to_str()
                .map_err(|_| ConvError::new("dict key is not valid UTF-8"))?
                .to_owned();
            match convert(&v, depth + 1) {
                Ok(value) => {
                    map.insert(key, value);
                }
                Err(mut e) => {
                    e.rev_path.push(Seg::Key(key));
                    return Err(e);
                }
            }
        }
        return Ok(Value::Object(map));
    }
    if obj.is_instance_of::<PyBool>() {
        return Ok(Value::Bool(obj.is_truthy().unwrap_or(false)));
    }
    if let Ok(i) = obj.cast::<PyInt>() {
        if let Ok(v) = i.extract::<i64>() {
            return Ok(Value::Number(v.into()));
        }
        let text = i.str().map_err(|_| ConvError::new("unprintable int"))?;
        let text = text
            .to_str()
            .map_err(|_| ConvError::new("unprintable int"))?;
        return text
            .parse::<Number>()
            .map(Value::Number)
            .map_err(|_| ConvError::new("unrepresentable int"));
    }
    if let Ok(list) = obj.cast::<PyList>() {
        return convert_items(list.iter(), list.len(), depth);
    }
    if let Ok(tuple) = obj.cast::<PyTuple>() {
        return convert_items(tuple.iter(), tuple.len(), depth);
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Value::String(hexutil::encode_0x(b.as_bytes())));
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(Value::String(hexutil::encode_0x(&b.to_vec())));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| ConvError::new("integer must not be a float"));
    }
    let type_name = obj
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into());
    Err(ConvError::new(format!(
        "unsupported Python type {type_name}"
    )))
}

fn convert_items<'py>(
    items: impl Iterator<Item = Bound<'py, PyAny>>,
    len: usize,
    depth: usize,
) -> Result<Value, ConvError> {
    let mut out = Vec::with_capacity(len);
    for (i, item) in items.enumerate() {
        match convert(&item, depth + 1) {
            Ok(v) => out.push(v),
            Err(mut e) => {
                e.rev_path.push(Seg::Index(i));
                return Err(e);
            }
        }
    }
    Ok(Value::Array(out))
}

/// Exact JSON → Python: integers of any size stay `int`, objects become `dict`.
pub fn to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            let text = n.as_str();
            if let Ok(i) = text.parse::<i64>() {
                i.into_pyobject(py)?.into_any()
            } else if text.bytes().all(|c| c.is_ascii_digit() || c == b'-') {
                py.get_type::<PyInt>().call1((text,))?
            } else {
                py.get_type::<PyFloat>().call1((text,))?
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}
