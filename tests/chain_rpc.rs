//! `chain::rpc`, `chain::nonce` and `chain::fees` against a real anvil (npm
//! `@foundry-rs/anvil`, installed by `make chain-tools`) and against tiny local
//! TCP servers for the faults a real node cannot be made to produce.
//!
//! Everything is on 127.0.0.1 and bounded: anvil start-up (10 s, 3 ports),
//! every request (the client's timeouts), receipt waits (deadlines), fake
//! servers (a bounded number of connections and requests). Each anvil is
//! started by its test and killed by PID when dropped (and, on Linux, gets
//! SIGTERM if the thread that started it dies first).

mod common;

use std::collections::BTreeSet;
use std::net::TcpListener as StdListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use _core::abi::{self, RevertReason, Token};
use _core::chain::calls;
use _core::chain::fees::{FeeError, FeePolicy};
use _core::chain::nonce::{Disposition, NonceManager};
use _core::chain::rpc::{
    BlockTag, CallRequest, Receipt, RpcClient, RpcConfig, RpcError, Sent, TxRejection, Unanswered,
    WriteOutcome,
};
use _core::chain::{Eip1559Tx, SignedTx};
use _core::crypto::address::Address;
use _core::crypto::ecdsa::{SecretKey, Signature};
use _core::crypto::hexutil;
use _core::num::U256;
use _core::x402::create::CreateOptions;
use _core::x402::schemes::exact::eip3009 as exact;
use _core::x402::types::{Authorization, PaymentRequired, Requirements, SchemePayload};
use _core::x402::verify::VerifyOptions;
use serde_json::{json, Map, Value};
use tokio::io::AsyncWriteExt;

const CHAIN_ID: u64 = 31337;
/// anvil's dev accounts #0 (deployer, token owner) and #1 (facilitator).
/// Public test keys: never use them anywhere but a local chain.
const KEY0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const KEY1: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const RECEIPT_DEADLINE: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(20);

// ---------------------------------------------------------------------------
// anvil
// ---------------------------------------------------------------------------

fn anvil_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("FASTX402_ANVIL") {
        return path.into();
    }
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/contracts/node_modules/.bin/anvil");
    assert!(
        path.exists(),
        "{} is missing: run `make chain-tools` (or set FASTX402_ANVIL to an anvil binary). \
         These tests need a real chain and do not skip.",
        path.display()
    );
    path
}

fn token_artifact() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/contracts/build/TestUSDC.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: run `make chain-tools` to compile the test contracts",
            path.display()
        )
    });
    serde_json::from_str(&text).expect("TestUSDC.json")
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An anvil on 127.0.0.1, killed by PID on drop.
struct Anvil {
    child: Child,
    url: String,
}

impl Anvil {
    /// Starts anvil (chain 31337, automine unless `extra` says otherwise) and
    /// waits until it answers `eth_chainId`. Call from the test's own thread.
    fn start(extra: &[&str]) -> Anvil {
        let binary = anvil_binary();
        let probe = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut last = String::new();
        for _attempt in 0..3 {
            let port = free_port();
            let mut cmd = Command::new(&binary);
            cmd.args(["--host", "127.0.0.1", "--port", &port.to_string()])
                .args([
                    "--chain-id",
                    &CHAIN_ID.to_string(),
                    "--accounts",
                    "10",
                    "--silent",
                ])
                .args(extra)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
            unsafe {
                cmd.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                    Ok(())
                });
            }
            let child = cmd
                .spawn()
                .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
            let mut anvil = Anvil {
                child,
                url: format!("http://127.0.0.1:{port}"),
            };
            let config = RpcConfig {
                connect_timeout: Duration::from_millis(500),
                request_timeout: Duration::from_secs(1),
                read_retries: 0,
                ..RpcConfig::default()
            };
            let rpc = RpcClient::with_config(&anvil.url, config).unwrap();
            let deadline = Instant::now() + Duration::from_secs(10);
            let ready = probe.block_on(async {
                loop {
                    match rpc.chain_id().await {
                        Ok(id) => return Ok(id),
                        Err(e) if Instant::now() > deadline => return Err(e.to_string()),
                        Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                    }
                }
            });
            match (ready, anvil.child.try_wait()) {
                (Ok(id), _) => {
                    assert_eq!(id, CHAIN_ID);
                    return anvil;
                }
                (Err(e), Ok(Some(status))) => last = format!("anvil exited with {status}: {e}"),
                (Err(e), _) => {
                    anvil.stop();
                    panic!("anvil did not answer on {} within 10 s: {e}", anvil.url);
                }
            }
        }
        panic!("anvil did not start after 3 attempts: {last}");
    }

    fn rpc(&self) -> RpcClient {
        RpcClient::new(&self.url).unwrap()
    }

    fn stop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        self.stop();
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn key(hex: &str) -> SecretKey {
    SecretKey::from_hex(hex).unwrap()
}

// ---------------------------------------------------------------------------
// Sending transactions
// ---------------------------------------------------------------------------

/// Signs and sends a transaction from `key` with a nonce from `nonces`;
/// returns the signed transaction once the node accepted it.
async fn send(
    rpc: &RpcClient,
    nonces: &NonceManager,
    key: &SecretKey,
    to: Option<Address>,
    data: Vec<u8>,
    gas_limit: Option<u64>,
) -> SignedTx {
    // Deploying the token takes ~2.7 M gas; settlements ~80 k.
    let policy = FeePolicy {
        max_gas_limit: 6_000_000,
        ..FeePolicy::default()
    };
    let gas_limit = match gas_limit {
        Some(g) => g,
        None => {
            let call = CallRequest {
                from: Some(key.address()),
                to,
                data: data.clone(),
                ..CallRequest::default()
            };
            policy
                .gas_limit(rpc.estimate_gas(&call).await.unwrap())
                .unwrap()
        }
    };
    let fees = policy.estimate(rpc).await.unwrap();
    let lease = nonces.reserve(rpc, key.address()).await.unwrap();
    let mut tx = Eip1559Tx {
        chain_id: CHAIN_ID,
        nonce: lease.nonce(),
        gas_limit,
        to,
        data,
        ..Eip1559Tx::default()
    };
    fees.apply(&mut tx);
    let signed = tx.sign(key).unwrap();
    let result = rpc.send_raw_transaction(signed.raw()).await;
    let nonce = lease.nonce();
    assert_eq!(
        lease.resolve(&result),
        Disposition::Sent,
        "nonce {nonce}: {result:?}"
    );
    assert_eq!(result.unwrap().hash, signed.hash());
    signed
}

async fn mined(rpc: &RpcClient, tx: &SignedTx) -> Receipt {
    rpc.wait_for_receipt(&tx.hash(), RECEIPT_DEADLINE, POLL)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{} not mined within {RECEIPT_DEADLINE:?}", tx.hash_hex()))
}

async fn deploy_token(rpc: &RpcClient, nonces: &NonceManager, deployer: &SecretKey) -> Address {
    let artifact = token_artifact();
    let code = hexutil::decode_0x(artifact["bytecode"].as_str().unwrap()).unwrap();
    let tx = send(rpc, nonces, deployer, None, code, None).await;
    let receipt = mined(rpc, &tx).await;
    assert!(receipt.status, "deployment reverted");
    let token = receipt.contract_address.expect("contract address");
    assert!(!rpc
        .get_code(&token, BlockTag::Latest)
        .await
        .unwrap()
        .is_empty());
    token
}

async fn mint(
    rpc: &RpcClient,
    nonces: &NonceManager,
    owner: &SecretKey,
    token: Address,
    to: Address,
    amount: u64,
) {
    let data = abi::encode_call(
        abi::selector("mint(address,uint256)"),
        &[Token::Address(to), Token::uint(amount)],
    );
    let tx = send(rpc, nonces, owner, Some(token), data, None).await;
    assert!(mined(rpc, &tx).await.status, "mint reverted");
}

async fn balance(rpc: &RpcClient, token: Address, who: Address) -> U256 {
    let ret = rpc
        .call(
            &CallRequest::new(token, calls::balance_of(&who)),
            BlockTag::Latest,
        )
        .await
        .unwrap();
    calls::decode_balance_of(&ret).unwrap()
}

/// A payment signed by `payer` with fastx402's client (`x402::schemes::exact::eip3009`) for
/// `amount` of `token` to `pay_to`, at the chain's clock `now`: the
/// authorization and its signature, after local verification.
fn sign_payment(
    payer: &SecretKey,
    token: Address,
    pay_to: Address,
    amount: u64,
    now: u64,
) -> (Authorization, Signature) {
    let mut extra = Map::new();
    extra.insert("name".into(), json!("USD Coin"));
    extra.insert("version".into(), json!("2"));
    let requirements = Requirements::new_v2(
        "exact",
        "eip155:31337",
        U256::from_u64(amount),
        token,
        pay_to,
        300,
        Some(extra),
    );
    let required = PaymentRequired::from_json(&json!({
        "x402Version": 2,
        "resource": {"url": "https://api.example/weather", "description": "weather", "mimeType": "application/json"},
        "accepts": [requirements.raw],
    }))
    .unwrap();
    let options = CreateOptions { now, nonce: None };
    let payment = exact::create_payment(&required, &required.accepts[0], payer, &options).unwrap();
    let verification =
        exact::verify_payment(&payment, &required.accepts[0], &VerifyOptions::at(now));
    assert!(verification.is_valid(), "{verification:?}");
    let SchemePayload::Eip3009 {
        authorization,
        signature,
    } = payment.payload
    else {
        panic!("not an EIP-3009 payload");
    };
    (authorization, Signature::from_bytes(&signature).unwrap())
}

async fn chain_now(rpc: &RpcClient) -> u64 {
    rpc.latest_block().await.unwrap().timestamp
}

// ---------------------------------------------------------------------------
// On a real chain
// ---------------------------------------------------------------------------

#[test]
fn settles_a_transfer_with_authorization_and_reports_a_reused_one() {
    let anvil = Anvil::start(&[]);
    runtime().block_on(async {
        let rpc = anvil.rpc();
        let nonces = NonceManager::new();
        let (owner, facilitator, payer) = (key(KEY0), key(KEY1), SecretKey::generate().unwrap());
        let pay_to = SecretKey::generate().unwrap().address();

        // Typed reads.
        assert_eq!(rpc.chain_id().await.unwrap(), CHAIN_ID);
        let head = rpc.latest_block().await.unwrap();
        assert!(head.base_fee_per_gas.is_some());
        assert_eq!(rpc.block_number().await.unwrap(), head.number);
        assert!(rpc
            .get_block(BlockTag::Number(head.number + 1000))
            .await
            .unwrap()
            .is_none());
        assert!(rpc.max_priority_fee_per_gas().await.is_ok());
        let history = rpc.fee_history(1, BlockTag::Latest, &[50]).await.unwrap();
        assert_eq!(history.base_fee_per_gas.len(), 2);

        let token = deploy_token(&rpc, &nonces, &owner).await;
        for (call, want) in [(calls::name(), "USD Coin"), (calls::version(), "2")] {
            let ret = rpc
                .call(&CallRequest::new(token, call), BlockTag::Latest)
                .await
                .unwrap();
            assert_eq!(calls::decode_string(&ret).unwrap(), want);
        }
        mint(&rpc, &nonces, &owner, token, payer.address(), 5_000_000).await;
        assert_eq!(
            balance(&rpc, token, payer.address()).await,
            U256::from_u64(5_000_000)
        );

        // The payer signs with x402::schemes::exact::eip3009; the facilitator settles with the v,r,s overload.
        let (auth, sig) = sign_payment(&payer, token, pay_to, 1_250_000, chain_now(&rpc).await);
        let data = calls::transfer_with_authorization_vrs(&auth, &sig);
        let simulated = rpc
            .call(
                &CallRequest::new(token, data.clone()).from(facilitator.address()),
                BlockTag::Pending,
            )
            .await
            .unwrap();
        assert!(
            simulated.is_empty(),
            "transferWithAuthorization returns nothing"
        );
        let tx = send(&rpc, &nonces, &facilitator, Some(token), data.clone(), None).await;
        let receipt = mined(&rpc, &tx).await;
        assert!(receipt.status);
        assert_eq!(receipt.transaction_hash_hex(), tx.hash_hex());
        assert_eq!(receipt.from, facilitator.address());
        assert_eq!(receipt.to, Some(token));
        assert!(receipt.gas_used > 21_000 && receipt.gas_used <= tx.tx().gas_limit);
        assert!(!receipt.effective_gas_price.is_zero());
        assert!(receipt.effective_gas_price <= tx.tx().max_fee_per_gas);
        let logs: Vec<_> = receipt.logs_from(&token).collect();
        assert_eq!(logs.len(), 2, "{:?}", receipt.logs);
        let used = logs
            .iter()
            .find_map(|l| calls::decode_authorization_used_log(&l.topics, &l.data).unwrap())
            .expect("AuthorizationUsed log");
        assert_eq!((used.authorizer, used.nonce), (payer.address(), auth.nonce));
        let transfer = logs
            .iter()
            .find_map(|l| calls::decode_transfer_log(&l.topics, &l.data).unwrap())
            .expect("Transfer log");
        assert_eq!(
            (transfer.from, transfer.to, transfer.value),
            (payer.address(), pay_to, U256::from_u64(1_250_000))
        );
        assert_eq!(
            balance(&rpc, token, payer.address()).await,
            U256::from_u64(3_750_000)
        );
        assert_eq!(
            balance(&rpc, token, pay_to).await,
            U256::from_u64(1_250_000)
        );
        let state = rpc
            .call(
                &CallRequest::new(
                    token,
                    calls::authorization_state(&payer.address(), &auth.nonce),
                ),
                BlockTag::Latest,
            )
            .await
            .unwrap();
        assert!(calls::decode_authorization_state(&state).unwrap());

        // Resending the very same bytes after they were mined: a typed refusal,
        // resolved by the receipt of the same hash.
        let again = rpc.send_raw_transaction(tx.raw()).await.unwrap_err();
        assert!(
            matches!(
                &again,
                RpcError::Rejected {
                    rejection: TxRejection::NonceTooLow,
                    ..
                }
            ),
            "{again:?}"
        );
        assert_eq!(
            again.write_outcome(),
            WriteOutcome::Rejected(TxRejection::NonceTooLow)
        );
        assert!(
            rpc.get_transaction_receipt(&tx.hash())
                .await
                .unwrap()
                .unwrap()
                .status
        );

        // The same authorization again: eth_call and eth_estimateGas surface the
        // decoded revert reason; sent anyway, it is mined with status 0.
        let reason = RevertReason::Error("FiatTokenV2: authorization is used or canceled".into());
        let call = CallRequest::new(token, data.clone()).from(facilitator.address());
        match rpc.call(&call, BlockTag::Latest).await {
            Err(RpcError::Reverted {
                reason: got,
                data: raw,
                ..
            }) => {
                assert_eq!(got, reason);
                assert_eq!(abi::decode_revert_reason(&raw).unwrap(), reason);
            }
            other => panic!("expected a revert, got {other:?}"),
        }
        match rpc.estimate_gas(&call).await {
            Err(RpcError::Reverted { reason: got, .. }) => assert_eq!(got, reason),
            other => panic!("expected a revert, got {other:?}"),
        }
        let reverted = send(
            &rpc,
            &nonces,
            &facilitator,
            Some(token),
            data,
            Some(200_000),
        )
        .await;
        let receipt = mined(&rpc, &reverted).await;
        assert!(!receipt.status, "a reused authorization must revert");
        assert!(receipt.logs.is_empty());
        // Replayed at the block before it, the reason is the same.
        match rpc
            .call(&call, BlockTag::Number(receipt.block_number - 1))
            .await
        {
            Err(RpcError::Reverted { reason: got, .. }) => assert_eq!(got, reason),
            other => panic!("expected a revert, got {other:?}"),
        }
        assert_eq!(
            balance(&rpc, token, pay_to).await,
            U256::from_u64(1_250_000)
        );
        assert_eq!(
            balance(&rpc, token, payer.address()).await,
            U256::from_u64(3_750_000)
        );
        let st = nonces.state(facilitator.address());
        assert!(st.outstanding.is_empty() && st.unknown.is_empty() && st.released.is_empty());
    });
}

#[test]
fn fifty_concurrent_settlements_from_one_sender() {
    const N: u64 = 50;
    const AMOUNT: u64 = 10_000;
    let anvil = Anvil::start(&[]);
    runtime().block_on(async {
        let rpc = anvil.rpc();
        let nonces = Arc::new(NonceManager::new());
        let (owner, facilitator, payer) = (key(KEY0), key(KEY1), SecretKey::generate().unwrap());
        let pay_to = SecretKey::generate().unwrap().address();
        let token = deploy_token(&rpc, &nonces, &owner).await;
        mint(&rpc, &nonces, &owner, token, payer.address(), N * AMOUNT).await;
        // From here a block every second, as on a real chain: the transactions
        // wait in the pool and arrive there out of nonce order. (anvil's
        // automine, one block per transaction, races with its own pool under
        // concurrent out-of-order submission: a ready transaction can stay
        // "queued" for ever, with nothing wrong on the sender's side.)
        rpc.request_once("evm_setIntervalMining", json!([1]))
            .await
            .unwrap();
        let first_nonce = rpc
            .get_transaction_count(&facilitator.address(), BlockTag::Pending)
            .await
            .unwrap();
        let now = chain_now(&rpc).await;
        let payments: Vec<_> = (0..N)
            .map(|_| sign_payment(&payer, token, pay_to, AMOUNT, now))
            .collect();

        let started = Instant::now();
        let deadline = Duration::from_secs(60);
        let facilitator = Arc::new(facilitator);
        let mut tasks = Vec::new();
        for (auth, sig) in payments {
            let (rpc, nonces, facilitator) = (rpc.clone(), nonces.clone(), facilitator.clone());
            tasks.push(tokio::spawn(async move {
                let data = calls::transfer_with_authorization_vrs(&auth, &sig);
                let tx = send(
                    &rpc,
                    &nonces,
                    &facilitator,
                    Some(token),
                    data,
                    Some(120_000),
                )
                .await;
                (tx.tx().nonce, mined(&rpc, &tx).await)
            }));
        }
        let all = tokio::time::timeout(deadline, async {
            let mut out = Vec::new();
            for t in tasks {
                out.push(t.await.unwrap());
            }
            out
        })
        .await
        .expect("50 settlements within 60 s");
        let elapsed = started.elapsed();

        let used: BTreeSet<u64> = all.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            used,
            (first_nonce..first_nonce + N).collect(),
            "nonces: no collision, no gap"
        );
        for (nonce, receipt) in &all {
            assert!(receipt.status, "nonce {nonce} reverted");
            let transfers = receipt
                .logs_from(&token)
                .filter_map(|l| calls::decode_transfer_log(&l.topics, &l.data).unwrap())
                .count();
            assert_eq!(transfers, 1);
        }
        assert_eq!(
            balance(&rpc, token, pay_to).await,
            U256::from_u64(N * AMOUNT)
        );
        assert_eq!(balance(&rpc, token, payer.address()).await, U256::ZERO);
        assert_eq!(
            rpc.get_transaction_count(&facilitator.address(), BlockTag::Latest)
                .await
                .unwrap(),
            first_nonce + N
        );
        let st = nonces.state(facilitator.address());
        assert!(st.outstanding.is_empty() && st.unknown.is_empty() && st.released.is_empty());
        eprintln!("{N} concurrent settlements mined in {elapsed:?}");
    });
}

#[test]
fn already_known_replacement_and_nonce_too_low_are_typed() {
    // A chain that does not mine on its own: transactions wait in the pool.
    let anvil = Anvil::start(&["--no-mining"]);
    runtime().block_on(async {
        let rpc = anvil.rpc();
        let nonces = NonceManager::new();
        let sender = key(KEY1);
        let to = Some(SecretKey::generate().unwrap().address());
        let fees = FeePolicy::default().estimate(&rpc).await.unwrap();
        let lease = nonces.reserve(&rpc, sender.address()).await.unwrap();
        let mut tx = Eip1559Tx {
            chain_id: CHAIN_ID,
            nonce: lease.nonce(),
            gas_limit: 21_000,
            to,
            value: U256::from_u64(1),
            ..Eip1559Tx::default()
        };
        fees.apply(&mut tx);
        let signed = tx.sign(&sender).unwrap();
        let first = rpc.send_raw_transaction(signed.raw()).await;
        assert_eq!(
            first,
            Ok(Sent {
                hash: signed.hash(),
                already_known: false
            })
        );
        assert_eq!(lease.resolve(&first), Disposition::Sent);

        // The same bytes again: the node already has them (idempotent).
        let second = rpc.send_raw_transaction(signed.raw()).await;
        assert_eq!(
            second,
            Ok(Sent {
                hash: signed.hash(),
                already_known: true
            })
        );

        // Other bytes with the same nonce and the same fees: refused, the nonce is taken.
        let mut other = tx.clone();
        other.value = U256::from_u64(2);
        let other = other.sign(&sender).unwrap();
        let err = rpc.send_raw_transaction(other.raw()).await.unwrap_err();
        assert_eq!(
            err.write_outcome(),
            WriteOutcome::Rejected(TxRejection::ReplacementUnderpriced),
            "{err:?}"
        );

        // Mined: the same bytes are now "nonce too low", and the receipt is there.
        rpc.request_once("evm_mine", json!([])).await.unwrap();
        let receipt = rpc
            .wait_for_receipt(&signed.hash(), RECEIPT_DEADLINE, POLL)
            .await
            .unwrap()
            .unwrap();
        assert!(receipt.status);
        let err = rpc.send_raw_transaction(signed.raw()).await.unwrap_err();
        assert_eq!(
            err.write_outcome(),
            WriteOutcome::Rejected(TxRejection::NonceTooLow)
        );

        // A transaction the node refuses for its fees was never broadcast: its nonce is reused.
        let lease = nonces.reserve(&rpc, sender.address()).await.unwrap();
        let n = lease.nonce();
        let mut cheap = tx.clone();
        cheap.nonce = n;
        cheap.max_fee_per_gas = U256::from_u64(1);
        cheap.max_priority_fee_per_gas = U256::from_u64(1);
        let result = rpc
            .send_raw_transaction(cheap.sign(&sender).unwrap().raw())
            .await;
        assert_eq!(
            result.as_ref().unwrap_err().write_outcome(),
            WriteOutcome::Rejected(TxRejection::Underpriced),
            "{result:?}"
        );
        assert_eq!(lease.resolve(&result), Disposition::Released);
        let again = nonces.reserve(&rpc, sender.address()).await.unwrap();
        assert_eq!(again.nonce(), n);
        again.release();

        // Not mined within a deadline: `None`, not an error.
        let mut pending = tx.clone();
        pending.nonce = n;
        let pending = pending.sign(&sender).unwrap();
        rpc.send_raw_transaction(pending.raw()).await.unwrap();
        let waited = Instant::now();
        let none = rpc
            .wait_for_receipt(&pending.hash(), Duration::from_millis(300), POLL)
            .await
            .unwrap();
        assert!(none.is_none());
        assert!(waited.elapsed() < Duration::from_secs(3));

        // Fee ceiling: refuse to sign above it.
        let base = rpc.latest_block().await.unwrap().base_fee_per_gas.unwrap();
        let tight = FeePolicy {
            max_fee_ceiling: base,
            ..FeePolicy::default()
        };
        assert!(matches!(
            tight.fees(base, U256::from_u64(1)),
            Err(FeeError::AboveCeiling { .. })
        ));
    });
}

// ---------------------------------------------------------------------------
// Faults: tiny local servers
// ---------------------------------------------------------------------------

enum Reply {
    /// Read the request, then never answer (until the test ends).
    Hang,
    /// These exact bytes (a whole HTTP response), then close.
    Raw(Vec<u8>),
    /// HTTP 200 with this JSON body, keep-alive.
    Json(Value),
}

fn http_response(status: &str, body: &[u8], extra_headers: &str) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra_headers}\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// A local HTTP/1.1 server answering each JSON-RPC request with `handler`;
/// counts requests. At most 32 connections and 32 requests per connection.
/// Waits (bounded: 5 s) until `counter` reaches `expected`, then watches it for 300 ms
/// more, so that a request that should not come has had its chance; returns the count.
async fn settled_count(counter: &AtomicUsize, expected: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(5);
    while counter.load(Ordering::SeqCst) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let quiet_until = Instant::now() + Duration::from_millis(300);
    while counter.load(Ordering::SeqCst) <= expected && Instant::now() < quiet_until {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    counter.load(Ordering::SeqCst)
}

struct FakeNode {
    url: String,
    requests: Arc<AtomicUsize>,
    connections: Arc<AtomicUsize>,
}

async fn fake_node(handler: impl Fn(&Value) -> Reply + Send + Sync + 'static) -> FakeNode {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let connections = Arc::new(AtomicUsize::new(0));
    let handler = Arc::new(handler);
    let (counter, accepted) = (requests.clone(), connections.clone());
    tokio::spawn(async move {
        for _ in 0..32 {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            accepted.fetch_add(1, Ordering::SeqCst);
            let (handler, counter) = (handler.clone(), counter.clone());
            tokio::spawn(async move {
                for _ in 0..32 {
                    let Some(request) = read_request(&mut socket).await else {
                        return;
                    };
                    counter.fetch_add(1, Ordering::SeqCst);
                    match handler(&request) {
                        Reply::Hang => {
                            tokio::time::sleep(Duration::from_secs(60)).await;
                            return;
                        }
                        Reply::Raw(bytes) => {
                            let _ = socket.write_all(&bytes).await;
                            return;
                        }
                        Reply::Json(v) => {
                            let body = serde_json::to_vec(&v).unwrap();
                            if socket
                                .write_all(&http_response("200 OK", &body, ""))
                                .await
                                .is_err()
                            {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    FakeNode {
        url,
        requests,
        connections,
    }
}

/// Reads one request's body as JSON.
async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<Value> {
    let (_, body) = common::read_request(socket).await?;
    serde_json::from_slice(&body).ok()
}

fn ok(request: &Value, result: Value) -> Reply {
    Reply::Json(json!({"jsonrpc": "2.0", "id": request["id"], "result": result}))
}

fn fast_config() -> RpcConfig {
    RpcConfig {
        connect_timeout: Duration::from_millis(200),
        request_timeout: Duration::from_millis(300),
        read_retries: 2,
        read_budget: Duration::from_secs(3),
        retry_backoff: Duration::from_millis(50),
        ..RpcConfig::default()
    }
}

/// A signed transaction for the write tests (never reaches a chain).
fn some_raw_tx() -> SignedTx {
    Eip1559Tx {
        chain_id: CHAIN_ID,
        nonce: 0,
        gas_limit: 21_000,
        to: Some(Address([9; 20])),
        max_fee_per_gas: U256::from_u64(2_000_000_000),
        max_priority_fee_per_gas: U256::from_u64(1),
        ..Eip1559Tx::default()
    }
    .sign(&key(KEY1))
    .unwrap()
}

#[test]
fn rpc_down_is_a_transport_error_before_sending() {
    runtime().block_on(async {
        // A port that was just free: connection refused.
        let url = format!("http://127.0.0.1:{}", free_port());
        let rpc = RpcClient::with_config(&url, fast_config()).unwrap();
        let started = Instant::now();
        let err = rpc.chain_id().await.unwrap_err();
        assert!(matches!(err, RpcError::NotSent { .. }), "{err:?}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "bounded by the read budget"
        );

        let tx = some_raw_tx();
        let err = rpc.send_raw_transaction(tx.raw()).await.unwrap_err();
        assert!(matches!(err, RpcError::NotSent { .. }), "{err:?}");
        assert_eq!(err.write_outcome(), WriteOutcome::NotSent);
        assert_eq!(err.code(), "not_sent");

        // The nonce manager releases such a nonce for reuse.
        let nonces = NonceManager::new();
        nonces.seed(tx.recover_sender().unwrap(), 0);
        let lease = nonces
            .reserve(&rpc, tx.recover_sender().unwrap())
            .await
            .unwrap();
        assert_eq!(lease.resolve(&Err(err)), Disposition::Released);
    });
}

#[test]
fn slow_rpc_times_out_and_a_write_is_outcome_unknown() {
    runtime().block_on(async {
        let node = fake_node(|_| Reply::Hang).await;
        let rpc = RpcClient::with_config(&node.url, fast_config()).unwrap();

        // A write is sent exactly once; its timeout means "may have been broadcast".
        let tx = some_raw_tx();
        let started = Instant::now();
        let err = rpc.send_raw_transaction(tx.raw()).await.unwrap_err();
        let took = started.elapsed();
        assert!(
            matches!(
                &err,
                RpcError::OutcomeUnknown {
                    cause: Unanswered::Timeout(_),
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.is_timeout());
        assert_eq!(err.write_outcome(), WriteOutcome::Unknown);
        assert!(
            took >= Duration::from_millis(300) && took < Duration::from_secs(2),
            "{took:?}"
        );
        assert_eq!(
            settled_count(&node.requests, 1).await,
            1,
            "a write is never retried"
        );

        // Its nonce is never handed out again.
        let nonces = NonceManager::new();
        let sender = tx.recover_sender().unwrap();
        nonces.seed(sender, 0);
        let lease = nonces.reserve(&rpc, sender).await.unwrap();
        assert_eq!(lease.resolve(&Err(err)), Disposition::Unknown);
        let next = nonces.reserve(&rpc, sender).await.unwrap();
        assert_eq!(next.nonce(), 1);
        next.release();
        assert_eq!(nonces.state(sender).unknown, vec![0]);

        // A read is retried (3 attempts), within its budget.
        let before = node.requests.load(Ordering::SeqCst);
        let started = Instant::now();
        let err = rpc.block_number().await.unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(3));
        assert_eq!(settled_count(&node.requests, before + 3).await - before, 3);

        // Waiting for a receipt from a node that never answers ends by its deadline.
        let started = Instant::now();
        let err = rpc
            .wait_for_receipt(&tx.hash(), Duration::from_millis(500), POLL)
            .await
            .unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        let took = started.elapsed();
        // The deadline (500 ms) plus one request timeout (300 ms), with a generous margin.
        assert!(took < Duration::from_millis(500 + 300 + 1_500), "{took:?}");
    });
}

#[test]
fn garbage_answers_are_malformed() {
    runtime().block_on(async {
        let garbage = fake_node(|_| Reply::Raw(http_response("200 OK", b"<html>definitely not JSON", ""))).await;
        let rpc = RpcClient::with_config(&garbage.url, fast_config()).unwrap();
        let err = rpc.chain_id().await.unwrap_err();
        assert!(matches!(err, RpcError::Malformed { .. }), "{err:?}");
        assert_eq!(garbage.requests.load(Ordering::SeqCst), 1, "malformed is not retried");
        let err = rpc.send_raw_transaction(some_raw_tx().raw()).await.unwrap_err();
        assert!(matches!(err, RpcError::Malformed { .. }), "{err:?}");
        assert_eq!(err.write_outcome(), WriteOutcome::Unknown, "garbage after a write: unknown");

        // Strict JSON-RPC: each of these answers to eth_blockNumber is malformed.
        let tx = some_raw_tx();
        let tx_hash = tx.hash_hex();
        type Answer = Box<dyn Fn(&Value) -> Value + Send + Sync>;
        let cases: Vec<(&str, Answer)> = vec![
            ("leading zeros", Box::new(|r| json!({"jsonrpc": "2.0", "id": r["id"], "result": "0x01"}))),
            ("uppercase hex", Box::new(|r| json!({"jsonrpc": "2.0", "id": r["id"], "result": "0xA"}))),
            ("a number", Box::new(|r| json!({"jsonrpc": "2.0", "id": r["id"], "result": 10}))),
            ("wrong id", Box::new(|r| json!({"jsonrpc": "2.0", "id": r["id"].as_u64().unwrap() + 1, "result": "0x1"}))),
            ("no version", Box::new(|r| json!({"id": r["id"], "result": "0x1"}))),
            ("no result", Box::new(|r| json!({"jsonrpc": "2.0", "id": r["id"]}))),
        ];
        for (name, make) in cases {
            let node = fake_node(move |r| Reply::Json(make(r))).await;
            let rpc = RpcClient::with_config(&node.url, fast_config()).unwrap();
            let err = rpc.block_number().await.unwrap_err();
            assert!(matches!(err, RpcError::Malformed { .. }), "{name}: {err:?}");
        }

        // Duplicate keys (no last-key-wins).
        let node = fake_node(|r| {
            let body = format!(r#"{{"jsonrpc":"2.0","id":{},"result":"0x1","result":"0x2"}}"#, r["id"]);
            Reply::Raw(http_response("200 OK", body.as_bytes(), ""))
        })
        .await;
        let rpc = RpcClient::with_config(&node.url, fast_config()).unwrap();
        assert!(matches!(rpc.block_number().await, Err(RpcError::Malformed { .. })));

        // A node answering another hash for our transaction.
        let node = fake_node(|r| ok(r, json!(format!("0x{}", "ab".repeat(32))))).await;
        let rpc = RpcClient::with_config(&node.url, fast_config()).unwrap();
        let err = rpc.send_raw_transaction(tx.raw()).await.unwrap_err();
        assert!(matches!(err, RpcError::Malformed { .. }), "{err:?}");
        // …and the right one.
        let node = fake_node(move |r| ok(r, json!(tx_hash))).await;
        let rpc = RpcClient::with_config(&node.url, fast_config()).unwrap();
        assert!(rpc.send_raw_transaction(tx.raw()).await.is_ok());

        // Over the size cap (declared, and streamed without a length).
        let small = RpcConfig { max_response_bytes: 1024, ..fast_config() };
        let node = fake_node(|r| ok(r, json!(format!("0x{}", "00".repeat(4096))))).await;
        let rpc = RpcClient::with_config(&node.url, small.clone()).unwrap();
        let err = rpc.get_code(&Address([1; 20]), BlockTag::Latest).await.unwrap_err();
        assert!(matches!(&err, RpcError::Malformed { detail, .. } if detail.contains("larger")), "{err:?}");
        let node = fake_node(|_| {
            let mut raw = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n".to_vec();
            raw.extend(std::iter::repeat_n(b' ', 4096));
            Reply::Raw(raw)
        })
        .await;
        let rpc = RpcClient::with_config(&node.url, small).unwrap();
        let err = rpc.block_number().await.unwrap_err();
        assert!(matches!(&err, RpcError::Malformed { detail, .. } if detail.contains("larger")), "{err:?}");

        // Redirects are not followed.
        let node = fake_node(|_| Reply::Raw(http_response("302 Found", b"", "location: http://127.0.0.1:1/\r\n"))).await;
        let rpc = RpcClient::with_config(&node.url, fast_config()).unwrap();
        let err = rpc.block_number().await.unwrap_err();
        assert!(matches!(err, RpcError::Http { status: 302, .. }), "{err:?}");
        assert_eq!(node.requests.load(Ordering::SeqCst), 1);

        // A JSON-RPC error object is typed, with code, message and data.
        let node = fake_node(|r| {
            Reply::Json(json!({"jsonrpc": "2.0", "id": r["id"], "error": {"code": -32000, "message": "header not found", "data": {"x": 1}}}))
        })
        .await;
        let rpc = RpcClient::with_config(&node.url, fast_config()).unwrap();
        assert_eq!(
            rpc.block_number().await,
            Err(RpcError::Rpc {
                method: "eth_blockNumber".into(),
                code: -32000,
                message: "header not found".into(),
                data: Some(Box::new(json!({"x": 1}))),
            })
        );
    });
}

/// A node's words are kept whole in the error (classification reads them) but
/// shown bounded: 256 bytes at a character boundary, unprintables escaped,
/// an ellipsis and the full size (`_core::text`).
#[test]
fn node_text_in_errors_is_shown_bounded() {
    use _core::text::{CHAIN_TEXT_MAX_BYTES, ELLIPSIS};
    let long = format!("{}\u{1b}[2J\r\n\u{202e}", "é€😀 ".repeat(1000));
    let shown_ok = |err: &RpcError| {
        let shown = err.to_string();
        assert!(
            shown.len() <= CHAIN_TEXT_MAX_BYTES + 128,
            "{} bytes: {shown}",
            shown.len()
        );
        assert!(shown.contains(ELLIPSIS), "{shown}");
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
    };
    runtime().block_on(async {
        // A JSON-RPC error with a long message: typed, message intact, shown bounded.
        let message = long.clone();
        let node = fake_node(move |r| {
            Reply::Json(json!({"jsonrpc": "2.0", "id": r["id"], "error": {"code": -32000, "message": message}}))
        })
        .await;
        let rpc = RpcClient::with_config(&node.url, fast_config()).unwrap();
        let err = rpc.block_number().await.unwrap_err();
        assert!(matches!(&err, RpcError::Rpc { message, .. } if *message == long), "{err:?}");
        shown_ok(&err);

        // A refusal of a transaction: classified from the whole message, shown bounded.
        let message = format!("nonce too low: {long}");
        let node = fake_node(move |r| {
            Reply::Json(json!({"jsonrpc": "2.0", "id": r["id"], "error": {"code": -32000, "message": message}}))
        })
        .await;
        let rpc = RpcClient::with_config(&node.url, fast_config()).unwrap();
        let err = rpc.send_raw_transaction(some_raw_tx().raw()).await.unwrap_err();
        assert!(matches!(err, RpcError::Rejected { rejection: TxRejection::NonceTooLow, .. }), "{err:?}");
        shown_ok(&err);

        // A malformed answer that the detail quotes (a 10 KB quantity).
        let node = fake_node(|r| ok(r, json!(format!("0x0{}", "0".repeat(10_000))))).await;
        let rpc = RpcClient::with_config(&node.url, fast_config()).unwrap();
        let err = rpc.block_number().await.unwrap_err();
        assert!(matches!(err, RpcError::Malformed { .. }), "{err:?}");
        shown_ok(&err);

        // A revert with a long Error(string), as anvil answers it (code 3, message and data).
        let data = abi::encode_call(abi::selectors::ERROR_STRING, &[Token::String(long.clone())]);
        let (message, data_hex) = (format!("execution reverted: {long}"), hexutil::encode_0x(&data));
        let node = fake_node(move |r| {
            Reply::Json(json!({"jsonrpc": "2.0", "id": r["id"], "error": {"code": 3, "message": message, "data": data_hex}}))
        })
        .await;
        let rpc = RpcClient::with_config(&node.url, fast_config()).unwrap();
        let call = CallRequest::new(Address([7; 20]), vec![1, 2, 3, 4]);
        let err = rpc.call(&call, BlockTag::Latest).await.unwrap_err();
        assert!(
            matches!(&err, RpcError::Reverted { reason: RevertReason::Error(s), .. } if *s == long),
            "{err:?}"
        );
        shown_ok(&err);
    });
}

#[test]
fn priority_fee_falls_back_to_fee_history_and_keep_alive_is_used() {
    runtime().block_on(async {
        let node = fake_node(|r| match r["method"].as_str().unwrap() {
            "eth_maxPriorityFeePerGas" => Reply::Json(
                json!({"jsonrpc": "2.0", "id": r["id"], "error": {"code": -32601, "message": "the method eth_maxPriorityFeePerGas does not exist/is not available"}}),
            ),
            "eth_feeHistory" => ok(
                r,
                json!({"oldestBlock": "0x10", "baseFeePerGas": ["0x64", "0x64", "0x64", "0x64"],
                       "gasUsedRatio": [0.5, 0.0, 0.25], "reward": [["0x3"], ["0x0"], ["0x7"]]}),
            ),
            "eth_getBlockByNumber" => ok(
                r,
                json!({"number": "0x12", "hash": format!("0x{}", "11".repeat(32)), "parentHash": format!("0x{}", "22".repeat(32)),
                       "timestamp": "0x6553f100", "baseFeePerGas": "0x64", "gasLimit": "0x1c9c380", "gasUsed": "0x0"}),
            ),
            _ => Reply::Json(json!({"jsonrpc": "2.0", "id": r["id"], "error": {"code": -32601, "message": "method not found"}})),
        })
        .await;
        let rpc = RpcClient::with_config(&node.url, fast_config()).unwrap();
        assert_eq!(rpc.max_priority_fee_per_gas().await.unwrap(), U256::from_u64(7));
        let fees = FeePolicy::default().estimate(&rpc).await.unwrap();
        assert_eq!(fees.max_priority_fee_per_gas, U256::from_u64(7));
        assert_eq!(fees.max_fee_per_gas, U256::from_u64(2 * 100 + 7));
        // eth_maxPriorityFeePerGas + eth_feeHistory, twice, and the latest block.
        assert_eq!(node.requests.load(Ordering::SeqCst), 5);
        // Keep-alive: sequential requests of a fresh client reuse their
        // connection. hyper hands a connection back to the pool from its
        // connection task, so under load a request can occasionally start just
        // before that and open a second one; never one per request.
        // A node of its own, so no late accept of the first client's connections is counted.
        let blocks = fake_node(|r| {
            ok(
                r,
                json!({"number": "0x12", "hash": format!("0x{}", "11".repeat(32)), "parentHash": format!("0x{}", "22".repeat(32)),
                       "timestamp": "0x6553f100", "baseFeePerGas": "0x64", "gasLimit": "0x1c9c380", "gasUsed": "0x0"}),
            )
        })
        .await;
        let fresh = RpcClient::with_config(&blocks.url, fast_config()).unwrap();
        for _ in 0..5 {
            fresh.latest_block().await.unwrap();
        }
        assert_eq!(blocks.requests.load(Ordering::SeqCst), 5);
        let opened = blocks.connections.load(Ordering::SeqCst);
        assert!((1..=2).contains(&opened), "{opened} connections for 5 sequential requests");
    });
}
