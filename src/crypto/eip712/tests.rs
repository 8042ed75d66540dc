use super::*;
use serde_json::json;

fn mail() -> Value {
    json!({
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"}
            ],
            "Person": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}],
            "Mail": [
                {"name": "from", "type": "Person"},
                {"name": "to", "type": "Person"},
                {"name": "contents", "type": "string"}
            ]
        },
        "primaryType": "Mail",
        "domain": {
            "name": "Ether Mail", "version": "1", "chainId": 1,
            "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"
        },
        "message": {
            "from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
            "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
            "contents": "Hello, Bob!"
        }
    })
}

#[test]
fn mail_example() {
    let data = mail();
    let td = TypedData::from_json(&data, DomainTypes::Given).unwrap();
    assert_eq!(
        td.types().encode_type("Mail").unwrap(),
        "Mail(Person from,Person to,string contents)Person(string name,address wallet)"
    );
    assert_eq!(
        hex::encode(td.domain_separator().unwrap()),
        "f2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f"
    );
    assert_eq!(
        hex::encode(td.signing_hash().unwrap()),
        "be609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2"
    );
}

#[test]
fn invalid_domain_is_never_memoized() {
    let mut data = mail();
    data["domain"]["chainId"] = json!(-1);
    for _ in 0..2 {
        let err = hash_typed_data(&data, DomainTypes::Given).unwrap_err();
        assert_eq!(err.path, "domain.chainId");
    }
    // A memoized valid domain still gives the reference digest.
    for _ in 0..2 {
        assert_eq!(
            hex::encode(hash_typed_data(&mail(), DomainTypes::Given).unwrap()),
            "be609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2"
        );
    }
}

#[test]
fn error_paths() {
    let mut data = mail();
    data["message"]["to"]["wallet"] = json!("0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbb");
    let err = hash_typed_data(&data, DomainTypes::Given).unwrap_err();
    assert_eq!(err.path, "message.to.wallet");
}
