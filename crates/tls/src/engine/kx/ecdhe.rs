//! Ephemeral (EC)DH for TLS 1.3 key shares (RFC 8446 §4.2.8): X25519 and secp256r1, from
//! `ring::agreement`.

use ring::agreement;
use ring::rand::SystemRandom;

use crate::engine::{fail, Failure};
use crate::AlertDescription;

/// X25519 (RFC 8446 §4.2.7).
pub(crate) const X25519: u16 = 0x001d;
/// secp256r1.
pub(crate) const SECP256R1: u16 = 0x0017;
/// The groups we do key exchange with, in our order of preference.
pub(crate) const GROUPS: [u16; 2] = [X25519, SECP256R1];

fn algorithm(group: u16) -> Option<&'static agreement::Algorithm> {
    match group {
        X25519 => Some(&agreement::X25519),
        SECP256R1 => Some(&agreement::ECDH_P256),
        _ => None,
    }
}

/// Our half of a key exchange: the private key and the public value sent.
pub(crate) struct KeyShare {
    pub(crate) group: u16,
    private: agreement::EphemeralPrivateKey,
    pub(crate) public: Vec<u8>,
}

impl KeyShare {
    /// A fresh key pair on `group` (one of [`GROUPS`]).
    pub(crate) fn new(group: u16) -> Result<Self, Failure> {
        let rng = SystemRandom::new();
        let internal = |why: &str| Failure::local(AlertDescription::InternalError, why);
        let algorithm = algorithm(group).ok_or_else(|| internal("unsupported group"))?;
        let private = agreement::EphemeralPrivateKey::generate(algorithm, &rng)
            .map_err(|_| internal("no key pair"))?;
        let public = private
            .compute_public_key()
            .map_err(|_| internal("no public key"))?
            .as_ref()
            .to_vec();
        Ok(Self {
            group,
            private,
            public,
        })
    }

    /// The shared secret with the peer's public value; a value off the curve, of the wrong
    /// length or of low order is `illegal_parameter`.
    pub(crate) fn agree(self, peer: &[u8]) -> Result<Vec<u8>, Failure> {
        let Some(algorithm) = algorithm(self.group) else {
            return fail(AlertDescription::InternalError, "unsupported group");
        };
        let peer = agreement::UnparsedPublicKey::new(algorithm, peer);
        agreement::agree_ephemeral(self.private, &peer, |shared| shared.to_vec()).map_err(|_| {
            Failure::local(
                AlertDescription::IllegalParameter,
                "the peer's key share is not a valid public value",
            )
        })
    }
}
