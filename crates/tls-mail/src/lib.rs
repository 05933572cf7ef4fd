//! POP3 and IMAP over implicit TLS and STLS/STARTTLS on `tls` streams, with every
//! authentication mode of the core: CA roots, a pinned fingerprint, TLS-SRP, client
//! certificates and [`tls::Checker`]s.
//!
//! - [`pop3`]: our own POP3 client (RFC 1939, CAPA from RFC 2449, STLS from RFC 2595;
//!   USER/PASS, APOP, AUTH PLAIN) with a nom parser that streams dot-stuffed messages.
//! - [`imap`]: an [`::imap::Client`] over our [`tls::TlsStream`], on port 993 or after STARTTLS.
//!
//! Credentials never travel before TLS: both clients finish the handshake before they return.
//!
//! A TLS failure (an alert, a pin mismatch, a Checker's veto, a close without `close_notify`) is
//! [`pop3::Error::Tls`] or [`imap::Error::Tls`] while connecting; later, inside the `imap`
//! crate's session errors too, [`tls::Error::find`] finds it in any of these errors.
//!
//! ```no_run
//! use tls_mail::{pop3::Pop3Client, Security};
//!
//! let pin: tls::Fingerprint = "sha256:90:60:...".parse()?;
//! let config = tls::ClientConfig::builder()
//!     .server_auth(tls::ServerAuth::Fingerprint(pin))
//!     .build()?;
//! let mut pop = Pop3Client::builder(config)
//!     .security(Security::StartTls)
//!     .connect("mail.example.org", 110)?;
//! pop.login("alice", "secret")?;
//! println!("{} messages", pop.stat()?.count);
//! pop.retr_to(1, &mut std::io::stdout())?;
//! pop.quit()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod imap;
mod line_stream;
pub mod pop3;
mod security;

pub use security::DEFAULT_TIMEOUT;
/// When TLS starts (implicit TLS on 995/993, the default, or STLS/STARTTLS on 110/143): one
/// type for every adapter.
pub use tls::Security;
