//! secp256k1 ECDSA as Ethereum uses it: 65-byte `r ‖ s ‖ v` signatures (and EIP-2098
//! 64-byte compact ones), RFC 6979 low-s signing, address recovery under a policy.

mod backend;

use std::fmt;

use zeroize::Zeroizing;

pub use backend::Backend;
#[cfg(feature = "libsecp256k1")]
pub use backend::LibSecp256k1;
pub use backend::K256;

use super::address::Address;
use super::hexutil;

/// The backend that signing and recovery use.
#[cfg(feature = "libsecp256k1")]
pub type DefaultBackend = LibSecp256k1;
#[cfg(not(feature = "libsecp256k1"))]
pub type DefaultBackend = K256;

/// The curve order n, big-endian.
const N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
];
/// ⌊n / 2⌋, the largest low s.
const HALF_N: [u8; 32] = [
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
];

/// Why a signature or key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("signature must be 65 bytes (r, s, v) or 64 bytes (EIP-2098), got {0}")]
    BadLength(usize),
    #[error("signature v must be 0, 1, 27 or 28, got {0}")]
    BadV(u8),
    #[error("signature r must be in [1, n)")]
    ROutOfRange,
    #[error("signature s must be in [1, n)")]
    SOutOfRange,
    #[error("signature s is in the upper half of the curve order (malleable high-s form)")]
    HighS,
    #[error("no public key can be recovered from this signature and digest")]
    RecoveryFailed,
    #[error("signature recovers to the zero address")]
    ZeroAddress,
}

impl SignatureError {
    /// A stable snake_case name for the failure, exposed to Python as `reason`.
    pub fn code(&self) -> &'static str {
        match self {
            SignatureError::BadLength(_) => "bad_length",
            SignatureError::BadV(_) => "bad_v",
            SignatureError::ROutOfRange => "r_out_of_range",
            SignatureError::SOutOfRange => "s_out_of_range",
            SignatureError::HighS => "high_s",
            SignatureError::RecoveryFailed => "recovery_failed",
            SignatureError::ZeroAddress => "zero_address",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("private key must be 32 bytes, got {0}")]
    BadLength(usize),
    #[error("private key must be 64 hex digits, optionally prefixed by 0x")]
    BadHex,
    #[error("private key must be in [1, n)")]
    OutOfRange,
    #[error("the operating system's random number generator failed")]
    Entropy,
}

/// What recovery accepts beyond the always-enforced ranges.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    /// Accept s > n/2. Off by default: USDC's on-chain ECRecover rejects it.
    pub allow_high_s: bool,
}

/// A parsed signature: `r`, `s` and the y parity of R.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature {
    pub r: [u8; 32],
    pub s: [u8; 32],
    pub y_parity: bool,
}

impl Signature {
    /// Parses 65 bytes `r ‖ s ‖ v` (v ∈ {0, 1, 27, 28}) or 64 bytes EIP-2098
    /// `r ‖ yParityAndS`. Ranges are checked by [`Signature::check`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SignatureError> {
        let mut r = [0u8; 32];
        let mut s = [0u8; 32];
        match bytes.len() {
            65 => {
                r.copy_from_slice(&bytes[..32]);
                s.copy_from_slice(&bytes[32..64]);
                let y_parity = match bytes[64] {
                    0 | 27 => false,
                    1 | 28 => true,
                    v => return Err(SignatureError::BadV(v)),
                };
                Ok(Signature { r, s, y_parity })
            }
            64 => {
                r.copy_from_slice(&bytes[..32]);
                s.copy_from_slice(&bytes[32..]);
                let y_parity = s[0] & 0x80 != 0;
                s[0] &= 0x7f;
                Ok(Signature { r, s, y_parity })
            }
            n => Err(SignatureError::BadLength(n)),
        }
    }

    /// `r ‖ s ‖ v` with v = 27 or 28.
    pub fn to_bytes(&self) -> [u8; 65] {
        let mut out = [0u8; 65];
        out[..32].copy_from_slice(&self.r);
        out[32..64].copy_from_slice(&self.s);
        out[64] = 27 + u8::from(self.y_parity);
        out
    }

    /// EIP-2098 compact form `r ‖ (yParity << 255 | s)`; requires low s.
    pub fn to_compact(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&self.r);
        out[32..].copy_from_slice(&self.s);
        out[32] |= u8::from(self.y_parity) << 7;
        out
    }

    pub fn is_high_s(&self) -> bool {
        self.s > HALF_N
    }

    /// The other signature of the same key over the same digest: `(r, n − s)` with
    /// the parity flipped (ECDSA malleability). Requires s in [1, n).
    pub fn flip_s(&self) -> Self {
        Signature {
            r: self.r,
            s: sub_be(&N, &self.s),
            y_parity: !self.y_parity,
        }
    }

    /// The low-s twin: [`Signature::flip_s`] if s is high, else unchanged.
    pub fn normalize_s(&self) -> Self {
        if self.is_high_s() {
            self.flip_s()
        } else {
            *self
        }
    }

    /// Range checks: r and s in [1, n), and s low unless the policy allows high s.
    pub fn check(&self, policy: Policy) -> Result<(), SignatureError> {
        if self.r == [0u8; 32] || self.r >= N {
            return Err(SignatureError::ROutOfRange);
        }
        if self.s == [0u8; 32] || self.s >= N {
            return Err(SignatureError::SOutOfRange);
        }
        if self.is_high_s() && !policy.allow_high_s {
            return Err(SignatureError::HighS);
        }
        Ok(())
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", hexutil::encode_0x(&self.to_bytes()))
    }
}

/// `a − b` for big-endian 256-bit values with a ≥ b.
fn sub_be(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = i16::from(a[i]) - i16::from(b[i]) - borrow;
        borrow = i16::from(d < 0);
        if d < 0 {
            d += 256;
        }
        out[i] = d as u8;
    }
    out
}

/// Recovers the signer's uncompressed public key with backend `B`.
pub fn recover_public_key_with<B: Backend>(
    digest: &[u8; 32],
    signature: &Signature,
    policy: Policy,
) -> Result<[u8; 64], SignatureError> {
    signature.check(policy)?;
    // Recovery of (r, s) and of its low-s twin gives the same key when parity flips.
    let sig = signature.normalize_s();
    B::recover(digest, &sig.r, &sig.s, u8::from(sig.y_parity)).ok_or(SignatureError::RecoveryFailed)
}

/// Recovers the signer's address from a 65- or 64-byte signature.
pub fn recover_address_with<B: Backend>(
    digest: &[u8; 32],
    signature: &[u8],
    policy: Policy,
) -> Result<Address, SignatureError> {
    let sig = Signature::from_bytes(signature)?;
    let public = recover_public_key_with::<B>(digest, &sig, policy)?;
    let address = Address::from_public_key(&public);
    if address.is_zero() {
        return Err(SignatureError::ZeroAddress);
    }
    Ok(address)
}

/// [`recover_address_with`] on the default backend.
pub fn recover_address(
    digest: &[u8; 32],
    signature: &[u8],
    policy: Policy,
) -> Result<Address, SignatureError> {
    recover_address_with::<DefaultBackend>(digest, signature, policy)
}

/// Plain ECDSA verification of `(r, s)` against a public key (`x ‖ y`), under `policy`.
pub fn verify_with<B: Backend>(
    public_key: &[u8; 64],
    digest: &[u8; 32],
    r: &[u8; 32],
    s: &[u8; 32],
    policy: Policy,
) -> bool {
    let sig = Signature {
        r: *r,
        s: *s,
        y_parity: false,
    };
    if sig.check(policy).is_err() {
        return false;
    }
    // ECDSA accepts (r, s) iff it accepts (r, n − s); backends see only low s.
    let low = sig.normalize_s();
    B::verify(public_key, digest, &low.r, &low.s)
}

/// A secp256k1 private key. The scalar is zeroized on drop (every clone too)
/// and never printed.
#[derive(Clone)]
pub struct SecretKey {
    secret: Zeroizing<[u8; 32]>,
    public: [u8; 64],
    address: Address,
}

impl SecretKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let secret: Zeroizing<[u8; 32]> = Zeroizing::new(
            bytes
                .try_into()
                .map_err(|_| KeyError::BadLength(bytes.len()))?,
        );
        let public = DefaultBackend::public_key(&secret).ok_or(KeyError::OutOfRange)?;
        Ok(SecretKey {
            address: Address::from_public_key(&public),
            secret,
            public,
        })
    }

    /// 64 hex digits, with or without a `0x` prefix.
    pub fn from_hex(s: &str) -> Result<Self, KeyError> {
        let digits = s.strip_prefix("0x").unwrap_or(s).as_bytes();
        let mut bytes = Zeroizing::new([0u8; 32]);
        hexutil::decode_digits_into(digits, bytes.as_mut()).map_err(|_| KeyError::BadHex)?;
        Self::from_bytes(bytes.as_ref())
    }

    /// A fresh key from the operating system's CSPRNG.
    pub fn generate() -> Result<Self, KeyError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        // A uniformly random 32-byte string is out of range with probability ~2^-128.
        for _ in 0..8 {
            getrandom::fill(bytes.as_mut()).map_err(|_| KeyError::Entropy)?;
            if let Ok(key) = Self::from_bytes(bytes.as_ref()) {
                return Ok(key);
            }
        }
        Err(KeyError::Entropy)
    }

    pub fn address(&self) -> Address {
        self.address
    }

    /// Uncompressed public key `x ‖ y`.
    pub fn public_key(&self) -> &[u8; 64] {
        &self.public
    }

    /// The raw scalar; callers must not keep copies.
    pub fn secret_bytes(&self) -> &[u8; 32] {
        &self.secret
    }

    /// RFC 6979, low-s, on the default backend.
    pub fn sign_digest(&self, digest: &[u8; 32]) -> Signature {
        self.sign_digest_with::<DefaultBackend>(digest)
    }

    pub fn sign_digest_with<B: Backend>(&self, digest: &[u8; 32]) -> Signature {
        let (r, s, recid) = B::sign(&self.secret, digest);
        Signature {
            r,
            s,
            y_parity: recid & 1 == 1,
        }
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(address={})", self.address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_n_is_n_shifted() {
        let mut shifted = [0u8; 32];
        let mut carry = 0u8;
        for i in 0..32 {
            shifted[i] = carry << 7 | N[i] >> 1;
            carry = N[i] & 1;
        }
        assert_eq!(shifted, HALF_N);
    }

    #[test]
    fn debug_hides_secret() {
        let key = SecretKey::from_bytes(&[0x11; 32]).unwrap();
        let shown = format!("{key:?}");
        assert!(!shown.contains("1111"), "{shown}");
        assert!(shown.starts_with("SecretKey(address=0x"));
    }

    #[test]
    fn key_ranges() {
        assert_eq!(
            SecretKey::from_bytes(&[0; 32]).err(),
            Some(KeyError::OutOfRange)
        );
        assert_eq!(SecretKey::from_bytes(&N).err(), Some(KeyError::OutOfRange));
        assert_eq!(
            SecretKey::from_bytes(&[1; 31]).err(),
            Some(KeyError::BadLength(31))
        );
        assert!(SecretKey::from_hex(
            "0x0000000000000000000000000000000000000000000000000000000000000001"
        )
        .is_ok());
        assert_eq!(SecretKey::from_hex("0x01").err(), Some(KeyError::BadHex));
        let a = SecretKey::generate().unwrap();
        let b = SecretKey::generate().unwrap();
        assert_ne!(a.address(), b.address());
    }
}
