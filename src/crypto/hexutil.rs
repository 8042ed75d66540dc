//! Strict `0x`-prefixed hex, the only hex grammar fastx402 accepts on input.
//!
//! The digit loops are the `hex` crate's (`decode_to_slice`, `encode_to_slice`); this
//! module keeps the grammar around them: a mandatory lowercase `0x`, an even number of
//! digits, an exact length for fixed-size values, error offsets counted from the start
//! of the string (prefix included), lowercase output, and compile-time constants.
//! Digits may be upper or lower case, like the `hex` crate's; EIP-55 checksums are
//! checked by `address.rs`, not here.

/// Why a hex string was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HexError {
    MissingPrefix,
    OddLength,
    NonHex { index: usize },
    WrongLength { expected: usize, got: usize },
}

impl std::fmt::Display for HexError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HexError::MissingPrefix => f.write_str("hex string must start with lowercase '0x'"),
            HexError::OddLength => f.write_str("hex string has an odd number of digits"),
            HexError::NonHex { index } => write!(f, "non-hex character at offset {index}"),
            HexError::WrongLength { expected, got } => {
                write!(f, "expected {expected} bytes of hex, got {got}")
            }
        }
    }
}

/// The digits after a mandatory lowercase `0x`.
pub fn strip_0x(s: &str) -> Result<&[u8], HexError> {
    s.strip_prefix("0x")
        .map(str::as_bytes)
        .ok_or(HexError::MissingPrefix)
}

/// Decodes hex digits (no prefix) into `out`, whose length must be exactly half.
pub fn decode_digits_into(digits: &[u8], out: &mut [u8]) -> Result<(), HexError> {
    if !digits.len().is_multiple_of(2) {
        return Err(HexError::OddLength);
    }
    if digits.len() / 2 != out.len() {
        return Err(HexError::WrongLength {
            expected: out.len(),
            got: digits.len() / 2,
        });
    }
    hex::decode_to_slice(digits, out).map_err(|e| match e {
        hex::FromHexError::InvalidHexCharacter { index, .. } => {
            HexError::NonHex { index: 2 + index }
        }
        // Both lengths were checked above.
        hex::FromHexError::OddLength => HexError::OddLength,
        hex::FromHexError::InvalidStringLength => HexError::WrongLength {
            expected: out.len(),
            got: digits.len() / 2,
        },
    })
}

/// `0x` + any even number of hex digits (possibly none) into bytes.
pub fn decode_0x(s: &str) -> Result<Vec<u8>, HexError> {
    let digits = strip_0x(s)?;
    if !digits.len().is_multiple_of(2) {
        return Err(HexError::OddLength);
    }
    let mut out = vec![0u8; digits.len() / 2];
    decode_digits_into(digits, &mut out)?;
    Ok(out)
}

/// `0x` + exactly `2 * N` hex digits into `[u8; N]`.
pub fn decode_0x_fixed<const N: usize>(s: &str) -> Result<[u8; N], HexError> {
    let mut out = [0u8; N];
    decode_digits_into(strip_0x(s)?, &mut out)?;
    Ok(out)
}

/// Lowercase hex digits (no prefix) into `[u8; N]` at compile time, for constants.
pub const fn const_hex<const N: usize>(s: &str) -> [u8; N] {
    const fn nib(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not lowercase hex"),
        }
    }
    let b = s.as_bytes();
    assert!(b.len() == 2 * N, "wrong length");
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = nib(b[2 * i]) << 4 | nib(b[2 * i + 1]);
        i += 1;
    }
    out
}

/// Lowercase `0x`-prefixed hex.
pub fn encode_0x(bytes: &[u8]) -> String {
    let mut buf = vec![0u8; 2 + 2 * bytes.len()];
    buf[..2].copy_from_slice(b"0x");
    hex::encode_to_slice(bytes, &mut buf[2..]).expect("the buffer holds 2 digits a byte");
    String::from_utf8(buf).expect("hex digits are ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar() {
        assert_eq!(decode_0x("0x").unwrap(), Vec::<u8>::new());
        assert_eq!(decode_0x("0xaBcD").unwrap(), vec![0xab, 0xcd]);
        assert_eq!(decode_0x("abcd"), Err(HexError::MissingPrefix));
        assert_eq!(decode_0x("0Xab"), Err(HexError::MissingPrefix));
        assert_eq!(decode_0x("0xabc"), Err(HexError::OddLength));
        assert_eq!(decode_0x("0xzz"), Err(HexError::NonHex { index: 2 }));
        assert_eq!(decode_0x("0x a"), Err(HexError::NonHex { index: 2 }));
        assert_eq!(
            decode_0x_fixed::<2>("0x00"),
            Err(HexError::WrongLength {
                expected: 2,
                got: 1
            })
        );
        assert_eq!(decode_0x("0xa\u{e9}0"), Err(HexError::NonHex { index: 3 }));
        assert_eq!(decode_0x("0x0g"), Err(HexError::NonHex { index: 3 }));
        assert_eq!(decode_0x_fixed::<1>("0xFf"), Ok([0xff]));
        assert_eq!(encode_0x(&[0, 255]), "0x00ff");
        assert_eq!(encode_0x(&[]), "0x");
    }
}
