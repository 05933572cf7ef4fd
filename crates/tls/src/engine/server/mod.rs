//! The server's handshakes.

pub(crate) mod tls12;
pub(crate) mod tls13;

pub(crate) use tls12::{ServerHandshake, ServerKx12, ServerParams, SigningCertificate};
pub(crate) use tls13::{Server13Params, ServerHandshake13};
