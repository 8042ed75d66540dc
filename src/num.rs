//! Unsigned 256-bit integers: just what protocol parsing needs (exact decimal and
//! hex parsing with overflow detection, bit length, two's complement, formatting).

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

impl U256 {
    pub const ZERO: U256 = U256([0; 4]);
    pub const MAX: U256 = U256([u64::MAX; 4]);

    pub fn from_u64(v: u64) -> Self {
        U256([v, 0, 0, 0])
    }

    /// `0|[1-9][0-9]*`, at most 2^256 − 1.
    pub fn from_dec_str(s: &str) -> Result<Self, IntError> {
        let digits = s.as_bytes();
        if digits.is_empty() {
            return Err(IntError::Empty);
        }
        let mut value = U256::ZERO;
        for (i, &c) in digits.iter().enumerate() {
            if !c.is_ascii_digit() {
                return Err(IntError::InvalidDigit { index: i });
            }
            if i == 1 && digits[0] == b'0' {
                return Err(IntError::LeadingZero);
            }
            value = value
                .checked_mul_small(10)
                .and_then(|v| v.checked_add_small(u64::from(c - b'0')))
                .ok_or(IntError::Overflow)?;
        }
        Ok(value)
    }

    /// Hex digits without prefix (at least one; leading zeros allowed).
    pub fn from_hex_digits(digits: &[u8]) -> Result<Self, IntError> {
        if digits.is_empty() {
            return Err(IntError::Empty);
        }
        let mut value = U256::ZERO;
        for (i, &c) in digits.iter().enumerate() {
            let d = (c as char)
                .to_digit(16)
                .ok_or(IntError::InvalidDigit { index: i })?;
            if value.0[3] >> 60 != 0 {
                return Err(IntError::Overflow);
            }
            value = value.shl4();
            value.0[0] |= u64::from(d);
        }
        Ok(value)
    }

    fn shl4(self) -> Self {
        let l = self.0;
        U256([
            l[0] << 4,
            l[1] << 4 | l[0] >> 60,
            l[2] << 4 | l[1] >> 60,
            l[3] << 4 | l[2] >> 60,
        ])
    }

    fn checked_mul_small(self, m: u64) -> Option<Self> {
        let mut out = [0u64; 4];
        let mut carry = 0u128;
        for (i, limb) in self.0.iter().enumerate() {
            let p = u128::from(*limb) * u128::from(m) + carry;
            out[i] = p as u64;
            carry = p >> 64;
        }
        (carry == 0).then_some(U256(out))
    }

    fn checked_add_small(self, a: u64) -> Option<Self> {
        let mut out = self.0;
        let mut carry = a;
        for limb in out.iter_mut() {
            let (s, c) = limb.overflowing_add(carry);
            *limb = s;
            carry = u64::from(c);
            if carry == 0 {
                return Some(U256(out));
            }
        }
        (carry == 0).then_some(U256(out))
    }

    /// Number of significant bits (0 for zero).
    pub fn bits(&self) -> u32 {
        for i in (0..4).rev() {
            if self.0[i] != 0 {
                return 64 * i as u32 + (64 - self.0[i].leading_zeros());
            }
        }
        0
    }

    pub fn is_zero(&self) -> bool {
        self.0 == [0; 4]
    }

    /// Two's complement negation modulo 2^256.
    pub fn wrapping_neg(self) -> Self {
        let inverted = U256(self.0.map(|l| !l));
        let mut out = inverted.0;
        for limb in out.iter_mut() {
            let (s, c) = limb.overflowing_add(1);
            *limb = s;
            if !c {
                break;
            }
        }
        U256(out)
    }

    /// True when `self` is exactly 2^(bits − 1) (the magnitude of intN's minimum).
    pub fn is_power_of_two_at(&self, bit: u32) -> bool {
        self.bits() == bit + 1 && {
            let mut v = *self;
            v.0[(bit / 64) as usize] &= !(1u64 << (bit % 64));
            v.is_zero()
        }
    }

    pub fn to_be_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for i in 0..4 {
            out[24 - 8 * i..32 - 8 * i].copy_from_slice(&self.0[i].to_be_bytes());
        }
        out
    }

    pub fn from_be_bytes(bytes: &[u8; 32]) -> Self {
        let mut limbs = [0u64; 4];
        for (i, limb) in limbs.iter_mut().enumerate() {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[24 - 8 * i..32 - 8 * i]);
            *limb = u64::from_be_bytes(b);
        }
        U256(limbs)
    }

    /// Divides by a small divisor, returning quotient and remainder.
    fn div_rem_small(self, d: u64) -> (Self, u64) {
        let mut out = [0u64; 4];
        let mut rem = 0u128;
        for i in (0..4).rev() {
            let cur = rem << 64 | u128::from(self.0[i]);
            out[i] = (cur / u128::from(d)) as u64;
            rem = cur % u128::from(d);
        }
        (U256(out), rem as u64)
    }
}

impl Ord for U256 {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.iter().rev().cmp(other.0.iter().rev())
    }
}

impl PartialOrd for U256 {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for U256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0");
        }
        let mut digits = Vec::with_capacity(78);
        let mut v = *self;
        while !v.is_zero() {
            let (q, r) = v.div_rem_small(10);
            digits.push(b'0' + r as u8);
            v = q;
        }
        digits.reverse();
        f.write_str(std::str::from_utf8(&digits).expect("ascii digits"))
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
        for bad in [" 1", "1 ", "+1", "-1", "1_0", "1e3", "１"] {
            assert!(U256::from_dec_str(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hex_and_bits() {
        let v = U256::from_hex_digits(b"00ff").unwrap();
        assert_eq!(v, U256::from_u64(255));
        assert_eq!(v.bits(), 8);
        assert_eq!(U256::from_hex_digits(&[b'f'; 64]).unwrap(), U256::MAX);
        assert_eq!(U256::from_hex_digits(&[b'1'; 65]), Err(IntError::Overflow));
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
