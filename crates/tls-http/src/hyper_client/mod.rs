//! HTTPS for hyper's client (feature `hyper`): [`HttpsConnector`] plugs into `hyper-util`'s
//! legacy `Client` the way hyper-rustls does, so pooling, HTTP/1.1 and HTTP/2 (by ALPN) run
//! over our tokio stream with every authentication mode: pins, custom roots, TLS-SRP, client
//! certificates and Checkers.
//!
//! ```no_run
//! use http_body_util::{BodyExt, Empty};
//! use hyper::body::Bytes;
//! use hyper_util::client::legacy::Client;
//! use hyper_util::rt::TokioExecutor;
//! use tls::ServerAuth;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let pin = "sha256:6b1f0c5d8e7a0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899a".parse()?;
//! let config = tls_http::hyper_client::config()
//!     .server_auth(ServerAuth::Fingerprint(pin))
//!     .build()?;
//! let client = Client::builder(TokioExecutor::new())
//!     .build::<_, Empty<Bytes>>(tls_http::hyper_client::HttpsConnector::new(config));
//! let response = client.get("https://127.0.0.1:4443/".parse()?).await?;
//! let body = response.into_body().collect().await?.to_bytes();
//! # Ok(()) }
//! ```
//!
//! Only `https://` is spoken: an `http://` URI is refused, never sent in plaintext.

mod stream;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::Uri;
use hyper_util::client::legacy::connect::HttpConnector;
use tls::{ClientConfig, ClientConfigBuilder, HandshakeSettings};
use tower_service::Service;

pub use stream::HttpsStream;

/// What a connector's errors are boxed as (hyper's convention).
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long a TCP connection and a TLS handshake may each take, unless told otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A [`ClientConfig`] builder offering ALPN `h2` then `http/1.1`: with it, servers that speak
/// HTTP/2 get it. Replacing the settings replaces the ALPN list too.
pub fn config() -> ClientConfigBuilder {
    ClientConfig::builder().settings(HandshakeSettings {
        alpn: vec!["h2".into(), "http/1.1".into()],
        ..HandshakeSettings::default()
    })
}

/// Connects `https://` URIs: TCP through hyper-util's `HttpConnector` (DNS, happy eyeballs,
/// connect timeout), then TLS with a [`ClientConfig`] (its session store shared by every
/// connection, so new connections resume).
#[derive(Clone)]
pub struct HttpsConnector {
    http: HttpConnector,
    config: ClientConfig,
    handshake_timeout: Duration,
}

impl std::fmt::Debug for HttpsConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpsConnector")
            .field("handshake_timeout", &self.handshake_timeout)
            .finish_non_exhaustive()
    }
}

impl HttpsConnector {
    /// A connector whose TLS runs on `config`, with 30 s connect and handshake timeouts.
    pub fn new(config: ClientConfig) -> Self {
        let mut http = HttpConnector::new();
        // The URI says https; HttpConnector only opens the TCP connection for us.
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(DEFAULT_TIMEOUT));
        Self {
            http,
            config,
            handshake_timeout: DEFAULT_TIMEOUT,
        }
    }

    /// How long opening the TCP connection may take.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.http.set_connect_timeout(Some(timeout));
        self
    }

    /// How long the TLS handshake may take (SRP included).
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }
}

impl Service<Uri> for HttpsConnector {
    type Response = HttpsStream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpsStream, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        if uri.scheme() != Some(&hyper::http::uri::Scheme::HTTPS) {
            let refused = format!("{uri}: only https:// is spoken here (no plaintext)");
            return Box::pin(async move { Err(refused.into()) });
        }
        let host = tls::adapter::bare_host(uri.host().unwrap_or_default()).to_owned();
        let tcp = self.http.call(uri);
        let config = self.config.clone();
        let timeout = self.handshake_timeout;
        Box::pin(async move {
            let tcp = tcp.await?.into_inner();
            let tls = tls::adapter::handshake(&config, &host, tcp, timeout).await?;
            Ok(HttpsStream::new(tls))
        })
    }
}

/// The TLS failure behind a hyper client error, if TLS is what failed: an alert's name, a pin
/// mismatch, a Checker's veto. The same as [`tls::Error::find`], which works on any error
/// (reqwest's, an application's own) and is the one way every adapter finds it.
///
/// ```no_run
/// # async fn run(client: hyper_util::client::legacy::Client<tls_http::hyper_client::HttpsConnector, http_body_util::Empty<hyper::body::Bytes>>) {
/// match client.get("https://127.0.0.1:4443/".parse().unwrap()).await {
///     Err(e) => match tls_http::hyper_client::tls_error(&e) {
///         Some(tls::Error::Authentication(why)) => eprintln!("not the server we pinned: {why}"),
///         Some(other) => eprintln!("TLS failed: {other}"),
///         None => eprintln!("HTTP failed: {e}"),
///     },
///     Ok(response) => println!("{}", response.status()),
/// }
/// # }
/// ```
pub fn tls_error(e: &(dyn std::error::Error + 'static)) -> Option<tls::Error> {
    tls::Error::find(e)
}
