//! How a handshake or record fails: the alert we send (or received) and why, kept so every
//! later call reports the same thing.

use super::msgs::DecodeError;
use crate::{AlertDescription, Error};

/// A failure, kept so every later call reports the same thing.
#[derive(Clone, Debug)]
pub(crate) enum Failure {
    Local(AlertDescription, String),
    Remote(AlertDescription),
    /// The server's certificate is not the one demanded (pin, roots, name).
    Authentication(crate::AuthenticationError),
}

/// Fails the handshake with a fatal alert of ours and why.
pub(crate) fn fail<T>(description: AlertDescription, why: impl Into<String>) -> Result<T, Failure> {
    Err(Failure::local(description, why))
}

impl Failure {
    pub(crate) fn local(description: AlertDescription, message: impl Into<String>) -> Self {
        Self::Local(description, message.into())
    }

    /// A rustls verifier's verdict on a certificate, as our failure.
    pub(crate) fn from_rustls(e: rustls::Error) -> Self {
        match Error::from(e) {
            Error::Authentication(a) => Self::Authentication(a),
            Error::LocalAlert {
                description,
                message,
            } => Self::Local(description, message),
            other => Self::local(AlertDescription::BadCertificate, other.to_string()),
        }
    }

    /// The fatal alert we send for it (none for the peer's own alert).
    pub(crate) fn alert_to_send(&self) -> Option<AlertDescription> {
        match self {
            Self::Local(description, _) => Some(*description),
            Self::Authentication(_) => Some(AlertDescription::BadCertificate),
            Self::Remote(_) => None,
        }
    }

    pub(crate) fn to_error(&self) -> Error {
        match self {
            Self::Authentication(a) => Error::Authentication(a.clone()),
            Self::Local(description, message) => Error::LocalAlert {
                description: *description,
                message: message.clone(),
            },
            Self::Remote(description) => Error::RemoteAlert {
                description: *description,
            },
        }
    }
}

impl From<DecodeError> for Failure {
    fn from(e: DecodeError) -> Self {
        Self::local(AlertDescription::DecodeError, e.0)
    }
}
