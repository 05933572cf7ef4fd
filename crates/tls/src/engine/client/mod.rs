//! The client's handshakes.

pub(crate) mod tls12;
pub(crate) mod tls13;

pub(crate) use tls12::{ClientHandshake, ClientParams};
pub(crate) use tls13::{Client13Params, ClientHandshake13};
