//! Recursive Length Prefix (RLP), the serialization of Ethereum transactions and
//! receipts (Yellow Paper, appendix B). Sans-I/O.
//!
//! Encoding always produces the canonical form: a single byte below `0x80` is
//! its own encoding, lengths use the short form up to 55 bytes and the long form
//! without leading zeros above, and integers are big-endian without leading zeros
//! (zero is the empty string).
//!
//! The decoder accepts only that canonical form, so every value has exactly one
//! accepted encoding: it refuses `0x81 0x00`..`0x81 0x7f`, long-form lengths
//! below 56, lengths with a leading zero byte, items that overrun their list or
//! the input, trailing bytes after the top-level item, and lists nested deeper
//! than [`MAX_DEPTH`] (or a caller's limit). Declared lengths are checked against
//! the bytes present before anything is read or allocated. The typed accessors
//! of [`Item`] add the integer rules (no leading zero byte, bounded width).

use crate::crypto::address::Address;
use crate::num::U256;

/// Default limit on list nesting for [`decode`]. Transactions nest 4 deep
/// (tx → access list → entry → storage keys) and receipts 4 (receipt → logs →
/// log → topics); 16 leaves room and keeps recursion shallow.
pub const MAX_DEPTH: usize = 16;

/// Why RLP data was refused. Byte positions (`at`) are offsets into the input
/// given to the decoder.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RlpError {
    #[error("RLP input is empty")]
    Empty,
    #[error("RLP item at byte {at} needs {need} more bytes, {have} remain")]
    Truncated { at: usize, need: u64, have: usize },
    #[error("RLP byte {byte:#04x} at byte {at} must be encoded as itself, not as a 1-byte string")]
    NonCanonicalSingleByte { at: usize, byte: u8 },
    #[error("RLP item at byte {at} uses the long form for a length of {len} (< 56)")]
    NonCanonicalLongLength { at: usize, len: u64 },
    #[error("RLP length at byte {at} has a leading zero byte")]
    LengthLeadingZero { at: usize },
    #[error("{count} trailing bytes after the RLP item that ends at byte {at}")]
    TrailingBytes { at: usize, count: usize },
    #[error("RLP list at byte {at} is nested deeper than {max} levels")]
    TooDeep { at: usize, max: usize },
    #[error("expected an RLP string, got a list")]
    ExpectedBytes,
    #[error("expected an RLP list, got a string")]
    ExpectedList,
    #[error("expected an RLP list of {expected} items, got {got}")]
    ItemCount { expected: usize, got: usize },
    #[error("expected {expected} bytes, got {got}")]
    WrongLength { expected: usize, got: usize },
    #[error("RLP integer has a leading zero byte")]
    IntegerLeadingZero,
    #[error("RLP integer of {len} bytes does not fit in {max} bytes")]
    IntegerTooLarge { len: usize, max: usize },
    #[error("RLP boolean must be 0 or 1")]
    NotABool,
}

// ---------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------

/// Bytes needed by the header of an item whose payload is `payload_len` bytes
/// (for a string of one byte below 0x80 the header is empty; see [`bytes_len`]).
pub fn header_len(payload_len: usize) -> usize {
    if payload_len < 56 {
        1
    } else {
        1 + be_len(payload_len as u64)
    }
}

/// Length of the canonical encoding of the byte string `bytes`.
pub fn bytes_len(bytes: &[u8]) -> usize {
    if bytes.len() == 1 && bytes[0] < 0x80 {
        1
    } else {
        header_len(bytes.len()) + bytes.len()
    }
}

/// Number of significant big-endian bytes of `v` (0 for 0).
fn be_len(v: u64) -> usize {
    8 - (v.leading_zeros() / 8) as usize
}

/// Appends the header of a string (`list == false`) or list of `payload_len` bytes.
pub fn encode_header(out: &mut Vec<u8>, list: bool, payload_len: usize) {
    let (short, long) = if list { (0xc0, 0xf7) } else { (0x80, 0xb7) };
    if payload_len < 56 {
        out.push(short + payload_len as u8);
    } else {
        let len = payload_len as u64;
        let n = be_len(len);
        out.push(long + n as u8);
        out.extend_from_slice(&len.to_be_bytes()[8 - n..]);
    }
}

/// Appends the byte string `bytes`.
pub fn encode_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.len() == 1 && bytes[0] < 0x80 {
        out.push(bytes[0]);
    } else {
        encode_header(out, false, bytes.len());
        out.extend_from_slice(bytes);
    }
}

/// Appends a big-endian unsigned integer, dropping its leading zero bytes.
pub fn encode_uint(out: &mut Vec<u8>, be: &[u8]) {
    let first = be.iter().position(|&b| b != 0).unwrap_or(be.len());
    encode_bytes(out, &be[first..]);
}

pub fn encode_u64(out: &mut Vec<u8>, v: u64) {
    encode_uint(out, &v.to_be_bytes());
}

pub fn encode_u256(out: &mut Vec<u8>, v: &U256) {
    encode_uint(out, &v.to_be_bytes());
}

/// Appends a list whose payload `payload` writes (the header is inserted in
/// front of it afterwards, so nesting needs no precomputed lengths).
pub fn encode_list(out: &mut Vec<u8>, payload: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    payload(out);
    let mut header = Vec::with_capacity(9);
    encode_header(&mut header, true, out.len() - start);
    out.splice(start..start, header);
}

// ---------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------

/// A decoded RLP item, borrowing the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item<'a> {
    Bytes(&'a [u8]),
    List(Vec<Item<'a>>),
}

/// Where an item's payload lies and what kind it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub list: bool,
    /// First payload byte.
    pub start: usize,
    /// One past the last payload byte.
    pub end: usize,
}

/// Reads the header of the item at `at` (which must be `< data.len()`),
/// checking that the header is canonical and the payload present.
pub fn decode_header(data: &[u8], at: usize) -> Result<Header, RlpError> {
    let b0 = *data.get(at).ok_or(RlpError::Truncated {
        at,
        need: 1,
        have: 0,
    })?;
    let (list, len, start) = match b0 {
        0x00..=0x7f => {
            return Ok(Header {
                list: false,
                start: at,
                end: at + 1,
            })
        }
        0x80..=0xb7 => (false, u64::from(b0 - 0x80), at + 1),
        0xb8..=0xbf => {
            let (len, start) = long_length(data, at, usize::from(b0 - 0xb7))?;
            (false, len, start)
        }
        0xc0..=0xf7 => (true, u64::from(b0 - 0xc0), at + 1),
        0xf8..=0xff => {
            let (len, start) = long_length(data, at, usize::from(b0 - 0xf7))?;
            (true, len, start)
        }
    };
    let have = data.len() - start.min(data.len());
    let len = usize::try_from(len)
        .ok()
        .filter(|&l| l <= have)
        .ok_or(RlpError::Truncated {
            at,
            need: len,
            have,
        })?;
    if !list && len == 1 && data[start] < 0x80 {
        return Err(RlpError::NonCanonicalSingleByte {
            at,
            byte: data[start],
        });
    }
    Ok(Header {
        list,
        start,
        end: start + len,
    })
}

/// The `n`-byte length after the prefix byte at `at`, and where the payload starts.
fn long_length(data: &[u8], at: usize, n: usize) -> Result<(u64, usize), RlpError> {
    let bytes = data.get(at + 1..at + 1 + n).ok_or(RlpError::Truncated {
        at,
        need: n as u64,
        have: data.len() - at - 1,
    })?;
    if bytes[0] == 0 {
        return Err(RlpError::LengthLeadingZero { at });
    }
    let len = bytes.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b));
    if len < 56 {
        return Err(RlpError::NonCanonicalLongLength { at, len });
    }
    Ok((len, at + 1 + n))
}

/// Decodes exactly one item spanning all of `data`, with lists nested at most
/// [`MAX_DEPTH`] deep.
pub fn decode(data: &[u8]) -> Result<Item<'_>, RlpError> {
    decode_with_max_depth(data, MAX_DEPTH)
}

/// [`decode`] with a caller-chosen nesting limit (`0`: no lists at all).
pub fn decode_with_max_depth(data: &[u8], max_depth: usize) -> Result<Item<'_>, RlpError> {
    if data.is_empty() {
        return Err(RlpError::Empty);
    }
    let (item, end) = decode_at(data, 0, max_depth, max_depth)?;
    if end != data.len() {
        return Err(RlpError::TrailingBytes {
            at: end,
            count: data.len() - end,
        });
    }
    Ok(item)
}

/// The item at `at` within `data` (the enclosing payload ends at `data.len()`),
/// and the offset just past it. Recursion depth is bounded by `depth_left`.
fn decode_at(
    data: &[u8],
    at: usize,
    depth_left: usize,
    max: usize,
) -> Result<(Item<'_>, usize), RlpError> {
    let header = decode_header(data, at)?;
    if !header.list {
        return Ok((Item::Bytes(&data[header.start..header.end]), header.end));
    }
    if depth_left == 0 {
        return Err(RlpError::TooDeep { at, max });
    }
    let payload = &data[..header.end];
    let mut items = Vec::new();
    let mut pos = header.start;
    while pos < header.end {
        let (item, next) = decode_at(payload, pos, depth_left - 1, max)?;
        items.push(item);
        pos = next;
    }
    Ok((Item::List(items), header.end))
}

impl<'a> Item<'a> {
    /// The bytes of a string item.
    pub fn as_bytes(&self) -> Result<&'a [u8], RlpError> {
        match self {
            Item::Bytes(b) => Ok(b),
            Item::List(_) => Err(RlpError::ExpectedBytes),
        }
    }

    /// The items of a list item.
    pub fn as_list(&self) -> Result<&[Item<'a>], RlpError> {
        match self {
            Item::List(items) => Ok(items),
            Item::Bytes(_) => Err(RlpError::ExpectedList),
        }
    }

    /// The items of a list that must hold exactly `n` of them.
    pub fn as_list_of(&self, n: usize) -> Result<&[Item<'a>], RlpError> {
        let items = self.as_list()?;
        if items.len() != n {
            return Err(RlpError::ItemCount {
                expected: n,
                got: items.len(),
            });
        }
        Ok(items)
    }

    /// A canonical unsigned integer of at most `max` bytes: no leading zero
    /// byte (zero is the empty string). Returns its big-endian bytes.
    pub fn as_uint_bytes(&self, max: usize) -> Result<&'a [u8], RlpError> {
        let b = self.as_bytes()?;
        if b.first() == Some(&0) {
            return Err(RlpError::IntegerLeadingZero);
        }
        if b.len() > max {
            return Err(RlpError::IntegerTooLarge { len: b.len(), max });
        }
        Ok(b)
    }

    pub fn as_u64(&self) -> Result<u64, RlpError> {
        let b = self.as_uint_bytes(8)?;
        Ok(b.iter().fold(0u64, |acc, &x| acc << 8 | u64::from(x)))
    }

    pub fn as_u256(&self) -> Result<U256, RlpError> {
        let b = self.as_uint_bytes(32)?;
        let mut word = [0u8; 32];
        word[32 - b.len()..].copy_from_slice(b);
        Ok(U256::from_be_bytes(&word))
    }

    /// The integer 0 (empty string) or 1 (`0x01`), e.g. a receipt status or yParity.
    pub fn as_bool(&self) -> Result<bool, RlpError> {
        match self.as_u64()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(RlpError::NotABool),
        }
    }

    /// A string of exactly `N` bytes (hashes, storage keys, bloom filters).
    pub fn as_fixed<const N: usize>(&self) -> Result<[u8; N], RlpError> {
        let b = self.as_bytes()?;
        b.try_into().map_err(|_| RlpError::WrongLength {
            expected: N,
            got: b.len(),
        })
    }

    pub fn as_address(&self) -> Result<Address, RlpError> {
        self.as_fixed::<20>().map(Address)
    }

    /// Appends the canonical encoding of this item.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Item::Bytes(b) => encode_bytes(out, b),
            Item::List(items) => encode_list(out, |out| {
                for item in items {
                    item.encode_into(out);
                }
            }),
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }
}

#[cfg(test)]
mod tests;
