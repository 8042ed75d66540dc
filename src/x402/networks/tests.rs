use super::*;

fn addr(s: &str) -> Address {
    Address::parse(s).unwrap()
}

const BASE_USDC: &str = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913";

#[test]
fn defaults_load() {
    let r = Registry::with_defaults();
    assert_eq!(r.read().names.len(), 23);
    // 29 chains with assets in x402 2.25 + Avalanche Fuji from protocol.md.
    let with_assets = r
        .networks()
        .iter()
        .filter(|n| !r.assets(n.chain_id()).is_empty())
        .count();
    assert_eq!(with_assets, 30);
    let total: usize = r
        .networks()
        .iter()
        .map(|n| r.assets(n.chain_id()).len())
        .sum();
    assert_eq!(total, 32);
}

#[test]
fn protocol_table() {
    // The default assets of the x402 specification's EVM networks (USDC, FiatToken v2 domains).
    let table: &[(u64, &str, &str, &str, u8)] = &[
        (
            8453,
            "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
            "USD Coin",
            "2",
            6,
        ),
        (
            84532,
            "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
            "USDC",
            "2",
            6,
        ),
        (
            137,
            "0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359",
            "USD Coin",
            "2",
            6,
        ),
        (
            42161,
            "0xaf88d065e77c8cC2239327C5EDb3A432268e5831",
            "USD Coin",
            "2",
            6,
        ),
        (
            421614,
            "0x75faf114eafb1BDbe2F0316DF893fd58CE46AA4d",
            "USD Coin",
            "2",
            6,
        ),
        (
            1,
            "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
            "USD Coin",
            "2",
            6,
        ),
        (
            43114,
            "0xB97EF9Ef8734C71904D8002F8b6Bc66Dd9c48a6E",
            "USD Coin",
            "2",
            6,
        ),
        (
            43113,
            "0x5425890298aed601595a70AB815c96711a31Bc65",
            "USD Coin",
            "2",
            6,
        ),
        (
            143,
            "0x754704Bc059F8C67012fEd69BC8A327a5aafb603",
            "USDC",
            "2",
            6,
        ),
    ];
    let r = Registry::with_defaults();
    for &(chain, address, name, version, decimals) in table {
        let a = r.default_asset(chain).unwrap();
        assert_eq!(a.address.to_checksum(), address, "{chain}");
        assert_eq!(
            (a.name.as_str(), a.version.as_str(), a.decimals),
            (name, version, decimals)
        );
        assert_eq!(a.transfer_method, TransferMethod::Eip3009);
        assert_eq!(a.symbol.as_deref(), Some("USDC"));
    }
}

#[test]
fn sdk_particulars() {
    let r = Registry::with_defaults();
    let mega = r.default_asset(4326).unwrap();
    assert_eq!(mega.transfer_method, TransferMethod::Permit2);
    assert!(mega.supports_eip2612);
    assert_eq!(mega.decimals, 18);
    let igra = r.default_asset(38833).unwrap();
    assert_eq!(igra.transfer_method, TransferMethod::Permit2);
    assert!(!igra.supports_eip2612);
    assert_eq!(r.default_asset(14).unwrap().name, "USD\u{20ae}0");
    // Celo: three assets, USDC first, the others by symbol.
    let celo: Vec<_> = r
        .assets(42220)
        .into_iter()
        .map(|a| a.symbol.unwrap())
        .collect();
    assert_eq!(celo, ["USDC", "USDT", "USAT"]);
    assert_eq!(
        r.asset_by_symbol(42220, "USDT").unwrap().address,
        addr("0x48065fbBE25f71C9282ddf5e1cD6D6A887483D5e")
    );
    assert_eq!(r.network_by_name("celo").unwrap().chain_id(), 42220);
    // Names only in the chain-id map, not in V1_NETWORKS, are still names.
    assert_eq!(r.network_by_name("ethereum").unwrap().chain_id(), 1);
    assert_eq!(r.network_by_name("flare").unwrap().chain_id(), 14);
}

#[test]
fn v1_names_match_the_python_sdk() {
    let table: &[(&str, u64)] = &[
        ("base", 8453),
        ("base-sepolia", 84532),
        ("ethereum", 1),
        ("polygon", 137),
        ("polygon-amoy", 80002),
        ("avalanche", 43114),
        ("avalanche-fuji", 43113),
        ("abstract", 2741),
        ("abstract-testnet", 11124),
        ("iotex", 4689),
        ("sei", 1329),
        ("sei-testnet", 1328),
        ("peaq", 3338),
        ("story", 1513),
        ("educhain", 656476),
        ("skale-base-sepolia", 1444673419),
        ("megaeth", 4326),
        ("monad", 143),
        ("monad-testnet", 10143),
        ("stable", 988),
        ("stable-testnet", 2201),
        ("celo", 42220),
        ("flare", 14),
    ];
    let r = Registry::with_defaults();
    for &(name, id) in table {
        let n = r.parse_network(name).unwrap();
        assert_eq!(n.chain_id(), id, "{name}");
        assert_eq!(n.v1_name(), Some(name));
        assert_eq!(n.caip2(), format!("eip155:{id}"));
        // And back: the CAIP-2 form finds the name.
        assert_eq!(r.parse_network(&n.caip2()).unwrap().v1_name(), Some(name));
    }
    assert_eq!(r.read().names.len(), table.len());
}

#[test]
fn accepted_networks() {
    let r = Registry::with_defaults();
    let ok: &[(&str, u64, Option<&str>)] = &[
        ("eip155:8453", 8453, Some("base")),
        ("base", 8453, Some("base")),
        ("eip155:1", 1, Some("ethereum")),
        ("eip155:42161", 42161, None),
        ("eip155:999999", 999999, None),
        ("eip155:18446744073709551615", u64::MAX, None),
    ];
    for &(s, id, name) in ok {
        let n = r.parse_network(s).unwrap();
        assert_eq!((n.chain_id(), n.v1_name()), (id, name), "{s}");
    }
    assert_eq!(
        r.parse_network("base").unwrap(),
        r.parse_network("eip155:8453").unwrap()
    );
    assert_eq!(r.parse_network("base").unwrap().to_string(), "eip155:8453");
}

#[test]
fn rejected_networks() {
    use ChainIdProblem::*;
    let r = Registry::with_defaults();
    let chain = |input: &str, problem| NetworkError::InvalidChainId {
        input: input.into(),
        problem,
    };
    let long = format!("eip155:{}", "1".repeat(60));
    let cases: Vec<(&str, NetworkError)> = vec![
        ("", NetworkError::Empty),
        ("bäse", NetworkError::NonAscii),
        ("eip155:８４５３", NetworkError::NonAscii),
        (&long, NetworkError::TooLong { len: long.len() }),
        ("Base", NetworkError::Malformed("Base".into())),
        (" base", NetworkError::Malformed(" base".into())),
        ("base ", NetworkError::Malformed("base ".into())),
        ("base-", NetworkError::Malformed("base-".into())),
        (
            "base--sepolia",
            NetworkError::Malformed("base--sepolia".into()),
        ),
        (
            "base_sepolia",
            NetworkError::Malformed("base_sepolia".into()),
        ),
        ("EIP155:8453", NetworkError::Malformed("EIP155:8453".into())),
        (":8453", NetworkError::Malformed(":8453".into())),
        (
            "eip155 :8453",
            NetworkError::Malformed("eip155 :8453".into()),
        ),
        ("arbitrum", NetworkError::UnknownNetwork("arbitrum".into())),
        ("sepolia", NetworkError::UnknownNetwork("sepolia".into())),
        (
            "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp",
            NetworkError::UnsupportedNamespace("solana".into()),
        ),
        (
            "cosmos:cosmoshub-4",
            NetworkError::UnsupportedNamespace("cosmos".into()),
        ),
        ("eip155:", chain("", Empty)),
        ("eip155:0", chain("0", Zero)),
        ("eip155:08453", chain("08453", LeadingZero)),
        ("eip155:+8453", chain("+8453", NotDecimal)),
        ("eip155:-1", chain("-1", NotDecimal)),
        ("eip155:8453 ", chain("8453 ", NotDecimal)),
        ("eip155:0x2105", chain("0x2105", NotDecimal)),
        ("eip155:1e3", chain("1e3", NotDecimal)),
        ("eip155:8_453", chain("8_453", NotDecimal)),
        ("eip155:8453:1", chain("8453:1", NotDecimal)),
        (
            "eip155:18446744073709551616",
            chain("18446744073709551616", Overflow),
        ),
    ];
    for (input, want) in cases {
        let got = r.parse_network(input).unwrap_err();
        assert_eq!(got, want, "{input:?}");
        assert_eq!(got.reason(), crate::x402::reason::INVALID_NETWORK);
        assert!(!got.is_asset_error());
        assert!(!got.to_string().is_empty());
    }
}

#[test]
fn error_messages_are_bounded() {
    let r = Registry::with_defaults();
    let long = "x".repeat(10_000);
    let e = r.parse_network(&long).unwrap_err();
    assert!(e.to_string().len() < 200);
    let e = r.register_network(Some(&long), 5).unwrap_err();
    assert!(e.to_string().len() < 400, "{e}");
    assert_eq!(e.code(), "invalid_v1_name");
}

#[test]
fn register_network() {
    let r = Registry::with_defaults();
    assert!(!r.is_known(31337));
    assert_eq!(
        r.parse_network("anvil").unwrap_err().code(),
        "unknown_network"
    );
    let n = r.register_network(Some("anvil"), 31337).unwrap();
    assert_eq!((n.chain_id(), n.v1_name()), (31337, Some("anvil")));
    assert!(r.is_known(31337));
    assert_eq!(r.parse_network("anvil").unwrap().chain_id(), 31337);
    assert_eq!(
        r.parse_network("eip155:31337").unwrap().v1_name(),
        Some("anvil")
    );
    // Idempotent.
    r.register_network(Some("anvil"), 31337).unwrap();
    r.register_network(None, 31337).unwrap();
    // Conflicts.
    assert_eq!(
        r.register_network(Some("anvil"), 1337).unwrap_err(),
        NetworkError::NameTaken {
            name: "anvil".into(),
            chain_id: 31337
        }
    );
    assert_eq!(
        r.register_network(Some("local"), 31337).unwrap_err(),
        NetworkError::ChainNamed {
            chain_id: 31337,
            name: "anvil".into()
        }
    );
    assert_eq!(
        r.register_network(Some("Anvil"), 7).unwrap_err(),
        NetworkError::InvalidV1Name("Anvil".into())
    );
    assert_eq!(
        r.register_network(Some("x"), 0).unwrap_err().code(),
        "invalid_chain_id"
    );
    // A chain without a name.
    let n = r.register_network(None, 777).unwrap();
    assert_eq!(n.v1_name(), None);
    assert!(r.is_known(777));
    // The global registry is untouched.
    assert_eq!(
        Network::parse("anvil").unwrap_err().code(),
        "unknown_network"
    );
}

#[test]
fn replace_network() {
    let r = Registry::with_defaults();
    // Follow the TypeScript SDK's chain id for "story".
    let n = r.replace_network("story", 1514).unwrap();
    assert_eq!(n.chain_id(), 1514);
    assert_eq!(r.parse_network("story").unwrap().chain_id(), 1514);
    assert_eq!(r.network(1513).unwrap().v1_name(), None);
    // Rename a chain: the old name goes away.
    r.replace_network("story-mainnet", 1514).unwrap();
    assert_eq!(
        r.parse_network("story").unwrap_err().code(),
        "unknown_network"
    );
    assert_eq!(r.network(1514).unwrap().v1_name(), Some("story-mainnet"));
}

fn sample(address: &str, symbol: &str) -> Asset {
    Asset::new(address, "Test Dollar", "1", 6)
        .unwrap()
        .with_symbol(symbol)
        .unwrap()
}

const A1: &str = "0x1111111111111111111111111111111111111111";
const A2: &str = "0x2222222222222222222222222222222222222222";
const A3: &str = "0x3333333333333333333333333333333333333333";

#[test]
fn register_asset_modes() {
    let r = Registry::empty();
    assert_eq!(
        r.default_asset(5).unwrap_err(),
        NetworkError::NoDefaultAsset(5)
    );
    r.register_asset(5, sample(A1, "TD"), Register::Add)
        .unwrap();
    assert!(r.is_known(5));
    assert_eq!(r.default_asset(5).unwrap().address, addr(A1));
    // Identical again: no-op.
    r.register_asset(5, sample(A1, "TD"), Register::Add)
        .unwrap();
    assert_eq!(r.assets(5).len(), 1);
    // Second asset: appended, not default.
    r.register_asset(5, sample(A2, "TE"), Register::Add)
        .unwrap();
    assert_eq!(r.default_asset(5).unwrap().address, addr(A1));
    assert_eq!(r.asset(5, &addr(A2)).unwrap().symbol.as_deref(), Some("TE"));
    // Conflicts by address and by symbol.
    let mut changed = sample(A1, "TD");
    changed.version = "2".into();
    assert_eq!(
        r.register_asset(5, changed.clone(), Register::Add)
            .unwrap_err(),
        NetworkError::AssetConflict {
            chain_id: 5,
            what: "address",
            existing: addr(A1)
        }
    );
    let e = r
        .register_asset(5, sample(A3, "TE"), Register::Add)
        .unwrap_err();
    assert_eq!(
        e,
        NetworkError::AssetConflict {
            chain_id: 5,
            what: "symbol",
            existing: addr(A2)
        }
    );
    assert_eq!(
        e.reason(),
        crate::x402::reason::INVALID_PAYMENT_REQUIREMENTS
    );
    // Replace keeps the position.
    r.register_asset(5, changed, Register::Replace).unwrap();
    assert_eq!(r.default_asset(5).unwrap().version, "2");
    assert_eq!(r.assets(5).len(), 2);
    // Replace by symbol.
    r.register_asset(5, sample(A3, "TE"), Register::Replace)
        .unwrap();
    let list: Vec<_> = r.assets(5).iter().map(|a| a.address).collect();
    assert_eq!(list, [addr(A1), addr(A3)]);
    assert_eq!(r.asset(5, &addr(A2)).unwrap_err().code(), "unknown_asset");
    // Default moves to the front, the former default stays.
    r.register_asset(5, sample(A2, "TF"), Register::Default)
        .unwrap();
    let list: Vec<_> = r.assets(5).iter().map(|a| a.address).collect();
    assert_eq!(list, [addr(A2), addr(A1), addr(A3)]);
    // Replace of something new appends.
    let r2 = Registry::empty();
    r2.register_asset(9, sample(A1, "X"), Register::Replace)
        .unwrap();
    assert_eq!(r2.default_asset(9).unwrap().address, addr(A1));
    // Chain 0 is refused.
    assert_eq!(
        r.register_asset(0, sample(A1, "TD"), Register::Add)
            .unwrap_err()
            .code(),
        "invalid_chain_id"
    );
}

#[test]
fn replace_a_default() {
    let r = Registry::with_defaults();
    let mut usdc = r.default_asset(8453).unwrap();
    usdc.name = "USDC".into();
    assert_eq!(
        r.register_asset(8453, usdc.clone(), Register::Add)
            .unwrap_err()
            .code(),
        "asset_conflict"
    );
    r.register_asset(8453, usdc, Register::Replace).unwrap();
    assert_eq!(r.default_asset(8453).unwrap().name, "USDC");
    // An independent registry: the global one still has the SDK's data.
    assert_eq!(
        Registry::global().default_asset(8453).unwrap().name,
        "USD Coin"
    );
    assert_eq!(
        Registry::with_defaults().default_asset(8453).unwrap().name,
        "USD Coin"
    );
}

#[test]
fn asset_validation() {
    let bad_checksum = "0x833589fcD6eDb6E08f4c7C32D4f71b54bdA02913";
    assert!(matches!(
        Asset::new(bad_checksum, "USD Coin", "2", 6).unwrap_err(),
        NetworkError::InvalidAddress(AddressError::BadChecksum)
    ));
    assert!(matches!(
        Asset::new("0x1234", "USD Coin", "2", 6).unwrap_err(),
        NetworkError::InvalidAddress(AddressError::Malformed(_))
    ));
    // Lowercase and uppercase are accepted as is.
    Asset::new(&BASE_USDC.to_lowercase(), "USD Coin", "2", 6).unwrap();
    assert_eq!(
        Asset::new(BASE_USDC, "USD Coin", "2", 37).unwrap_err(),
        NetworkError::InvalidDecimals(37)
    );
    Asset::new(BASE_USDC, "USD Coin", "2", MAX_DECIMALS).unwrap();
    Asset::new(BASE_USDC, "USD Coin", "2", 0).unwrap();
    for (name, version) in [
        ("", "2"),
        (" USD Coin", "2"),
        ("USD Coin ", "2"),
        ("USD\nCoin", "2"),
        ("USD\u{0}Coin", "2"),
        ("USD Coin", ""),
        ("USD Coin", "2\t"),
    ] {
        let e = Asset::new(BASE_USDC, name, version, 6).unwrap_err();
        assert_eq!(e.code(), "invalid_domain_field", "{name:?} {version:?}");
    }
    let long = "n".repeat(MAX_DOMAIN_FIELD_LEN + 1);
    assert_eq!(
        Asset::new(BASE_USDC, &long, "2", 6).unwrap_err(),
        NetworkError::InvalidDomainField { field: "name" }
    );
    // Non-ASCII names are real (Flare's USD₮0).
    Asset::new(BASE_USDC, "USD\u{20ae}0", "1", 6).unwrap();
    let a = Asset::new(BASE_USDC, "USD Coin", "2", 6).unwrap();
    for good in ["USDC", "USDC.e", "mUSD", "USDT0", "A"] {
        a.clone().with_symbol(good).unwrap();
    }
    for bad in [
        "",
        "0USD",
        ".e",
        "US DC",
        "USD$",
        "ＵＳＤＣ",
        "USD-C",
        &"S".repeat(33),
    ] {
        assert_eq!(
            a.clone().with_symbol(bad).unwrap_err().code(),
            "invalid_symbol",
            "{bad}"
        );
    }
    // validate() runs on register, so a hand-built asset cannot slip through.
    let mut raw = a.clone();
    raw.decimals = 77;
    assert_eq!(
        Registry::empty()
            .register_asset(1, raw, Register::Add)
            .unwrap_err(),
        NetworkError::InvalidDecimals(77)
    );
    let mut raw = a;
    raw.symbol = Some("bad symbol".into());
    assert_eq!(
        Registry::empty()
            .register_asset(1, raw, Register::Add)
            .unwrap_err()
            .code(),
        "invalid_symbol"
    );
}

#[test]
fn transfer_method() {
    assert_eq!(
        TransferMethod::parse("eip3009").unwrap(),
        TransferMethod::Eip3009
    );
    assert_eq!(
        TransferMethod::parse("permit2").unwrap(),
        TransferMethod::Permit2
    );
    for bad in ["", "EIP3009", "permit", "eip-3009", " permit2"] {
        let e = TransferMethod::parse(bad).unwrap_err();
        assert_eq!(e, NetworkError::InvalidTransferMethod(bad.into()));
        assert_eq!(
            e.reason(),
            crate::x402::reason::INVALID_PAYMENT_REQUIREMENTS
        );
    }
    assert_eq!(TransferMethod::Permit2.to_string(), "permit2");
    assert_eq!(TransferMethod::default(), TransferMethod::Eip3009);
}

#[test]
fn lookups() {
    let r = Registry::with_defaults();
    let usdc = r.asset(8453, &addr(&BASE_USDC.to_lowercase())).unwrap();
    assert_eq!(usdc.name, "USD Coin");
    assert_eq!(
        r.asset(84532, &addr(BASE_USDC)).unwrap_err(),
        NetworkError::UnknownAsset {
            chain_id: 84532,
            address: addr(BASE_USDC)
        }
    );
    assert_eq!(
        r.asset_by_symbol(8453, "usdc").unwrap_err(),
        NetworkError::UnknownSymbol {
            chain_id: 8453,
            symbol: "usdc".into()
        }
    );
    assert_eq!(
        r.default_asset(80002).unwrap_err().code(),
        "no_default_asset"
    );
    assert!(r.assets(999).is_empty());
    let nets = r.networks();
    assert!(nets.windows(2).all(|w| w[0].chain_id() < w[1].chain_id()));
    assert_eq!(
        nets.iter()
            .find(|n| n.chain_id() == 8453)
            .unwrap()
            .v1_name(),
        Some("base")
    );
}

#[test]
fn every_error_has_a_reason_and_code() {
    let all = [
        NetworkError::Empty,
        NetworkError::NonAscii,
        NetworkError::TooLong { len: 99 },
        NetworkError::Malformed("x".into()),
        NetworkError::UnsupportedNamespace("solana".into()),
        NetworkError::InvalidChainId {
            input: "0".into(),
            problem: ChainIdProblem::Zero,
        },
        NetworkError::UnknownNetwork("x".into()),
        NetworkError::InvalidV1Name("X".into()),
        NetworkError::NameTaken {
            name: "x".into(),
            chain_id: 1,
        },
        NetworkError::ChainNamed {
            chain_id: 1,
            name: "x".into(),
        },
        NetworkError::NoDefaultAsset(1),
        NetworkError::UnknownAsset {
            chain_id: 1,
            address: Address::ZERO,
        },
        NetworkError::UnknownSymbol {
            chain_id: 1,
            symbol: "X".into(),
        },
        NetworkError::InvalidAddress(AddressError::BadChecksum),
        NetworkError::InvalidDecimals(99),
        NetworkError::InvalidDomainField { field: "name" },
        NetworkError::InvalidSymbol("$".into()),
        NetworkError::InvalidTransferMethod("x".into()),
        NetworkError::AssetConflict {
            chain_id: 1,
            what: "address",
            existing: Address::ZERO,
        },
    ];
    let mut codes: Vec<_> = all.iter().map(NetworkError::code).collect();
    for e in &all {
        let want = if e.is_asset_error() {
            crate::x402::reason::INVALID_PAYMENT_REQUIREMENTS
        } else {
            crate::x402::reason::INVALID_NETWORK
        };
        assert_eq!(e.reason(), want);
        assert!(!e.to_string().is_empty());
    }
    assert_eq!(all.iter().filter(|e| e.is_asset_error()).count(), 9);
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), all.len());
}

#[test]
fn global_registry_is_shared_and_thread_safe() {
    // Use a chain id nothing else registers.
    let id = 0x5eed_0001;
    std::thread::scope(|s| {
        for i in 0..8u8 {
            s.spawn(move || {
                let a = Asset {
                    address: Address([i + 1; 20]),
                    name: "T".into(),
                    version: "1".into(),
                    decimals: 6,
                    symbol: Some(format!("T{i}")),
                    transfer_method: TransferMethod::Eip3009,
                    supports_eip2612: false,
                };
                Registry::global()
                    .register_asset(id, a, Register::Add)
                    .unwrap();
                Network::parse("base").unwrap();
            });
        }
    });
    assert_eq!(Registry::global().assets(id).len(), 8);
    assert!(Network::from_chain_id(id).is_ok());
    assert_eq!(
        Network::from_chain_id(0).unwrap_err().code(),
        "invalid_chain_id"
    );
    assert_eq!("base".parse::<Network>().unwrap().chain_id(), 8453);
}

#[test]
fn loader_rejects_bad_data() {
    let ok_token = r#"{"symbol":"USDC","address":"0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913","name":"USD Coin","version":"2","decimals":6,"transferMethod":"eip3009","supportsEip2612":false}"#;
    let doc = |v1: &str, token: &str| {
        format!(
            r#"{{"_about":[],"v1Networks":[{v1}],"assets":[{{"chainId":8453,"label":"l","source":"s","tokens":[{token}]}}]}}"#
        )
    };
    load_defaults(&doc(r#"{"name":"base","chainId":8453}"#, ok_token)).unwrap();
    let bad = [
        doc(r#"{"name":"base","chainId":8453,"x":1}"#, ok_token),
        doc(r#"{"name":"Base","chainId":8453}"#, ok_token),
        doc(r#"{"name":"base","chainId":0}"#, ok_token),
        doc(r#"{"name":"base","chainId":"8453"}"#, ok_token),
        doc(
            "",
            &ok_token.replace(
                "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
                &BASE_USDC.to_lowercase(),
            ),
        ),
        doc("", &ok_token.replace("eip3009", "EIP3009")),
        doc("", &ok_token.replace("\"decimals\":6", "\"decimals\":300")),
        doc("", &ok_token.replace("false", "0")),
        doc("", &ok_token.replace("\"version\":\"2\",", "")),
        doc("", &format!("{ok_token},{ok_token}")),
        doc("", ""),
        r#"{"v1Networks":[],"assets":[],"_about":[],"_about":[]}"#.to_owned(),
    ];
    for json in bad {
        assert!(load_defaults(&json).is_err(), "{json}");
    }
    // The same chain listed twice.
    let twice = format!(
        r#"{{"_about":[],"v1Networks":[],"assets":[{{"chainId":1,"label":"l","source":"s","tokens":[{ok_token}]}},{{"chainId":1,"label":"l","source":"s","tokens":[]}}]}}"#
    );
    assert!(load_defaults(&twice).is_err());
}
