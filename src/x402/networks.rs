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

const REASON_NETWORK: &str = "invalid_network";
const REASON_REQUIREMENTS: &str = "invalid_payment_requirements";

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
mod tests {
    use super::*;

    fn addr(s: &str) -> Address {
        Address::parse(s).unwrap()
    }

    const BASE_USDC: &str = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913";

    #[test]
    fn defaults_load() {
        let r = Registry::with_defaults();
        assert_eq!(r.read().names.len(), 23);
        // 29 chains with assets in x402 2.25 + Avalanche Fuji from protocol.md.
        let with_assets = r
            .networks()
            .iter()
            .filter(|n| !r.assets(n.chain_id()).is_empty())
            .count();
        assert_eq!(with_assets, 30);
        let total: usize = r
            .networks()
            .iter()
            .map(|n| r.assets(n.chain_id()).len())
            .sum();
        assert_eq!(total, 32);
    }

    #[test]
    fn protocol_table() {
        // The default-asset table of shared/reference/protocol.md.
        let table: &[(u64, &str, &str, &str, u8)] = &[
            (
                8453,
                "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
                "USD Coin",
                "2",
                6,
            ),
            (
                84532,
                "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
                "USDC",
                "2",
                6,
            ),
            (
                137,
                "0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359",
                "USD Coin",
                "2",
                6,
            ),
            (
                42161,
                "0xaf88d065e77c8cC2239327C5EDb3A432268e5831",
                "USD Coin",
                "2",
                6,
            ),
            (
                421614,
                "0x75faf114eafb1BDbe2F0316DF893fd58CE46AA4d",
                "USD Coin",
                "2",
                6,
            ),
            (
                1,
                "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
                "USD Coin",
                "2",
                6,
            ),
            (
                43114,
                "0xB97EF9Ef8734C71904D8002F8b6Bc66Dd9c48a6E",
                "USD Coin",
                "2",
                6,
            ),
            (
                43113,
                "0x5425890298aed601595a70AB815c96711a31Bc65",
                "USD Coin",
                "2",
                6,
            ),
            (
                143,
                "0x754704Bc059F8C67012fEd69BC8A327a5aafb603",
                "USDC",
                "2",
                6,
            ),
        ];
        let r = Registry::with_defaults();
        for &(chain, address, name, version, decimals) in table {
            let a = r.default_asset(chain).unwrap();
            assert_eq!(a.address.to_checksum(), address, "{chain}");
            assert_eq!(
                (a.name.as_str(), a.version.as_str(), a.decimals),
                (name, version, decimals)
            );
            assert_eq!(a.transfer_method, TransferMethod::Eip3009);
            assert_eq!(a.symbol.as_deref(), Some("USDC"));
        }
    }

    #[test]
    fn sdk_particulars() {
        let r = Registry::with_defaults();
        let mega = r.default_asset(4326).unwrap();
        assert_eq!(mega.transfer_method, TransferMethod::Permit2);
        assert!(mega.supports_eip2612);
        assert_eq!(mega.decimals, 18);
        let igra = r.default_asset(38833).unwrap();
        assert_eq!(igra.transfer_method, TransferMethod::Permit2);
        assert!(!igra.supports_eip2612);
        assert_eq!(r.default_asset(14).unwrap().name, "USD\u{20ae}0");
        // Celo: three assets, USDC first, the others by symbol.
        let celo: Vec<_> = r
            .assets(42220)
            .into_iter()
            .map(|a| a.symbol.unwrap())
            .collect();
        assert_eq!(celo, ["USDC", "USDT", "USAT"]);
        assert_eq!(
            r.asset_by_symbol(42220, "USDT").unwrap().address,
            addr("0x48065fbBE25f71C9282ddf5e1cD6D6A887483D5e")
        );
        assert_eq!(r.network_by_name("celo").unwrap().chain_id(), 42220);
        // Names only in the chain-id map, not in V1_NETWORKS, are still names.
        assert_eq!(r.network_by_name("ethereum").unwrap().chain_id(), 1);
        assert_eq!(r.network_by_name("flare").unwrap().chain_id(), 14);
    }

    #[test]
    fn v1_names_match_the_python_sdk() {
        let table: &[(&str, u64)] = &[
            ("base", 8453),
            ("base-sepolia", 84532),
            ("ethereum", 1),
            ("polygon", 137),
            ("polygon-amoy", 80002),
            ("avalanche", 43114),
            ("avalanche-fuji", 43113),
            ("abstract", 2741),
            ("abstract-testnet", 11124),
            ("iotex", 4689),
            ("sei", 1329),
            ("sei-testnet", 1328),
            ("peaq", 3338),
            ("story", 1513),
            ("educhain", 656476),
            ("skale-base-sepolia", 1444673419),
            ("megaeth", 4326),
            ("monad", 143),
            ("monad-testnet", 10143),
            ("stable", 988),
            ("stable-testnet", 2201),
            ("celo", 42220),
            ("flare", 14),
        ];
        let r = Registry::with_defaults();
        for &(name, id) in table {
            let n = r.parse_network(name).unwrap();
            assert_eq!(n.chain_id(), id, "{name}");
            assert_eq!(n.v1_name(), Some(name));
            assert_eq!(n.caip2(), format!("eip155:{id}"));
            // And back: the CAIP-2 form finds the name.
            assert_eq!(r.parse_network(&n.caip2()).unwrap().v1_name(), Some(name));
        }
        assert_eq!(r.read().names.len(), table.len());
    }

    #[test]
    fn accepted_networks() {
        let r = Registry::with_defaults();
        let ok: &[(&str, u64, Option<&str>)] = &[
            ("eip155:8453", 8453, Some("base")),
            ("base", 8453, Some("base")),
            ("eip155:1", 1, Some("ethereum")),
            ("eip155:42161", 42161, None),
            ("eip155:999999", 999999, None),
            ("eip155:18446744073709551615", u64::MAX, None),
        ];
        for &(s, id, name) in ok {
            let n = r.parse_network(s).unwrap();
            assert_eq!((n.chain_id(), n.v1_name()), (id, name), "{s}");
        }
        assert_eq!(
            r.parse_network("base").unwrap(),
            r.parse_network("eip155:8453").unwrap()
        );
        assert_eq!(r.parse_network("base").unwrap().to_string(), "eip155:8453");
    }

    #[test]
    fn rejected_networks() {
        use ChainIdProblem::*;
        let r = Registry::with_defaults();
        let chain = |input: &str, problem| NetworkError::InvalidChainId {
            input: input.into(),
            problem,
        };
        let long = format!("eip155:{}", "1".repeat(60));
        let cases: Vec<(&str, NetworkError)> = vec![
            ("", NetworkError::Empty),
            ("bäse", NetworkError::NonAscii),
            ("eip155:８４５３", NetworkError::NonAscii),
            (&long, NetworkError::TooLong { len: long.len() }),
            ("Base", NetworkError::Malformed("Base".into())),
            (" base", NetworkError::Malformed(" base".into())),
            ("base ", NetworkError::Malformed("base ".into())),
            ("base-", NetworkError::Malformed("base-".into())),
            (
                "base--sepolia",
                NetworkError::Malformed("base--sepolia".into()),
            ),
            (
                "base_sepolia",
                NetworkError::Malformed("base_sepolia".into()),
            ),
            ("EIP155:8453", NetworkError::Malformed("EIP155:8453".into())),
            (":8453", NetworkError::Malformed(":8453".into())),
            (
                "eip155 :8453",
                NetworkError::Malformed("eip155 :8453".into()),
            ),
            ("arbitrum", NetworkError::UnknownNetwork("arbitrum".into())),
            ("sepolia", NetworkError::UnknownNetwork("sepolia".into())),
            (
                "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp",
                NetworkError::UnsupportedNamespace("solana".into()),
            ),
            (
                "cosmos:cosmoshub-4",
                NetworkError::UnsupportedNamespace("cosmos".into()),
            ),
            ("eip155:", chain("", Empty)),
            ("eip155:0", chain("0", Zero)),
            ("eip155:08453", chain("08453", LeadingZero)),
            ("eip155:+8453", chain("+8453", NotDecimal)),
            ("eip155:-1", chain("-1", NotDecimal)),
            ("eip155:8453 ", chain("8453 ", NotDecimal)),
            ("eip155:0x2105", chain("0x2105", NotDecimal)),
            ("eip155:1e3", chain("1e3", NotDecimal)),
            ("eip155:8_453", chain("8_453", NotDecimal)),
            ("eip155:8453:1", chain("8453:1", NotDecimal)),
            (
                "eip155:18446744073709551616",
                chain("18446744073709551616", Overflow),
            ),
        ];
        for (input, want) in cases {
            let got = r.parse_network(input).unwrap_err();
            assert_eq!(got, want, "{input:?}");
            assert_eq!(got.reason(), "invalid_network");
            assert!(!got.is_asset_error());
            assert!(!got.to_string().is_empty());
        }
    }

    #[test]
    fn error_messages_are_bounded() {
        let r = Registry::with_defaults();
        let long = "x".repeat(10_000);
        let e = r.parse_network(&long).unwrap_err();
        assert!(e.to_string().len() < 200);
        let e = r.register_network(Some(&long), 5).unwrap_err();
        assert!(e.to_string().len() < 400, "{e}");
        assert_eq!(e.code(), "invalid_v1_name");
    }

    #[test]
    fn register_network() {
        let r = Registry::with_defaults();
        assert!(!r.is_known(31337));
        assert_eq!(
            r.parse_network("anvil").unwrap_err().code(),
            "unknown_network"
        );
        let n = r.register_network(Some("anvil"), 31337).unwrap();
        assert_eq!((n.chain_id(), n.v1_name()), (31337, Some("anvil")));
        assert!(r.is_known(31337));
        assert_eq!(r.parse_network("anvil").unwrap().chain_id(), 31337);
        assert_eq!(
            r.parse_network("eip155:31337").unwrap().v1_name(),
            Some("anvil")
        );
        // Idempotent.
        r.register_network(Some("anvil"), 31337).unwrap();
        r.register_network(None, 31337).unwrap();
        // Conflicts.
        assert_eq!(
            r.register_network(Some("anvil"), 1337).unwrap_err(),
            NetworkError::NameTaken {
                name: "anvil".into(),
                chain_id: 31337
            }
        );
        assert_eq!(
            r.register_network(Some("local"), 31337).unwrap_err(),
            NetworkError::ChainNamed {
                chain_id: 31337,
                name: "anvil".into()
            }
        );
        assert_eq!(
            r.register_network(Some("Anvil"), 7).unwrap_err(),
            NetworkError::InvalidV1Name("Anvil".into())
        );
        assert_eq!(
            r.register_network(Some("x"), 0).unwrap_err().code(),
            "invalid_chain_id"
        );
        // A chain without a name.
        let n = r.register_network(None, 777).unwrap();
        assert_eq!(n.v1_name(), None);
        assert!(r.is_known(777));
        // The global registry is untouched.
        assert_eq!(
            Network::parse("anvil").unwrap_err().code(),
            "unknown_network"
        );
    }

    #[test]
    fn replace_network() {
        let r = Registry::with_defaults();
        // Follow the TypeScript SDK's chain id for "story".
        let n = r.replace_network("story", 1514).unwrap();
        assert_eq!(n.chain_id(), 1514);
        assert_eq!(r.parse_network("story").unwrap().chain_id(), 1514);
        assert_eq!(r.network(1513).unwrap().v1_name(), None);
        // Rename a chain: the old name goes away.
        r.replace_network("story-mainnet", 1514).unwrap();
        assert_eq!(
            r.parse_network("story").unwrap_err().code(),
            "unknown_network"
        );
        assert_eq!(r.network(1514).unwrap().v1_name(), Some("story-mainnet"));
    }

    fn sample(address: &str, symbol: &str) -> Asset {
        Asset::new(address, "Test Dollar", "1", 6)
            .unwrap()
            .with_symbol(symbol)
            .unwrap()
    }

    const A1: &str = "0x1111111111111111111111111111111111111111";
    const A2: &str = "0x2222222222222222222222222222222222222222";
    const A3: &str = "0x3333333333333333333333333333333333333333";

    #[test]
    fn register_asset_modes() {
        let r = Registry::empty();
        assert_eq!(
            r.default_asset(5).unwrap_err(),
            NetworkError::NoDefaultAsset(5)
        );
        r.register_asset(5, sample(A1, "TD"), Register::Add)
            .unwrap();
        assert!(r.is_known(5));
        assert_eq!(r.default_asset(5).unwrap().address, addr(A1));
        // Identical again: no-op.
        r.register_asset(5, sample(A1, "TD"), Register::Add)
            .unwrap();
        assert_eq!(r.assets(5).len(), 1);
        // Second asset: appended, not default.
        r.register_asset(5, sample(A2, "TE"), Register::Add)
            .unwrap();
        assert_eq!(r.default_asset(5).unwrap().address, addr(A1));
        assert_eq!(r.asset(5, &addr(A2)).unwrap().symbol.as_deref(), Some("TE"));
        // Conflicts by address and by symbol.
        let mut changed = sample(A1, "TD");
        changed.version = "2".into();
        assert_eq!(
            r.register_asset(5, changed.clone(), Register::Add)
                .unwrap_err(),
            NetworkError::AssetConflict {
                chain_id: 5,
                what: "address",
                existing: addr(A1)
            }
        );
        let e = r
            .register_asset(5, sample(A3, "TE"), Register::Add)
            .unwrap_err();
        assert_eq!(
            e,
            NetworkError::AssetConflict {
                chain_id: 5,
                what: "symbol",
                existing: addr(A2)
            }
        );
        assert_eq!(e.reason(), "invalid_payment_requirements");
        // Replace keeps the position.
        r.register_asset(5, changed, Register::Replace).unwrap();
        assert_eq!(r.default_asset(5).unwrap().version, "2");
        assert_eq!(r.assets(5).len(), 2);
        // Replace by symbol.
        r.register_asset(5, sample(A3, "TE"), Register::Replace)
            .unwrap();
        let list: Vec<_> = r.assets(5).iter().map(|a| a.address).collect();
        assert_eq!(list, [addr(A1), addr(A3)]);
        assert_eq!(r.asset(5, &addr(A2)).unwrap_err().code(), "unknown_asset");
        // Default moves to the front, the former default stays.
        r.register_asset(5, sample(A2, "TF"), Register::Default)
            .unwrap();
        let list: Vec<_> = r.assets(5).iter().map(|a| a.address).collect();
        assert_eq!(list, [addr(A2), addr(A1), addr(A3)]);
        // Replace of something new appends.
        let r2 = Registry::empty();
        r2.register_asset(9, sample(A1, "X"), Register::Replace)
            .unwrap();
        assert_eq!(r2.default_asset(9).unwrap().address, addr(A1));
        // Chain 0 is refused.
        assert_eq!(
            r.register_asset(0, sample(A1, "TD"), Register::Add)
                .unwrap_err()
                .code(),
            "invalid_chain_id"
        );
    }

    #[test]
    fn replace_a_default() {
        let r = Registry::with_defaults();
        let mut usdc = r.default_asset(8453).unwrap();
        usdc.name = "USDC".into();
        assert_eq!(
            r.register_asset(8453, usdc.clone(), Register::Add)
                .unwrap_err()
                .code(),
            "asset_conflict"
        );
        r.register_asset(8453, usdc, Register::Replace).unwrap();
        assert_eq!(r.default_asset(8453).unwrap().name, "USDC");
        // An independent registry: the global one still has the SDK's data.
        assert_eq!(
            Registry::global().default_asset(8453).unwrap().name,
            "USD Coin"
        );
        assert_eq!(
            Registry::with_defaults().default_asset(8453).unwrap().name,
            "USD Coin"
        );
    }

    #[test]
    fn asset_validation() {
        let bad_checksum = "0x833589fcD6eDb6E08f4c7C32D4f71b54bdA02913";
        assert!(matches!(
            Asset::new(bad_checksum, "USD Coin", "2", 6).unwrap_err(),
            NetworkError::InvalidAddress(AddressError::BadChecksum)
        ));
        assert!(matches!(
            Asset::new("0x1234", "USD Coin", "2", 6).unwrap_err(),
            NetworkError::InvalidAddress(AddressError::Malformed(_))
        ));
        // Lowercase and uppercase are accepted as is.
        Asset::new(&BASE_USDC.to_lowercase(), "USD Coin", "2", 6).unwrap();
        assert_eq!(
            Asset::new(BASE_USDC, "USD Coin", "2", 37).unwrap_err(),
            NetworkError::InvalidDecimals(37)
        );
        Asset::new(BASE_USDC, "USD Coin", "2", MAX_DECIMALS).unwrap();
        Asset::new(BASE_USDC, "USD Coin", "2", 0).unwrap();
        for (name, version) in [
            ("", "2"),
            (" USD Coin", "2"),
            ("USD Coin ", "2"),
            ("USD\nCoin", "2"),
            ("USD\u{0}Coin", "2"),
            ("USD Coin", ""),
            ("USD Coin", "2\t"),
        ] {
            let e = Asset::new(BASE_USDC, name, version, 6).unwrap_err();
            assert_eq!(e.code(), "invalid_domain_field", "{name:?} {version:?}");
        }
        let long = "n".repeat(MAX_DOMAIN_FIELD_LEN + 1);
        assert_eq!(
            Asset::new(BASE_USDC, &long, "2", 6).unwrap_err(),
            NetworkError::InvalidDomainField { field: "name" }
        );
        // Non-ASCII names are real (Flare's USD₮0).
        Asset::new(BASE_USDC, "USD\u{20ae}0", "1", 6).unwrap();
        let a = Asset::new(BASE_USDC, "USD Coin", "2", 6).unwrap();
        for good in ["USDC", "USDC.e", "mUSD", "USDT0", "A"] {
            a.clone().with_symbol(good).unwrap();
        }
        for bad in [
            "",
            "0USD",
            ".e",
            "US DC",
            "USD$",
            "ＵＳＤＣ",
            "USD-C",
            &"S".repeat(33),
        ] {
            assert_eq!(
                a.clone().with_symbol(bad).unwrap_err().code(),
                "invalid_symbol",
                "{bad}"
            );
        }
        // validate() runs on register, so a hand-built asset cannot slip through.
        let mut raw = a.clone();
        raw.decimals = 77;
        assert_eq!(
            Registry::empty()
                .register_asset(1, raw, Register::Add)
                .unwrap_err(),
            NetworkError::InvalidDecimals(77)
        );
        let mut raw = a;
        raw.symbol = Some("bad symbol".into());
        assert_eq!(
            Registry::empty()
                .register_asset(1, raw, Register::Add)
                .unwrap_err()
                .code(),
            "invalid_symbol"
        );
    }

    #[test]
    fn transfer_method() {
        assert_eq!(
            TransferMethod::parse("eip3009").unwrap(),
            TransferMethod::Eip3009
        );
        assert_eq!(
            TransferMethod::parse("permit2").unwrap(),
            TransferMethod::Permit2
        );
        for bad in ["", "EIP3009", "permit", "eip-3009", " permit2"] {
            let e = TransferMethod::parse(bad).unwrap_err();
            assert_eq!(e, NetworkError::InvalidTransferMethod(bad.into()));
            assert_eq!(e.reason(), "invalid_payment_requirements");
        }
        assert_eq!(TransferMethod::Permit2.to_string(), "permit2");
        assert_eq!(TransferMethod::default(), TransferMethod::Eip3009);
    }

    #[test]
    fn lookups() {
        let r = Registry::with_defaults();
        let usdc = r.asset(8453, &addr(&BASE_USDC.to_lowercase())).unwrap();
        assert_eq!(usdc.name, "USD Coin");
        assert_eq!(
            r.asset(84532, &addr(BASE_USDC)).unwrap_err(),
            NetworkError::UnknownAsset {
                chain_id: 84532,
                address: addr(BASE_USDC)
            }
        );
        assert_eq!(
            r.asset_by_symbol(8453, "usdc").unwrap_err(),
            NetworkError::UnknownSymbol {
                chain_id: 8453,
                symbol: "usdc".into()
            }
        );
        assert_eq!(
            r.default_asset(80002).unwrap_err().code(),
            "no_default_asset"
        );
        assert!(r.assets(999).is_empty());
        let nets = r.networks();
        assert!(nets.windows(2).all(|w| w[0].chain_id() < w[1].chain_id()));
        assert_eq!(
            nets.iter()
                .find(|n| n.chain_id() == 8453)
                .unwrap()
                .v1_name(),
            Some("base")
        );
    }

    #[test]
    fn every_error_has_a_reason_and_code() {
        let all = [
            NetworkError::Empty,
            NetworkError::NonAscii,
            NetworkError::TooLong { len: 99 },
            NetworkError::Malformed("x".into()),
            NetworkError::UnsupportedNamespace("solana".into()),
            NetworkError::InvalidChainId {
                input: "0".into(),
                problem: ChainIdProblem::Zero,
            },
            NetworkError::UnknownNetwork("x".into()),
            NetworkError::InvalidV1Name("X".into()),
            NetworkError::NameTaken {
                name: "x".into(),
                chain_id: 1,
            },
            NetworkError::ChainNamed {
                chain_id: 1,
                name: "x".into(),
            },
            NetworkError::NoDefaultAsset(1),
            NetworkError::UnknownAsset {
                chain_id: 1,
                address: Address::ZERO,
            },
            NetworkError::UnknownSymbol {
                chain_id: 1,
                symbol: "X".into(),
            },
            NetworkError::InvalidAddress(AddressError::BadChecksum),
            NetworkError::InvalidDecimals(99),
            NetworkError::InvalidDomainField { field: "name" },
            NetworkError::InvalidSymbol("$".into()),
            NetworkError::InvalidTransferMethod("x".into()),
            NetworkError::AssetConflict {
                chain_id: 1,
                what: "address",
                existing: Address::ZERO,
            },
        ];
        let mut codes: Vec<_> = all.iter().map(NetworkError::code).collect();
        for e in &all {
            let want = if e.is_asset_error() {
                "invalid_payment_requirements"
            } else {
                "invalid_network"
            };
            assert_eq!(e.reason(), want);
            assert!(!e.to_string().is_empty());
        }
        assert_eq!(all.iter().filter(|e| e.is_asset_error()).count(), 9);
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
    }

    #[test]
    fn global_registry_is_shared_and_thread_safe() {
        // Use a chain id nothing else registers.
        let id = 0x5eed_0001;
        std::thread::scope(|s| {
            for i in 0..8u8 {
                s.spawn(move || {
                    let a = Asset {
                        address: Address([i + 1; 20]),
                        name: "T".into(),
                        version: "1".into(),
                        decimals: 6,
                        symbol: Some(format!("T{i}")),
                        transfer_method: TransferMethod::Eip3009,
                        supports_eip2612: false,
                    };
                    Registry::global()
                        .register_asset(id, a, Register::Add)
                        .unwrap();
                    Network::parse("base").unwrap();
                });
            }
        });
        assert_eq!(Registry::global().assets(id).len(), 8);
        assert!(Network::from_chain_id(id).is_ok());
        assert_eq!(
            Network::from_chain_id(0).unwrap_err().code(),
            "invalid_chain_id"
        );
        assert_eq!("base".parse::<Network>().unwrap().chain_id(), 8453);
    }

    #[test]
    fn loader_rejects_bad_data() {
        let ok_token = r#"{"symbol":"USDC","address":"0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913","name":"USD Coin","version":"2","decimals":6,"transferMethod":"eip3009","supportsEip2612":false}"#;
        let doc = |v1: &str, token: &str| {
            format!(
                r#"{{"_about":[],"v1Networks":[{v1}],"assets":[{{"chainId":8453,"label":"l","source":"s","tokens":[{token}]}}]}}"#
            )
        };
        load_defaults(&doc(r#"{"name":"base","chainId":8453}"#, ok_token)).unwrap();
        let bad = [
            doc(r#"{"name":"base","chainId":8453,"x":1}"#, ok_token),
            doc(r#"{"name":"Base","chainId":8453}"#, ok_token),
            doc(r#"{"name":"base","chainId":0}"#, ok_token),
            doc(r#"{"name":"base","chainId":"8453"}"#, ok_token),
            doc(
                "",
                &ok_token.replace(
                    "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
                    &BASE_USDC.to_lowercase(),
                ),
            ),
            doc("", &ok_token.replace("eip3009", "EIP3009")),
            doc("", &ok_token.replace("\"decimals\":6", "\"decimals\":300")),
            doc("", &ok_token.replace("false", "0")),
            doc("", &ok_token.replace("\"version\":\"2\",", "")),
            doc("", &format!("{ok_token},{ok_token}")),
            doc("", ""),
            r#"{"v1Networks":[],"assets":[],"_about":[],"_about":[]}"#.to_owned(),
        ];
        for json in bad {
            assert!(load_defaults(&json).is_err(), "{json}");
        }
        // The same chain listed twice.
        let twice = format!(
            r#"{{"_about":[],"v1Networks":[],"assets":[{{"chainId":1,"label":"l","source":"s","tokens":[{ok_token}]}},{{"chainId":1,"label":"l","source":"s","tokens":[]}}]}}"#
        );
        assert!(load_defaults(&twice).is_err());
    }
}
