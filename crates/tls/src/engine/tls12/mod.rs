//! TLS 1.2's key schedule (RFC 5246 §5–8, RFC 7627): the PRF, the suites as rows of a table,
//! and the keys a handshake negotiates.

mod negotiated;
pub(crate) mod prf;
pub(crate) mod suites;

pub(crate) use negotiated::Negotiated;
pub(crate) use suites::{Tls12Suite, SUITES};

/// Why a peer without Encrypt-then-MAC is refused.
pub(crate) const MTE_REFUSED: &str = "the peer does not use Encrypt-then-MAC (RFC 7366); \
     MAC-then-encrypt needs HandshakeSettings::allow_mac_then_encrypt";
