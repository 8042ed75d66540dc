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

use serde_json::{json, Map, Value};
use tokio::sync::OnceCell;

use super::ledger::{Claim, ClaimGuard, Ledger, Outcome, PendingTx, Settled};
use super::onchain::{self, CheckContext, Checked, Refusal, SignatureForm, Simulation};
use super::request::FacilitatorRequest;
use crate::chain::calls;
use crate::chain::fees::{FeeError, FeePolicy, Fees};
use crate::chain::nonce::{Disposition, NonceManager};
use crate::chain::rpc::{BlockTag, CallRequest, Receipt, RpcClient, RpcConfig, RpcError};
use crate::chain::tx::{Eip1559Tx, SignedTx, TxError};
use crate::crypto::address::Address;
use crate::crypto::ecdsa::SecretKey;
use crate::crypto::hexutil;
use crate::num::U256;
use crate::x402::exact::{ReplayKey, VerifyOptions, DEFAULT_SKEW, MIN_VALIDITY_LEFT};
use crate::x402::networks::Network;
use crate::x402::reason;
use crate::x402::smart_wallet::FactoryAllowList;
use crate::x402::types::{Authorization, Requirements, SchemePayload};

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
    /// still unknown.
    pub fn to_json(&self) -> Value {
        let mut o = Map::new();
        let payer = self.payer.map(|p| p.to_checksum());
        match &self.outcome {
            Outcome::Settled(s) => {
                o.insert("success".into(), json!(true));
                o.insert("payer".into(), json!(s.payer.to_checksum()));
                o.insert(
                    "transaction".into(),
                    json!(hexutil::encode_0x(&s.transaction)),
                );
                o.insert("network".into(), json!(self.network));
                return Value::Object(o);
            }
            Outcome::Failed { reason, message } => {
                o.insert("success".into(), json!(false));
                o.insert("errorReason".into(), json!(reason));
                o.insert("errorMessage".into(), json!(message));
                o.insert("transaction".into(), json!(""));
            }
            Outcome::Pending { tx, message } => {
                o.insert("success".into(), json!(false));
                o.insert("errorReason".into(), json!(reason::SETTLEMENT_PENDING));
                o.insert(
                    "errorMessage".into(),
                    json!(format!("outcome unknown, settlement pending: {message}")),
                );
                o.insert("transaction".into(), json!(hexutil::encode_0x(&tx.tx_hash)));
            }
        }
        if let Some(p) = payer {
            o.insert("payer".into(), json!(p));
        }
        o.insert("network".into(), json!(self.network));
        Value::Object(o)
    }

    /// The HTTP status of the answer: 200, pending included (the official
    /// clients treat any other status as an error and lose the hash).
    pub fn http_status(&self) -> u16 {
        200
    }
}

/// The wire `VerifyResponse` of a check.
pub fn verify_json(result: &Result<Checked, Refusal>) -> Value {
    match result {
        Ok(c) => json!({"isValid": true, "payer": c.auth.from.to_checksum()}),
        Err(r) => {
            let mut o = Map::new();
            o.insert("isValid".into(), json!(false));
            o.insert("invalidReason".into(), json!(r.reason));
            o.insert("invalidMessage".into(), json!(r.message));
            if let Some(p) = r.payer {
                o.insert("payer".into(), json!(p.to_checksum()));
            }
            Value::Object(o)
        }
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
    pub fn new(
        rpc_url: &str,
        signer: SecretKey,
        cfg: FacilitatorConfig,
    ) -> Result<Self, FacilitatorError> {
        cfg.fees.validate()?;
        let rpc = RpcClient::with_config(rpc_url, cfg.rpc.clone())?;
        let ledger = match &cfg.journal {
            Some(path) => Ledger::open(path)?,
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
    pub fn supported(&self) -> Value {
        let mut kinds = vec![json!({
            "x402Version": 2, "scheme": "exact", "network": self.cfg.network.caip2(),
        })];
        if let Some(name) = self.cfg.network.v1_name() {
            kinds.push(json!({"x402Version": 1, "scheme": "exact", "network": name}));
        }
        json!({
            "kinds": kinds,
            "extensions": [],
            "signers": {"eip155:*": [self.address.to_checksum()]},
        })
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
        let failed = |r: Refusal| {
            result(Outcome::Failed {
                reason: if r.unavailable {
                    reason::UNEXPECTED_SETTLE_ERROR
                } else {
                    r.reason
                },
                message: r.message,
            })
        };
        // Authenticate before touching the ledger: a payment whose signature
        // does not verify can neither hold a key nor read a stored result.
        let checked = match self
            .checking(req, now, |cx| async move {
                onchain::authenticate(&cx, &req.payload, &req.requirements).await
            })
            .await
        {
            Ok(c) => c,
            Err(r) if r.reason == reason::VALID_BEFORE => {
                // Expired now, but maybe settled while it was valid: a late
                // retry gets that first result (if the signature holds).
                return match self.settled_earlier(req).await {
                    Some(s) => result(Outcome::Settled(s)),
                    None => failed(r),
                };
            }
            Err(r) => return failed(r),
        };
        let key = checked.key;
        for _ in 0..NONCE_ATTEMPTS {
            match self.ledger.claim(key, now) {
                Claim::Settled(s) => return result(Outcome::Settled(s)),
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
                            return result(Outcome::Failed {
                                reason: reason::UNEXPECTED_SETTLE_ERROR,
                                message:
                                    "another settlement of this authorization is still running"
                                        .into(),
                            })
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
                            match self
                                .find_settlement(&checked.auth, &req.asset, &req.network)
                                .await
                            {
                                Some(s) => finish(guard, Outcome::Settled(s)),
                                None => finish(guard, failed(r).outcome),
                            }
                        }
                        Err(r) => finish(guard, failed(r).outcome),
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

    /// The stored settlement of an authorization that has expired since,
    /// authenticated as of a moment inside its validity window.
    async fn settled_earlier(&self, req: &FacilitatorRequest) -> Option<Settled> {
        let SchemePayload::Eip3009 { authorization, .. } = &req.payload.payload else {
            return None;
        };
        let within = saturate(&authorization.valid_before).checked_sub(MIN_VALIDITY_LEFT + 1)?;
        let checked = self
            .checking(req, within, |cx| async move {
                onchain::authenticate(&cx, &req.payload, &req.requirements).await
            })
            .await
            .ok()?;
        self.ledger.settled(&checked.key)
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
    /// deployments, which are not payments).
    async fn send_and_wait(&self, to: Address, data: Vec<u8>) -> Result<Receipt, String> {
        let call = CallRequest::new(to, data.clone()).from(self.address);
        let gas = self
            .rpc
            .estimate_gas(&call)
            .await
            .map_err(|e| e.to_string())?;
        let gas_limit = self.cfg.fees.gas_limit(gas).map_err(|e| e.to_string())?;
        let fees = self.current_fees().await.map_err(|e| e.to_string())?;
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
        let sent = self.rpc.send_raw_transaction(signed.raw()).await;
        lease.resolve(&sent);
        drop(in_order);
        sent.map_err(|e| e.to_string())?;
        match self
            .rpc
            .wait_for_receipt(
                &signed.hash(),
                self.cfg.receipt_timeout,
                self.cfg.receipt_poll,
            )
            .await
        {
            Ok(Some(r)) if r.status => Ok(r),
            Ok(Some(_)) => Err("wallet deployment reverted".into()),
            Ok(None) => Err("wallet deployment not mined in time".into()),
            Err(e) => Err(e.to_string()),
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

    /// Waits for the receipt of a (possibly) broadcast transaction.
    async fn follow(&self, tx: &PendingTx, key: &ReplayKey) -> Outcome {
        match self
            .rpc
            .wait_for_receipt(&tx.tx_hash, self.cfg.receipt_timeout, self.cfg.receipt_poll)
            .await
        {
            Ok(Some(receipt)) => {
                self.nonces.reconciled(tx.sender, tx.nonce);
                judge(&receipt, tx, key)
            }
            Ok(None) => Outcome::Pending {
                tx: Box::new(tx.clone()),
                message: format!(
                    "transaction {} not mined within {:?}",
                    hexutil::encode_0x(&tx.tx_hash),
                    self.cfg.receipt_timeout
                ),
            },
            Err(e) => Outcome::Pending {
                tx: Box::new(tx.clone()),
                message: format!("transaction {}: {e}", hexutil::encode_0x(&tx.tx_hash)),
            },
        }
    }

    /// Decides a pending transaction from the chain: its receipt; else, if the
    /// sender's nonce moved past it, it was replaced (the authorization's state
    /// and log say whether the payment was made anyway); else its identical
    /// bytes are sent again and followed.
    async fn reconcile_one(&self, tx: &PendingTx, key: &ReplayKey) -> Outcome {
        let pending = |message: String| Outcome::Pending {
            tx: Box::new(tx.clone()),
            message,
        };
        match self.rpc.get_transaction_receipt(&tx.tx_hash).await {
            Ok(Some(receipt)) => {
                self.nonces.reconciled(tx.sender, tx.nonce);
                return judge(&receipt, tx, key);
            }
            Ok(None) => {}
            Err(e) => return pending(e.to_string()),
        }
        match self.rpc.transaction_known(&tx.tx_hash).await {
            Ok(true) => return self.follow(tx, key).await,
            Ok(false) => {}
            Err(e) => return pending(e.to_string()),
        }
        let mined_nonce = match self
            .rpc
            .get_transaction_count(&tx.sender, BlockTag::Latest)
            .await
        {
            Ok(n) => n,
            Err(e) => return pending(e.to_string()),
        };
        if mined_nonce > tx.nonce {
            // Our bytes can never be mined now. Did another transaction use the
            // authorization (another facilitator, a replacement)?
            self.nonces.reconciled(tx.sender, tx.nonce);
            let used = self
                .rpc
                .call(
                    &CallRequest::new(
                        key.contract,
                        calls::authorization_state(&key.from, &key.nonce),
                    ),
                    BlockTag::Latest,
                )
                .await
                .map(|r| calls::decode_authorization_state(&r));
            return match used {
                Ok(Ok(true)) => {
                    let auth = Authorization {
                        from: key.from,
                        to: tx.pay_to,
                        value: tx.amount,
                        valid_after: U256::ZERO,
                        valid_before: U256::from_u64(tx.valid_before),
                        nonce: key.nonce,
                    };
                    match self
                        .find_settlement(&auth, &key.contract, &tx.network)
                        .await
                    {
                        Some(s) => Outcome::Settled(s),
                        // Used on chain, but by which transaction is not visible
                        // (yet): still unknown, never "failed".
                        None => pending(format!(
                            "authorization used on chain; its transaction ({} or another) is not visible yet",
                            hexutil::encode_0x(&tx.tx_hash)
                        )),
                    }
                }
                Ok(Ok(false)) => Outcome::Failed {
                    reason: reason::TRANSACTION_FAILED,
                    message: format!(
                        "transaction {} was replaced (nonce {} used by another transaction); the payer was not charged",
                        hexutil::encode_0x(&tx.tx_hash),
                        tx.nonce
                    ),
                },
                Ok(Err(e)) => pending(e.to_string()),
                Err(e) => pending(e.to_string()),
            };
        }
        // Unknown to the node and its nonce still free: send the same bytes.
        match self.rpc.send_raw_transaction(&tx.raw).await {
            Ok(_) => self.follow(tx, key).await,
            Err(e) => pending(format!("re-sending the identical transaction: {e}")),
        }
    }

    /// Reconciles every pending settlement once.
    pub async fn reconcile(&self, now: u64) -> ReconcileReport {
        let mut report = ReconcileReport::default();
        for (key, _) in self.ledger.pending() {
            let Claim::Pending(guard, tx) = self.ledger.claim(key, now) else {
                continue; // settled or in flight meanwhile
            };
            let outcome = self.reconcile_one(&tx, &key).await;
            match &outcome {
                Outcome::Settled(_) => report.settled += 1,
                Outcome::Failed { .. } => report.failed += 1,
                Outcome::Pending { .. } => report.still_pending += 1,
            }
            guard.finish(&outcome);
        }
        report
    }

    /// The settlement of an authorization already used on chain, traced by its
    /// `AuthorizationUsed` log: the first result of an earlier settle (this
    /// process before a restart, or another instance).
    async fn find_settlement(
        &self,
        auth: &Authorization,
        token: &Address,
        network: &str,
    ) -> Option<Settled> {
        let latest = self.rpc.block_number().await.ok()?;
        let from_block = latest.saturating_sub(self.cfg.log_lookback_blocks);
        let logs = self
            .rpc
            .get_logs(
                token,
                &[
                    Some(calls::authorization_used_event_topic()),
                    Some(auth.from.to_word()),
                    Some(auth.nonce),
                ],
                BlockTag::Number(from_block),
                BlockTag::Latest,
            )
            .await
            .ok()?;
        for log in logs.iter().filter(|l| !l.removed && &l.address == token) {
            let Some(hash) = log.transaction_hash else {
                continue;
            };
            let Ok(Some(receipt)) = self.rpc.get_transaction_receipt(&hash).await else {
                continue;
            };
            if receipt.status && has_transfer(&receipt, token, &auth.from, &auth.to, &auth.value) {
                return Some(Settled {
                    transaction: hash,
                    payer: auth.from,
                    network: network.to_owned(),
                    amount: auth.value,
                    valid_before: saturate(&auth.valid_before),
                });
            }
        }
        None
    }
}

fn finish(guard: ClaimGuard, outcome: Outcome) -> Outcome {
    guard.finish(&outcome);
    outcome
}

fn saturate(v: &U256) -> u64 {
    let b = v.to_be_bytes();
    if b[..24].iter().any(|&x| x != 0) {
        u64::MAX
    } else {
        u64::from_be_bytes(b[24..].try_into().unwrap_or([0xff; 8]))
    }
}

fn has_transfer(
    receipt: &Receipt,
    token: &Address,
    from: &Address,
    to: &Address,
    value: &U256,
) -> bool {
    receipt.logs_from(token).any(|log| {
        matches!(
            calls::decode_transfer_log(&log.topics, &log.data),
            Ok(Some(t)) if &t.from == from && &t.to == to && &t.value == value
        )
    })
}

/// The outcome a mined receipt gives.
fn judge(receipt: &Receipt, tx: &PendingTx, key: &ReplayKey) -> Outcome {
    let hash = hexutil::encode_0x(&tx.tx_hash);
    if !receipt.status {
        return Outcome::Failed {
            reason: reason::TRANSACTION_FAILED,
            message: format!(
                "transaction {hash} reverted in block {}; the payer was not charged",
                receipt.block_number
            ),
        };
    }
    if !has_transfer(receipt, &key.contract, &tx.payer, &tx.pay_to, &tx.amount) {
        return Outcome::Failed {
            reason: reason::TRANSACTION_FAILED,
            message: format!("transaction {hash} succeeded without the expected Transfer log"),
        };
    }
    Outcome::Settled(Settled {
        transaction: tx.tx_hash,
        payer: tx.payer,
        network: tx.network.clone(),
        amount: tx.amount,
        valid_before: tx.valid_before,
    })
}
