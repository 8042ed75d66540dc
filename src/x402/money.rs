//! Exact prices → atomic token amounts, and back.
//!
//! A price is text (a Python `Decimal` arrives as `format(d, "f")`), with one grammar:
//!
//! ```text
//! price  = ["$"] amount [" " symbol]
//! amount = ("0" | [1-9][0-9]*) ["." [0-9]+]
//! symbol = [A-Za-z][A-Za-z0-9.]*          (at most 32 characters)
//! ```
//!
//! ASCII only, exactly one space before the symbol and no other whitespace. The
//! amount is converted with the asset's decimals, exactly: a fraction with more
//! digits than the asset has decimals is an error, **even if the extra digits are
//! zeros** (`"0.0010000000"` is refused for a 6-decimal token; write `"0.001"`).
//! Nothing is ever rounded or truncated. Refused, each with its own
//! [`MoneyError`] variant: empty input, non-ASCII (full-width digits), signs,
//! exponents, digit separators, whitespace, leading or trailing dots, leading zeros,
//! NaN and infinities, results above 2^256 − 1.
//!
//! `$` is only decoration: the amount is in units of the asset (the defaults are
//! USD stablecoins, as in the official SDKs). A symbol must equal the asset's symbol
//! exactly (case-sensitive); `USD` is not an alias.

use crate::crypto::address::Address;
use crate::num::U256;
use crate::x402::networks::{is_valid_symbol, Asset, NetworkError, Registry, MAX_DECIMALS};

/// Longest price text accepted, in bytes (2^256 − 1 has 78 digits).
pub const MAX_PRICE_LEN: usize = 256;

const REASON: &str = crate::x402::reason::INVALID_PAYMENT_REQUIREMENTS;

/// Why a price was refused. All map to the x402 reason `invalid_payment_requirements`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("price is empty")]
    Empty,
    #[error("price is {len} bytes long; at most {MAX_PRICE_LEN} are allowed")]
    TooLong { len: usize },
    #[error("price must be ASCII (digits 0-9, '.', '$', a symbol)")]
    NonAscii,
    #[error("price must be finite (no NaN or infinity)")]
    NonFinite,
    #[error(
        "price must not contain whitespace except exactly one space before the symbol \
         (\"1.5 USDC\")"
    )]
    Whitespace,
    #[error("price has no digits")]
    MissingAmount,
    #[error("price must not be negative")]
    Negative,
    #[error("price must not have a '+' sign")]
    PlusSign,
    #[error("price must be plain decimal notation, not an exponent (write 0.001, not 1e-3)")]
    Exponent,
    #[error("price must not contain digit separators (write 1000, not 1,000 or 1_000)")]
    Separator,
    #[error("price must not start with '.' (write 0.5, not .5)")]
    LeadingDot,
    #[error("price must not end with '.' (write 5, not 5.)")]
    TrailingDot,
    #[error("price has more than one '.'")]
    MultipleDots,
    #[error("price must not have leading zeros")]
    LeadingZero,
    #[error("price has an invalid character {ch:?} at offset {index}")]
    InvalidCharacter { index: usize, ch: char },
    #[error(
        "price has {digits} fractional digits but the asset has {decimals} decimals \
         (extra digits are refused, even zeros; nothing is rounded)"
    )]
    TooPrecise { digits: usize, decimals: u8 },
    #[error("price is too large: the atomic amount exceeds 2^256 - 1")]
    Overflow,
    #[error(
        "invalid price symbol {0:?}: expected a letter then letters, digits or dots, at most 32"
    )]
    InvalidSymbol(String),
    #[error("{}", symbol_mismatch(given, expected.as_deref()))]
    SymbolMismatch {
        given: String,
        expected: Option<String>,
    },
    #[error("{0} decimals are more than the maximum of {MAX_DECIMALS}")]
    DecimalsTooLarge(u8),
    #[error("atomic amount must be a decimal integer 0|[1-9][0-9]* below 2^256: {0}")]
    InvalidAtomic(String),
}

fn symbol_mismatch(given: &str, expected: Option<&str>) -> String {
    match expected {
        Some(e) => format!("price is in {given:?} but the asset's symbol is {e:?}"),
        None => format!("price names the symbol {given:?} but the asset has none"),
    }
}

impl MoneyError {
    /// The x402 reason code: always `invalid_payment_requirements`.
    pub fn reason(&self) -> &'static str {
        REASON
    }

    /// A short stable name of the variant (`too_precise`, `exponent`, …).
    pub fn code(&self) -> &'static str {
        match self {
            MoneyError::Empty => "empty",
            MoneyError::TooLong { .. } => "too_long",
            MoneyError::NonAscii => "non_ascii",
            MoneyError::NonFinite => "non_finite",
            MoneyError::Whitespace => "whitespace",
            MoneyError::MissingAmount => "missing_amount",
            MoneyError::Negative => "negative",
            MoneyError::PlusSign => "plus_sign",
            MoneyError::Exponent => "exponent",
            MoneyError::Separator => "separator",
            MoneyError::LeadingDot => "leading_dot",
            MoneyError::TrailingDot => "trailing_dot",
            MoneyError::MultipleDots => "multiple_dots",
            MoneyError::LeadingZero => "leading_zero",
            MoneyError::InvalidCharacter { .. } => "invalid_character",
            MoneyError::TooPrecise { .. } => "too_precise",
            MoneyError::Overflow => "overflow",
            MoneyError::InvalidSymbol(_) => "invalid_symbol",
            MoneyError::SymbolMismatch { .. } => "symbol_mismatch",
            MoneyError::DecimalsTooLarge(_) => "decimals_too_large",
            MoneyError::InvalidAtomic(_) => "invalid_atomic",
        }
    }
}

/// A price that passed the grammar, not yet tied to an asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceText<'a> {
    /// Whether it started with `$`.
    pub dollar: bool,
    /// `0` or digits without leading zero.
    pub integer: &'a str,
    /// The digits after the dot; empty when there is no dot.
    pub fraction: &'a str,
    pub symbol: Option<&'a str>,
}

/// `[+-]?(nan|snan|inf|infinity)`, any case: what Python prints for non-finite
/// `Decimal`s and floats.
fn is_non_finite(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    ["nan", "snan", "inf", "infinity"]
        .iter()
        .any(|w| body.eq_ignore_ascii_case(w))
}

/// Checks the grammar (module documentation) and splits the price. Errors are
/// reported in this order: length, non-ASCII, non-finite words, whitespace, then the
/// first offending character of the amount left to right, dots and leading zeros,
/// then the symbol.
pub fn parse_price_text(text: &str) -> Result<PriceText<'_>, MoneyError> {
    if text.is_empty() {
        return Err(MoneyError::Empty);
    }
    if text.len() > MAX_PRICE_LEN {
        return Err(MoneyError::TooLong { len: text.len() });
    }
    if !text.is_ascii() {
        return Err(MoneyError::NonAscii);
    }
    if is_non_finite(text.strip_prefix('$').unwrap_or(text)) {
        return Err(MoneyError::NonFinite);
    }
    let b = text.as_bytes();
    let spaces = b.iter().filter(|&&c| c == b' ').count();
    let other_space = b
        .iter()
        .any(|&c| c != b' ' && (c.is_ascii_whitespace() || c == 0x0b));
    if other_space || spaces > 1 || b[0] == b' ' || b[b.len() - 1] == b' ' {
        return Err(MoneyError::Whitespace);
    }
    let (amount, symbol) = match text.split_once(' ') {
        Some((a, s)) => (a, Some(s)),
        None => (text, None),
    };
    let (dollar, body) = match amount.strip_prefix('$') {
        Some(rest) => (true, rest),
        None => (false, amount),
    };
    if body.is_empty() {
        return Err(if symbol.is_some() && dollar {
            MoneyError::Whitespace
        } else {
            MoneyError::MissingAmount
        });
    }
    let offset = usize::from(dollar);
    for (i, &c) in body.as_bytes().iter().enumerate() {
        let err = match c {
            b'0'..=b'9' | b'.' => continue,
            b'-' => MoneyError::Negative,
            b'+' => MoneyError::PlusSign,
            b'e' | b'E' => MoneyError::Exponent,
            b',' | b'_' | b'\'' => MoneyError::Separator,
            _ => MoneyError::InvalidCharacter {
                index: i + offset,
                ch: char::from(c),
            },
        };
        return Err(err);
    }
    let (integer, fraction) = match body.split_once('.') {
        Some((int, frac)) => {
            if frac.contains('.') {
                return Err(MoneyError::MultipleDots);
            }
            if int.is_empty() {
                return Err(MoneyError::LeadingDot);
            }
            if frac.is_empty() {
                return Err(MoneyError::TrailingDot);
            }
            (int, frac)
        }
        None => (body, ""),
    };
    if integer.len() > 1 && integer.starts_with('0') {
        return Err(MoneyError::LeadingZero);
    }
    if let Some(s) = symbol {
        if !is_valid_symbol(s) {
            return Err(MoneyError::InvalidSymbol(s.to_owned()));
        }
    }
    Ok(PriceText {
        dollar,
        integer,
        fraction,
        symbol,
    })
}

impl PriceText<'_> {
    /// The amount in atomic units of a token with `decimals` decimals, exactly.
    pub fn to_atomic(&self, decimals: u8) -> Result<U256, MoneyError> {
        if decimals > MAX_DECIMALS {
            return Err(MoneyError::DecimalsTooLarge(decimals));
        }
        let d = usize::from(decimals);
        if self.fraction.len() > d {
            return Err(MoneyError::TooPrecise {
                digits: self.fraction.len(),
                decimals,
            });
        }
        let mut digits = String::with_capacity(self.integer.len() + d);
        digits.push_str(self.integer);
        digits.push_str(self.fraction);
        digits.extend(std::iter::repeat_n('0', d - self.fraction.len()));
        let significant = digits.trim_start_matches('0');
        if significant.is_empty() {
            return Ok(U256::ZERO);
        }
        U256::from_dec_str(significant).map_err(|_| MoneyError::Overflow)
    }

    /// Checks the symbol, if the price names one, against the asset's.
    pub fn check_symbol(&self, asset: &Asset) -> Result<(), MoneyError> {
        match self.symbol {
            Some(given) if asset.symbol.as_deref() != Some(given) => {
                Err(MoneyError::SymbolMismatch {
                    given: given.to_owned(),
                    expected: asset.symbol.clone(),
                })
            }
            _ => Ok(()),
        }
    }
}

/// A price in an asset's atomic units: grammar, symbol (if given) equal to the
/// asset's, at most `asset.decimals` fractional digits.
pub fn parse_price(text: &str, asset: &Asset) -> Result<U256, MoneyError> {
    let price = parse_price_text(text)?;
    price.check_symbol(asset)?;
    price.to_atomic(asset.decimals)
}

/// A plain amount (`$` allowed, no symbol) in atomic units for `decimals` decimals.
pub fn parse_decimal(text: &str, decimals: u8) -> Result<U256, MoneyError> {
    let price = parse_price_text(text)?;
    if let Some(given) = price.symbol {
        return Err(MoneyError::SymbolMismatch {
            given: given.to_owned(),
            expected: None,
        });
    }
    price.to_atomic(decimals)
}

/// An atomic amount as it appears on the wire: `0|[1-9][0-9]*`, below 2^256.
pub fn parse_atomic(text: &str) -> Result<U256, MoneyError> {
    U256::from_dec_str(text).map_err(|e| MoneyError::InvalidAtomic(e.to_string()))
}

/// The canonical decimal form of an atomic amount: no exponent, no trailing
/// fractional zeros, no dot for whole amounts (`10000` at 6 decimals → `"0.01"`,
/// `1000000` → `"1"`). Works for any `decimals`; for `decimals ≤ MAX_DECIMALS` it
/// parses back to the same amount.
pub fn atomic_to_decimal(amount: U256, decimals: u8) -> String {
    let digits = amount.to_string();
    let d = usize::from(decimals);
    if d == 0 {
        return digits;
    }
    let padded = if digits.len() <= d {
        format!("{}{digits}", "0".repeat(d + 1 - digits.len()))
    } else {
        digits
    };
    let (int, frac) = padded.split_at(padded.len() - d);
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        int.to_owned()
    } else {
        format!("{int}.{frac}")
    }
}

/// Why a price could not be resolved on a network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriceError {
    /// No such asset (or no default, or no asset with the price's symbol).
    #[error(transparent)]
    Asset(#[from] NetworkError),
    #[error(transparent)]
    Money(#[from] MoneyError),
}

impl PriceError {
    pub fn reason(&self) -> &'static str {
        match self {
            PriceError::Asset(e) => e.reason(),
            PriceError::Money(e) => e.reason(),
        }
    }
}

/// A seller's price on a chain: picks the asset (the one at `asset` if given, else
/// the one whose symbol the price names, else the chain's default) and converts.
/// With an explicit `asset`, a symbol in the price must be that asset's.
pub fn resolve_price(
    registry: &Registry,
    chain_id: u64,
    text: &str,
    asset: Option<&Address>,
) -> Result<(Asset, U256), PriceError> {
    let price = parse_price_text(text)?;
    let asset = match (asset, price.symbol) {
        (Some(address), _) => registry.asset(chain_id, address)?,
        (None, Some(symbol)) => registry.asset_by_symbol(chain_id, symbol)?,
        (None, None) => registry.default_asset(chain_id)?,
    };
    price.check_symbol(&asset)?;
    let amount = price.to_atomic(asset.decimals)?;
    Ok((asset, amount))
}

#[cfg(test)]
mod tests;
