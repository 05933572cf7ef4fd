//! What the protocol adapters (SMTP, POP3, IMAP, HTTPS, the servers' STARTTLS) share, so that
//! each solves a common problem once. Applications do not need this module.

#[cfg(feature = "tokio")]
mod deadline;
mod host;
mod ready;
mod security;
mod tcp;
#[cfg(feature = "tokio")]
mod timed;
mod unbuffered;

#[cfg(feature = "tokio")]
pub use deadline::Deadline;
pub use host::bare_host;
pub use ready::ready;
pub use security::{Security, Service};
#[cfg(feature = "tokio")]
pub use tcp::connect;
pub use tcp::connect_blocking;
#[cfg(feature = "tokio")]
pub use timed::{handshake, timed};
#[cfg(feature = "tokio")]
pub use unbuffered::unbuffered_async;
pub use unbuffered::{unbuffered, PlaintextAfterStartTls};
