//! Pre-shared keys as TLS 1.3's key exchange part (RFC 8446 §4.2.9–4.2.11): what a client
//! offers (a ticket's resumption PSK first, then its external keys) and how its binders are
//! made; how a server picks an identity (a ticket it sealed, or one its store knows) and
//! checks the binder. The (EC)DHE share beside it is `ecdhe.rs`.

use std::sync::Arc;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::engine::msgs::PskOffer;
use crate::engine::tls13::{HashAlg, KeySchedule, Tls13Suite, Transcript};
use crate::engine::{fail, Failure};
use crate::psk::{ExternalPsk, PskStore};
use crate::resumption::{ClientTicket, TicketSealer};
use crate::AlertDescription;

/// `psk_dhe_ke` (RFC 8446 §4.2.9): the PSK with an (EC)DHE share, forward secret.
pub(crate) const PSK_DHE_KE: u8 = 1;
/// `psk_ke`: the PSK alone, no forward secrecy (only through `tls::dangerous`).
pub(crate) const PSK_KE: u8 = 0;

/// A client's external keys, in the order offered.
pub(crate) struct PskClient {
    pub(crate) psks: Vec<ExternalPsk>,
}

/// One key a client offered: a ticket's resumption PSK or an external one.
pub(crate) struct OfferedKey {
    pub(crate) key: Zeroizing<Vec<u8>>,
    pub(crate) hash: HashAlg,
    /// The identity a session made with it proves: the external one (a ticket keeps the one of
    /// the handshake that earned it).
    pub(crate) identity: Vec<u8>,
    pub(crate) resumption: bool,
}

impl PskClient {
    /// The offer (binders zeroed, filled by [`fill_binders`]) and its keys, in order: the
    /// ticket first when there is one, then the external keys.
    pub(crate) fn offer(&self, ticket: Option<&ClientTicket>) -> (PskOffer, Vec<OfferedKey>) {
        let mut identities = Vec::new();
        let mut keys = Vec::new();
        if let Some(ticket) = ticket {
            if let Some(suite) = Tls13Suite::by_id(ticket.suite) {
                identities.push((ticket.ticket.clone(), ticket.obfuscated_age()));
                keys.push(OfferedKey {
                    key: ticket.psk.clone(),
                    hash: suite.hash,
                    identity: ticket.identity.clone(),
                    resumption: true,
                });
            }
        }
        for psk in &self.psks {
            // External PSKs have no ticket age: 0 (RFC 8446 §4.2.11).
            identities.push((psk.identity().to_vec(), 0));
            keys.push(OfferedKey {
                key: Zeroizing::new(psk.key().to_vec()),
                hash: psk.hash().into(),
                identity: psk.identity().to_vec(),
                resumption: false,
            });
        }
        let binders = keys.iter().map(|k| vec![0; k.hash.len()]).collect();
        (
            PskOffer {
                identities,
                binders,
            },
            keys,
        )
    }
}

/// Computes each binder over `hello` (the whole ClientHello message, binders zeroed) after
/// `transcript`, and writes them over the zeros at its end.
pub(crate) fn fill_binders(
    hello: &mut [u8],
    transcript: &Transcript,
    offer: &PskOffer,
    keys: &[OfferedKey],
) {
    let truncated_len = hello.len() - offer.binders_len();
    let mut at = truncated_len + 2;
    for key in keys {
        let transcript_hash = transcript.hash_with(key.hash, &hello[..truncated_len]);
        let binder =
            KeySchedule::early(key.hash, &key.key).binder(key.resumption, &transcript_hash);
        hello[at + 1..at + 1 + binder.len()].copy_from_slice(&binder);
        at += 1 + binder.len();
    }
}

/// A server's view: where identities are looked up, and who seals its tickets.
pub(crate) struct PskServer {
    pub(crate) store: Arc<dyn PskStore>,
    pub(crate) tickets: Option<TicketSealer>,
}

/// The key a server accepted: its place in the offer, the key, whom it proves, and the suite.
pub(crate) struct ChosenPsk {
    pub(crate) index: u16,
    pub(crate) key: Zeroizing<Vec<u8>>,
    /// The external identity (a ticket's: the one of the handshake that earned it).
    pub(crate) identity: Vec<u8>,
    /// SHA-256 of the external key, sealed into tickets so that a changed key ends them.
    pub(crate) key_digest: [u8; 32],
    pub(crate) suite: Tls13Suite,
    pub(crate) resumed: bool,
}

fn key_digest(key: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, key);
    digest.as_ref().try_into().unwrap_or([0; 32])
}

impl PskServer {
    /// The first identity offered that this server can take with a suite both sides allow
    /// (`suites`: ours, in our order; `offered`: the client's): a ticket it sealed whose
    /// external key is still the same in the store, or an external identity the store knows.
    /// `None`: none (the caller decides between a certificate and `unknown_psk_identity`).
    pub(crate) fn choose(
        &self,
        offer: &PskOffer,
        suites: &[Tls13Suite],
        offered: &[u16],
    ) -> Result<Option<ChosenPsk>, Failure> {
        let suite_for = |hash: HashAlg| {
            suites
                .iter()
                .find(|s| s.hash == hash && offered.contains(&s.id))
                .copied()
        };
        for (index, (identity, _age)) in offer.identities.iter().enumerate() {
            let index = index as u16;
            // A ticket first: opening one costs no lookup when it is not ours.
            if let Some(state) = self.tickets.as_ref().and_then(|t| t.open(identity)) {
                let still_valid = self
                    .lookup(&state.identity)?
                    .is_some_and(|psk| bool::from(key_digest(psk.key()).ct_eq(&state.key_digest)));
                let hash = Tls13Suite::by_id(state.suite).map(|s| s.hash);
                if let (true, Some(suite)) = (still_valid, hash.and_then(suite_for)) {
                    return Ok(Some(ChosenPsk {
                        index,
                        key: state.psk,
                        identity: state.identity,
                        key_digest: state.key_digest,
                        suite,
                        resumed: true,
                    }));
                }
                continue;
            }
            let Some(psk) = self.lookup(identity)? else {
                continue;
            };
            if let Some(suite) = suite_for(psk.hash().into()) {
                return Ok(Some(ChosenPsk {
                    index,
                    key_digest: key_digest(psk.key()),
                    key: Zeroizing::new(psk.key().to_vec()),
                    identity: identity.clone(),
                    suite,
                    resumed: false,
                }));
            }
        }
        Ok(None)
    }

    fn lookup(&self, identity: &[u8]) -> Result<Option<ExternalPsk>, Failure> {
        self.store.lookup(identity).map_err(|e| {
            log::error!("PSK store: {e}");
            Failure::local(AlertDescription::InternalError, "the PSK store failed")
        })
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
        let expected = KeySchedule::early(hash, &chosen.key)
            .binder(chosen.resumed, &transcript.hash_with(hash, truncated));
        let sent = &offer.binders[usize::from(chosen.index)];
        if sent.len() != expected.len() {
            return fail(
                AlertDescription::DecryptError,
                format!(
                    "the client's binder has {} bytes where this identity's key, tied to a \
                     {}-byte hash, makes {}: the two sides disagree on the key's hash",
                    sent.len(),
                    expected.len(),
                    expected.len()
                ),
            );
        }
        if !bool::from(sent.ct_eq(&expected)) {
            return fail(
                AlertDescription::DecryptError,
                "the PSK binder is wrong: the client does not hold this identity's key",
            );
        }
        Ok(())
    }
}
