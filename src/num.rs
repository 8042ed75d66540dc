//! Unsigned 256-bit integers: just what protocol parsing needs (exact decimal and
//! hex parsing with overflow detection, bit length, two's complement, formatting).
//!
//! The limb arithmetic is `ruint`'s (`Uint<256, 4>` has the same four little-endian
//! limbs, so conversions are free); the grammar is ours: decimal `0|[1-9][0-9]*`,
//! hex digits only, and no `_` separators, which `ruint`'s parser would skip.

use std::fmt;

/// A 256-bit unsigned integer, four little-endian 64-bit limbs.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct U256(pub [u64; 4]);

/// Why an integer string was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntError {
    Empty,
    InvalidDigit { index: usize },
    LeadingZero,
    Overflow,
}

impl fmt::Display for IntError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntError::Empty => f.write_str("empty integer"),
            IntError::InvalidDigit { index } => write!(f, "invalid digit at offset {index}"),
            IntError::LeadingZero => f.write_str("leading zeros are not allowed"),
            IntError::Overflow => f.write_str("does not fit in 256 bits"),
        }
    }
}

/// The arithmetic behind [`U256`]: the same four little-endian limbs.
type Uint = ruint::Uint<256, 4>;

impl U256 {
    pub const ZERO: U256 = U256([0; 4]);
    pub const MAX: U256 = U256([u64::MAX; 4]);

    pub fn from_u64(v: u64) -> Self {
        U256([v, 0, 0, 0])
    }

    #[inline]
    fn uint(self) -> Uint {
        Uint::from_limbs(self.0)
    }

    #[inline]
    fn from_uint(v: Uint) -> Self {
        U256(v.into_limbs())
    }

    /// `0|[1-9][0-9]*`, at most 2^256 − 1.
    pub fn from_dec_str(s: &str) -> Result<Self, IntError> {
        let digits = s.as_bytes();
        if digits.is_empty() {
            return Err(IntError::Empty);
        }
        // The grammar is ours (ruint's parser skips `_` and takes leading zeros); the errors
        // are those of a left-to-right scan: a leading zero is seen at offset 1, an overflow
        // before any bad digit that follows it.
        let end = digits.iter().position(|c| !c.is_ascii_digit());
        let valid = end.unwrap_or(digits.len());
        if valid > 1 && digits[0] == b'0' {
            return Err(IntError::LeadingZero);
        }
        let value = Self::parse_prefix(&s[..valid], 10)?;
        match end {
            Some(index) => Err(IntError::InvalidDigit { index }),
            None => Ok(value),
        }
    }

    /// Hex digits without prefix (at least one; leading zeros allowed).
    pub fn from_hex_digits(digits: &[u8]) -> Result<Self, IntError> {
        if digits.is_empty() {
            return Err(IntError::Empty);
        }
        let end = digits.iter().position(|c| !c.is_ascii_hexdigit());
        let valid = end.unwrap_or(digits.len());
        let prefix = std::str::from_utf8(&digits[..valid]).expect("ASCII hex digits");
        let value = Self::parse_prefix(prefix, 16)?;
        match end {
            Some(index) => Err(IntError::InvalidDigit { index }),
            None => Ok(value),
        }
    }

    /// `digits` (already checked: ASCII digits of `radix` only, possibly none) as a value.
    fn parse_prefix(digits: &str, radix: u64) -> Result<Self, IntError> {
        Uint::from_str_radix(digits, radix)
            .map(Self::from_uint)
            .map_err(|_| IntError::Overflow)
    }

    /// Number of significant bits (0 for zero).
    pub fn bits(&self) -> u32 {
        self.uint().bit_len() as u32
    }

    pub fn is_zero(&self) -> bool {
        self.0 == [0; 4]
    }

    /// Two's complement negation modulo 2^256.
    pub fn wrapping_neg(self) -> Self {
        Self::from_uint(self.uint().wrapping_neg())
    }

    /// True when `self` is exactly 2^(bits − 1) (the magnitude of intN's minimum).
    pub fn is_power_of_two_at(&self, bit: u32) -> bool {
        self.uint().is_power_of_two() && self.bits() == bit + 1
    }

    pub fn to_be_bytes(&self) -> [u8; 32] {
        self.uint().to_be_bytes::<32>()
    }

    pub fn from_be_bytes(bytes: &[u8; 32]) -> Self {
        Self::from_uint(Uint::from_be_bytes(*bytes))
    }
}

impl Ord for U256 {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.uint().cmp(&other.uint())
    }
}

impl PartialOrd for U256 {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for U256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.uint(), f)
    }
}

impl fmt::Debug for U256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "U256({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX_DEC: &str =
        "115792089237316195423570985008687907853269984665640564039457584007913129639935";

    #[test]
    fn decimal_grammar() {
        assert_eq!(U256::from_dec_str("0").unwrap(), U256::ZERO);
        assert_eq!(U256::from_dec_str("10000").unwrap(), U256::from_u64(10000));
        assert_eq!(U256::from_dec_str(MAX_DEC).unwrap(), U256::MAX);
        assert_eq!(U256::MAX.to_string(), MAX_DEC);
        let over = "115792089237316195423570985008687907853269984665640564039457584007913129639936";
        assert_eq!(U256::from_dec_str(over), Err(IntError::Overflow));
        assert_eq!(U256::from_dec_str("010"), Err(IntError::LeadingZero));
        assert_eq!(U256::from_dec_str("00"), Err(IntError::LeadingZero));
        assert_eq!(U256::from_dec_str(""), Err(IntError::Empty));
        for bad in [" 1", "1 ", "+1", "-1", "1_0", "1e3", "１", "_1", "0_"] {
            assert!(U256::from_dec_str(bad).is_err(), "{bad:?}");
        }
        // Errors in left-to-right order: a leading zero before a bad digit after it, an
        // overflow before a bad digit after it, a bad digit before an overflow after it.
        assert_eq!(U256::from_dec_str("01x"), Err(IntError::LeadingZero));
        assert_eq!(
            U256::from_dec_str("x1"),
            Err(IntError::InvalidDigit { index: 0 })
        );
        assert_eq!(
            U256::from_dec_str("0x"),
            Err(IntError::InvalidDigit { index: 1 })
        );
        assert_eq!(
            U256::from_dec_str("1_0"),
            Err(IntError::InvalidDigit { index: 1 })
        );
        assert_eq!(
            U256::from_dec_str(&format!("{over}x")),
            Err(IntError::Overflow)
        );
        assert_eq!(
            U256::from_dec_str(&format!("1x{over}")),
            Err(IntError::InvalidDigit { index: 1 })
        );
        assert_eq!(format!("{:>3}", U256::from_u64(7)), "  7");
    }

    #[test]
    fn hex_and_bits() {
        let v = U256::from_hex_digits(b"00ff").unwrap();
        assert_eq!(v, U256::from_u64(255));
        assert_eq!(v.bits(), 8);
        assert_eq!(U256::from_hex_digits(&[b'f'; 64]).unwrap(), U256::MAX);
        assert_eq!(U256::from_hex_digits(&[b'1'; 65]), Err(IntError::Overflow));
        let mut padded = vec![b'0'; 64];
        padded.extend_from_slice(&[b'F'; 64]);
        assert_eq!(U256::from_hex_digits(&padded).unwrap(), U256::MAX);
        assert_eq!(
            U256::from_hex_digits(b"1_0"),
            Err(IntError::InvalidDigit { index: 1 })
        );
        assert_eq!(
            U256::from_hex_digits(b"g"),
            Err(IntError::InvalidDigit { index: 0 })
        );
        assert_eq!(U256::MAX.wrapping_neg(), U256::from_u64(1));
        assert_eq!(U256::ZERO.wrapping_neg(), U256::ZERO);
        assert!(U256([0, 0, 0, 1 << 63]).is_power_of_two_at(255));
        assert!(!U256::ZERO.is_power_of_two_at(0));
        assert_eq!(U256::MAX.bits(), 256);
        assert_eq!(U256::from_u64(1).wrapping_neg(), U256::MAX);
        assert!(
            U256::from_u64(1) < U256([0, 1, 0, 0])
                && U256([0, 0, 0, 1]) > U256([u64::MAX, u64::MAX, u64::MAX, 0])
        );
        assert!(U256::from_u64(128).is_power_of_two_at(7));
        assert!(!U256::from_u64(129).is_power_of_two_at(7));
        let b = U256::from_dec_str("123456789012345678901234567890").unwrap();
        assert_eq!(U256::from_be_bytes(&b.to_be_bytes()), b);
    }
}
