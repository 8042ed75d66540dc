//! A per-sender nonce manager, safe under concurrency.
//!
//! Each sender is initialised once from `eth_getTransactionCount(sender,
//! "pending")` (concurrent first callers wait for that one request), then
//! nonces are handed out from local state under a short lock: two leases never
//! carry the same nonce.
//!
//! # Rules
//!
//! Every [`NonceLease`] ends in exactly one of these ways (see
//! [`NonceLease::resolve`], which applies them to an `eth_sendRawTransaction`
//! result):
//!
//! | what happened to the transaction | call | the nonce |
//! |---|---|---|
//! | the node accepted it (or already had these bytes) | [`NonceLease::sent`] | used |
//! | it was **certainly not broadcast**: failed before sending (signing, fee policy, [`WriteOutcome::NotSent`]) or the node refused it ([`WriteOutcome::Rejected`], except the two below) | [`NonceLease::release`] | handed out again, lowest first (so no gap stalls later transactions) |
//! | the node says the nonce is taken (`nonce too low`, `replacement underpriced`) | [`NonceLease::consumed`] | never reused; call [`NonceManager::resync`] |
//! | **it may have been broadcast** (timeout, connection lost, garbage answer, unclassified error: [`WriteOutcome::Unknown`]) | [`NonceLease::unknown`] | never reused; listed in [`NonceState::unknown`] until reconciled |
//! | the lease is dropped unresolved (a panic, a cancelled task) | — | as `unknown` |
//!
//! A nonce whose transaction might have been broadcast is never handed out
//! for other bytes: a second transaction with that nonce could replace the
//! first (double work, or a lost settlement) or collide with it. It is
//! reconciled by the caller, who kept the signed bytes: wait for the receipt
//! by hash, or resend the *identical* raw bytes (idempotent: the hash is the
//! keccak of the bytes, so the node answers "already known", accepts them,
//! or says "nonce too low" when they or another transaction were mined). Then
//! [`NonceManager::reconciled`] drops it from the unknown list.
//!
//! [`NonceManager::resync`] re-reads the pending count and never moves the
//! next nonce backwards (a lower node count only means our transactions have
//! not reached that node yet); released nonces below the node's count were
//! used by someone else (another process with the same key) and are dropped.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use super::rpc::{BlockTag, RpcClient, RpcError, Sent, TxRejection, WriteOutcome};
use crate::crypto::address::Address;

/// Why no nonce could be handed out.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NonceError {
    #[error("reading the sender's nonce: {0}")]
    Rpc(#[from] RpcError),
    /// EIP-2681: nonces stop at 2^64 − 2.
    #[error("sender {0} has no nonce left (EIP-2681)")]
    Exhausted(Address),
}

#[derive(Debug, Default)]
struct State {
    /// The next fresh nonce; `None` until read from the node.
    next: Option<u64>,
    /// Certainly not broadcast: handed out again first.
    released: BTreeSet<u64>,
    /// Leased and not yet resolved.
    outstanding: BTreeSet<u64>,
    /// May have been broadcast: never handed out again.
    unknown: BTreeSet<u64>,
}

#[derive(Debug, Default)]
struct Slot {
    /// Serialises the node reads (initialisation, resync) of one sender.
    sync: tokio::sync::Mutex<()>,
    state: Mutex<State>,
}

impl Slot {
    /// The state; every critical section leaves it consistent, so a panic
    /// elsewhere while it was held does not make it unusable.
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A snapshot of one sender's nonces.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NonceState {
    /// The next fresh nonce (`None`: not yet read from the node).
    pub next: Option<u64>,
    pub released: Vec<u64>,
    pub outstanding: Vec<u64>,
    /// Nonces whose transactions may have been broadcast and are not reconciled.
    pub unknown: Vec<u64>,
}

/// Hands out nonces per sender. Share it (e.g. in an `Arc`) between all tasks
/// that send from the same keys, within one process.
#[derive(Debug, Default)]
pub struct NonceManager {
    slots: Mutex<HashMap<Address, Arc<Slot>>>,
}

/// How a lease ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    Sent,
    Released,
    /// The nonce is used on chain or by another pending transaction: resync.
    Consumed,
    Unknown,
}

impl NonceManager {
    pub fn new() -> Self {
        Self::default()
    }

    fn slot(&self, sender: Address) -> Arc<Slot> {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.entry(sender).or_default().clone()
    }

    /// Initialises `sender` from a known next nonce instead of the node (e.g.
    /// restored state). No effect if it is already initialised.
    pub fn seed(&self, sender: Address, next: u64) {
        let slot = self.slot(sender);
        let mut st = slot.state();
        if st.next.is_none() {
            st.next = Some(next);
        }
    }

    /// The next nonce of `sender`, leased until resolved.
    pub async fn reserve(
        &self,
        rpc: &RpcClient,
        sender: Address,
    ) -> Result<NonceLease, NonceError> {
        let slot = self.slot(sender);
        if slot.state().next.is_none() {
            let _sync = slot.sync.lock().await;
            if slot.state().next.is_none() {
                let pending = rpc
                    .get_transaction_count(&sender, BlockTag::Pending)
                    .await?;
                let mut st = slot.state();
                st.next.get_or_insert(pending);
            }
        }
        let nonce = {
            let mut st = slot.state();
            let nonce = match st.released.pop_first() {
                Some(n) => n,
                None => {
                    let n = st.next.expect("initialised above");
                    // EIP-2681: 2^64 − 1 is not a valid nonce.
                    if n >= u64::MAX - 1 {
                        return Err(NonceError::Exhausted(sender));
                    }
                    st.next = Some(n + 1);
                    n
                }
            };
            st.outstanding.insert(nonce);
            nonce
        };
        Ok(NonceLease {
            slot,
            sender,
            nonce,
            resolved: false,
        })
    }

    /// Re-reads `eth_getTransactionCount(sender, "pending")`: the next nonce
    /// becomes the larger of the node's count and ours; released nonces the
    /// node has seen used are dropped. Call it after [`Disposition::Consumed`].
    pub async fn resync(&self, rpc: &RpcClient, sender: Address) -> Result<(), NonceError> {
        let slot = self.slot(sender);
        let _sync = slot.sync.lock().await;
        let pending = rpc
            .get_transaction_count(&sender, BlockTag::Pending)
            .await?;
        let mut st = slot.state();
        let next = st.next.map_or(pending, |n| n.max(pending));
        st.next = Some(next);
        st.released.retain(|&n| n >= pending);
        Ok(())
    }

    /// The caller reconciled an unknown nonce (its transaction was mined, or
    /// the nonce was used by another): it leaves the unknown list. It is not
    /// handed out again either way.
    pub fn reconciled(&self, sender: Address, nonce: u64) -> bool {
        self.slot(sender).state().unknown.remove(&nonce)
    }

    /// A snapshot of `sender`'s nonces.
    pub fn state(&self, sender: Address) -> NonceState {
        let slot = self.slot(sender);
        let st = slot.state();
        NonceState {
            next: st.next,
            released: st.released.iter().copied().collect(),
            outstanding: st.outstanding.iter().copied().collect(),
            unknown: st.unknown.iter().copied().collect(),
        }
    }
}

/// One leased nonce. Resolve it with one of its methods; dropping it
/// unresolved counts as [`NonceLease::unknown`].
#[derive(Debug)]
#[must_use = "a lease must be resolved: sent, release, consumed or unknown"]
pub struct NonceLease {
    slot: Arc<Slot>,
    sender: Address,
    nonce: u64,
    resolved: bool,
}

impl NonceLease {
    pub fn nonce(&self) -> u64 {
        self.nonce
    }

    pub fn sender(&self) -> Address {
        self.sender
    }

    fn finish(mut self, disposition: Disposition) -> Disposition {
        self.resolved = true;
        let mut st = self.slot.state();
        st.outstanding.remove(&self.nonce);
        match disposition {
            Disposition::Released => {
                st.released.insert(self.nonce);
            }
            Disposition::Unknown => {
                st.unknown.insert(self.nonce);
            }
            Disposition::Sent | Disposition::Consumed => {}
        }
        disposition
    }

    /// The node accepted the transaction (or already had these bytes).
    pub fn sent(self) -> Disposition {
        self.finish(Disposition::Sent)
    }

    /// The transaction was certainly not broadcast: the nonce is handed out again.
    pub fn release(self) -> Disposition {
        self.finish(Disposition::Released)
    }

    /// The node says the nonce is taken: never reused (resync the sender).
    pub fn consumed(self) -> Disposition {
        self.finish(Disposition::Consumed)
    }

    /// The transaction may have been broadcast: never reused; reconcile it.
    pub fn unknown(self) -> Disposition {
        self.finish(Disposition::Unknown)
    }

    /// Applies the rules of the module docs to the result of
    /// [`RpcClient::send_raw_transaction`] for this nonce's transaction.
    pub fn resolve(self, result: &Result<Sent, RpcError>) -> Disposition {
        match result {
            Ok(_) => self.sent(),
            Err(e) => match e.write_outcome() {
                WriteOutcome::NotSent => self.release(),
                WriteOutcome::Rejected(
                    TxRejection::NonceTooLow | TxRejection::ReplacementUnderpriced,
                ) => self.consumed(),
                WriteOutcome::Rejected(_) => self.release(),
                WriteOutcome::Unknown => self.unknown(),
            },
        }
    }
}

impl Drop for NonceLease {
    fn drop(&mut self) {
        if !self.resolved {
            let mut st = self.slot.state();
            st.outstanding.remove(&self.nonce);
            st.unknown.insert(self.nonce);
        }
    }
}

#[cfg(test)]
mod tests;
