//! The client's handshakes.

pub(crate) mod tls12;

pub(crate) use tls12::{ClientHandshake, ClientParams};
