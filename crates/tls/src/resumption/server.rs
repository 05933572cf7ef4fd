//! The sessions a server keeps: the session-ID cache both engines use, and our engine's view
//! of it together with the fleet's store.

use std::sync::Arc;
use std::time::Duration;

use rustls::server::ServerSessionMemoryCache;

use super::{BoundedSessions, Purpose, SavedSession, SharedResumption};

/// Sessions a server remembers for resumption by session ID: bounded, thread-safe, shared by
/// every connection accepted with the configuration, and by every configuration given a clone
/// of the cache (or built from clones of one builder). Both engines keep theirs here, each up
/// to the same number: rustls's (X.509) and ours (TLS-SRP); our engine's expire after an hour.
#[derive(Clone)]
pub struct SessionCache {
    /// rustls's sessions (X.509).
    pub(crate) rustls: Arc<ServerSessionMemoryCache>,
    /// Our engine's sessions by ID (TLS-SRP).
    pub(crate) tls12: Arc<BoundedSessions>,
}

impl std::fmt::Debug for SessionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCache")
            .field("capacity", &self.tls12.capacity())
            .finish_non_exhaustive()
    }
}

/// How long our engine's server keeps a session.
const SERVER_SESSION_LIFETIME: Duration = Duration::from_secs(3600);

impl SessionCache {
    /// Keeps up to `sessions` sessions of each engine, evicting the oldest. The default keeps
    /// 1024.
    pub fn new(sessions: usize) -> Self {
        Self {
            rustls: ServerSessionMemoryCache::new(sessions),
            tls12: Arc::new(BoundedSessions::new(sessions, SERVER_SESSION_LIFETIME)),
        }
    }
}

impl Default for SessionCache {
    fn default() -> Self {
        Self::new(1024)
    }
}

/// A server's sessions: its own map, and the fleet's store when it has one (sealed under the
/// fleet's ticket keys, so a session lives no longer than the key it was sealed with).
pub(crate) struct ServerSessions {
    pub(crate) local: Arc<BoundedSessions>,
    pub(crate) shared: Option<Arc<dyn SharedResumption>>,
}

impl ServerSessions {
    /// Keeps a session in this server's map and, with `share`, in the fleet's store (a client
    /// holding a ticket needs no shared copy: any server of the fleet opens its ticket).
    pub(crate) fn put(&self, session: SavedSession, share: bool) {
        if let Some(shared) = self.shared.as_ref().filter(|_| share) {
            let sealed = shared
                .ticket_keys()
                .seal(Purpose::SessionRow, &session.encode());
            let saved = sealed
                .ok_or_else(|| crate::Error::config("no current ticket key"))
                .and_then(|sealed| shared.save_session(&session.id, &sealed, self.local.lifetime));
            if let Err(e) = saved {
                log::warn!("SRP session not shared with the fleet: {e}");
            }
        }
        self.local.put(session.id.clone(), session);
    }

    /// A new session's ID: in a fleet, one its servers can tell from a stranger's (see
    /// [`TicketKeyRing::session_id`]); otherwise 32 random bytes.
    pub(crate) fn new_session_id(&self, random: [u8; 32]) -> Vec<u8> {
        let vouched = self.shared.as_ref().and_then(|shared| {
            let half: [u8; 16] = random[..16].try_into().ok()?;
            shared.ticket_keys().session_id(half)
        });
        vouched.unwrap_or_else(|| random.to_vec())
    }

    /// Whether this server issues RFC 5077 tickets: a fleet's servers do, under its keys.
    pub(crate) fn issues_tickets(&self) -> bool {
        self.shared.is_some()
    }

    /// How long a client may keep a ticket (RFC 5077's hint, seconds): one key period.
    pub(crate) fn ticket_lifetime(&self) -> u32 {
        self.shared.as_ref().map_or(0, |shared| {
            u32::try_from(shared.ticket_keys().period().as_secs()).unwrap_or(u32::MAX)
        })
    }

    /// The session as a ticket sealed under the fleet's current key (`None`: no key yet).
    pub(crate) fn seal_ticket(&self, session: &SavedSession) -> Option<Vec<u8>> {
        self.shared
            .as_ref()?
            .ticket_keys()
            .seal(Purpose::SrpTicket, &session.encode())
    }

    /// The session in a client's ticket, if a key of the fleet opens it; `id` is the session
    /// ID the client sent with it (echoed when the server resumes).
    pub(crate) fn open_ticket(&self, id: &[u8], ticket: &[u8]) -> Option<SavedSession> {
        let keys = self.shared.as_ref()?.ticket_keys();
        let plain = zeroize::Zeroizing::new(keys.open(Purpose::SrpTicket, ticket)?);
        self.within_lifetime(SavedSession::decode(id, &plain)?)
    }

    /// The session if it is younger than this server's session lifetime, however it came:
    /// a ticket's key lives up to two periods, a shared row has its own expiry, and neither
    /// may stretch a session past the lifetime counted from its issue.
    fn within_lifetime(&self, session: SavedSession) -> Option<SavedSession> {
        (session.age() <= self.local.lifetime).then_some(session)
    }

    /// The session saved under `id`: this server's own first, then the fleet's. A store that
    /// fails is a miss (the full handshake that follows says whether the store is up).
    pub(crate) fn get(&self, id: &[u8]) -> Option<SavedSession> {
        if let Some(session) = self.local.get(id) {
            return Some(session);
        }
        let shared = self.shared.as_ref()?;
        // An ID the fleet never issued (a random one from any ClientHello) is not looked up.
        if !shared.ticket_keys().issued(id) {
            return None;
        }
        let sealed = match shared.load_session(id) {
            Ok(sealed) => sealed?,
            Err(e) => {
                log::warn!("SRP session lookup in the fleet's store failed: {e}");
                return None;
            }
        };
        let plain =
            zeroize::Zeroizing::new(shared.ticket_keys().open(Purpose::SessionRow, &sealed)?);
        let session = self.within_lifetime(SavedSession::decode(id, &plain)?)?;
        self.local.put(id.to_vec(), session.clone());
        Some(session)
    }
}

impl ServerSessions {
    /// Our engine's sessions under `cache` (none kept when it is off), shared with the fleet.
    pub(crate) fn new(
        cache: Option<&SessionCache>,
        shared: Option<Arc<dyn SharedResumption>>,
    ) -> Self {
        match cache {
            Some(cache) => Self {
                local: cache.tls12.clone(),
                shared,
            },
            None => Self {
                local: Arc::new(BoundedSessions::new(1, Duration::ZERO)),
                shared: None,
            },
        }
    }
}
