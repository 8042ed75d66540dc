//! Whether a `success: true` settlement answer (a facilitator's `/settle`, a
//! seller's `PAYMENT-RESPONSE`) is the settlement of *this* payment: the one
//! check that the seller's remote facilitator client and the agent's receipt
//! both apply, so "paid" means the same thing on both sides.
//!
//! `success: true` already implies a 32-byte transaction hash
//! ([`SettleResponse::from_json`]). On top of that the answer must name the
//! quoted network (either of a chain's names), the payment's payer when it names
//! one, and the quoted amount when it states one: exactly for `exact`, at most
//! the permitted maximum for `upto` (the server settles what it charged).

use std::fmt;

use super::networks::Registry;
use super::schemes::UPTO;
use super::types::SettleResponse;
use crate::crypto::address::Address;
use crate::num::U256;

/// How a settlement answer differs from the payment it should settle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mismatch {
    /// `success: false`: not a settlement at all.
    NotSettled,
    Network {
        expected: String,
        got: String,
    },
    Payer {
        expected: Address,
        got: Address,
    },
    /// `at_most`: the scheme allows less than `expected` (`upto`), not more.
    Amount {
        expected: U256,
        got: U256,
        at_most: bool,
    },
}

impl Mismatch {
    /// A stable snake_case name.
    pub fn code(&self) -> &'static str {
        match self {
            Mismatch::NotSettled => "not_settled",
            Mismatch::Network { .. } => "wrong_network",
            Mismatch::Payer { .. } => "wrong_payer",
            Mismatch::Amount { .. } => "wrong_amount",
        }
    }

    /// The answer's field at fault.
    pub fn field(&self) -> &'static str {
        match self {
            Mismatch::NotSettled => "success",
            Mismatch::Network { .. } => "network",
            Mismatch::Payer { .. } => "payer",
            Mismatch::Amount { .. } => "amount",
        }
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::NotSettled => write!(f, "the answer says not settled"),
            Mismatch::Network { expected, got } => {
                write!(
                    f,
                    "settled on network {got:?}, the payment is on {expected:?}"
                )
            }
            Mismatch::Payer { expected, got } => {
                write!(
                    f,
                    "settled for payer {got}, the payment's payer is {expected}"
                )
            }
            Mismatch::Amount {
                expected,
                got,
                at_most: true,
            } => write!(f, "settled amount {got} exceeds the permitted {expected}"),
            Mismatch::Amount { expected, got, .. } => {
                write!(f, "settled amount {got}, the payment is for {expected}")
            }
        }
    }
}

/// The same string, or two names of one chain (`base-sepolia`, `eip155:84532`).
pub fn same_network(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let registry = Registry::global();
    matches!(
        (registry.parse_network(a), registry.parse_network(b)),
        (Ok(x), Ok(y)) if x.chain_id() == y.chain_id()
    )
}

/// `Ok` when `answer` settles the payment of `amount` (smallest units) by
/// `payer` on `network` under `scheme`; else the first field that disagrees.
/// A `payer` of `None` (not known to the caller) and an answer without `payer`
/// or `amount` are not held against it: those fields are optional on the wire.
pub fn check_settlement(
    answer: &SettleResponse,
    network: &str,
    payer: Option<Address>,
    scheme: &str,
    amount: U256,
) -> Result<(), Mismatch> {
    if !answer.success {
        return Err(Mismatch::NotSettled);
    }
    if !same_network(&answer.network, network) {
        return Err(Mismatch::Network {
            expected: network.to_owned(),
            got: answer.network.clone(),
        });
    }
    if let (Some(got), Some(expected)) = (answer.payer, payer) {
        if got != expected {
            return Err(Mismatch::Payer { expected, got });
        }
    }
    if let Some(got) = answer.amount {
        let at_most = scheme == UPTO;
        if (at_most && got > amount) || (!at_most && got != amount) {
            return Err(Mismatch::Amount {
                expected: amount,
                got,
                at_most,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAYER: &str = "0x857b06519E91e3A54538791bDbb0E22373e36b66";
    const OTHER: &str = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";

    fn answer(network: &str, payer: Option<&str>, amount: Option<u64>) -> SettleResponse {
        let mut v = serde_json::json!({
            "success": true,
            "transaction": format!("0x{}", "ab".repeat(32)),
            "network": network,
        });
        if let Some(p) = payer {
            v["payer"] = p.into();
        }
        if let Some(a) = amount {
            v["amount"] = a.to_string().into();
        }
        SettleResponse::from_json(&v).unwrap()
    }

    fn addr(s: &str) -> Option<Address> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn a_matching_answer_passes_and_optional_fields_may_be_absent() {
        let full = answer("eip155:84532", Some(PAYER), Some(1000));
        let u = U256::from_u64(1000);
        assert_eq!(
            check_settlement(&full, "eip155:84532", addr(PAYER), "exact", u),
            Ok(())
        );
        // v1 name of the same chain
        assert_eq!(
            check_settlement(&full, "base-sepolia", addr(PAYER), "exact", u),
            Ok(())
        );
        let bare = answer("eip155:84532", None, None);
        assert_eq!(
            check_settlement(&bare, "eip155:84532", addr(PAYER), "exact", u),
            Ok(())
        );
    }

    #[test]
    fn each_disagreement_is_named() {
        let u = U256::from_u64(1000);
        let a = answer("eip155:8453", Some(PAYER), Some(1000));
        let e = check_settlement(&a, "eip155:84532", addr(PAYER), "exact", u).unwrap_err();
        assert_eq!((e.code(), e.field()), ("wrong_network", "network"));
        let a = answer("eip155:84532", Some(OTHER), Some(1000));
        let e = check_settlement(&a, "eip155:84532", addr(PAYER), "exact", u).unwrap_err();
        assert_eq!(e.code(), "wrong_payer");
        let a = answer("eip155:84532", Some(PAYER), Some(999));
        let e = check_settlement(&a, "eip155:84532", addr(PAYER), "exact", u).unwrap_err();
        assert_eq!(e.code(), "wrong_amount");
        assert!(e.to_string().contains("999"), "{e}");
        let failed = SettleResponse::from_json(&serde_json::json!({
            "success": false, "transaction": "", "network": "eip155:84532",
            "errorReason": "insufficient_funds"
        }))
        .unwrap();
        let e = check_settlement(&failed, "eip155:84532", None, "exact", u).unwrap_err();
        assert_eq!(e, Mismatch::NotSettled);
    }

    #[test]
    fn upto_may_settle_less_never_more() {
        let max = U256::from_u64(1000);
        let less = answer("eip155:84532", Some(PAYER), Some(400));
        assert_eq!(
            check_settlement(&less, "eip155:84532", addr(PAYER), "upto", max),
            Ok(())
        );
        let more = answer("eip155:84532", Some(PAYER), Some(1001));
        let e = check_settlement(&more, "eip155:84532", addr(PAYER), "upto", max).unwrap_err();
        assert!(matches!(e, Mismatch::Amount { at_most: true, .. }), "{e}");
    }
}
