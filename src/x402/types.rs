//! x402 wire types, v1 and v2, with their exact wire names. Each is parsed from
//! strict JSON into typed fields and keeps the JSON it came from (`raw`), so that a
//! client can echo `accepted` unchanged and a server can compare it with its offer.

use serde_json::{json, Map, Value};

use super::codec;
use super::error::ProtocolError;
use super::fields::Obj;
use super::networks::TransferMethod;
use super::reason;
// The scheme payloads live in `payload`; re-exported for the paths callers know.
pub use super::payload::{Authorization, SchemePayload, MAX_SIGNATURE_BYTES};
use crate::crypto::address::Address;
use crate::num::U256;

fn version(obj: &Obj) -> Result<u8, ProtocolError> {
    match obj.get("x402Version") {
        Some(Value::Number(n)) if n.as_str() == "1" => Ok(1),
        Some(Value::Number(n)) if n.as_str() == "2" => Ok(2),
        Some(v) => Err(ProtocolError::field(
            reason::INVALID_X402_VERSION,
            obj.child_path("x402Version"),
            format_args!("x402Version must be the JSON integer 1 or 2, got {v}"),
        )),
        None => Err(ProtocolError::field(
            reason::INVALID_X402_VERSION,
            obj.child_path("x402Version"),
            "required field is missing",
        )),
    }
}

fn opaque_object(obj: &Obj, key: &str) -> Result<Option<Value>, ProtocolError> {
    Ok(obj
        .optional_object(key)?
        .map(|o| Value::Object(o.map.clone())))
}

/// `ResourceInfo` (v2): what is being paid for.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceInfo {
    pub url: String,
    pub description: Option<String>,
    pub mime_type: Option<String>,
    pub raw: Value,
}

impl ResourceInfo {
    pub fn parse(obj: &Obj) -> Result<Self, ProtocolError> {
        obj.only(&[
            "url",
            "description",
            "mimeType",
            "serviceName",
            "tags",
            "iconUrl",
        ])?;
        let url = obj.required_text("url")?;
        Ok(ResourceInfo {
            url: url.to_owned(),
            description: obj.text("description")?.map(str::to_owned),
            mime_type: obj.text("mimeType")?.map(str::to_owned),
            raw: Value::Object(obj.map.clone()),
        })
    }
}

/// One entry of `accepts`. v1's `maxAmountRequired` is read into `amount`.
#[derive(Debug, Clone, PartialEq)]
pub struct Requirements {
    pub version: u8,
    pub scheme: String,
    pub network: String,
    pub amount: U256,
    pub asset: Address,
    pub pay_to: Address,
    pub max_timeout_seconds: u64,
    pub extra: Option<Map<String, Value>>,
    /// v1 only: the resource URL carried inline.
    pub resource: Option<String>,
    /// The JSON as received, echoed unchanged by clients.
    pub raw: Value,
}

const V2_REQUIREMENT_KEYS: &[&str] = &[
    "scheme",
    "network",
    "amount",
    "asset",
    "payTo",
    "maxTimeoutSeconds",
    "extra",
];
const V1_REQUIREMENT_KEYS: &[&str] = &[
    "scheme",
    "network",
    "maxAmountRequired",
    "resource",
    "description",
    "mimeType",
    "payTo",
    "maxTimeoutSeconds",
    "asset",
    "outputSchema",
    "extra",
];

impl Requirements {
    pub fn parse(obj: &Obj, version: u8) -> Result<Self, ProtocolError> {
        let v1 = version == 1;
        obj.only(if v1 {
            V1_REQUIREMENT_KEYS
        } else {
            V2_REQUIREMENT_KEYS
        })?;
        let (amount, resource) = if v1 {
            obj.text("description")?;
            obj.text("mimeType")?;
            obj.optional_object("outputSchema")?;
            (
                obj.uint("maxAmountRequired")?,
                Some(obj.required_text("resource")?.to_owned()),
            )
        } else {
            (obj.uint("amount")?, None)
        };
        Ok(Requirements {
            version,
            scheme: obj.token("scheme")?.to_owned(),
            network: obj.token("network")?.to_owned(),
            amount,
            asset: obj.address("asset")?,
            pay_to: obj.address("payTo")?,
            max_timeout_seconds: obj.integer("maxTimeoutSeconds")?,
            extra: obj.optional_object("extra")?.map(|o| o.map.clone()),
            resource,
            raw: Value::Object(obj.map.clone()),
        })
    }

    pub fn from_json(value: &Value, version: u8) -> Result<Self, ProtocolError> {
        Self::parse(
            &Obj::new(value, "$", reason::INVALID_PAYMENT_REQUIREMENTS)?,
            version,
        )
    }

    /// A string from `extra` (e.g. the EIP-712 `name` and `version`).
    pub fn extra_str(&self, key: &str) -> Option<&str> {
        self.extra.as_ref()?.get(key)?.as_str()
    }

    /// `extra.assetTransferMethod` (a string): `None` when absent, else the method, or
    /// the text when it names none fastx402 knows.
    pub fn transfer_method(&self) -> Option<Result<TransferMethod, &str>> {
        let text = self.extra_str("assetTransferMethod")?;
        Some(TransferMethod::parse(text).map_err(|_| text))
    }

    /// Same terms: every field equal, addresses compared as bytes, `extra` as JSON.
    pub fn same_terms(&self, other: &Requirements) -> bool {
        let empty = Map::new();
        self.version == other.version
            && self.scheme == other.scheme
            && self.network == other.network
            && self.amount == other.amount
            && self.asset == other.asset
            && self.pay_to == other.pay_to
            && self.max_timeout_seconds == other.max_timeout_seconds
            && json_eq_maps(
                self.extra.as_ref().unwrap_or(&empty),
                other.extra.as_ref().unwrap_or(&empty),
            )
            && self.resource == other.resource
    }

    /// Builds v2 requirements and their wire JSON (key order as the official SDKs emit).
    #[allow(clippy::too_many_arguments)]
    pub fn new_v2(
        scheme: &str,
        network: &str,
        amount: U256,
        asset: Address,
        pay_to: Address,
        max_timeout_seconds: u64,
        extra: Option<Map<String, Value>>,
    ) -> Self {
        let mut raw = json!({
            "scheme": scheme,
            "network": network,
            "amount": amount.to_string(),
            "asset": asset.to_checksum(),
            "payTo": pay_to.to_checksum(),
            "maxTimeoutSeconds": max_timeout_seconds,
        });
        raw["extra"] = Value::Object(extra.clone().unwrap_or_default());
        Requirements {
            version: 2,
            scheme: scheme.to_owned(),
            network: network.to_owned(),
            amount,
            asset,
            pay_to,
            max_timeout_seconds,
            extra: Some(extra.unwrap_or_default()),
            resource: None,
            raw,
        }
    }
}

/// JSON equality for echoed terms: key order is irrelevant and numbers compare by their
/// exact decimal value, never through a float. `150`, `150.0` and `1.5e2` are equal (a
/// JavaScript peer re-spells `150.0` as `150` when it echoes `accepted`, and it is the same
/// value); `9007199254740993` and `9007199254740992` are not (they are equal as doubles).
/// `-0` equals `0`.
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x.as_str() == y.as_str() || same_decimal(x.as_str(), y.as_str())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => json_eq_maps(x, y),
        _ => a == b,
    }
}

/// Whether two JSON number texts denote the same decimal value, exactly.
fn same_decimal(a: &str, b: &str) -> bool {
    matches!((Decimal::parse(a), Decimal::parse(b)), (Some(p), Some(q)) if p == q)
}

/// A JSON number's exact value: `(-1)^negative × 0.digits × 10^exponent`, `digits`
/// without leading or trailing zeros (zero is no digits, not negative).
#[derive(Debug)]
struct Decimal<'a> {
    negative: bool,
    /// Significant digits, in order, as two slices of the text (integer and fraction part).
    digits: (&'a str, &'a str),
    exponent: i128,
}

impl<'a> Decimal<'a> {
    /// `None` for text that is not a JSON number or whose exponent is out of range.
    fn parse(text: &'a str) -> Option<Self> {
        let (negative, rest) = match text.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().ok()?),
            None => (rest, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let is_digits = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
        if int.is_empty() || !is_digits(int) || !is_digits(frac) {
            return None;
        }
        // Leading zeros of the integer part, trailing zeros of the fraction.
        let int = int.trim_start_matches('0');
        let frac = frac.trim_end_matches('0');
        // value = 0.(int frac) × 10^(exponent + len(int)); leading zeros of the fraction
        // (integer part empty) and trailing zeros of the integer (fraction empty) move into
        // the exponent so that equal values have equal digits.
        let mut exponent = i128::from(exponent) + int.len() as i128;
        let (int, frac) = if int.is_empty() {
            let significant = frac.trim_start_matches('0');
            exponent -= (frac.len() - significant.len()) as i128;
            ("", significant)
        } else if frac.is_empty() {
            (int.trim_end_matches('0'), "")
        } else {
            (int, frac)
        };
        if int.is_empty() && frac.is_empty() {
            return Some(Decimal {
                negative: false,
                digits: ("", ""),
                exponent: 0,
            });
        }
        Some(Decimal {
            negative,
            digits: (int, frac),
            exponent,
        })
    }
}

impl PartialEq for Decimal<'_> {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.digits, other.digits);
        self.negative == other.negative
            && self.exponent == other.exponent
            && a.0.len() + a.1.len() == b.0.len() + b.1.len()
            && a.0
                .bytes()
                .chain(a.1.bytes())
                .eq(b.0.bytes().chain(b.1.bytes()))
    }
}

fn json_eq_maps(a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|(k, v)| b.get(k).is_some_and(|w| json_eq(v, w)))
}

/// The 402 answer: what the server accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentRequired {
    pub version: u8,
    pub error: Option<String>,
    pub resource: Option<ResourceInfo>,
    pub accepts: Vec<Requirements>,
    pub extensions: Option<Value>,
    pub raw: Value,
}

impl PaymentRequired {
    pub fn from_json(value: &Value) -> Result<Self, ProtocolError> {
        let obj = Obj::new(value, "$", reason::INVALID_PAYMENT_REQUIREMENTS)?;
        let version = version(&obj)?;
        if version == 1 {
            obj.only(&["x402Version", "error", "accepts"])?;
        } else {
            obj.only(&["x402Version", "error", "resource", "accepts", "extensions"])?;
        }
        let accepts_json = obj.array("accepts")?;
        let mut accepts = Vec::with_capacity(accepts_json.len());
        for (i, item) in accepts_json.iter().enumerate() {
            let item = Obj::new(
                item,
                format!("accepts[{i}]"),
                reason::INVALID_PAYMENT_REQUIREMENTS,
            )?;
            accepts.push(Requirements::parse(&item, version)?);
        }
        let resource = match obj.optional_object("resource")? {
            Some(r) => Some(ResourceInfo::parse(&r)?),
            None => None,
        };
        Ok(PaymentRequired {
            version,
            error: obj.text("error")?.map(str::to_owned),
            resource,
            accepts,
            extensions: opaque_object(&obj, "extensions")?,
            raw: value.clone(),
        })
    }

    pub fn from_header(header: &str, max_bytes: usize) -> Result<Self, ProtocolError> {
        Self::from_json(&codec::decode_header_json(header, max_bytes)?)
    }

    pub fn to_header(&self) -> String {
        codec::encode_header(&self.raw)
    }
}

/// What a client sends: `X-PAYMENT` (v1) or `PAYMENT-SIGNATURE` (v2).
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentPayload {
    pub version: u8,
    pub scheme: String,
    pub network: String,
    /// v2: the requirements the client accepted, as it echoed them.
    pub accepted: Option<Requirements>,
    pub payload: SchemePayload,
    pub resource: Option<ResourceInfo>,
    pub extensions: Option<Value>,
    pub raw: Value,
}

impl PaymentPayload {
    pub fn from_json(value: &Value) -> Result<Self, ProtocolError> {
        let obj = Obj::new(value, "$", reason::INVALID_PAYLOAD)?;
        let version = version(&obj)?;
        let payload = SchemePayload::parse(&obj.object("payload")?)?;
        if version == 1 {
            obj.only(&["x402Version", "scheme", "network", "payload"])?;
            return Ok(PaymentPayload {
                version,
                scheme: obj.token("scheme")?.to_owned(),
                network: obj.token("network")?.to_owned(),
                accepted: None,
                payload,
                resource: None,
                extensions: None,
                raw: value.clone(),
            });
        }
        obj.only(&[
            "x402Version",
            "accepted",
            "payload",
            "resource",
            "extensions",
        ])?;
        let accepted = Requirements::parse(&obj.object("accepted")?, 2)?;
        let resource = match obj.optional_object("resource")? {
            Some(r) => Some(ResourceInfo::parse(&r)?),
            None => None,
        };
        Ok(PaymentPayload {
            version,
            scheme: accepted.scheme.clone(),
            network: accepted.network.clone(),
            accepted: Some(accepted),
            payload,
            resource,
            extensions: opaque_object(&obj, "extensions")?,
            raw: value.clone(),
        })
    }

    /// The payer the payment names, whatever its scheme: EIP-3009 `authorization.from`,
    /// Permit2 (`exact` or `upto`) `permit2Authorization.from`; `None` for a payload
    /// no scheme could read.
    pub fn payer(&self) -> Option<Address> {
        self.payload.payer()
    }

    pub fn from_header(header: &str, max_bytes: usize) -> Result<Self, ProtocolError> {
        Self::from_json(&codec::decode_header_json(header, max_bytes)?)
    }

    pub fn to_header(&self) -> String {
        codec::encode_header(&self.raw)
    }
}

/// A facilitator's `/verify` answer.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyResponse {
    pub is_valid: bool,
    pub invalid_reason: Option<String>,
    pub invalid_message: Option<String>,
    pub payer: Option<Address>,
    pub raw: Value,
}

impl VerifyResponse {
    pub fn from_json(value: &Value) -> Result<Self, ProtocolError> {
        // Unknown keys are ignored: a facilitator adding a field must not turn an
        // answer into an error. Known fields keep their grammar.
        let obj = Obj::new(value, "$", reason::UNEXPECTED_VERIFY_ERROR)?;
        let payer = match obj.get("payer") {
            None | Some(Value::Null) => None,
            Some(_) => Some(obj.address("payer")?),
        };
        let invalid_reason = match obj.get("invalidReason") {
            None | Some(Value::Null) => None,
            Some(_) => Some(obj.token("invalidReason")?.to_owned()),
        };
        Ok(VerifyResponse {
            is_valid: obj.bool("isValid")?,
            invalid_reason,
            invalid_message: obj.text("invalidMessage")?.map(str::to_owned),
            payer,
            raw: value.clone(),
        })
    }
}

/// A facilitator's `/settle` answer, also sent to clients in `PAYMENT-RESPONSE`.
#[derive(Debug, Clone, PartialEq)]
pub struct SettleResponse {
    pub success: bool,
    pub error_reason: Option<String>,
    pub error_message: Option<String>,
    pub payer: Option<Address>,
    /// `0x` + 64 hex digits when `success`; may be empty on failure.
    pub transaction: String,
    pub network: String,
    pub amount: Option<U256>,
    pub raw: Value,
}

impl SettleResponse {
    pub fn from_json(value: &Value) -> Result<Self, ProtocolError> {
        // Unknown keys are ignored (a settled payment must not be lost to a new
        // field); success still requires a 32-byte transaction hash.
        let obj = Obj::new(value, "$", reason::UNEXPECTED_SETTLE_ERROR)?;
        let success = obj.bool("success")?;
        let transaction = match obj.get("transaction") {
            Some(Value::String(s)) if s.is_empty() && !success => String::new(),
            _ => {
                let tx = obj.bytes32("transaction")?;
                crate::crypto::hexutil::encode_0x(&tx)
            }
        };
        let payer = match obj.get("payer") {
            None | Some(Value::Null) => None,
            Some(_) => Some(obj.address("payer")?),
        };
        let amount = match obj.get("amount") {
            None | Some(Value::Null) => None,
            Some(_) => Some(obj.uint("amount")?),
        };
        let error_reason = match obj.get("errorReason") {
            None | Some(Value::Null) => None,
            Some(_) => Some(obj.token("errorReason")?.to_owned()),
        };
        Ok(SettleResponse {
            success,
            error_reason,
            error_message: obj.text("errorMessage")?.map(str::to_owned),
            payer,
            transaction,
            network: obj.token("network")?.to_owned(),
            amount,
            raw: value.clone(),
        })
    }

    pub fn from_header(header: &str, max_bytes: usize) -> Result<Self, ProtocolError> {
        Self::from_json(&codec::decode_header_json(header, max_bytes)?)
    }
}

/// One `(x402Version, scheme, network)` a facilitator supports.
#[derive(Debug, Clone, PartialEq)]
pub struct SupportedKind {
    pub version: u8,
    pub scheme: String,
    pub network: String,
    pub extra: Option<Value>,
}

/// A facilitator's `GET /supported` answer.
#[derive(Debug, Clone, PartialEq)]
pub struct SupportedResponse {
    pub kinds: Vec<SupportedKind>,
    pub extensions: Vec<String>,
    pub signers: Map<String, Value>,
    pub raw: Value,
}

impl SupportedResponse {
    pub fn from_json(value: &Value) -> Result<Self, ProtocolError> {
        let obj = Obj::new(value, "$", reason::INVALID_PAYLOAD)?;
        let mut kinds = Vec::new();
        for (i, k) in obj.array("kinds")?.iter().enumerate() {
            let k = Obj::new(k, format!("kinds[{i}]"), reason::INVALID_PAYLOAD)?;
            kinds.push(SupportedKind {
                version: version(&k)?,
                scheme: k.token("scheme")?.to_owned(),
                network: k.token("network")?.to_owned(),
                extra: opaque_object(&k, "extra")?,
            });
        }
        let mut extensions = Vec::new();
        if obj.get("extensions").is_some() {
            for (i, e) in obj.array("extensions")?.iter().enumerate() {
                let s = e.as_str().ok_or_else(|| {
                    ProtocolError::field(
                        reason::INVALID_PAYLOAD,
                        format!("extensions[{i}]"),
                        "must be a string",
                    )
                })?;
                extensions.push(s.to_owned());
            }
        }
        let mut signers = Map::new();
        if let Some(s) = obj.optional_object("signers")? {
            for (family, addrs) in s.map {
                let list = addrs
                    .as_array()
                    .ok_or_else(|| s.err(family, "must be an array of addresses"))?;
                for a in list {
                    a.as_str()
                        .and_then(|a| Address::parse(a).ok())
                        .ok_or_else(|| s.err(family, "must be an array of addresses"))?;
                }
                signers.insert(family.clone(), addrs.clone());
            }
        }
        Ok(SupportedResponse {
            kinds,
            extensions,
            signers,
            raw: value.clone(),
        })
    }
}

// Built answers: a facilitator's own `/verify`, `/settle` and `/supported`
// answers, typed, serialized from their fields (`raw` is what they serialize
// to, so a built answer and a parsed one read alike).

impl VerifyResponse {
    /// `isValid: true` for `payer`.
    pub fn valid(payer: Address) -> Self {
        Self::built(true, None, None, Some(payer))
    }

    /// `isValid: false`, with an x402 reason code and a message.
    pub fn invalid(reason: &str, message: impl Into<String>, payer: Option<Address>) -> Self {
        Self::built(false, Some(reason.to_owned()), Some(message.into()), payer)
    }

    fn built(
        is_valid: bool,
        invalid_reason: Option<String>,
        invalid_message: Option<String>,
        payer: Option<Address>,
    ) -> Self {
        let mut response = VerifyResponse {
            is_valid,
            invalid_reason,
            invalid_message,
            payer,
            raw: Value::Null,
        };
        response.raw = response.serialize();
        response
    }

    /// The wire JSON of the typed fields, in wire order; absent fields omitted.
    pub fn serialize(&self) -> Value {
        let mut o = Map::new();
        o.insert("isValid".into(), json!(self.is_valid));
        if let Some(r) = &self.invalid_reason {
            o.insert("invalidReason".into(), json!(r));
        }
        if let Some(m) = &self.invalid_message {
            o.insert("invalidMessage".into(), json!(m));
        }
        if let Some(p) = &self.payer {
            o.insert("payer".into(), json!(p.to_checksum()));
        }
        Value::Object(o)
    }

    /// The JSON it was parsed from, or built as.
    pub fn to_json(&self) -> &Value {
        &self.raw
    }
}

impl SettleResponse {
    /// `success: true`: `transaction` moved the payment from `payer`.
    pub fn settled(payer: Address, transaction: &[u8; 32], network: impl Into<String>) -> Self {
        Self::built(SettleResponse {
            success: true,
            error_reason: None,
            error_message: None,
            payer: Some(payer),
            transaction: crate::crypto::hexutil::encode_0x(transaction),
            network: network.into(),
            amount: None,
            raw: Value::Null,
        })
    }

    /// `success: false`, with an x402 reason code, a message and the
    /// transaction hash if there is one (`settlement_pending`), else `""`.
    pub fn failed(
        reason: &str,
        message: impl Into<String>,
        transaction: Option<&[u8; 32]>,
        payer: Option<Address>,
        network: impl Into<String>,
    ) -> Self {
        Self::built(SettleResponse {
            success: false,
            error_reason: Some(reason.to_owned()),
            error_message: Some(message.into()),
            payer,
            transaction: transaction
                .map_or_else(String::new, |t| crate::crypto::hexutil::encode_0x(t)),
            network: network.into(),
            amount: None,
            raw: Value::Null,
        })
    }

    fn built(mut response: SettleResponse) -> Self {
        response.raw = response.serialize();
        response
    }

    /// The wire JSON of the typed fields, in wire order; absent fields omitted.
    pub fn serialize(&self) -> Value {
        let mut o = Map::new();
        o.insert("success".into(), json!(self.success));
        if let Some(r) = &self.error_reason {
            o.insert("errorReason".into(), json!(r));
        }
        if let Some(m) = &self.error_message {
            o.insert("errorMessage".into(), json!(m));
        }
        // Where the facilitator has always put them: payer before the hash on
        // success, after it on failure.
        let payer = self.payer.map(|p| json!(p.to_checksum()));
        if self.success {
            if let Some(p) = payer.clone() {
                o.insert("payer".into(), p);
            }
        }
        o.insert("transaction".into(), json!(self.transaction));
        if !self.success {
            if let Some(p) = payer {
                o.insert("payer".into(), p);
            }
        }
        o.insert("network".into(), json!(self.network));
        if let Some(a) = &self.amount {
            o.insert("amount".into(), json!(a.to_string()));
        }
        Value::Object(o)
    }

    /// The JSON it was parsed from, or built as.
    pub fn to_json(&self) -> &Value {
        &self.raw
    }
}

impl SupportedKind {
    /// A kind with no `extra`.
    pub fn new(version: u8, scheme: impl Into<String>, network: impl Into<String>) -> Self {
        SupportedKind {
            version,
            scheme: scheme.into(),
            network: network.into(),
            extra: None,
        }
    }

    fn serialize(&self) -> Value {
        let mut o = Map::new();
        o.insert("x402Version".into(), json!(self.version));
        o.insert("scheme".into(), json!(self.scheme));
        o.insert("network".into(), json!(self.network));
        if let Some(extra) = &self.extra {
            o.insert("extra".into(), extra.clone());
        }
        Value::Object(o)
    }
}

impl SupportedResponse {
    /// `signers` maps a CAIP-2 family (`eip155:*`) to its signing addresses.
    pub fn new(
        kinds: Vec<SupportedKind>,
        extensions: Vec<String>,
        signers: Vec<(String, Vec<Address>)>,
    ) -> Self {
        let signers = signers
            .into_iter()
            .map(|(family, addrs)| {
                let list = addrs.iter().map(|a| json!(a.to_checksum())).collect();
                (family, Value::Array(list))
            })
            .collect();
        let mut response = SupportedResponse {
            kinds,
            extensions,
            signers,
            raw: Value::Null,
        };
        response.raw = response.serialize();
        response
    }

    /// The wire JSON of the typed fields, in wire order.
    pub fn serialize(&self) -> Value {
        let kinds = self.kinds.iter().map(SupportedKind::serialize).collect();
        json!({
            "kinds": Value::Array(kinds),
            "extensions": self.extensions,
            "signers": Value::Object(self.signers.clone()),
        })
    }

    /// The JSON it was parsed from, or built as.
    pub fn to_json(&self) -> &Value {
        &self.raw
    }
}

#[cfg(test)]
mod tests;
