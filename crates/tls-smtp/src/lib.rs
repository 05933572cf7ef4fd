//! SMTP with STARTTLS or implicit TLS over [`tls`] streams, sending [`lettre`] messages.
//!
//! tlslite's `SMTP_TLS` for Rust: the server is authenticated the way a [`tls::ClientConfig`]
//! says (roots, a pinned fingerprint, SRP, a client certificate, a [`tls::Checker`]), which
//! lettre's own transports cannot do. The SMTP conversation is built from lettre's public
//! commands and reply parser, and [`SmtpTls`] is a [`lettre::Transport`].
//!
//! Security rules that no setting changes:
//! - In [`Security::StartTls`], a server that does not offer STARTTLS or refuses it is an
//!   error ([`Error::StartTlsNotOffered`], [`Error::StartTlsRefused`]): never a fallback
//!   to plaintext.
//! - Credentials are only ever sent under TLS.
//! - Bytes a server sends after its STARTTLS reply and before the handshake are refused
//!   ([`Error::PlaintextAfterStartTls`]), as they could be injected.
//! - Every read and write has a timeout (60 s unless set).
//!
//! A TLS failure is [`Error::Tls`]; [`tls::Error::find`] finds it in this error or in any error
//! that carries one in its `source()` chain.
//!
//! ```no_run
//! use lettre::{Message, Transport};
//! use tls_smtp::{SmtpTls, Security};
//!
//! let roots = tls::TrustRoots::from_pem_file("ca.pem")?;
//! let tls = tls::ClientConfig::builder()
//!     .server_auth(tls::ServerAuth::Roots(roots))
//!     .build()?;
//! let mailer = SmtpTls::builder("mail.example.org", tls)
//!     .security(Security::Implicit)
//!     .build()?;
//! let mut conn = mailer.connect()?;
//! println!("server certificate {}", conn.tls_session().peer_fingerprint_sha256().unwrap());
//! let message = Message::builder()
//!     .from("alice@example.org".parse()?)
//!     .to("bob@example.org".parse()?)
//!     .body(String::from("Hi.\r\n"))?;
//! conn.send(message.envelope(), &message.formatted())?;
//! conn.quit()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "tokio")]
mod async_connection;
mod config;
mod connection;
mod data;
mod dialogue;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod transport;
mod wire;

#[cfg(feature = "tokio")]
pub use async_connection::{AsyncSmtpConnection, AsyncSmtpTls};
pub use config::{SmtpTls, SmtpTlsBuilder};
pub use connection::SmtpConnection;
pub use dialogue::Delivery;
pub use error::{Error, RefusedRecipient};
/// lettre, at the version and features this crate is built with (no TLS stack of its own):
/// build messages with `tls_smtp::lettre::Message` and send them through `lettre::Transport`
/// without adding lettre yourself (whose default features bring native-tls and OpenSSL).
pub use lettre;
pub use lettre::transport::smtp::authentication::Credentials;
pub use lettre::transport::smtp::extension::ClientId;
pub use lettre::transport::smtp::response::Response;
/// When TLS starts (STARTTLS on 587, the default, or implicit TLS on 465): one type for every
/// adapter.
pub use tls::Security;
