//! The TLS-SRP cipher suites (RFC 5054 §2.7) and the keys each derives.

use super::prf::prf;
use crate::engine::record::{CipherState, MAC_LEN};

/// A TLS 1.2 suite of our engine: a row of the table (the SRP suites today).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tls12Suite {
    pub(crate) id: u16,
    pub(crate) name: &'static str,
    pub(crate) key_len: usize,
    /// The server also signs with an RSA certificate.
    pub(crate) rsa: bool,
}

/// In our order of preference: AES-128 first (as strong as needed, and faster).
pub(crate) const SUITES: [Tls12Suite; 4] = [
    Tls12Suite {
        id: 0xc01d,
        name: "TLS_SRP_SHA_WITH_AES_128_CBC_SHA",
        key_len: 16,
        rsa: false,
    },
    Tls12Suite {
        id: 0xc020,
        name: "TLS_SRP_SHA_WITH_AES_256_CBC_SHA",
        key_len: 32,
        rsa: false,
    },
    Tls12Suite {
        id: 0xc01e,
        name: "TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA",
        key_len: 16,
        rsa: true,
    },
    Tls12Suite {
        id: 0xc021,
        name: "TLS_SRP_SHA_RSA_WITH_AES_256_CBC_SHA",
        key_len: 32,
        rsa: true,
    },
];

impl Tls12Suite {
    /// The suites allowed by IANA `names` (all when empty), in our order.
    pub(crate) fn allowed(names: &[String]) -> Vec<Tls12Suite> {
        SUITES
            .iter()
            .copied()
            .filter(|s| {
                names.is_empty() || names.iter().any(|n| n.trim().eq_ignore_ascii_case(s.name))
            })
            .collect()
    }

    /// (client write, server write) cipher states from the master secret.
    pub(crate) fn keys(
        &self,
        master: &[u8; 48],
        client_random: &[u8; 32],
        server_random: &[u8; 32],
        etm: bool,
    ) -> (CipherState, CipherState) {
        let mut block = vec![0u8; 2 * (MAC_LEN + self.key_len)];
        prf(
            master,
            b"key expansion",
            &[server_random, client_random],
            &mut block,
        );
        let (client_mac, rest) = block.split_at(MAC_LEN);
        let (server_mac, rest) = rest.split_at(MAC_LEN);
        let (client_key, server_key) = rest.split_at(self.key_len);
        (
            CipherState::new(client_key, client_mac, etm),
            CipherState::new(server_key, server_mac, etm),
        )
    }
}
