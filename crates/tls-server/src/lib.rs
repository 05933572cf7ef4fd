//! A threaded TLS server with a handshake hook, server-side STARTTLS and an HTTPS file server.
//!
//! Not implemented yet: this crate is filled by the tls-server issue.
#![forbid(unsafe_code)]
