//! The secp256k1 operations fastx402 needs, behind one trait so that every
//! backend runs the same vectors. Inputs reaching a backend are already range
//! checked (r, s in [1, n), s low) by `ecdsa`.

/// A secp256k1 implementation. Public keys are uncompressed `x ‖ y` (64 bytes).
pub trait Backend {
    const NAME: &'static str;

    /// The public key of a secret scalar, or `None` if it is 0 or ≥ n.
    fn public_key(secret: &[u8; 32]) -> Option<[u8; 64]>;

    /// RFC 6979 deterministic signature, low-s: `(r, s, recovery id ∈ {0, 1})`.
    /// `secret` must be valid (checked by `public_key` when the key was loaded).
    fn sign(secret: &[u8; 32], digest: &[u8; 32]) -> ([u8; 32], [u8; 32], u8);

    /// The public key that produced `(r, s)` over `digest` with recovery id 0 or 1.
    fn recover(digest: &[u8; 32], r: &[u8; 32], s: &[u8; 32], recid: u8) -> Option<[u8; 64]>;

    /// Plain ECDSA verification of a low-s `(r, s)`.
    fn verify(public_key: &[u8; 64], digest: &[u8; 32], r: &[u8; 32], s: &[u8; 32]) -> bool;
}

/// Pure-Rust backend (RustCrypto `k256`), constant-time signing.
pub struct K256;

impl Backend for K256 {
    const NAME: &'static str = "k256";

    fn public_key(secret: &[u8; 32]) -> Option<[u8; 64]> {
        let key = k256::ecdsa::SigningKey::from_slice(secret).ok()?;
        Some(xy_of(key.verifying_key()))
    }

    fn sign(secret: &[u8; 32], digest: &[u8; 32]) -> ([u8; 32], [u8; 32], u8) {
        let key = k256::ecdsa::SigningKey::from_slice(secret).expect("secret validated on load");
        // k256 returns a normalized (low-s) signature with the matching recovery id.
        let (sig, recid) = key.sign_prehash_recoverable(digest);
        let (r, s) = sig.split_bytes();
        (r.into(), s.into(), recid.to_byte())
    }

    fn recover(digest: &[u8; 32], r: &[u8; 32], s: &[u8; 32], recid: u8) -> Option<[u8; 64]> {
        let sig = k256::ecdsa::Signature::from_scalars(*r, *s).ok()?;
        let recid = k256::ecdsa::RecoveryId::from_byte(recid)?;
        let key = k256::ecdsa::VerifyingKey::recover_from_prehash(digest, &sig, recid).ok()?;
        Some(xy_of(&key))
    }

    fn verify(public_key: &[u8; 64], digest: &[u8; 32], r: &[u8; 32], s: &[u8; 32]) -> bool {
        use k256::ecdsa::signature::hazmat::PrehashVerifier;
        let mut sec1 = [0u8; 65];
        sec1[0] = 4;
        sec1[1..].copy_from_slice(public_key);
        let Ok(key) = k256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1) else {
            return false;
        };
        let Ok(sig) = k256::ecdsa::Signature::from_scalars(*r, *s) else {
            return false;
        };
        key.verify_prehash(digest, &sig).is_ok()
    }
}

fn xy_of(key: &k256::ecdsa::VerifyingKey) -> [u8; 64] {
    let point = key.to_sec1_point(false);
    let mut xy = [0u8; 64];
    xy.copy_from_slice(&point.as_bytes()[1..]);
    xy
}

/// C backend (Bitcoin Core's libsecp256k1): about twice as fast at recovery.
#[cfg(feature = "libsecp256k1")]
pub struct LibSecp256k1;

#[cfg(feature = "libsecp256k1")]
thread_local! {
    /// A signing context blinded once per thread from OS randomness, as libsecp256k1
    /// recommends. (rust-secp256k1's global context re-blinds after every signature,
    /// an extra scalar multiplication that doubles the cost of signing.)
    static SIGNING_CONTEXT: secp256k1::Secp256k1<secp256k1::SignOnly> = {
        let mut ctx = secp256k1::Secp256k1::signing_only();
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        if getrandom::fill(seed.as_mut()).is_ok() {
            ctx.seeded_randomize(&seed);
        }
        ctx
    };
}

#[cfg(feature = "libsecp256k1")]
impl Backend for LibSecp256k1 {
    const NAME: &'static str = "libsecp256k1";

    fn public_key(secret: &[u8; 32]) -> Option<[u8; 64]> {
        let mut key = secp256k1::SecretKey::from_secret_bytes(*secret).ok()?;
        let public = secp256k1::PublicKey::from_secret_key(&key);
        key.non_secure_erase();
        let mut xy = [0u8; 64];
        xy.copy_from_slice(&public.serialize_uncompressed()[1..]);
        Some(xy)
    }

    fn sign(secret: &[u8; 32], digest: &[u8; 32]) -> ([u8; 32], [u8; 32], u8) {
        use secp256k1::ecdsa::RecoverableSignature;
        use secp256k1::ffi;
        let raw = SIGNING_CONTEXT.with(|ctx| {
            let mut raw = ffi::recovery::RecoverableSignature::new();
            // SAFETY: the context is a live signing context owned by this thread; the
            // digest and secret are 32-byte buffers; the secret is a valid scalar
            // (checked when the key was loaded), so signing cannot fail.
            let ok = unsafe {
                ffi::recovery::secp256k1_ecdsa_sign_recoverable(
                    ctx.ctx().as_ptr(),
                    &mut raw,
                    digest.as_ptr(),
                    secret.as_ptr(),
                    ffi::secp256k1_nonce_function_rfc6979,
                    std::ptr::null(),
                )
            };
            assert_eq!(ok, 1, "libsecp256k1 refused a validated secret key");
            raw
        });
        // libsecp256k1 always produces low-s signatures.
        let (recid, rs) = RecoverableSignature::from(raw).serialize_compact();
        let mut r = [0u8; 32];
        let mut s = [0u8; 32];
        r.copy_from_slice(&rs[..32]);
        s.copy_from_slice(&rs[32..]);
        (r, s, recid.to_u8())
    }

    fn recover(digest: &[u8; 32], r: &[u8; 32], s: &[u8; 32], recid: u8) -> Option<[u8; 64]> {
        use secp256k1::ecdsa::{RecoverableSignature, RecoveryId};
        let mut rs = [0u8; 64];
        rs[..32].copy_from_slice(r);
        rs[32..].copy_from_slice(s);
        let recid = RecoveryId::try_from(i32::from(recid)).ok()?;
        let sig = RecoverableSignature::from_compact(&rs, recid).ok()?;
        let public = sig
            .recover_ecdsa(secp256k1::Message::from_digest(*digest))
            .ok()?;
        let mut xy = [0u8; 64];
        xy.copy_from_slice(&public.serialize_uncompressed()[1..]);
        Some(xy)
    }

    fn verify(public_key: &[u8; 64], digest: &[u8; 32], r: &[u8; 32], s: &[u8; 32]) -> bool {
        let mut sec1 = [0u8; 65];
        sec1[0] = 4;
        sec1[1..].copy_from_slice(public_key);
        let Ok(key) = secp256k1::PublicKey::from_slice(&sec1) else {
            return false;
        };
        let mut rs = [0u8; 64];
        rs[..32].copy_from_slice(r);
        rs[32..].copy_from_slice(s);
        let Ok(sig) = secp256k1::ecdsa::Signature::from_compact(&rs) else {
            return false;
        };
        secp256k1::ecdsa::verify(&sig, secp256k1::Message::from_digest(*digest), &key).is_ok()
    }
}
