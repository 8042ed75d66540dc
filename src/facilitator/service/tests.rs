use super::*;

const NETWORK: &str = "eip155:84532";

fn json_of(r: &Response) -> Value {
    serde_json::from_slice(&r.body).unwrap()
}

fn head_of(method: &str, path: &str, lengths: &[&[u8]]) -> Result<Route, Response> {
    let lengths: Vec<Vec<u8>> = lengths.iter().map(|l| l.to_vec()).collect();
    head(method, path, &lengths, NETWORK)
}

#[test]
fn routes_and_methods() {
    assert_eq!(head_of("POST", "/verify", &[]), Ok(Route::Verify));
    assert_eq!(head_of("POST", "settle", &[]), Ok(Route::Settle));
    assert_eq!(head_of("GET", "/supported", &[]), Ok(Route::Supported));
    assert_eq!(head_of("HEAD", "/supported", &[]), Ok(Route::Supported));
    assert_eq!(head_of("GET", "/health", &[]), Ok(Route::Health));
    for (method, path, status) in [
        ("GET", "/nope", 404),
        ("POST", "/verify/", 404),
        ("POST", "//verify", 404),
        ("GET", "/verify", 405),
        ("PUT", "/settle", 405),
        ("POST", "/supported", 405),
        ("POST", "/health", 405),
    ] {
        let refused = head_of(method, path, &[]).unwrap_err();
        assert_eq!(refused.status, status, "{method} {path}");
        let body = json_of(&refused);
        assert_eq!(body["error"], body["detail"]);
        assert!(body["detail"].is_string());
        assert!(body.get("isValid").is_none() && body.get("success").is_none());
    }
    assert_eq!(Route::Verify.allow(), "POST");
    assert_eq!(Route::Supported.allow(), "GET, HEAD");
}

#[test]
fn content_length_refusals_are_typed() {
    let nines = vec![b'9'; 5000];
    let mut zeros = vec![b'0'; 5000];
    zeros.push(b'2');
    for (value, status) in [
        (&b"abc"[..], 400),
        (b"-1", 400),
        (b"1e3", 400),
        (b"+2", 400),
        (b"", 400),
        (b"\xb2", 400),
        (b"10000000000", 413),
        (b"65537", 413),
        (&nines[..], 413),
    ] {
        for route in ["/verify", "/settle"] {
            let refused = head_of("POST", route, &[value]).unwrap_err();
            assert_eq!(refused.status, status, "{value:?}");
            let body = json_of(&refused);
            assert_eq!(body["error"], body["detail"]);
            if route == "/verify" {
                assert_eq!(body["isValid"], false);
                assert_eq!(body["invalidReason"], crate::x402::reason::INVALID_PAYLOAD);
                assert_eq!(body["invalidMessage"], body["error"]);
            } else {
                assert_eq!(body["success"], false);
                assert_eq!(
                    (&body["transaction"], &body["network"]),
                    (&json!(""), &json!(NETWORK))
                );
                assert_eq!(body["errorReason"], crate::x402::reason::INVALID_PAYLOAD);
            }
            if status == 413 {
                assert_eq!(body["error"], "body over 65536 bytes");
            }
        }
    }
    for fits in [&b"2"[..], b" 65536\t", b"0", &zeros[..]] {
        assert_eq!(head_of("POST", "/verify", &[fits]), Ok(Route::Verify));
    }
    assert_eq!(
        head_of("POST", "/verify", &[b"2", b" 2"]),
        Ok(Route::Verify)
    );
    let conflict = head_of("POST", "/verify", &[b"2", b"3"]).unwrap_err();
    assert_eq!(conflict.status, 400);
    assert_eq!(
        json_of(&conflict)["invalidMessage"],
        "conflicting Content-Length headers"
    );
}

#[test]
fn refusal_messages_are_bounded() {
    let long = "x".repeat(10 * crate::text::MESSAGE_MAX_BYTES);
    let r = refusal(
        400,
        Some((Route::Settle, crate::x402::reason::INVALID_PAYLOAD)),
        &long,
        NETWORK,
    );
    let body = json_of(&r);
    for key in ["error", "detail", "errorMessage"] {
        let shown = body[key].as_str().unwrap();
        assert!(shown.len() < crate::text::MESSAGE_MAX_BYTES + 32, "{key}");
        assert!(shown.ends_with(" bytes]"), "{key}");
    }
}
