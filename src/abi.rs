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
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    fn addr(s: &str) -> Address {
        Address::parse(s).unwrap()
    }

    fn word(v: u64) -> [u8; 32] {
        usize_word(v as usize)
    }

    fn b32(s: &str) -> [u8; 32] {
        h(s).try_into().unwrap()
    }

    #[test]
    fn selector_constants_match_their_signatures() {
        use selectors::*;
        let table: [(&str, [u8; 4]); 14] = [
            ("transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)", TRANSFER_WITH_AUTHORIZATION_VRS),
            ("transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)", TRANSFER_WITH_AUTHORIZATION_BYTES),
            ("receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)", RECEIVE_WITH_AUTHORIZATION_VRS),
            ("receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)", RECEIVE_WITH_AUTHORIZATION_BYTES),
            ("authorizationState(address,bytes32)", AUTHORIZATION_STATE),
            ("cancelAuthorization(address,bytes32,uint8,bytes32,bytes32)", CANCEL_AUTHORIZATION),
            ("balanceOf(address)", BALANCE_OF),
            ("allowance(address,address)", ALLOWANCE),
            ("name()", NAME),
            ("version()", VERSION),
            ("decimals()", DECIMALS),
            ("isValidSignature(bytes32,bytes)", IS_VALID_SIGNATURE),
            ("Error(string)", ERROR_STRING),
            ("Panic(uint256)", PANIC_UINT256),
        ];
        for (sig, constant) in table {
            assert_eq!(selector(sig), constant, "{sig}");
        }
        // Well-known values, independently of our keccak.
        assert_eq!(IS_VALID_SIGNATURE, [0x16, 0x26, 0xba, 0x7e]);
        assert_eq!(BALANCE_OF, [0x70, 0xa0, 0x82, 0x31]);
        assert_eq!(ERROR_STRING, [0x08, 0xc3, 0x79, 0xa0]);
        assert_eq!(PANIC_UINT256, [0x4e, 0x48, 0x7b, 0x71]);
    }

    // ----- eth_abi vectors --------------------------------------------------

    const FROM: &str = "0x857b06519E91e3A54538791bDbb0E22373e36b66";
    const TO: &str = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
    const NONCE: &str = "f3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480";

    // eth_abi 6.0.0: selector + encode(['address','address','uint256','uint256','uint256','bytes32','uint8','bytes32','bytes32'],
    //   [FROM, TO, 10000, 1740672089, 1740672154, NONCE, 27, b'\x11'*32, b'\x22'*32])
    const TWA_VRS: &str = "e3ee160e000000000000000000000000857b06519e91e3a54538791bdbb0e22373e36b66000000000000000000000000209693bc6afc0c5328ba36faf03c514ef312287c00000000000000000000000000000000000000000000000000000000000027100000000000000000000000000000000000000000000000000000000067c08c590000000000000000000000000000000000000000000000000000000067c08c9af3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480000000000000000000000000000000000000000000000000000000000000001b11111111111111111111111111111111111111111111111111111111111111112222222222222222222222222222222222222222222222222222222222222222";

    // eth_abi 6.0.0: selector + encode(['address','address','uint256','uint256','uint256','bytes32','bytes'],
    //   [FROM, TO, 10000, 1740672089, 1740672154, NONCE, b'\x11'*32 + b'\x22'*32 + b'\x1c'])
    const TWA_BYTES: &str = "cf092995000000000000000000000000857b06519e91e3a54538791bdbb0e22373e36b66000000000000000000000000209693bc6afc0c5328ba36faf03c514ef312287c00000000000000000000000000000000000000000000000000000000000027100000000000000000000000000000000000000000000000000000000067c08c590000000000000000000000000000000000000000000000000000000067c08c9af3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f1348000000000000000000000000000000000000000000000000000000000000000e00000000000000000000000000000000000000000000000000000000000000041111111111111111111111111111111111111111111111111111111111111111122222222222222222222222222222222222222222222222222222222222222221c00000000000000000000000000000000000000000000000000000000000000";

    // eth_abi 6.0.0: encode(['string','bool','bytes','uint256','address'], ['USD Coin', True, b'', 2**256-1, TO])
    const MIXED: &str = "00000000000000000000000000000000000000000000000000000000000000a0000000000000000000000000000000000000000000000000000000000000000100000000000000000000000000000000000000000000000000000000000000e0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff000000000000000000000000209693bc6afc0c5328ba36faf03c514ef312287c000000000000000000000000000000000000000000000000000000000000000855534420436f696e0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000";

    // eth_abi 6.0.0: encode(['string','string'], ['', 'héllo wörld — x402 ✓ ' * 3])
    const UNICODE: &str = "000000000000000000000000000000000000000000000000000000000000004000000000000000000000000000000000000000000000000000000000000000600000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000005168c3a96c6c6f2077c3b6726c6420e28094207834303220e29c932068c3a96c6c6f2077c3b6726c6420e28094207834303220e29c932068c3a96c6c6f2077c3b6726c6420e28094207834303220e29c9320000000000000000000000000000000";

    // eth_abi 6.0.0: selector + encode(['bytes32','bytes'], [b'\xab'*32, bytes(range(1, 34))])
    const IS_VALID_SIG_CALL: &str = "1626ba7eabababababababababababababababababababababababababababababababab000000000000000000000000000000000000000000000000000000000000004000000000000000000000000000000000000000000000000000000000000000210102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202100000000000000000000000000000000000000000000000000000000000000";

    // eth_abi 6.0.0: selector('Error(string)') + encode(['string'], ['FiatTokenV2: invalid signature'])
    const ERROR_REVERT: &str = "08c379a00000000000000000000000000000000000000000000000000000000000000020000000000000000000000000000000000000000000000000000000000000001e46696174546f6b656e56323a20696e76616c6964207369676e61747572650000";

    // eth_abi 6.0.0: selector('Panic(uint256)') + encode(['uint256'], [0x11])
    const PANIC_REVERT: &str =
        "4e487b710000000000000000000000000000000000000000000000000000000000000011";

    fn twa_head() -> Vec<Token> {
        vec![
            Token::Address(addr(FROM)),
            Token::Address(addr(TO)),
            Token::uint(10000),
            Token::uint(1740672089),
            Token::uint(1740672154),
            Token::FixedBytes32(b32(NONCE)),
        ]
    }

    /// (eth_abi hex, selector if it is call data, types, tokens)
    type Vector = (&'static str, Option<[u8; 4]>, Vec<ParamType>, Vec<Token>);

    fn vectors() -> Vec<Vector> {
        use ParamType as P;
        let mut vrs = twa_head();
        vrs.extend([
            Token::uint(27),
            Token::FixedBytes32([0x11; 32]),
            Token::FixedBytes32([0x22; 32]),
        ]);
        let mut sig = vec![0x11; 32];
        sig.extend([0x22; 32]);
        sig.push(0x1c);
        let mut bytes = twa_head();
        bytes.push(Token::Bytes(sig));
        let head_types = [
            P::Address,
            P::Address,
            P::UINT256,
            P::UINT256,
            P::UINT256,
            P::FixedBytes32,
        ];
        let mut vrs_types = head_types.to_vec();
        vrs_types.extend([P::UINT8, P::FixedBytes32, P::FixedBytes32]);
        let mut bytes_types = head_types.to_vec();
        bytes_types.push(P::Bytes);
        vec![
            (
                TWA_VRS,
                Some(selectors::TRANSFER_WITH_AUTHORIZATION_VRS),
                vrs_types,
                vrs,
            ),
            (
                TWA_BYTES,
                Some(selectors::TRANSFER_WITH_AUTHORIZATION_BYTES),
                bytes_types,
                bytes,
            ),
            (
                MIXED,
                None,
                vec![P::String, P::Bool, P::Bytes, P::UINT256, P::Address],
                vec![
                    Token::String("USD Coin".into()),
                    Token::Bool(true),
                    Token::Bytes(vec![]),
                    Token::Uint(U256::MAX),
                    Token::Address(addr(TO)),
                ],
            ),
            (
                UNICODE,
                None,
                vec![P::String, P::String],
                vec![
                    Token::String(String::new()),
                    Token::String("héllo wörld — x402 ✓ ".repeat(3)),
                ],
            ),
            (
                IS_VALID_SIG_CALL,
                Some(selectors::IS_VALID_SIGNATURE),
                vec![P::FixedBytes32, P::Bytes],
                vec![
                    Token::FixedBytes32([0xab; 32]),
                    Token::Bytes((1..34).collect()),
                ],
            ),
        ]
    }

    #[test]
    fn encode_matches_eth_abi() {
        for (expected, sel, _, tokens) in vectors() {
            let got = match sel {
                Some(sel) => encode_call(sel, &tokens),
                None => encode(&tokens),
            };
            assert_eq!(hex::encode(got), expected);
        }
        assert_eq!(
            hex::encode(encode_call(
                selectors::ERROR_STRING,
                &[Token::String("FiatTokenV2: invalid signature".into())]
            )),
            ERROR_REVERT
        );
        assert_eq!(
            hex::encode(encode_call(selectors::PANIC_UINT256, &[Token::uint(0x11)])),
            PANIC_REVERT
        );
    }

    #[test]
    fn decode_eth_abi_vectors_round_trip() {
        for (hex_data, sel, types, tokens) in vectors() {
            let data = h(hex_data);
            let body = match sel {
                Some(sel) => {
                    assert_eq!(data[..4], sel);
                    &data[4..]
                }
                None => &data[..],
            };
            assert_eq!(decode(&types, body).unwrap(), tokens, "{hex_data}");
            assert_eq!(decode_canonical(&types, body).unwrap(), tokens);
        }
    }

    #[test]
    fn round_trip_many_shapes() {
        for len_a in [0usize, 1, 31, 32, 33, 64, 65, 100] {
            for len_b in [0usize, 5, 32, 97] {
                let tokens = vec![
                    Token::Bytes((0..len_a).map(|i| i as u8 ^ 0x5a).collect()),
                    Token::Bool(len_a % 2 == 0),
                    Token::String("x".repeat(len_b)),
                    Token::Address(Address([0xff; 20])),
                    Token::Uint(U256::from_u64(len_a as u64 * 1_000_003)),
                    Token::FixedBytes32([len_b as u8; 32]),
                    Token::Bytes(vec![0xff; len_b]),
                ];
                let types: Vec<_> = tokens.iter().map(Token::param_type).collect();
                let data = encode(&tokens);
                assert_eq!(data.len() % 32, 0);
                assert_eq!(decode_canonical(&types, &data).unwrap(), tokens);
            }
        }
        assert_eq!(decode(&[], &[]).unwrap(), vec![]);
        assert_eq!(encode(&[]), Vec::<u8>::new());
    }

    #[test]
    fn word_helpers() {
        let mut w = [0u8; 32];
        w[12..].copy_from_slice(&[0xaa; 20]);
        assert_eq!(decode_address(&w).unwrap(), Address([0xaa; 20]));
        w[11] = 1;
        assert_eq!(decode_address(&w), Err(AbiError::InvalidAddress { at: 0 }));
        assert_eq!(decode_uint(&[0xff; 32]), U256::MAX);
        assert_eq!(decode_uint(&word(7)), U256::from_u64(7));
        assert_eq!(decode_bool(&word(0)), Ok(false));
        assert_eq!(decode_bool(&word(1)), Ok(true));
        assert_eq!(decode_bool(&word(2)), Err(AbiError::InvalidBool { at: 0 }));
        let mut high = word(1);
        high[0] = 1;
        assert_eq!(decode_bool(&high), Err(AbiError::InvalidBool { at: 0 }));
    }

    // ----- rejections -------------------------------------------------------

    /// `(bytes)` holding `[0xaa]`, canonical.
    fn one_bytes() -> Vec<u8> {
        encode(&[Token::Bytes(vec![0xaa])])
    }

    #[test]
    fn rejects_truncated() {
        let data = one_bytes(); // 96 bytes
        for cut in [0, 1, 31, 32, 33, 63, 64, 95] {
            assert!(
                matches!(
                    decode(&[ParamType::Bytes], &data[..cut]),
                    Err(AbiError::Truncated { .. })
                        | Err(AbiError::OffsetOutOfRange { .. })
                        | Err(AbiError::LengthOutOfRange { .. })
                ),
                "cut at {cut}"
            );
        }
        // Head shorter than the number of parameters.
        assert_eq!(
            decode(&[ParamType::UINT256, ParamType::Bool], &word(1)),
            Err(AbiError::Truncated {
                at: 0,
                need: 64,
                have: 32
            })
        );
        // Missing padding after the last bytes: refused (eth_abi refuses it too).
        assert_eq!(
            decode(&[ParamType::Bytes], &data[..65]),
            Err(AbiError::Truncated {
                at: 64,
                need: 32,
                have: 1
            })
        );
        assert!(decode_revert_reason(&h(&PANIC_REVERT[..70])).is_err());
    }

    #[test]
    fn rejects_offsets() {
        let mut data = one_bytes();
        // Out of range: beyond the data, and a huge 2^255 word.
        data[..32].copy_from_slice(&word(96));
        assert!(matches!(
            decode(&[ParamType::Bytes], &data),
            Err(AbiError::Truncated { at: 96, .. })
        ));
        data[..32].copy_from_slice(&word(4096));
        assert!(matches!(
            decode(&[ParamType::Bytes], &data),
            Err(AbiError::OffsetOutOfRange { at: 0, .. })
        ));
        let mut huge = [0u8; 32];
        huge[0] = 0x80;
        data[..32].copy_from_slice(&huge);
        assert_eq!(
            decode(&[ParamType::Bytes], &data),
            Err(AbiError::OffsetOutOfRange {
                at: 0,
                offset: U256::from_be_bytes(&huge),
                len: 96
            })
        );
        // Misaligned (eth_abi accepts this).
        let mut mis = word(33).to_vec();
        mis.extend([0u8]);
        mis.extend(word(1));
        mis.extend([0xaa]);
        mis.extend([0u8; 31]);
        assert_eq!(
            decode(&[ParamType::Bytes], &mis),
            Err(AbiError::MisalignedOffset { at: 0, offset: 33 })
        );
        // Into the head: the offset word itself read as the length.
        let mut into = word(0).to_vec();
        into.extend(word(0));
        assert_eq!(
            decode(&[ParamType::Bytes, ParamType::UINT256], &into),
            Err(AbiError::OffsetIntoHead {
                at: 0,
                offset: 0,
                head: 64
            })
        );
    }

    #[test]
    fn rejects_huge_lengths_without_allocating() {
        let mut data = one_bytes();
        for length in [
            {
                let mut w = [0xffu8; 32];
                w[0] = 0x7f;
                w
            },
            {
                let mut w = [0u8; 32];
                w[24..].copy_from_slice(&u64::MAX.to_be_bytes());
                w
            },
            word(33),
            word(1 << 40),
        ] {
            data[32..64].copy_from_slice(&length);
            assert!(
                matches!(
                    decode(&[ParamType::Bytes], &data),
                    Err(AbiError::LengthOutOfRange {
                        at: 32,
                        available: 32,
                        ..
                    })
                ),
                "{length:?}"
            );
        }
        // Exactly the remaining bytes is fine.
        data[32..64].copy_from_slice(&word(32));
        data[64..].fill(0xcc);
        assert_eq!(
            decode(&[ParamType::Bytes], &data).unwrap(),
            vec![Token::Bytes(vec![0xcc; 32])]
        );
    }

    #[test]
    fn rejects_dirty_values() {
        // Dirty padding after bytes and after a string.
        let mut data = one_bytes();
        data[95] = 1;
        assert_eq!(
            decode(&[ParamType::Bytes], &data),
            Err(AbiError::DirtyPadding { at: 65 })
        );
        let mut s = encode(&[Token::String("hi".into())]);
        s[66] = b'!';
        assert_eq!(
            decode(&[ParamType::String], &s),
            Err(AbiError::DirtyPadding { at: 66 })
        );
        // Bools other than 0/1.
        for v in [2u64, 0x100, u64::MAX] {
            assert_eq!(
                decode(
                    &[ParamType::UINT256, ParamType::Bool],
                    &[word(0), word(v)].concat()
                ),
                Err(AbiError::InvalidBool { at: 32 })
            );
        }
        // Address with any of the 12 high bytes set.
        for i in 0..12 {
            let mut w = Address([0x11; 20]).to_word();
            w[i] = 0x01;
            assert_eq!(
                decode(&[ParamType::Address], &w),
                Err(AbiError::InvalidAddress { at: 0 })
            );
        }
        // uint8 out of range, uint8 max accepted.
        assert_eq!(
            decode(&[ParamType::UINT8], &word(256)),
            Err(AbiError::UintOutOfRange { at: 0, bits: 8 })
        );
        assert_eq!(
            decode(&[ParamType::UINT8], &word(255)).unwrap(),
            vec![Token::uint(255)]
        );
        assert_eq!(
            decode(&[ParamType::Uint(64)], &word(u64::MAX)).unwrap(),
            vec![Token::uint(u64::MAX)]
        );
        // Invalid UTF-8 in a string.
        let mut bad = encode(&[Token::Bytes(vec![0xff, 0xfe])]);
        assert_eq!(
            decode(&[ParamType::String], &bad),
            Err(AbiError::InvalidUtf8 { at: 0 })
        );
        bad[64] = b'o';
        bad[65] = b'k';
        assert_eq!(
            decode(&[ParamType::String], &bad).unwrap(),
            vec![Token::String("ok".into())]
        );
        // Nonsense uint widths.
        for bits in [0u16, 7, 257, 512] {
            assert_eq!(
                decode(&[ParamType::Uint(bits)], &word(0)),
                Err(AbiError::InvalidUintBits(bits))
            );
        }
    }

    #[test]
    fn canonical_rejects_what_plain_decode_tolerates() {
        let types = [ParamType::Bytes, ParamType::Bytes];
        let canonical = encode(&[Token::Bytes(vec![0xaa]), Token::Bytes(vec![0xaa])]);
        // Trailing bytes.
        let mut trailing = canonical.clone();
        trailing.extend([0u8; 32]);
        // Both offsets sharing one tail.
        let shared = [word(64), word(64), word(1), {
            let mut w = [0u8; 32];
            w[0] = 0xaa;
            w
        }]
        .concat();
        // A gap of garbage between head and tail.
        let gap = [word(96), word(96), [0xff; 32], word(1), {
            let mut w = [0u8; 32];
            w[0] = 0xaa;
            w
        }]
        .concat();
        let expected = decode(&types, &canonical).unwrap();
        for variant in [&trailing, &shared, &gap] {
            assert_eq!(decode(&types, variant).unwrap(), expected);
            assert_eq!(
                decode_canonical(&types, variant),
                Err(AbiError::NonCanonical)
            );
        }
    }

    #[test]
    fn revert_reasons() {
        assert_eq!(
            decode_revert_reason(&h(ERROR_REVERT)).unwrap(),
            RevertReason::Error("FiatTokenV2: invalid signature".into())
        );
        let panic = decode_revert_reason(&h(PANIC_REVERT)).unwrap();
        assert_eq!(panic, RevertReason::Panic(U256::from_u64(0x11)));
        assert_eq!(
            panic.to_string(),
            "panic 0x11 (arithmetic overflow or underflow)"
        );
        assert_eq!(decode_revert_reason(&[]).unwrap(), RevertReason::Empty);
        assert_eq!(
            decode_revert_reason(&[1, 2]).unwrap(),
            RevertReason::Other(vec![1, 2])
        );
        let custom = h("fb8f41b2000000000000000000000000000000000000000000000000000000000000002a");
        assert_eq!(
            decode_revert_reason(&custom).unwrap(),
            RevertReason::Other(custom.clone())
        );
        // A malformed Error(string) payload is an error, not a message.
        let mut bad = h(ERROR_REVERT);
        bad[4 + 31] = 0x21;
        assert_eq!(
            decode_revert_reason(&bad),
            Err(AbiError::MisalignedOffset {
                at: 0,
                offset: 0x21
            })
        );
        assert_eq!(RevertReason::Error("x".into()).to_string(), "reverted: x");
        assert_eq!(
            RevertReason::Panic(U256::from_u64(0x99)).to_string(),
            "panic 0x99"
        );
    }

    /// A contract chooses its revert data: however long or strange, the
    /// reason's text is bounded (crate::text), cut at a character boundary and
    /// without control characters.
    #[test]
    fn revert_reason_display_is_bounded() {
        use crate::text::{CHAIN_TEXT_MAX_BYTES, ELLIPSIS};
        let limit = "reverted with ".len() + CHAIN_TEXT_MAX_BYTES + ELLIPSIS.len() + 16;
        for text in [
            "A".repeat(10 * 1024),
            "é€😀".repeat(1200),
            format!("x{}", "😀".repeat(2560)),
            "\x1b[31m\r\n\0".repeat(1000),
        ] {
            let data = encode_call(selectors::ERROR_STRING, &[Token::String(text.clone())]);
            let reason = decode_revert_reason(&data).unwrap();
            assert_eq!(reason, RevertReason::Error(text.clone()));
            let shown = reason.to_string();
            assert!(shown.len() <= limit, "{} bytes", shown.len());
            assert!(shown.starts_with("reverted: "));
            assert!(shown.contains(ELLIPSIS));
            assert!(!shown.chars().any(char::is_control), "{shown:?}");
        }
        // Not UTF-8: not an Error(string) to this decoder; its bytes are shown as bounded hex.
        let mut data = encode_call(selectors::ERROR_STRING, &[Token::Bytes(vec![0xff; 10_240])]);
        assert!(decode_revert_reason(&data).is_err());
        for bytes in [std::mem::take(&mut data), vec![0xab; 10_240]] {
            let len = bytes.len();
            let shown = RevertReason::Other(bytes).to_string();
            assert!(shown.len() <= limit, "{} bytes", shown.len());
            assert!(
                shown.ends_with(&format!("{ELLIPSIS} [{len} bytes]")),
                "{shown}"
            );
        }
    }
}
