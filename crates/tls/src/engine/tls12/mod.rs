//! TLS 1.2's key schedule (RFC 5246 §5–8, RFC 7627): the PRF, the suites as rows of a table,
//! and the keys a handshake negotiates.

mod negotiated;
pub(crate) mod prf;
pub(crate) mod suites;
#[cfg(test)]
mod tests;

pub(crate) use negotiated::Negotiated;
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) use suites::PSK_SUITES;
pub(crate) use suites::{Bulk, Kx12, Tls12Suite, SUITES};

/// Why a peer without Encrypt-then-MAC is refused.
pub(crate) const MTE_REFUSED: &str = "the peer does not use Encrypt-then-MAC (RFC 7366); \
     MAC-then-encrypt needs HandshakeSettings::allow_mac_then_encrypt";

/// Why TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256 is refused without Encrypt-then-MAC.
pub(crate) const CBC_SHA256_NEEDS_ETM: &str = "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256 is used with \
     Encrypt-then-MAC (RFC 7366) only, and the peer did not agree to it";
