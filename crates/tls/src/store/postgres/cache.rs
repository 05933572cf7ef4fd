//! Verifier entries cached briefly, and only while the server hears of every change.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::srp::VerifierEntry;

/// How long an entry is trusted even without a change notice (a safety net, not the rule).
const TTL: Duration = Duration::from_secs(60);
/// Entries kept at most (unknown names included); the cache starts over past it.
const CAPACITY: usize = 100_000;

#[derive(Default)]
struct State {
    /// Whether a connection is LISTENing for changes: without one the cache is bypassed.
    listening: bool,
    /// Bumped by every change notice: a lookup that read the database before a notice must
    /// not cache what it read.
    generation: u64,
    entries: HashMap<String, (Instant, Option<VerifierEntry>)>,
}

/// What a lookup read, tagged with the generation it read it at.
#[derive(Default)]
pub(super) struct VerifierCache(Mutex<State>);

impl VerifierCache {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached answer for `username` (`Some(None)`: known not to exist).
    pub(super) fn get(&self, username: &str) -> Option<Option<VerifierEntry>> {
        let state = self.state();
        if !state.listening {
            return None;
        }
        match state.entries.get(username) {
            Some((at, entry)) if at.elapsed() < TTL => Some(entry.clone()),
            _ => None,
        }
    }

    /// The generation to pass to [`insert`](Self::insert) after reading the database.
    pub(super) fn generation(&self) -> u64 {
        self.state().generation
    }

    /// Caches what was read at `generation`, unless a change was heard of since.
    pub(super) fn insert(&self, username: &str, entry: Option<VerifierEntry>, generation: u64) {
        let mut state = self.state();
        if !state.listening || state.generation != generation {
            return;
        }
        if state.entries.len() >= CAPACITY {
            state.entries.clear();
        }
        state
            .entries
            .insert(username.to_owned(), (Instant::now(), entry));
    }

    /// A change notice: `username` changed, or everyone (`""`).
    pub(super) fn changed(&self, username: &str) {
        let mut state = self.state();
        state.generation += 1;
        match username {
            "" => state.entries.clear(),
            name => {
                state.entries.remove(name);
            }
        }
    }

    /// Whether change notices arrive; either way what is cached is dropped (changes made while
    /// nobody listened are unknown).
    pub(super) fn set_listening(&self, listening: bool) {
        let mut state = self.state();
        state.listening = listening;
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
        cache.insert("alice", Some(entry.clone()), read_at);
        assert!(cache.get("alice").is_none(), "cached while deaf to changes");
        cache.set_listening(true);
        let read_at = cache.generation();
        cache.insert("alice", Some(entry.clone()), read_at);
        assert_eq!(cache.get("alice"), Some(Some(entry.clone())));
        // A read that raced a change notice is not kept.
        let read_at = cache.generation();
        cache.changed("alice");
        cache.insert("alice", Some(entry.clone()), read_at);
        assert!(cache.get("alice").is_none());
        cache.insert("bob", None, cache.generation());
        assert_eq!(cache.get("bob"), Some(None), "unknown names are cached too");
        cache.changed("");
        assert!(
            cache.get("bob").is_none(),
            "a notice for everyone clears all"
        );
        cache.insert("bob", None, cache.generation());
        cache.set_listening(false);
        assert!(cache.get("bob").is_none());
    }
}
