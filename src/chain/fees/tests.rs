use super::*;

fn u(v: u64) -> U256 {
    U256::from_u64(v)
}

fn policy() -> FeePolicy {
    FeePolicy {
        max_fee_ceiling: u(100),
        priority_floor: u(2),
        priority_ceiling: u(10),
        ..FeePolicy::default()
    }
}

#[test]
fn twice_the_base_fee_plus_the_clamped_tip() {
    let p = policy();
    let f = p.fees(u(30), u(5)).unwrap();
    assert_eq!(
        (f.max_fee_per_gas, f.max_priority_fee_per_gas, f.capped),
        (u(65), u(5), false)
    );
    // Tip clamped to the floor and to the ceiling.
    assert_eq!(p.fees(u(30), u(0)).unwrap().max_priority_fee_per_gas, u(2));
    assert_eq!(
        p.fees(u(30), u(1000)).unwrap().max_priority_fee_per_gas,
        u(10)
    );
    // Capped: 2 × 60 + 5 > 100, but 60 + 5 fits.
    let f = p.fees(u(60), u(5)).unwrap();
    assert_eq!((f.max_fee_per_gas, f.capped), (u(100), true));
    // Refused: 96 + 5 > 100.
    assert_eq!(
        p.fees(u(96), u(5)),
        Err(FeeError::AboveCeiling {
            base_fee: u(96),
            priority: u(5),
            ceiling: u(100)
        })
    );
    // Exactly at the ceiling is allowed.
    assert_eq!(p.fees(u(95), u(5)).unwrap().max_fee_per_gas, u(100));
    // Huge base fees do not overflow: they are refused.
    assert!(matches!(p.fees(U256::MAX, u(5)), Err(FeeError::Overflow)));
    let f = FeePolicy {
        max_fee_ceiling: U256::MAX,
        ..policy()
    }
    .fees(U256([0, 0, 0, 1 << 63]), u(5))
    .unwrap();
    assert!(f.capped && f.max_fee_per_gas == U256::MAX);
}

#[test]
fn policy_is_validated() {
    let bad = FeePolicy {
        priority_floor: u(11),
        ..policy()
    };
    assert!(matches!(
        bad.fees(u(1), u(1)),
        Err(FeeError::InvalidPolicy(_))
    ));
    let bad = FeePolicy {
        base_fee_multiplier: 0,
        ..policy()
    };
    assert!(matches!(bad.validate(), Err(FeeError::InvalidPolicy(_))));
    FeePolicy::default().validate().unwrap();
}

#[test]
fn gas_limits_and_costs() {
    let p = FeePolicy {
        max_tx_cost: Some(u(100 * 60_000)),
        ..policy()
    };
    assert_eq!(p.gas_limit(50_000).unwrap(), 60_000);
    assert_eq!(p.gas_limit(900_000).unwrap(), 1_000_000);
    assert_eq!(
        p.gas_limit(1_000_001),
        Err(FeeError::GasAboveLimit {
            estimate: 1_000_001,
            limit: 1_000_000
        })
    );
    let f = p.fees(u(30), u(5)).unwrap();
    assert_eq!(p.check_cost(&f, 60_000).unwrap(), u(65 * 60_000));
    let f = p.fees(u(60), u(5)).unwrap();
    assert_eq!(p.check_cost(&f, 60_000).unwrap(), u(100 * 60_000));
    assert!(matches!(
        p.check_cost(&f, 60_001),
        Err(FeeError::CostAboveLimit { .. })
    ));
    let mut tx = Eip1559Tx::default();
    f.apply(&mut tx);
    assert_eq!(
        (tx.max_fee_per_gas, tx.max_priority_fee_per_gas),
        (u(100), u(5))
    );
}

#[test]
fn u256_helpers() {
    assert_eq!(
        checked_add(U256([u64::MAX, 0, 0, 0]), u(1)),
        Some(U256([0, 1, 0, 0]))
    );
    assert_eq!(checked_add(U256::MAX, u(1)), None);
    assert_eq!(
        checked_mul_u64(U256([1 << 63, 0, 0, 0]), 2),
        Some(U256([0, 1, 0, 0]))
    );
    assert_eq!(checked_mul_u64(U256::MAX, 2), None);
}
