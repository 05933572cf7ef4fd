//! What the protocol adapters (SMTP, POP3, IMAP, HTTPS, the servers' STARTTLS) share, so that
//! each solves a common problem once. Applications do not need this module.

#[cfg(feature = "tokio")]
mod deadline;
mod host;
mod ready;
#[cfg(feature = "tokio")]
mod tcp;
#[cfg(feature = "tokio")]
mod timed;

#[cfg(feature = "tokio")]
pub use deadline::Deadline;
pub use host::bare_host;
pub use ready::ready;
#[cfg(feature = "tokio")]
pub use tcp::connect;
#[cfg(feature = "tokio")]
pub use timed::timed;
