//! Pre-shared keys as TLS 1.2's key exchange: plain PSK (RFC 4279 §2) and ECDHE_PSK
//! (RFC 5489 §2). The server may send a `psk_identity_hint` (in a ServerKeyExchange, which
//! ECDHE_PSK always sends for its curve and point); the client names its identity in the
//! ClientKeyExchange, beside its point for ECDHE_PSK. The premaster secret is the (EC)DH secret
//! (zeros for plain PSK) and the key, each with its length.

use std::sync::Arc;

use zeroize::Zeroizing;

use super::ecdhe::{KeyShare, GROUPS, SECP256R1};
use crate::engine::msgs::{PskClientKeyExchange, PskServerKeyExchange};
use crate::engine::tls12::Kx12;
use crate::engine::{fail, Failure};
use crate::psk::{ExternalPsk, PskStore};
use crate::AlertDescription;

/// `other_secret || psk`, each behind its 16-bit length (RFC 4279 §2, RFC 5489 §2).
fn premaster(other_secret: &[u8], psk: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(4 + other_secret.len() + psk.len()));
    out.extend_from_slice(&(other_secret.len() as u16).to_be_bytes());
    out.extend_from_slice(other_secret);
    out.extend_from_slice(&(psk.len() as u16).to_be_bytes());
    out.extend_from_slice(psk);
    out
}

/// A TLS 1.2 PSK client: the key it names (one identity fits a ClientKeyExchange).
pub(crate) struct Psk12Client {
    pub(crate) psk: ExternalPsk,
}

impl Psk12Client {
    /// Reads a ServerKeyExchange for `kx`: the hint (which we do not use: our identity is
    /// configured), then for ECDHE_PSK a curve we offered.
    pub(crate) fn server_key_exchange(
        kx: Kx12,
        body: &[u8],
    ) -> Result<PskServerKeyExchange, Failure> {
        let message = PskServerKeyExchange::decode(body, kx == Kx12::EcdhePsk)?;
        if let Some((group, _)) = &message.ecdh {
            if !GROUPS.contains(group) {
                return fail(
                    AlertDescription::IllegalParameter,
                    format!("the server chose curve {group:#06x}, which we did not offer"),
                );
            }
        }
        if !message.hint.is_empty() {
            log::debug!(
                "PSK identity hint {:?} (ours is configured)",
                String::from_utf8_lossy(&message.hint)
            );
        }
        Ok(message)
    }

    /// The ClientKeyExchange (our identity, and our point for ECDHE_PSK) and the premaster.
    /// `offer`: the ServerKeyExchange (none: plain PSK without a hint).
    pub(crate) fn client_key_exchange(
        &self,
        kx: Kx12,
        offer: Option<PskServerKeyExchange>,
    ) -> Result<(Vec<u8>, Zeroizing<Vec<u8>>), Failure> {
        let (point, shared) = match (kx, offer.and_then(|o| o.ecdh)) {
            (Kx12::EcdhePsk, Some((group, server_point))) => {
                let share = KeyShare::new(group)?;
                let point = share.public.clone();
                (Some(point), Zeroizing::new(share.agree(&server_point)?))
            }
            (Kx12::EcdhePsk, None) => {
                return fail(
                    AlertDescription::UnexpectedMessage,
                    "ECDHE_PSK without the server's ECDHE parameters",
                )
            }
            _ => (None, Zeroizing::new(vec![0; self.psk.key().len()])),
        };
        let message = PskClientKeyExchange {
            identity: self.psk.identity().to_vec(),
            point,
        };
        Ok((message.encode(), premaster(&shared, self.psk.key())))
    }
}

/// A TLS 1.2 PSK server: where identities are looked up, and the hint it sends.
pub(crate) struct Psk12Server {
    pub(crate) store: Arc<dyn PskStore>,
    pub(crate) hint: Vec<u8>,
}

/// The key exchange under way between ServerHelloDone and ClientKeyExchange.
pub(crate) struct PskExchange {
    kx: Kx12,
    share: Option<KeyShare>,
}

/// The ECDHE group for a client that sent `offered` (its supported_groups): ours first. A
/// client without the extension gets secp256r1, which every ECDHE client has (RFC 8422 §4).
pub(crate) fn choose_group(offered: Option<&[u16]>) -> Option<u16> {
    match offered {
        Some(groups) => GROUPS.iter().copied().find(|g| groups.contains(g)),
        None => Some(SECP256R1),
    }
}

impl Psk12Server {
    /// The ServerKeyExchange to send (none for plain PSK without a hint) and the exchange to
    /// finish with the client's message. `group`: the curve chosen for ECDHE_PSK.
    pub(crate) fn server_key_exchange(
        &self,
        kx: Kx12,
        group: Option<u16>,
    ) -> Result<(Option<Vec<u8>>, PskExchange), Failure> {
        let share = match (kx, group) {
            (Kx12::EcdhePsk, Some(group)) => Some(KeyShare::new(group)?),
            (Kx12::EcdhePsk, None) => {
                return fail(AlertDescription::InternalError, "ECDHE_PSK without a group")
            }
            _ => None,
        };
        let message = PskServerKeyExchange {
            hint: self.hint.clone(),
            ecdh: share.as_ref().map(|s| (s.group, s.public.clone())),
        };
        let send = share.is_some() || !self.hint.is_empty();
        Ok((send.then(|| message.encode()), PskExchange { kx, share }))
    }

    /// Reads the ClientKeyExchange: the identity, looked up (an unknown one is
    /// `unknown_psk_identity`, RFC 4279 §2), and the client's point; the premaster and the
    /// identity.
    pub(crate) fn client_key_exchange(
        &self,
        exchange: PskExchange,
        body: &[u8],
    ) -> Result<(Zeroizing<Vec<u8>>, Vec<u8>), Failure> {
        let message = PskClientKeyExchange::decode(body, exchange.kx == Kx12::EcdhePsk)?;
        let psk = self
            .store
            .lookup(&message.identity)
            .map_err(|e| {
                log::error!("PSK store: {e}");
                Failure::local(AlertDescription::InternalError, "the PSK store failed")
            })?
            .ok_or_else(|| {
                Failure::local(
                    AlertDescription::UnknownPskIdentity,
                    format!(
                        "no key for the PSK identity {:?}",
                        String::from_utf8_lossy(&message.identity)
                    ),
                )
            })?;
        let shared = match (exchange.share, &message.point) {
            (Some(share), Some(point)) => Zeroizing::new(share.agree(point)?),
            (None, None) => Zeroizing::new(vec![0; psk.key().len()]),
            _ => return fail(AlertDescription::InternalError, "key exchange mismatch"),
        };
        Ok((premaster(&shared, psk.key()), message.identity))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4279 §2: for plain PSK the other secret is as many zeros as the key has bytes.
    #[test]
    fn plain_psk_premaster_is_zeros_then_key() {
        let key = [0xab; 16];
        let made = premaster(&[0; 16], &key);
        let mut expected = vec![0, 16];
        expected.extend([0; 16]);
        expected.extend([0, 16]);
        expected.extend(key);
        assert_eq!(*made, expected);
    }
}
