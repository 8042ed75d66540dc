use std::time::Duration;

use hyper::StatusCode;
use serde_json::json;

use super::classify::{is_already_known, revert_data};
use super::client::{parse_answer, parse_url};
use super::error::malformed;
use super::*;
use crate::num::U256;

#[test]
fn quantities_are_strict() {
    let q = |s: &str| parse_quantity_u64(&json!(s), "q");
    assert_eq!(q("0x0"), Ok(0));
    assert_eq!(q("0x1a"), Ok(26));
    assert_eq!(q("0xffffffffffffffff"), Ok(u64::MAX));
    for bad in [
        "0x",
        "0x00",
        "0x01",
        "1a",
        "0X1",
        "0x1A",
        "0x 1",
        "0x10000000000000000",
        "",
    ] {
        assert!(q(bad).is_err(), "{bad:?}");
    }
    assert!(parse_quantity_u64(&json!(26), "q").is_err());
    let big = format!("0x1{}", "0".repeat(63));
    assert!(parse_quantity_u256(&json!(big), "q").is_ok());
    let too_big = format!("0x1{}", "0".repeat(64));
    assert!(parse_quantity_u256(&json!(too_big), "q").is_err());
    assert_eq!(quantity_u256(&U256::ZERO), "0x0");
    assert_eq!(quantity_u256(&U256::from_u64(0x1234)), "0x1234");
    assert_eq!(quantity(0), "0x0");
    assert_eq!(quantity(255), "0xff");
}

#[test]
fn data_and_hashes_are_strict() {
    assert_eq!(parse_data(&json!("0x"), "d"), Ok(vec![]));
    assert_eq!(parse_data(&json!("0x0a0b"), "d"), Ok(vec![10, 11]));
    for bad in ["0x0", "0xAB", "ab", "0xzz"] {
        assert!(parse_data(&json!(bad), "d").is_err(), "{bad}");
    }
    assert!(parse_hash(&json!(format!("0x{}", "ab".repeat(31))), "h").is_err());
    assert!(parse_hash(&json!(format!("0x{}", "ab".repeat(32))), "h").is_ok());
}

#[test]
fn envelopes_are_strict() {
    let ok = StatusCode::OK;
    let p = |body: &str| parse_answer("m", 7, ok, body.as_bytes());
    assert_eq!(
        p(r#"{"jsonrpc":"2.0","id":7,"result":"0x1"}"#),
        Ok(json!("0x1"))
    );
    assert!(matches!(
        p(r#"{"jsonrpc":"2.0","id":7,"error":{"code":-32000,"message":"nope","data":"0x"}}"#),
        Err(RpcError::Rpc { code: -32000, .. })
    ));
    for bad in [
        r#"{"jsonrpc":"2.0","id":8,"result":"0x1"}"#,
        r#"{"jsonrpc":"2.0","id":"7","result":"0x1"}"#,
        r#"{"jsonrpc":"2.0","id":7.0,"result":"0x1"}"#,
        r#"{"jsonrpc":"1.0","id":7,"result":"0x1"}"#,
        r#"{"jsonrpc":"2.0","id":7,"result":"0x1","result":"0x2"}"#,
        r#"{"jsonrpc":"2.0","id":7,"result":"0x1","error":{"code":1,"message":""}}"#,
        r#"{"jsonrpc":"2.0","id":7}"#,
        r#"{"jsonrpc":"2.0","id":7,"error":{"code":1.5,"message":""}}"#,
        r#"[{"jsonrpc":"2.0","id":7,"result":"0x1"}]"#,
        r#"{"jsonrpc":"2.0","id":7,"result":"0x1"} x"#,
        "<html>",
    ] {
        assert!(matches!(p(bad), Err(RpcError::Malformed { .. })), "{bad}");
    }
    assert!(matches!(
        parse_answer("m", 7, StatusCode::BAD_GATEWAY, b"<html>"),
        Err(RpcError::Http { status: 502, .. })
    ));
    assert!(matches!(
        parse_answer(
            "m",
            7,
            StatusCode::TOO_MANY_REQUESTS,
            br#"{"jsonrpc":"2.0","id":7,"error":{"code":-32005,"message":"slow down"}}"#
        ),
        Err(RpcError::Rpc { code: -32005, .. })
    ));
}

#[test]
fn rejections_are_classified() {
    use TxRejection as R;
    for (msg, want) in [
        (
            "nonce too low: next nonce 5, tx nonce 4",
            Some(R::NonceTooLow),
        ),
        (
            "replacement transaction underpriced",
            Some(R::ReplacementUnderpriced),
        ),
        ("transaction underpriced", Some(R::Underpriced)),
        (
            "max fee per gas less than block base fee: address 0x…",
            Some(R::Underpriced),
        ),
        (
            "insufficient funds for gas * price + value",
            Some(R::InsufficientFunds),
        ),
        ("intrinsic gas too low", Some(R::GasLimit)),
        (
            "tx fee (1.10 ether) exceeds the configured cap (1.00 ether)",
            Some(R::FeeCapExceeded),
        ),
        ("txpool is full", Some(R::PoolFull)),
        ("invalid sender", Some(R::Invalid)),
        ("internal error", None),
    ] {
        assert_eq!(classify_rejection(-32000, msg), want, "{msg}");
    }
    assert_eq!(classify_rejection(-32601, "whatever"), Some(R::BadRequest));
    assert!(is_already_known("already known"));
    assert!(is_already_known("Transaction already imported"));
    assert!(!is_already_known("nonce too low"));
}

#[test]
fn write_outcomes() {
    let m = || "eth_sendRawTransaction".to_owned();
    let unknown = RpcError::OutcomeUnknown {
        method: m(),
        cause: Unanswered::Timeout(Duration::from_secs(1)),
    };
    assert_eq!(unknown.write_outcome(), WriteOutcome::Unknown);
    assert!(unknown.is_timeout());
    let not_sent = RpcError::NotSent {
        method: m(),
        detail: "refused".into(),
    };
    assert_eq!(not_sent.write_outcome(), WriteOutcome::NotSent);
    for (status, want) in [
        (301, WriteOutcome::NotSent),
        (401, WriteOutcome::NotSent),
        (429, WriteOutcome::NotSent),
        (408, WriteOutcome::Unknown),
        (502, WriteOutcome::Unknown),
    ] {
        let e = RpcError::Http {
            method: m(),
            status,
        };
        assert_eq!(e.write_outcome(), want, "{status}");
    }
    assert_eq!(malformed("x", "y").write_outcome(), WriteOutcome::Unknown);
}

#[test]
fn urls() {
    assert!(parse_url("http://127.0.0.1:8545").is_ok());
    let (_, shown) = parse_url("https://eth.example/v2/SECRETKEY").unwrap();
    assert_eq!(shown, "https://eth.example");
    for bad in [
        "ftp://x",
        "127.0.0.1:8545",
        "http://user:pw@host/",
        "nonsense",
    ] {
        assert!(matches!(parse_url(bad), Err(RpcError::Config(_))), "{bad}");
    }
}

#[test]
fn revert_payloads() {
    assert_eq!(revert_data(-32000, "nonce too low", None), None);
    assert_eq!(revert_data(3, "execution reverted", None), Some(Ok(vec![])));
    assert_eq!(
        revert_data(
            -32000,
            "execution reverted: x",
            Some(&json!({"data": "0x01"}))
        ),
        Some(Ok(vec![1]))
    );
    assert!(matches!(
        revert_data(3, "execution reverted", Some(&json!("0xZZ"))),
        Some(Err(_))
    ));
}

#[test]
fn receipts_parse_strictly() {
    let good = json!({
        "transactionHash": format!("0x{}", "11".repeat(32)),
        "blockNumber": "0x5",
        "blockHash": format!("0x{}", "22".repeat(32)),
        "status": "0x1",
        "from": "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
        "to": null,
        "contractAddress": "0x5fbdb2315678afecb367f032d93f642f64180aa3",
        "gasUsed": "0x5208",
        "cumulativeGasUsed": "0x5208",
        "effectiveGasPrice": "0x3b9aca00",
        "logs": [{"address": "0x5fbdb2315678afecb367f032d93f642f64180aa3",
                   "topics": [format!("0x{}", "33".repeat(32))], "data": "0x", "logIndex": "0x0", "removed": false}]
    });
    let r = Receipt::from_json(&good).unwrap();
    assert!(r.status && r.to.is_none() && r.contract_address.is_some());
    assert_eq!(r.gas_used, 21000);
    assert_eq!(r.logs.len(), 1);
    let mut bad = good.clone();
    bad["status"] = json!("0x2");
    assert!(Receipt::from_json(&bad).is_err());
    let mut bad = good.clone();
    bad["gasUsed"] = json!("0x05208");
    assert!(Receipt::from_json(&bad).is_err());
    let mut bad = good;
    bad.as_object_mut().unwrap().remove("status");
    assert!(Receipt::from_json(&bad).is_err());
}

#[test]
fn median_tip_ignores_empty_blocks() {
    let u = U256::from_u64;
    let h = FeeHistory {
        oldest_block: 1,
        base_fee_per_gas: vec![],
        reward: vec![vec![u(0)], vec![u(5)], vec![u(1)], vec![u(9)], vec![]],
    };
    assert_eq!(median_tip(&h), u(5));
    let empty = FeeHistory {
        oldest_block: 1,
        base_fee_per_gas: vec![],
        reward: vec![vec![u(0)]],
    };
    assert_eq!(median_tip(&empty), U256::ZERO);
}
