use super::*;
use crate::x402::networks::{Register, TransferMethod};

fn usdc() -> Asset {
    Asset::new(
        "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
        "USD Coin",
        "2",
        6,
    )
    .unwrap()
    .with_symbol("USDC")
    .unwrap()
}

fn u(s: &str) -> U256 {
    U256::from_dec_str(s).unwrap()
}

const MAX_DEC: &str =
    "115792089237316195423570985008687907853269984665640564039457584007913129639935";

#[test]
fn accepted() {
    let cases: &[(&str, u8, &str)] = &[
        ("$0.001", 6, "1000"),
        ("0.001", 6, "1000"),
        ("$0.01", 6, "10000"),
        ("$0.10", 6, "100000"),
        ("1.5 USDC", 6, "1500000"),
        ("$1.5 USDC", 6, "1500000"),
        ("10", 6, "10000000"),
        ("0", 6, "0"),
        ("0.0", 6, "0"),
        ("$0", 6, "0"),
        ("0.000001", 6, "1"),
        ("0.100000", 6, "100000"),
        ("123456789.123456", 6, "123456789123456"),
        ("1", 0, "1"),
        ("7", 18, "7000000000000000000"),
        ("0.000000000000000001", 18, "1"),
        ("1", 36, "1000000000000000000000000000000000000"),
        (MAX_DEC, 0, MAX_DEC),
    ];
    for &(text, decimals, want) in cases {
        let price = parse_price_text(text).unwrap();
        if price.symbol.is_none() {
            assert_eq!(parse_decimal(text, decimals).unwrap(), u(want), "{text}");
        }
        assert_eq!(
            price.to_atomic(decimals).unwrap(),
            u(want),
            "{text} @{decimals}"
        );
    }
    assert_eq!(parse_price("1.5 USDC", &usdc()).unwrap(), u("1500000"));
    assert_eq!(parse_price("$0.001", &usdc()).unwrap(), u("1000"));
}

#[test]
fn text_parts() {
    let p = parse_price_text("$12.340 USDC.e").unwrap();
    assert_eq!(
        p,
        PriceText {
            dollar: true,
            integer: "12",
            fraction: "340",
            symbol: Some("USDC.e")
        }
    );
    let p = parse_price_text("7").unwrap();
    assert_eq!(
        (p.dollar, p.integer, p.fraction, p.symbol),
        (false, "7", "", None)
    );
}

#[test]
fn rejected() {
    use MoneyError::*;
    let long = "1".repeat(MAX_PRICE_LEN + 1);
    let cases: Vec<(&str, MoneyError)> = vec![
        ("", Empty),
        (
            &long,
            TooLong {
                len: MAX_PRICE_LEN + 1,
            },
        ),
        ("１０", NonAscii),
        ("0.00１", NonAscii),
        ("€1", NonAscii),
        ("1\u{a0}USDC", NonAscii),
        ("NaN", NonFinite),
        ("nan", NonFinite),
        ("sNaN", NonFinite),
        ("-NaN", NonFinite),
        ("Infinity", NonFinite),
        ("-Infinity", NonFinite),
        ("inf", NonFinite),
        ("$inf", NonFinite),
        (" 1", Whitespace),
        ("1 ", Whitespace),
        ("\t1", Whitespace),
        ("1\n", Whitespace),
        ("1\r", Whitespace),
        ("1\u{b}", Whitespace),
        ("1\u{c}", Whitespace),
        ("1  USDC", Whitespace),
        ("1\tUSDC", Whitespace),
        ("1 USDC ", Whitespace),
        ("1 000 USDC", Whitespace),
        ("$ 1", Whitespace),
        ("$", MissingAmount),
        ("-1", Negative),
        ("-0", Negative),
        ("$-1", Negative),
        ("-$1", Negative),
        ("1-2", Negative),
        ("+1", PlusSign),
        ("$+1", PlusSign),
        ("1e-3", Exponent),
        ("1E3", Exponent),
        ("1e3", Exponent),
        ("1,000", Separator),
        ("1_000", Separator),
        ("1'000", Separator),
        ("0,5", Separator),
        (".5", LeadingDot),
        ("$.5", LeadingDot),
        (".", LeadingDot),
        ("5.", TrailingDot),
        ("5. USDC", TrailingDot),
        ("1.2.3", MultipleDots),
        ("1..2", MultipleDots),
        ("01", LeadingZero),
        ("00.5", LeadingZero),
        ("$007", LeadingZero),
        ("0x10", InvalidCharacter { index: 1, ch: 'x' }),
        ("$$1", InvalidCharacter { index: 1, ch: '$' }),
        ("1$", InvalidCharacter { index: 1, ch: '$' }),
        ("1USDC", InvalidCharacter { index: 1, ch: 'U' }),
        ("USDC", InvalidCharacter { index: 0, ch: 'U' }),
        ("1/2", InvalidCharacter { index: 1, ch: '/' }),
        ("1\u{0}", InvalidCharacter { index: 1, ch: '\0' }),
        ("1 1USDC", InvalidSymbol("1USDC".into())),
        ("1 US-DC", InvalidSymbol("US-DC".into())),
        ("1 $", InvalidSymbol("$".into())),
    ];
    for (text, want) in cases {
        assert_eq!(parse_price_text(text).unwrap_err(), want, "{text:?}");
        assert_eq!(
            want.reason(),
            crate::x402::reason::INVALID_PAYMENT_REQUIREMENTS
        );
    }
}

#[test]
fn precision_is_never_lost() {
    use MoneyError::*;
    let too = |digits, decimals| TooPrecise { digits, decimals };
    assert_eq!(parse_decimal("0.0000001", 6).unwrap_err(), too(7, 6));
    // Trailing zeros beyond the decimals are refused too (documented choice).
    assert_eq!(parse_decimal("0.0010000000", 6).unwrap_err(), too(10, 6));
    assert_eq!(parse_decimal("1.0", 0).unwrap_err(), too(1, 0));
    assert_eq!(parse_decimal("1.0000000", 6).unwrap_err(), too(7, 6));
    assert_eq!(
        parse_decimal("0.0000000000000000001", 18).unwrap_err(),
        too(19, 18)
    );
    assert_eq!(parse_decimal("1", 37).unwrap_err(), DecimalsTooLarge(37));
    assert_eq!(parse_decimal("1", 255).unwrap_err(), DecimalsTooLarge(255));
}

#[test]
fn overflow() {
    let over = "115792089237316195423570985008687907853269984665640564039457584007913129639936";
    assert_eq!(parse_decimal(over, 0).unwrap_err(), MoneyError::Overflow);
    assert_eq!(
        parse_decimal(&"9".repeat(200), 0).unwrap_err(),
        MoneyError::Overflow
    );
    // The largest amount at 6 decimals parses; one atomic unit more overflows.
    let (whole, frac) = MAX_DEC.split_at(MAX_DEC.len() - 6);
    let max_6 = format!("{whole}.{frac}");
    assert_eq!(parse_decimal(&max_6, 6).unwrap().to_string(), MAX_DEC);
    let over_6 = format!("{whole}.639936");
    assert_eq!(frac, "639935");
    assert_eq!(parse_decimal(&over_6, 6).unwrap_err(), MoneyError::Overflow);
    assert_eq!(
        parse_decimal(&format!("{}", u64::MAX), 36)
            .unwrap()
            .to_string(),
        format!("{}{}", u64::MAX, "0".repeat(36))
    );
}

#[test]
fn symbols() {
    let a = usdc();
    assert_eq!(
        parse_price("1 USDT", &a).unwrap_err(),
        MoneyError::SymbolMismatch {
            given: "USDT".into(),
            expected: Some("USDC".into())
        }
    );
    // Case-sensitive; USD is not an alias.
    assert_eq!(
        parse_price("1 usdc", &a).unwrap_err().code(),
        "symbol_mismatch"
    );
    assert_eq!(
        parse_price("1 USD", &a).unwrap_err().code(),
        "symbol_mismatch"
    );
    let mut nameless = a.clone();
    nameless.symbol = None;
    let e = parse_price("1 USDC", &nameless).unwrap_err();
    assert_eq!(
        e,
        MoneyError::SymbolMismatch {
            given: "USDC".into(),
            expected: None
        }
    );
    assert!(e.to_string().contains("has none"));
    assert_eq!(parse_price("1", &nameless).unwrap(), u("1000000"));
    assert_eq!(
        parse_decimal("1 USDC", 6).unwrap_err().code(),
        "symbol_mismatch"
    );
}

#[test]
fn formatting() {
    let cases: &[(&str, u8, &str)] = &[
        ("0", 6, "0"),
        ("1", 6, "0.000001"),
        ("1000", 6, "0.001"),
        ("10000", 6, "0.01"),
        ("1000000", 6, "1"),
        ("1500000", 6, "1.5"),
        ("123456789123456", 6, "123456789.123456"),
        ("100", 0, "100"),
        ("1", 18, "0.000000000000000001"),
        ("1", 36, "0.000000000000000000000000000000000001"),
        (MAX_DEC, 0, MAX_DEC),
        (
            MAX_DEC,
            77,
            "1.15792089237316195423570985008687907853269984665640564039457584007913129639935",
        ),
        (
            MAX_DEC,
            80,
            "0.00115792089237316195423570985008687907853269984665640564039457584007913129639935",
        ),
    ];
    for &(atomic, decimals, want) in cases {
        assert_eq!(
            atomic_to_decimal(u(atomic), decimals),
            want,
            "{atomic} @{decimals}"
        );
    }
}

#[test]
fn atomic_grammar() {
    assert_eq!(parse_atomic("0").unwrap(), U256::ZERO);
    assert_eq!(parse_atomic("10000").unwrap(), u("10000"));
    assert_eq!(parse_atomic(MAX_DEC).unwrap(), U256::MAX);
    for bad in [
        "",
        "01",
        "-1",
        "+1",
        "1.5",
        " 1",
        "1e3",
        "0x10",
        "１",
        &format!("{MAX_DEC}0"),
    ] {
        assert_eq!(
            parse_atomic(bad).unwrap_err().code(),
            "invalid_atomic",
            "{bad:?}"
        );
    }
}

#[test]
fn round_trips() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for decimals in [0u8, 1, 2, 6, 8, 18, 36] {
        for _ in 0..200 {
            let limbs = [next(), next() >> (next() % 64), next() % 3, next() % 2];
            let amount = U256(limbs);
            let text = atomic_to_decimal(amount, decimals);
            assert_eq!(parse_decimal(&text, decimals).unwrap(), amount, "{text}");
        }
        for atomic in [U256::ZERO, U256::from_u64(1), U256::MAX] {
            let text = atomic_to_decimal(atomic, decimals);
            assert_eq!(parse_decimal(&text, decimals).unwrap(), atomic);
        }
    }
}

#[test]
fn resolve_on_a_registry() {
    let r = Registry::with_defaults();
    let (a, amount) = resolve_price(&r, 8453, "$0.01", None).unwrap();
    assert_eq!((a.name.as_str(), amount), ("USD Coin", u("10000")));
    // Celo: the symbol selects the asset.
    let (a, amount) = resolve_price(&r, 42220, "2 USDT", None).unwrap();
    assert_eq!(a.symbol.as_deref(), Some("USDT"));
    assert_eq!(amount, u("2000000"));
    // An 18-decimal default.
    let (a, amount) = resolve_price(&r, 4326, "0.5", None).unwrap();
    assert_eq!(a.transfer_method, TransferMethod::Permit2);
    assert_eq!(amount, u("500000000000000000"));
    // Explicit asset: the symbol must agree.
    let usdt = r.asset_by_symbol(42220, "USDT").unwrap().address;
    let (_, amount) = resolve_price(&r, 42220, "3", Some(&usdt)).unwrap();
    assert_eq!(amount, u("3000000"));
    let e = resolve_price(&r, 42220, "3 USDC", Some(&usdt)).unwrap_err();
    assert_eq!(
        e.reason(),
        crate::x402::reason::INVALID_PAYMENT_REQUIREMENTS
    );
    assert!(matches!(
        e,
        PriceError::Money(MoneyError::SymbolMismatch { .. })
    ));
    // Errors from the registry.
    let e = resolve_price(&r, 8453, "1 USDT", None).unwrap_err();
    assert!(matches!(
        e,
        PriceError::Asset(NetworkError::UnknownSymbol { .. })
    ));
    let e = resolve_price(&r, 80002, "1", None).unwrap_err();
    assert_eq!(e, PriceError::Asset(NetworkError::NoDefaultAsset(80002)));
    let e = resolve_price(&r, 8453, "1", Some(&usdt)).unwrap_err();
    assert!(matches!(
        e,
        PriceError::Asset(NetworkError::UnknownAsset { .. })
    ));
    // Grammar first.
    let e = resolve_price(&r, 80002, "1e3", None).unwrap_err();
    assert_eq!(e, PriceError::Money(MoneyError::Exponent));
    // A registered asset is used at once.
    let token = Asset::new(
        "0x1111111111111111111111111111111111111111",
        "Eight",
        "1",
        8,
    )
    .unwrap()
    .with_symbol("EIG")
    .unwrap();
    r.register_asset(80002, token, Register::Add).unwrap();
    let (_, amount) = resolve_price(&r, 80002, "0.00000001 EIG", None).unwrap();
    assert_eq!(amount, U256::from_u64(1));
}

#[test]
fn every_variant_has_a_distinct_code() {
    use MoneyError::*;
    let all = [
        Empty,
        TooLong { len: 1 },
        NonAscii,
        NonFinite,
        Whitespace,
        MissingAmount,
        Negative,
        PlusSign,
        Exponent,
        Separator,
        LeadingDot,
        TrailingDot,
        MultipleDots,
        LeadingZero,
        InvalidCharacter { index: 0, ch: 'x' },
        TooPrecise {
            digits: 7,
            decimals: 6,
        },
        Overflow,
        InvalidSymbol("x".into()),
        SymbolMismatch {
            given: "A".into(),
            expected: Some("B".into()),
        },
        DecimalsTooLarge(40),
        InvalidAtomic("x".into()),
    ];
    let mut codes: Vec<_> = all.iter().map(MoneyError::code).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), all.len());
    for e in &all {
        assert!(!e.to_string().is_empty());
        assert_eq!(
            e.reason(),
            crate::x402::reason::INVALID_PAYMENT_REQUIREMENTS
        );
    }
}
