//! Our TLS 1.2 suites as rows of a table: the TLS-SRP suites (RFC 5054 §2.7) and the PSK suites
//! (RFC 5489, RFC 7905, RFC 5487), each with its key exchange and record protection, and the
//! keys each derives.

use super::prf::prf;
use crate::engine::record::{
    Aead12, Aead12Kind, CbcSha256, CipherState, Protection, MAC_LEN, SHA256_MAC_LEN,
};

/// How a suite agrees on its premaster secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kx12 {
    /// SRP (RFC 5054).
    Srp,
    /// SRP, with the server's parameters signed by its RSA certificate.
    SrpRsa,
    /// ECDHE with a pre-shared key (RFC 5489): forward secret.
    EcdhePsk,
    /// The pre-shared key alone (RFC 4279 §2): no forward secrecy.
    Psk,
}

/// How a suite protects its records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Bulk {
    /// AES-CBC (key length in the row) with HMAC-SHA1: the SRP suites.
    CbcSha1,
    /// AES-128-CBC with HMAC-SHA256, Encrypt-then-MAC only.
    CbcSha256,
    Aead(Aead12Kind),
}

/// A TLS 1.2 suite of our engine: a row of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tls12Suite {
    pub(crate) id: u16,
    pub(crate) name: &'static str,
    pub(crate) key_len: usize,
    pub(crate) kx: Kx12,
    pub(crate) bulk: Bulk,
}

const fn srp(id: u16, name: &'static str, key_len: usize, kx: Kx12) -> Tls12Suite {
    Tls12Suite {
        id,
        name,
        key_len,
        kx,
        bulk: Bulk::CbcSha1,
    }
}

/// The SRP suites, in our order of preference: AES-128 first (as strong as needed, and faster).
pub(crate) const SUITES: [Tls12Suite; 4] = [
    srp(0xc01d, "TLS_SRP_SHA_WITH_AES_128_CBC_SHA", 16, Kx12::Srp),
    srp(0xc020, "TLS_SRP_SHA_WITH_AES_256_CBC_SHA", 32, Kx12::Srp),
    srp(
        0xc01e,
        "TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA",
        16,
        Kx12::SrpRsa,
    ),
    srp(
        0xc021,
        "TLS_SRP_SHA_RSA_WITH_AES_256_CBC_SHA",
        32,
        Kx12::SrpRsa,
    ),
];

/// The PSK suites OpenSSL 3.0 and GnuTLS 3.7 share, in our order of preference: AEAD before
/// CBC, forward secret before not (plain PSK is only ever taken through `tls::dangerous`).
pub(crate) const PSK_SUITES: [Tls12Suite; 3] = [
    Tls12Suite {
        id: 0xccac,
        name: "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256",
        key_len: 32,
        kx: Kx12::EcdhePsk,
        bulk: Bulk::Aead(Aead12Kind::Chacha20Poly1305),
    },
    Tls12Suite {
        id: 0xc037,
        name: "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256",
        key_len: 16,
        kx: Kx12::EcdhePsk,
        bulk: Bulk::CbcSha256,
    },
    Tls12Suite {
        id: 0x00a8,
        name: "TLS_PSK_WITH_AES_128_GCM_SHA256",
        key_len: 16,
        kx: Kx12::Psk,
        bulk: Bulk::Aead(Aead12Kind::Aes128Gcm),
    },
];

fn allowed_from(table: &[Tls12Suite], names: &[String]) -> Vec<Tls12Suite> {
    table
        .iter()
        .copied()
        .filter(|s| names.is_empty() || names.iter().any(|n| n.trim().eq_ignore_ascii_case(s.name)))
        .collect()
}

impl Tls12Suite {
    /// The SRP suites allowed by IANA `names` (all when empty), in our order.
    pub(crate) fn allowed(names: &[String]) -> Vec<Tls12Suite> {
        allowed_from(&SUITES, names)
    }

    /// The PSK suites allowed by IANA `names` (all when empty), in our order.
    pub(crate) fn allowed_psk(names: &[String]) -> Vec<Tls12Suite> {
        allowed_from(&PSK_SUITES, names)
    }

    /// Whether `name` is one of our engine's TLS 1.2 suites (SRP or PSK), which rustls lacks.
    pub(crate) fn is_ours(name: &str) -> bool {
        SUITES
            .iter()
            .chain(&PSK_SUITES)
            .any(|s| s.name.eq_ignore_ascii_case(name.trim()))
    }

    /// Whether the server proves an RSA certificate too (SRP-RSA).
    pub(crate) fn rsa(&self) -> bool {
        self.kx == Kx12::SrpRsa
    }

    /// Whether its records are CBC, which needs Encrypt-then-MAC (or the legacy opt-in).
    pub(crate) fn is_cbc(&self) -> bool {
        matches!(self.bulk, Bulk::CbcSha1 | Bulk::CbcSha256)
    }

    /// Whether HTTP/2 may run over it. RFC 9113 §9.2.2 (its Appendix A) rules out every TLS 1.2
    /// suite without both an ephemeral key exchange and an AEAD: of ours, that leaves
    /// ECDHE_PSK with ChaCha20-Poly1305 (SRP suites are all CBC; plain PSK is not ephemeral).
    pub(crate) fn carries_h2(&self) -> bool {
        self.kx == Kx12::EcdhePsk && matches!(self.bulk, Bulk::Aead(_))
    }

    /// (client write, server write) record protection from the master secret (RFC 5246 §6.3).
    pub(crate) fn keys(
        &self,
        master: &[u8; 48],
        client_random: &[u8; 32],
        server_random: &[u8; 32],
        etm: bool,
    ) -> (Protection, Protection) {
        let (mac_len, iv_len) = match self.bulk {
            Bulk::CbcSha1 => (MAC_LEN, 0),
            Bulk::CbcSha256 => (SHA256_MAC_LEN, 0),
            Bulk::Aead(kind) => (0, kind.fixed_iv_len()),
        };
        let mut block = zeroize::Zeroizing::new(vec![0u8; 2 * (mac_len + self.key_len + iv_len)]);
        prf(
            master,
            b"key expansion",
            &[server_random, client_random],
            &mut block,
        );
        let (client_mac, rest) = block.split_at(mac_len);
        let (server_mac, rest) = rest.split_at(mac_len);
        let (client_key, rest) = rest.split_at(self.key_len);
        let (server_key, rest) = rest.split_at(self.key_len);
        let (client_iv, server_iv) = rest.split_at(iv_len);
        let one = |key, mac, iv| match self.bulk {
            Bulk::CbcSha1 => Protection::CbcSha1(CipherState::new(key, mac, etm)),
            Bulk::CbcSha256 => Protection::CbcSha256(CbcSha256::new(key, mac)),
            Bulk::Aead(kind) => Protection::Aead(Aead12::new(kind, key, iv)),
        };
        (
            one(client_key, client_mac, client_iv),
            one(server_key, server_mac, server_iv),
        )
    }
}
