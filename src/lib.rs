//! TLS Lite for Rust: the workspace's crates under one roof.
//!
//! - [`tls`]: `TlsStream` with fingerprint pinning, Checkers, client certificates and
//!   resumption over rustls.
//! - [`tls_server`]: a threaded TLS server with a handshake hook, STARTTLS, and an HTTPS
//!   static-file handler.
#![forbid(unsafe_code)]

pub use tls;
pub use tls_server;
