//! TLS 1.3's key schedule and record protection (RFC 8446 §5, §7), for the external-PSK
//! handshakes: the suites as rows of a table, HKDF with its labels, the running transcript,
//! AEAD records, and the connection both sides' handshakes drive.
//!
//! Every primitive comes from ring, the provider rustls uses here: `ring::hkdf` (Extract and
//! Expand), `ring::hmac` (binders and Finished), `ring::digest` (the transcript) and
//! `ring::aead` (`AES_128_GCM`, `AES_256_GCM`, `CHACHA20_POLY1305`); the key shares use
//! `ring::agreement` (`X25519`, `ECDH_P256`) in `kx/ecdhe.rs`.

mod connection;
pub(crate) mod key_schedule;
pub(crate) mod record;
pub(crate) mod suites;
#[cfg(test)]
mod tests;

pub(crate) use connection::{Direction, Handshake13, Records13, Tls13Connection};
pub(crate) use key_schedule::{HashAlg, KeySchedule, Secret, Transcript};
pub(crate) use suites::Tls13Suite;

/// What a TLS 1.3 PSK handshake negotiated, as either side reports it.
pub(crate) fn psk_session(
    suite: Option<Tls13Suite>,
    identity: Option<Vec<u8>>,
    alpn: Option<Vec<u8>>,
    server_name: Option<String>,
    resumed: bool,
) -> crate::Session {
    crate::Session {
        version: crate::ProtocolVersion::Tls13,
        cipher_suite: suite.map(|s| s.name.to_owned()).unwrap_or_default(),
        peer_certificates: Vec::new(),
        resumed,
        alpn,
        server_name,
        srp_username: None,
        psk_identity: identity,
        encrypt_then_mac: None,
        extended_master_secret: None,
    }
}
