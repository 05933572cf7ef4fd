//! Resumable SRP sessions: the client's store and the server's cache, both bounded.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What resuming needs (RFC 5246 §7.3 session state, plus the RFC 7627 flag).
#[derive(Clone)]
pub(crate) struct SavedSession {
    pub(crate) id: Vec<u8>,
    pub(crate) master: [u8; 48],
    pub(crate) suite: u16,
    pub(crate) ems: bool,
    pub(crate) username: String,
    saved: Instant,
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
            saved: Instant::now(),
        }
    }
}

/// Sessions by key, and the keys in the order they arrived (for eviction).
#[derive(Default)]
struct Entries {
    by_key: HashMap<Vec<u8>, SavedSession>,
    order: VecDeque<Vec<u8>>,
}

/// A bounded, expiring, thread-safe map from a key to a session, oldest evicted first.
pub(crate) struct SessionMap {
    capacity: usize,
    lifetime: Duration,
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
        let Entries { by_key: map, order } = &mut *guard;
        if map.insert(key.clone(), session).is_none() {
            order.push_back(key);
        }
        while map.len() > self.capacity {
            match order.pop_front() {
                Some(oldest) => {
                    map.remove(&oldest);
                }
                None => break,
            }
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
}
