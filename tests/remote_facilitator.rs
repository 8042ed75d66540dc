//! `facilitator::remote` against tiny local HTTP servers on 127.0.0.1, which
//! play a facilitator's good answers and the faults a real one cannot be made
//! to produce. Payments are real (signed by the core). Everything is bounded:
//! the client's timeouts, a fixed number of connections and requests per
//! server, and a wall-clock bound asserted on every slow path.

mod common;

use std::net::TcpListener as StdListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use _core::crypto::ecdsa::SecretKey;
use _core::facilitator::remote::{
    ErrorKind, RemoteConfig, RemoteError, RemoteFacilitator, SettleOutcome,
};
use _core::x402::create::CreateOptions;
use _core::x402::payment::create_payment;
use _core::x402::types::{PaymentPayload, PaymentRequired, Requirements};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

const NOW: u64 = 1_763_700_000;
/// anvil's public dev key #0 (never holds real funds).
const KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const PAYER: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const OTHER: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const SECRET: &str = "Bearer s3cret-token";

fn tx_hash() -> String {
    format!("0x{}", "ab".repeat(32))
}

// ---------------------------------------------------------------------------
// Payments
// ---------------------------------------------------------------------------

fn payment(version: u8) -> (PaymentPayload, Requirements) {
    let required = if version == 2 {
        json!({
            "x402Version": 2,
            "resource": {"url": "https://api.example/weather"},
            "accepts": [{
                "scheme": "exact", "network": "eip155:84532", "amount": "10000",
                "asset": "0x036CbD53842c5426634e7929541eC2318f3dCF7e", "payTo": OTHER,
                "maxTimeoutSeconds": 300, "extra": {"name": "USDC", "version": "2"},
            }],
        })
    } else {
        json!({
            "x402Version": 1,
            "accepts": [{
                "scheme": "exact", "network": "base-sepolia", "maxAmountRequired": "10000",
                "resource": "https://api.example/weather", "description": "weather",
                "mimeType": "application/json", "payTo": OTHER, "maxTimeoutSeconds": 300,
                "asset": "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
                "extra": {"name": "USDC", "version": "2"},
            }],
        })
    };
    let required = PaymentRequired::from_json(&required).unwrap();
    let key = SecretKey::from_hex(KEY).unwrap();
    let options = CreateOptions {
        now: NOW,
        nonce: Some([7; 32]),
    };
    let payload = create_payment(&required, &required.accepts[0], &key, &options).unwrap();
    (payload, required.accepts[0].clone())
}

// ---------------------------------------------------------------------------
// Fake servers
// ---------------------------------------------------------------------------

enum Reply {
    /// This status and JSON body (keep-alive).
    Json(u16, Value),
    /// This status and body text (keep-alive).
    Text(u16, String, String),
    /// These exact bytes, then close.
    Raw(Vec<u8>),
    /// Read the request, then close without a word.
    Close,
    /// Read the request, then never answer (until the test ends).
    Hang,
}

#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    /// The request head, lowercased.
    head: String,
    body: String,
}

impl Seen {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

struct Fake {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Fake {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

type Handler = dyn Fn(&Seen) -> Reply + Send + Sync;

/// A local HTTP/1.1 server answering with `handler`; at most 16 connections
/// and 16 requests per connection.
async fn fake(handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Fake {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/facilitator", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let handler: Arc<Handler> = Arc::new(handler);
    let log = seen.clone();
    tokio::spawn(async move {
        for _ in 0..16 {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let (handler, log) = (handler.clone(), log.clone());
            tokio::spawn(async move {
                for _ in 0..16 {
                    let Some(request) = read_request(&mut socket).await else {
                        return;
                    };
                    log.lock().unwrap().push(request.clone());
                    let bytes = match handler(&request) {
                        Reply::Json(status, v) => response(status, &v.to_string(), ""),
                        Reply::Text(status, body, extra) => response(status, &body, &extra),
                        Reply::Raw(bytes) => {
                            let _ = socket.write_all(&bytes).await;
                            return;
                        }
                        Reply::Close => return,
                        Reply::Hang => {
                            tokio::time::sleep(Duration::from_secs(30)).await;
                            return;
                        }
                    };
                    if socket.write_all(&bytes).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Fake { url, seen }
}

fn response(status: u16, body: &str, extra_headers: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra_headers}\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// One request: head, then a content-length body (at most 64 KiB in all).
async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<Seen> {
    let (head, body) = common::read_request(socket).await?;
    let mut start = head.split_whitespace();
    Some(Seen {
        method: start.next()?.to_owned(),
        path: start.next()?.to_owned(),
        head: head.to_ascii_lowercase(),
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn fast() -> RemoteConfig {
    RemoteConfig {
        connect_timeout: Duration::from_millis(200),
        verify_timeout: Duration::from_millis(400),
        settle_timeout: Duration::from_millis(600),
        headers: vec![("Authorization".into(), SECRET.into())],
        ..RemoteConfig::default()
    }
}

fn client(url: &str) -> RemoteFacilitator {
    RemoteFacilitator::new(url, fast()).unwrap()
}

fn settled_answer(network: &str, payer: &str) -> Value {
    json!({"success": true, "transaction": tx_hash(), "network": network, "payer": payer})
}

/// The outcome's error, asserting it is unknown; the secret must not show.
fn unknown(outcome: SettleOutcome) -> (RemoteError, Option<Value>) {
    match outcome {
        SettleOutcome::Unknown { error, response } => {
            assert!(!error.to_string().contains("s3cret"), "{error}");
            (error, response.map(|r| r.raw))
        }
        other => panic!("expected outcome unknown, got {other:?}"),
    }
}

fn no_secret(err: &RemoteError) {
    assert!(!err.to_string().contains("s3cret"), "{err}");
    assert!(!format!("{err:?}").contains("s3cret"), "{err:?}");
}

// ---------------------------------------------------------------------------
// Good answers
// ---------------------------------------------------------------------------

#[tokio::test]
async fn good_answers_v1_and_v2() {
    let server = fake(|req| match req.path.as_str() {
        "/facilitator/verify" => Reply::Json(200, json!({"isValid": true, "payer": PAYER, "new": 1})),
        "/facilitator/settle" => {
            let network = req.json()["paymentRequirements"]["network"].clone();
            Reply::Json(
                200,
                json!({"success": true, "transaction": tx_hash(), "network": network, "payer": PAYER, "amount": "10000"}),
            )
        }
        "/facilitator/supported" => Reply::Json(
            200,
            json!({"kinds": [{"x402Version": 2, "scheme": "exact", "network": "eip155:84532"}],
                   "extensions": [], "signers": {"eip155:*": [OTHER]}}),
        ),
        _ => Reply::Json(404, json!({})),
    })
    .await;
    let f = client(&server.url);
    for version in [2u8, 1] {
        let (payload, requirements) = payment(version);
        let verified = f.verify(&payload, &requirements).await.unwrap();
        assert!(verified.is_valid);
        assert_eq!(verified.payer.unwrap().to_checksum(), PAYER);
        let outcome = f.settle(&payload, &requirements).await.unwrap();
        let SettleOutcome::Settled(answer) = outcome else {
            panic!("{outcome:?}");
        };
        assert_eq!(answer.transaction, tx_hash());
        assert_eq!(answer.network, requirements.network);

        // The body: the payload exactly as the client sent it.
        let seen = server.seen();
        let settle = seen.last().unwrap();
        assert_eq!(settle.method, "POST");
        let expected = format!(
            r#"{{"x402Version":{version},"paymentPayload":{},"paymentRequirements":{}}}"#,
            payload.raw, requirements.raw
        );
        assert_eq!(settle.body, expected);
        assert!(settle.head.contains("content-type: application/json"));
        assert!(settle
            .head
            .contains(&format!("authorization: {}", SECRET.to_ascii_lowercase())));
    }
    let supported = f.supported().await.unwrap();
    assert_eq!(supported.kinds[0].network, "eip155:84532");
    let get = server.seen().last().unwrap().clone();
    assert_eq!(
        (get.method.as_str(), get.path.as_str()),
        ("GET", "/facilitator/supported")
    );
    assert!(get.head.contains("authorization: bearer s3cret-token"));
    assert!(!format!("{f:?}").contains("s3cret"));
}

#[tokio::test]
async fn verify_refusals_are_answers_kept_verbatim() {
    let server = fake(|req| match req.path.as_str() {
        "/facilitator/verify" => Reply::Json(
            400,
            json!({"isValid": false, "invalidReason": "invalid_exact_evm_insufficient_balance",
                   "invalidMessage": "balance 0 < 10000 ", "payer": PAYER}),
        ),
        _ => Reply::Json(400, json!({"isValid": true})),
    })
    .await;
    let f = client(&server.url);
    let (payload, requirements) = payment(2);
    let answer = f.verify(&payload, &requirements).await.unwrap();
    assert!(!answer.is_valid);
    assert_eq!(
        answer.invalid_reason.as_deref(),
        Some("invalid_exact_evm_insufficient_balance")
    );
    assert_eq!(
        answer.invalid_message.as_deref(),
        Some("balance 0 < 10000 ")
    );

    // isValid:true under an error status is not an answer.
    let err = client(&format!("{}/x", server.url))
        .verify(&payload, &requirements)
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), &err.kind),
        ("http_status", &ErrorKind::Status(400))
    );
}

#[tokio::test]
async fn settle_failure_is_definitive_only_without_a_transaction() {
    let server = fake(|req| match req.path.as_str() {
        "/facilitator/settle" => Reply::Json(
            400,
            json!({"success": false, "errorReason": "invalid_exact_evm_nonce_already_used",
                   "errorMessage": "nonce used", "transaction": "", "network": "eip155:84532"}),
        ),
        _ => Reply::Json(
            200,
            json!({"success": false, "errorReason": "transaction_failed",
                   "transaction": tx_hash(), "network": "eip155:84532"}),
        ),
    })
    .await;
    let (payload, requirements) = payment(2);
    let outcome = client(&server.url)
        .settle(&payload, &requirements)
        .await
        .unwrap();
    let SettleOutcome::Failed(answer) = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(
        answer.error_reason.as_deref(),
        Some("invalid_exact_evm_nonce_already_used")
    );

    let outcome = client(&format!("{}/reverted", server.url))
        .settle(&payload, &requirements)
        .await
        .unwrap();
    let (err, response) = unknown(outcome);
    assert_eq!(err.code(), "failed_with_transaction");
    assert_eq!(response.unwrap()["transaction"], json!(tx_hash()));
}

#[tokio::test]
async fn settlement_pending_is_asked_once_more_then_unknown() {
    let calls = Arc::new(Mutex::new(0usize));
    let counter = calls.clone();
    let server = fake(move |req| {
        let pending = json!({"success": false, "errorReason": "settlement_pending",
                             "errorMessage": "not mined yet", "transaction": tx_hash(),
                             "network": "eip155:84532"});
        match req.path.as_str() {
            // Pending once, then settled (the official SDK's retry-once contract).
            "/facilitator/settle" => {
                let mut n = counter.lock().unwrap();
                *n += 1;
                if *n == 1 {
                    Reply::Json(200, pending)
                } else {
                    Reply::Json(200, settled_answer("eip155:84532", PAYER))
                }
            }
            _ => Reply::Json(200, pending),
        }
    })
    .await;
    let (payload, requirements) = payment(2);
    let outcome = client(&server.url)
        .settle(&payload, &requirements)
        .await
        .unwrap();
    assert!(
        matches!(outcome, SettleOutcome::Settled(ref a) if a.transaction == tx_hash()),
        "{outcome:?}"
    );
    assert_eq!(*calls.lock().unwrap(), 2);

    // Still pending when asked again: outcome unknown (code "pending"), asked twice only.
    let before = server.seen().len();
    let outcome = client(&format!("{}/still", server.url))
        .settle(&payload, &requirements)
        .await
        .unwrap();
    let (err, response) = unknown(outcome);
    assert_eq!(err.code(), "pending");
    assert_eq!(response.unwrap()["transaction"], json!(tx_hash()));
    assert_eq!(server.seen().len() - before, 2);
}

// ---------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------

#[tokio::test]
async fn timeouts_verify_typed_settle_unknown() {
    let server = fake(|_| Reply::Hang).await;
    let f = client(&server.url);
    let (payload, requirements) = payment(2);
    let started = Instant::now();
    let err = f.verify(&payload, &requirements).await.unwrap_err();
    assert!(err.is_timeout() && err.code() == "timeout", "{err}");
    assert_eq!(err.kind, ErrorKind::Timeout(Duration::from_millis(400)));
    no_secret(&err);
    let (err, response) = unknown(f.settle(&payload, &requirements).await.unwrap());
    assert_eq!(err.code(), "timeout");
    assert!(response.is_none());
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn connection_refused_is_unavailable_not_sent() {
    let f = client(&format!("http://127.0.0.1:{}", free_port()));
    let (payload, requirements) = payment(2);
    let started = Instant::now();
    let err = f.settle(&payload, &requirements).await.unwrap_err();
    assert!(err.not_sent(), "{err}");
    assert_eq!(err.code(), "unavailable");
    no_secret(&err);
    let err = f.verify(&payload, &requirements).await.unwrap_err();
    assert_eq!(err.code(), "unavailable");
    let err = f.supported().await.unwrap_err();
    assert_eq!(err.code(), "unavailable");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn closed_connection_is_unknown() {
    let server = fake(|_| Reply::Close).await;
    let f = client(&server.url);
    let (payload, requirements) = payment(2);
    let (err, _) = unknown(f.settle(&payload, &requirements).await.unwrap());
    assert_eq!(err.code(), "connection_lost");
    assert!(!err.not_sent());
    let err = f.verify(&payload, &requirements).await.unwrap_err();
    assert_eq!(err.code(), "connection_lost");
    assert!(!server.seen().is_empty(), "the request was written");
}

#[tokio::test]
async fn server_errors_are_unknown_even_with_a_body() {
    let server = fake(|req| match req.path.as_str() {
        "/facilitator/settle" => Reply::Json(
            500,
            json!({"success": false, "errorReason": "unexpected_settle_error", "transaction": "", "network": "eip155:84532"}),
        ),
        _ => Reply::Text(500, "<html>oops</html>".into(), String::new()),
    })
    .await;
    let f = client(&server.url);
    let (payload, requirements) = payment(2);
    let (err, response) = unknown(f.settle(&payload, &requirements).await.unwrap());
    assert_eq!(err.kind, ErrorKind::Status(500));
    assert_eq!(response.unwrap()["errorReason"], "unexpected_settle_error");
    let err = f.verify(&payload, &requirements).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Status(500));
    let err = f.supported().await.unwrap_err();
    assert_eq!(err.code(), "http_status");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let target = fake(|_| Reply::Json(200, settled_answer("eip155:84532", PAYER))).await;
    let location = format!("{}/settle", target.url);
    let server =
        fake(move |_| Reply::Text(302, String::new(), format!("location: {location}\r\n"))).await;
    let f = client(&server.url);
    let (payload, requirements) = payment(2);
    let (err, _) = unknown(f.settle(&payload, &requirements).await.unwrap());
    assert_eq!(
        (err.code(), &err.kind),
        ("redirect", &ErrorKind::Redirect(302))
    );
    let err = f.verify(&payload, &requirements).await.unwrap_err();
    assert_eq!(err.code(), "redirect");
    let err = f.supported().await.unwrap_err();
    assert_eq!(err.code(), "redirect");
    assert_eq!(server.seen().len(), 3);
    assert!(
        target.seen().is_empty(),
        "the redirect target got a request"
    );
}

#[tokio::test]
async fn oversized_and_garbage_answers() {
    let big = format!(r#"{{"success":false,"pad":"{}"}}"#, "x".repeat(70_000));
    let chunked = {
        let mut out = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
        for _ in 0..20 {
            out.extend_from_slice(format!("1000\r\n{}\r\n", "y".repeat(4096)).as_bytes());
        }
        out.extend_from_slice(b"0\r\n\r\n");
        out
    };
    let server = fake(move |req| match req.path.as_str() {
        "/facilitator/big/settle" => Reply::Text(200, big.clone(), String::new()),
        "/facilitator/chunked/settle" => Reply::Raw(chunked.clone()),
        "/facilitator/html/settle" => Reply::Text(200, "<html>".into(), String::new()),
        "/facilitator/dup/settle" => Reply::Text(
            200,
            format!(
                r#"{{"success":true,"success":false,"transaction":"{}","network":"eip155:84532"}}"#,
                tx_hash()
            ),
            String::new(),
        ),
        "/facilitator/html/verify" => Reply::Text(200, "not json".into(), String::new()),
        _ => Reply::Text(200, "[]".into(), String::new()),
    })
    .await;
    let (payload, requirements) = payment(2);
    for (path, code) in [
        ("big", "too_large"),
        ("chunked", "too_large"),
        ("html", "malformed"),
        ("dup", "malformed"),
    ] {
        let f = client(&format!("{}/{path}", server.url));
        let (err, response) = unknown(f.settle(&payload, &requirements).await.unwrap());
        assert_eq!(err.code(), code, "{path}: {err}");
        assert!(response.is_none());
    }
    let f = client(&format!("{}/html", server.url));
    let err = f.verify(&payload, &requirements).await.unwrap_err();
    assert_eq!(err.code(), "malformed");
    let err = f.supported().await.unwrap_err();
    assert_eq!(err.code(), "malformed");
}

#[tokio::test]
async fn inconsistent_successes_are_unknown() {
    let server = fake(|req| {
        let answer = match req.path.as_str() {
            "/facilitator/empty/settle" => {
                json!({"success": true, "transaction": "", "network": "eip155:84532"})
            }
            "/facilitator/short/settle" => {
                json!({"success": true, "transaction": "0xabcd", "network": "eip155:84532"})
            }
            "/facilitator/network/settle" => settled_answer("eip155:8453", PAYER),
            "/facilitator/payer/settle" => settled_answer("eip155:84532", OTHER),
            "/facilitator/amount/settle" => {
                let mut answer = settled_answer("eip155:84532", PAYER);
                answer["amount"] = "1".into(); // the payment is for more
                answer
            }
            // A v1 name of the same chain, and no payer: settled.
            _ => json!({"success": true, "transaction": tx_hash(), "network": "base-sepolia"}),
        };
        Reply::Json(200, answer)
    })
    .await;
    let (payload, requirements) = payment(2);
    for (path, code) in [
        ("empty", "malformed"),
        ("short", "malformed"),
        ("network", "wrong_network"),
        ("payer", "wrong_payer"),
        ("amount", "wrong_amount"),
    ] {
        let f = client(&format!("{}/{path}", server.url));
        let (err, response) = unknown(f.settle(&payload, &requirements).await.unwrap());
        assert_eq!(err.code(), code, "{path}: {err}");
        assert_eq!(response.is_some(), code.starts_with("wrong"), "{path}");
    }
    let outcome = client(&format!("{}/same", server.url))
        .settle(&payload, &requirements)
        .await
        .unwrap();
    assert!(matches!(outcome, SettleOutcome::Settled(_)), "{outcome:?}");
}
