//! On-chain verification of an `exact` EIP-3009 payment, on top of the local
//! checks: smart-wallet signatures (EIP-1271; ERC-6492 with allow-listed
//! factories only), an `eth_call` (or `eth_estimateGas`) simulation of
//! `transferWithAuthorization` from the facilitator, and — when that fails —
//! a diagnosis (`authorizationState`, `name()`, `version()`, `balanceOf`) that
//! picks the official reason string.

use crate::abi::RevertReason;
use crate::chain::calls::{self, Call3, MULTICALL3};
use crate::chain::rpc::{BlockTag, CallRequest, RpcClient, RpcError};
use crate::crypto::address::Address;
use crate::crypto::ecdsa::Signature;
use crate::num::U256;
use crate::text;
use crate::x402::payment;
use crate::x402::permit2::Permit2Kind;
use crate::x402::reason;
use crate::x402::schemes::exact::eip3009::TokenDomain;
use crate::x402::smart_wallet::{self, FactoryAllowList, SignatureKind};
use crate::x402::types::{Authorization, PaymentPayload, Requirements, SchemePayload};
use crate::x402::verify::{ReplayKey, Verdict, VerifyOptions};

/// How the token will be called for this signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignatureForm {
    /// 65-byte EOA signature: the `(v, r, s)` overload.
    Vrs(Signature),
    /// A contract (EIP-1271) signature: the `bytes` overload.
    Bytes(Vec<u8>),
    /// ERC-6492: deploy the wallet through an allow-listed factory first, then
    /// the `bytes` overload with the inner signature.
    Deploy {
        factory: Address,
        calldata: Vec<u8>,
        inner: Vec<u8>,
    },
}

/// A payment that passed every check.
#[derive(Clone, Debug)]
pub struct Checked {
    pub auth: Authorization,
    pub form: SignatureForm,
    pub key: ReplayKey,
    pub domain: TokenDomain,
    /// The EIP-712 digest the payer signed.
    pub digest: [u8; 32],
    /// `eth_estimateGas` of the transfer, when simulated that way.
    pub gas: Option<u64>,
}

impl Checked {
    /// Call data of the settling `transferWithAuthorization`.
    pub fn transfer_calldata(&self) -> Vec<u8> {
        match &self.form {
            SignatureForm::Vrs(sig) => calls::transfer_with_authorization_vrs(&self.auth, sig),
            SignatureForm::Bytes(sig) | SignatureForm::Deploy { inner: sig, .. } => {
                calls::transfer_with_authorization_bytes(&self.auth, sig)
            }
        }
    }
}

/// Why a payment is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub reason: &'static str,
    pub message: String,
    pub payer: Option<Address>,
    /// The chain could not be asked (RPC down, timeout): nothing is known about
    /// the payment itself.
    pub unavailable: bool,
}

impl Refusal {
    fn new(reason: &'static str, message: impl Into<String>, payer: Option<Address>) -> Self {
        Refusal {
            reason,
            message: message.into(),
            payer,
            unavailable: false,
        }
    }

    fn rpc(err: &RpcError, payer: Option<Address>) -> Self {
        Refusal {
            reason: reason::UNEXPECTED_VERIFY_ERROR,
            message: format!("chain unavailable: {err}"),
            payer,
            unavailable: true,
        }
    }
}

/// How the transfer is simulated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Simulation {
    /// `eth_call` (verify).
    Call,
    /// `eth_estimateGas`: simulates and sizes the transaction in one request (settle).
    EstimateGas,
}

/// What the facilitator brings to a check.
pub struct CheckContext<'a> {
    pub rpc: &'a RpcClient,
    /// The facilitator's sending address (the simulated caller).
    pub facilitator: Address,
    pub factories: &'a FactoryAllowList,
    pub options: VerifyOptions,
}

/// Local verification, then the chain (see the module docs).
pub async fn check(
    cx: &CheckContext<'_>,
    payload: &PaymentPayload,
    requirements: &Requirements,
    simulation: Simulation,
) -> Result<Checked, Refusal> {
    let checked = authenticate(cx, payload, requirements).await?;
    simulated(cx, checked, requirements, simulation).await
}

/// Every check but the simulation: the terms, and the signature (locally for an
/// EOA; EIP-1271 on chain for a deployed wallet). An ERC-6492 signature of an
/// undeployed wallet is only checked by the simulation, which deploys it.
pub async fn authenticate(
    cx: &CheckContext<'_>,
    payload: &PaymentPayload,
    requirements: &Requirements,
) -> Result<Checked, Refusal> {
    if Permit2Kind::of(requirements).is_some() {
        return Err(Refusal::new(
            reason::UNSUPPORTED_SCHEME,
            "this facilitator settles `exact` over EIP-3009 only (Permit2 and upto are not settled)",
            payload.payer(),
        ));
    }
    let local = payment::verify_payment(payload, requirements, &cx.options);
    let SchemePayload::Eip3009 {
        authorization: auth,
        signature,
    } = &payload.payload
    else {
        return Err(Refusal::new(
            reason::INVALID_PAYLOAD,
            "payload must be {authorization, signature}",
            None,
        ));
    };
    let payer = Some(auth.from);
    let refuse = |reason, message: String| Refusal::new(reason, message, payer);
    if auth.value == U256::ZERO {
        // Settling it would spend gas to move nothing.
        return Err(refuse(
            reason::INVALID_PAYMENT_REQUIREMENTS,
            "amount 0: an `exact` payment must move a positive amount".into(),
        ));
    }
    let (Some(key), Some(digest)) = (local.replay_key, local.digest) else {
        return Err(match local.verdict {
            Verdict::Invalid { reason, message } => refuse(reason, message),
            _ => refuse(
                reason::INVALID_PAYLOAD,
                "payment could not be checked".into(),
            ),
        });
    };
    let form = match local.verdict {
        Verdict::Valid => SignatureForm::Vrs(
            Signature::from_bytes(signature)
                .map_err(|e| refuse(reason::INVALID_SIGNATURE, e.to_string()))?,
        ),
        Verdict::Invalid { reason: r, message } => {
            // A 65-byte signature that does not recover to `from` may still be
            // a contract wallet's: only if `from` has code.
            if r == reason::INVALID_SIGNATURE
                && signature.len() == 65
                && has_code(cx.rpc, &auth.from)
                    .await
                    .map_err(|e| Refusal::rpc(&e, payer))?
            {
                eip1271(cx, &auth.from, &digest, signature, payer).await?;
                SignatureForm::Bytes(signature.clone())
            } else {
                return Err(refuse(r, message));
            }
        }
        Verdict::NeedsChain { .. } => {
            smart_wallet_form(cx, &auth.from, &digest, signature, payer).await?
        }
    };
    let domain =
        TokenDomain::from_requirements(requirements).map_err(|e| refuse(e.reason, e.message))?;
    Ok(Checked {
        auth: auth.clone(),
        form,
        key,
        domain,
        digest,
        gas: None,
    })
}

/// The simulation of an authenticated payment, diagnosed if it fails.
pub async fn simulated(
    cx: &CheckContext<'_>,
    mut checked: Checked,
    requirements: &Requirements,
    simulation: Simulation,
) -> Result<Checked, Refusal> {
    let payer = Some(checked.auth.from);
    let refuse = |reason, message: String| Refusal::new(reason, message, payer);
    match simulate(cx, &checked, requirements, simulation).await {
        Ok(gas) => {
            checked.gas = gas;
            Ok(checked)
        }
        Err(SimFailure::Rpc(e)) => Err(Refusal::rpc(&e, payer)),
        Err(SimFailure::NotPayersWallet) => Err(refuse(
            reason::INVALID_SIGNATURE,
            format!(
                "the ERC-6492 deployment does not give {} a wallet that accepts the signature",
                checked.auth.from
            ),
        )),
        Err(SimFailure::Reverted(revert)) => {
            let (reason, message) = diagnose(cx, &checked, requirements, &revert).await;
            Err(refuse(reason, message))
        }
    }
}

/// Whether `who` has contract code (latest block).
pub(crate) async fn has_code(rpc: &RpcClient, who: &Address) -> Result<bool, RpcError> {
    Ok(!rpc.get_code(who, BlockTag::Latest).await?.is_empty())
}

/// EIP-1271: `from.isValidSignature(digest, signature)` must return the magic value.
async fn eip1271(
    cx: &CheckContext<'_>,
    wallet: &Address,
    digest: &[u8; 32],
    signature: &[u8],
    payer: Option<Address>,
) -> Result<(), Refusal> {
    let call = CallRequest::new(*wallet, smart_wallet::eip1271_calldata(digest, signature));
    let refuse = |message: String| Refusal::new(reason::FAILED_TO_VERIFY_SIGNATURE, message, payer);
    match cx.rpc.call(&call, BlockTag::Latest).await {
        Ok(ret) if smart_wallet::is_eip1271_magic(&ret) => Ok(()),
        Ok(_) => Err(refuse(format!(
            "wallet {wallet} did not accept the signature (EIP-1271)"
        ))),
        Err(RpcError::Reverted { reason, .. }) => Err(refuse(format!(
            "wallet {wallet} reverted isValidSignature: {reason}"
        ))),
        Err(e) => Err(Refusal::rpc(&e, payer)),
    }
}

async fn smart_wallet_form(
    cx: &CheckContext<'_>,
    from: &Address,
    digest: &[u8; 32],
    signature: &[u8],
    payer: Option<Address>,
) -> Result<SignatureForm, Refusal> {
    let refuse = |reason, message: String| Refusal::new(reason, message, payer);
    let kind = SignatureKind::classify(signature)
        .map_err(|e| refuse(reason::INVALID_SIGNATURE, format!("ERC-6492 wrapper: {e}")))?;
    let deployed = has_code(cx.rpc, from)
        .await
        .map_err(|e| Refusal::rpc(&e, payer))?;
    match kind {
        SignatureKind::Erc6492(wrapper) if deployed => {
            eip1271(cx, from, digest, &wrapper.inner, payer).await?;
            Ok(SignatureForm::Bytes(wrapper.inner))
        }
        SignatureKind::Erc6492(wrapper) if wrapper.has_deployment_info() => {
            if !cx.factories.allows(&wrapper.factory) {
                return Err(refuse(
                    reason::FACTORY_NOT_ALLOWED,
                    format!(
                        "ERC-6492 factory {} is not allow-listed (default deny)",
                        wrapper.factory
                    ),
                ));
            }
            // Authenticated now, before any ledger is touched: a simulated
            // deployment must give `from` a wallet that accepts the inner
            // signature (the settle simulation checks it again with the transfer).
            erc6492_accepts(cx, from, digest, &wrapper, payer).await?;
            Ok(SignatureForm::Deploy {
                factory: wrapper.factory,
                calldata: wrapper.factory_calldata,
                inner: wrapper.inner,
            })
        }
        SignatureKind::Erc6492(_) => Err(refuse(
            reason::UNDEPLOYED_SMART_WALLET,
            format!("{from} has no code and the ERC-6492 wrapper cannot deploy it"),
        )),
        SignatureKind::Eip2098 => Err(refuse(
            reason::INVALID_SIGNATURE,
            "64-byte (EIP-2098) signatures are not accepted by EIP-3009 tokens".into(),
        )),
        SignatureKind::Eoa65 | SignatureKind::Other(_) if deployed => {
            eip1271(cx, from, digest, signature, payer).await?;
            Ok(SignatureForm::Bytes(signature.to_vec()))
        }
        SignatureKind::Eoa65 | SignatureKind::Other(_) => Err(refuse(
            reason::UNDEPLOYED_SMART_WALLET,
            format!(
                "{}-byte signature from {from}, which has no code",
                signature.len()
            ),
        )),
    }
}

/// ERC-6492 for an undeployed wallet: one simulated call through Multicall3
/// deploys it with the wrapper's factory call, then asks `from` (not whatever
/// the factory made) `isValidSignature(digest, inner)`.
async fn erc6492_accepts(
    cx: &CheckContext<'_>,
    from: &Address,
    digest: &[u8; 32],
    wrapper: &smart_wallet::Erc6492Signature,
    payer: Option<Address>,
) -> Result<(), Refusal> {
    let data = calls::aggregate3(&[
        Call3 {
            target: wrapper.factory,
            allow_failure: false,
            data: wrapper.factory_calldata.clone(),
        },
        Call3 {
            target: *from,
            allow_failure: true,
            data: smart_wallet::eip1271_calldata(digest, &wrapper.inner),
        },
    ]);
    let call = CallRequest::new(MULTICALL3, data).from(cx.facilitator);
    let refuse = |message: String| Refusal::new(reason::INVALID_SIGNATURE, message, payer);
    let ret = match cx.rpc.call(&call, BlockTag::Latest).await {
        Ok(ret) => ret,
        Err(RpcError::Reverted { reason, .. }) => {
            return Err(refuse(format!(
                "the ERC-6492 deployment of {from} reverts: {reason}"
            )))
        }
        Err(e) => return Err(Refusal::rpc(&e, payer)),
    };
    match calls::decode_aggregate3(&ret).as_deref() {
        Ok([_, (true, magic)]) if smart_wallet::is_eip1271_magic(magic) => Ok(()),
        _ => Err(refuse(format!(
            "the ERC-6492 deployment does not give {from} a wallet that accepts the signature"
        ))),
    }
}

enum SimFailure {
    Rpc(RpcError),
    /// The ERC-6492 deployment does not yield a wallet at `from` that accepts
    /// the signature.
    NotPayersWallet,
    /// The transfer would revert (the decoded reason, if any).
    Reverted(Option<RevertReason>),
}

async fn simulate(
    cx: &CheckContext<'_>,
    checked: &Checked,
    requirements: &Requirements,
    simulation: Simulation,
) -> Result<Option<u64>, SimFailure> {
    let token = requirements.asset;
    let transfer = checked.transfer_calldata();
    let classify = |e: RpcError| match e {
        RpcError::Reverted { reason, .. } => SimFailure::Reverted(Some(reason)),
        e => SimFailure::Rpc(e),
    };
    if let SignatureForm::Deploy {
        factory,
        calldata,
        inner,
    } = &checked.form
    {
        // Deploy, then ask the *payer* (ERC-6492: the deployment must put at
        // `from` a wallet that accepts the signature), then transfer: one
        // simulated call through Multicall3.
        let from = checked.auth.from;
        let data = calls::aggregate3(&[
            Call3 {
                target: *factory,
                allow_failure: false,
                data: calldata.clone(),
            },
            Call3 {
                target: from,
                allow_failure: true,
                data: smart_wallet::eip1271_calldata(&checked.digest, inner),
            },
            Call3 {
                target: token,
                allow_failure: true,
                data: transfer,
            },
        ]);
        let call = CallRequest::new(MULTICALL3, data).from(cx.facilitator);
        let ret = cx
            .rpc
            .call(&call, BlockTag::Latest)
            .await
            .map_err(classify)?;
        return match calls::decode_aggregate3(&ret).as_deref() {
            Ok([_, (true, magic), (true, _)]) if smart_wallet::is_eip1271_magic(magic) => Ok(None),
            Ok([_, _, (true, _)]) => Err(SimFailure::NotPayersWallet),
            Ok([_, _, (false, data)]) => Err(SimFailure::Reverted(
                crate::abi::decode_revert_reason(data).ok(),
            )),
            _ => Err(SimFailure::Reverted(None)),
        };
    }
    let call = CallRequest::new(token, transfer).from(cx.facilitator);
    match simulation {
        Simulation::Call => {
            cx.rpc
                .call(&call, BlockTag::Latest)
                .await
                .map_err(classify)?;
            Ok(None)
        }
        Simulation::EstimateGas => Ok(Some(cx.rpc.estimate_gas(&call).await.map_err(classify)?)),
    }
}

/// The most specific reason for a failed simulation, in the official order:
/// EIP-3009 missing, nonce used, token name, token version, balance; then the
/// revert string; else `transaction_simulation_failed`.
async fn diagnose(
    cx: &CheckContext<'_>,
    checked: &Checked,
    requirements: &Requirements,
    revert: &Option<RevertReason>,
) -> (&'static str, String) {
    let token = requirements.asset;
    let auth = &checked.auth;
    let read = |data: Vec<u8>| {
        let call = CallRequest::new(token, data);
        async move { cx.rpc.call(&call, BlockTag::Latest).await }
    };
    let (state, name, version, balance) = tokio::join!(
        read(calls::authorization_state(&auth.from, &auth.nonce)),
        read(calls::name()),
        read(calls::version()),
        read(calls::balance_of(&auth.from)),
    );
    let reverted = revert
        .as_ref()
        .map_or_else(|| "reverted".to_owned(), |r| format!("reverted: {r}"));
    match state.map(|r| calls::decode_authorization_state(&r)) {
        Ok(Ok(true)) => {
            return (
                reason::NONCE_ALREADY_USED,
                format!("authorization nonce of {} is already used", auth.from),
            )
        }
        Ok(Ok(false)) => {}
        Ok(Err(_)) | Err(RpcError::Reverted { .. }) => {
            return (
                reason::EIP3009_NOT_SUPPORTED,
                format!("token {token} has no EIP-3009 authorizationState"),
            )
        }
        Err(_) => {}
    }
    if let Ok(Ok(name)) = name.map(|r| calls::decode_name(&r)) {
        if name != checked.domain.name {
            return (
                reason::TOKEN_NAME_MISMATCH,
                format!(
                    "token name() is \"{}\", extra.name is {:?}",
                    text::bounded(&name),
                    checked.domain.name
                ),
            );
        }
    }
    if let Ok(Ok(version)) = version.map(|r| calls::decode_version(&r)) {
        if version != checked.domain.version {
            return (
                reason::TOKEN_VERSION_MISMATCH,
                format!(
                    "token version() is \"{}\", extra.version is {:?}",
                    text::bounded(&version),
                    checked.domain.version
                ),
            );
        }
    }
    if let Ok(Ok(balance)) = balance.map(|r| calls::decode_balance_of(&r)) {
        if balance < auth.value {
            return (
                reason::INSUFFICIENT_BALANCE,
                format!(
                    "{} holds {balance}, the payment is {}",
                    auth.from, auth.value
                ),
            );
        }
    }
    let text = revert
        .as_ref()
        .map(|r| r.to_string().to_ascii_lowercase())
        .unwrap_or_default();
    let reason = if text.contains("authorization is expired") {
        reason::VALID_BEFORE
    } else if text.contains("authorization is not yet valid") {
        reason::VALID_AFTER
    } else if text.contains("invalid signature") {
        reason::INVALID_SIGNATURE
    } else {
        reason::TRANSACTION_SIMULATION_FAILED
    };
    (
        reason,
        format!("simulated transferWithAuthorization {reverted}"),
    )
}
