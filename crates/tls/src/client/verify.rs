//! Server certificate verifiers that replace CA validation: a pinned fingerprint, and the
//! accept-and-record verifier behind the trust-on-first-use probe.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use crate::checker::check_fingerprint;
use crate::rustls_config::signatures_checked_by;
use crate::Fingerprint;

/// Which certificates a [`KeyHolderVerifier`] accepts.
#[derive(Debug)]
pub(crate) enum Accept {
    /// Only a leaf with this fingerprint; the host name is not checked (the pin names the server).
    Pinned(Fingerprint),
    /// Any leaf: for the probe, which never sends application data, and for a database link on
    /// this machine whose URL asks for encryption only (`sslmode=require` or `prefer`).
    Any,
}

/// Skips CA validation as `Accept` says, but still demands that the server proves it holds the
/// certificate's key: the handshake signature is always verified.
#[derive(Debug)]
pub(crate) struct KeyHolderVerifier {
    accept: Accept,
    provider: ProviderSignatures,
}

impl KeyHolderVerifier {
    pub(crate) fn new(accept: Accept, provider: Arc<CryptoProvider>) -> Self {
        Self {
            accept,
            provider: ProviderSignatures(provider),
        }
    }
}

/// Handshake signatures checked with the provider's algorithms, as rustls's WebPKI verifier
/// checks them.
#[derive(Debug)]
struct ProviderSignatures(Arc<CryptoProvider>);

impl ProviderSignatures {
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

impl ServerCertVerifier for KeyHolderVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Accept::Pinned(pin) = &self.accept {
            check_fingerprint(pin, end_entity).map_err(|e| e.into_rustls())?;
        }
        Ok(ServerCertVerified::assertion())
    }

    signatures_checked_by!(provider);
}
