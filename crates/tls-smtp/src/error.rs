//! What can go wrong while sending mail.

use core::fmt;
use std::io;

use lettre::Address;

/// A recipient the server would not take, with its reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefusedRecipient {
    /// The address given in `RCPT TO`.
    pub address: Address,
    /// The reply code (4xx: try later, 5xx: permanent).
    pub code: u16,
    /// The reply text, lines joined with spaces.
    pub text: String,
}

impl fmt::Display for RefusedRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{}>: {} {}", self.address, self.code, self.text)
    }
}

/// Everything that can go wrong in an SMTP session.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Connecting, reading or writing failed (timeouts included).
    Io(io::Error),
    /// The TLS handshake failed, or the server is not who the configuration demands (a pinned
    /// fingerprint, the roots, SRP or a [`tls::Checker`] refused it).
    Tls(tls::Error),
    /// The server answered a command with an error reply.
    Reply {
        /// The command, without arguments (`MAIL`, `DATA`, …; `greeting` for the banner).
        command: &'static str,
        /// The reply code.
        code: u16,
        /// The reply text, lines joined with spaces.
        text: String,
    },
    /// In STARTTLS mode the server did not offer STARTTLS. We never go on in plaintext.
    StartTlsNotOffered,
    /// The server answered STARTTLS with an error (454 "TLS not available" and the like).
    /// We never go on in plaintext.
    StartTlsRefused {
        /// The reply code.
        code: u16,
        /// The reply text.
        text: String,
    },
    /// The server sent more bytes right after its answer to STARTTLS, before the handshake:
    /// someone may be injecting plaintext, so the connection is dropped.
    PlaintextAfterStartTls,
    /// Credentials are configured but the server offers neither AUTH PLAIN nor AUTH LOGIN.
    NoAuthMechanism,
    /// The server refused the credentials.
    AuthenticationFailed {
        /// The reply code (535 for bad credentials).
        code: u16,
        /// The reply text.
        text: String,
    },
    /// Recipients were refused. Without partial delivery nothing was sent; with it, this
    /// only comes when every recipient was refused.
    RecipientsRefused(Vec<RefusedRecipient>),
    /// The envelope has no recipient.
    NoRecipients,
    /// The message is larger than the limit the server announced with SIZE.
    MessageTooLarge {
        /// The size of the message as RFC 1870 counts it: CRLF line ends, without the
        /// doubled dots and the final `.` line.
        size: usize,
        /// The server's limit.
        limit: usize,
    },
    /// The message has 8-bit bytes but the server does not offer 8BITMIME.
    EightBitNotSupported,
    /// An address is not ASCII but the server does not offer SMTPUTF8.
    SmtpUtf8NotSupported,
    /// The server broke the protocol (a malformed or endless reply, an early close, a 3xx
    /// reply where only 2xx, 4xx or 5xx make sense).
    Protocol(String),
    /// An earlier [`Error::Io`], [`Error::Tls`] or [`Error::Protocol`] on this
    /// [`SmtpConnection`](crate::SmtpConnection) left it in an unknown state (a write cut
    /// short, a reply still on its way), so nothing more is sent on it. Connect again.
    ConnectionBroken,
    /// The configuration is unusable (an empty host, a hello name with spaces…).
    Config(String),
}

impl Error {
    /// The SMTP reply code, for errors that carry one.
    pub fn code(&self) -> Option<u16> {
        match self {
            Self::Reply { code, .. }
            | Self::StartTlsRefused { code, .. }
            | Self::AuthenticationFailed { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// True for a 4xx reply, where trying again later may work.
    pub fn is_transient(&self) -> bool {
        self.code().is_some_and(|c| (400..500).contains(&c))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "I/O error: {e}"),
            Self::Tls(e) => write!(f, "TLS: {e}"),
            Self::Reply {
                command,
                code,
                text,
            } => write!(f, "server refused {command}: {code} {text}"),
            Self::StartTlsNotOffered => {
                f.write_str("server does not offer STARTTLS; refusing to continue in plaintext")
            }
            Self::StartTlsRefused { code, text } => write!(
                f,
                "server refused STARTTLS ({code} {text}); refusing to continue in plaintext"
            ),
            Self::PlaintextAfterStartTls => f.write_str(
                "server sent data after its STARTTLS reply, before TLS (possible injection)",
            ),
            Self::NoAuthMechanism => f.write_str("server offers neither AUTH PLAIN nor AUTH LOGIN"),
            Self::AuthenticationFailed { code, text } => {
                write!(f, "authentication failed: {code} {text}")
            }
            Self::RecipientsRefused(refused) => {
                f.write_str("recipients refused:")?;
                for r in refused {
                    write!(f, " {r};")?;
                }
                Ok(())
            }
            Self::NoRecipients => f.write_str("the envelope has no recipient"),
            Self::MessageTooLarge { size, limit } => write!(
                f,
                "message of {size} bytes is larger than the server's limit of {limit}"
            ),
            Self::EightBitNotSupported => {
                f.write_str("message has 8-bit bytes but the server does not offer 8BITMIME")
            }
            Self::SmtpUtf8NotSupported => {
                f.write_str("an address is not ASCII but the server does not offer SMTPUTF8")
            }
            Self::Protocol(m) => write!(f, "protocol error: {m}"),
            Self::ConnectionBroken => f.write_str(
                "the connection broke on an earlier error and sends nothing more; connect again",
            ),
            Self::Config(m) => write!(f, "configuration error: {m}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::Tls(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    /// Keeps a TLS error that travelled inside an `io::Error` (as `TlsStream` reads make),
    /// found the one way every adapter finds it ([`tls::Error`]'s `From<io::Error>`).
    fn from(e: io::Error) -> Self {
        match tls::Error::from(e) {
            tls::Error::Io(e) => Self::Io(e),
            other => Self::Tls(other),
        }
    }
}

impl From<tls::Error> for Error {
    fn from(e: tls::Error) -> Self {
        Self::Tls(e)
    }
}
