//! Resumable SRP sessions: the client's store and the server's cache, both bounded; a
//! server of a fleet also keeps them in the fleet's shared store.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::server::SharedResumption;

use zeroize::Zeroize;

/// What resuming needs (RFC 5246 §7.3 session state, plus the RFC 7627 flag).
#[derive(Clone)]
pub(crate) struct SavedSession {
    pub(crate) id: Vec<u8>,
    pub(crate) master: [u8; 48],
    pub(crate) suite: u16,
    pub(crate) ems: bool,
    pub(crate) username: String,
    /// Server side: the user's verifier entry when the session was made
    /// ([`VerifierEntry::digest`](super::VerifierEntry)); all zeros on the client.
    pub(crate) verifier_digest: [u8; 32],
    /// Client side: the server's RFC 5077 ticket for this session (empty: none).
    pub(crate) ticket: Vec<u8>,
    saved: Instant,
}

impl Drop for SavedSession {
    fn drop(&mut self) {
        self.master.zeroize();
    }
}

impl SavedSession {
    pub(crate) fn new(
        id: Vec<u8>,
        master: [u8; 48],
        suite: u16,
        ems: bool,
        username: String,
    ) -> Self {
        Self {
            id,
            master,
            suite,
            ems,
            username,
            verifier_digest: [0; 32],
            ticket: Vec::new(),
            saved: Instant::now(),
        }
    }

    /// Ties the session to the user's entry as it is now.
    pub(crate) fn with_verifier_digest(mut self, digest: [u8; 32]) -> Self {
        self.verifier_digest = digest;
        self
    }

    /// Keeps the server's ticket with the session (client side).
    pub(crate) fn with_ticket(mut self, ticket: Vec<u8>) -> Self {
        self.ticket = ticket;
        self
    }

    /// The server's state as bytes for a shared store: a version, the suite, the EMS flag, the
    /// master secret, the verifier digest, then the username (the ID is the store's key).
    fn encode(&self) -> zeroize::Zeroizing<Vec<u8>> {
        let mut out = zeroize::Zeroizing::new(Vec::with_capacity(84 + self.username.len()));
        out.push(1);
        out.extend_from_slice(&self.suite.to_be_bytes());
        out.push(u8::from(self.ems));
        out.extend_from_slice(&self.master);
        out.extend_from_slice(&self.verifier_digest);
        out.extend_from_slice(self.username.as_bytes());
        out
    }

    fn decode(id: &[u8], bytes: &[u8]) -> Option<Self> {
        let (&[1, s0, s1, ems], rest) = bytes.split_first_chunk::<4>()? else {
            return None;
        };
        let (master, rest) = rest.split_first_chunk::<48>()?;
        let (digest, name) = rest.split_first_chunk::<32>()?;
        let username = String::from_utf8(name.to_vec()).ok()?;
        let session = Self::new(
            id.to_vec(),
            *master,
            u16::from_be_bytes([s0, s1]),
            ems == 1,
            username,
        );
        Some(session.with_verifier_digest(*digest))
    }
}

/// A server's sessions: its own map, and the fleet's store when it has one (sealed under the
/// fleet's ticket keys, so a session lives no longer than the key it was sealed with).
pub(crate) struct ServerSessions {
    pub(crate) local: SessionMap,
    pub(crate) shared: Option<Arc<dyn SharedResumption>>,
}

impl ServerSessions {
    /// Keeps a session in this server's map and, with `share`, in the fleet's store (a client
    /// holding a ticket needs no shared copy: any server of the fleet opens its ticket).
    pub(crate) fn put(&self, session: SavedSession, share: bool) {
        if let Some(shared) = self.shared.as_ref().filter(|_| share) {
            let sealed = shared.ticket_keys().seal(&session.encode());
            let saved = sealed
                .ok_or_else(|| crate::Error::config("no current ticket key"))
                .and_then(|sealed| shared.save_session(&session.id, &sealed, self.local.lifetime));
            if let Err(e) = saved {
                log::warn!("SRP session not shared with the fleet: {e}");
            }
        }
        self.local.put(session.id.clone(), session);
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
        self.shared.as_ref()?.ticket_keys().seal(&session.encode())
    }

    /// The session in a client's ticket, if a key of the fleet opens it; `id` is the session
    /// ID the client sent with it (echoed when the server resumes).
    pub(crate) fn open_ticket(&self, id: &[u8], ticket: &[u8]) -> Option<SavedSession> {
        let plain = zeroize::Zeroizing::new(self.shared.as_ref()?.ticket_keys().open(ticket)?);
        SavedSession::decode(id, &plain)
    }

    /// The session saved under `id`: this server's own first, then the fleet's. A store that
    /// fails is a miss (the full handshake that follows says whether the store is up).
    pub(crate) fn get(&self, id: &[u8]) -> Option<SavedSession> {
        if let Some(session) = self.local.get(id) {
            return Some(session);
        }
        let shared = self.shared.as_ref()?;
        let sealed = match shared.load_session(id) {
            Ok(sealed) => sealed?,
            Err(e) => {
                log::warn!("SRP session lookup in the fleet's store failed: {e}");
                return None;
            }
        };
        let plain = zeroize::Zeroizing::new(shared.ticket_keys().open(&sealed)?);
        let session = SavedSession::decode(id, &plain)?;
        self.local.put(id.to_vec(), session.clone());
        Some(session)
    }
}

/// Sessions by key, and the keys in the order they arrived (for eviction). A queued key whose
/// session was since replaced or dropped is stale: its time no longer matches the map's.
#[derive(Default)]
struct Entries {
    by_key: HashMap<Vec<u8>, SavedSession>,
    order: VecDeque<(Vec<u8>, Instant)>,
}

impl Entries {
    /// Whether a queued key still stands for the session in the map.
    fn is_current(&self, key: &[u8], saved: Instant) -> bool {
        self.by_key.get(key).is_some_and(|s| s.saved == saved)
    }
}

/// A bounded, expiring, thread-safe map from a key to a session, oldest evicted first.
pub(crate) struct SessionMap {
    capacity: usize,
    pub(crate) lifetime: Duration,
    inner: Mutex<Entries>,
}

impl SessionMap {
    pub(crate) fn new(capacity: usize, lifetime: Duration) -> Self {
        Self {
            capacity: capacity.max(1),
            lifetime,
            inner: Mutex::new(Entries::default()),
        }
    }

    pub(crate) fn put(&self, key: Vec<u8>, session: SavedSession) {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let entries = &mut *guard;
        let saved = session.saved;
        entries.by_key.insert(key.clone(), session);
        entries.order.push_back((key, saved));
        // From the oldest: drop stale keys, expired sessions, and whatever is over capacity.
        while let Some((oldest, saved)) = entries.order.front() {
            let current = entries.is_current(oldest, *saved);
            let keep = current
                && saved.elapsed() <= self.lifetime
                && entries.by_key.len() <= self.capacity;
            if keep {
                break;
            }
            if current {
                entries.by_key.remove(oldest);
            }
            entries.order.pop_front();
        }
        // Stale keys behind a long-lived head: sweep them once they outnumber live sessions.
        if entries.order.len() > 2 * self.capacity {
            let Entries { by_key, order } = entries;
            order.retain(|(k, t)| by_key.get(k).is_some_and(|s| s.saved == *t));
        }
    }

    pub(crate) fn get(&self, key: &[u8]) -> Option<SavedSession> {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let map = &mut guard.by_key;
        match map.get(key) {
            Some(s) if s.saved.elapsed() <= self.lifetime => Some(s.clone()),
            Some(_) => {
                map.remove(key);
                None
            }
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(id: u8) -> SavedSession {
        SavedSession::new(vec![id], [id; 48], 0xc01d, true, "u".into())
    }

    #[test]
    fn a_session_survives_its_encoding() {
        let saved = session(7).with_verifier_digest([9; 32]);
        let back = SavedSession::decode(&[7], &saved.encode()).unwrap();
        assert_eq!(
            (
                back.id.clone(),
                back.master,
                back.suite,
                back.ems,
                back.username.clone(),
                back.verifier_digest
            ),
            (vec![7], [7; 48], 0xc01d, true, "u".to_owned(), [9; 32])
        );
        let bytes = saved.encode();
        assert!(SavedSession::decode(&[7], &bytes[..83]).is_none(), "short");
        let mut version = bytes.to_vec();
        version[0] = 2;
        assert!(SavedSession::decode(&[7], &version).is_none(), "version");
    }

    #[test]
    fn bounded_and_expiring() {
        let map = SessionMap::new(2, Duration::from_secs(60));
        for id in 1..=3 {
            map.put(vec![id], session(id));
        }
        assert!(map.get(&[1]).is_none(), "oldest evicted");
        assert!(map.get(&[3]).is_some());
        let short = SessionMap::new(2, Duration::ZERO);
        short.put(vec![1], session(1));
        std::thread::sleep(Duration::from_millis(5));
        assert!(short.get(&[1]).is_none(), "expired");
    }

    /// Sessions that expire and are looked up (and so dropped) one by one must not leave their
    /// keys behind in the eviction queue.
    #[test]
    fn expired_sessions_leave_nothing_behind() {
        let map = SessionMap::new(100, Duration::ZERO);
        for i in 0..10_000u32 {
            let key = i.to_be_bytes().to_vec();
            map.put(key.clone(), session(1));
            std::thread::sleep(Duration::from_nanos(1));
            let _ = map.get(&key);
        }
        let inner = map.inner.lock().unwrap();
        assert!(inner.by_key.len() <= 100);
        assert!(
            inner.order.len() <= 200,
            "eviction queue holds {} keys",
            inner.order.len()
        );
    }
}
