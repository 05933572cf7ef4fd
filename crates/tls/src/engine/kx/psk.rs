//! External pre-shared keys as TLS 1.3's key exchange part (RFC 8446 §4.2.9–4.2.11): what a
//! client offers and how its binders are made, and how a server picks an identity and checks
//! its binder. The (EC)DHE share beside it is `ecdhe.rs`.

use std::sync::Arc;

use subtle::ConstantTimeEq;

use crate::engine::msgs::PskOffer;
use crate::engine::tls13::{HashAlg, KeySchedule, Tls13Suite, Transcript};
use crate::engine::{fail, Failure};
use crate::psk::{ExternalPsk, PskStore};
use crate::AlertDescription;

/// `psk_dhe_ke` (RFC 8446 §4.2.9): the PSK with an (EC)DHE share, forward secret.
pub(crate) const PSK_DHE_KE: u8 = 1;

/// A client's keys, in the order offered.
pub(crate) struct PskClient {
    pub(crate) psks: Vec<ExternalPsk>,
}

impl PskClient {
    /// The identities and zero binders of the right lengths (filled by [`fill_binders`](Self::fill_binders)).
    pub(crate) fn offer(&self) -> PskOffer {
        PskOffer {
            identities: self
                .psks
                .iter()
                // External PSKs have no ticket age: 0 (RFC 8446 §4.2.11).
                .map(|psk| (psk.identity().to_vec(), 0))
                .collect(),
            binders: self
                .psks
                .iter()
                .map(|psk| vec![0; HashAlg::from(psk.hash()).len()])
                .collect(),
        }
    }

    /// Computes each binder over `hello` (the whole ClientHello message, binders zeroed) after
    /// `transcript`, and writes them over the zeros at its end.
    pub(crate) fn fill_binders(&self, hello: &mut [u8], transcript: &Transcript, offer: &PskOffer) {
        let truncated_len = hello.len() - offer.binders_len();
        let mut at = truncated_len + 2;
        for psk in &self.psks {
            let hash = HashAlg::from(psk.hash());
            let transcript_hash = transcript.hash_with(hash, &hello[..truncated_len]);
            let binder = KeySchedule::early(hash, psk.key()).external_binder(&transcript_hash);
            hello[at + 1..at + 1 + binder.len()].copy_from_slice(&binder);
            at += 1 + binder.len();
        }
    }
}

/// A server's view: where identities are looked up.
pub(crate) struct PskServer {
    pub(crate) store: Arc<dyn PskStore>,
}

/// The identity a server accepted: its place in the offer, the key, and the suite picked for it.
pub(crate) struct ChosenPsk {
    pub(crate) index: u16,
    pub(crate) psk: ExternalPsk,
    pub(crate) suite: Tls13Suite,
}

impl PskServer {
    /// The first identity offered that the store knows and that a suite both sides allow can
    /// use (`suites`: ours, in our order; `offered`: the client's). `None`: no identity the
    /// server can take (the caller decides between a certificate and `unknown_psk_identity`).
    pub(crate) fn choose(
        &self,
        offer: &PskOffer,
        suites: &[Tls13Suite],
        offered: &[u16],
    ) -> Result<Option<ChosenPsk>, Failure> {
        for (index, (identity, _age)) in offer.identities.iter().enumerate() {
            let psk = match self.store.lookup(identity) {
                Ok(Some(psk)) => psk,
                Ok(None) => continue,
                Err(e) => {
                    log::error!("PSK store: {e}");
                    return fail(AlertDescription::InternalError, "the PSK store failed");
                }
            };
            let hash = HashAlg::from(psk.hash());
            let suite = suites
                .iter()
                .find(|s| s.hash == hash && offered.contains(&s.id));
            if let Some(suite) = suite {
                return Ok(Some(ChosenPsk {
                    index: index as u16,
                    psk,
                    suite: *suite,
                }));
            }
        }
        Ok(None)
    }

    /// Checks the chosen identity's binder over `hello` (the whole ClientHello message) after
    /// `transcript`: a wrong one is `decrypt_error` (RFC 8446 §4.2.11).
    pub(crate) fn check_binder(
        chosen: &ChosenPsk,
        offer: &PskOffer,
        hello: &[u8],
        transcript: &Transcript,
    ) -> Result<(), Failure> {
        let hash = chosen.suite.hash;
        let truncated = &hello[..hello.len() - offer.binders_len()];
        let expected = KeySchedule::early(hash, chosen.psk.key())
            .external_binder(&transcript.hash_with(hash, truncated));
        let sent = &offer.binders[usize::from(chosen.index)];
        if sent.len() != expected.len() || !bool::from(sent.ct_eq(&expected)) {
            return fail(
                AlertDescription::DecryptError,
                "the PSK binder is wrong: the client does not hold this identity's key",
            );
        }
        Ok(())
    }
}
