//! Our configurations as rustls ones, for the rest of the async ecosystem (tokio-rustls,
//! hyper-rustls, reqwest's preconfigured TLS): the same verifier — WebPKI, custom roots, or a
//! pin with the key-possession check — with a Checker's certificate pin run inside it.
//!
//! These are `rustls` 0.23 types: the crate using them must be on the same rustls minor version
//! as this one (`cargo tree -i rustls` shows one copy when it is).

use std::sync::Arc;

use rustls::client::danger::{ServerCertVerified, ServerCertVerifier};
use rustls::client::Resumption;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::DistinguishedName;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use crate::checker::check_fingerprint;
use crate::{Checker, Error, Fingerprint};

/// The handshake-signature methods of a rustls verifier, handed to `self.$by`: every verifier
/// here judges certificates its own way and signatures the provider's way.
macro_rules! signatures_checked_by {
    ($by:ident) => {
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &rustls_pki_types::CertificateDer<'_>,
            dss: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            self.$by.verify_tls12_signature(message, cert, dss)
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &rustls_pki_types::CertificateDer<'_>,
            dss: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            self.$by.verify_tls13_signature(message, cert, dss)
        }

        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            self.$by.supported_verify_schemes()
        }
    };
}
pub(crate) use signatures_checked_by;

/// The leaf pin a Checker carries, or an error if it also has checks of the whole session,
/// which no rustls verifier can run (they see the negotiated session, not just certificates).
pub(crate) fn certificate_pin(checker: Option<&Checker>) -> Result<Option<Fingerprint>, Error> {
    let Some(checker) = checker else {
        return Ok(None);
    };
    if checker.has_custom_checks() {
        return Err(Error::config(
            "a Checker with custom checks needs the finished session, which a rustls \
             configuration cannot give it: use tls::tokio or TlsStream",
        ));
    }
    Ok(checker.pinned_fingerprint().cloned())
}

/// A client configuration for rustls: `verifier` (with a Checker's pin on top), a session
/// store of its own.
pub(crate) fn client(
    config: &rustls::ClientConfig,
    verifier: &Arc<dyn ServerCertVerifier>,
    checker: Option<&Checker>,
) -> Result<Arc<rustls::ClientConfig>, Error> {
    let mut exported = config.clone();
    if let Some(pin) = certificate_pin(checker)? {
        exported
            .dangerous()
            .set_certificate_verifier(Arc::new(PinnedServer {
                inner: verifier.clone(),
                pin,
            }));
    }
    // Sessions made here resume only here.
    exported.resumption = Resumption::in_memory_sessions(256);
    Ok(Arc::new(exported))
}

/// `inner` demanding the pinned client leaf as well.
pub(crate) fn pinned_client(
    inner: Arc<dyn ClientCertVerifier>,
    pin: Fingerprint,
) -> Arc<dyn ClientCertVerifier> {
    Arc::new(PinnedClient { inner, pin })
}

/// Why an SRP configuration has no rustls form.
pub(crate) fn srp_refused() -> Error {
    Error::config(
        "TLS-SRP has no rustls equivalent: use tls::tokio or TlsStream for SRP connections",
    )
}

/// A server verifier that also demands the pinned leaf.
#[derive(Debug)]
struct PinnedServer {
    inner: Arc<dyn ServerCertVerifier>,
    pin: Fingerprint,
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )?;
        check_fingerprint(&self.pin, end_entity).map_err(|e| e.into_rustls())?;
        Ok(verified)
    }

    signatures_checked_by!(inner);
}

/// A client-certificate verifier that also demands the pinned leaf.
#[derive(Debug)]
struct PinnedClient {
    inner: Arc<dyn ClientCertVerifier>,
    pin: Fingerprint,
}

impl ClientCertVerifier for PinnedClient {
    fn offer_client_auth(&self) -> bool {
        self.inner.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        // A pinned client must show its certificate.
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let verified = self
            .inner
            .verify_client_cert(end_entity, intermediates, now)?;
        check_fingerprint(&self.pin, end_entity).map_err(|e| e.into_rustls())?;
        Ok(verified)
    }

    signatures_checked_by!(inner);
}
