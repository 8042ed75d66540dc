use super::*;

fn key(n: u8) -> ReplayKey {
    ReplayKey {
        chain_id: 31337,
        contract: Address([1; 20]),
        from: Address([2; 20]),
        nonce: [n; 32],
    }
}

/// The authorization every test claims with (another one: [`OTHER`]).
const AUTH: [u8; 32] = [0xaa; 32];
const OTHER: [u8; 32] = [0xbb; 32];

fn tx(n: u8) -> PendingTx {
    PendingTx {
        authorization: AUTH,
        tx_hash: [n; 32],
        raw: vec![n; 3],
        sender: Address([3; 20]),
        nonce: u64::from(n),
        payer: Address([2; 20]),
        pay_to: Address([4; 20]),
        amount: U256::from_u64(10_000),
        network: "eip155:31337".into(),
        valid_before: 2_000_000_000,
    }
}

fn settled(n: u8) -> Settled {
    Settled {
        authorization: AUTH,
        transaction: [n; 32],
        payer: Address([2; 20]),
        network: "eip155:31337".into(),
        amount: U256::from_u64(10_000),
        valid_before: 2_000_000_000,
    }
}

#[test]
fn one_owner_waiters_see_its_outcome_and_failure_clears() {
    let ledger = Ledger::in_memory();
    let Claim::Fresh(guard) = ledger.claim(key(1), AUTH, 0) else {
        panic!("fresh")
    };
    let Claim::Wait(mut rx) = ledger.claim(key(1), AUTH, 0) else {
        panic!("wait")
    };
    guard.finish(&Outcome::Failed {
        reason: "x",
        message: "m".into(),
    });
    assert!(matches!(
        rx.borrow_and_update().clone(),
        Some(Outcome::Failed { .. })
    ));
    assert!(matches!(ledger.claim(key(1), AUTH, 0), Claim::Fresh(_)));
}

#[test]
fn settled_is_sticky_and_dropped_guard_keeps_pending() {
    let ledger = Ledger::in_memory();
    let Claim::Fresh(guard) = ledger.claim(key(1), AUTH, 0) else {
        panic!()
    };
    guard.record_pending(&tx(1)).unwrap();
    guard.finish(&Outcome::Settled(settled(1)));
    assert!(matches!(ledger.claim(key(1), AUTH, 0), Claim::Settled(s) if s == settled(1)));

    let Claim::Fresh(guard) = ledger.claim(key(2), AUTH, 0) else {
        panic!()
    };
    guard.record_pending(&tx(2)).unwrap();
    drop(guard);
    assert_eq!(ledger.pending(), vec![(key(2), tx(2))]);
    assert!(matches!(ledger.claim(key(2), AUTH, 0), Claim::Pending(_, t) if t == tx(2)));
}

#[test]
fn journal_restores_pending_and_settled_but_not_cleared() {
    let dir = std::env::temp_dir().join(format!("fastx402-ledger-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("journal.jsonl");
    let _ = std::fs::remove_file(&path);
    {
        let ledger = Ledger::open(&path, 0).unwrap();
        for n in 1..=3 {
            let Claim::Fresh(g) = ledger.claim(key(n), AUTH, 0) else {
                panic!()
            };
            g.record_pending(&tx(n)).unwrap();
            match n {
                1 => g.finish(&Outcome::Settled(settled(1))),
                2 => g.finish(&Outcome::Failed {
                    reason: crate::x402::reason::TRANSACTION_FAILED,
                    message: String::new(),
                }),
                _ => drop(g), // crash with a transaction in flight
            }
        }
    }
    let ledger = Ledger::open(&path, 0).unwrap();
    assert!(matches!(ledger.claim(key(1), AUTH, 0), Claim::Settled(s) if s == settled(1)));
    assert!(matches!(ledger.claim(key(2), AUTH, 0), Claim::Fresh(_)));
    assert_eq!(ledger.pending(), vec![(key(3), tx(3))]);
    // Reopening compacted the journal to the two live records.
    drop(ledger);
    let lines = std::fs::read_to_string(&path).unwrap();
    assert_eq!(lines.lines().count(), 2, "{lines}");
    assert!(lines.contains("\"settled\"") && lines.contains("\"pending\""));
    let ledger = Ledger::open(&path, 0).unwrap();
    assert_eq!(ledger.pending(), vec![(key(3), tx(3))]);
    assert!(matches!(ledger.claim(key(1), AUTH, 0), Claim::Settled(s) if s == settled(1)));
    drop(ledger);
    std::fs::write(&path, "{\"state\":\"nonsense\"}\n").unwrap();
    assert!(matches!(
        Ledger::open(&path, 0),
        Err(JournalError::Corrupt { line: 1, .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn another_authorization_with_the_same_key_never_gets_the_stored_outcome() {
    let ledger = Ledger::in_memory();
    let Claim::Fresh(guard) = ledger.claim(key(1), AUTH, 0) else {
        panic!()
    };
    assert!(matches!(
        ledger.claim(key(1), OTHER, 0),
        Claim::Taken(Held::InFlight)
    ));
    guard.record_pending(&tx(1)).unwrap();
    drop(guard);
    assert!(matches!(
        ledger.claim(key(1), OTHER, 0),
        Claim::Taken(Held::Pending)
    ));
    let Claim::Pending(guard, _) = ledger.claim(key(1), AUTH, 0) else {
        panic!()
    };
    guard.finish(&Outcome::Settled(settled(1)));
    assert!(matches!(
        ledger.claim(key(1), OTHER, 0),
        Claim::Taken(Held::Settled)
    ));
    assert!(matches!(ledger.claim(key(1), AUTH, 0), Claim::Settled(_)));
}

fn temp_journal(name: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("fastx402-ledger-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("journal.jsonl");
    (dir, path)
}

#[test]
fn torn_last_line_is_dropped_and_reported_complete_records_kept() {
    let (dir, path) = temp_journal("torn");
    {
        let ledger = Ledger::open(&path, 0).unwrap();
        let Claim::Fresh(g) = ledger.claim(key(1), AUTH, 0) else {
            panic!()
        };
        g.record_pending(&tx(1)).unwrap();
        g.finish(&Outcome::Settled(settled(1)));
    }
    // A crash in the middle of the next record.
    let full = encode_pending(&key(2), &tx(2)).to_string();
    let mut file = OpenOptions::new().append(true).open(&path).unwrap();
    file.write_all(&full.as_bytes()[..full.len() / 2]).unwrap();
    drop(file);
    let ledger = Ledger::open(&path, 0).unwrap();
    assert_eq!(ledger.dropped_tail(), full.len() / 2);
    assert!(matches!(ledger.claim(key(1), AUTH, 0), Claim::Settled(s) if s == settled(1)));
    assert!(ledger.pending().is_empty());
    // The next append starts on a line of its own: reopening reads it back.
    let Claim::Fresh(g) = ledger.claim(key(3), AUTH, 0) else {
        panic!()
    };
    g.record_pending(&tx(3)).unwrap();
    drop(g);
    drop(ledger);
    let ledger = Ledger::open(&path, 0).unwrap();
    assert_eq!(ledger.dropped_tail(), 0);
    assert_eq!(ledger.pending(), vec![(key(3), tx(3))]);
    drop(ledger);
    // A complete record without its newline is kept, not dropped.
    std::fs::write(&path, encode_pending(&key(4), &tx(4)).to_string()).unwrap();
    let ledger = Ledger::open(&path, 0).unwrap();
    assert_eq!(
        (ledger.dropped_tail(), ledger.pending()),
        (0, vec![(key(4), tx(4))])
    );
    drop(ledger);
    // A bad line that is not the last one is corruption, not a torn write.
    std::fs::write(&path, "{\"state\":\"pend\n{}\n").unwrap();
    assert!(matches!(
        Ledger::open(&path, 0),
        Err(JournalError::Corrupt { line: 1, .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn one_journal_one_ledger() {
    let (dir, path) = temp_journal("lock");
    let first = Ledger::open(&path, 0).unwrap();
    assert!(matches!(
        Ledger::open(&path, 0),
        Err(JournalError::Locked { .. })
    ));
    drop(first);
    Ledger::open(&path, 0).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn outbox_survives_a_restart_until_done() {
    let (dir, path) = temp_journal("outbox");
    let sent = |n: u8| SentTx {
        tx_hash: [n; 32],
        raw: vec![n; 5],
        sender: Address([3; 20]),
        nonce: u64::from(n),
    };
    {
        let ledger = Ledger::open(&path, 0).unwrap();
        ledger.record_sent(&sent(7)).unwrap();
        ledger.record_sent(&sent(5)).unwrap();
        ledger.sent_done(&[7; 32]);
    }
    let ledger = Ledger::open(&path, 0).unwrap();
    assert_eq!(ledger.outbox(), vec![sent(5)]);
    std::fs::remove_dir_all(&dir).unwrap();
}
