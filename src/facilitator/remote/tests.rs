use super::*;
use crate::x402::receipt::same_network;

#[test]
fn config_is_checked_and_secrets_redacted() {
    let config = RemoteConfig {
        headers: vec![("Authorization".into(), "Bearer s3cret".into())],
        ..RemoteConfig::default()
    };
    let f =
        RemoteFacilitator::new("https://x402.example/facilitator/", config.clone()).expect("valid");
    assert_eq!(
        f.inner.settle.to_string(),
        "https://x402.example/facilitator/settle"
    );
    assert_eq!(f.url_shown(), "https://x402.example");
    let shown = format!("{f:?} {config:?}");
    assert!(!shown.contains("s3cret") && shown.contains("Authorization"));

    for (url, config) in [
        ("ftp://x", RemoteConfig::default()),
        ("http://u:p@x/", RemoteConfig::default()),
        ("http://x/?k=v", RemoteConfig::default()),
        (
            "http://x",
            RemoteConfig {
                connect_timeout: Duration::from_secs(20),
                ..RemoteConfig::default()
            },
        ),
        (
            "http://x",
            RemoteConfig {
                max_response_bytes: 0,
                ..RemoteConfig::default()
            },
        ),
        (
            "http://x",
            RemoteConfig {
                headers: vec![("Content-Length".into(), "1".into())],
                ..RemoteConfig::default()
            },
        ),
        (
            "http://x",
            RemoteConfig {
                headers: vec![("Authorization".into(), "Bearer s3cret\n".into())],
                ..RemoteConfig::default()
            },
        ),
    ] {
        let err = RemoteFacilitator::new(url, config).unwrap_err();
        assert_eq!(err.code(), "config");
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }
}

#[test]
fn networks_match_by_chain() {
    assert!(same_network("eip155:84532", "eip155:84532"));
    assert!(same_network("base-sepolia", "eip155:84532"));
    assert!(!same_network("eip155:8453", "eip155:84532"));
    assert!(!same_network("nonsense", "eip155:84532"));
}
