//! SRP sessions go to the shared table from a thread of their own, many per transaction: a
//! handshake never waits for the database to store a session that only might be resumed.

use std::sync::{Condvar, Mutex, Weak};
use std::time::Duration;

use super::{schema, Inner};

/// Sessions waiting at most; past it new ones are dropped (their clients can still resume on
/// the server that made them, or get a full handshake).
const MAX_QUEUED: usize = 10_000;

/// A session to store: its ID, sealed state and lifetime in seconds.
type Pending = (Vec<u8>, Vec<u8>, f64);

#[derive(Default)]
pub(super) struct SessionQueue {
    pending: Mutex<Vec<Pending>>,
    wake: Condvar,
}

impl SessionQueue {
    /// Queues a session; says false when the queue was full and it was dropped.
    pub(super) fn push(&self, id: &[u8], sealed: &[u8], lifetime: Duration) -> bool {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        if pending.len() >= MAX_QUEUED {
            return false;
        }
        pending.push((id.to_vec(), sealed.to_vec(), lifetime.as_secs_f64()));
        self.wake.notify_one();
        true
    }

    /// Everything queued, waiting up to `wait` for something to arrive.
    fn take(&self, wait: Duration) -> Vec<Pending> {
        let pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let (mut pending, _) = self
            .wake
            .wait_timeout_while(pending, wait, |p| p.is_empty())
            .unwrap_or_else(|p| p.into_inner());
        std::mem::take(&mut *pending)
    }
}

/// The writer thread's loop: store what is queued, many sessions per statement.
pub(super) fn write(inner: &Weak<Inner>) {
    loop {
        let Some(db) = inner.upgrade() else { return };
        let mut batch = db.sessions.take(Duration::from_millis(250));
        if batch.is_empty() {
            continue;
        }
        // One statement may not touch a row twice: the last save of an ID wins.
        batch.reverse();
        let mut seen = std::collections::HashSet::new();
        batch.retain(|(id, _, _)| seen.insert(id.clone()));
        let count = batch.len();
        let (mut ids, mut sealed, mut secs) = (Vec::new(), Vec::new(), Vec::new());
        for (id, state, lifetime) in batch {
            ids.push(id);
            sealed.push(state);
            secs.push(lifetime);
        }
        let written = db.pool.run("saving sessions", |conn| {
            let statement = conn.statement(schema::SAVE_SESSIONS)?;
            conn.client.execute(&statement, &[&ids, &sealed, &secs])
        });
        if let Err(e) = written {
            // Those clients get a full handshake on another server; nothing is lost otherwise.
            log::warn!("{count} SRP sessions not shared: {e}");
        }
    }
}
