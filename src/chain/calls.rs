//! Call data for the token contract (EIP-3009 / FiatToken v2 and ERC-20
//! views), strict decoders for what those calls return, and decoders for the
//! token's `Transfer`, `AuthorizationUsed` and `AuthorizationCanceled` logs,
//! which confirm a settlement from its receipt. Sans-I/O, built on
//! [`crate::abi`].
//!
//! Return data is decoded with [`abi::decode_canonical`]: exactly one value,
//! no trailing bytes, clean padding (an empty answer — a call to an address
//! without code — is an error, never `false` or `0`).

use crate::abi::{self, selectors, AbiError, ParamType, Token};
use crate::crypto::address::Address;
use crate::crypto::ecdsa::Signature;
use crate::crypto::hexutil::const_hex;
use crate::num::U256;
use crate::x402::types::Authorization;

// ---------------------------------------------------------------------------
// Call data
// ---------------------------------------------------------------------------

fn authorization_head(auth: &Authorization) -> [Token; 6] {
    [
        Token::Address(auth.from),
        Token::Address(auth.to),
        Token::Uint(auth.value),
        Token::Uint(auth.valid_after),
        Token::Uint(auth.valid_before),
        Token::FixedBytes32(auth.nonce),
    ]
}

fn vrs(sig: &Signature) -> [Token; 3] {
    [
        Token::uint(27 + u64::from(sig.y_parity)),
        Token::FixedBytes32(sig.r),
        Token::FixedBytes32(sig.s),
    ]
}

/// `transferWithAuthorization(from, to, value, validAfter, validBefore, nonce,
/// v, r, s)` with v = 27 or 28: the overload for 65-byte EOA signatures.
pub fn transfer_with_authorization_vrs(auth: &Authorization, sig: &Signature) -> Vec<u8> {
    let mut tokens = Vec::with_capacity(9);
    tokens.extend(authorization_head(auth));
    tokens.extend(vrs(sig));
    abi::encode_call(selectors::TRANSFER_WITH_AUTHORIZATION_VRS, &tokens)
}

/// `transferWithAuthorization(from, to, value, validAfter, validBefore, nonce,
/// bytes signature)` (FiatToken v2.2): the overload for smart-wallet (EIP-1271)
/// signatures, passed through unchanged (for ERC-6492, the inner signature).
pub fn transfer_with_authorization_bytes(auth: &Authorization, sig: &[u8]) -> Vec<u8> {
    let mut tokens = Vec::with_capacity(7);
    tokens.extend(authorization_head(auth));
    tokens.push(Token::Bytes(sig.to_vec()));
    abi::encode_call(selectors::TRANSFER_WITH_AUTHORIZATION_BYTES, &tokens)
}

/// `authorizationState(authorizer, nonce)`: whether the nonce is used or canceled.
pub fn authorization_state(authorizer: &Address, nonce: &[u8; 32]) -> Vec<u8> {
    abi::encode_call(
        selectors::AUTHORIZATION_STATE,
        &[Token::Address(*authorizer), Token::FixedBytes32(*nonce)],
    )
}

/// `cancelAuthorization(authorizer, nonce, v, r, s)` with v = 27 or 28.
pub fn cancel_authorization(authorizer: &Address, nonce: &[u8; 32], sig: &Signature) -> Vec<u8> {
    let [v, r, s] = vrs(sig);
    abi::encode_call(
        selectors::CANCEL_AUTHORIZATION,
        &[
            Token::Address(*authorizer),
            Token::FixedBytes32(*nonce),
            v,
            r,
            s,
        ],
    )
}

/// `balanceOf(account)`.
pub fn balance_of(account: &Address) -> Vec<u8> {
    abi::encode_call(selectors::BALANCE_OF, &[Token::Address(*account)])
}

/// `name()`.
pub fn name() -> Vec<u8> {
    selectors::NAME.to_vec()
}

/// `version()`.
pub fn version() -> Vec<u8> {
    selectors::VERSION.to_vec()
}

/// `decimals()`.
pub fn decimals() -> Vec<u8> {
    selectors::DECIMALS.to_vec()
}

/// `isValidSignature(hash, signature)` (EIP-1271), for payers with code.
pub fn is_valid_signature(hash: &[u8; 32], signature: &[u8]) -> Vec<u8> {
    abi::encode_call(
        selectors::IS_VALID_SIGNATURE,
        &[Token::FixedBytes32(*hash), Token::Bytes(signature.to_vec())],
    )
}

// ---------------------------------------------------------------------------
// Return data
// ---------------------------------------------------------------------------

fn decode_one(ty: ParamType, ret: &[u8]) -> Result<Token, AbiError> {
    let mut tokens = abi::decode_canonical(&[ty], ret)?;
    Ok(tokens.pop().expect("one token per type"))
}

/// The `bool` returned by `authorizationState`: true when the nonce is used
/// (or canceled).
pub fn decode_authorization_state(ret: &[u8]) -> Result<bool, AbiError> {
    match decode_one(ParamType::Bool, ret)? {
        Token::Bool(b) => Ok(b),
        _ => unreachable!("decoded as bool"),
    }
}

/// The `uint256` returned by `balanceOf`.
pub fn decode_balance_of(ret: &[u8]) -> Result<U256, AbiError> {
    match decode_one(ParamType::UINT256, ret)? {
        Token::Uint(v) => Ok(v),
        _ => unreachable!("decoded as uint256"),
    }
}

/// The `string` returned by `name()` or `version()` (valid UTF-8; a `bytes32`
/// answer, as some old tokens give, is refused).
pub fn decode_string(ret: &[u8]) -> Result<String, AbiError> {
    match decode_one(ParamType::String, ret)? {
        Token::String(s) => Ok(s),
        _ => unreachable!("decoded as string"),
    }
}

/// The `string` returned by `name()`.
pub fn decode_name(ret: &[u8]) -> Result<String, AbiError> {
    decode_string(ret)
}

/// The `string` returned by `version()`.
pub fn decode_version(ret: &[u8]) -> Result<String, AbiError> {
    decode_string(ret)
}

/// The `uint8` returned by `decimals()`.
pub fn decode_decimals(ret: &[u8]) -> Result<u8, AbiError> {
    match decode_one(ParamType::UINT8, ret)? {
        Token::Uint(v) => Ok(v.0[0] as u8),
        _ => unreachable!("decoded as uint8"),
    }
}

/// The `bytes4` returned by `isValidSignature`: true iff it is the EIP-1271
/// magic value `0x1626ba7e`. Any other well-formed `bytes4` is false; a
/// malformed answer (not exactly one word, non-zero padding) is an error.
pub fn decode_is_valid_signature(ret: &[u8]) -> Result<bool, AbiError> {
    let word: &[u8; 32] = ret.try_into().map_err(|_| {
        if ret.len() < 32 {
            AbiError::Truncated {
                at: 0,
                need: 32,
                have: ret.len(),
            }
        } else {
            AbiError::NonCanonical
        }
    })?;
    if word[4..].iter().any(|&b| b != 0) {
        return Err(AbiError::DirtyPadding { at: 4 });
    }
    Ok(word[..4] == selectors::IS_VALID_SIGNATURE)
}

/// The signature part of `transferWithAuthorization` call data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthorizationSignature {
    /// The `(v, r, s)` overload.
    Vrs(Signature),
    /// The `bytes` overload.
    Bytes(Vec<u8>),
}

/// Why `transferWithAuthorization` call data was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallDataError {
    #[error("call data is {0} bytes, shorter than a selector")]
    TooShort(usize),
    #[error("selector 0x{} is not transferWithAuthorization", crate::crypto::hexutil::encode_0x(.0).trim_start_matches("0x"))]
    WrongSelector([u8; 4]),
    #[error("transferWithAuthorization v must be 27 or 28, got {0}")]
    BadV(u8),
    #[error(transparent)]
    Abi(#[from] AbiError),
}

/// Decodes `transferWithAuthorization` call data of either overload (e.g. the
/// input of a transaction found on chain), canonically encoded.
pub fn decode_transfer_with_authorization(
    calldata: &[u8],
) -> Result<(Authorization, AuthorizationSignature), CallDataError> {
    use ParamType as P;
    const HEAD: [ParamType; 6] = [
        P::Address,
        P::Address,
        P::UINT256,
        P::UINT256,
        P::UINT256,
        P::FixedBytes32,
    ];
    let (sel, body) = calldata
        .split_first_chunk::<4>()
        .ok_or(CallDataError::TooShort(calldata.len()))?;
    let mut types = HEAD.to_vec();
    match *sel {
        selectors::TRANSFER_WITH_AUTHORIZATION_VRS => {
            types.extend([P::UINT8, P::FixedBytes32, P::FixedBytes32])
        }
        selectors::TRANSFER_WITH_AUTHORIZATION_BYTES => types.push(P::Bytes),
        other => return Err(CallDataError::WrongSelector(other)),
    }
    let tokens = abi::decode_canonical(&types, body)?;
    let uint = |i: usize| match &tokens[i] {
        Token::Uint(v) => *v,
        _ => unreachable!("decoded as uint"),
    };
    let word = |i: usize| match &tokens[i] {
        Token::FixedBytes32(w) => *w,
        _ => unreachable!("decoded as bytes32"),
    };
    let address = |i: usize| match &tokens[i] {
        Token::Address(a) => *a,
        _ => unreachable!("decoded as address"),
    };
    let auth = Authorization {
        from: address(0),
        to: address(1),
        value: uint(2),
        valid_after: uint(3),
        valid_before: uint(4),
        nonce: word(5),
    };
    let sig = match &tokens[6] {
        Token::Bytes(b) => AuthorizationSignature::Bytes(b.clone()),
        _ => {
            let v = uint(6).0[0] as u8;
            let y_parity = match v {
                27 => false,
                28 => true,
                v => return Err(CallDataError::BadV(v)),
            };
            AuthorizationSignature::Vrs(Signature {
                r: word(7),
                s: word(8),
                y_parity,
            })
        }
    };
    Ok((auth, sig))
}

// ---------------------------------------------------------------------------
// Logs
// ---------------------------------------------------------------------------

/// `keccak256("Transfer(address,address,uint256)")`.
pub const TRANSFER_TOPIC: [u8; 32] =
    const_hex("ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef");
/// `keccak256("AuthorizationUsed(address,bytes32)")` (EIP-3009).
pub const AUTHORIZATION_USED_TOPIC: [u8; 32] =
    const_hex("98de503528ee59b575ef0c0a2576a82497bfc029a5685b209e9ec333479b10a5");
/// `keccak256("AuthorizationCanceled(address,bytes32)")` (EIP-3009).
pub const AUTHORIZATION_CANCELED_TOPIC: [u8; 32] =
    const_hex("1cdd46ff242716cdaa72d159d339a485b3438398348d68f09d7c8c0a59353d81");

/// topic0 of `Transfer(address indexed from, address indexed to, uint256 value)`.
pub fn transfer_event_topic() -> [u8; 32] {
    TRANSFER_TOPIC
}

/// topic0 of `AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce)`.
pub fn authorization_used_event_topic() -> [u8; 32] {
    AUTHORIZATION_USED_TOPIC
}

/// topic0 of `AuthorizationCanceled(address indexed authorizer, bytes32 indexed nonce)`.
pub fn authorization_canceled_event_topic() -> [u8; 32] {
    AUTHORIZATION_CANCELED_TOPIC
}

/// An ERC-20 `Transfer` log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransferEvent {
    pub from: Address,
    pub to: Address,
    pub value: U256,
}

/// An EIP-3009 `AuthorizationUsed` or `AuthorizationCanceled` log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthorizationEvent {
    pub authorizer: Address,
    pub nonce: [u8; 32],
}

/// Why a log whose topic0 names an event does not have that event's shape.
/// The emitting contract's address is not seen here: callers must check it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    #[error("{event} log must have {expected} topics, got {got}")]
    TopicCount {
        event: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("{event} log topic {index} is not an address (non-zero high 12 bytes)")]
    AddressTopic { event: &'static str, index: usize },
    #[error("{event} log data must be {expected} bytes, got {got}")]
    DataLength {
        event: &'static str,
        expected: usize,
        got: usize,
    },
}

/// Checks topic0 and the topic count; `None` when topic0 is another event's.
fn match_event(
    topics: &[[u8; 32]],
    topic0: &[u8; 32],
    event: &'static str,
    count: usize,
) -> Result<bool, LogError> {
    if topics.first() != Some(topic0) {
        return Ok(false);
    }
    if topics.len() != count {
        return Err(LogError::TopicCount {
            event,
            expected: count,
            got: topics.len(),
        });
    }
    Ok(true)
}

fn address_topic(
    topics: &[[u8; 32]],
    index: usize,
    event: &'static str,
) -> Result<Address, LogError> {
    abi::decode_address(&topics[index]).map_err(|_| LogError::AddressTopic { event, index })
}

fn data_length(data: &[u8], expected: usize, event: &'static str) -> Result<(), LogError> {
    if data.len() != expected {
        return Err(LogError::DataLength {
            event,
            expected,
            got: data.len(),
        });
    }
    Ok(())
}

/// Decodes a `Transfer(address,address,uint256)` log: `Ok(None)` when topic0
/// is another event's; an error when topic0 matches but the shape does not
/// (3 topics with clean address words, 32 bytes of data). An ERC-721
/// `Transfer` (4 topics) is such an error.
pub fn decode_transfer_log(
    topics: &[[u8; 32]],
    data: &[u8],
) -> Result<Option<TransferEvent>, LogError> {
    const EVENT: &str = "Transfer";
    if !match_event(topics, &TRANSFER_TOPIC, EVENT, 3)? {
        return Ok(None);
    }
    data_length(data, 32, EVENT)?;
    let mut word = [0u8; 32];
    word.copy_from_slice(data);
    Ok(Some(TransferEvent {
        from: address_topic(topics, 1, EVENT)?,
        to: address_topic(topics, 2, EVENT)?,
        value: U256::from_be_bytes(&word),
    }))
}

fn decode_authorization_log(
    topics: &[[u8; 32]],
    data: &[u8],
    topic0: &[u8; 32],
    event: &'static str,
) -> Result<Option<AuthorizationEvent>, LogError> {
    if !match_event(topics, topic0, event, 3)? {
        return Ok(None);
    }
    data_length(data, 0, event)?;
    Ok(Some(AuthorizationEvent {
        authorizer: address_topic(topics, 1, event)?,
        nonce: topics[2],
    }))
}

/// Decodes an `AuthorizationUsed(address,bytes32)` log (both indexed, no data);
/// `Ok(None)` when topic0 is another event's.
pub fn decode_authorization_used_log(
    topics: &[[u8; 32]],
    data: &[u8],
) -> Result<Option<AuthorizationEvent>, LogError> {
    decode_authorization_log(topics, data, &AUTHORIZATION_USED_TOPIC, "AuthorizationUsed")
}

/// Decodes an `AuthorizationCanceled(address,bytes32)` log (both indexed, no
/// data); `Ok(None)` when topic0 is another event's.
pub fn decode_authorization_canceled_log(
    topics: &[[u8; 32]],
    data: &[u8],
) -> Result<Option<AuthorizationEvent>, LogError> {
    decode_authorization_log(
        topics,
        data,
        &AUTHORIZATION_CANCELED_TOPIC,
        "AuthorizationCanceled",
    )
}

// ---------------------------------------------------------------------------
// Multicall3 (simulating an ERC-6492 deployment and the transfer in one call)
// ---------------------------------------------------------------------------

/// Multicall3's address, the same on every chain that has it.
pub const MULTICALL3: Address = Address(const_hex("ca11bde05977b3631167028862be2a173976ca11"));
/// `aggregate3((address,bool,bytes)[])`
const AGGREGATE3: [u8; 4] = [0x82, 0xad, 0x56, 0xcb];

/// One call of [`aggregate3`]: target, whether it may fail, call data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call3 {
    pub target: Address,
    pub allow_failure: bool,
    pub data: Vec<u8>,
}

fn padded_len(n: usize) -> usize {
    n.div_ceil(32) * 32
}

fn word_usize(v: usize) -> [u8; 32] {
    U256::from_u64(v as u64).to_be_bytes()
}

/// Call data of Multicall3 `aggregate3(calls)`.
pub fn aggregate3(calls: &[Call3]) -> Vec<u8> {
    let mut out = AGGREGATE3.to_vec();
    out.extend(word_usize(32));
    out.extend(word_usize(calls.len()));
    // Each element: address, bool, offset of bytes (0x60), length, padded data.
    let mut offset = 32 * calls.len();
    for c in calls {
        out.extend(word_usize(offset));
        offset += 32 * 4 + padded_len(c.data.len());
    }
    for c in calls {
        out.extend(c.target.to_word());
        out.extend(U256::from_u64(u64::from(c.allow_failure)).to_be_bytes());
        out.extend(word_usize(96));
        out.extend(word_usize(c.data.len()));
        out.extend(&c.data);
        out.resize(out.len() + padded_len(c.data.len()) - c.data.len(), 0);
    }
    out
}

/// What `aggregate3` returns: `(bool success, bytes returnData)[]`.
pub fn decode_aggregate3(ret: &[u8]) -> Result<Vec<(bool, Vec<u8>)>, AbiError> {
    let bad = |what: &str| AbiError::Malformed(format!("aggregate3 result: {what}"));
    let word = |at: usize| -> Result<&[u8; 32], AbiError> {
        ret.get(at..at.checked_add(32).ok_or_else(|| bad("offset overflow"))?)
            .and_then(|w| w.try_into().ok())
            .ok_or_else(|| bad("truncated"))
    };
    let small = |at: usize| -> Result<usize, AbiError> {
        let w = word(at)?;
        if w[..24].iter().any(|&b| b != 0) {
            return Err(bad("offset or length out of range"));
        }
        let v = u64::from_be_bytes(w[24..].try_into().unwrap_or_default());
        usize::try_from(v).map_err(|_| bad("offset out of range"))
    };
    let array = small(0)?;
    let n = small(array)?;
    if n > ret.len() / 32 {
        return Err(bad("length exceeds the data"));
    }
    let base = array + 32;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let elem = base
            .checked_add(small(base + 32 * i)?)
            .ok_or_else(|| bad("offset overflow"))?;
        let success = abi::decode_bool(word(elem)?)?;
        let data_at = elem
            .checked_add(small(elem + 32)?)
            .ok_or_else(|| bad("offset overflow"))?;
        let len = small(data_at)?;
        let start = data_at + 32;
        let data = ret
            .get(
                start
                    ..start
                        .checked_add(len)
                        .ok_or_else(|| bad("length overflow"))?,
            )
            .ok_or_else(|| bad("returnData truncated"))?;
        out.push((success, data.to_vec()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
