//! Post-handshake checks on who the peer is (tlslite's `Checker`).

use core::fmt;
use std::sync::Arc;

use crate::{AuthenticationError, Fingerprint, Session};

type CustomCheck = dyn Fn(&Session) -> Result<(), String> + Send + Sync;

/// Checks run after a successful handshake, on a client or a server. If one fails, the
/// connection is closed with close_notify and `connect`/`accept` returns
/// [`Error::Authentication`](crate::Error) naming what did not match. (The handshake is over,
/// so there is no alert to send; the peer just sees the connection end.)
///
/// ```
/// let fp: tls::Fingerprint = "sha1:0123456789abcdef0123456789abcdef01234567".parse().unwrap();
/// let checker = tls::Checker::new()
///     .x509_fingerprint(fp)
///     .custom(|session| match session.alpn_protocol() {
///         Some(b"http/1.1") => Ok(()),
///         _ => Err("ALPN http/1.1 was not agreed".into()),
///     });
/// # let _ = checker;
/// ```
#[derive(Clone, Default)]
pub struct Checker {
    x509_fingerprint: Option<Fingerprint>,
    custom: Vec<Arc<CustomCheck>>,
}

impl Checker {
    /// A checker that accepts everyone until told otherwise.
    pub fn new() -> Self {
        Self::default()
    }

    /// The peer must present a leaf certificate with this fingerprint.
    pub fn x509_fingerprint(mut self, fingerprint: Fingerprint) -> Self {
        self.x509_fingerprint = Some(fingerprint);
        self
    }

    /// Adds a check of your own; `Err(reason)` rejects the peer.
    pub fn custom(
        mut self,
        check: impl Fn(&Session) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.custom.push(Arc::new(check));
        self
    }

    /// The leaf fingerprint demanded, if any.
    pub(crate) fn pinned_fingerprint(&self) -> Option<&Fingerprint> {
        self.x509_fingerprint.as_ref()
    }

    /// Whether checks of the whole session were added with [`custom`](Self::custom).
    pub(crate) fn has_custom_checks(&self) -> bool {
        !self.custom.is_empty()
    }

    /// Runs every check against a session.
    pub fn check(&self, session: &Session) -> Result<(), AuthenticationError> {
        if let Some(expected) = &self.x509_fingerprint {
            let leaf = session
                .peer_certificate()
                .ok_or(AuthenticationError::NoPeerCertificate)?;
            check_fingerprint(expected, leaf)?;
        }
        for check in &self.custom {
            check(session).map_err(AuthenticationError::Rejected)?;
        }
        Ok(())
    }
}

/// Compares a leaf certificate with an expected fingerprint (constant time).
pub(crate) fn check_fingerprint(
    expected: &Fingerprint,
    leaf_der: &[u8],
) -> Result<(), AuthenticationError> {
    if expected.matches(leaf_der) {
        return Ok(());
    }
    Err(AuthenticationError::FingerprintMismatch {
        expected: expected.clone(),
        actual: Fingerprint::of(expected.algorithm(), leaf_der),
    })
}

impl fmt::Debug for Checker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checker")
            .field("x509_fingerprint", &self.x509_fingerprint)
            .field("custom_checks", &self.custom.len())
            .finish()
    }
}
