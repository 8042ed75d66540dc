//! The facilitator: verify and settle `exact` EIP-3009 payments on one EVM
//! chain, exactly once per authorization (see [`super::ledger`]).
//!
//! Settlement: local checks, then `eth_estimateGas` of the transfer (the
//! simulation and the gas size in one request), then a transaction signed by
//! the facilitator key with a nonce from the [`NonceManager`], recorded as
//! pending *before* it is broadcast, sent once, and followed to its receipt
//! (status and the expected `Transfer` log checked). A transaction whose fate
//! is unknown (timeout, lost connection, no receipt by the deadline) stays
//! pending and is reconciled — by receipt, by the sender's nonce, by the
//! authorization's state on chain — never re-signed; only its identical bytes
//! may be sent again.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

use super::ledger::{Claim, ClaimGuard, Held, Ledger, Outcome, PendingTx, SentTx, Settled};
use super::onchain::{self, CheckContext, Checked, Refusal, SignatureForm, Simulation};
use super::request::FacilitatorRequest;

mod outcome;
use crate::chain::calls;
use crate::chain::fees::{FeeError, FeePolicy, Fees};
use crate::chain::nonce::{Disposition, NonceManager};
use crate::chain::rpc::{BlockTag, CallRequest, Log, Receipt, RpcClient, RpcConfig, RpcError};
use crate::chain::tx::{Eip1559Tx, SignedTx, TxError};
use crate::crypto::address::Address;
use crate::crypto::ecdsa::SecretKey;
use crate::crypto::hexutil;
use crate::num::U256;
use crate::text::{self, MESSAGE_MAX_BYTES};
use crate::x402::networks::Network;
use crate::x402::reason;
use crate::x402::smart_wallet::FactoryAllowList;
use crate::x402::types::{
    Authorization, Requirements, SchemePayload, SettleResponse, SupportedKind, SupportedResponse,
    VerifyResponse,
};
use crate::x402::verify::{ReplayKey, VerifyOptions, DEFAULT_SKEW, MIN_VALIDITY_LEFT};

/// How a facilitator runs.
#[derive(Clone, Debug)]
pub struct FacilitatorConfig {
    pub network: Network,
    pub rpc: RpcConfig,
    pub fees: FeePolicy,
    /// How long a settle waits for the receipt before answering "pending".
    pub receipt_timeout: Duration,
    pub receipt_poll: Duration,
    pub factories: FactoryAllowList,
    pub skew_seconds: u64,
    /// How far back a used authorization is looked up by its log.
    pub log_lookback_blocks: u64,
    /// Blocks per `eth_getLogs` request (providers cap the range).
    pub log_range_blocks: u64,
    /// The settlement journal (pending and settled records survive restarts).
    pub journal: Option<PathBuf>,
}

impl FacilitatorConfig {
    pub fn new(network: Network) -> Self {
        FacilitatorConfig {
            network,
            rpc: RpcConfig::default(),
            fees: FeePolicy::default(),
            receipt_timeout: Duration::from_secs(60),
            receipt_poll: Duration::from_millis(250),
            factories: FactoryAllowList::new(),
            skew_seconds: DEFAULT_SKEW,
            log_lookback_blocks: 100_000,
            log_range_blocks: 10_000,
            journal: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FacilitatorError {
    #[error(transparent)]
    Rpc(#[from] RpcError),
    #[error(transparent)]
    Journal(#[from] super::ledger::JournalError),
    #[error("the RPC serves chain {actual}, the facilitator is configured for {expected}")]
    WrongChain { expected: u64, actual: u64 },
    #[error("invalid fee policy: {0}")]
    Fees(#[from] FeeError),
}

/// The result of a settle request.
#[derive(Clone, Debug)]
pub struct SettleResult {
    pub outcome: Outcome,
    pub payer: Option<Address>,
    /// The network as the requirements named it (v1 name or CAIP-2).
    pub network: String,
}

impl SettleResult {
    /// The wire `SettleResponse`. A pending settlement answers `success:false`
    /// *with* its transaction hash and `settlement_pending` (the official
    /// SDK's word for it; its servers ask again): not a failure, an outcome
    /// still unknown. Messages are bounded ([`bounded`]).
    pub fn response(&self) -> SettleResponse {
        match &self.outcome {
            Outcome::Settled(s) => SettleResponse::settled(s.payer, &s.transaction, &self.network),
            Outcome::Failed { reason, message } => {
                SettleResponse::failed(reason, bounded(message), None, self.payer, &self.network)
            }
            Outcome::Pending { tx, message } => SettleResponse::failed(
                reason::SETTLEMENT_PENDING,
                bounded(&format!("outcome unknown, settlement pending: {message}")),
                Some(&tx.tx_hash),
                self.payer,
                &self.network,
            ),
        }
    }

    /// The HTTP status of the answer: 200, pending included (the official
    /// clients treat any other status as an error and lose the hash).
    pub fn http_status(&self) -> u16 {
        200
    }
}

/// The wire `VerifyResponse` of a check (its message bounded, [`bounded`]).
pub fn verify_response(result: &Result<Checked, Refusal>) -> VerifyResponse {
    match result {
        Ok(c) => VerifyResponse::valid(c.auth.from),
        Err(r) => VerifyResponse::invalid(r.reason, bounded(&r.message), r.payer),
    }
}

/// A message as it leaves the engine: within [`MESSAGE_MAX_BYTES`] (it may
/// quote a contract's revert string or a node's error), so that answers and
/// exceptions stay small.
pub fn bounded(message: &str) -> String {
    if text::is_bounded(message, MESSAGE_MAX_BYTES) {
        message.to_owned()
    } else {
        text::clamp(message, MESSAGE_MAX_BYTES)
    }
}

/// What one reconciliation pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    pub settled: usize,
    pub failed: usize,
    pub still_pending: usize,
}

const FEES_TTL: Duration = Duration::from_secs(2);
/// Attempts with a fresh nonce when the node says the nonce is taken.
const NONCE_ATTEMPTS: usize = 3;

pub struct Facilitator {
    rpc: RpcClient,
    signer: SecretKey,
    address: Address,
    cfg: FacilitatorConfig,
    nonces: NonceManager,
    ledger: std::sync::Arc<Ledger>,
    fees: Mutex<Option<(Instant, Fees)>>,
    chain_ok: OnceCell<()>,
    /// Held from nonce lease to broadcast: transactions reach the node in nonce
    /// order (nodes may refuse or strand a nonce that arrives before its
    /// predecessor). Receipts are awaited outside it, concurrently.
    send_order: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Facilitator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Facilitator")
            .field("address", &self.address)
            .field("network", &self.cfg.network)
            .field("rpc", &self.rpc)
            .finish_non_exhaustive()
    }
}

impl Facilitator {
    /// No I/O yet: the chain id is checked on first use.
    /// `now` (Unix seconds) dates the journal's expired records, if any.
    pub fn new(
        rpc_url: &str,
        signer: SecretKey,
        cfg: FacilitatorConfig,
        now: u64,
    ) -> Result<Self, FacilitatorError> {
        cfg.fees.validate()?;
        let rpc = RpcClient::with_config(rpc_url, cfg.rpc.clone())?;
        let ledger = match &cfg.journal {
            Some(path) => Ledger::open(path, now)?,
            None => Ledger::in_memory(),
        };
        Ok(Facilitator {
            rpc,
            address: signer.address(),
            signer,
            cfg,
            nonces: NonceManager::new(),
            ledger,
            fees: Mutex::new(None),
            chain_ok: OnceCell::new(),
            send_order: tokio::sync::Mutex::new(()),
        })
    }

    pub fn address(&self) -> Address {
        self.address
    }

    pub fn network(&self) -> &Network {
        &self.cfg.network
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Checks once that the RPC serves the configured chain.
    pub async fn ensure_chain(&self) -> Result<(), FacilitatorError> {
        self.chain_ok
            .get_or_try_init(|| async {
                let actual = self.rpc.chain_id().await?;
                let expected = self.cfg.network.chain_id();
                if actual != expected {
                    return Err(FacilitatorError::WrongChain { expected, actual });
                }
                Ok(())
            })
            .await
            .map(|_| ())
    }

    /// `GET /supported`.
    pub fn supported(&self) -> SupportedResponse {
        let mut kinds = vec![SupportedKind::new(2, "exact", self.cfg.network.caip2())];
        if let Some(name) = self.cfg.network.v1_name() {
            kinds.push(SupportedKind::new(1, "exact", name));
        }
        SupportedResponse::new(
            kinds,
            Vec::new(),
            vec![("eip155:*".to_owned(), vec![self.address])],
        )
    }

    fn options(&self, now: u64) -> VerifyOptions {
        VerifyOptions {
            skew_seconds: self.cfg.skew_seconds,
            ..VerifyOptions::at(now)
        }
    }

    fn serves(&self, req: &FacilitatorRequest) -> Result<(), Refusal> {
        match Network::parse(&req.requirements.network) {
            Ok(n) if n == self.cfg.network => Ok(()),
            _ => Err(Refusal {
                reason: reason::INVALID_NETWORK,
                message: format!(
                    "this facilitator settles on {} only, not {:?}",
                    self.cfg.network, req.requirements.network
                ),
                payer: req.payload.payer(),
                unavailable: false,
            }),
        }
    }

    /// Runs `stage` with a check context, once the chain is known to be the right one.
    async fn checking<'a, F, Fut>(
        &'a self,
        req: &FacilitatorRequest,
        now: u64,
        stage: F,
    ) -> Result<Checked, Refusal>
    where
        F: FnOnce(CheckContext<'a>) -> Fut,
        Fut: std::future::Future<Output = Result<Checked, Refusal>>,
    {
        self.serves(req)?;
        if let Err(e) = self.ensure_chain().await {
            return Err(Refusal {
                reason: reason::UNEXPECTED_VERIFY_ERROR,
                message: e.to_string(),
                payer: req.payload.payer(),
                unavailable: true,
            });
        }
        let options = self.options(now);
        stage(CheckContext {
            rpc: &self.rpc,
            facilitator: self.address,
            factories: &self.cfg.factories,
            options,
        })
        .await
    }

    /// `POST /verify`: local and on-chain checks, nothing sent.
    pub async fn verify(&self, req: &FacilitatorRequest, now: u64) -> Result<Checked, Refusal> {
        self.checking(req, now, |cx| async move {
            onchain::check(&cx, &req.payload, &req.requirements, Simulation::Call).await
        })
        .await
    }

    /// `POST /settle`, exactly once per authorization.
    pub async fn settle(&self, req: &FacilitatorRequest, now: u64) -> SettleResult {
        let result = |outcome| SettleResult {
            outcome,
            payer: req.payload.payer(),
            network: req.requirements.network.clone(),
        };
        // Authenticate before touching the ledger: a payment whose signature
        // does not verify can neither hold a key nor read a stored result.
        let (checked, expired) = match self.authenticate(req, now).await {
            Ok(c) => (c, None),
            Err(r) if r.reason == reason::VALID_BEFORE => {
                // Expired now, but a settlement of it may be stored, pending or
                // on chain: authenticated as of a moment inside its window, it
                // may read what is known of it, and never starts a new one.
                let inside = expiry_probe(req);
                match inside {
                    Some(at) => match self.authenticate(req, at).await {
                        Ok(c) => (c, Some(r)),
                        Err(_) => return result(refused(r)),
                    },
                    None => return result(refused(r)),
                }
            }
            Err(r) => return result(refused(r)),
        };
        let key = checked.key;
        for _ in 0..NONCE_ATTEMPTS {
            match self.ledger.claim(key, checked.digest, now) {
                Claim::Settled(s) => return result(Outcome::Settled(s)),
                Claim::Taken(held) => return result(taken(held)),
                Claim::Wait(mut rx) => {
                    let limit = self.cfg.receipt_timeout + self.cfg.rpc.request_timeout * 4;
                    let waited = tokio::time::timeout(limit, rx.wait_for(|o| o.is_some())).await;
                    match waited {
                        Ok(Ok(o)) => match o.clone() {
                            Some(Outcome::Failed { .. }) => continue,
                            Some(outcome) => return result(outcome),
                            None => continue,
                        },
                        Ok(Err(_)) => continue,
                        Err(_) => {
                            // Still running: once its transaction is signed, it may land.
                            let message =
                                "another settlement of this authorization is still running";
                            return result(match self.ledger.pending_of(&key) {
                                Some(tx) => Outcome::Pending {
                                    tx: Box::new(tx),
                                    message: message.into(),
                                },
                                None => Outcome::Failed {
                                    reason: reason::UNEXPECTED_SETTLE_ERROR,
                                    message: format!("{message}; nothing signed yet"),
                                },
                            });
                        }
                    }
                }
                Claim::Pending(guard, tx) => {
                    let outcome = self.reconcile_one(&tx, &key).await;
                    let again = matches!(outcome, Outcome::Failed { .. });
                    guard.finish(&outcome);
                    if !again {
                        return result(outcome);
                    }
                }
                Claim::Fresh(guard) => {
                    if let Some(refusal) = expired {
                        let outcome = self
                            .expired_outcome(&checked, &req.requirements, refusal)
                            .await;
                        return result(finish(guard, outcome));
                    }
                    let simulation = self
                        .checking(req, now, |cx| {
                            let checked = checked.clone();
                            async move {
                                onchain::simulated(
                                    &cx,
                                    checked,
                                    &req.requirements,
                                    Simulation::EstimateGas,
                                )
                                .await
                            }
                        })
                        .await;
                    let outcome = match simulation {
                        Ok(checked) => self.submit(guard, &checked, &req.requirements).await,
                        Err(r) if r.reason == reason::NONCE_ALREADY_USED => {
                            let req = &req.requirements;
                            let outcome =
                                self.used_on_chain(&checked, &req.asset, &req.network).await;
                            finish(guard, outcome)
                        }
                        Err(r) => finish(guard, refused(r)),
                    };
                    return result(outcome);
                }
            }
        }
        result(Outcome::Failed {
            reason: reason::UNEXPECTED_SETTLE_ERROR,
            message: "concurrent settlements of this authorization kept failing".into(),
        })
    }

    /// The signature and terms of a settle request, checked as of `at`.
    async fn authenticate(&self, req: &FacilitatorRequest, at: u64) -> Result<Checked, Refusal> {
        self.checking(req, at, |cx| async move {
            onchain::authenticate(&cx, &req.payload, &req.requirements).await
        })
        .await
    }

    async fn current_fees(&self) -> Result<Fees, FeeError> {
        if let Some((at, fees)) = *self.fees.lock().unwrap_or_else(|e| e.into_inner()) {
            if at.elapsed() < FEES_TTL {
                return Ok(fees);
            }
        }
        let fees = self.cfg.fees.estimate(&self.rpc).await?;
        *self.fees.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), fees));
        Ok(fees)
    }

    /// An EIP-1559 call of `to` signed by the facilitator.
    fn sign(
        &self,
        nonce: u64,
        to: Address,
        data: Vec<u8>,
        gas_limit: u64,
        fees: &Fees,
    ) -> Result<SignedTx, TxError> {
        let mut tx = Eip1559Tx {
            chain_id: self.cfg.network.chain_id(),
            nonce,
            gas_limit,
            to: Some(to),
            data,
            ..Eip1559Tx::default()
        };
        fees.apply(&mut tx);
        tx.sign(&self.signer)
    }

    /// Whether `who` has code (an RPC failure counts as "not known to").
    async fn has_code(&self, who: &Address) -> bool {
        matches!(onchain::has_code(&self.rpc, who).await, Ok(true))
    }

    /// Sends `data` to `to` and waits for its receipt (used for ERC-6492
    /// deployments, which are not payments). The signed bytes are kept in the
    /// ledger's outbox before broadcast and until mined or replaced, so an
    /// unclear send is re-sent by [`Self::reconcile`], never left as a nonce gap.
    async fn send_and_wait(&self, to: Address, data: Vec<u8>) -> Result<Receipt, String> {
        let call = CallRequest::new(to, data.clone()).from(self.address);
        let gas = self
            .rpc
            .estimate_gas(&call)
            .await
            .map_err(|e| e.to_string())?;
        let gas_limit = self.cfg.fees.gas_limit(gas).map_err(|e| e.to_string())?;
        let fees = self.current_fees().await.map_err(|e| e.to_string())?;
        self.cfg
            .fees
            .check_cost(&fees, gas_limit)
            .map_err(|e| e.to_string())?;
        let in_order = self.send_order.lock().await;
        let lease = self
            .nonces
            .reserve(&self.rpc, self.address)
            .await
            .map_err(|e| e.to_string())?;
        let signed = match self.sign(lease.nonce(), to, data, gas_limit, &fees) {
            Ok(s) => s,
            Err(e) => {
                let _ = lease.release();
                return Err(e.to_string());
            }
        };
        let sent_tx = SentTx {
            tx_hash: signed.hash(),
            raw: signed.raw().to_vec(),
            sender: self.address,
            nonce: lease.nonce(),
        };
        if let Err(e) = self.ledger.record_sent(&sent_tx) {
            let _ = lease.release();
            return Err(format!(
                "settlement journal not writable, nothing sent: {e}"
            ));
        }
        let sent = self.rpc.send_raw_transaction(signed.raw()).await;
        let disposition = lease.resolve(&sent);
        drop(in_order);
        if matches!(disposition, Disposition::Consumed | Disposition::Released) {
            // These bytes were not taken: nothing to keep.
            self.ledger.sent_done(&sent_tx.tx_hash);
            return Err(sent.err().map(|e| e.to_string()).unwrap_or_default());
        }
        match self
            .rpc
            .wait_for_receipt(
                &sent_tx.tx_hash,
                self.cfg.receipt_timeout,
                self.cfg.receipt_poll,
            )
            .await
        {
            Ok(Some(r)) => {
                self.nonces.reconciled(self.address, sent_tx.nonce);
                self.ledger.sent_done(&sent_tx.tx_hash);
                if r.status {
                    Ok(r)
                } else {
                    Err("wallet deployment reverted".into())
                }
            }
            Ok(None) => Err(format!(
                "wallet deployment {} not mined in time (kept and re-sent until mined)",
                hexutil::encode_0x(&sent_tx.tx_hash)
            )),
            Err(e) => Err(format!(
                "wallet deployment {}: {e} (kept and re-sent until mined)",
                hexutil::encode_0x(&sent_tx.tx_hash)
            )),
        }
    }

    /// Signs, records, sends and follows the settling transaction.
    async fn submit(&self, guard: ClaimGuard, checked: &Checked, req: &Requirements) -> Outcome {
        let fail = |reason, message: String| Outcome::Failed { reason, message };
        let mut gas = checked.gas;
        if let SignatureForm::Deploy {
            factory, calldata, ..
        } = &checked.form
        {
            // Deploy only if still needed; a concurrent settlement (or anyone)
            // may have deployed it since, and a factory may refuse to redeploy.
            if !self.has_code(&checked.auth.from).await {
                if let Err(e) = self.send_and_wait(*factory, calldata.clone()).await {
                    if !self.has_code(&checked.auth.from).await {
                        return finish(
                            guard,
                            fail(
                                reason::UNEXPECTED_SETTLE_ERROR,
                                format!("deploying the ERC-6492 wallet: {e}"),
                            ),
                        );
                    }
                }
            }
            gas = None;
        }
        let data = checked.transfer_calldata();
        let gas = match gas {
            Some(g) => g,
            None => {
                let call = CallRequest::new(req.asset, data.clone()).from(self.address);
                match self.rpc.estimate_gas(&call).await {
                    Ok(g) => g,
                    Err(e) => {
                        return finish(guard, fail(reason::TRANSACTION_FAILED, e.to_string()))
                    }
                }
            }
        };
        let prepared = async {
            let gas_limit = self.cfg.fees.gas_limit(gas)?;
            let fees = self.current_fees().await?;
            self.cfg.fees.check_cost(&fees, gas_limit)?;
            Ok::<_, FeeError>((gas_limit, fees))
        };
        let (gas_limit, fees) = match prepared.await {
            Ok(p) => p,
            Err(e) => return finish(guard, fail(reason::UNEXPECTED_SETTLE_ERROR, e.to_string())),
        };

        for _ in 0..NONCE_ATTEMPTS {
            let in_order = self.send_order.lock().await;
            let lease = match self.nonces.reserve(&self.rpc, self.address).await {
                Ok(l) => l,
                Err(e) => {
                    return finish(guard, fail(reason::UNEXPECTED_SETTLE_ERROR, e.to_string()))
                }
            };
            let signed = match self.sign(lease.nonce(), req.asset, data.clone(), gas_limit, &fees) {
                Ok(s) => s,
                Err(e) => {
                    let _ = lease.release();
                    return finish(guard, fail(reason::UNEXPECTED_SETTLE_ERROR, e.to_string()));
                }
            };
            let pending = PendingTx {
                authorization: checked.digest,
                tx_hash: signed.hash(),
                raw: signed.raw().to_vec(),
                sender: self.address,
                nonce: lease.nonce(),
                payer: checked.auth.from,
                pay_to: checked.auth.to,
                amount: checked.auth.value,
                network: req.network.clone(),
                valid_before: saturate(&checked.auth.valid_before),
            };
            if let Err(e) = guard.record_pending(&pending) {
                let _ = lease.release();
                return finish(
                    guard,
                    fail(
                        reason::UNEXPECTED_SETTLE_ERROR,
                        format!("settlement journal not writable, nothing sent: {e}"),
                    ),
                );
            }
            let sent = self.rpc.send_raw_transaction(signed.raw()).await;
            let disposition = lease.resolve(&sent);
            drop(in_order);
            match disposition {
                Disposition::Sent | Disposition::Unknown => {
                    let outcome = self.follow(&pending, &checked.key).await;
                    guard.finish(&outcome);
                    return outcome;
                }
                Disposition::Consumed => {
                    // The node says the nonce is taken: these bytes were not
                    // accepted; another nonce gives other bytes, safely.
                    let _ = self.nonces.resync(&self.rpc, self.address).await;
                    continue;
                }
                Disposition::Released => {
                    let e = sent.err().map(|e| e.to_string()).unwrap_or_default();
                    return finish(
                        guard,
                        fail(
                            reason::UNEXPECTED_SETTLE_ERROR,
                            format!("transaction not sent: {e}"),
                        ),
                    );
                }
            }
        }
        finish(
            guard,
            fail(
                reason::UNEXPECTED_SETTLE_ERROR,
                "no usable nonce after resyncing".into(),
            ),
        )
    }
}

fn finish(guard: ClaimGuard, outcome: Outcome) -> Outcome {
    guard.finish(&outcome);
    outcome
}

/// A refusal as a settle outcome (nothing was sent).
fn refused(r: Refusal) -> Outcome {
    Outcome::Failed {
        reason: if r.unavailable {
            reason::UNEXPECTED_SETTLE_ERROR
        } else {
            r.reason
        },
        message: r.message,
    }
}

/// The answer to an authorization whose key another authorization holds.
fn taken(held: Held) -> Outcome {
    let state = match held {
        Held::Settled => "settled",
        Held::InFlight | Held::Pending => "being settled",
    };
    Outcome::Failed {
        reason: reason::NONCE_ALREADY_USED,
        message: format!(
            "nonce already used: another authorization with this payer and nonce is {state}"
        ),
    }
}

/// A moment inside an expired authorization's validity window (to authenticate
/// a late retry of it as of then).
fn expiry_probe(req: &FacilitatorRequest) -> Option<u64> {
    let SchemePayload::Eip3009 { authorization, .. } = &req.payload.payload else {
        return None;
    };
    saturate(&authorization.valid_before).checked_sub(MIN_VALIDITY_LEFT + 1)
}

fn saturate(v: &U256) -> u64 {
    let b = v.to_be_bytes();
    if b[..24].iter().any(|&x| x != 0) {
        u64::MAX
    } else {
        u64::from_be_bytes(b[24..].try_into().unwrap_or([0xff; 8]))
    }
}
