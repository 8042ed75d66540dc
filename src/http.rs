//! The HTTP/1.1 client transport shared by the JSON-RPC client
//! ([`crate::chain::rpc`]) and the remote facilitator client
//! ([`crate::facilitator::remote`]): tokio + hyper, TLS via rustls (ring,
//! Mozilla roots), a keep-alive pool, a connect timeout, an end-to-end
//! timeout per exchange, a response size cap, no redirects (hyper's client
//! follows none), no proxies from the environment.
//!
//! Failures say at which point the exchange broke ([`Failure`]), because for
//! a request with effects (a transaction, a settlement) that decides whether
//! it may have been processed.

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::header::CONTENT_LENGTH;
use hyper::{Request, StatusCode, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

/// Why an exchange produced no usable answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Refused, DNS, TLS, connect timeout, or a connection hyper proved
    /// unused: the request was certainly not written.
    NotSent(String),
    /// The connection broke after the request may have been written.
    ConnectionLost(String),
    /// No complete answer within the exchange's timeout.
    Timeout(Duration),
    /// The answer is over the cap (`declared`: said so by its content-length).
    TooLarge { cap: usize, declared: bool },
}

/// A pooled HTTP(S) client. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Transport {
    http: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl Transport {
    pub fn new(
        connect_timeout: Duration,
        pool_idle_timeout: Duration,
        pool_max_idle: usize,
    ) -> Result<Self, String> {
        let mut connector = HttpConnector::new();
        connector.enforce_http(false);
        connector.set_connect_timeout(Some(connect_timeout));
        connector.set_nodelay(true);
        connector.set_keepalive(Some(Duration::from_secs(30)));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(provider)
            .map_err(|e| format!("TLS: {e}"))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        let http = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(pool_idle_timeout)
            .pool_max_idle_per_host(pool_max_idle)
            // Only requests hyper proves were never written are retried here.
            .retry_canceled_requests(true)
            .build(https);
        Ok(Transport { http })
    }

    /// One exchange, bounded by `timeout` end to end (connect, write, read
    /// the whole answer): the status and a body of at most `cap` bytes.
    pub async fn exchange(
        &self,
        request: Request<Full<Bytes>>,
        timeout: Duration,
        cap: usize,
    ) -> Result<(StatusCode, Bytes), Failure> {
        let exchange = async {
            let response = self.http.request(request).await.map_err(|e| {
                if never_written(&e) {
                    Failure::NotSent(error_chain(&e))
                } else {
                    Failure::ConnectionLost(error_chain(&e))
                }
            })?;
            let status = response.status();
            if let Some(len) = response.headers().get(CONTENT_LENGTH) {
                let len = len.to_str().ok().and_then(|s| s.parse::<u64>().ok());
                if len.is_none_or(|l| l > cap as u64) {
                    return Err(Failure::TooLarge {
                        cap,
                        declared: true,
                    });
                }
            }
            let body = Limited::new(response.into_body(), cap)
                .collect()
                .await
                .map_err(|e| {
                    if e.is::<http_body_util::LengthLimitError>() {
                        Failure::TooLarge {
                            cap,
                            declared: false,
                        }
                    } else {
                        Failure::ConnectionLost(error_chain(&*e))
                    }
                })?
                .to_bytes();
            Ok((status, body))
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or(Err(Failure::Timeout(timeout)))
    }
}

/// Checks a URL: `http` or `https`, a host, no user info. Returns it with its
/// shown form `scheme://host[:port]` (the path often holds an API key).
pub(crate) fn parse_url(url: &str) -> Result<(Uri, String), &'static str> {
    let uri: Uri = url.parse().map_err(|_| "not a valid URL")?;
    let scheme = uri.scheme_str().ok_or("needs http:// or https://")?;
    if scheme != "http" && scheme != "https" {
        return Err("only http:// and https:// are supported");
    }
    let authority = uri.authority().ok_or("has no host")?;
    if authority.as_str().contains('@') {
        return Err("user info (user:password@) is not supported");
    }
    if authority.host().is_empty() {
        return Err("has no host");
    }
    let shown = format!("{scheme}://{authority}");
    Ok((uri, shown))
}

/// The error's sources, at most 8 deep.
fn sources<'a>(
    err: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(err.source(), |&e| e.source()).take(8)
}

/// `err: source: source…`, for error details.
pub(crate) fn error_chain(err: &(dyn StdError + 'static)) -> String {
    let mut out = err.to_string();
    for e in sources(err) {
        let text = e.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
    }
    out
}

/// hyper's proof that the request was never written: a connect error, or a
/// request canceled before the connection started sending it.
fn never_written(err: &hyper_util::client::legacy::Error) -> bool {
    if err.is_connect() {
        return true;
    }
    sources(err)
        .find_map(|e| e.downcast_ref::<hyper::Error>())
        .is_some_and(hyper::Error::is_canceled)
}
