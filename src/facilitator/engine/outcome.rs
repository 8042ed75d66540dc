//! What became of a payment whose settlement left this facilitator's hands: its
//! transaction followed to a receipt, chased after an unclear send (mined, in the
//! pool, replaced, or re-sent with its identical bytes), judged by its logs, and,
//! when it will never transfer, the authorization's state and logs read to tell
//! "used by a transaction that paid this payee" from "not charged".

use super::*;

impl Facilitator {
    /// An authorization that expired and has no settlement in this ledger: the
    /// chain says whether a transaction used it (this facilitator's before a
    /// restart, another's); otherwise it can no longer be settled.
    pub(super) async fn expired_outcome(
        &self,
        checked: &Checked,
        req: &Requirements,
        refusal: Refusal,
    ) -> Outcome {
        match self.authorization_used(&checked.key).await {
            Ok(true) => self.used_on_chain(checked, &req.asset, &req.network).await,
            Ok(false) => refused(refusal),
            Err(e) => Outcome::Failed {
                reason: reason::UNEXPECTED_SETTLE_ERROR,
                message: format!(
                    "the authorization has expired; whether a transaction used it could not be read: {e}"
                ),
            },
        }
    }

    /// The outcome for an authorization whose nonce is used on chain: settled by
    /// the transaction that used *this* authorization for *its* transfer, else
    /// refused (another authorization, or a cancellation, used the nonce).
    pub(super) async fn used_on_chain(
        &self,
        checked: &Checked,
        token: &Address,
        network: &str,
    ) -> Outcome {
        match self
            .find_settlement(&checked.auth, checked.digest, token, network)
            .await
        {
            Ok(Some(s)) => Outcome::Settled(s),
            Ok(None) => Outcome::Failed {
                reason: reason::NONCE_ALREADY_USED,
                message: format!(
                    "the nonce of {} is used on chain, but no transfer of this authorization's terms used it (within the last {} blocks)",
                    checked.auth.from, self.cfg.log_lookback_blocks
                ),
            },
            Err(e) => Outcome::Failed {
                reason: reason::UNEXPECTED_SETTLE_ERROR,
                message: format!(
                    "the nonce of {} is used on chain; the transaction that used it could not be read: {e}",
                    checked.auth.from
                ),
            },
        }
    }

    /// `authorizationState(from, nonce)` at the latest block.
    pub(super) async fn authorization_used(&self, key: &ReplayKey) -> Result<bool, String> {
        let call = CallRequest::new(
            key.contract,
            calls::authorization_state(&key.from, &key.nonce),
        );
        let ret = self
            .rpc
            .call(&call, BlockTag::Latest)
            .await
            .map_err(|e| e.to_string())?;
        calls::decode_authorization_state(&ret).map_err(|e| e.to_string())
    }

    /// Waits for the receipt of a (possibly) broadcast transaction.
    pub(super) async fn follow(&self, tx: &PendingTx, key: &ReplayKey) -> Outcome {
        match self
            .rpc
            .wait_for_receipt(&tx.tx_hash, self.cfg.receipt_timeout, self.cfg.receipt_poll)
            .await
        {
            Ok(Some(receipt)) => {
                self.nonces.reconciled(tx.sender, tx.nonce);
                self.judge(&receipt, tx, key).await
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

    /// What the chain says of a transaction the facilitator signed: mined, in
    /// the pool, replaced (its sender nonce used by another), or unknown to the
    /// node with its nonce still free — then its identical bytes are sent again.
    pub(super) async fn chase(
        &self,
        hash: &[u8; 32],
        raw: &[u8],
        sender: Address,
        nonce: u64,
    ) -> Fate {
        match self.rpc.get_transaction_receipt(hash).await {
            Ok(Some(receipt)) => {
                self.nonces.reconciled(sender, nonce);
                return Fate::Mined(Box::new(receipt));
            }
            Ok(None) => {}
            Err(e) => return Fate::Unclear(e.to_string()),
        }
        match self.rpc.transaction_known(hash).await {
            Ok(true) => return Fate::InPool,
            Ok(false) => {}
            Err(e) => return Fate::Unclear(e.to_string()),
        }
        match self
            .rpc
            .get_transaction_count(&sender, BlockTag::Latest)
            .await
        {
            Ok(mined) if mined > nonce => {
                self.nonces.reconciled(sender, nonce);
                return Fate::Replaced;
            }
            Ok(_) => {}
            Err(e) => return Fate::Unclear(e.to_string()),
        }
        match self.rpc.send_raw_transaction(raw).await {
            Ok(_) => Fate::Resent,
            Err(e) => Fate::Unclear(format!("re-sending the identical transaction: {e}")),
        }
    }

    /// Decides a pending settlement from the chain (see [`Self::chase`]); a
    /// replaced transaction is judged by the authorization's state and log.
    pub(super) async fn reconcile_one(&self, tx: &PendingTx, key: &ReplayKey) -> Outcome {
        let pending = |message: String| Outcome::Pending {
            tx: Box::new(tx.clone()),
            message,
        };
        match self.chase(&tx.tx_hash, &tx.raw, tx.sender, tx.nonce).await {
            Fate::Mined(receipt) => self.judge(&receipt, tx, key).await,
            Fate::InPool | Fate::Resent => self.follow(tx, key).await,
            Fate::Unclear(message) => pending(message),
            Fate::Replaced => {
                let hash = hexutil::encode_0x(&tx.tx_hash);
                self.used_elsewhere(
                    tx,
                    key,
                    format!(
                        "transaction {hash} was replaced (nonce {} used by another transaction)",
                        tx.nonce
                    ),
                )
                .await
            }
        }
    }

    /// This facilitator's transaction for `tx` will never transfer (reverted or
    /// replaced: `what`). Did another transaction use the same authorization
    /// (front-running, another facilitator)? Until the chain says, the outcome
    /// stays unknown; "not charged" only when the authorization is provably
    /// unused, or provably used by other terms.
    pub(super) async fn used_elsewhere(
        &self,
        tx: &PendingTx,
        key: &ReplayKey,
        what: String,
    ) -> Outcome {
        let pending = |message: String| Outcome::Pending {
            tx: Box::new(tx.clone()),
            message,
        };
        match self.authorization_used(key).await {
            Ok(false) => Outcome::Failed {
                reason: reason::TRANSACTION_FAILED,
                message: format!("{what}; the authorization is unused: the payer was not charged"),
            },
            Ok(true) => {
                let auth = Authorization {
                    from: key.from,
                    to: tx.pay_to,
                    value: tx.amount,
                    valid_after: U256::ZERO,
                    valid_before: U256::from_u64(tx.valid_before),
                    nonce: key.nonce,
                };
                match self
                    .find_settlement(&auth, tx.authorization, &key.contract, &tx.network)
                    .await
                {
                    Ok(Some(s)) => Outcome::Settled(s),
                    Ok(None) => Outcome::Failed {
                        reason: reason::TRANSACTION_FAILED,
                        message: format!(
                            "{what}; the nonce was used by another authorization or canceled: the payer was not charged for this one"
                        ),
                    },
                    Err(e) => pending(format!(
                        "{what}; the authorization is used on chain, by a transaction not readable yet: {e}"
                    )),
                }
            }
            Err(e) => pending(format!(
                "{what}; the authorization's state could not be read: {e}"
            )),
        }
    }

    /// The outcome a mined receipt of this facilitator's transaction gives.
    pub(super) async fn judge(
        &self,
        receipt: &Receipt,
        tx: &PendingTx,
        key: &ReplayKey,
    ) -> Outcome {
        let hash = hexutil::encode_0x(&tx.tx_hash);
        if !receipt.status {
            let what = format!(
                "transaction {hash} reverted in block {}",
                receipt.block_number
            );
            return self.used_elsewhere(tx, key, what).await;
        }
        if !authorization_transfer(
            &receipt.logs,
            &key.contract,
            &key.from,
            &key.nonce,
            &tx.pay_to,
            &tx.amount,
        ) {
            return Outcome::Failed {
                reason: reason::TRANSACTION_FAILED,
                message: format!(
                    "transaction {hash} succeeded without this authorization's AuthorizationUsed and Transfer logs"
                ),
            };
        }
        Outcome::Settled(Settled {
            authorization: tx.authorization,
            transaction: tx.tx_hash,
            payer: tx.payer,
            network: tx.network.clone(),
            amount: tx.amount,
            valid_before: tx.valid_before,
        })
    }

    /// Reconciles every outbox transaction, then every pending settlement, once.
    pub async fn reconcile(&self, now: u64) -> ReconcileReport {
        // Outbox first: a deployment left as a nonce gap holds back every later
        // transaction of this sender, settlements included.
        for tx in self.ledger.outbox() {
            match self.chase(&tx.tx_hash, &tx.raw, tx.sender, tx.nonce).await {
                Fate::Mined(_) | Fate::Replaced => self.ledger.sent_done(&tx.tx_hash),
                Fate::InPool | Fate::Resent | Fate::Unclear(_) => {}
            }
        }
        let mut report = ReconcileReport::default();
        for (key, tx) in self.ledger.pending() {
            let Claim::Pending(guard, tx) = self.ledger.claim(key, tx.authorization, now) else {
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

    /// The settlement of an authorization already used on chain: the
    /// transaction whose `AuthorizationUsed` log for it is followed by the
    /// transfer of *its* value to *its* payee (see [`authorization_transfer`]).
    /// Logs are read newest first in windows of `log_range_blocks` (providers
    /// cap the range) back to `log_lookback_blocks`; an RPC error is an error,
    /// never "not found".
    pub(super) async fn find_settlement(
        &self,
        auth: &Authorization,
        authorization: [u8; 32],
        token: &Address,
        network: &str,
    ) -> Result<Option<Settled>, String> {
        let latest = self.rpc.block_number().await.map_err(|e| e.to_string())?;
        let oldest = latest.saturating_sub(self.cfg.log_lookback_blocks);
        let span = self.cfg.log_range_blocks.max(1);
        let topics = [
            Some(calls::authorization_used_event_topic()),
            Some(auth.from.to_word()),
            Some(auth.nonce),
        ];
        let mut high = latest;
        loop {
            let low = high.saturating_sub(span - 1).max(oldest);
            let logs = self
                .rpc
                .get_logs(
                    token,
                    &topics,
                    BlockTag::Number(low),
                    BlockTag::Number(high),
                )
                .await
                .map_err(|e| e.to_string())?;
            for log in logs
                .iter()
                .rev()
                .filter(|l| !l.removed && &l.address == token)
            {
                // A log whose transaction cannot be read is no proof either way.
                let unreadable = || "a transaction that used the nonce has no readable receipt yet";
                let hash = log.transaction_hash.ok_or_else(unreadable)?;
                let receipt = self
                    .rpc
                    .get_transaction_receipt(&hash)
                    .await
                    .map_err(|e| e.to_string())?
                    .ok_or_else(unreadable)?;
                if receipt.status
                    && authorization_transfer(
                        &receipt.logs,
                        token,
                        &auth.from,
                        &auth.nonce,
                        &auth.to,
                        &auth.value,
                    )
                {
                    return Ok(Some(Settled {
                        authorization,
                        transaction: hash,
                        payer: auth.from,
                        network: network.to_owned(),
                        amount: auth.value,
                        valid_before: saturate(&auth.valid_before),
                    }));
                }
            }
            if low <= oldest {
                return Ok(None);
            }
            high = low - 1;
        }
    }
}

/// What the chain says of a transaction the facilitator signed.
pub(super) enum Fate {
    Mined(Box<Receipt>),
    InPool,
    /// Its sender nonce is used by another transaction: it can never be mined.
    Replaced,
    /// Unknown to the node, nonce free: its identical bytes were sent again.
    Resent,
    Unclear(String),
}

/// Whether one receipt's `logs` show `token` using `from`'s authorization
/// `nonce` to move `value` to `to`: its `AuthorizationUsed(from, nonce)` log
/// immediately followed by the `Transfer(from, to, value)` the same call emits
/// (EIP-3009 tokens mark the nonce used, then transfer, with no external call
/// between). A transfer elsewhere in the transaction that merely looks alike
/// (another authorization's, a plain `transfer`) never counts.
fn authorization_transfer(
    logs: &[Log],
    token: &Address,
    from: &Address,
    nonce: &[u8; 32],
    to: &Address,
    value: &U256,
) -> bool {
    let used_topics = [
        calls::authorization_used_event_topic(),
        from.to_word(),
        *nonce,
    ];
    logs.windows(2).any(|pair| {
        let (used, transfer) = (&pair[0], &pair[1]);
        let adjacent = match (used.log_index, transfer.log_index) {
            (Some(a), Some(b)) => a.checked_add(1) == Some(b),
            _ => true,
        };
        &used.address == token
            && &transfer.address == token
            && !used.removed
            && !transfer.removed
            && used.topics.as_slice() == used_topics.as_slice()
            && adjacent
            && matches!(
                calls::decode_transfer_log(&transfer.topics, &transfer.data),
                Ok(Some(t)) if &t.from == from && &t.to == to && &t.value == value
            )
    })
}
