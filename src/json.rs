//! Strict JSON: duplicate object keys are an error (never last-key-wins), numbers
//! keep their exact text (`arbitrary_precision`), nesting is capped by serde_json's
//! recursion limit (128).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// serde_json hands exact numbers to visitors as a one-entry map under this key.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// Parses `input` as one JSON value, rejecting duplicate keys and trailing data.
pub fn parse_strict(input: &[u8]) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(input);
    let value = StrictValue::deserialize(&mut de)?.0;
    de.end()?;
    Ok(value)
}

struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = StrictValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::Number(v.into())))
    }
    fn visit_u64<E>(self, v: u64) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::Number(v.into())))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<StrictValue, E> {
        Number::from_f64(v)
            .map(|n| StrictValue(Value::Number(n)))
            .ok_or_else(|| E::custom("non-finite number"))
    }
    fn visit_str<E>(self, v: &str) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::String(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::String(v)))
    }
    fn visit_unit<E>(self) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::Null))
    }
    fn visit_none<E>(self) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StrictValue, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(StrictValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(StrictValue(Value::Array(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StrictValue, A::Error> {
        let mut out = Map::new();
        let Some(first) = map.next_key::<String>()? else {
            return Ok(StrictValue(Value::Object(out)));
        };
        if first == NUMBER_TOKEN {
            // A real number hands over its text as an owned `String`; a JSON object that
            // merely uses this key hands over a borrowed or escaped `str`, and is refused.
            let NumberText(text) = map.next_value()?;
            let number: Number = text.parse().map_err(de::Error::custom)?;
            if map.next_key::<String>()?.is_some() {
                return Err(de::Error::custom("reserved object key"));
            }
            return Ok(StrictValue(Value::Number(number)));
        }
        let mut key = first;
        loop {
            let StrictValue(v) = map.next_value()?;
            if out.insert(key.clone(), v).is_some() {
                return Err(de::Error::custom(format_args!("duplicate key {key:?}")));
            }
            match map.next_key::<String>()? {
                Some(k) => key = k,
                None => break,
            }
        }
        Ok(StrictValue(Value::Object(out)))
    }
}

/// The text of an exact number, as only serde_json's number path produces it.
struct NumberText(String);

impl<'de> Deserialize<'de> for NumberText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl Visitor<'_> for TextVisitor {
            type Value = NumberText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_string<E>(self, v: String) -> Result<NumberText, E> {
                Ok(NumberText(v))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<NumberText, E> {
                Err(E::custom(format_args!(
                    "object key {NUMBER_TOKEN:?} is reserved"
                )))
            }
        }
        deserializer.deserialize_string(TextVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_big_integers_exactly() {
        let v = parse_strict(b"{\"a\": 115792089237316195423570985008687907853269984665640564039457584007913129639936}").unwrap();
        assert_eq!(
            v["a"].as_number().unwrap().as_str(),
            "115792089237316195423570985008687907853269984665640564039457584007913129639936"
        );
    }

    #[test]
    fn the_number_token_key_is_not_a_number() {
        for text in [
            r#"{"$serde_json::private::Number":"60"}"#,
            r#"{"$serde_json::private::Number":"6\u0030"}"#,
            r#"{"\u0024serde_json::private::Number":"60"}"#,
            r#"[{"$serde_json::private::Number":"1","x":2}]"#,
        ] {
            assert!(parse_strict(text.as_bytes()).is_err(), "{text}");
        }
        assert_eq!(
            parse_strict(b"[60]").unwrap()[0]
                .as_number()
                .unwrap()
                .as_str(),
            "60"
        );
    }

    #[test]
    fn rejects_duplicates_at_any_depth() {
        assert!(parse_strict(br#"{"a":1,"a":2}"#).is_err());
        let err = parse_strict(br#"{"x":[{"b":1,"c":2,"b":3}]}"#).unwrap_err();
        assert!(err.to_string().contains("duplicate key \"b\""), "{err}");
    }

    #[test]
    fn rejects_trailing_data_and_deep_nesting() {
        assert!(parse_strict(b"{} {}").is_err());
        let deep = "[".repeat(100_000);
        assert!(parse_strict(deep.as_bytes()).is_err());
    }
}
