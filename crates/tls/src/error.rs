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
