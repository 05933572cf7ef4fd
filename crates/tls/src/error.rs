//! Errors, with alerts named as in the RFCs.

use core::fmt;
use std::io;
use std::sync::Arc;

use rustls::{CertificateError, PeerIncompatible};

use crate::{AlertDescription, Fingerprint};

/// Everything that can go wrong on a TLS connection.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// We found a fault and sent (or tried to send) this fatal alert to the peer.
    LocalAlert {
        /// The alert sent.
        description: AlertDescription,
        /// What was wrong, in words.
        message: String,
    },
    /// The peer sent this fatal alert.
    RemoteAlert {
        /// The alert received.
        description: AlertDescription,
    },
    /// The handshake worked but the peer is not who the configuration demands: a pinned
    /// fingerprint or a [`Checker`](crate::Checker) did not match.
    Authentication(AuthenticationError),
    /// The peer closed the connection without a `close_notify` alert, so the data may have been
    /// truncated (or the peer vanished mid-handshake).
    AbruptClose,
    /// The underlying transport failed (including read and write timeouts).
    Io(io::Error),
    /// The configuration is unusable (bad PEM, unknown cipher suite name, no versions left…).
    Config(String),
}

impl Error {
    /// The alert involved, sent or received, if any.
    pub fn alert(&self) -> Option<AlertDescription> {
        match self {
            Self::LocalAlert { description, .. } | Self::RemoteAlert { description } => {
                Some(*description)
            }
            _ => None,
        }
    }

    /// The TLS failure somewhere in `error`'s chain of [`source`](std::error::Error::source)s,
    /// whatever stack put it there: our own `Error`, a [`rustls::Error`] (as a configuration
    /// from [`ClientConfig::to_rustls`](crate::ClientConfig::to_rustls) reports a pin mismatch
    /// inside reqwest, hyper-rustls or tokio-rustls), our [`AuthenticationError`], or any of
    /// these carried inside an [`io::Error`]. A rustls error is converted as
    /// `Error::from(rustls::Error)` does, so a pin mismatch comes back as
    /// [`Error::Authentication`] naming both fingerprints.
    ///
    /// `None` when TLS is not what failed (a refused TCP connection, an HTTP status, a DNS
    /// failure). The first TLS error found, walking outward in, is the one returned. Our own
    /// error is returned as a copy; an [`Error::Io`] inside one keeps its kind and message (or
    /// its OS error code) but not the error it carried, since `io::Error` cannot be cloned.
    ///
    /// ```no_run
    /// # async fn run(client: reqwest::Client) {
    /// match client.get("https://localhost:4443/").send().await {
    ///     Err(e) => match tls::Error::find(&e) {
    ///         Some(tls::Error::Authentication(why)) => eprintln!("not the server we pinned: {why}"),
    ///         Some(other) => eprintln!("TLS failed: {other}"),
    ///         None => eprintln!("HTTP failed: {e}"),
    ///     },
    ///     Ok(response) => println!("{}", response.status()),
    /// }
    /// # }
    /// ```
    ///
    /// Any chain will do, e.g. tokio-rustls's `io::Error` wrapped in an application's error:
    ///
    /// ```
    /// use std::io;
    ///
    /// #[derive(Debug)]
    /// struct Fetch(io::Error);
    /// impl std::fmt::Display for Fetch {
    ///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    ///         f.write_str("fetch failed")
    ///     }
    /// }
    /// impl std::error::Error for Fetch {
    ///     fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
    ///         Some(&self.0)
    ///     }
    /// }
    ///
    /// let from_rustls = io::Error::new(io::ErrorKind::InvalidData, rustls::Error::DecryptError);
    /// let found = tls::Error::find(&Fetch(from_rustls)).unwrap();
    /// assert_eq!(found.alert(), Some(tls::AlertDescription::BadRecordMac));
    ///
    /// let refused = Fetch(io::ErrorKind::ConnectionRefused.into());
    /// assert!(tls::Error::find(&refused).is_none());
    /// ```
    pub fn find(error: &(dyn std::error::Error + 'static)) -> Option<Self> {
        let mut next = Some(error);
        while let Some(e) = next {
            if let Some(ours) = e.downcast_ref::<Self>() {
                return Some(ours.duplicate());
            }
            if let Some(theirs) = e.downcast_ref::<rustls::Error>() {
                return Some(theirs.clone().into());
            }
            if let Some(auth) = e.downcast_ref::<AuthenticationError>() {
                return Some(Self::Authentication(auth.clone()));
            }
            // `io::Error::source` skips the error it carries (it returns that error's source):
            // look at the carried one itself.
            next = match e.downcast_ref::<io::Error>().and_then(io::Error::get_ref) {
                Some(carried) => Some(carried as &(dyn std::error::Error + 'static)),
                None => e.source(),
            };
        }
        None
    }

    /// A copy for [`Error::find`]; `io::Error` has no `Clone`, so an `Io` keeps its OS error code
    /// or else its kind and message.
    fn duplicate(&self) -> Self {
        match self {
            Self::LocalAlert {
                description,
                message,
            } => Self::LocalAlert {
                description: *description,
                message: message.clone(),
            },
            Self::RemoteAlert { description } => Self::RemoteAlert {
                description: *description,
            },
            Self::Authentication(e) => Self::Authentication(e.clone()),
            Self::AbruptClose => Self::AbruptClose,
            Self::Io(e) => Self::Io(match e.raw_os_error() {
                Some(code) => io::Error::from_raw_os_error(code),
                None => io::Error::new(e.kind(), e.to_string()),
            }),
            Self::Config(m) => Self::Config(m.clone()),
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::Config(message.into())
    }

    pub(crate) fn local(description: AlertDescription, message: impl fmt::Display) -> Self {
        Self::LocalAlert {
            description,
            message: message.to_string(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LocalAlert {
                description,
                message,
            } => write!(f, "sent alert {description}: {message}"),
            Self::RemoteAlert { description } => write!(f, "peer sent alert {description}"),
            Self::Authentication(e) => write!(f, "authentication failed: {e}"),
            Self::AbruptClose => f.write_str("peer closed the connection without close_notify"),
            Self::Io(e) => write!(f, "I/O error: {e}"),
            Self::Config(m) => write!(f, "configuration error: {m}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::Authentication(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    /// Unwraps an `io::Error` that carries one of ours (as `TlsStream`'s `Read`/`Write` make),
    /// or a rustls error (as tokio-rustls and hyper-rustls make with a configuration from
    /// `to_rustls`: a pin mismatch comes back as [`Error::Authentication`]).
    fn from(e: io::Error) -> Self {
        let carries = |inner: &(dyn std::error::Error + Send + Sync + 'static)| {
            inner.is::<Error>() || inner.is::<rustls::Error>()
        };
        if !e.get_ref().is_some_and(carries) {
            return Self::Io(e);
        }
        let kind = e.kind();
        let Some(inner) = e.into_inner() else {
            return Self::Io(kind.into());
        };
        match inner.downcast::<Error>() {
            Ok(ours) => *ours,
            Err(inner) => match inner.downcast::<rustls::Error>() {
                Ok(theirs) => Self::from(*theirs),
                // Not reachable after the check above; keep the kind rather than panic.
                Err(_) => Self::Io(kind.into()),
            },
        }
    }
}

impl From<Error> for io::Error {
    /// Keeps the TLS error inside, so `io::Error::get_ref()` can be downcast to [`Error`].
    fn from(e: Error) -> Self {
        let kind = match &e {
            Error::Io(inner) => return io::Error::new(inner.kind(), e),
            Error::AbruptClose => io::ErrorKind::UnexpectedEof,
            Error::Authentication(_) => io::ErrorKind::PermissionDenied,
            Error::Config(_) => io::ErrorKind::InvalidInput,
            Error::LocalAlert { .. } | Error::RemoteAlert { .. } => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, e)
    }
}

impl From<rustls::Error> for Error {
    /// Maps rustls's error to ours, naming the alert rustls sends for it.
    fn from(e: rustls::Error) -> Self {
        use rustls::Error as R;
        use AlertDescription as A;
        let sent = match &e {
            R::AlertReceived(alert) => {
                return Self::RemoteAlert {
                    description: (*alert).into(),
                }
            }
            R::InvalidCertificate(CertificateError::Other(other)) => {
                if let Some(auth) = other.0.downcast_ref::<AuthenticationError>() {
                    return Self::Authentication(auth.clone());
                }
                rustls::AlertDescription::from(CertificateError::Other(other.clone())).into()
            }
            R::InvalidCertificate(cert) => rustls::AlertDescription::from(cert.clone()).into(),
            R::InvalidMessage(m) => rustls::AlertDescription::from(*m).into(),
            R::InappropriateMessage { .. } | R::InappropriateHandshakeMessage { .. } => {
                A::UnexpectedMessage
            }
            R::DecryptError => A::BadRecordMac,
            R::PeerSentOversizedRecord => A::RecordOverflow,
            R::NoApplicationProtocol => A::NoApplicationProtocol,
            R::NoCertificatesPresented => A::CertificateRequired,
            R::PeerMisbehaved(_) => A::IllegalParameter,
            R::PeerIncompatible(
                PeerIncompatible::ServerDoesNotSupportTls12Or13
                | PeerIncompatible::ServerTlsVersionIsDisabledByOurConfig
                | PeerIncompatible::SupportedVersionsExtensionRequired
                | PeerIncompatible::Tls12NotOffered
                | PeerIncompatible::Tls12NotOfferedOrEnabled,
            ) => A::ProtocolVersion,
            R::PeerIncompatible(_) => A::HandshakeFailure,
            R::UnsupportedNameType | R::BadMaxFragmentSize | R::InconsistentKeys(_) => {
                return Self::Config(e.to_string())
            }
            _ => A::InternalError,
        };
        Self::local(sent, e)
    }
}

/// What did not match when checking who the peer is.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthenticationError {
    /// The peer's leaf certificate has another fingerprint than the one pinned or checked.
    FingerprintMismatch {
        /// The fingerprint demanded.
        expected: Fingerprint,
        /// The peer certificate's fingerprint, same algorithm.
        actual: Fingerprint,
    },
    /// A certificate was demanded but the peer presented none.
    NoPeerCertificate,
    /// A custom check refused the peer; the text says why.
    Rejected(String),
}

impl fmt::Display for AuthenticationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FingerprintMismatch { expected, actual } => write!(
                f,
                "peer certificate fingerprint {actual} does not match the expected {expected}"
            ),
            Self::NoPeerCertificate => f.write_str("peer presented no certificate"),
            Self::Rejected(why) => write!(f, "peer rejected: {why}"),
        }
    }
}

impl std::error::Error for AuthenticationError {}

impl AuthenticationError {
    /// Wraps this error the way a rustls verifier must return it; [`Error`]'s `From` unwraps it.
    pub(crate) fn into_rustls(self) -> rustls::Error {
        rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(Arc::new(
            self,
        ))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_round_trip_keeps_the_tls_error() {
        let e = Error::RemoteAlert {
            description: AlertDescription::UnknownCa,
        };
        let io: io::Error = e.into();
        assert_eq!(io.kind(), io::ErrorKind::InvalidData);
        match Error::from(io) {
            Error::RemoteAlert { description } => {
                assert_eq!(description, AlertDescription::UnknownCa)
            }
            other => panic!("{other:?}"),
        }
        let plain = io::Error::new(io::ErrorKind::TimedOut, "slow");
        assert!(matches!(Error::from(plain), Error::Io(e) if e.kind() == io::ErrorKind::TimedOut));
    }

    /// An application's error with a cause, as `thiserror`'s `#[source]` makes.
    #[derive(Debug)]
    struct Wrapper(&'static str, Box<dyn std::error::Error + Send + Sync>);

    impl fmt::Display for Wrapper {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Wrapper {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&*self.1)
        }
    }

    fn mismatch() -> AuthenticationError {
        AuthenticationError::FingerprintMismatch {
            expected: "sha256:0781f77ab8d0afd9bf08604ba579471d0e6cf2bd60a9323a050e69f7e93e9dbd"
                .parse()
                .unwrap(),
            actual: "sha256:1111111111111111111111111111111111111111111111111111111111111111"
                .parse()
                .unwrap(),
        }
    }

    #[test]
    fn find_sees_a_rustls_error_inside_io_inside_custom_errors() {
        // tokio-rustls's shape (io::Error carrying rustls::Error), under two application layers.
        let io = io::Error::new(io::ErrorKind::InvalidData, mismatch().into_rustls());
        let chain = Wrapper("request", Box::new(Wrapper("connect", Box::new(io))));
        match Error::find(&chain) {
            Some(Error::Authentication(found)) => {
                assert_eq!(found, mismatch());
                let words = found.to_string();
                assert!(
                    words.contains("0781f77a") && words.contains("11111111"),
                    "{words}"
                );
            }
            other => panic!("{other:?}"),
        }
        // A bare rustls error in the chain, not inside io::Error.
        let chain = Wrapper("request", Box::new(rustls::Error::DecryptError));
        let found = Error::find(&chain).unwrap();
        assert_eq!(found.alert(), Some(AlertDescription::BadRecordMac));
    }

    #[test]
    fn find_sees_ours_inside_nested_io_errors() {
        let ours = Error::RemoteAlert {
            description: AlertDescription::UnknownCa,
        };
        // io::Error inside io::Error: `source()` alone would skip both carried errors.
        let inner: io::Error = ours.into();
        let outer = io::Error::other(inner);
        let chain = Wrapper("handshake", Box::new(outer));
        assert!(matches!(
            Error::find(&chain),
            Some(Error::RemoteAlert {
                description: AlertDescription::UnknownCa
            })
        ));
        // Our authentication error on its own, as a Checker's veto may travel.
        let chain = Wrapper("checked", Box::new(mismatch()));
        assert!(matches!(
            Error::find(&chain),
            Some(Error::Authentication(_))
        ));
        // The outermost TLS error wins.
        let chain = Wrapper(
            "two",
            Box::new(Error::from(io::Error::new(
                io::ErrorKind::InvalidData,
                rustls::Error::DecryptError,
            ))),
        );
        assert_eq!(
            Error::find(&chain).and_then(|e| e.alert()),
            Some(AlertDescription::BadRecordMac)
        );
    }

    #[test]
    fn find_copies_io_and_says_none_without_tls() {
        let timeout = Error::Io(io::Error::new(io::ErrorKind::TimedOut, "read timed out"));
        let chain = Wrapper("get", Box::new(timeout));
        match Error::find(&chain) {
            Some(Error::Io(e)) => {
                assert_eq!(e.kind(), io::ErrorKind::TimedOut);
                assert_eq!(e.to_string(), "read timed out");
            }
            other => panic!("{other:?}"),
        }
        let reset = Error::Io(io::Error::from_raw_os_error(104));
        assert_eq!(
            Error::find(&reset).and_then(|e| match e {
                Error::Io(io) => io.raw_os_error(),
                _ => None,
            }),
            Some(104)
        );
        let refused = Wrapper(
            "connect",
            Box::new(io::Error::new(io::ErrorKind::ConnectionRefused, "refused")),
        );
        assert!(Error::find(&refused).is_none());
        let plain: io::Error = io::ErrorKind::UnexpectedEof.into();
        assert!(Error::find(&plain).is_none());
    }

    #[test]
    fn rustls_errors_map_to_alerts() {
        let e = Error::from(rustls::Error::DecryptError);
        assert_eq!(e.alert(), Some(AlertDescription::BadRecordMac));
        let e = Error::from(rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer,
        ));
        assert_eq!(e.alert(), Some(AlertDescription::UnknownCa));
        let e = Error::from(rustls::Error::AlertReceived(
            rustls::AlertDescription::HandshakeFailure,
        ));
        assert!(matches!(
            e,
            Error::RemoteAlert {
                description: AlertDescription::HandshakeFailure
            }
        ));
        let e = Error::from(AuthenticationError::NoPeerCertificate.into_rustls());
        assert!(matches!(
            e,
            Error::Authentication(AuthenticationError::NoPeerCertificate)
        ));
    }
}
