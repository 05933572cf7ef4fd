//! Bookkeeping for live connections: a cap on how many, and a way to cut them all at shutdown.

use std::collections::HashMap;
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The live connections, each with a clone of its socket so shutdown can cut it.
pub(crate) struct Slots {
    cap: usize,
    live: Mutex<Live>,
    changed: Condvar,
}

#[derive(Default)]
struct Live {
    next_id: u64,
    sockets: HashMap<u64, TcpStream>,
}

impl Slots {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            cap: cap.max(1),
            live: Mutex::new(Live::default()),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Live> {
        // A panic elsewhere never leaves this map half-written, so a poisoned lock is usable.
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Blocks until fewer than `cap` connections are live (the excess waits in the backlog)
    /// or `stop` is set.
    pub(crate) fn wait_for_room(&self, stop: &AtomicBool) {
        let mut live = self.lock();
        while live.sockets.len() >= self.cap && !stop.load(Ordering::SeqCst) {
            live = self.changed.wait(live).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Wakes [`wait_for_room`](Self::wait_for_room) to look at its stop flag.
    pub(crate) fn wake(&self) {
        let _live = self.lock();
        self.changed.notify_all();
    }

    /// Records a connection; returns its id for [`release`](Self::release).
    pub(crate) fn take(&self, tcp: &TcpStream) -> Option<u64> {
        let clone = tcp.try_clone().ok()?;
        let mut live = self.lock();
        live.next_id += 1;
        let id = live.next_id;
        live.sockets.insert(id, clone);
        Some(id)
    }

    pub(crate) fn release(&self, id: u64) {
        self.lock().sockets.remove(&id);
        self.changed.notify_all();
    }

    pub(crate) fn count(&self) -> usize {
        self.lock().sockets.len()
    }

    /// Waits until no connection is live or `deadline` passes; returns the state then.
    fn wait_empty_until(&self, deadline: Instant) -> MutexGuard<'_, Live> {
        let mut live = self.lock();
        while !live.sockets.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            live = self
                .changed
                .wait_timeout(live, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        live
    }

    /// Waits up to `grace` for connections to end, then cuts the rest; returns how many were cut.
    pub(crate) fn drain(&self, grace: Duration) -> usize {
        let live = self.wait_empty_until(Instant::now() + grace);
        for tcp in live.sockets.values() {
            let _ = tcp.shutdown(Shutdown::Both);
        }
        live.sockets.len()
    }

    /// Waits up to `limit` for every connection thread to finish.
    pub(crate) fn wait_empty(&self, limit: Duration) -> bool {
        self.wait_empty_until(Instant::now() + limit)
            .sockets
            .is_empty()
    }
}
