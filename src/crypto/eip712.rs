//! EIP-712 typed-data hashing, "strict v4".
//!
//! Same digest as MetaMask `eth_signTypedData_v4` and viem on inputs that obey the
//! rules below; everything else is an error naming its JSON path:
//! - `types.EIP712Domain` is honoured as given (any order, any subset, extra fields);
//!   if absent, only [`DomainTypes::Infer`] derives it (canonical order of the keys present);
//! - encodeType: primary type, then every referenced type once, sorted by name;
//!   recursive and unused types are allowed;
//! - integers: JSON integers, `0|[1-9][0-9]*` decimal strings (`-` only for intN), or
//!   `0x` hex strings, range-checked; never floats, whitespace or `+`;
//! - bool only as JSON bool; bytesN exactly N bytes of `0x` hex; bytes `0x` hex;
//!   addresses `0x` + 40 hex digits, EIP-55 when mixed case;
//! - every declared field present and non-null, no undeclared fields, fixed arrays exact.
//!
//! One file on purpose (~850 lines of code): the type-table validation, encodeType,
//! encodeData and the value grammar are one algorithm sharing private invariants
//! (a validated table is what the encoder may index without checks).

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::HashMap;
use std::fmt;
use std::fmt::Write as _;

use serde_json::Value;

use super::address::Address;
use super::hexutil;
use super::keccak::{keccak256, keccak256_concat};
use crate::cache::Memo;
use crate::num::U256;

/// What to do when `types.EIP712Domain` is absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DomainTypes {
    /// Require `types.EIP712Domain`.
    #[default]
    Given,
    /// Derive it from the domain's keys in canonical order
    /// (`name`, `version`, `chainId`, `verifyingContract`, `salt`).
    Infer,
}

/// An invalid typed-data document: where (`message.to[1].wallet`) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct Eip712Error {
    pub path: String,
    pub message: String,
}

type Result<T> = std::result::Result<T, Eip712Error>;

const DOMAIN: &str = "EIP712Domain";
const CANONICAL_DOMAIN: [(&str, &str); 5] = [
    ("name", "string"),
    ("version", "string"),
    ("chainId", "uint256"),
    ("verifyingContract", "address"),
    ("salt", "bytes32"),
];

// ---------------------------------------------------------------------------
// JSON paths, built only when an error is reported.

#[derive(Clone, Copy)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

#[derive(Clone, Copy)]
struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    seg: Seg<'a>,
}

impl<'a> Path<'a> {
    fn root(key: &'a str) -> Self {
        Path {
            parent: None,
            seg: Seg::Key(key),
        }
    }
    fn key(&'a self, key: &'a str) -> Path<'a> {
        Path {
            parent: Some(self),
            seg: Seg::Key(key),
        }
    }
    fn index(&'a self, i: usize) -> Path<'a> {
        Path {
            parent: Some(self),
            seg: Seg::Index(i),
        }
    }
    fn err(&self, message: impl fmt::Display) -> Eip712Error {
        Eip712Error {
            path: self.to_string(),
            message: message.to_string(),
        }
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(parent) = self.parent {
            parent.fmt(f)?;
            match self.seg {
                Seg::Key(k) if is_identifier(k) => write!(f, ".{k}"),
                Seg::Key(k) => write!(f, "[{k:?}]"),
                Seg::Index(i) => write!(f, "[{i}]"),
            }
        } else {
            match self.seg {
                Seg::Key(k) => f.write_str(k),
                Seg::Index(i) => write!(f, "[{i}]"),
            }
        }
    }
}

fn is_identifier(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b'A'..=b'Z' | b'a'..=b'z' | b'_' | b'$'))
        && bytes.all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'$')
}

// ---------------------------------------------------------------------------
// The documents the engine reads: any read-only JSON-like tree.

/// One node of a JSON-like tree, as the engine sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node<'a> {
    Null,
    Bool(bool),
    /// A JSON number's text (integer or not; the engine refuses non-integers).
    Number(Cow<'a, str>),
    /// An integer that fits in `i64` (same meaning as its decimal text as a `Number`).
    Int(i64),
    String(&'a str),
    /// Read it with [`JsonView::items`].
    Array,
    /// Read it with [`JsonView::entries`].
    Object,
    /// Anything else: refused wherever a value is read.
    Other,
}

/// The key of an object entry: its text, or `None` when it is not a string.
pub trait ObjectKey {
    fn text(&self) -> Option<&str>;
}

impl ObjectKey for &String {
    fn text(&self) -> Option<&str> {
        Some(self.as_str())
    }
}

/// A read-only view of a JSON-like tree: `&serde_json::Value`, or (in the Python
/// adapter) Python objects read in place. The engine reads documents only through it,
/// so its rules exist once whatever the input's representation.
pub trait JsonView: Sized {
    type Key: ObjectKey;
    type Items: ExactSizeIterator<Item = Self>;
    type Entries: Iterator<Item = (Self::Key, Self)>;

    fn node(&self) -> Node<'_>;
    /// The items of an array (`None` if this is not an array).
    fn items(&self) -> Option<Self::Items>;
    /// The entries of an object in their order (`None` if this is not an object).
    fn entries(&self) -> Option<Self::Entries>;
}

impl<'a> JsonView for &'a Value {
    type Key = &'a String;
    type Items = std::slice::Iter<'a, Value>;
    type Entries = serde_json::map::Iter<'a>;

    fn node(&self) -> Node<'_> {
        match self {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(*b),
            Value::Number(n) => Node::Number(Cow::Borrowed(n.as_str())),
            Value::String(s) => Node::String(s),
            Value::Array(_) => Node::Array,
            Value::Object(_) => Node::Object,
        }
    }

    fn items(&self) -> Option<Self::Items> {
        self.as_array().map(|a| a.iter())
    }

    fn entries(&self) -> Option<Self::Entries> {
        self.as_object().map(|m| m.iter())
    }
}

fn as_str<V: JsonView>(v: &V) -> Option<&str> {
    match v.node() {
        Node::String(s) => Some(s),
        _ => None,
    }
}

fn is_object<V: JsonView>(v: &V) -> bool {
    matches!(v.node(), Node::Object)
}

fn key_text<'k, K: ObjectKey>(key: &'k K, path: &Path) -> Result<&'k str> {
    key.text()
        .ok_or_else(|| path.err("object keys must be strings"))
}

/// Whether an object has `key` (`false` when it is not an object).
fn has_key<V: JsonView>(v: &V, key: &str) -> bool {
    v.entries()
        .is_some_and(|mut e| e.any(|(k, _)| k.text() == Some(key)))
}

/// A self-delimiting, injective encoding of a tree (memo keys); `None` on `Other`
/// nodes or non-string keys, which no valid document contains.
fn write_memo_key<V: JsonView>(v: &V, out: &mut String) -> Option<()> {
    fn text(s: &str, out: &mut String) {
        let _ = write!(out, "{}:", s.len());
        out.push_str(s);
    }
    match v.node() {
        Node::Null => out.push('n'),
        Node::Bool(b) => out.push(if b { 't' } else { 'f' }),
        Node::Number(t) => {
            out.push('#');
            out.push_str(&t);
            out.push(';');
        }
        Node::Int(i) => {
            let _ = write!(out, "#{i};");
        }
        Node::String(s) => {
            out.push('"');
            text(s, out);
        }
        Node::Array => {
            out.push('[');
            for item in v.items()? {
                write_memo_key(&item, out)?;
            }
            out.push(']');
        }
        Node::Object => {
            out.push('{');
            for (k, item) in v.entries()? {
                text(k.text()?, out);
                write_memo_key(&item, out)?;
            }
            out.push('}');
        }
        Node::Other => return None,
    }
    Some(())
}

// ---------------------------------------------------------------------------
// Types.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Atomic {
    Address,
    Bool,
    String,
    Bytes,
    FixedBytes(usize),
    Uint(u32),
    Int(u32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Ty {
    Atomic(Atomic),
    Struct(usize),
    Array(Box<Ty>, Option<usize>),
}

impl Ty {
    fn base_struct(&self) -> Option<usize> {
        match self {
            Ty::Atomic(_) => None,
            Ty::Struct(i) => Some(*i),
            Ty::Array(inner, _) => inner.base_struct(),
        }
    }
}

fn parse_atomic(s: &str) -> Option<Atomic> {
    fn size(digits: &str) -> Option<u32> {
        if digits.starts_with('0')
            || digits.is_empty()
            || !digits.bytes().all(|c| c.is_ascii_digit())
        {
            return None;
        }
        digits.parse().ok()
    }
    Some(match s {
        "address" => Atomic::Address,
        "bool" => Atomic::Bool,
        "string" => Atomic::String,
        "bytes" => Atomic::Bytes,
        _ => {
            if let Some(n) = s.strip_prefix("bytes") {
                let n = size(n).filter(|n| (1..=32).contains(n))?;
                Atomic::FixedBytes(n as usize)
            } else if let Some(n) = s.strip_prefix("uint") {
                Atomic::Uint(size(n).filter(|n| n % 8 == 0 && (8..=256).contains(n))?)
            } else if let Some(n) = s.strip_prefix("int") {
                Atomic::Int(size(n).filter(|n| n % 8 == 0 && (8..=256).contains(n))?)
            } else {
                return None;
            }
        }
    })
}

struct Field {
    name: String,
    type_str: String,
    ty: Ty,
}

struct StructDef {
    name: String,
    fields: Vec<Field>,
    type_hash: OnceCell<[u8; 32]>,
}

/// A validated `types` table.
pub struct Types {
    structs: Vec<StructDef>,
    index: HashMap<String, usize>,
}

impl Types {
    /// Validates a `types` object: identifiers for type and field names, no field
    /// named twice, every field type atomic or defined, array lengths ≥ 1.
    pub fn from_json<V: JsonView>(types: V) -> Result<Self> {
        Self::build(&types, &Path::root("types"), None)
    }

    fn build<V: JsonView>(types: &V, path: &Path, inferred_domain: Option<&V>) -> Result<Self> {
        let entries = types
            .entries()
            .ok_or_else(|| path.err("must be an object"))?;
        let len = entries.size_hint().0;
        let mut structs = Vec::with_capacity(len + 1);
        let mut index = HashMap::with_capacity(len + 1);
        for (key, _) in entries {
            let name = key_text(&key, path)?;
            let p = path.key(name);
            if !is_identifier(name) {
                return Err(p.err("type name must be an identifier"));
            }
            if parse_atomic(name).is_some() {
                return Err(p.err("type name shadows an atomic type"));
            }
            index.insert(name.to_owned(), structs.len());
            structs.push(StructDef {
                name: name.to_owned(),
                fields: Vec::new(),
                type_hash: OnceCell::new(),
            });
        }
        if let Some(domain) = inferred_domain {
            index.insert(DOMAIN.to_owned(), structs.len());
            let mut present = [false; CANONICAL_DOMAIN.len()];
            let mut non_standard = None;
            for (key, _) in domain.entries().into_iter().flatten() {
                let key = key_text(&key, &Path::root("domain"))?;
                match CANONICAL_DOMAIN.iter().position(|(k, _)| *k == key) {
                    Some(i) => present[i] = true,
                    None => {
                        non_standard.get_or_insert_with(|| key.to_owned());
                    }
                }
            }
            if let Some(key) = non_standard {
                return Err(Path::root("domain").key(&key).err(
                    "cannot infer the type of a non-standard domain field; give types.EIP712Domain",
                ));
            }
            let fields = CANONICAL_DOMAIN
                .iter()
                .zip(present)
                .filter(|(_, present)| *present)
                .map(|((key, ty), _)| Field {
                    name: (*key).to_owned(),
                    type_str: (*ty).to_owned(),
                    ty: Ty::Atomic(parse_atomic(ty).expect("canonical")),
                })
                .collect();
            structs.push(StructDef {
                name: DOMAIN.to_owned(),
                fields,
                type_hash: OnceCell::new(),
            });
        }
        for (i, (key, members)) in types.entries().into_iter().flatten().enumerate() {
            let p = path.key(key_text(&key, path)?);
            let members = members
                .items()
                .ok_or_else(|| p.err("must be an array of {name, type} objects"))?;
            let mut fields: Vec<Field> = Vec::with_capacity(members.len());
            for (j, member) in members.enumerate() {
                let mp = p.index(j);
                let m = member
                    .entries()
                    .ok_or_else(|| mp.err("must be an object {name, type}"))?;
                let (mut name, mut type_) = (None, None);
                for (k, v) in m {
                    match key_text(&k, &mp)? {
                        "name" => name = Some(v),
                        "type" => type_ = Some(v),
                        extra => {
                            return Err(mp.key(extra).err("unexpected key in a field definition"))
                        }
                    }
                }
                let field_name = name
                    .as_ref()
                    .and_then(as_str)
                    .ok_or_else(|| mp.key("name").err("must be a string"))?;
                if !is_identifier(field_name) {
                    return Err(mp.key("name").err("field name must be an identifier"));
                }
                if fields.iter().any(|f| f.name == field_name) {
                    return Err(mp
                        .key("name")
                        .err(format_args!("field {field_name:?} is declared twice")));
                }
                let type_str = type_
                    .as_ref()
                    .and_then(as_str)
                    .ok_or_else(|| mp.key("type").err("must be a string"))?;
                let ty = parse_type(type_str, &index).map_err(|msg| mp.key("type").err(msg))?;
                fields.push(Field {
                    name: field_name.to_owned(),
                    type_str: type_str.to_owned(),
                    ty,
                });
            }
            structs[i].fields = fields;
        }
        Ok(Types { structs, index })
    }

    fn lookup(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    fn require(&self, name: &str, path: &Path) -> Result<usize> {
        self.lookup(name)
            .ok_or_else(|| path.err(format_args!("type {name:?} is not defined in types")))
    }

    /// `Name(type field,…)` of the struct followed by its dependencies sorted by name.
    pub fn encode_type(&self, name: &str) -> Result<String> {
        let idx = self.require(name, &Path::root("primaryType"))?;
        Ok(self.encode_type_of(idx))
    }

    fn encode_type_of(&self, idx: usize) -> String {
        let mut seen = vec![false; self.structs.len()];
        let mut stack = vec![idx];
        seen[idx] = true;
        let mut deps = Vec::new();
        while let Some(i) = stack.pop() {
            for field in &self.structs[i].fields {
                if let Some(d) = field.ty.base_struct() {
                    if !seen[d] {
                        seen[d] = true;
                        deps.push(d);
                        stack.push(d);
                    }
                }
            }
        }
        deps.sort_by(|a, b| self.structs[*a].name.cmp(&self.structs[*b].name));
        let mut out = String::new();
        for i in std::iter::once(idx).chain(deps) {
            let s = &self.structs[i];
            out.push_str(&s.name);
            out.push('(');
            for (k, f) in s.fields.iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                out.push_str(&f.type_str);
                out.push(' ');
                out.push_str(&f.name);
            }
            out.push(')');
        }
        out
    }

    /// `keccak256(encodeType(name))`.
    pub fn type_hash(&self, name: &str) -> Result<[u8; 32]> {
        let idx = self.require(name, &Path::root("primaryType"))?;
        Ok(self.type_hash_of(idx))
    }

    fn type_hash_of(&self, idx: usize) -> [u8; 32] {
        static MEMO: Memo<String, [u8; 32]> = Memo::new(1024);
        *self.structs[idx].type_hash.get_or_init(|| {
            let encoded = self.encode_type_of(idx);
            MEMO.get_or_insert_with(encoded.as_str(), || keccak256(encoded.as_bytes()))
        })
    }

    /// `keccak256(typeHash ‖ encodeData(value))`; errors are reported under `path_root`.
    pub fn hash_struct<V: JsonView>(
        &self,
        name: &str,
        value: V,
        path_root: &str,
    ) -> Result<[u8; 32]> {
        let path = Path::root(path_root);
        let idx = self.require(name, &path)?;
        self.hash_struct_of(idx, &value, &path)
    }

    fn hash_struct_of<V: JsonView>(&self, idx: usize, value: &V, path: &Path) -> Result<[u8; 32]> {
        const INLINE: usize = 8;
        let def = &self.structs[idx];
        let entries = value
            .entries()
            .ok_or_else(|| path.err(format_args!("must be an object ({})", def.name)))?;
        // Each declared field's value, in declaration order; an undeclared key fails
        // first (in document order), then a missing field (in declaration order).
        let n = def.fields.len();
        let mut inline: [Option<V>; INLINE] = [const { None }; INLINE];
        let mut heap: Vec<Option<V>>;
        let slots: &mut [Option<V>] = if n <= INLINE {
            &mut inline[..n]
        } else {
            heap = (0..n).map(|_| None).collect();
            &mut heap
        };
        for (j, (key, v)) in entries.enumerate() {
            let key = key_text(&key, path)?;
            let slot = if def.fields.get(j).is_some_and(|f| f.name == key) {
                Some(j)
            } else {
                def.fields.iter().position(|f| f.name == key)
            };
            match slot {
                Some(i) => slots[i] = Some(v),
                None => {
                    return Err(path
                        .key(key)
                        .err(format_args!("field is not declared in {}", def.name)))
                }
            }
        }
        let mut buf = Vec::with_capacity(32 * (1 + n));
        buf.extend_from_slice(&self.type_hash_of(idx));
        for (field, v) in def.fields.iter().zip(slots.iter()) {
            let fp = path.key(&field.name);
            let v = v.as_ref().ok_or_else(|| fp.err("missing field"))?;
            let word = self.encode_value(&field.ty, v, &fp)?;
            buf.extend_from_slice(&word);
        }
        Ok(keccak256(&buf))
    }

    fn encode_value<V: JsonView>(&self, ty: &Ty, value: &V, path: &Path) -> Result<[u8; 32]> {
        let node = value.node();
        if node == Node::Null {
            return Err(path.err("null is not a value"));
        }
        match ty {
            Ty::Atomic(a) => encode_atomic(*a, &node, path),
            Ty::Struct(i) => self.hash_struct_of(*i, value, path),
            Ty::Array(inner, len) => {
                let items = value.items().ok_or_else(|| path.err("must be an array"))?;
                if let Some(n) = len {
                    if items.len() != *n {
                        return Err(path.err(format_args!(
                            "fixed array needs exactly {n} items, got {}",
                            items.len()
                        )));
                    }
                }
                let mut buf = Vec::with_capacity(32 * items.len());
                for (i, item) in items.enumerate() {
                    buf.extend_from_slice(&self.encode_value(inner, &item, &path.index(i))?);
                }
                Ok(keccak256(&buf))
            }
        }
    }
}

fn parse_type(s: &str, index: &HashMap<String, usize>) -> std::result::Result<Ty, String> {
    if let Some(open) = s.strip_suffix(']').and_then(|rest| rest.rfind('[')) {
        let inner = parse_type(&s[..open], index)?;
        let len_str = &s[open + 1..s.len() - 1];
        let len = if len_str.is_empty() {
            None
        } else {
            if len_str.starts_with('0') || !len_str.bytes().all(|c| c.is_ascii_digit()) {
                return Err(format!("bad array length in {s:?}"));
            }
            Some(
                len_str
                    .parse::<usize>()
                    .map_err(|_| format!("array length too large in {s:?}"))?,
            )
        };
        return Ok(Ty::Array(Box::new(inner), len));
    }
    if let Some(a) = parse_atomic(s) {
        return Ok(Ty::Atomic(a));
    }
    index
        .get(s)
        .map(|i| Ty::Struct(*i))
        .ok_or_else(|| format!("type {s:?} is neither atomic nor defined in types"))
}

// ---------------------------------------------------------------------------
// Atomic values.

fn encode_atomic(kind: Atomic, value: &Node, path: &Path) -> Result<[u8; 32]> {
    match kind {
        Atomic::Address => {
            let Node::String(s) = value else {
                return Err(path.err("address must be a string"));
            };
            Address::parse(s)
                .map(|a| a.to_word())
                .map_err(|e| path.err(e))
        }
        Atomic::Bool => {
            let Node::Bool(b) = *value else {
                return Err(path.err("bool must be true or false"));
            };
            let mut word = [0u8; 32];
            word[31] = u8::from(b);
            Ok(word)
        }
        Atomic::String => {
            let Node::String(s) = value else {
                return Err(path.err("string must be a JSON string"));
            };
            Ok(keccak256(s.as_bytes()))
        }
        Atomic::Bytes => {
            let Node::String(s) = value else {
                return Err(path.err("bytes must be a 0x hex string"));
            };
            let bytes = hexutil::decode_0x(s).map_err(|e| path.err(format_args!("bytes: {e}")))?;
            Ok(keccak256(&bytes))
        }
        Atomic::FixedBytes(n) => {
            let Node::String(s) = value else {
                return Err(path.err(format_args!("bytes{n} must be a 0x hex string")));
            };
            let digits =
                hexutil::strip_0x(s).map_err(|e| path.err(format_args!("bytes{n}: {e}")))?;
            let mut word = [0u8; 32];
            hexutil::decode_digits_into(digits, &mut word[..n])
                .map_err(|e| path.err(format_args!("bytes{n}: {e}")))?;
            Ok(word)
        }
        Atomic::Uint(bits) => {
            let (negative, magnitude) = parse_integer(value, path)?;
            if negative {
                return Err(path.err(format_args!("uint{bits} cannot be negative")));
            }
            if magnitude.bits() > bits {
                return Err(path.err(format_args!("value out of range for uint{bits}")));
            }
            Ok(magnitude.to_be_bytes())
        }
        Atomic::Int(bits) => {
            let (negative, magnitude) = parse_integer(value, path)?;
            let fits =
                magnitude.bits() < bits || (negative && magnitude.is_power_of_two_at(bits - 1));
            if !fits {
                return Err(path.err(format_args!("value out of range for int{bits}")));
            }
            Ok(if negative {
                magnitude.wrapping_neg().to_be_bytes()
            } else {
                magnitude.to_be_bytes()
            })
        }
    }
}

/// Sign and magnitude of a JSON integer, decimal string or `0x` hex string.
fn parse_integer(value: &Node, path: &Path) -> Result<(bool, U256)> {
    let (text, from_json_number) = match value {
        Node::Int(i) => return Ok((*i < 0, U256::from_u64(i.unsigned_abs()))),
        Node::Number(n) => (n.as_ref(), true),
        Node::String(s) => (*s, false),
        _ => {
            return Err(
                path.err("integer must be a JSON integer, a decimal string or a 0x hex string")
            )
        }
    };
    if from_json_number && text.bytes().any(|c| matches!(c, b'.' | b'e' | b'E')) {
        return Err(path.err("integer must not be a float"));
    }
    if let Some(digits) = text.strip_prefix("0x") {
        let v = U256::from_hex_digits(digits.as_bytes())
            .map_err(|e| path.err(format_args!("hex integer: {e}")))?;
        return Ok((false, v));
    }
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let v =
        U256::from_dec_str(digits).map_err(|e| path.err(format_args!("decimal integer: {e}")))?;
    if negative && v.is_zero() {
        return Err(path.err("negative zero is not an integer"));
    }
    Ok((negative, v))
}

// ---------------------------------------------------------------------------
// Documents.

/// A validated typed-data document: `{types, primaryType, domain, message}`.
pub struct TypedData<V> {
    types: Types,
    primary_type: V,
    domain: V,
    message: Option<V>,
}

impl<V: JsonView> TypedData<V> {
    pub fn from_json(data: V, domain_types: DomainTypes) -> Result<Self> {
        let root = Path::root("$");
        let entries = data
            .entries()
            .ok_or_else(|| root.err("typed data must be an object"))?;
        let (mut types, mut primary, mut domain, mut message) = (None, None, None, None);
        for (key, value) in entries {
            match key_text(&key, &root)? {
                "types" => types = Some(value),
                "primaryType" => primary = Some(value),
                "domain" => domain = Some(value),
                "message" => message = Some(value),
                extra => return Err(Path::root(extra).err("unexpected top-level key")),
            }
        }
        let types_value = types.ok_or_else(|| Path::root("types").err("missing"))?;
        let primary_type = primary.ok_or_else(|| Path::root("primaryType").err("missing"))?;
        let primary_str = as_str(&primary_type)
            .ok_or_else(|| Path::root("primaryType").err("must be a string"))?;
        let domain = domain.ok_or_else(|| Path::root("domain").err("missing"))?;
        if !is_object(&domain) {
            return Err(Path::root("domain").err("must be an object"));
        }
        let inferred =
            match (has_key(&types_value, DOMAIN), domain_types) {
                (true, _) => None,
                (false, DomainTypes::Infer) => Some(&domain),
                (false, DomainTypes::Given) => return Err(Path::root("types").key(DOMAIN).err(
                    "missing; give it, or pass domain_types=\"infer\" to derive it from the domain",
                )),
            };
        let types = Types::build(&types_value, &Path::root("types"), inferred)?;
        if primary_str != DOMAIN {
            types.require(primary_str, &Path::root("primaryType"))?;
            if message.is_none() {
                return Err(Path::root("message").err("missing"));
            }
        } else if message.as_ref().is_some_and(|m| !is_object(m)) {
            return Err(Path::root("message").err("must be an object"));
        }
        Ok(TypedData {
            types,
            primary_type,
            domain,
            message,
        })
    }

    pub fn types(&self) -> &Types {
        &self.types
    }

    pub fn primary_type(&self) -> &str {
        as_str(&self.primary_type).expect("checked in from_json")
    }

    /// Whether the document has a `message` that no hash reads: when the primary type
    /// is `EIP712Domain`, only its being an object is checked.
    pub fn ignores_message(&self) -> bool {
        self.message.is_some() && self.primary_type() == DOMAIN
    }

    /// `hashStruct(EIP712Domain, domain)`, memoized: a service sees few domains
    /// (one per token and chain) and each costs four keccak permutations.
    pub fn domain_separator(&self) -> Result<[u8; 32]> {
        static MEMO: Memo<String, [u8; 32]> = Memo::new(1024);
        let idx = self.types.require(DOMAIN, &Path::root("types"))?;
        let hash = || {
            self.types
                .hash_struct_of(idx, &self.domain, &Path::root("domain"))
        };
        // The type hash covers every type the domain uses; the memo key covers its
        // values. Errors are never stored.
        let mut key = hexutil::encode_0x(&self.types.type_hash_of(idx));
        match write_memo_key(&self.domain, &mut key) {
            Some(()) => MEMO.try_get_or_insert_with(key.as_str(), hash),
            None => hash(),
        }
    }

    /// `hashStruct(primaryType, message)`; `None` when the primary type is the domain.
    pub fn message_hash(&self) -> Result<Option<[u8; 32]>> {
        let primary_type = self.primary_type();
        if primary_type == DOMAIN {
            return Ok(None);
        }
        let message = self.message.as_ref().expect("checked in from_json");
        let path = Path::root("message");
        let idx = self.types.require(primary_type, &path)?;
        self.types.hash_struct_of(idx, message, &path).map(Some)
    }

    /// `keccak256(0x19 0x01 ‖ domainSeparator ‖ hashStruct(message))`.
    pub fn signing_hash(&self) -> Result<[u8; 32]> {
        let domain = self.domain_separator()?;
        Ok(match self.message_hash()? {
            Some(message) => keccak256_concat(&[b"\x19\x01", &domain, &message]),
            None => keccak256_concat(&[b"\x19\x01", &domain]),
        })
    }
}

/// The EIP-712 digest of a typed-data document.
pub fn hash_typed_data<V: JsonView>(data: V, domain_types: DomainTypes) -> Result<[u8; 32]> {
    TypedData::from_json(data, domain_types)?.signing_hash()
}

/// The domain separator of a typed-data document.
pub fn domain_separator<V: JsonView>(data: V, domain_types: DomainTypes) -> Result<[u8; 32]> {
    TypedData::from_json(data, domain_types)?.domain_separator()
}

#[cfg(test)]
mod tests;
