//! Certificates, private keys and trust roots, loaded from PEM or DER.

use std::path::Path;

use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::Error;

/// A certificate chain, leaf first, as a server or client presents it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateChain(pub(crate) Vec<CertificateDer<'static>>);

impl CertificateChain {
    /// Every `CERTIFICATE` block of a PEM file, in order.
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
            .map_err(|e| Error::config(format!("{}: {e}", path.display())))?;
        Self::non_empty(certs, &path.display().to_string())
    }

    /// Every `CERTIFICATE` block of PEM text, in order.
    pub fn from_pem(pem: &[u8]) -> Result<Self, Error> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::config(format!("PEM certificates: {e}")))?;
        Self::non_empty(certs, "PEM text")
    }

    /// DER-encoded certificates, leaf first.
    pub fn from_der(certs: impl IntoIterator<Item = Vec<u8>>) -> Result<Self, Error> {
        Self::non_empty(
            certs.into_iter().map(CertificateDer::from).collect(),
            "DER list",
        )
    }

    fn non_empty(certs: Vec<CertificateDer<'static>>, source: &str) -> Result<Self, Error> {
        if certs.is_empty() {
            return Err(Error::config(format!("no certificates in {source}")));
        }
        Ok(Self(certs))
    }

    /// The DER encodings, leaf first.
    pub fn certificates(&self) -> &[CertificateDer<'static>] {
        &self.0
    }
}

/// A private key (PKCS#8, PKCS#1 RSA or SEC1 EC).
#[derive(Debug)]
pub struct PrivateKey(pub(crate) PrivateKeyDer<'static>);

impl Clone for PrivateKey {
    fn clone(&self) -> Self {
        Self(self.0.clone_key())
    }
}

impl PrivateKey {
    /// The first private key in a PEM file.
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        PrivateKeyDer::from_pem_file(path)
            .map(Self)
            .map_err(|e| Error::config(format!("{}: no usable private key: {e}", path.display())))
    }

    /// The first private key in PEM text.
    pub fn from_pem(pem: &[u8]) -> Result<Self, Error> {
        PrivateKeyDer::from_pem_slice(pem)
            .map(Self)
            .map_err(|e| Error::config(format!("PEM private key: {e}")))
    }

    /// A PKCS#8 DER-encoded key.
    pub fn from_pkcs8_der(der: Vec<u8>) -> Self {
        Self(PrivateKeyDer::Pkcs8(der.into()))
    }
}

/// The certificate authorities a peer's chain must lead to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustRoots(CertificateChain);

impl TrustRoots {
    /// Every certificate of a PEM file becomes a root.
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        CertificateChain::from_pem_file(path).map(Self)
    }

    /// Every certificate of PEM text becomes a root.
    pub fn from_pem(pem: &[u8]) -> Result<Self, Error> {
        CertificateChain::from_pem(pem).map(Self)
    }

    /// DER-encoded root certificates.
    pub fn from_der(certs: impl IntoIterator<Item = Vec<u8>>) -> Result<Self, Error> {
        CertificateChain::from_der(certs).map(Self)
    }

    pub(crate) fn root_store(&self) -> Result<RootCertStore, Error> {
        let mut store = RootCertStore::empty();
        for cert in self.0.certificates() {
            store
                .add(cert.clone())
                .map_err(|e| Error::config(format!("unusable trust root: {e}")))?;
        }
        Ok(store)
    }
}
