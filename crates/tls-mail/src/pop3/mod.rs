//! POP3 (RFC 1939) over TLS: implicit (995) or STLS (RFC 2595), CAPA (RFC 2449),
//! USER/PASS, APOP and AUTH PLAIN, and streaming RETR/TOP.

#[cfg(feature = "tokio")]
mod async_client;
mod client;
mod error;
pub(crate) mod parse;
mod session;
pub(crate) mod wire;

#[cfg(feature = "tokio")]
pub use async_client::AsyncPop3Client;
pub use client::{
    ListEntry, Pop3Builder, Pop3Client, Stat, UidEntry, DEFAULT_MAX_LINE, DEFAULT_MAX_LISTING,
};
pub use error::Error;
