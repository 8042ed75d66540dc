//! Smart-wallet signatures, the pure parts: ERC-6492 wrappers (counterfactual
//! wallets), EIP-1271 `isValidSignature` call data and result check, signature
//! shape classification and the deploy-factory allow-list. Whether a wallet is
//! deployed, and what `isValidSignature` returns, is chain state handled by the
//! chain module.
//!
//! ERC-6492 wrapper: `abi.encode(address factory, bytes factoryCalldata, bytes
//! innerSig) ‖ 0x6492…6492` (32 bytes). The prefix is decoded strictly *and*
//! canonically ([`crate::abi::decode_canonical`]): the official Python SDK
//! (eth_abi) also accepts misaligned offsets, gaps, shared tails and trailing
//! bytes; every encoder we know of (viem, ethers, Solidity, eth_abi) produces
//! the canonical form, so the non-canonical variants are only malleability.

use std::collections::BTreeSet;

use crate::abi::{self, AbiError, ParamType, Token};
use crate::crypto::address::{Address, AddressError};

/// The 32-byte ERC-6492 suffix.
pub const ERC6492_MAGIC: [u8; 32] = [
    0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92,
    0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92,
];

/// What `isValidSignature(bytes32,bytes)` returns (as `bytes4`) when it accepts:
/// its own selector.
pub const EIP1271_MAGIC: [u8; 4] = [0x16, 0x26, 0xba, 0x7e];

const ERC6492_TYPES: [ParamType; 3] = [ParamType::Address, ParamType::Bytes, ParamType::Bytes];

/// A parsed ERC-6492 wrapper.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Erc6492Signature {
    /// The contract to call with `factory_calldata` to deploy the wallet.
    pub factory: Address,
    pub factory_calldata: Vec<u8>,
    /// The wallet's own (EIP-1271) signature.
    pub inner: Vec<u8>,
}

impl Erc6492Signature {
    /// True when the wrapper can deploy something: a non-zero factory and
    /// non-empty call data (the official SDK's `has_deployment_info`).
    pub fn has_deployment_info(&self) -> bool {
        !self.factory.is_zero() && !self.factory_calldata.is_empty()
    }

    /// The wrapped bytes (see [`wrap_erc6492`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        wrap_erc6492(&self.factory, &self.factory_calldata, &self.inner)
    }
}

/// True when `sig` ends with the ERC-6492 magic suffix (whether or not the rest
/// parses).
pub fn is_erc6492(sig: &[u8]) -> bool {
    sig.len() >= 32 && sig[sig.len() - 32..] == ERC6492_MAGIC
}

/// `None` when `sig` has no ERC-6492 magic suffix; otherwise the strictly and
/// canonically decoded `(address, bytes, bytes)` prefix, or why it is malformed.
pub fn parse_erc6492(sig: &[u8]) -> Option<Result<Erc6492Signature, AbiError>> {
    if !is_erc6492(sig) {
        return None;
    }
    let prefix = &sig[..sig.len() - 32];
    Some(abi::decode_canonical(&ERC6492_TYPES, prefix).map(|tokens| {
        let mut it = tokens.into_iter();
        match (it.next(), it.next(), it.next()) {
            (
                Some(Token::Address(factory)),
                Some(Token::Bytes(factory_calldata)),
                Some(Token::Bytes(inner)),
            ) => Erc6492Signature {
                factory,
                factory_calldata,
                inner,
            },
            _ => unreachable!("decode returns one token of each requested type"),
        }
    }))
}

/// `abi.encode(factory, factory_calldata, inner) ‖ ERC6492_MAGIC`.
pub fn wrap_erc6492(factory: &Address, factory_calldata: &[u8], inner: &[u8]) -> Vec<u8> {
    let mut out = abi::encode(&[
        Token::Address(*factory),
        Token::Bytes(factory_calldata.to_vec()),
        Token::Bytes(inner.to_vec()),
    ]);
    out.extend_from_slice(&ERC6492_MAGIC);
    out
}

/// The shape of a signature, before any chain state is consulted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignatureKind {
    /// 65 bytes `r ‖ s ‖ v`, no magic suffix: an EOA signature (or a 65-byte
    /// EIP-1271 one; only the chain can tell).
    Eoa65,
    /// 64 bytes `r ‖ yParityAndS` (EIP-2098 compact).
    Eip2098,
    /// An ERC-6492 wrapper (magic suffix, well-formed prefix).
    Erc6492(Erc6492Signature),
    /// Any other length: a contract (EIP-1271) signature, as given.
    Other(Vec<u8>),
}

impl SignatureKind {
    /// Classifies `sig`. The magic suffix is checked first, as on chain (so a
    /// 64-byte signature whose second half is the magic is treated, and refused,
    /// as a malformed wrapper). A suffixed signature whose prefix does not parse
    /// is an error, never `Other`.
    pub fn classify(sig: &[u8]) -> Result<SignatureKind, AbiError> {
        if let Some(parsed) = parse_erc6492(sig) {
            return parsed.map(SignatureKind::Erc6492);
        }
        Ok(match sig.len() {
            65 => SignatureKind::Eoa65,
            64 => SignatureKind::Eip2098,
            _ => SignatureKind::Other(sig.to_vec()),
        })
    }
}

/// Call data of `isValidSignature(bytes32 digest, bytes signature)`.
pub fn eip1271_calldata(digest: &[u8; 32], signature: &[u8]) -> Vec<u8> {
    abi::encode_call(
        abi::selectors::IS_VALID_SIGNATURE,
        &[
            Token::FixedBytes32(*digest),
            Token::Bytes(signature.to_vec()),
        ],
    )
}

/// True only for exactly one 32-byte word `0x1626ba7e` followed by 28 zero bytes.
///
/// The official Python SDK decodes the result as `bytes4` with eth_abi and
/// compares its first 4 bytes: it also rejects dirty padding, but accepts return
/// data longer than 32 bytes (extra bytes ignored), as do OpenZeppelin's and
/// USDC's `SignatureChecker` (`result.length >= 32`). We refuse the longer form:
/// a compliant wallet returns exactly one word, and refusing costs at most a
/// false negative, never a false positive.
pub fn is_eip1271_magic(return_data: &[u8]) -> bool {
    return_data.len() == 32
        && return_data[..4] == EIP1271_MAGIC
        && return_data[4..].iter().all(|&b| b == 0)
}

/// Factories that a facilitator will call to deploy ERC-6492 wallets. Empty by
/// default, which denies every factory. The zero address is never allowed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FactoryAllowList {
    factories: BTreeSet<Address>,
}

impl FactoryAllowList {
    /// The empty list: deny all.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses `0x` addresses strictly (mixed case must pass EIP-55), so a typo in
    /// configuration fails loudly instead of silently never matching.
    pub fn parse<I, S>(addresses: I) -> Result<Self, AddressError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        addresses
            .into_iter()
            .map(|s| Address::parse(s.as_ref()))
            .collect()
    }

    /// Adds a factory; returns false if it was already there.
    pub fn insert(&mut self, factory: Address) -> bool {
        self.factories.insert(factory)
    }

    pub fn allows(&self, factory: &Address) -> bool {
        !factory.is_zero() && self.factories.contains(factory)
    }

    pub fn is_empty(&self) -> bool {
        self.factories.is_empty()
    }

    pub fn len(&self) -> usize {
        self.factories.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Address> {
        self.factories.iter()
    }
}

impl FromIterator<Address> for FactoryAllowList {
    fn from_iter<T: IntoIterator<Item = Address>>(iter: T) -> Self {
        FactoryAllowList {
            factories: iter.into_iter().collect(),
        }
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

    // Built by the official SDK's counterpart: eth_abi 6.0.0
    //   encode(['address','bytes','bytes'], ['0x0BA5ED0c6AA8c49038F819E587E2633c4A9F428a', SDK_CALLDATA, b'\xaa'*32 + b'\xbb'*32 + b'\x1b'])
    //   + x402.mechanisms.evm.constants.ERC6492_MAGIC_VALUE   (x402 2.25.0)
    // and parsed by x402 2.25.0 `erc6492.parse_erc6492_signature` into exactly those three fields.
    const SDK_WRAPPED: &str = "0000000000000000000000000ba5ed0c6aa8c49038f819e587e2633c4a9f428a0000000000000000000000000000000000000000000000000000000000000060000000000000000000000000000000000000000000000000000000000000016000000000000000000000000000000000000000000000000000000000000000c43ffba36f00000000000000000000000000000000000000000000000000000000000000400000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000100000000000000000000000000000000000000000000000000000000000000200000000000000000000000000000000000000000000000000000000000000020000000000000000000000000857b06519e91e3a54538791bdbb0e22373e36b66000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000041aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb1b000000000000000000000000000000000000000000000000000000000000006492649264926492649264926492649264926492649264926492649264926492";
    // eth_abi 6.0.0: selector('createAccount(bytes[],uint256)')
    //   + encode(['bytes[]','uint256'], [[encode(['address'], ['0x857b06519E91e3A54538791bDbb0E22373e36b66'])], 0])
    const SDK_CALLDATA: &str = "3ffba36f00000000000000000000000000000000000000000000000000000000000000400000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000100000000000000000000000000000000000000000000000000000000000000200000000000000000000000000000000000000000000000000000000000000020000000000000000000000000857b06519e91e3a54538791bdbb0e22373e36b66";

    // Produced by our `wrap_erc6492(0x4e59b44847b379578588920cA78FbF26c0B4956C, 0xdeadbeef*9 ‖ 0x01, bytes(range(130)))`;
    // x402 2.25.0 `parse_erc6492_signature` returns factory 4e59…956c, that 37-byte calldata and
    // that 130-byte inner signature; `has_deployment_info` is True.
    const OURS_WITH_FACTORY: &str = "0000000000000000000000004e59b44847b379578588920ca78fbf26c0b4956c000000000000000000000000000000000000000000000000000000000000006000000000000000000000000000000000000000000000000000000000000000c00000000000000000000000000000000000000000000000000000000000000025deadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeef010000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000082000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f80810000000000000000000000000000000000000000000000000000000000006492649264926492649264926492649264926492649264926492649264926492";
    // Produced by our `wrap_erc6492(0x0, b'', b'\x11'*65)`; x402 2.25.0 parses it to a zero factory,
    // empty calldata and the 65-byte inner signature; `has_deployment_info` is False.
    const OURS_NO_FACTORY: &str = "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000600000000000000000000000000000000000000000000000000000000000000080000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000411111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111000000000000000000000000000000000000000000000000000000000000006492649264926492649264926492649264926492649264926492649264926492";

    // eth_abi 6.0.0: selector('isValidSignature(bytes32,bytes)')
    //   + encode(['bytes32','bytes'], [DIGEST, bytes(range(0x40, 0x81))])
    const IVS_CALL: &str = "1626ba7e5f2b0aa9e0d1e4a8c1b2d3e4f5061728394a5b6c7d8e9fa0b1c2d3e4f506172800000000000000000000000000000000000000000000000000000000000000400000000000000000000000000000000000000000000000000000000000000041404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f8000000000000000000000000000000000000000000000000000000000000000";
    // eth_abi 6.0.0: same with an empty signature.
    const IVS_CALL_EMPTY: &str = "1626ba7e5f2b0aa9e0d1e4a8c1b2d3e4f5061728394a5b6c7d8e9fa0b1c2d3e4f506172800000000000000000000000000000000000000000000000000000000000000400000000000000000000000000000000000000000000000000000000000000000";
    const DIGEST: &str = "5f2b0aa9e0d1e4a8c1b2d3e4f5061728394a5b6c7d8e9fa0b1c2d3e4f5061728";

    #[test]
    fn constants() {
        // x402 2.25.0 constants.ERC6492_MAGIC_VALUE / EIP1271_MAGIC_VALUE.
        assert_eq!(hex::encode(ERC6492_MAGIC), "6492".repeat(16));
        assert_eq!(hex::encode(EIP1271_MAGIC), "1626ba7e");
        assert_eq!(
            EIP1271_MAGIC,
            abi::selector("isValidSignature(bytes32,bytes)")
        );
    }

    #[test]
    fn parses_what_the_sdk_builds() {
        let sig = h(SDK_WRAPPED);
        assert!(is_erc6492(&sig));
        let parsed = parse_erc6492(&sig).unwrap().unwrap();
        let mut inner = vec![0xaa; 32];
        inner.extend([0xbb; 32]);
        inner.push(0x1b);
        assert_eq!(
            parsed,
            Erc6492Signature {
                factory: addr("0x0BA5ED0c6AA8c49038F819E587E2633c4A9F428a"),
                factory_calldata: h(SDK_CALLDATA),
                inner,
            }
        );
        assert!(parsed.has_deployment_info());
        assert_eq!(parsed.to_bytes(), sig);
    }

    #[test]
    fn wraps_what_the_sdk_parses() {
        let with_factory = wrap_erc6492(
            &addr("0x4e59b44847b379578588920cA78FbF26c0B4956C"),
            &[[0xde, 0xad, 0xbe, 0xef].repeat(9), vec![0x01]].concat(),
            &(0u8..130).collect::<Vec<_>>(),
        );
        assert_eq!(hex::encode(&with_factory), OURS_WITH_FACTORY);
        let parsed = parse_erc6492(&with_factory).unwrap().unwrap();
        assert_eq!(parsed.factory_calldata.len(), 37);
        assert_eq!(parsed.inner.len(), 130);
        assert!(parsed.has_deployment_info());

        let no_factory = wrap_erc6492(&Address::ZERO, &[], &[0x11; 65]);
        assert_eq!(hex::encode(&no_factory), OURS_NO_FACTORY);
        let parsed = parse_erc6492(&no_factory).unwrap().unwrap();
        assert_eq!(parsed.inner, vec![0x11; 65]);
        assert!(!parsed.has_deployment_info());
        // A factory without call data, or call data without a factory, deploys nothing.
        let half = Erc6492Signature {
            factory: addr("0x4e59b44847b379578588920cA78FbF26c0B4956C"),
            factory_calldata: vec![],
            inner: vec![],
        };
        assert!(!half.has_deployment_info());
        assert_eq!(parse_erc6492(&half.to_bytes()), Some(Ok(half)));
    }

    #[test]
    fn no_magic_is_none() {
        assert_eq!(parse_erc6492(&[]), None);
        assert_eq!(parse_erc6492(&[0x11; 65]), None);
        assert_eq!(parse_erc6492(&ERC6492_MAGIC[1..]), None);
        let mut almost = h(SDK_WRAPPED);
        *almost.last_mut().unwrap() ^= 1;
        assert_eq!(parse_erc6492(&almost), None);
    }

    #[test]
    fn malformed_wrappers_are_errors() {
        // The magic alone (the SDK raises ValueError too).
        assert!(matches!(
            parse_erc6492(&ERC6492_MAGIC),
            Some(Err(AbiError::Truncated { .. }))
        ));
        let good = h(OURS_NO_FACTORY);
        let body = &good[..good.len() - 32];
        let rewrap = |prefix: &[u8]| [prefix, &ERC6492_MAGIC[..]].concat();
        // Factory word with high bits set (the SDK refuses it too).
        let mut dirty = body.to_vec();
        dirty[0] = 1;
        assert_eq!(
            parse_erc6492(&rewrap(&dirty)),
            Some(Err(AbiError::InvalidAddress { at: 0 }))
        );
        // Trailing bytes before the magic: the SDK accepts them, we do not.
        let trailing = [body, &[0u8; 32][..]].concat();
        assert_eq!(
            parse_erc6492(&rewrap(&trailing)),
            Some(Err(AbiError::NonCanonical))
        );
        // Calldata offset into the head.
        let mut into_head = body.to_vec();
        into_head[63] = 0x20;
        assert!(matches!(
            parse_erc6492(&rewrap(&into_head)),
            Some(Err(AbiError::OffsetIntoHead { .. }))
        ));
        // Huge inner length.
        let mut huge = body.to_vec();
        huge[128 + 4] = 0xff;
        assert!(matches!(
            parse_erc6492(&rewrap(&huge)),
            Some(Err(AbiError::LengthOutOfRange { .. }))
        ));
        // Dirty padding after the inner signature.
        let mut pad = body.to_vec();
        *pad.last_mut().unwrap() = 1;
        assert!(matches!(
            parse_erc6492(&rewrap(&pad)),
            Some(Err(AbiError::DirtyPadding { .. }))
        ));
        // A classification never turns a broken wrapper into `Other`.
        assert!(SignatureKind::classify(&rewrap(&pad)).is_err());
    }

    #[test]
    fn classify() {
        assert_eq!(SignatureKind::classify(&[7; 65]), Ok(SignatureKind::Eoa65));
        assert_eq!(
            SignatureKind::classify(&[7; 64]),
            Ok(SignatureKind::Eip2098)
        );
        for len in [0usize, 1, 63, 66, 96, 130, 200] {
            assert_eq!(
                SignatureKind::classify(&vec![7; len]),
                Ok(SignatureKind::Other(vec![7; len]))
            );
        }
        let wrapped = h(OURS_NO_FACTORY);
        assert_eq!(
            SignatureKind::classify(&wrapped),
            Ok(SignatureKind::Erc6492(Erc6492Signature {
                factory: Address::ZERO,
                factory_calldata: vec![],
                inner: vec![0x11; 65],
            }))
        );
        // 64 bytes whose last word is the magic: suffix wins (as on chain), and
        // the 32-byte prefix cannot be a wrapper.
        let tricky = [[0x22u8; 32], ERC6492_MAGIC].concat();
        assert!(SignatureKind::classify(&tricky).is_err());
    }

    #[test]
    fn eip1271_calldata_matches_eth_abi() {
        let digest: [u8; 32] = h(DIGEST).try_into().unwrap();
        let sig: Vec<u8> = (0x40u8..0x81).collect();
        assert_eq!(hex::encode(eip1271_calldata(&digest, &sig)), IVS_CALL);
        assert_eq!(hex::encode(eip1271_calldata(&digest, &[])), IVS_CALL_EMPTY);
        // And it decodes back.
        let call = eip1271_calldata(&digest, &sig);
        assert_eq!(
            abi::decode_canonical(&[ParamType::FixedBytes32, ParamType::Bytes], &call[4..]),
            Ok(vec![Token::FixedBytes32(digest), Token::Bytes(sig)])
        );
    }

    #[test]
    fn eip1271_magic_is_strict() {
        let mut ok = [0u8; 32];
        ok[..4].copy_from_slice(&EIP1271_MAGIC);
        assert!(is_eip1271_magic(&ok));
        // Dirty padding (eth_abi/the SDK refuse it too).
        let mut dirty = ok;
        dirty[31] = 1;
        assert!(!is_eip1271_magic(&dirty));
        // Longer than one word (the SDK and OpenZeppelin's SignatureChecker accept it).
        assert!(!is_eip1271_magic(&[&ok[..], &[0u8; 32][..]].concat()));
        // Bare bytes4, short data, empty, wrong value, right-aligned magic.
        assert!(!is_eip1271_magic(&EIP1271_MAGIC));
        assert!(!is_eip1271_magic(&ok[..31]));
        assert!(!is_eip1271_magic(&[]));
        assert!(!is_eip1271_magic(&[0u8; 32]));
        let mut right = [0u8; 32];
        right[28..].copy_from_slice(&EIP1271_MAGIC);
        assert!(!is_eip1271_magic(&right));
        let mut wrong = ok;
        wrong[3] = 0x7f;
        assert!(!is_eip1271_magic(&wrong));
    }

    #[test]
    fn factory_allow_list_defaults_to_deny() {
        let f = addr("0x0BA5ED0c6AA8c49038F819E587E2633c4A9F428a");
        let empty = FactoryAllowList::default();
        assert!(empty.is_empty());
        assert!(!empty.allows(&f));
        assert!(!FactoryAllowList::new().allows(&Address::ZERO));

        let mut list = FactoryAllowList::new();
        assert!(list.insert(f));
        assert!(!list.insert(f));
        assert!(list.allows(&f));
        assert!(!list.allows(&addr("0x4e59b44847b379578588920cA78FbF26c0B4956C")));
        assert_eq!(list.len(), 1);

        // Any casing that parses is the same address.
        let parsed = FactoryAllowList::parse([
            "0x0ba5ed0c6aa8c49038f819e587e2633c4a9f428a",
            "0x0BA5ED0c6AA8c49038F819E587E2633c4A9F428a",
        ])
        .unwrap();
        assert_eq!(parsed, list);
        // A bad checksum or a malformed entry fails loudly.
        assert!(FactoryAllowList::parse(["0x0BA5ED0c6AA8c49038F819E587E2633c4A9F428A"]).is_err());
        assert!(FactoryAllowList::parse(["0ba5ed0c6aa8c49038f819e587e2633c4a9f428a"]).is_err());
        // The zero address is never a factory, even if listed.
        let zero: FactoryAllowList = [Address::ZERO].into_iter().collect();
        assert!(!zero.allows(&Address::ZERO));
        assert_eq!(zero.iter().count(), 1);
    }
}
