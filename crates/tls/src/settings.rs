//! Handshake settings shared by clients and servers: versions, cipher suites, ALPN, SNI.

use core::fmt;
use core::str::FromStr;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::{CipherSuite, SupportedProtocolVersion};

use crate::engine::tls12::Tls12Suite;
use crate::Error;

/// A TLS protocol version this crate speaks. TLS 1.2 is the floor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ProtocolVersion {
    /// TLS 1.2 (RFC 5246).
    Tls12,
    /// TLS 1.3 (RFC 8446).
    Tls13,
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Tls12 => "TLS 1.2",
            Self::Tls13 => "TLS 1.3",
        })
    }
}

impl FromStr for ProtocolVersion {
    type Err = Error;

    /// Takes `tls1.2`, `TLSv1.3`, `1.2`, `TLS 1.3` and the like.
    fn from_str(s: &str) -> Result<Self, Error> {
        let digits: String = s
            .to_ascii_lowercase()
            .trim_start_matches("tls")
            .trim_start_matches(['v', ' '])
            .to_owned();
        match digits.as_str() {
            "1.2" | "12" => Ok(Self::Tls12),
            "1.3" | "13" => Ok(Self::Tls13),
            _ => Err(Error::config(format!(
                "unsupported TLS version {s:?} (use tls1.2 or tls1.3)"
            ))),
        }
    }
}

/// What a handshake may negotiate. `Default` gives TLS 1.2–1.3, every suite we support, no
/// ALPN and SNI on.
///
/// ```
/// use tls::{HandshakeSettings, ProtocolVersion};
/// let settings = HandshakeSettings {
///     min_version: ProtocolVersion::Tls13,
///     alpn: vec!["http/1.1".into()],
///     ..HandshakeSettings::default()
/// };
/// # let _ = settings;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandshakeSettings {
    /// The lowest version offered or accepted.
    pub min_version: ProtocolVersion,
    /// The highest version offered or accepted.
    pub max_version: ProtocolVersion,
    /// IANA names of the cipher suites allowed, in order of preference
    /// (e.g. `TLS_AES_128_GCM_SHA256`); empty means all that we support.
    pub cipher_names: Vec<String>,
    /// ALPN protocols in order of preference (e.g. `h2`, `http/1.1`); empty means no ALPN.
    pub alpn: Vec<String>,
    /// Whether a client sends the server name indication (never for IP addresses).
    pub sni: bool,
    /// TLS-SRP: the smallest group a client accepts (RFC 5054 sizes; default 2048 bits).
    pub min_srp_bits: u32,
    /// TLS-SRP: the largest group a client accepts (default 8192 bits).
    pub max_srp_bits: u32,
    /// TLS-SRP: offer and accept Encrypt-then-MAC (RFC 7366; default on).
    pub encrypt_then_mac: bool,
    /// TLS-SRP: accept MAC-then-encrypt when the peer lacks Encrypt-then-MAC (default off:
    /// such a peer is refused with `insufficient_security`). MAC-then-encrypt CBC is the
    /// construction padding-oracle attacks (Lucky 13) feed on; ours checks it in constant time,
    /// but turn it on only for a legacy peer you cannot upgrade.
    pub allow_mac_then_encrypt: bool,
}

impl Default for HandshakeSettings {
    fn default() -> Self {
        Self {
            min_version: ProtocolVersion::Tls12,
            max_version: ProtocolVersion::Tls13,
            cipher_names: Vec::new(),
            alpn: Vec::new(),
            sni: true,
            min_srp_bits: 2048,
            max_srp_bits: 8192,
            encrypt_then_mac: true,
            allow_mac_then_encrypt: false,
        }
    }
}

impl HandshakeSettings {
    /// The SRP record protection left by `encrypt_then_mac` and `allow_mac_then_encrypt`.
    pub(crate) fn check_srp_record_protection(&self) -> Result<(), Error> {
        if !self.encrypt_then_mac && !self.allow_mac_then_encrypt {
            return Err(Error::config(
                "encrypt_then_mac is off and allow_mac_then_encrypt is not on: \
                 no TLS-SRP record protection is left",
            ));
        }
        Ok(())
    }

    /// The rustls versions within `min_version..=max_version`.
    pub(crate) fn rustls_versions(&self) -> Result<Vec<&'static SupportedProtocolVersion>, Error> {
        if self.min_version > self.max_version {
            return Err(Error::config(format!(
                "min_version {} is above max_version {}",
                self.min_version, self.max_version
            )));
        }
        let mut versions = Vec::with_capacity(2);
        if self.max_version >= ProtocolVersion::Tls13 {
            versions.push(&rustls::version::TLS13);
        }
        if self.min_version <= ProtocolVersion::Tls12 {
            versions.push(&rustls::version::TLS12);
        }
        Ok(versions)
    }

    /// The ring provider restricted to the named suites, in the order named.
    pub(crate) fn crypto_provider(&self) -> Result<Arc<CryptoProvider>, Error> {
        let mut provider = rustls::crypto::ring::default_provider();
        if !self.cipher_names.is_empty() {
            let mut chosen = Vec::with_capacity(self.cipher_names.len());
            // Our engine's TLS 1.2 suites (SRP, PSK) are its own to offer.
            for name in self.cipher_names.iter().filter(|n| !Tls12Suite::is_ours(n)) {
                let suite = provider
                    .cipher_suites
                    .iter()
                    .find(|s| cipher_suite_name(s.suite()).eq_ignore_ascii_case(name.trim()))
                    .ok_or_else(|| {
                        Error::config(format!("unknown or unsupported cipher suite {name:?}"))
                    })?;
                chosen.push(*suite);
            }
            if chosen.is_empty() {
                return Err(Error::config(
                    "cipher_names names only suites of our own engine (TLS-SRP, TLS 1.2 PSK): \
                     none is left for X.509 clients",
                ));
            }
            provider.cipher_suites = chosen;
        }
        Ok(Arc::new(provider))
    }

    pub(crate) fn alpn_protocols(&self) -> Vec<Vec<u8>> {
        self.alpn.iter().map(|p| p.as_bytes().to_vec()).collect()
    }
}

/// The IANA name of a cipher suite, such as `TLS_AES_128_GCM_SHA256`.
pub(crate) fn cipher_suite_name(suite: CipherSuite) -> String {
    match suite.as_str() {
        // rustls spells the TLS 1.3 suites `TLS13_…`; IANA spells them `TLS_…`.
        Some(name) => match name.strip_prefix("TLS13_") {
            Some(rest) => format!("TLS_{rest}"),
            None => name.to_owned(),
        },
        None => format!("0x{:04X}", u16::from(suite)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_in_common_spellings() {
        for s in ["tls1.2", "TLSv1.2", "1.2", "TLS 1.2"] {
            assert_eq!(
                s.parse::<ProtocolVersion>().unwrap(),
                ProtocolVersion::Tls12,
                "{s}"
            );
        }
        assert_eq!(
            "tls1.3".parse::<ProtocolVersion>().unwrap(),
            ProtocolVersion::Tls13
        );
        assert!("tls1.1".parse::<ProtocolVersion>().is_err());
        assert!("ssl3".parse::<ProtocolVersion>().is_err());
    }

    #[test]
    fn suites_use_iana_names() {
        assert_eq!(
            cipher_suite_name(CipherSuite::TLS13_AES_128_GCM_SHA256),
            "TLS_AES_128_GCM_SHA256"
        );
        assert_eq!(
            cipher_suite_name(CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384),
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
        );
        let settings = HandshakeSettings {
            cipher_names: vec!["tls_chacha20_poly1305_sha256".into()],
            ..Default::default()
        };
        let provider = settings.crypto_provider().unwrap();
        assert_eq!(provider.cipher_suites.len(), 1);
        let bad = HandshakeSettings {
            cipher_names: vec!["TLS_RSA_WITH_RC4_128_MD5".into()],
            ..Default::default()
        };
        assert!(matches!(bad.crypto_provider(), Err(Error::Config(_))));
    }

    #[test]
    fn version_range_must_be_ordered() {
        let s = HandshakeSettings {
            min_version: ProtocolVersion::Tls13,
            max_version: ProtocolVersion::Tls12,
            ..Default::default()
        };
        assert!(s.rustls_versions().is_err());
        let only13 = HandshakeSettings {
            min_version: ProtocolVersion::Tls13,
            ..Default::default()
        };
        assert_eq!(only13.rustls_versions().unwrap().len(), 1);
    }
}
