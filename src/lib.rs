//! TLS Lite for Rust: the workspace's crates under one roof.
//!
//! - [`tls`]: `TlsStream` with fingerprint pinning, Checkers, client certificates,
//!   resumption and TLS-SRP.
//! - [`tls_server`]: a threaded TLS server with a handshake hook, STARTTLS, and an HTTPS
//!   static-file handler.
//! - [`tls_http`]: HTTPS on ureq with every authentication mode, and XML-RPC calls.
//! - [`tls_smtp`]: SMTP with STARTTLS or implicit TLS, sending lettre messages.
//! - [`tls_mail`]: POP3 and IMAP over implicit TLS or STLS/STARTTLS.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use tls;
pub use tls_http;
pub use tls_mail;
pub use tls_server;
pub use tls_smtp;

/// The README's Rust snippets, each a doc test: `cargo test --doc` compiles every one (and runs
/// those that need no network peer), so a snippet that stops compiling fails the tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeSnippets;
