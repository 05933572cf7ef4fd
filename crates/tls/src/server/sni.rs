//! Certificates chosen by the name a client asks for by SNI (the python-tls
//! `SNIServerCertificates` idea), with the configuration's own certificate as the default.

use std::collections::HashMap;
use std::sync::Arc;

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::{CertificateChain, Error, PrivateKey};

/// A name's certificate and key, as given to the builder.
pub(crate) type NamedCertificate = (String, CertificateChain, PrivateKey);

/// A name as SNI carries it: a DNS name, compared without case.
pub(crate) fn normalise(name: &str) -> Result<String, Error> {
    let lower = name.trim_end_matches('.').to_ascii_lowercase();
    match rustls_pki_types::DnsName::try_from(lower.as_str()) {
        Ok(_) if !lower.is_empty() => Ok(lower),
        _ => Err(Error::config(format!(
            "{name:?} is not a DNS name (SNI carries only those)"
        ))),
    }
}

/// rustls's view: the certificate for the name asked, else the default.
#[derive(Debug)]
pub(crate) struct SniResolver {
    by_name: HashMap<String, Arc<CertifiedKey>>,
    default: Arc<CertifiedKey>,
}

impl SniResolver {
    pub(crate) fn new(
        default: (&CertificateChain, &PrivateKey),
        named: &[NamedCertificate],
    ) -> Result<Self, Error> {
        let certified = |chain: &CertificateChain, key: &PrivateKey| {
            let signing = rustls::crypto::ring::sign::any_supported_type(&key.0)
                .map_err(|e| Error::config(format!("server key: {e}")))?;
            Ok::<_, Error>(Arc::new(CertifiedKey::new(chain.0.clone(), signing)))
        };
        let by_name = named
            .iter()
            .map(|(name, chain, key)| Ok((name.clone(), certified(chain, key)?)))
            .collect::<Result<_, Error>>()?;
        Ok(Self {
            by_name,
            default: certified(default.0, default.1)?,
        })
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let named = hello
            .server_name()
            .and_then(|name| self.by_name.get(&name.to_ascii_lowercase()));
        Some(named.unwrap_or(&self.default).clone())
    }
}
