//! The facilitator HTTP service's answers: every answer of `POST /verify`,
//! `POST /settle` and `GET /supported` — status and body bytes, always
//! `application/json` — is made here, refusals included. The HTTP app around it
//! only moves bytes: it asks [`head`] whether a request is refused before its
//! body is read, reads the body no further than [`MAX_BODY_BYTES`] + 1 bytes,
//! and returns what [`handle`] answers.
//!
//! # Answers
//!
//! - `POST /verify`: 200 and a `VerifyResponse` (`isValid`, and `invalidReason`,
//!   `invalidMessage` when it is not).
//! - `POST /settle`: 200 and a `SettleResponse`, failures included. A
//!   settlement whose outcome is unknown is `success:false`,
//!   `errorReason:"settlement_pending"` *with* its transaction hash: ask again.
//! - `GET /supported` (and `HEAD`): 200 and a `SupportedResponse`.
//! - `GET /health` (and `HEAD`): 200 and `{network, address, pending}` (the
//!   number of settlements whose outcome is unknown).
//!
//! # Refusals
//!
//! A request the service refuses (HTTP 4xx) gets one shape, a JSON object with
//!
//! - `error`: why, in words (bounded: [`MESSAGE_MAX_BYTES`], then a cut mark);
//! - `detail`: the same words (the key FastAPI-style clients read);
//!
//! and, for a `POST` to `/verify` or `/settle`, the route's typed failure, so
//! that an x402 client reads it as one: `/verify` adds `isValid:false`,
//! `invalidReason`, `invalidMessage`; `/settle` adds `success:false`,
//! `errorReason`, `errorMessage`, `transaction:""` and `network`. The reason is
//! `invalid_payload` for a refused body (size, `Content-Length`) and the
//! parser's `invalid_*` code for a body that does not parse.
//!
//! | status | when |
//! |---|---|
//! | 400 | the body does not parse as a request; a malformed or conflicting `Content-Length` |
//! | 404 | no such route (`/verify/` included: one path per route, no redirects) |
//! | 405 | a route asked with another method (the `Allow` header is [`Route::allow`]) |
//! | 413 | a body, declared or sent, over [`MAX_BODY_BYTES`] |

use serde_json::{json, Value};

use super::engine::{bounded, verify_response, Facilitator};
use super::request::FacilitatorRequest;
pub use super::request::MAX_BODY_BYTES;
use crate::x402::reason;
use crate::x402::types::{SettleResponse, VerifyResponse};

#[cfg(doc)]
use crate::text::MESSAGE_MAX_BYTES;

/// The content type of every answer.
pub const CONTENT_TYPE: &str = "application/json";

/// A route of the service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    Verify,
    Settle,
    Supported,
    Health,
}

impl Route {
    /// `verify`, `settle`, `supported`, with or without one leading `/`.
    pub fn parse(path: &str) -> Option<Route> {
        match path.strip_prefix('/').unwrap_or(path) {
            "verify" => Some(Route::Verify),
            "settle" => Some(Route::Settle),
            "supported" => Some(Route::Supported),
            "health" => Some(Route::Health),
            _ => None,
        }
    }

    /// The methods it answers (the `Allow` header of a 405).
    pub fn allow(self) -> &'static str {
        match self {
            Route::Verify | Route::Settle => "POST",
            Route::Supported | Route::Health => "GET, HEAD",
        }
    }

    fn accepts(self, method: &str) -> bool {
        match self {
            Route::Verify | Route::Settle => method == "POST",
            Route::Supported | Route::Health => method == "GET" || method == "HEAD",
        }
    }

    /// A route whose answers are typed payment answers.
    fn payment(self) -> bool {
        matches!(self, Route::Verify | Route::Settle)
    }
}

/// One HTTP request as the service sees it.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// The raw values of its `Content-Length` headers (none, usually one).
    pub content_length: &'a [Vec<u8>],
    /// The body, or its first [`MAX_BODY_BYTES`] + 1 bytes.
    pub body: &'a [u8],
}

/// One answer: HTTP status and JSON body ([`CONTENT_TYPE`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    fn json(status: u16, value: &Value) -> Response {
        Response {
            status,
            body: value.to_string().into_bytes(),
        }
    }
}

/// The refusal shape (see the module docs): `typed` is the payment route and
/// reason code of a typed failure; `network` is the settle failure's.
fn refusal(status: u16, typed: Option<(Route, &str)>, message: &str, network: &str) -> Response {
    let message = bounded(message);
    let mut body = match typed {
        Some((Route::Verify, why)) => VerifyResponse::invalid(why, message.clone(), None)
            .to_json()
            .clone(),
        Some((Route::Settle, why)) => {
            SettleResponse::failed(why, message.clone(), None, None, network)
                .to_json()
                .clone()
        }
        Some((Route::Supported | Route::Health, _)) | None => json!({}),
    };
    if let Value::Object(o) = &mut body {
        o.insert("error".into(), json!(message));
        o.insert("detail".into(), json!(message));
    }
    Response::json(status, &body)
}

fn too_large(route: Route, network: &str) -> Response {
    let message = format!("body over {MAX_BODY_BYTES} bytes");
    refusal(
        413,
        Some((route, reason::INVALID_PAYLOAD)),
        &message,
        network,
    )
}

/// The answer due before the body is read: 404, 405, or 400/413 for the
/// `Content-Length`; else the route, whose body is to be read (no further than
/// [`MAX_BODY_BYTES`] + 1 bytes) and passed to [`handle`].
pub fn head(
    method: &str,
    path: &str,
    content_length: &[Vec<u8>],
    network: &str,
) -> Result<Route, Response> {
    let Some(route) = Route::parse(path) else {
        return Err(refusal(404, None, "Not Found", network));
    };
    if !route.accepts(method) {
        return Err(refusal(405, None, "Method Not Allowed", network));
    }
    if !route.payment() {
        return Ok(route);
    }
    match declared_length(content_length) {
        Declared::Fits => Ok(route),
        Declared::TooLarge => Err(too_large(route, network)),
        Declared::Malformed(message) => Err(refusal(
            400,
            Some((route, reason::INVALID_PAYLOAD)),
            message,
            network,
        )),
    }
}

enum Declared {
    Fits,
    TooLarge,
    Malformed(&'static str),
}

/// The `Content-Length`, if any: plain ASCII digits (blanks around them
/// ignored), one value however many times repeated. An ASGI server may pass any
/// header through, so nothing else is assumed of it.
fn declared_length(values: &[Vec<u8>]) -> Declared {
    let trim = |v: &[u8]| -> Vec<u8> {
        let blank = |b: &u8| *b == b' ' || *b == b'\t';
        let start = v.iter().position(|b| !blank(b)).unwrap_or(v.len());
        let end = v.iter().rposition(|b| !blank(b)).map_or(start, |e| e + 1);
        v[start..end].to_vec()
    };
    let mut distinct: Vec<Vec<u8>> = values.iter().map(|v| trim(v)).collect();
    distinct.sort();
    distinct.dedup();
    let declared = match distinct.as_slice() {
        [] => return Declared::Fits,
        [one] => one,
        _ => return Declared::Malformed("conflicting Content-Length headers"),
    };
    if declared.is_empty() || !declared.iter().all(u8::is_ascii_digit) {
        return Declared::Malformed("Content-Length is not a decimal number of bytes");
    }
    let digits = match declared.iter().position(|&b| b != b'0') {
        Some(first) => &declared[first..],
        None => return Declared::Fits, // zero
    };
    // Length first: any number of digits may be declared.
    let value = (digits.len() <= 19)
        .then(|| std::str::from_utf8(digits).ok()?.parse::<u64>().ok())
        .flatten();
    match value {
        Some(n) if n <= MAX_BODY_BYTES as u64 => Declared::Fits,
        _ => Declared::TooLarge,
    }
}

/// The answer to one request (`now`: Unix seconds, for the payment's validity).
pub async fn handle(engine: &Facilitator, request: &Request<'_>, now: u64) -> Response {
    let network = engine.network().caip2();
    let route = match head(
        request.method,
        request.path,
        request.content_length,
        &network,
    ) {
        Ok(route) => route,
        Err(refused) => return refused,
    };
    if route.payment() && request.body.len() > MAX_BODY_BYTES {
        return too_large(route, &network);
    }
    match route {
        Route::Supported => return Response::json(200, engine.supported().to_json()),
        Route::Health => return Response::json(200, &health(engine)),
        Route::Verify | Route::Settle => {}
    }
    let req = match FacilitatorRequest::from_slice(request.body) {
        Ok(req) => req,
        Err(e) => return refusal(400, Some((route, e.reason)), &e.to_string(), &network),
    };
    if route == Route::Verify {
        let answer = verify_response(&engine.verify(&req, now).await);
        return Response::json(200, answer.to_json());
    }
    let result = engine.settle(&req, now).await;
    Response::json(result.http_status(), result.response().to_json())
}

fn health(engine: &Facilitator) -> Value {
    json!({
        "network": engine.network().caip2(),
        "address": engine.address().to_checksum(),
        "pending": engine.ledger().pending().len(),
    })
}

#[cfg(test)]
mod tests;
