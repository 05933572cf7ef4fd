//! The client's handshakes, a file per version, and the choice between them (`version.rs`).

pub(crate) mod tls12;
pub(crate) mod tls13;
pub(crate) mod version;

pub(crate) use tls12::{ClientHandshake, ClientKx12, ClientParams};
pub(crate) use tls13::{Client13Params, ClientHandshake13};
pub(crate) use version::VersionChoice;
