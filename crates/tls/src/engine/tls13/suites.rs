//! The TLS 1.3 suites (RFC 8446 §B.4) our engine offers with a PSK: each names the AEAD and the
//! hash, and a PSK can only be used with suites of its own hash.

use ring::aead;

use super::key_schedule::HashAlg;

/// A TLS 1.3 suite: a row of the table.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tls13Suite {
    pub(crate) id: u16,
    pub(crate) name: &'static str,
    pub(crate) hash: HashAlg,
    pub(crate) aead: &'static aead::Algorithm,
}

impl PartialEq for Tls13Suite {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

/// In our order of preference: AES-128-GCM (hardware AES here), then ChaCha20 for the same
/// SHA-256 keys, and AES-256-GCM for SHA-384 keys.
pub(crate) const SUITES: [Tls13Suite; 3] = [
    Tls13Suite {
        id: 0x1301,
        name: "TLS_AES_128_GCM_SHA256",
        hash: HashAlg::Sha256,
        aead: &aead::AES_128_GCM,
    },
    Tls13Suite {
        id: 0x1303,
        name: "TLS_CHACHA20_POLY1305_SHA256",
        hash: HashAlg::Sha256,
        aead: &aead::CHACHA20_POLY1305,
    },
    Tls13Suite {
        id: 0x1302,
        name: "TLS_AES_256_GCM_SHA384",
        hash: HashAlg::Sha384,
        aead: &aead::AES_256_GCM,
    },
];

impl Tls13Suite {
    /// The suites allowed by IANA `names` (all when empty), in the order named (ours when
    /// empty).
    pub(crate) fn allowed(names: &[String]) -> Vec<Tls13Suite> {
        if names.is_empty() {
            return SUITES.to_vec();
        }
        names
            .iter()
            .filter_map(|name| SUITES.iter().find(|s| s.name.eq_ignore_ascii_case(name)))
            .copied()
            .collect()
    }

    pub(crate) fn by_id(id: u16) -> Option<Tls13Suite> {
        SUITES.iter().find(|s| s.id == id).copied()
    }
}
