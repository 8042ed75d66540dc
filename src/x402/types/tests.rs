use super::*;
use crate::json::parse_strict;

fn num(text: &str) -> Value {
    parse_strict(text.as_bytes()).unwrap()
}

#[test]
fn json_numbers_compare_by_exact_value() {
    for (a, b) in [
        ("150", "150.0"),
        ("150", "1.5e2"),
        ("150", "15E1"),
        ("150", "1500e-1"),
        ("0.0015", "15e-4"),
        ("0.0015", "0.00150"),
        ("10.5", "1.05e1"),
        ("0", "-0"),
        ("0", "0.000e5"),
        ("-2.5", "-25e-1"),
        ("9007199254740993", "9007199254740993.0"),
        ("1e400", "10e399"),
    ] {
        assert!(json_eq(&num(a), &num(b)), "{a} == {b}");
        assert!(json_eq(&num(b), &num(a)), "{b} == {a}");
    }
    for (a, b) in [
        ("9007199254740993", "9007199254740992"),
        ("9007199254740993", "9007199254740992.0"),
        ("0.1", "0.10000000000000001"),
        ("1e400", "1e401"),
        ("1", "-1"),
        ("100", "10"),
        ("0.01", "0.1"),
        ("1e-400", "0"),
        ("123", "1230e-2"),
    ] {
        assert!(!json_eq(&num(a), &num(b)), "{a} != {b}");
        assert!(!json_eq(&num(b), &num(a)), "{b} != {a}");
    }
    // Nested, and an exponent beyond i64 compares by text only.
    let big = "1e99999999999999999999";
    assert!(json_eq(&num(big), &num(big)));
    assert!(!json_eq(&num(big), &num("10e99999999999999999998")));
    assert!(!json_eq(
        &json!({"a": [num("9007199254740993")]}),
        &json!({"a": [num("9007199254740992")]})
    ));
}
