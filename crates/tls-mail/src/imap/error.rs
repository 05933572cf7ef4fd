//! What can go wrong before and around an IMAP session.

use std::fmt;
use std::io;

use super::ResponseTooLarge;

/// An IMAP error: connecting, TLS, STARTTLS, or the `imap` crate's own error.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Connecting, a timeout, or another socket failure before the `imap` crate took over.
    Io(io::Error),
    /// The TLS handshake failed (alerts, pin mismatch, Checker veto…).
    Tls(tls::Error),
    /// An error from the `imap` crate: `NO`/`BAD` replies, parse errors, lost connections.
    /// A TLS failure under it (an abrupt close, an alert) is found by [`tls::Error::find`].
    Imap(::imap::Error),
    /// An error from the `async-imap` crate (the tokio client): `NO`/`BAD` replies, parse
    /// errors, lost connections, timeouts.
    #[cfg(feature = "tokio")]
    AsyncImap(async_imap::error::Error),
    /// The greeting was not `* OK` (or `* PREAUTH` where allowed); the line is quoted.
    Greeting(String),
    /// The server refused STARTTLS or sent no tagged reply to it. Nothing secret was sent.
    StartTlsRefused(String),
    /// The server sent bytes after its OK to STARTTLS, before the handshake: they would be
    /// taken as if they had come over TLS (command injection), so the connection is dropped.
    PlaintextAfterStartTls,
    /// The server closed the connection during the plaintext part.
    ConnectionClosed,
    /// A plaintext line longer than the limit.
    LineTooLong,
    /// The server sent more than the cap in reply to one command (see
    /// `ImapBuilder::max_response`). The connection is left mid-response: drop it.
    ResponseTooLarge {
        /// The cap in bytes.
        max: u64,
    },
    /// A reply line the `imap` crate could not parse. The crate reports it as a BYE with
    /// "no explanation given" and no code, which a real server never sends tagged, so
    /// [`Error::from`] turns that into this. The connection is out of step: drop it.
    Malformed,
}

/// The text the `imap` crate puts in the BYE it makes up for a line it cannot parse.
const UNPARSED: &str = "no explanation given";

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "IMAP I/O error: {e}"),
            Self::Tls(e) => write!(f, "IMAP TLS error: {e}"),
            Self::Imap(e) => write!(f, "IMAP error: {e}"),
            #[cfg(feature = "tokio")]
            Self::AsyncImap(e) => write!(f, "IMAP error: {e}"),
            Self::Greeting(line) => write!(f, "unexpected IMAP greeting: {line:?}"),
            Self::StartTlsRefused(why) => {
                write!(
                    f,
                    "IMAP server refused STARTTLS ({why}); nothing was sent in the clear"
                )
            }
            Self::PlaintextAfterStartTls => {
                f.write_str("IMAP server sent plaintext after OK to STARTTLS (possible injection)")
            }
            Self::ConnectionClosed => f.write_str("IMAP server closed the connection"),
            Self::LineTooLong => f.write_str("IMAP line too long before TLS"),
            Self::ResponseTooLarge { max } => {
                write!(f, "IMAP response longer than {max} bytes")
            }
            Self::Malformed => f.write_str("malformed IMAP reply line"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::Tls(e) => Some(e),
            // The `imap` crate's error names its cause only through the deprecated `cause()`,
            // which cannot be downcast: give its `io::Error` (which may carry a `tls::Error`,
            // for `tls::Error::find`) directly.
            Self::Imap(::imap::Error::Io(e)) => Some(e),
            Self::Imap(e) => Some(e),
            #[cfg(feature = "tokio")]
            Self::AsyncImap(e) => Some(e),
            _ => None,
        }
    }
}

impl From<tls::Error> for Error {
    fn from(e: tls::Error) -> Self {
        match e {
            tls::Error::Io(io) => Self::Io(io),
            other => Self::Tls(other),
        }
    }
}

/// Sorts the `imap` crate's errors: a response over our cap and an unparsable line get their
/// own variants; everything else stays [`Error::Imap`].
impl From<::imap::Error> for Error {
    fn from(e: ::imap::Error) -> Self {
        match e {
            ::imap::Error::Io(io) => match io
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<ResponseTooLarge>())
            {
                Some(&ResponseTooLarge { max }) => Self::ResponseTooLarge { max },
                None => Self::Imap(::imap::Error::Io(io)),
            },
            ::imap::Error::Bye(bye) if bye.code.is_none() && bye.information == UNPARSED => {
                Self::Malformed
            }
            other => Self::Imap(other),
        }
    }
}

/// Sorts async-imap's errors as the `imap` crate's are sorted: a
/// response over our cap gets its own variant; everything else stays [`Error::AsyncImap`].
#[cfg(feature = "tokio")]
impl From<async_imap::error::Error> for Error {
    fn from(e: async_imap::error::Error) -> Self {
        match e {
            async_imap::error::Error::Io(io) => match io
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<ResponseTooLarge>())
            {
                Some(&ResponseTooLarge { max }) => Self::ResponseTooLarge { max },
                None => Self::AsyncImap(async_imap::error::Error::Io(io)),
            },
            other => Self::AsyncImap(other),
        }
    }
}
