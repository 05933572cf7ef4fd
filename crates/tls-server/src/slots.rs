//! Bookkeeping for live connections: a cap on how many in all and from one address, and a
//! way to cut them all at shutdown.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv6Addr, Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How shutdown cuts a live connection: the threaded server shuts a clone of its socket down;
/// the tokio server's tasks watch a signal of their own, so they keep nothing here.
pub(crate) trait Cut {
    fn cut(&self);
}

impl Cut for TcpStream {
    fn cut(&self) {
        let _ = self.shutdown(Shutdown::Both);
    }
}

impl Cut for () {
    fn cut(&self) {}
}

/// The live connections, each with what cuts it at shutdown.
pub(crate) struct Slots<C = TcpStream> {
    cap: usize,
    cap_per_client: usize,
    live: Mutex<Live<C>>,
    changed: Condvar,
}

struct Live<C> {
    next_id: u64,
    sockets: HashMap<u64, (C, IpAddr)>,
    /// Live connections per [`client`] address; absent means none.
    per_client: HashMap<IpAddr, usize>,
}

/// Why [`Slots::take`] refused a connection.
#[derive(Debug)]
pub(crate) enum Refused {
    /// The client's address already has this many connections.
    PerClientCap(usize),
    /// What cuts it could not be made (out of file descriptors, say).
    Io(io::Error),
}

/// What counts as one client for the per-address cap: an IPv4 address, or an IPv6 /64 (one
/// host usually holds a whole /64, so per-address counting would not bind it).
pub(crate) fn client(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !(u128::from(u64::MAX));
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
        v4 => v4,
    }
}

impl<C: Cut> Slots<C> {
    /// At most `cap` connections in all, and `cap_per_client` from one [`client`].
    pub(crate) fn new(cap: usize, cap_per_client: usize) -> Self {
        Self {
            cap: cap.max(1),
            cap_per_client: cap_per_client.max(1),
            live: Mutex::new(Live {
                next_id: 0,
                sockets: HashMap::new(),
                per_client: HashMap::new(),
            }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Live<C>> {
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

    /// Records a connection from `peer`, cut at shutdown by what `cut` makes; returns its id
    /// for [`release`](Self::release), or why it must be closed at once.
    pub(crate) fn take(
        &self,
        peer: IpAddr,
        cut: impl FnOnce() -> io::Result<C>,
    ) -> Result<u64, Refused> {
        let client = client(peer);
        let mut live = self.lock();
        let count = live.per_client.get(&client).copied().unwrap_or(0);
        if count >= self.cap_per_client {
            return Err(Refused::PerClientCap(count));
        }
        let clone = cut().map_err(Refused::Io)?;
        live.next_id += 1;
        let id = live.next_id;
        live.sockets.insert(id, (clone, client));
        live.per_client.insert(client, count + 1);
        Ok(id)
    }

    /// [`take`](Self::take), logging a refusal; `None` means: close the connection now.
    pub(crate) fn take_or_refuse(
        &self,
        peer: SocketAddr,
        cut: impl FnOnce() -> io::Result<C>,
    ) -> Option<u64> {
        match self.take(peer.ip(), cut) {
            Ok(id) => Some(id),
            Err(Refused::PerClientCap(n)) => {
                log::warn!("{peer}: refused, its address is at its cap of {n} connections");
                None
            }
            Err(Refused::Io(e)) => {
                log::error!("{peer}: refused: {e}");
                None
            }
        }
    }

    pub(crate) fn release(&self, id: u64) {
        let mut live = self.lock();
        if let Some((_, client)) = live.sockets.remove(&id) {
            match live.per_client.get_mut(&client) {
                Some(count) if *count > 1 => *count -= 1,
                _ => {
                    live.per_client.remove(&client);
                }
            }
        }
        drop(live);
        self.changed.notify_all();
    }

    pub(crate) fn count(&self) -> usize {
        self.lock().sockets.len()
    }

    /// Waits until no connection is live or `deadline` passes; returns the state then.
    fn wait_empty_until(&self, deadline: Instant) -> MutexGuard<'_, Live<C>> {
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
        for (cut, _) in live.sockets.values() {
            cut.cut();
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, TcpListener};

    #[test]
    fn ipv6_clients_are_counted_by_their_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client(a), client(b));
        assert_ne!(client(a), client(other));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client(mapped), IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)));
    }

    #[test]
    fn the_per_client_cap_refuses_then_frees_room_on_release() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let tcp = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let slots = Slots::new(10, 2);
        let take = |ip| slots.take(ip, || tcp.try_clone());
        let (one, two): (IpAddr, IpAddr) =
            ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let first = take(one).unwrap();
        take(one).unwrap();
        assert!(matches!(take(one), Err(Refused::PerClientCap(2))));
        take(two).unwrap();
        assert_eq!(slots.count(), 3);
        slots.release(first);
        take(one).unwrap();
        assert_eq!(slots.count(), 3);
        assert_eq!(slots.lock().per_client.values().sum::<usize>(), 3);
    }
}
