//! Verifier entries and pre-shared keys cached briefly, and only while the server hears of
//! every change.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::psk::ExternalPsk;
use crate::srp::VerifierEntry;
use crate::Error;

/// How long an entry is trusted even without a change notice (a safety net, not the rule).
const TTL: Duration = Duration::from_secs(60);
/// Entries kept at most (unknown names included); the cache starts over past it.
const CAPACITY: usize = 100_000;
/// How old the last answered heartbeat may be while the cache serves: a link that went silent
/// (a partition: no FIN, no RST, nothing) may be holding change notices back.
const HEARD_WITHIN: Duration = Duration::from_secs(2);

struct State<K, V> {
    /// Whether a connection is LISTENing for changes: without one the cache is bypassed.
    listening: bool,
    /// When the last heartbeat answered was sent: every notice the database sent before then
    /// has been applied.
    heard: Option<Instant>,
    /// Bumped by every change notice: a lookup that read the database before a notice must
    /// not cache what it read.
    generation: u64,
    entries: HashMap<K, (Instant, Option<V>)>,
}

/// What a lookup read, tagged with the generation it read it at.
pub(super) struct Cache<K, V>(Mutex<State<K, V>>);

/// SRP users by name.
pub(super) type VerifierCache = Cache<String, VerifierEntry>;
/// Pre-shared keys by identity.
pub(super) type PskCache = Cache<Vec<u8>, ExternalPsk>;

impl<K, V> Default for Cache<K, V> {
    fn default() -> Self {
        Self(Mutex::new(State {
            listening: false,
            heard: None,
            generation: 0,
            entries: HashMap::new(),
        }))
    }
}

impl<K: Hash + Eq, V: Clone> Cache<K, V> {
    fn state(&self) -> std::sync::MutexGuard<'_, State<K, V>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached answer for `key` (`Some(None)`: known not to exist).
    pub(super) fn get<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<Option<V>>
    where
        K: Borrow<Q>,
    {
        let state = self.state();
        let heard_lately = state.heard.is_some_and(|at| at.elapsed() < HEARD_WITHIN);
        if !state.listening || !heard_lately {
            return None;
        }
        match state.entries.get(key) {
            Some((at, entry)) if at.elapsed() < TTL => Some(entry.clone()),
            _ => None,
        }
    }

    /// The cached answer for `key`, or what `read` gets from the database (kept unless a change
    /// was heard of while it read).
    pub(super) fn get_or_read<Q>(
        &self,
        key: &Q,
        read: impl FnOnce() -> Result<Option<V>, Error>,
    ) -> Result<Option<V>, Error>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        if let Some(hit) = self.get(key) {
            return Ok(hit);
        }
        let generation = self.generation();
        let value = read()?;
        self.insert(key.to_owned(), value.clone(), generation);
        Ok(value)
    }

    /// The generation to pass to [`insert`](Self::insert) after reading the database.
    pub(super) fn generation(&self) -> u64 {
        self.state().generation
    }

    /// Caches what was read at `generation`, unless a change was heard of since.
    pub(super) fn insert(&self, key: K, entry: Option<V>, generation: u64) {
        let mut state = self.state();
        if !state.listening || state.generation != generation {
            return;
        }
        if state.entries.len() >= CAPACITY {
            state.entries.clear();
        }
        state.entries.insert(key, (Instant::now(), entry));
    }

    /// A change notice: `key` changed.
    pub(super) fn changed<Q: Hash + Eq + ?Sized>(&self, key: &Q)
    where
        K: Borrow<Q>,
    {
        let mut state = self.state();
        state.generation += 1;
        state.entries.remove(key);
    }

    /// A change notice for every entry.
    pub(super) fn changed_all(&self) {
        let mut state = self.state();
        state.generation += 1;
        state.entries.clear();
    }

    /// A heartbeat sent at `sent` was answered, and the notices that came before its answer
    /// are applied.
    pub(super) fn heard(&self, sent: Instant) {
        let mut state = self.state();
        state.heard = Some(state.heard.map_or(sent, |at| at.max(sent)));
    }

    /// Whether change notices arrive; either way what is cached is dropped (changes made while
    /// nobody listened are unknown).
    pub(super) fn set_listening(&self, listening: bool) {
        let mut state = self.state();
        state.listening = listening;
        state.heard = None;
        state.generation += 1;
        state.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_read_before_a_change_is_cached_after_it() {
        let cache = VerifierCache::default();
        let entry = crate::srp::make_verifier("alice", "pw", 1024).unwrap();
        let read_at = cache.generation();
        cache.insert("alice".into(), Some(entry.clone()), read_at);
        assert!(cache.get("alice").is_none(), "cached while deaf to changes");
        cache.set_listening(true);
        cache.heard(Instant::now());
        let read_at = cache.generation();
        cache.insert("alice".into(), Some(entry.clone()), read_at);
        assert_eq!(cache.get("alice"), Some(Some(entry.clone())));
        // A read that raced a change notice is not kept.
        let read_at = cache.generation();
        cache.changed("alice");
        cache.insert("alice".into(), Some(entry.clone()), read_at);
        assert!(cache.get("alice").is_none());
        cache.insert("bob".into(), None, cache.generation());
        assert_eq!(cache.get("bob"), Some(None), "unknown names are cached too");
        cache.changed_all();
        assert!(
            cache.get("bob").is_none(),
            "a notice for everyone clears all"
        );
        cache.insert("bob".into(), None, cache.generation());
        cache.set_listening(false);
        assert!(cache.get("bob").is_none());
    }

    #[test]
    fn nothing_is_served_once_the_database_has_been_silent_for_a_while() {
        let cache = VerifierCache::default();
        cache.set_listening(true);
        cache.insert("bob".into(), None, cache.generation());
        assert!(cache.get("bob").is_none(), "served before any heartbeat");
        let Some(long_ago) = Instant::now().checked_sub(HEARD_WITHIN) else {
            return; // the clock started less than HEARD_WITHIN ago: nothing to compare
        };
        cache.heard(long_ago);
        cache.insert("bob".into(), None, cache.generation());
        assert!(cache.get("bob").is_none(), "served on a stale heartbeat");
        cache.heard(Instant::now());
        assert_eq!(
            cache.get("bob"),
            Some(None),
            "kept while silent, served once heard"
        );
    }
}
