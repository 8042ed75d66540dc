use super::*;
use std::time::Duration;

fn sender() -> Address {
    Address([7; 20])
}

/// A client that is never asked (the sender is seeded); port 9 is discard.
fn offline() -> RpcClient {
    RpcClient::new("http://127.0.0.1:9").unwrap()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn hands_out_in_order_and_fills_released_gaps_first() {
    rt().block_on(async {
        let m = NonceManager::new();
        let rpc = offline();
        m.seed(sender(), 5);
        let a = m.reserve(&rpc, sender()).await.unwrap();
        let b = m.reserve(&rpc, sender()).await.unwrap();
        let c = m.reserve(&rpc, sender()).await.unwrap();
        assert_eq!((a.nonce(), b.nonce(), c.nonce()), (5, 6, 7));
        assert_eq!(b.release(), Disposition::Released);
        assert_eq!(a.sent(), Disposition::Sent);
        let d = m.reserve(&rpc, sender()).await.unwrap();
        assert_eq!(d.nonce(), 6, "a released nonce is reused first");
        assert_eq!(c.unknown(), Disposition::Unknown);
        let e = m.reserve(&rpc, sender()).await.unwrap();
        assert_eq!(e.nonce(), 8, "an unknown nonce is never reused");
        drop(d); // unresolved: unknown
        let f = m.reserve(&rpc, sender()).await.unwrap();
        assert_eq!(f.nonce(), 9);
        let st = m.state(sender());
        assert_eq!(st.unknown, vec![6, 7]);
        assert_eq!(st.outstanding, vec![8, 9]);
        assert_eq!(st.next, Some(10));
        assert!(m.reconciled(sender(), 7));
        assert!(!m.reconciled(sender(), 7));
        assert_eq!(m.state(sender()).unknown, vec![6]);
        let _ = (e.sent(), f.sent());
    });
}

#[test]
fn resolve_maps_send_results() {
    rt().block_on(async {
        let m = NonceManager::new();
        let rpc = offline();
        m.seed(sender(), 0);
        let rejected = |r: TxRejection| -> Result<Sent, RpcError> {
            Err(RpcError::Rejected {
                hash: "0x".into(),
                rejection: r,
                code: -32000,
                message: String::new(),
            })
        };
        let cases: Vec<(Result<Sent, RpcError>, Disposition)> = vec![
            (
                Ok(Sent {
                    hash: [0; 32],
                    already_known: true,
                }),
                Disposition::Sent,
            ),
            (
                Err(RpcError::NotSent {
                    method: "m".into(),
                    detail: "refused".into(),
                }),
                Disposition::Released,
            ),
            (rejected(TxRejection::Underpriced), Disposition::Released),
            (rejected(TxRejection::NonceTooLow), Disposition::Consumed),
            (
                rejected(TxRejection::ReplacementUnderpriced),
                Disposition::Consumed,
            ),
            (
                Err(RpcError::OutcomeUnknown {
                    method: "m".into(),
                    cause: super::super::rpc::Unanswered::Timeout(Duration::from_secs(1)),
                }),
                Disposition::Unknown,
            ),
            (
                Err(RpcError::Malformed {
                    method: "m".into(),
                    detail: "garbage".into(),
                }),
                Disposition::Unknown,
            ),
        ];
        for (result, want) in cases {
            let lease = m.reserve(&rpc, sender()).await.unwrap();
            assert_eq!(lease.resolve(&result), want, "{result:?}");
        }
    });
}

#[test]
fn concurrent_reservations_never_collide() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let m = Arc::new(NonceManager::new());
        m.seed(sender(), 100);
        let rpc = offline();
        let mut tasks = Vec::new();
        for i in 0..200u32 {
            let (m, rpc) = (m.clone(), rpc.clone());
            tasks.push(tokio::spawn(async move {
                let lease = m.reserve(&rpc, sender()).await.unwrap();
                let n = lease.nonce();
                tokio::task::yield_now().await;
                if i % 7 == 0 {
                    lease.release();
                    None
                } else {
                    lease.sent();
                    Some(n)
                }
            }));
        }
        let mut used = BTreeSet::new();
        for t in tasks {
            if let Some(n) = t.await.unwrap() {
                assert!(used.insert(n), "nonce {n} handed out twice");
            }
        }
        let st = m.state(sender());
        assert!(st.outstanding.is_empty());
        // Every nonce below `next` is either used or released: no gap.
        let next = st.next.unwrap();
        let mut all: BTreeSet<u64> = used.clone();
        all.extend(st.released.iter().copied());
        assert_eq!(all, (100..next).collect());
    });
}

#[test]
fn exhausted_at_eip_2681() {
    rt().block_on(async {
        let m = NonceManager::new();
        m.seed(sender(), u64::MAX - 1);
        assert!(matches!(
            m.reserve(&offline(), sender()).await,
            Err(NonceError::Exhausted(_))
        ));
    });
}
