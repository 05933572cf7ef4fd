//! **Unstable: for this workspace's adapter crates**, not for applications, and outside the
//! crate's compatibility promise (as ureq's `unversioned`). What the protocol adapters (SMTP,
//! POP3, IMAP, HTTPS, the servers' STARTTLS) share, so that each solves a common problem once.
//! What applications name, [`crate::Security`] and [`crate::Service`], is
//! at the crate's root.

#[cfg(feature = "tokio")]
mod deadline;

mod ready;
mod tcp;
#[cfg(feature = "tokio")]
mod timed;
mod unbuffered;

pub use crate::host::bare_host;
#[doc(hidden)]
pub use crate::security::{Security, Service};
#[cfg(feature = "tokio")]
pub use deadline::Deadline;
pub use ready::ready;
#[cfg(feature = "tokio")]
pub use tcp::connect;
pub use tcp::connect_blocking;
#[cfg(feature = "tokio")]
pub use timed::{handshake, timed};
#[cfg(feature = "tokio")]
pub use unbuffered::unbuffered_async;
pub use unbuffered::{unbuffered, PlaintextAfterStartTls};
