//! TLS Lite for Rust: the workspace's crates under one roof.
//!
//! - [`tls`]: `TlsStream` with fingerprint pinning, Checkers, client certificates and
//!   resumption over rustls.
#![forbid(unsafe_code)]

pub use tls;
