//! What can go wrong in a POP3 session.

use std::fmt;
use std::io;

/// A POP3 error: the transport, TLS, the server's `-ERR`, or a reply we cannot accept.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Connecting, a timeout, or another socket failure.
    Io(io::Error),
    /// The TLS handshake failed or TLS broke later (alerts, pin mismatch, Checker veto…).
    Tls(tls::Error),
    /// The server answered `-ERR`; `message` is its text.
    Server {
        /// The command refused (its verb only: never a password).
        command: String,
        /// What the server said after `-ERR`.
        message: String,
    },
    /// A reply that is not POP3 (RFC 1939), quoted up to 200 bytes.
    Malformed(String),
    /// A line longer than the limit (see `Pop3Builder::max_line_length`).
    LineTooLong {
        /// The limit in bytes.
        max: usize,
    },
    /// A multi-line listing (CAPA, LIST, UIDL) longer than its cap (see
    /// `Pop3Builder::max_listing`).
    TooManyLines {
        /// The most lines accepted.
        max: usize,
    },
    /// The server closed the connection before its reply was complete.
    ConnectionClosed,
    /// An earlier error left a reply half read (a lost or timed-out connection, a line or
    /// listing over its cap, a status line that is not POP3), so the client cannot tell where
    /// the next reply starts. Every later command fails with this; connect again.
    ConnectionBroken,
    /// STLS was asked for, but the server's CAPA list does not offer it. Nothing secret was
    /// sent.
    StartTlsNotOffered,
    /// The server answered STLS with `-ERR` (its text here). Nothing secret was sent.
    StartTlsRefused(String),
    /// The server sent bytes after its `+OK` to STLS, before the handshake: they would be
    /// taken as if they had come over TLS (command injection), so the connection is dropped.
    PlaintextAfterStartTls,
    /// APOP needs a `<timestamp>` in the server's greeting and there was none.
    NoApopTimestamp,
    /// An argument that cannot go on a POP3 command line: empty, or with CR, LF or NUL (or,
    /// in a user name for USER and APOP, a space).
    InvalidArgument(&'static str),
}

impl Error {
    /// Sorts a read or write failure: TLS errors, closed connections, and plain I/O errors.
    pub(crate) fn from_io(e: io::Error) -> Self {
        match tls::Error::from(e) {
            tls::Error::AbruptClose => Self::ConnectionClosed,
            tls::Error::Io(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::UnexpectedEof
                        | io::ErrorKind::ConnectionReset
                        | io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::BrokenPipe
                ) =>
            {
                Self::ConnectionClosed
            }
            tls::Error::Io(e) => Self::Io(e),
            other => Self::Tls(other),
        }
    }

    pub(crate) fn malformed(what: &str, line: &[u8]) -> Self {
        let shown = String::from_utf8_lossy(&line[..line.len().min(200)]);
        Self::Malformed(format!("{what}: {:?}", shown.trim_end()))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "POP3 I/O error: {e}"),
            Self::Tls(e) => write!(f, "POP3 TLS error: {e}"),
            Self::Server { command, message } => {
                write!(f, "POP3 server refused {command}: -ERR {message}")
            }
            Self::Malformed(m) => write!(f, "malformed POP3 reply, {m}"),
            Self::LineTooLong { max } => write!(f, "POP3 line longer than {max} bytes"),
            Self::TooManyLines { max } => write!(f, "POP3 listing longer than {max} lines"),
            Self::ConnectionClosed => f.write_str("POP3 server closed the connection mid-reply"),
            Self::ConnectionBroken => {
                f.write_str("POP3 connection unusable: an earlier error left a reply half read")
            }
            Self::StartTlsNotOffered => f.write_str(
                "POP3 server does not offer STLS in CAPA; nothing was sent in the clear",
            ),
            Self::StartTlsRefused(why) => {
                write!(
                    f,
                    "POP3 server refused STLS ({why}); nothing was sent in the clear"
                )
            }
            Self::PlaintextAfterStartTls => {
                f.write_str("POP3 server sent plaintext after +OK to STLS (possible injection)")
            }
            Self::NoApopTimestamp => f.write_str("POP3 greeting has no APOP timestamp"),
            Self::InvalidArgument(what) => write!(f, "invalid POP3 argument: {what}"),
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

impl From<tls::Error> for Error {
    fn from(e: tls::Error) -> Self {
        match e {
            tls::Error::Io(io) => Self::from_io(io),
            tls::Error::AbruptClose => Self::ConnectionClosed,
            other => Self::Tls(other),
        }
    }
}
