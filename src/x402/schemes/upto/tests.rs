use super::*;

#[test]
fn upto_settlement_amounts() {
    let max = U256::from_u64(5_000_000);
    let some = |v: u64| Ok(Some(U256::from_u64(v)));
    assert_eq!(settle_amount(max, max, U256::from_u64(1_234)), some(1_234));
    assert_eq!(settle_amount(max, max, max), some(5_000_000));
    assert_eq!(settle_amount(max, max, U256::ZERO), Ok(None));
    let err = settle_amount(max, max, U256::from_u64(5_000_001)).unwrap_err();
    assert_eq!(err.reason, reason::UPTO_SETTLEMENT_EXCEEDS_AMOUNT);
    let err = settle_amount(max, U256::from_u64(4_999_999), U256::from_u64(1)).unwrap_err();
    assert_eq!(err.reason, reason::PERMIT2_AMOUNT_MISMATCH);
    assert_eq!(
        settle_amount(U256::MAX, U256::MAX, U256::MAX),
        Ok(Some(U256::MAX))
    );
}
