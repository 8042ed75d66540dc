//! Ethereum addresses: strict parsing (EIP-55 when mixed case), checksummed display.

use std::fmt;
use std::str::FromStr;

use super::hexutil::{self, HexError};
use super::keccak::keccak256;
use crate::cache::Memo;

/// A 20-byte account address. Equality is byte equality, whatever the input casing.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Address(pub [u8; 20]);

/// Why an address string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("address must be '0x' followed by 40 hex digits: {0}")]
    Malformed(HexError),
    #[error("address has mixed case but fails its EIP-55 checksum")]
    BadChecksum,
}

impl Address {
    pub const ZERO: Address = Address([0u8; 20]);

    /// Parses `0x` + 40 hex digits. All-lowercase and all-uppercase digits are
    /// accepted as is; mixed case must be the exact EIP-55 checksum.
    pub fn parse(s: &str) -> Result<Self, AddressError> {
        let bytes = hexutil::decode_0x_fixed::<20>(s).map_err(AddressError::Malformed)?;
        let digits = &s.as_bytes()[2..];
        let has_lower = digits.iter().any(u8::is_ascii_lowercase);
        let has_upper = digits.iter().any(u8::is_ascii_uppercase);
        let address = Address(bytes);
        if has_lower && has_upper && address.checksum_digits() != digits {
            return Err(AddressError::BadChecksum);
        }
        Ok(address)
    }

    /// The address of an uncompressed public key given as its 64-byte `x ‖ y`.
    pub fn from_public_key(xy: &[u8; 64]) -> Self {
        let hash = keccak256(xy);
        let mut out = [0u8; 20];
        out.copy_from_slice(&hash[12..]);
        Address(out)
    }

    pub fn is_zero(&self) -> bool {
        self.0 == [0u8; 20]
    }

    /// The 40 EIP-55 digits (no prefix), memoized: the same few addresses (tokens,
    /// sellers, payers) come back on every request.
    fn checksum_digits(&self) -> [u8; 40] {
        static MEMO: Memo<[u8; 20], [u8; 40]> = Memo::new(4096);
        MEMO.get_or_insert_with(&self.0, || self.compute_checksum_digits())
    }

    fn compute_checksum_digits(&self) -> [u8; 40] {
        let lower = hexutil::encode_0x(&self.0);
        let lower = &lower.as_bytes()[2..];
        let hash = keccak256(lower);
        let mut out = [0u8; 40];
        for (i, &c) in lower.iter().enumerate() {
            let nibble = (hash[i / 2] >> (if i % 2 == 0 { 4 } else { 0 })) & 0x0f;
            out[i] = if c.is_ascii_alphabetic() && nibble >= 8 {
                c.to_ascii_uppercase()
            } else {
                c
            };
        }
        out
    }

    /// EIP-55 checksummed `0x…` form.
    pub fn to_checksum(&self) -> String {
        let digits = self.checksum_digits();
        let mut s = String::with_capacity(42);
        s.push_str("0x");
        // The digits are ASCII by construction.
        s.push_str(std::str::from_utf8(&digits).expect("ascii"));
        s
    }

    /// The address as a left-padded 32-byte ABI word.
    pub fn to_word(&self) -> [u8; 32] {
        let mut word = [0u8; 32];
        word[12..].copy_from_slice(&self.0);
        word
    }
}

impl FromStr for Address {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Address::parse(s)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_checksum())
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({})", self.to_checksum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eip55_examples_round_trip() {
        for s in [
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
            "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        ] {
            assert_eq!(Address::parse(s).unwrap().to_checksum(), s);
            assert!(Address::parse(&s.to_lowercase()).is_ok());
            assert!(Address::parse(&format!("0x{}", s[2..].to_uppercase())).is_ok());
        }
    }

    #[test]
    fn rejects() {
        assert_eq!(
            Address::parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"),
            Err(AddressError::BadChecksum)
        );
        assert!(matches!(
            Address::parse("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
            Err(AddressError::Malformed(HexError::MissingPrefix))
        ));
        assert!(Address::parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae").is_err());
        assert!(Address::parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaedd0").is_err());
        assert!(Address::parse("0xg5aeb6053f3e94c9b9a09f33669435e7ef1beae").is_err());
    }
}
