//! Exactly-once bookkeeping of settlements, per authorization
//! ([`ReplayKey`] = chain, token, payer, nonce).
//!
//! A key belongs to the first authorization that claims it, identified by its
//! EIP-712 digest (its full signed content: domain, payee, value, window). A
//! stored outcome is shared only with that same authorization; another one
//! that merely has the same key is answered "nonce already used".
//!
//! A key is in one of three states: **in flight** (one task owns it; others
//! wait for its outcome), **pending** (a transaction was signed and may have
//! been broadcast, its outcome is unknown: kept with its raw bytes until
//! reconciled, never re-signed), **settled** (the first result, returned to
//! every later request for the key until the authorization has expired).
//! A definitive failure clears the key: the authorization is unused on chain,
//! so a corrected retry may settle it.
//!
//! With a journal file the pending and settled states survive a restart: each
//! change is one JSON line, appended and flushed to disk *before* the
//! transaction is broadcast. Without one the chain still prevents a double
//! charge (the nonce is single-use on chain) and a used authorization is traced
//! back to its transaction by its `AuthorizationUsed` log.
//!
//! Besides settlements, every other transaction the facilitator signs (ERC-6492
//! wallet deployments) is kept in an outbox with its bytes, journaled before
//! broadcast, until it is mined or its sender nonce is provably used by another
//! transaction: a nonce is never left as a gap.
//!
//! The journal is locked exclusively (a `<journal>.lock` file held for the
//! ledger's life): a second facilitator on the same path fails to open it. A
//! torn last line (a crash mid-write) is dropped and reported; every complete
//! record before it is kept.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{json, Value};
use tokio::sync::watch;

use crate::crypto::address::Address;
use crate::crypto::hexutil;
use crate::num::U256;
use crate::x402::verify::ReplayKey;

/// A settlement that is final: mined with status 1 and the expected transfer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settled {
    /// The EIP-712 digest of the authorization this settles.
    pub authorization: [u8; 32],
    pub transaction: [u8; 32],
    pub payer: Address,
    pub network: String,
    pub amount: U256,
    /// The authorization's `validBefore` (Unix seconds, saturated): the result
    /// is kept until [`KEEP_AFTER_EXPIRY`] after it.
    pub valid_before: u64,
}

impl Settled {
    fn expires(&self) -> u64 {
        self.valid_before.saturating_add(KEEP_AFTER_EXPIRY)
    }
}

/// A signed settlement transaction whose outcome is not known yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingTx {
    /// The EIP-712 digest of the authorization being settled.
    pub authorization: [u8; 32],
    pub tx_hash: [u8; 32],
    /// The exact signed bytes: the only thing that may be sent again.
    pub raw: Vec<u8>,
    pub sender: Address,
    pub nonce: u64,
    pub payer: Address,
    pub pay_to: Address,
    pub amount: U256,
    pub network: String,
    /// The authorization's `validBefore` (Unix seconds, saturated).
    pub valid_before: u64,
}

/// The outcome of one settlement attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Settled(Settled),
    /// Definitive: the payer was not charged.
    Failed {
        reason: &'static str,
        message: String,
    },
    /// Outcome unknown: the transaction may still be mined. Kept and reconciled.
    Pending {
        tx: Box<PendingTx>,
        message: String,
    },
}

/// A transaction signed by the facilitator that is not a settlement (an
/// ERC-6492 wallet deployment), kept until mined or provably replaced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentTx {
    pub tx_hash: [u8; 32],
    /// The exact signed bytes: the only thing that may be sent again.
    pub raw: Vec<u8>,
    pub sender: Address,
    pub nonce: u64,
}

enum Slot {
    InFlight {
        authorization: [u8; 32],
        done: watch::Sender<Option<Outcome>>,
        /// The transaction signed in flight, if any (kept if the owner vanishes).
        pending: Option<PendingTx>,
    },
    Pending(PendingTx),
    Settled(Settled),
}

/// What [`Ledger::claim`] found.
pub enum Claim {
    /// Nobody holds the key: the caller owns it until the guard is finished.
    Fresh(ClaimGuard),
    /// A transaction for the key awaits reconciliation: the caller owns it.
    Pending(ClaimGuard, PendingTx),
    /// Another task holds it: wait for its outcome.
    Wait(watch::Receiver<Option<Outcome>>),
    Settled(Settled),
    /// Another authorization with the same key holds it (in this state).
    Taken(Held),
}

/// The state of a key held by another authorization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Held {
    InFlight,
    Pending,
    Settled,
}

/// Keeps settled results this long after the authorization expired (it can no
/// longer be settled; the chain answers for it after that).
const KEEP_AFTER_EXPIRY: u64 = 3600;

struct Inner {
    slots: HashMap<ReplayKey, Slot>,
    outbox: HashMap<[u8; 32], SentTx>,
    journal: Option<File>,
    last_prune: u64,
}

/// See the module docs.
pub struct Ledger {
    inner: Mutex<Inner>,
    path: Option<PathBuf>,
    /// Held open for the ledger's life: the journal's exclusive lock.
    _lock: Option<File>,
    /// Bytes of a torn last line dropped when the journal was opened.
    dropped_tail: usize,
}

/// Ownership of one key; finish it with [`ClaimGuard::finish`]. Dropped
/// unfinished, the key is kept pending if a transaction was recorded, else cleared.
pub struct ClaimGuard {
    ledger: Arc<Ledger>,
    key: ReplayKey,
    finished: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("settlement journal {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("settlement journal {path}, line {line}: {message}")]
    Corrupt {
        path: String,
        line: usize,
        message: String,
    },
    #[error("settlement journal {path} is in use by another facilitator (lock {lock} is held)")]
    Locked { path: String, lock: String },
}

impl Ledger {
    /// An in-memory ledger.
    pub fn in_memory() -> Arc<Self> {
        Arc::new(Ledger {
            inner: Mutex::new(Inner {
                slots: HashMap::new(),
                outbox: HashMap::new(),
                journal: None,
                last_prune: 0,
            }),
            path: None,
            _lock: None,
            dropped_tail: 0,
        })
    }

    /// A ledger backed by an append-only journal at `path` (created if absent),
    /// locked exclusively for the ledger's life. Pending and settled records
    /// and outbox transactions found there are restored; settled records that
    /// expired before `now` are dropped; the journal is compacted to what is
    /// live (written aside, synced, renamed over: a crash leaves the old or the
    /// new file, both complete), so it does not grow forever.
    pub fn open(path: &Path, now: u64) -> Result<Arc<Self>, JournalError> {
        let shown = path.display().to_string();
        let io = |source| JournalError::Io {
            path: shown.clone(),
            source,
        };
        let lock = lock_journal(path, &shown)?;
        let mut slots = HashMap::new();
        let mut outbox = HashMap::new();
        let mut dropped_tail = 0;
        if path.exists() {
            let text = std::fs::read(path).map_err(io)?;
            let mut lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
            // The part after the last newline: empty, or a record torn by a crash.
            let tail = lines.pop().unwrap_or_default();
            let count = lines.len();
            let mut records: Vec<(usize, &[u8], bool)> = lines
                .into_iter()
                .enumerate()
                .map(|(i, l)| (i + 1, l, false))
                .collect();
            if !tail.is_empty() {
                records.push((count + 1, tail, true));
            }
            for (line, bytes, torn) in records {
                if bytes.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let corrupt = |message: String| JournalError::Corrupt {
                    path: shown.clone(),
                    line,
                    message,
                };
                let decoded = serde_json::from_slice::<Value>(bytes)
                    .map_err(|e| e.to_string())
                    .and_then(|v| decode_record(&v));
                let record = match decoded {
                    Ok(r) => r,
                    Err(_) if torn => {
                        dropped_tail = bytes.len();
                        continue;
                    }
                    Err(e) => return Err(corrupt(e)),
                };
                match record {
                    Record::Key(key, Some(slot)) => {
                        slots.insert(key, *slot);
                    }
                    Record::Key(key, None) => {
                        slots.remove(&key);
                    }
                    Record::Sent(tx) => {
                        outbox.insert(tx.tx_hash, tx);
                    }
                    Record::SentDone(hash) => {
                        outbox.remove(&hash);
                    }
                }
            }
        }
        slots.retain(|_, s| !matches!(s, Slot::Settled(settled) if settled.expires() < now));
        compact(path, &slots, &outbox).map_err(io)?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(io)?;
        Ok(Arc::new(Ledger {
            inner: Mutex::new(Inner {
                slots,
                outbox,
                journal: Some(file),
                last_prune: 0,
            }),
            path: Some(path.to_owned()),
            _lock: Some(lock),
            dropped_tail,
        }))
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Claims `key` for the authorization whose EIP-712 digest is
    /// `authorization` (see [`Claim`]); `now` drives pruning of expired results.
    pub fn claim(self: &Arc<Self>, key: ReplayKey, authorization: [u8; 32], now: u64) -> Claim {
        let mut inner = self.lock();
        if now >= inner.last_prune + 60 {
            inner.last_prune = now;
            inner
                .slots
                .retain(|_, s| !matches!(s, Slot::Settled(settled) if settled.expires() < now));
        }
        let guard = || ClaimGuard {
            ledger: self.clone(),
            key,
            finished: false,
        };
        let in_flight = |pending: Option<PendingTx>| {
            let (done, _) = watch::channel(None);
            Slot::InFlight {
                authorization,
                done,
                pending,
            }
        };
        match inner.slots.get(&key) {
            Some(Slot::Settled(s)) if s.authorization == authorization => Claim::Settled(s.clone()),
            Some(Slot::Settled(_)) => Claim::Taken(Held::Settled),
            Some(Slot::InFlight {
                authorization: a,
                done,
                ..
            }) if *a == authorization => Claim::Wait(done.subscribe()),
            Some(Slot::InFlight { .. }) => Claim::Taken(Held::InFlight),
            Some(Slot::Pending(tx)) if tx.authorization == authorization => {
                let tx = tx.clone();
                inner.slots.insert(key, in_flight(Some(tx.clone())));
                Claim::Pending(guard(), tx)
            }
            Some(Slot::Pending(_)) => Claim::Taken(Held::Pending),
            None => {
                inner.slots.insert(key, in_flight(None));
                Claim::Fresh(guard())
            }
        }
    }

    /// Every transaction awaiting reconciliation (not those in flight).
    pub fn pending(&self) -> Vec<(ReplayKey, PendingTx)> {
        self.lock()
            .slots
            .iter()
            .filter_map(|(k, s)| match s {
                Slot::Pending(tx) => Some((*k, tx.clone())),
                Slot::InFlight {
                    pending: Some(tx), ..
                } => Some((*k, tx.clone())),
                _ => None,
            })
            .collect()
    }

    /// The transaction recorded for `key`, pending or signed in flight.
    pub fn pending_of(&self, key: &ReplayKey) -> Option<PendingTx> {
        match self.lock().slots.get(key) {
            Some(Slot::Pending(tx)) => Some(tx.clone()),
            Some(Slot::InFlight { pending, .. }) => pending.clone(),
            _ => None,
        }
    }

    /// Records a non-settlement transaction *before* it is broadcast. An error
    /// means the journal could not be written: do not broadcast.
    pub fn record_sent(&self, tx: &SentTx) -> std::io::Result<()> {
        let mut inner = self.lock();
        Ledger::append(&mut inner, encode_sent(tx))?;
        inner.outbox.insert(tx.tx_hash, tx.clone());
        Ok(())
    }

    /// Forgets an outbox transaction: mined, or its nonce used by another.
    pub fn sent_done(&self, tx_hash: &[u8; 32]) {
        let mut inner = self.lock();
        if inner.outbox.remove(tx_hash).is_some() {
            let _ = Ledger::append(&mut inner, encode_sent_done(tx_hash));
        }
    }

    /// Outbox transactions, lowest sender nonce first.
    pub fn outbox(&self) -> Vec<SentTx> {
        let mut txs: Vec<SentTx> = self.lock().outbox.values().cloned().collect();
        txs.sort_by_key(|t| (t.sender, t.nonce));
        txs
    }

    /// Keys in any state (for tests and metrics).
    pub fn len(&self) -> usize {
        self.lock().slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn journal_path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Bytes of a torn last record dropped when the journal was opened (0: none).
    pub fn dropped_tail(&self) -> usize {
        self.dropped_tail
    }

    fn append(inner: &mut Inner, record: Value) -> std::io::Result<()> {
        if let Some(file) = inner.journal.as_mut() {
            let mut line = record.to_string();
            line.push('\n');
            file.write_all(line.as_bytes())?;
            file.sync_data()?;
        }
        Ok(())
    }
}

/// Takes the journal's exclusive lock (`<journal>.lock`), without waiting.
fn lock_journal(path: &Path, shown: &str) -> Result<File, JournalError> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let lock_path = PathBuf::from(name);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|source| JournalError::Io {
            path: lock_path.display().to_string(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(JournalError::Locked {
            path: shown.to_owned(),
            lock: lock_path.display().to_string(),
        }),
        Err(std::fs::TryLockError::Error(source)) => Err(JournalError::Io {
            path: lock_path.display().to_string(),
            source,
        }),
    }
}

impl ClaimGuard {
    pub fn key(&self) -> &ReplayKey {
        &self.key
    }

    /// Records a signed transaction *before* it is broadcast. An error means
    /// the journal could not be written: do not broadcast.
    pub fn record_pending(&self, tx: &PendingTx) -> std::io::Result<()> {
        let mut inner = self.ledger.lock();
        Ledger::append(&mut inner, encode_pending(&self.key, tx))?;
        if let Some(Slot::InFlight { pending, .. }) = inner.slots.get_mut(&self.key) {
            *pending = Some(tx.clone());
        }
        Ok(())
    }

    /// Ends the claim with `outcome` and wakes the tasks waiting for it.
    pub fn finish(mut self, outcome: &Outcome) {
        self.finished = true;
        let mut inner = self.ledger.lock();
        let (record, slot) = match outcome {
            Outcome::Settled(s) => (encode_settled(&self.key, s), Some(Slot::Settled(s.clone()))),
            Outcome::Failed { .. } => (encode_cleared(&self.key), None),
            Outcome::Pending { tx, .. } => (
                encode_pending(&self.key, tx),
                Some(Slot::Pending((**tx).clone())),
            ),
        };
        // A journal write failure must not lose the in-memory state; the
        // pending record written before broadcast is what matters on restart.
        let _ = Ledger::append(&mut inner, record);
        let previous = match slot {
            Some(slot) => inner.slots.insert(self.key, slot),
            None => inner.slots.remove(&self.key),
        };
        if let Some(Slot::InFlight { done, .. }) = previous {
            done.send_replace(Some(outcome.clone()));
        }
    }
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let mut inner = self.ledger.lock();
        if let Some(Slot::InFlight { pending, done, .. }) = inner.slots.remove(&self.key) {
            match pending {
                Some(tx) => {
                    inner.slots.insert(self.key, Slot::Pending(tx.clone()));
                    done.send_replace(Some(Outcome::Pending {
                        tx: Box::new(tx),
                        message: "settlement interrupted; outcome unknown".into(),
                    }));
                }
                None => {
                    done.send_replace(Some(Outcome::Failed {
                        reason: crate::x402::reason::UNEXPECTED_SETTLE_ERROR,
                        message: "settlement interrupted before any transaction was signed".into(),
                    }));
                }
            }
        }
    }
}

// ----- journal records ---------------------------------------------------------

/// Rewrites the journal at `path` to exactly the live `slots`.
fn compact(
    path: &Path,
    slots: &HashMap<ReplayKey, Slot>,
    outbox: &HashMap<[u8; 32], SentTx>,
) -> std::io::Result<()> {
    let mut aside = path.as_os_str().to_owned();
    aside.push(".compacting");
    let aside = PathBuf::from(aside);
    {
        let mut file = File::create(&aside)?;
        let mut out = String::new();
        for (key, slot) in slots {
            let record = match slot {
                Slot::Pending(tx) => encode_pending(key, tx),
                Slot::Settled(settled) => encode_settled(key, settled),
                Slot::InFlight { .. } => continue,
            };
            out.push_str(&record.to_string());
            out.push('\n');
        }
        for tx in outbox.values() {
            out.push_str(&encode_sent(tx).to_string());
            out.push('\n');
        }
        file.write_all(out.as_bytes())?;
        file.sync_all()?;
    }
    std::fs::rename(&aside, path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // The rename is durable once the directory is synced (best effort).
        if let Ok(dir) = File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    Ok(())
}

fn key_json(key: &ReplayKey) -> Value {
    json!({
        "chainId": key.chain_id,
        "contract": hexutil::encode_0x(&key.contract.0),
        "from": hexutil::encode_0x(&key.from.0),
        "nonce": hexutil::encode_0x(&key.nonce),
    })
}

fn encode_pending(key: &ReplayKey, tx: &PendingTx) -> Value {
    json!({
        "state": "pending",
        "key": key_json(key),
        "authorization": hexutil::encode_0x(&tx.authorization),
        "txHash": hexutil::encode_0x(&tx.tx_hash),
        "raw": hexutil::encode_0x(&tx.raw),
        "sender": hexutil::encode_0x(&tx.sender.0),
        "nonce": tx.nonce,
        "payer": hexutil::encode_0x(&tx.payer.0),
        "payTo": hexutil::encode_0x(&tx.pay_to.0),
        "amount": tx.amount.to_string(),
        "network": tx.network,
        "validBefore": tx.valid_before,
    })
}

fn encode_settled(key: &ReplayKey, s: &Settled) -> Value {
    json!({
        "state": "settled",
        "key": key_json(key),
        "authorization": hexutil::encode_0x(&s.authorization),
        "txHash": hexutil::encode_0x(&s.transaction),
        "payer": hexutil::encode_0x(&s.payer.0),
        "amount": s.amount.to_string(),
        "network": s.network,
        "validBefore": s.valid_before,
    })
}

fn encode_cleared(key: &ReplayKey) -> Value {
    json!({"state": "cleared", "key": key_json(key)})
}

fn encode_sent(tx: &SentTx) -> Value {
    json!({
        "state": "sent",
        "txHash": hexutil::encode_0x(&tx.tx_hash),
        "raw": hexutil::encode_0x(&tx.raw),
        "sender": hexutil::encode_0x(&tx.sender.0),
        "nonce": tx.nonce,
    })
}

fn encode_sent_done(tx_hash: &[u8; 32]) -> Value {
    json!({"state": "sent-done", "txHash": hexutil::encode_0x(tx_hash)})
}

/// One journal line.
enum Record {
    /// A key's new state (`None`: cleared).
    Key(ReplayKey, Option<Box<Slot>>),
    Sent(SentTx),
    SentDone([u8; 32]),
}

fn get<'a>(v: &'a Value, k: &str) -> Result<&'a Value, String> {
    v.get(k).ok_or_else(|| format!("missing {k:?}"))
}

fn str_of<'a>(v: &'a Value, k: &str) -> Result<&'a str, String> {
    get(v, k)?
        .as_str()
        .ok_or_else(|| format!("{k:?} is not a string"))
}

fn u64_of(v: &Value, k: &str) -> Result<u64, String> {
    get(v, k)?
        .as_u64()
        .ok_or_else(|| format!("{k:?} is not an integer"))
}

fn bytes_of(v: &Value, k: &str) -> Result<Vec<u8>, String> {
    hexutil::decode_0x(str_of(v, k)?).map_err(|e| format!("{k:?}: {e}"))
}

fn fixed_of<const N: usize>(v: &Value, k: &str) -> Result<[u8; N], String> {
    bytes_of(v, k)?
        .try_into()
        .map_err(|_| format!("{k:?} is not {N} bytes"))
}

fn address_of(v: &Value, k: &str) -> Result<Address, String> {
    Ok(Address(fixed_of::<20>(v, k)?))
}

fn amount_of(v: &Value) -> Result<U256, String> {
    U256::from_dec_str(str_of(v, "amount")?).map_err(|e| format!("\"amount\": {e}"))
}

fn decode_record(v: &Value) -> Result<Record, String> {
    match str_of(v, "state")? {
        "sent" => {
            return Ok(Record::Sent(SentTx {
                tx_hash: fixed_of::<32>(v, "txHash")?,
                raw: bytes_of(v, "raw")?,
                sender: address_of(v, "sender")?,
                nonce: u64_of(v, "nonce")?,
            }))
        }
        "sent-done" => return Ok(Record::SentDone(fixed_of::<32>(v, "txHash")?)),
        _ => {}
    }
    let k = get(v, "key")?;
    let key = ReplayKey {
        chain_id: u64_of(k, "chainId")?,
        contract: address_of(k, "contract")?,
        from: address_of(k, "from")?,
        nonce: fixed_of::<32>(k, "nonce")?,
    };
    let slot = match str_of(v, "state")? {
        "pending" => Some(Slot::Pending(PendingTx {
            authorization: fixed_of::<32>(v, "authorization")?,
            tx_hash: fixed_of::<32>(v, "txHash")?,
            raw: bytes_of(v, "raw")?,
            sender: address_of(v, "sender")?,
            nonce: u64_of(v, "nonce")?,
            payer: address_of(v, "payer")?,
            pay_to: address_of(v, "payTo")?,
            amount: amount_of(v)?,
            network: str_of(v, "network")?.to_owned(),
            valid_before: u64_of(v, "validBefore")?,
        })),
        "settled" => Some(Slot::Settled(Settled {
            authorization: fixed_of::<32>(v, "authorization")?,
            transaction: fixed_of::<32>(v, "txHash")?,
            payer: address_of(v, "payer")?,
            network: str_of(v, "network")?.to_owned(),
            amount: amount_of(v)?,
            valid_before: u64_of(v, "validBefore")?,
        })),
        "cleared" => None,
        other => return Err(format!("unknown state {other:?}")),
    };
    Ok(Record::Key(key, slot.map(Box::new)))
}

#[cfg(test)]
mod tests;
