//! Networks and assets as runtime-extensible data.
//!
//! A network is named two ways on the wire: x402 v2 uses CAIP-2 (`eip155:8453`), v1
//! uses names (`base`, `base-sepolia`, …). [`Network::parse`] accepts both, strictly:
//! ASCII, `eip155:` + a decimal chain id without leading zeros that fits a `u64` and is
//! not 0 (any such id parses, known or not), or a v1 name the registry knows. Other
//! CAIP-2 namespaces (`solana:…`) are refused as unsupported: fastx402 is EVM-only.
//!
//! The v1 names and the default assets (the stablecoin of each chain with its EIP-712
//! domain name and version, decimals and transfer method) are data, `assets.json`,
//! copied from the official x402 SDK (provenance inside the file). A [`Registry`]
//! starts from them and users extend it at run time: [`Registry::global`] is the
//! process-wide one (thread-safe), [`Registry::with_defaults`] and [`Registry::empty`]
//! build independent ones (tests, multi-tenant services).
//!
//! One file of about 900 lines of non-test code on purpose: networks, assets and the
//! registry that holds both are one unit (a v1 name parses only through the registry,
//! an asset is defined against its network). The tests live in `networks/tests.rs`.

use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::sync::{Arc, LazyLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde_json::Value;

use crate::crypto::address::{Address, AddressError};

/// The most decimals an asset may have. `10^36` leaves room for `10^41` whole
/// tokens in a uint256; no stablecoin is anywhere near.
pub const MAX_DECIMALS: u8 = 36;

/// Longest network identifier accepted (a CAIP-2 id is at most 8 + 1 + 32 bytes).
pub const MAX_NETWORK_LEN: usize = 64;

/// Longest EIP-712 name or version accepted for an asset, in bytes.
pub const MAX_DOMAIN_FIELD_LEN: usize = 128;

/// Longest asset symbol accepted.
pub const MAX_SYMBOL_LEN: usize = 32;

const REASON_NETWORK: &str = crate::x402::reason::INVALID_NETWORK;
const REASON_REQUIREMENTS: &str = crate::x402::reason::INVALID_PAYMENT_REQUIREMENTS;

/// Why a chain id (the part after `eip155:`) was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainIdProblem {
    Empty,
    NotDecimal,
    LeadingZero,
    Zero,
    Overflow,
}

impl fmt::Display for ChainIdProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChainIdProblem::Empty => "it is empty",
            ChainIdProblem::NotDecimal => "it must be decimal digits 0-9 only",
            ChainIdProblem::LeadingZero => "leading zeros are not allowed",
            ChainIdProblem::Zero => "chain id 0 is not a chain",
            ChainIdProblem::Overflow => "it does not fit in 64 bits",
        })
    }
}

/// Everything that can go wrong naming a network or registering or finding an asset.
/// [`NetworkError::reason`] gives the x402 reason code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    // Network identity: reason `invalid_network`.
    #[error("network is empty")]
    Empty,
    #[error("network must be ASCII")]
    NonAscii,
    #[error("network is {len} bytes long; at most {MAX_NETWORK_LEN} are allowed")]
    TooLong { len: usize },
    #[error(
        "network must be a CAIP-2 id such as \"eip155:8453\" or a v1 name such as \
         \"base-sepolia\", got {0:?}"
    )]
    Malformed(String),
    #[error("unsupported CAIP-2 namespace {0:?}: only eip155 (EVM) networks are supported")]
    UnsupportedNamespace(String),
    #[error("invalid EVM chain id {input:?}: {problem}")]
    InvalidChainId {
        input: String,
        problem: ChainIdProblem,
    },
    #[error(
        "unknown v1 network name {0:?} (register it, or use a CAIP-2 id such as \"eip155:8453\")"
    )]
    UnknownNetwork(String),
    #[error(
        "invalid v1 network name {0:?}: use 1 to {MAX_NETWORK_LEN} lowercase letters and digits \
         in groups joined by single hyphens"
    )]
    InvalidV1Name(String),
    #[error("v1 network name {name:?} is already registered for eip155:{chain_id}")]
    NameTaken { name: String, chain_id: u64 },
    #[error("eip155:{chain_id} already has the v1 name {name:?}")]
    ChainNamed { chain_id: u64, name: String },

    // Assets: reason `invalid_payment_requirements`.
    #[error("no default asset is registered for eip155:{0}")]
    NoDefaultAsset(u64),
    #[error("asset {address} is not registered on eip155:{chain_id}")]
    UnknownAsset { chain_id: u64, address: Address },
    #[error("no asset with symbol {symbol:?} is registered on eip155:{chain_id}")]
    UnknownSymbol { chain_id: u64, symbol: String },
    #[error("invalid asset address: {0}")]
    InvalidAddress(AddressError),
    #[error("asset decimals {0} exceed the maximum of {MAX_DECIMALS}")]
    InvalidDecimals(u64),
    #[error(
        "invalid asset {field}: it must be 1 to {MAX_DOMAIN_FIELD_LEN} bytes of text without \
         control characters or surrounding spaces"
    )]
    InvalidDomainField { field: &'static str },
    #[error(
        "invalid asset symbol {0:?}: it must be an ASCII letter then letters, digits or dots, \
         at most {MAX_SYMBOL_LEN} characters"
    )]
    InvalidSymbol(String),
    #[error("invalid asset transfer method {0:?}: expected \"eip3009\" or \"permit2\"")]
    InvalidTransferMethod(String),
    #[error(
        "eip155:{chain_id} already has a different asset with this {what} ({existing}); \
         register it in replace or default mode to replace it"
    )]
    AssetConflict {
        chain_id: u64,
        what: &'static str,
        existing: Address,
    },
}

impl NetworkError {
    /// The x402 reason code: `invalid_network` for a bad or unknown network,
    /// `invalid_payment_requirements` for an asset problem.
    pub fn reason(&self) -> &'static str {
        if self.is_asset_error() {
            REASON_REQUIREMENTS
        } else {
            REASON_NETWORK
        }
    }

    /// True for asset lookups and asset definitions, false for network identity.
    pub fn is_asset_error(&self) -> bool {
        matches!(
            self,
            NetworkError::NoDefaultAsset(_)
                | NetworkError::UnknownAsset { .. }
                | NetworkError::UnknownSymbol { .. }
                | NetworkError::InvalidAddress(_)
                | NetworkError::InvalidDecimals(_)
                | NetworkError::InvalidDomainField { .. }
                | NetworkError::InvalidSymbol(_)
                | NetworkError::InvalidTransferMethod(_)
                | NetworkError::AssetConflict { .. }
        )
    }

    /// A short stable name of the variant (`unknown_network`, `too_long`, …), for
    /// callers that branch on the kind of failure.
    pub fn code(&self) -> &'static str {
        match self {
            NetworkError::Empty => "empty",
            NetworkError::NonAscii => "non_ascii",
            NetworkError::TooLong { .. } => "too_long",
            NetworkError::Malformed(_) => "malformed",
            NetworkError::UnsupportedNamespace(_) => "unsupported_namespace",
            NetworkError::InvalidChainId { .. } => "invalid_chain_id",
            NetworkError::UnknownNetwork(_) => "unknown_network",
            NetworkError::InvalidV1Name(_) => "invalid_v1_name",
            NetworkError::NameTaken { .. } => "name_taken",
            NetworkError::ChainNamed { .. } => "chain_named",
            NetworkError::NoDefaultAsset(_) => "no_default_asset",
            NetworkError::UnknownAsset { .. } => "unknown_asset",
            NetworkError::UnknownSymbol { .. } => "unknown_symbol",
            NetworkError::InvalidAddress(_) => "invalid_address",
            NetworkError::InvalidDecimals(_) => "invalid_decimals",
            NetworkError::InvalidDomainField { .. } => "invalid_domain_field",
            NetworkError::InvalidSymbol(_) => "invalid_symbol",
            NetworkError::InvalidTransferMethod(_) => "invalid_transfer_method",
            NetworkError::AssetConflict { .. } => "asset_conflict",
        }
    }
}

/// At most this many characters of a refused input are echoed in an error message.
const SHOWN: usize = 80;

fn shown(s: &str) -> String {
    match s.char_indices().nth(SHOWN) {
        None => s.to_owned(),
        Some((cut, _)) => format!("{}…", &s[..cut]),
    }
}

// ---------------------------------------------------------------------------
// Assets
// ---------------------------------------------------------------------------

/// How a payer authorizes a transfer of the asset (`extra.assetTransferMethod`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TransferMethod {
    /// EIP-3009 `transferWithAuthorization` (USDC and most bridged stablecoins).
    #[default]
    Eip3009,
    /// Uniswap Permit2 through the x402 proxy, for tokens without EIP-3009.
    Permit2,
}

impl TransferMethod {
    /// The wire spelling: `eip3009` or `permit2`.
    pub const fn as_str(&self) -> &'static str {
        match self {
            TransferMethod::Eip3009 => "eip3009",
            TransferMethod::Permit2 => "permit2",
        }
    }

    /// Exactly `eip3009` or `permit2`.
    pub fn parse(s: &str) -> Result<Self, NetworkError> {
        match s {
            "eip3009" => Ok(TransferMethod::Eip3009),
            "permit2" => Ok(TransferMethod::Permit2),
            other => Err(NetworkError::InvalidTransferMethod(shown(other))),
        }
    }
}

impl fmt::Display for TransferMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A token x402 can be paid in on one chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    /// The token contract (the EIP-712 `verifyingContract` for EIP-3009).
    pub address: Address,
    /// EIP-712 domain name: the token's on-chain `name()` (e.g. `USD Coin`).
    pub name: String,
    /// EIP-712 domain version: the token's on-chain `version()` (e.g. `2`).
    pub version: String,
    /// ERC-20 `decimals()`, at most [`MAX_DECIMALS`].
    pub decimals: u8,
    /// Ticker used in prices such as `"1.5 USDC"`; `None` if the asset has none.
    pub symbol: Option<String>,
    pub transfer_method: TransferMethod,
    /// Whether the token implements EIP-2612 `permit` (used to fund Permit2 gaslessly).
    pub supports_eip2612: bool,
}

impl Asset {
    /// An EIP-3009 asset without symbol; validated.
    pub fn new(
        address: &str,
        name: &str,
        version: &str,
        decimals: u8,
    ) -> Result<Self, NetworkError> {
        let asset = Asset {
            address: Address::parse(address).map_err(NetworkError::InvalidAddress)?,
            name: name.to_owned(),
            version: version.to_owned(),
            decimals,
            symbol: None,
            transfer_method: TransferMethod::Eip3009,
            supports_eip2612: false,
        };
        asset.validate()?;
        Ok(asset)
    }

    /// The same asset with a symbol; validated.
    pub fn with_symbol(mut self, symbol: &str) -> Result<Self, NetworkError> {
        check_symbol(symbol)?;
        self.symbol = Some(symbol.to_owned());
        Ok(self)
    }

    /// The same asset with another transfer method.
    pub fn with_transfer_method(mut self, method: TransferMethod) -> Self {
        self.transfer_method = method;
        self
    }

    /// Checks what the type cannot: decimals ≤ [`MAX_DECIMALS`]; name and version
    /// 1 to [`MAX_DOMAIN_FIELD_LEN`] bytes without control characters or leading or
    /// trailing whitespace (not ASCII-only: the EIP-712 name is the token's on-chain
    /// `name()`, and Flare's USD₮0 has a non-ASCII one); the symbol, if any, matching
    /// `[A-Za-z][A-Za-z0-9.]*`, at most [`MAX_SYMBOL_LEN`].
    pub fn validate(&self) -> Result<(), NetworkError> {
        if self.decimals > MAX_DECIMALS {
            return Err(NetworkError::InvalidDecimals(u64::from(self.decimals)));
        }
        check_domain_field("name", &self.name)?;
        check_domain_field("version", &self.version)?;
        if let Some(symbol) = &self.symbol {
            check_symbol(symbol)?;
        }
        Ok(())
    }
}

fn check_domain_field(field: &'static str, value: &str) -> Result<(), NetworkError> {
    let ok = !value.is_empty()
        && value.len() <= MAX_DOMAIN_FIELD_LEN
        && !value.chars().any(char::is_control)
        && value.trim() == value;
    if ok {
        Ok(())
    } else {
        Err(NetworkError::InvalidDomainField { field })
    }
}

/// `[A-Za-z][A-Za-z0-9.]*`, the official SDK's ticker grammar, at most
/// [`MAX_SYMBOL_LEN`] characters.
pub fn is_valid_symbol(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_SYMBOL_LEN
        && b[0].is_ascii_alphabetic()
        && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'.')
}

fn check_symbol(s: &str) -> Result<(), NetworkError> {
    if is_valid_symbol(s) {
        Ok(())
    } else {
        Err(NetworkError::InvalidSymbol(shown(s)))
    }
}

// ---------------------------------------------------------------------------
// Networks
// ---------------------------------------------------------------------------

/// An EVM network. Equality and hashing are by chain id only: `base` and
/// `eip155:8453` are the same network.
#[derive(Clone)]
pub struct Network {
    chain_id: u64,
    v1_name: Option<Arc<str>>,
}

impl Network {
    /// Parses a CAIP-2 id or a v1 name known to the global registry.
    pub fn parse(s: &str) -> Result<Self, NetworkError> {
        Registry::global().parse_network(s)
    }

    /// The network of a chain id (not 0), with its v1 name from the global registry.
    pub fn from_chain_id(chain_id: u64) -> Result<Self, NetworkError> {
        Registry::global().network(chain_id)
    }

    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The CAIP-2 id, `eip155:<chain id>` (the v2 wire form).
    pub fn caip2(&self) -> String {
        format!("eip155:{}", self.chain_id)
    }

    /// The v1 name, if the registry that made this value knew one.
    pub fn v1_name(&self) -> Option<&str> {
        self.v1_name.as_deref()
    }
}

impl PartialEq for Network {
    fn eq(&self, other: &Self) -> bool {
        self.chain_id == other.chain_id
    }
}

impl Eq for Network {}

impl Hash for Network {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.chain_id.hash(state);
    }
}

impl fmt::Display for Network {
    /// The CAIP-2 form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "eip155:{}", self.chain_id)
    }
}

impl fmt::Debug for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.v1_name {
            Some(name) => write!(f, "Network(eip155:{}, {name:?})", self.chain_id),
            None => write!(f, "Network(eip155:{})", self.chain_id),
        }
    }
}

impl FromStr for Network {
    type Err = NetworkError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Network::parse(s)
    }
}

/// The chain id of a CAIP-2 `eip155` reference: `[1-9][0-9]*` that fits a `u64`.
pub fn parse_chain_id(s: &str) -> Result<u64, NetworkError> {
    let fail = |problem| NetworkError::InvalidChainId {
        input: shown(s),
        problem,
    };
    let b = s.as_bytes();
    if b.is_empty() {
        return Err(fail(ChainIdProblem::Empty));
    }
    if !b.iter().all(u8::is_ascii_digit) {
        return Err(fail(ChainIdProblem::NotDecimal));
    }
    if b[0] == b'0' {
        return Err(fail(if b.len() == 1 {
            ChainIdProblem::Zero
        } else {
            ChainIdProblem::LeadingZero
        }));
    }
    let mut v: u64 = 0;
    for &c in b {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(c - b'0')))
            .ok_or_else(|| fail(ChainIdProblem::Overflow))?;
    }
    Ok(v)
}

fn check_chain_id(chain_id: u64) -> Result<u64, NetworkError> {
    if chain_id == 0 {
        Err(NetworkError::InvalidChainId {
            input: "0".into(),
            problem: ChainIdProblem::Zero,
        })
    } else {
        Ok(chain_id)
    }
}

/// `[a-z0-9]+(-[a-z0-9]+)*`, at most [`MAX_NETWORK_LEN`] bytes: the shape of every
/// official v1 name.
pub fn is_valid_v1_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_NETWORK_LEN
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
        && !s.contains("--")
}

/// CAIP-2 namespace grammar `[-a-z0-9]{3,8}`.
fn is_caip2_namespace(s: &str) -> bool {
    (3..=8).contains(&s.len())
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
}

/// CAIP-2 reference grammar `[-_a-zA-Z0-9]{1,32}`.
fn is_caip2_reference(s: &str) -> bool {
    (1..=32).contains(&s.len())
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
}

// ---------------------------------------------------------------------------
// Registry
// ---------------------------------------------------------------------------

/// How [`Registry::register_asset`] treats an asset the chain already lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Register {
    /// Add a new asset. Registering an identical asset again is a no-op; an entry
    /// with the same address or the same symbol but other data is a conflict. The
    /// first asset of a chain becomes its default.
    #[default]
    Add,
    /// Add, or replace the entries with the same address or symbol in place.
    Replace,
    /// Like `Replace`, and make the asset the chain's default; the previous default
    /// stays registered as a non-default asset.
    Default,
}

#[derive(Default, Clone)]
struct Chain {
    v1_name: Option<Arc<str>>,
    /// `assets[0]` is the default.
    assets: Vec<Asset>,
}

#[derive(Default, Clone)]
struct Inner {
    names: HashMap<Arc<str>, u64>,
    chains: HashMap<u64, Chain>,
}

/// Known networks (v1 names) and the assets of each chain. Every method takes
/// `&self`: the data sits behind an `RwLock`, lookups copy out what they return.
#[derive(Default)]
pub struct Registry {
    inner: RwLock<Inner>,
}

static DEFAULTS: LazyLock<Inner> =
    LazyLock::new(|| load_defaults(DEFAULTS_JSON).expect("src/x402/assets.json is valid"));

static GLOBAL: LazyLock<Registry> = LazyLock::new(Registry::with_defaults);

/// The bundled data file.
pub const DEFAULTS_JSON: &str = include_str!("assets.json");

impl Registry {
    /// A registry that knows nothing: no v1 names, no assets.
    pub fn empty() -> Self {
        Registry::default()
    }

    /// A new, independent registry holding the bundled defaults.
    pub fn with_defaults() -> Self {
        Registry {
            inner: RwLock::new(DEFAULTS.clone()),
        }
    }

    /// The process-wide registry used by [`Network::parse`] and the Python API.
    pub fn global() -> &'static Registry {
        &GLOBAL
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        // Writers never panic while holding the lock; a poisoned lock still holds
        // consistent data.
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Parses a network identifier; see the module documentation for the grammar.
    pub fn parse_network(&self, s: &str) -> Result<Network, NetworkError> {
        if s.is_empty() {
            return Err(NetworkError::Empty);
        }
        if !s.is_ascii() {
            return Err(NetworkError::NonAscii);
        }
        if s.len() > MAX_NETWORK_LEN {
            return Err(NetworkError::TooLong { len: s.len() });
        }
        if let Some((namespace, reference)) = s.split_once(':') {
            if namespace != "eip155" {
                return Err(
                    if is_caip2_namespace(namespace) && is_caip2_reference(reference) {
                        NetworkError::UnsupportedNamespace(namespace.to_owned())
                    } else {
                        NetworkError::Malformed(shown(s))
                    },
                );
            }
            return self.network(parse_chain_id(reference)?);
        }
        if !is_valid_v1_name(s) {
            return Err(NetworkError::Malformed(shown(s)));
        }
        self.network_by_name(s)
    }

    /// A network known by its v1 name (exact, lowercase).
    pub fn network_by_name(&self, name: &str) -> Result<Network, NetworkError> {
        let inner = self.read();
        match inner.names.get_key_value(name) {
            Some((key, &chain_id)) => Ok(Network {
                chain_id,
                v1_name: Some(key.clone()),
            }),
            None => Err(NetworkError::UnknownNetwork(shown(name))),
        }
    }

    /// The network of any chain id but 0, with its v1 name if it has one.
    pub fn network(&self, chain_id: u64) -> Result<Network, NetworkError> {
        check_chain_id(chain_id)?;
        let v1_name = self
            .read()
            .chains
            .get(&chain_id)
            .and_then(|c| c.v1_name.clone());
        Ok(Network { chain_id, v1_name })
    }

    /// Whether the registry has a v1 name or an asset for the chain (or it was
    /// registered with [`Registry::register_network`]).
    pub fn is_known(&self, chain_id: u64) -> bool {
        self.read().chains.contains_key(&chain_id)
    }

    /// Every known network, by chain id.
    pub fn networks(&self) -> Vec<Network> {
        let inner = self.read();
        let mut out: Vec<Network> = inner
            .chains
            .iter()
            .map(|(&chain_id, c)| Network {
                chain_id,
                v1_name: c.v1_name.clone(),
            })
            .collect();
        out.sort_by_key(Network::chain_id);
        out
    }

    /// Makes a chain known, optionally under a v1 name. Idempotent; a name already
    /// used by another chain, or a chain that already has another name, is an error
    /// (use [`Registry::replace_network`] to remap).
    pub fn register_network(
        &self,
        v1_name: Option<&str>,
        chain_id: u64,
    ) -> Result<Network, NetworkError> {
        self.set_network(v1_name, chain_id, false)
    }

    /// Like [`Registry::register_network`], but takes the name away from the chain
    /// it named and replaces the chain's former name (e.g. to follow an SDK that
    /// maps a name to another chain).
    pub fn replace_network(&self, v1_name: &str, chain_id: u64) -> Result<Network, NetworkError> {
        self.set_network(Some(v1_name), chain_id, true)
    }

    fn set_network(
        &self,
        v1_name: Option<&str>,
        chain_id: u64,
        replace: bool,
    ) -> Result<Network, NetworkError> {
        check_chain_id(chain_id)?;
        if let Some(name) = v1_name {
            if !is_valid_v1_name(name) {
                return Err(NetworkError::InvalidV1Name(shown(name)));
            }
        }
        let mut inner = self.write();
        let Some(name) = v1_name else {
            let chain = inner.chains.entry(chain_id).or_default();
            return Ok(Network {
                chain_id,
                v1_name: chain.v1_name.clone(),
            });
        };
        let existing_chain = inner.names.get(name).copied();
        let existing_name = inner.chains.get(&chain_id).and_then(|c| c.v1_name.clone());
        if existing_chain == Some(chain_id) {
            return Ok(Network {
                chain_id,
                v1_name: existing_name,
            });
        }
        if !replace {
            if let Some(other) = existing_chain {
                return Err(NetworkError::NameTaken {
                    name: name.to_owned(),
                    chain_id: other,
                });
            }
            if let Some(old) = existing_name {
                return Err(NetworkError::ChainNamed {
                    chain_id,
                    name: old.to_string(),
                });
            }
        }
        if let Some(other) = existing_chain {
            inner.names.remove(name);
            if let Some(c) = inner.chains.get_mut(&other) {
                c.v1_name = None;
            }
        }
        if let Some(old) = existing_name {
            inner.names.remove(&old);
        }
        let name: Arc<str> = Arc::from(name);
        inner.names.insert(name.clone(), chain_id);
        inner.chains.entry(chain_id).or_default().v1_name = Some(name.clone());
        Ok(Network {
            chain_id,
            v1_name: Some(name),
        })
    }

    /// Adds an asset to a chain (which becomes known); see [`Register`] for what
    /// happens when the chain already lists it. The asset is validated first.
    pub fn register_asset(
        &self,
        chain_id: u64,
        asset: Asset,
        mode: Register,
    ) -> Result<(), NetworkError> {
        check_chain_id(chain_id)?;
        asset.validate()?;
        let mut inner = self.write();
        let assets = &mut inner.chains.entry(chain_id).or_default().assets;
        let clashes = |a: &Asset| {
            a.address == asset.address || (a.symbol.is_some() && a.symbol == asset.symbol)
        };
        if mode == Register::Add {
            if let Some(same) = assets.iter().find(|a| clashes(a)) {
                if *same == asset {
                    return Ok(());
                }
                return Err(NetworkError::AssetConflict {
                    chain_id,
                    what: if same.address == asset.address {
                        "address"
                    } else {
                        "symbol"
                    },
                    existing: same.address,
                });
            }
            assets.push(asset);
            return Ok(());
        }
        let first_clash = assets.iter().position(clashes);
        assets.retain(|a| !clashes(a));
        let at = match (mode, first_clash) {
            (Register::Default, _) => 0,
            (_, Some(i)) => i.min(assets.len()),
            (_, None) => assets.len(),
        };
        assets.insert(at, asset);
        Ok(())
    }

    /// The chain's default asset (what a bare `"$0.01"` price is paid in).
    pub fn default_asset(&self, chain_id: u64) -> Result<Asset, NetworkError> {
        self.read()
            .chains
            .get(&chain_id)
            .and_then(|c| c.assets.first().cloned())
            .ok_or(NetworkError::NoDefaultAsset(chain_id))
    }

    /// The asset registered at `address` on the chain.
    pub fn asset(&self, chain_id: u64, address: &Address) -> Result<Asset, NetworkError> {
        self.read()
            .chains
            .get(&chain_id)
            .and_then(|c| c.assets.iter().find(|a| a.address == *address).cloned())
            .ok_or(NetworkError::UnknownAsset {
                chain_id,
                address: *address,
            })
    }

    /// The asset with this symbol on the chain (exact, case-sensitive match).
    pub fn asset_by_symbol(&self, chain_id: u64, symbol: &str) -> Result<Asset, NetworkError> {
        self.read()
            .chains
            .get(&chain_id)
            .and_then(|c| {
                c.assets
                    .iter()
                    .find(|a| a.symbol.as_deref() == Some(symbol))
                    .cloned()
            })
            .ok_or_else(|| NetworkError::UnknownSymbol {
                chain_id,
                symbol: shown(symbol),
            })
    }

    /// Every asset of the chain, the default first.
    pub fn assets(&self, chain_id: u64) -> Vec<Asset> {
        self.read()
            .chains
            .get(&chain_id)
            .map(|c| c.assets.clone())
            .unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------
// The bundled data
// ---------------------------------------------------------------------------

/// Loads `assets.json` through the same validation as run-time registration.
fn load_defaults(json: &str) -> Result<Inner, String> {
    let doc = crate::json::parse_strict(json.as_bytes()).map_err(|e| e.to_string())?;
    let top = object(&doc, "$", &["_about", "v1Networks", "assets"], &[])?;
    let registry = Registry::empty();
    for (i, entry) in array(&top["v1Networks"], "v1Networks")?.iter().enumerate() {
        let path = format!("v1Networks[{i}]");
        let o = object(entry, &path, &["name", "chainId"], &[])?;
        registry
            .register_network(
                Some(string(&o["name"], &path)?),
                integer(&o["chainId"], &path)?,
            )
            .map_err(|e| format!("{path}: {e}"))?;
    }
    for (i, entry) in array(&top["assets"], "assets")?.iter().enumerate() {
        let path = format!("assets[{i}]");
        let o = object(entry, &path, &["chainId", "label", "source", "tokens"], &[])?;
        let chain_id = integer(&o["chainId"], &path)?;
        string(&o["label"], &path)?;
        string(&o["source"], &path)?;
        if !registry.assets(chain_id).is_empty() {
            return Err(format!("{path}: chain {chain_id} listed twice"));
        }
        let tokens = array(&o["tokens"], &path)?;
        if tokens.is_empty() {
            return Err(format!("{path}: no tokens"));
        }
        for (j, token) in tokens.iter().enumerate() {
            let path = format!("{path}.tokens[{j}]");
            let t = object(
                token,
                &path,
                &[
                    "symbol",
                    "address",
                    "name",
                    "version",
                    "decimals",
                    "transferMethod",
                    "supportsEip2612",
                ],
                &[],
            )?;
            let err = |e: NetworkError| format!("{path}: {e}");
            let decimals = integer(&t["decimals"], &path)?;
            let decimals =
                u8::try_from(decimals).map_err(|_| err(NetworkError::InvalidDecimals(decimals)))?;
            let asset = Asset {
                address: Address::parse(string(&t["address"], &path)?)
                    .map_err(|e| err(NetworkError::InvalidAddress(e)))?,
                name: string(&t["name"], &path)?.to_owned(),
                version: string(&t["version"], &path)?.to_owned(),
                decimals,
                symbol: Some(string(&t["symbol"], &path)?.to_owned()),
                transfer_method: TransferMethod::parse(string(&t["transferMethod"], &path)?)
                    .map_err(err)?,
                supports_eip2612: t["supportsEip2612"]
                    .as_bool()
                    .ok_or_else(|| format!("{path}.supportsEip2612: expected a bool"))?,
            };
            // Addresses in the data are checksummed, as they are in the SDK.
            if asset.address.to_checksum() != string(&t["address"], &path)? {
                return Err(format!("{path}.address: not in EIP-55 form"));
            }
            if registry
                .assets(chain_id)
                .iter()
                .any(|a| a.address == asset.address || a.symbol == asset.symbol)
            {
                return Err(format!("{path}: duplicate address or symbol"));
            }
            registry
                .register_asset(chain_id, asset, Register::Add)
                .map_err(err)?;
        }
    }
    Ok(registry
        .inner
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner))
}

fn object<'a>(
    v: &'a Value,
    path: &str,
    required: &[&str],
    optional: &[&str],
) -> Result<&'a serde_json::Map<String, Value>, String> {
    let o = v
        .as_object()
        .ok_or_else(|| format!("{path}: expected an object"))?;
    for key in required {
        if !o.contains_key(*key) {
            return Err(format!("{path}: missing {key:?}"));
        }
    }
    for key in o.keys() {
        if !required.contains(&key.as_str()) && !optional.contains(&key.as_str()) {
            return Err(format!("{path}: unknown key {key:?}"));
        }
    }
    Ok(o)
}

fn array<'a>(v: &'a Value, path: &str) -> Result<&'a Vec<Value>, String> {
    v.as_array()
        .ok_or_else(|| format!("{path}: expected an array"))
}

fn string<'a>(v: &'a Value, path: &str) -> Result<&'a str, String> {
    v.as_str()
        .ok_or_else(|| format!("{path}: expected a string"))
}

fn integer(v: &Value, path: &str) -> Result<u64, String> {
    v.as_u64()
        .ok_or_else(|| format!("{path}: expected a non-negative integer"))
}

#[cfg(test)]
mod tests;
