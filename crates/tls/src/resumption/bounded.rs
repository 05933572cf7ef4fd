//! A bounded, expiring map of sessions: the client's by server and user, the server's by ID.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::SavedSession;

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
pub(crate) struct BoundedSessions {
    capacity: usize,
    pub(crate) lifetime: Duration,
    inner: Mutex<Entries>,
}

impl BoundedSessions {
    pub(crate) fn new(capacity: usize, lifetime: Duration) -> Self {
        Self {
            capacity: capacity.max(1),
            lifetime,
            inner: Mutex::new(Entries::default()),
        }
    }

    /// How many sessions it keeps at most.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Keeps `session` under `key`, dropping expired sessions and the oldest past capacity.
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

    /// The session under `key`, unless it has expired.
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
    fn bounded_and_expiring() {
        let map = BoundedSessions::new(2, Duration::from_secs(60));
        for id in 1..=3 {
            map.put(vec![id], session(id));
        }
        assert!(map.get(&[1]).is_none(), "oldest evicted");
        assert!(map.get(&[3]).is_some());
        let short = BoundedSessions::new(2, Duration::ZERO);
        short.put(vec![1], session(1));
        std::thread::sleep(Duration::from_millis(5));
        assert!(short.get(&[1]).is_none(), "expired");
    }

    /// Sessions that expire and are looked up (and so dropped) one by one must not leave their
    /// keys behind in the eviction queue.
    #[test]
    fn expired_sessions_leave_nothing_behind() {
        let map = BoundedSessions::new(100, Duration::ZERO);
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
