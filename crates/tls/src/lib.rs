//! TLS with the authentication modes tlslite users know: certificate fingerprint pinning,
//! post-handshake [`Checker`]s, client certificates, TLS-SRP (RFC 5054) and TLS 1.3 pre-shared
//! keys ([`psk`], RFC 8446 §4.2.11) in our own engine, with rustls for X.509 (a server's records
//! after rustls's handshake are ours, under its keys). One sans-IO [`Connection`] holds the
//! policy; the blocking [`TlsStream`] drives it over any `Read + Write`, and `tls::tokio`
//! (feature `tokio`) over any `AsyncRead + AsyncWrite`.
//!
//! Secure by default: a client verifies the server against the Mozilla roots and the host name
//! unless told to use other roots or a pinned fingerprint. There is no accept-anything mode.
//!
//! # Layers, and where each lives
//!
//! | layer | module |
//! |---|---|
//! | engines: rustls (X.509), ours (msgs · record · common state · TLS 1.2 · TLS 1.3 · handshakes · key exchanges: SRP, PSK with ECDHE) | `engine/` |
//! | policy: the sans-IO [`Connection`], [`Checker`], pins, SNI, close rules, [`Session`], alerts | `connection.rs`, `checker.rs`, `session.rs`, `error.rs` |
//! | configurations: what each connection is given | `client/`, `server/`, `settings.rs` |
//! | drivers: [`TlsStream`] (blocking) and `tls::tokio` (async, feature `tokio`) | `stream.rs`, `tokio/` |
//! | one port: the ClientHello picks the engine | `engine/route.rs` |
//! | credentials: SRP-6a, groups, verifiers ([`srp`]); pre-shared keys ([`psk`]); SQLite, PostgreSQL for both (re-exported in [`srp`]) | `srp/`, `psk/`, `store/` |
//! | resumption, both engines: [`SessionStore`], [`SessionCache`], [`TicketKeyRing`], [`SharedResumption`] | `resumption/` |
//! | what the adapter crates share (unstable) | [`adapter`] |
//!
//! ```no_run
//! use std::io::{Read, Write};
//! use std::net::TcpStream;
//!
//! let config = tls::ClientConfig::builder().build()?;
//! let mut tls = config.connect("example.org", TcpStream::connect("example.org:443")?)?;
//! let session = tls.session();
//! println!("{} {} {}", session.version(), session.cipher_suite(),
//!     session.peer_fingerprint_sha256().unwrap());
//! tls.write_all(b"GET / HTTP/1.1\r\nHost: example.org\r\nConnection: close\r\n\r\n")?;
//! let mut page = Vec::new();
//! tls.read_to_end(&mut page)?;
//! tls.close()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod adapter;
mod alert;
mod checker;
mod client;
mod connection;
mod engine;
mod error;
mod fingerprint;
mod host;
mod keys;
mod private_file;
pub mod psk;
mod resumption;
mod rustls_config;
mod security;
mod server;
mod session;
mod settings;
pub mod srp;
mod store;
mod stream;
#[cfg(feature = "tokio")]
pub mod tokio;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use alert::AlertDescription;
pub use checker::Checker;
pub use client::{ClientConfig, ClientConfigBuilder, ServerAuth};
pub use connection::Connection;
pub use error::{AuthenticationError, Error};
pub use fingerprint::{
    spki_sha256_base64, Fingerprint, FingerprintAlgorithm, FingerprintParseError,
};
pub use keys::{CertificateChain, PrivateKey, TrustRoots};
pub use resumption::{SessionCache, SessionStore, SharedResumption, TicketKeyRing};
pub use security::{Security, Service};
pub use server::{ServerConfig, ServerConfigBuilder};

/// What weakens server authentication, kept apart and named so: nothing here is needed to
/// talk securely, and every use of it is easy to find.
pub mod dangerous {
    pub use crate::client::probe;
    pub use crate::psk::low_entropy_psk;

    /// Makes a PSK client offer `psk_ke` alone: the key schedule takes the PSK and no
    /// (EC)DHE share, so whoever learns the key later decrypts every recorded session. For a
    /// device too small for X25519, talking to a server that allows it. Without this a client
    /// offers `psk_dhe_ke` only.
    ///
    /// ```
    /// let psk = tls::psk::ExternalPsk::new("meter-3", [0x5a; 32])?;
    /// let builder = tls::ClientConfig::builder().psk(psk);
    /// let config = tls::dangerous::psk_without_forward_secrecy(builder).build()?;
    /// # let _ = config;
    /// # Ok::<(), tls::Error>(())
    /// ```
    pub fn psk_without_forward_secrecy(
        mut builder: crate::ClientConfigBuilder,
    ) -> crate::ClientConfigBuilder {
        builder.psk_without_dhe = true;
        builder
    }

    /// Lets a PSK server take `psk_ke` (no forward secrecy) from a client that offers nothing
    /// else; `psk_dhe_ke` is still chosen whenever offered. Without this such a client gets
    /// `handshake_failure`.
    pub fn accept_psk_without_forward_secrecy(
        mut builder: crate::ServerConfigBuilder,
    ) -> crate::ServerConfigBuilder {
        builder.allow_psk_ke = true;
        builder
    }
}
pub use session::{PeerIdentity, Session};
pub use settings::{HandshakeSettings, ProtocolVersion};
pub use stream::TlsStream;
