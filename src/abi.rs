//! The small subset of the Solidity contract ABI that fastx402 needs: function
//! selectors, head/tail encoding of a flat tuple of `address`, `uintN`, `bool`,
//! `bytes32`, `bytes` and `string`, and a strict decoder for the same shapes
//! (call data, `eth_call` return data, revert data). Sans-I/O.
//!
//! The decoder is strict where Solidity's own `abi.decode` and eth_abi are lax:
//! offsets must be 32-byte aligned and point past the head, lengths must fit in
//! the data (checked before any allocation), padding must be zero (including the
//! 12 high bytes of an address and the high bytes of a `uintN` with N < 256),
//! bools must be exactly 0 or 1 and strings valid UTF-8. [`decode_canonical`]
//! further requires the input to be byte-for-byte what [`encode`] would produce
//! (no trailing bytes, no gaps, no shared or reordered tails).

use std::fmt;

use crate::crypto::address::Address;
use crate::crypto::keccak::keccak256;
use crate::num::U256;

/// The 4-byte function selector: the first 4 bytes of the keccak-256 of the
/// canonical signature, e.g. `"balanceOf(address)"` (no spaces, no names).
pub fn selector(signature: &str) -> [u8; 4] {
    let hash = keccak256(signature.as_bytes());
    [hash[0], hash[1], hash[2], hash[3]]
}

/// Selectors of the calls and errors fastx402 makes or reads. Each one is tested
/// against `selector()` of the signature in its doc comment.
pub mod selectors {
    /// `transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)` (EIP-3009, v/r/s)
    pub const TRANSFER_WITH_AUTHORIZATION_VRS: [u8; 4] = [0xe3, 0xee, 0x16, 0x0e];
    /// `transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)` (USDC v2.2, smart wallets)
    pub const TRANSFER_WITH_AUTHORIZATION_BYTES: [u8; 4] = [0xcf, 0x09, 0x29, 0x95];
    /// `receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)`
    pub const RECEIVE_WITH_AUTHORIZATION_VRS: [u8; 4] = [0xef, 0x55, 0xbe, 0xc6];
    /// `receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)`
    pub const RECEIVE_WITH_AUTHORIZATION_BYTES: [u8; 4] = [0x88, 0xb7, 0xab, 0x63];
    /// `authorizationState(address,bytes32)`
    pub const AUTHORIZATION_STATE: [u8; 4] = [0xe9, 0x4a, 0x01, 0x02];
    /// `cancelAuthorization(address,bytes32,uint8,bytes32,bytes32)`
    pub const CANCEL_AUTHORIZATION: [u8; 4] = [0x5a, 0x04, 0x9a, 0x70];
    /// `balanceOf(address)`
    pub const BALANCE_OF: [u8; 4] = [0x70, 0xa0, 0x82, 0x31];
    /// `allowance(address,address)`
    pub const ALLOWANCE: [u8; 4] = [0xdd, 0x62, 0xed, 0x3e];
    /// `name()`
    pub const NAME: [u8; 4] = [0x06, 0xfd, 0xde, 0x03];
    /// `version()`
    pub const VERSION: [u8; 4] = [0x54, 0xfd, 0x4d, 0x50];
    /// `decimals()`
    pub const DECIMALS: [u8; 4] = [0x31, 0x3c, 0xe5, 0x67];
    /// `isValidSignature(bytes32,bytes)` (EIP-1271); also its success magic value.
    pub const IS_VALID_SIGNATURE: [u8; 4] = [0x16, 0x26, 0xba, 0x7e];
    /// `Error(string)`: the revert data of `require(cond, "reason")` / `revert("reason")`.
    pub const ERROR_STRING: [u8; 4] = [0x08, 0xc3, 0x79, 0xa0];
    /// `Panic(uint256)`: the revert data of failed asserts, overflow, division by zero…
    pub const PANIC_UINT256: [u8; 4] = [0x4e, 0x48, 0x7b, 0x71];
}

/// One ABI value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    Address(Address),
    /// Any `uintN`; encoded as a full 256-bit word.
    Uint(U256),
    Bool(bool),
    /// `bytes32`
    FixedBytes32([u8; 32]),
    /// `bytes` (dynamic)
    Bytes(Vec<u8>),
    /// `string` (dynamic)
    String(String),
}

/// The type of one ABI value, for decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParamType {
    Address,
    /// `uintN` with N in 8..=256, a multiple of 8; decoding checks the value fits.
    Uint(u16),
    Bool,
    FixedBytes32,
    Bytes,
    String,
}

impl ParamType {
    pub const UINT256: ParamType = ParamType::Uint(256);
    pub const UINT8: ParamType = ParamType::Uint(8);

    /// `bytes` and `string` live in the tail; everything else is one head word.
    pub fn is_dynamic(&self) -> bool {
        matches!(self, ParamType::Bytes | ParamType::String)
    }
}

impl fmt::Display for ParamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamType::Address => f.write_str("address"),
            ParamType::Uint(bits) => write!(f, "uint{bits}"),
            ParamType::Bool => f.write_str("bool"),
            ParamType::FixedBytes32 => f.write_str("bytes32"),
            ParamType::Bytes => f.write_str("bytes"),
            ParamType::String => f.write_str("string"),
        }
    }
}

impl Token {
    /// The type this token encodes as (`Uint` reports `uint256`).
    pub fn param_type(&self) -> ParamType {
        match self {
            Token::Address(_) => ParamType::Address,
            Token::Uint(_) => ParamType::UINT256,
            Token::Bool(_) => ParamType::Bool,
            Token::FixedBytes32(_) => ParamType::FixedBytes32,
            Token::Bytes(_) => ParamType::Bytes,
            Token::String(_) => ParamType::String,
        }
    }

    /// A `Uint` from a `u64`.
    pub fn uint(v: u64) -> Token {
        Token::Uint(U256::from_u64(v))
    }

    fn dynamic_bytes(&self) -> Option<&[u8]> {
        match self {
            Token::Bytes(b) => Some(b),
            Token::String(s) => Some(s.as_bytes()),
            _ => None,
        }
    }
}

/// Why ABI data was refused. Byte positions (`at`) are offsets into the data
/// passed to the decoder (for revert data: into the payload after the selector).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AbiError {
    #[error("ABI data truncated: need {need} bytes at byte {at}, have {have}")]
    Truncated { at: usize, need: usize, have: usize },
    #[error("ABI offset {offset} (word at byte {at}) points outside the {len}-byte data")]
    OffsetOutOfRange { at: usize, offset: U256, len: usize },
    #[error("ABI offset {offset} (word at byte {at}) is not a multiple of 32")]
    MisalignedOffset { at: usize, offset: usize },
    #[error("ABI offset {offset} (word at byte {at}) points into the {head}-byte head")]
    OffsetIntoHead {
        at: usize,
        offset: usize,
        head: usize,
    },
    #[error("ABI length {length} (word at byte {at}) exceeds the {available} bytes that follow")]
    LengthOutOfRange {
        at: usize,
        length: U256,
        available: usize,
    },
    #[error("non-zero padding after the ABI bytes/string at byte {at}")]
    DirtyPadding { at: usize },
    #[error("ABI bool at byte {at} is neither 0 nor 1")]
    InvalidBool { at: usize },
    #[error("ABI address at byte {at} has non-zero high 12 bytes")]
    InvalidAddress { at: usize },
    #[error("ABI uint{bits} at byte {at} does not fit in {bits} bits")]
    UintOutOfRange { at: usize, bits: u16 },
    #[error("ABI string at byte {at} is not valid UTF-8")]
    InvalidUtf8 { at: usize },
    #[error("uint{0} is not an ABI type (N must be a multiple of 8 in 8..=256)")]
    InvalidUintBits(u16),
    #[error("ABI data is not in canonical encoding (trailing bytes, gaps or shared tails)")]
    NonCanonical,
    /// A hand-decoded structure (Multicall3 results) is malformed.
    #[error("malformed ABI data: {0}")]
    Malformed(String),
}

// ---------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------

fn padded_len(len: usize) -> usize {
    len.div_ceil(32) * 32
}

fn usize_word(v: usize) -> [u8; 32] {
    let mut word = [0u8; 32];
    word[24..].copy_from_slice(&(v as u64).to_be_bytes());
    word
}

fn tail_size(token: &Token) -> usize {
    token
        .dynamic_bytes()
        .map_or(0, |b| 32 + padded_len(b.len()))
}

/// Head/tail encoding of `tokens` as a tuple (what `abi.encode(a, b, …)` gives).
pub fn encode(tokens: &[Token]) -> Vec<u8> {
    let head_len = 32 * tokens.len();
    let total = head_len + tokens.iter().map(tail_size).sum::<usize>();
    let mut out = Vec::with_capacity(total);
    encode_into(&mut out, tokens, head_len);
    debug_assert_eq!(out.len(), total);
    out
}

/// `selector ‖ encode(tokens)`: the call data of a function call.
pub fn encode_call(selector: [u8; 4], tokens: &[Token]) -> Vec<u8> {
    let head_len = 32 * tokens.len();
    let total = 4 + head_len + tokens.iter().map(tail_size).sum::<usize>();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&selector);
    encode_into(&mut out, tokens, head_len);
    out
}

fn encode_into(out: &mut Vec<u8>, tokens: &[Token], head_len: usize) {
    let mut next_tail = head_len;
    for token in tokens {
        match token {
            Token::Address(a) => out.extend_from_slice(&a.to_word()),
            Token::Uint(v) => out.extend_from_slice(&v.to_be_bytes()),
            Token::Bool(b) => out.extend_from_slice(&usize_word(usize::from(*b))),
            Token::FixedBytes32(w) => out.extend_from_slice(w),
            Token::Bytes(_) | Token::String(_) => {
                out.extend_from_slice(&usize_word(next_tail));
                next_tail += tail_size(token);
            }
        }
    }
    for bytes in tokens.iter().filter_map(Token::dynamic_bytes) {
        out.extend_from_slice(&usize_word(bytes.len()));
        out.extend_from_slice(bytes);
        out.resize(out.len() + padded_len(bytes.len()) - bytes.len(), 0);
    }
}

// ---------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------

/// The 32-byte word at `at`, or `Truncated`.
fn word_at(data: &[u8], at: usize) -> Result<&[u8; 32], AbiError> {
    data.get(at..at.saturating_add(32))
        .and_then(|s| s.try_into().ok())
        .ok_or(AbiError::Truncated {
            at,
            need: 32,
            have: data.len().saturating_sub(at),
        })
}

/// The word as a `usize` if it is small enough (high 24 bytes zero and the
/// value fits the platform's `usize`).
fn word_to_usize(word: &[u8; 32]) -> Option<usize> {
    if word[..24].iter().any(|&b| b != 0) {
        return None;
    }
    let mut low = [0u8; 8];
    low.copy_from_slice(&word[24..]);
    usize::try_from(u64::from_be_bytes(low)).ok()
}

/// A word as a `uint256`.
pub fn decode_uint(word: &[u8; 32]) -> U256 {
    U256::from_be_bytes(word)
}

/// A word as an `address`: the 12 high bytes must be zero.
pub fn decode_address(word: &[u8; 32]) -> Result<Address, AbiError> {
    decode_address_at(word, 0)
}

/// A word as a `bool`: exactly 0 or 1.
pub fn decode_bool(word: &[u8; 32]) -> Result<bool, AbiError> {
    decode_bool_at(word, 0)
}

fn decode_address_at(word: &[u8; 32], at: usize) -> Result<Address, AbiError> {
    if word[..12].iter().any(|&b| b != 0) {
        return Err(AbiError::InvalidAddress { at });
    }
    let mut a = [0u8; 20];
    a.copy_from_slice(&word[12..]);
    Ok(Address(a))
}

fn decode_bool_at(word: &[u8; 32], at: usize) -> Result<bool, AbiError> {
    if word[..31].iter().any(|&b| b != 0) || word[31] > 1 {
        return Err(AbiError::InvalidBool { at });
    }
    Ok(word[31] == 1)
}

fn decode_uint_at(word: &[u8; 32], at: usize, bits: u16) -> Result<U256, AbiError> {
    let zero_bytes = usize::from((256 - bits) / 8);
    if word[..zero_bytes].iter().any(|&b| b != 0) {
        return Err(AbiError::UintOutOfRange { at, bits });
    }
    Ok(U256::from_be_bytes(word))
}

/// The bytes of a `bytes`/`string` whose offset word sits at `at`.
fn decode_dynamic(data: &[u8], at: usize, head_len: usize) -> Result<&[u8], AbiError> {
    let offset_word = word_at(data, at)?;
    let offset = word_to_usize(offset_word)
        .filter(|&o| o <= data.len())
        .ok_or_else(|| AbiError::OffsetOutOfRange {
            at,
            offset: U256::from_be_bytes(offset_word),
            len: data.len(),
        })?;
    if offset % 32 != 0 {
        return Err(AbiError::MisalignedOffset { at, offset });
    }
    if offset < head_len {
        return Err(AbiError::OffsetIntoHead {
            at,
            offset,
            head: head_len,
        });
    }
    let length_word = word_at(data, offset)?;
    // offset + 32 <= data.len() here, so no overflow.
    let start = offset + 32;
    let available = data.len() - start;
    let len = word_to_usize(length_word)
        .filter(|&l| l <= available)
        .ok_or_else(|| AbiError::LengthOutOfRange {
            at: offset,
            length: U256::from_be_bytes(length_word),
            available,
        })?;
    let padded = padded_len(len);
    if padded > available {
        return Err(AbiError::Truncated {
            at: start,
            need: padded,
            have: available,
        });
    }
    if data[start + len..start + padded].iter().any(|&b| b != 0) {
        return Err(AbiError::DirtyPadding { at: start + len });
    }
    Ok(&data[start..start + len])
}

/// Strictly decodes `data` as the tuple `types` (see the module docs for what is
/// refused). Trailing bytes after the last tail are tolerated, as in Solidity and
/// eth_abi; use [`decode_canonical`] to refuse them.
pub fn decode(types: &[ParamType], data: &[u8]) -> Result<Vec<Token>, AbiError> {
    for t in types {
        if let ParamType::Uint(bits) = *t {
            if bits == 0 || bits > 256 || bits % 8 != 0 {
                return Err(AbiError::InvalidUintBits(bits));
            }
        }
    }
    let head_len = 32 * types.len();
    if data.len() < head_len {
        return Err(AbiError::Truncated {
            at: 0,
            need: head_len,
            have: data.len(),
        });
    }
    let mut out = Vec::with_capacity(types.len());
    for (i, t) in types.iter().enumerate() {
        let at = 32 * i;
        let word = word_at(data, at)?;
        let token = match *t {
            ParamType::Address => Token::Address(decode_address_at(word, at)?),
            ParamType::Uint(bits) => Token::Uint(decode_uint_at(word, at, bits)?),
            ParamType::Bool => Token::Bool(decode_bool_at(word, at)?),
            ParamType::FixedBytes32 => Token::FixedBytes32(*word),
            ParamType::Bytes => Token::Bytes(decode_dynamic(data, at, head_len)?.to_vec()),
            ParamType::String => {
                let bytes = decode_dynamic(data, at, head_len)?;
                let s = std::str::from_utf8(bytes).map_err(|_| AbiError::InvalidUtf8 { at })?;
                Token::String(s.to_owned())
            }
        };
        out.push(token);
    }
    Ok(out)
}

/// [`decode`], and the data must be exactly what [`encode`] produces for the
/// result: no trailing bytes, no gaps between tails, tails in parameter order.
/// This makes the encoding unique (no malleable variants of the same values).
pub fn decode_canonical(types: &[ParamType], data: &[u8]) -> Result<Vec<Token>, AbiError> {
    let tokens = decode(types, data)?;
    if encode(&tokens) != data {
        return Err(AbiError::NonCanonical);
    }
    Ok(tokens)
}

// ---------------------------------------------------------------------------
// Revert data
// ---------------------------------------------------------------------------

/// What a reverted call returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RevertReason {
    /// No revert data (`revert()`, `require(cond)` without a message, out of gas…).
    Empty,
    /// `Error(string)`.
    Error(String),
    /// `Panic(uint256)`.
    Panic(U256),
    /// Anything else (custom errors, raw assembly reverts), as returned.
    Other(Vec<u8>),
}

impl RevertReason {
    /// Solidity's meaning of a `Panic` code, if it is a known one.
    pub fn panic_description(code: &U256) -> Option<&'static str> {
        let bytes = code.to_be_bytes();
        if bytes[..31].iter().any(|&b| b != 0) {
            return None;
        }
        Some(match bytes[31] {
            0x00 => "generic compiler panic",
            0x01 => "assertion failed",
            0x11 => "arithmetic overflow or underflow",
            0x12 => "division or modulo by zero",
            0x21 => "invalid enum value",
            0x22 => "corrupted storage byte array",
            0x31 => "pop on an empty array",
            0x32 => "array index out of bounds",
            0x41 => "out of memory",
            0x51 => "call to an uninitialized function",
            _ => return None,
        })
    }
}

impl fmt::Display for RevertReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RevertReason::Empty => f.write_str("reverted without data"),
            RevertReason::Error(msg) => write!(f, "reverted: {}", crate::text::bounded(msg)),
            RevertReason::Panic(code) => {
                let hex = crate::crypto::hexutil::encode_0x(&code.to_be_bytes());
                let trimmed = hex[2..].trim_start_matches('0');
                let trimmed = if trimmed.is_empty() { "0" } else { trimmed };
                match RevertReason::panic_description(code) {
                    Some(d) => write!(f, "panic 0x{trimmed} ({d})"),
                    None => write!(f, "panic 0x{trimmed}"),
                }
            }
            RevertReason::Other(data) => {
                write!(f, "reverted with {}", crate::text::bounded_hex(data))
            }
        }
    }
}

/// Classifies revert data. `Error(string)` and `Panic(uint256)` payloads are
/// decoded strictly; a malformed one is an error (byte positions are relative to
/// the payload after the selector).
pub fn decode_revert_reason(data: &[u8]) -> Result<RevertReason, AbiError> {
    if data.is_empty() {
        return Ok(RevertReason::Empty);
    }
    let Some((sel, payload)) = data.split_first_chunk::<4>() else {
        return Ok(RevertReason::Other(data.to_vec()));
    };
    match *sel {
        selectors::ERROR_STRING => match decode(&[ParamType::String], payload)?.pop() {
            Some(Token::String(s)) => Ok(RevertReason::Error(s)),
            _ => unreachable!("decode returns one token per type"),
        },
        selectors::PANIC_UINT256 => {
            let word = word_at(payload, 0)?;
            Ok(RevertReason::Panic(decode_uint(word)))
        }
        _ => Ok(RevertReason::Other(data.to_vec())),
    }
}

#[cfg(test)]
mod tests;
