//! IMAP over TLS through the `imap` crate (which parses with imap-proto): implicit TLS (993)
//! or STARTTLS (143, RFC 3501 §6.2.1), then LOGIN or AUTHENTICATE PLAIN.
//!
//! ```no_run
//! use tls_mail::{imap::ImapClient, Security};
//!
//! let config = tls::ClientConfig::builder().build()?;
//! let mut imap = ImapClient::builder(config)
//!     .security(Security::StartTls)
//!     .connect("mail.example.org", 143)?
//!     .login("alice", "secret")?;
//! let inbox = imap.select("INBOX").map_err(tls_mail::imap::Error::Imap)?;
//! println!("{} messages", inbox.exists);
//! imap.logout().map_err(tls_mail::imap::Error::Imap)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "tokio")]
mod async_client;
mod auth;
pub(crate) mod client;
mod error;
pub(crate) mod starttls;
mod stream;

/// The `imap` crate under [`ImapClient`] and [`ImapSession`] (which derefs to its `Session`), at
/// the version they are built with: name its types here (`sync_imap::types::Fetch`) rather
/// than adding it yourself at a matching version.
pub use ::imap as sync_imap;
#[cfg(feature = "tokio")]
pub use async_client::{AsyncImapClient, AsyncImapSession, AsyncImapStream};
/// The `async-imap` crate under [`AsyncImapClient`] and [`AsyncImapSession`], at the version
/// they are built with (`async_imap::types::Fetch`).
#[cfg(feature = "tokio")]
pub use async_imap;
pub use client::{ImapBuilder, ImapClient, ImapSession};
pub use error::Error;
/// What reads async-imap's FETCH and LIST results, which are streams: `try_collect`,
/// `try_next`.
#[cfg(feature = "tokio")]
pub use futures_util::TryStreamExt;
pub use stream::{ImapStream, ResponseTooLarge, DEFAULT_MAX_RESPONSE};
