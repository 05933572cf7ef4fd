//! HTTPS on [ureq] with every authentication mode of the [`tls`] crate: fingerprint pinning,
//! custom roots, TLS-SRP, client certificates and Checkers.
//!
//! [`agent`] returns an ordinary [`ureq::Agent`] whose `https://` connections run over a
//! [`tls::TlsStream`], so pooling, keep-alive, redirects, bodies, timeouts and (with the
//! `json` feature) JSON all work as usual. [`HttpTlsConnection`] is the one-host convenience
//! tlslite users know, and [`xmlrpc`] makes XML-RPC calls over the same agent.
//!
//! ```no_run
//! use tls::{ClientConfig, ServerAuth};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let pin = "sha256:6b1f0c5d8e7a0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899a".parse()?;
//! let config = tls_http::config().server_auth(ServerAuth::Fingerprint(pin)).build()?;
//! let agent = tls_http::agent(config);
//! let body = agent.get("https://127.0.0.1:4443/").call()?.body_mut().read_to_string()?;
//! # Ok(()) }
//! ```
//!
//! Errors are [`ureq::Error`]s; when TLS failed, [`tls_error`] finds our [`tls::Error`] inside
//! (an alert's name, a pin mismatch, a Checker's veto).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod connection;
#[cfg(feature = "hyper")]
pub mod hyper_client;
mod transport;
pub mod xmlrpc;

pub use connection::{HttpTlsConnection, Response};

use tls::{ClientConfig, ClientConfigBuilder, HandshakeSettings};
use ureq::unversioned::resolver::DefaultResolver;

/// A [`ClientConfig`] builder that offers ALPN `http/1.1`, ready for the agent's settings.
///
/// Replacing the settings with [`ClientConfigBuilder::settings`] replaces the ALPN list too.
pub fn config() -> ClientConfigBuilder {
    ClientConfig::builder().settings(HandshakeSettings {
        alpn: vec!["http/1.1".into()],
        ..HandshakeSettings::default()
    })
}

/// An agent with ureq's default configuration whose HTTPS runs on `config`.
///
/// Every connection the agent opens shares `config`, including its session store, so a new
/// connection to a server seen before resumes its TLS session.
pub fn agent(config: ClientConfig) -> ureq::Agent {
    agent_with(ureq::Agent::config_builder().build(), config)
}

/// An agent with the given ureq configuration (timeouts, redirects, proxy, …) whose HTTPS
/// runs on `tls`. ureq's own TLS settings are not used.
///
/// ```
/// use std::time::Duration;
///
/// let http = ureq::Agent::config_builder()
///     .timeout_global(Some(Duration::from_secs(30)))
///     .max_redirects(3)
///     .build();
/// let agent = tls_http::agent_with(http, tls_http::config().build().unwrap());
/// # drop(agent);
/// ```
pub fn agent_with(http: ureq::config::Config, tls: ClientConfig) -> ureq::Agent {
    ureq::Agent::with_parts(http, transport::chain(tls), DefaultResolver::default())
}

/// The TLS failure behind a ureq error, if TLS is what failed. [`ureq::Error`] has no
/// `source()` chain for [`tls::Error::find`] to walk, so this opens it and hands what it carries
/// to `find`, the one way every adapter finds TLS failures.
///
/// ```no_run
/// # let agent = tls_http::agent(tls_http::config().build().unwrap());
/// match agent.get("https://127.0.0.1:4443/").call() {
///     Err(e) => match tls_http::tls_error(&e) {
///         Some(tls::Error::Authentication(why)) => eprintln!("not the server we pinned: {why}"),
///         Some(other) => eprintln!("TLS failed: {other}"),
///         None => eprintln!("HTTP failed: {e}"),
///     },
///     Ok(response) => println!("{}", response.status()),
/// }
/// ```
pub fn tls_error(e: &ureq::Error) -> Option<tls::Error> {
    // ureq's error has no `source()`, so `tls::Error::find` cannot see into it: open it here.
    match e {
        ureq::Error::Io(io) => tls::Error::find(io),
        ureq::Error::Other(other) => tls::Error::find(&**other),
        _ => None,
    }
}
