//! What a fleet of servers shares to resume each other's sessions: one rotating set of ticket
//! keys (for both engines' tickets) and one table of our engine's sessions, kept by a store
//! every server reads (e.g. [`PostgresVerifierDb`](crate::srp::PostgresVerifierDb)).

use std::sync::Arc;
use std::time::Duration;

use super::TicketKeyRing;
use crate::Error;

/// What a fleet of servers shares to resume each other's sessions.
///
/// A store implementing it keeps the [`TicketKeyRing`] current (new keys ahead of their
/// period, retired ones dropped) and the TLS-SRP sessions in one place. A server given it with
/// [`ServerConfigBuilder::shared_resumption`](crate::ServerConfigBuilder::shared_resumption)
/// issues tickets every server of the fleet accepts, and resumes any SRP session a server of
/// the fleet made.
pub trait SharedResumption: Send + Sync {
    /// The ticket keys, kept current by the store.
    fn ticket_keys(&self) -> Arc<TicketKeyRing>;

    /// Keeps an SRP session (already sealed under the ticket keys) under its ID, for
    /// clients that resume by session ID rather than by ticket. A store may write it a moment
    /// later: a handshake does not wait for it.
    fn save_session(&self, id: &[u8], sealed: &[u8], lifetime: Duration) -> Result<(), Error>;

    /// The sealed session saved under `id`, if it has not expired.
    fn load_session(&self, id: &[u8]) -> Result<Option<Vec<u8>>, Error>;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fleet of one, in memory: keys only.
    struct Keys(Arc<TicketKeyRing>);

    impl SharedResumption for Keys {
        fn ticket_keys(&self) -> Arc<TicketKeyRing> {
            self.0.clone()
        }
        fn save_session(&self, _: &[u8], _: &[u8], _: Duration) -> Result<(), Error> {
            Ok(())
        }
        fn load_session(&self, _: &[u8]) -> Result<Option<Vec<u8>>, Error> {
            Ok(None)
        }
    }

    /// Issue 26, item 12: a ticket's key opens for up to two periods, so a ticket outlived the
    /// session lifetime (1 h) by hours. Its session now carries its issue time and is refused
    /// past the lifetime, counted from there, however it comes back.
    #[test]
    fn a_ticket_opens_only_within_the_session_lifetime() {
        use crate::resumption::{SavedSession, ServerSessions, SessionCache};
        let ring = Arc::new(TicketKeyRing::new(Duration::from_secs(6 * 3600)));
        ring.keep_own_keys_current();
        let sessions = ServerSessions::new(
            Some(&SessionCache::new(8)),
            Some(Arc::new(Keys(ring.clone()))),
        );
        let session = |hours_ago: u64| {
            let mut session = SavedSession::new(vec![3; 32], [3; 48], 0xc01d, true, "u".into());
            session.issued -= hours_ago * 3600;
            session
        };
        let fresh = sessions.seal_ticket(&session(0)).unwrap();
        assert!(sessions.open_ticket(&[3; 32], &fresh).is_some());
        let old = sessions.seal_ticket(&session(2)).unwrap();
        assert!(
            sessions.open_ticket(&[3; 32], &old).is_none(),
            "a two-hour-old session resumed from its ticket"
        );
    }

    /// Issue 26, item 7: every ClientHello carrying a random session ID cost the fleet's
    /// store a lookup. The fleet's IDs now carry a tag under its keys: a stranger's costs none.
    #[test]
    fn strangers_session_ids_are_not_looked_up() {
        use crate::resumption::{ServerSessions, SessionCache};
        use std::sync::atomic::{AtomicUsize, Ordering};
        struct Counting(Arc<TicketKeyRing>, AtomicUsize);
        impl SharedResumption for Counting {
            fn ticket_keys(&self) -> Arc<TicketKeyRing> {
                self.0.clone()
            }
            fn save_session(&self, _: &[u8], _: &[u8], _: Duration) -> Result<(), Error> {
                Ok(())
            }
            fn load_session(&self, _: &[u8]) -> Result<Option<Vec<u8>>, Error> {
                self.1.fetch_add(1, Ordering::Relaxed);
                Ok(None)
            }
        }
        let ring = Arc::new(TicketKeyRing::new(Duration::from_secs(3600)));
        ring.keep_own_keys_current();
        let store = Arc::new(Counting(ring.clone(), AtomicUsize::new(0)));
        let sessions = ServerSessions::new(Some(&SessionCache::new(8)), Some(store.clone()));
        for stranger in [vec![7; 32], vec![0; 32], vec![1; 3]] {
            assert!(sessions.get(&stranger).is_none());
        }
        assert_eq!(
            store.1.load(Ordering::Relaxed),
            0,
            "a stranger's ID was looked up"
        );
        let ours = sessions.new_session_id([9; 32]);
        assert_eq!(ours.len(), 32);
        assert_ne!(ours, vec![9; 32], "the ID carries a tag");
        assert!(sessions.get(&ours).is_none());
        assert_eq!(
            store.1.load(Ordering::Relaxed),
            1,
            "the fleet's own ID was looked up"
        );
        // Another fleet's ID (other keys) is a stranger's too.
        let other = TicketKeyRing::new(Duration::from_secs(3600));
        other.keep_own_keys_current();
        assert!(!ring.issued(&other.session_id([9; 16]).unwrap()));
    }

    /// Sharing needs tickets and the session cache, on the SRP route as on the X.509 one: a
    /// configuration turning either off is refused, never half shared.
    #[test]
    fn shared_resumption_without_tickets_or_cache_is_refused_on_every_route() {
        let pki = tls_testkit::Pki::new();
        let shared = || -> Arc<dyn SharedResumption> {
            Arc::new(Keys(Arc::new(TicketKeyRing::new(Duration::from_secs(60)))))
        };
        let srp = || {
            let users = crate::srp::MemoryVerifierDb::new();
            crate::ServerConfig::builder().verifier_db(users)
        };
        let x509 = || {
            crate::ServerConfig::builder().cert_chain(
                crate::CertificateChain::from_pem(pki.server.chain_pem.as_bytes()).unwrap(),
                crate::PrivateKey::from_pem(pki.server.key_pem.as_bytes()).unwrap(),
            )
        };
        for builder in [srp(), x509()] {
            assert!(builder.clone().shared_resumption(shared()).build().is_ok());
            let no_tickets = builder.clone().shared_resumption(shared()).tickets(false);
            assert!(no_tickets.build().is_err(), "tickets off, yet shared");
            let no_cache = builder.shared_resumption(shared()).session_cache(None);
            assert!(no_cache.build().is_err(), "cache off, yet shared");
        }
    }
}
