//! Python objects read in place by the EIP-712 engine ([`JsonView`]), so that hashing a
//! typed-data `dict` does not first copy it into a `serde_json::Value` tree.
//!
//! The view is deliberately narrow: exact `dict`, `list`, `tuple`, `str`, `int`, `bool`
//! and `None` only, at most [`MAX_DEPTH`] levels. Anything else (subclasses, `bytes`,
//! floats, non-`str` keys, strings that are not UTF-8) is [`Node::Other`], which the
//! engine refuses. Callers treat any error from this path as "take the general path":
//! [`super::convert`] + the engine over `Value`, which gives every accepted input the
//! same result and every refused one its exact error (see `digest_in_place`).

use std::borrow::Cow;

use pyo3::prelude::*;
use pyo3::types::dict::BoundDictIterator;
use pyo3::types::list::BoundListIterator;
use pyo3::types::tuple::BoundTupleIterator;
use pyo3::types::{PyBool, PyDict, PyInt, PyList, PyString, PyTuple};

use crate::crypto::eip712::DomainTypes;
use crate::crypto::eip712::{JsonView, Node, ObjectKey, TypedData};

use super::convert::MAX_DEPTH;

/// A Python object at some depth of a document.
pub struct PyView<'py> {
    obj: Bound<'py, PyAny>,
    depth: usize,
}

impl<'py> PyView<'py> {
    pub fn root(obj: Bound<'py, PyAny>) -> Self {
        PyView { obj, depth: 0 }
    }

    fn live(&self) -> Option<&Bound<'py, PyAny>> {
        (self.depth <= MAX_DEPTH).then_some(&self.obj)
    }
}

pub struct PyKey<'py>(Bound<'py, PyAny>);

impl ObjectKey for PyKey<'_> {
    fn text(&self) -> Option<&str> {
        self.0.cast_exact::<PyString>().ok()?.to_str().ok()
    }
}

pub struct PyEntries<'py> {
    inner: BoundDictIterator<'py>,
    depth: usize,
}

impl<'py> Iterator for PyEntries<'py> {
    type Item = (PyKey<'py>, PyView<'py>);

    fn next(&mut self) -> Option<Self::Item> {
        let (k, v) = self.inner.next()?;
        Some((
            PyKey(k),
            PyView {
                obj: v,
                depth: self.depth,
            },
        ))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

pub enum PyItems<'py> {
    List(BoundListIterator<'py>, usize),
    Tuple(BoundTupleIterator<'py>, usize),
}

impl<'py> Iterator for PyItems<'py> {
    type Item = PyView<'py>;

    fn next(&mut self) -> Option<Self::Item> {
        let (obj, depth) = match self {
            PyItems::List(it, depth) => (it.next()?, *depth),
            PyItems::Tuple(it, depth) => (it.next()?, *depth),
        };
        Some(PyView { obj, depth })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.len();
        (n, Some(n))
    }
}

impl ExactSizeIterator for PyItems<'_> {
    fn len(&self) -> usize {
        match self {
            PyItems::List(it, _) => it.len(),
            PyItems::Tuple(it, _) => it.len(),
        }
    }
}

impl<'py> JsonView for PyView<'py> {
    type Key = PyKey<'py>;
    type Items = PyItems<'py>;
    type Entries = PyEntries<'py>;

    fn node(&self) -> Node<'_> {
        let Some(obj) = self.live() else {
            return Node::Other;
        };
        if let Ok(s) = obj.cast_exact::<PyString>() {
            return s.to_str().map_or(Node::Other, Node::String);
        }
        if obj.is_exact_instance_of::<PyDict>() {
            return Node::Object;
        }
        if obj.is_exact_instance_of::<PyList>() || obj.is_exact_instance_of::<PyTuple>() {
            return Node::Array;
        }
        if let Ok(b) = obj.cast_exact::<PyBool>() {
            return Node::Bool(b.is_true());
        }
        if obj.is_exact_instance_of::<PyInt>() {
            if let Ok(i) = obj.extract::<i64>() {
                return Node::Int(i);
            }
            return match obj.str() {
                Ok(text) => text
                    .to_str()
                    .map_or(Node::Other, |t| Node::Number(Cow::Owned(t.to_owned()))),
                Err(_) => Node::Other,
            };
        }
        if obj.is_none() {
            return Node::Null;
        }
        Node::Other
    }

    fn items(&self) -> Option<Self::Items> {
        let obj = self.live()?;
        let depth = self.depth + 1;
        if let Ok(list) = obj.cast_exact::<PyList>() {
            return Some(PyItems::List(list.iter(), depth));
        }
        if let Ok(tuple) = obj.cast_exact::<PyTuple>() {
            return Some(PyItems::Tuple(tuple.iter(), depth));
        }
        None
    }

    fn entries(&self) -> Option<Self::Entries> {
        let dict = self.live()?.cast_exact::<PyDict>().ok()?;
        Some(PyEntries {
            inner: dict.iter(),
            depth: self.depth + 1,
        })
    }
}

/// The EIP-712 digest of a typed-data `dict` read in place, or `None` when this path
/// cannot vouch for the result: on any error (the caller then takes the general path,
/// which reports the exact error or accepts what this view does not read, e.g. `bytes`
/// values), and when the document has content the engine does not read (a `message`
/// beside `primaryType: "EIP712Domain"`), which the general path still converts.
pub fn digest_in_place(obj: &Bound<'_, PyAny>, mode: DomainTypes) -> Option<[u8; 32]> {
    if !obj.is_exact_instance_of::<PyDict>() {
        return None;
    }
    let td = TypedData::from_json(PyView::root(obj.clone()), mode).ok()?;
    if td.ignores_message() {
        return None;
    }
    td.signing_hash().ok()
}
