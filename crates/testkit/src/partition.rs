//! A TCP relay that can go silent: while cut, it neither forwards nor closes anything, as a
//! network partition looks from either end (no FIN, no RST, just no answer). The relay's own
//! kernel still acknowledges what arrives, so TCP timeouts do not fire either: only an
//! application-level heartbeat can tell.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often a silent pump looks whether the link is back.
const POLL: Duration = Duration::from_millis(20);

/// Relays every connection made to [`addr`](Self::addr) to one server, until cut.
pub struct Partition {
    /// Where clients connect instead of the server.
    pub addr: SocketAddr,
    cut: Arc<AtomicBool>,
    closed: Arc<AtomicBool>,
    streams: Arc<Mutex<Vec<TcpStream>>>,
}

impl Partition {
    /// A relay on 127.0.0.1 to `server`.
    pub fn to(server: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind relay");
        let addr = listener.local_addr().expect("relay address");
        let relay = Self {
            addr,
            cut: Arc::default(),
            closed: Arc::default(),
            streams: Arc::default(),
        };
        let (cut, closed, streams) = (
            relay.cut.clone(),
            relay.closed.clone(),
            relay.streams.clone(),
        );
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if closed.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                // A connection made while cut waits, unanswered, like the packets would.
                while cut.load(Ordering::SeqCst) && !closed.load(Ordering::SeqCst) {
                    std::thread::sleep(POLL);
                }
                let Ok(upstream) = TcpStream::connect(server) else {
                    continue;
                };
                let mut kept = streams.lock().unwrap();
                for side in [&client, &upstream] {
                    let _ = side.set_nodelay(true);
                    let _ = side.set_read_timeout(Some(POLL));
                    kept.push(side.try_clone().expect("clone"));
                }
                drop(kept);
                let (client2, upstream2) = (
                    client.try_clone().expect("clone"),
                    upstream.try_clone().expect("clone"),
                );
                let (cut1, cut2) = (cut.clone(), cut.clone());
                std::thread::spawn(move || pump(client, upstream, &cut1));
                std::thread::spawn(move || pump(upstream2, client2, &cut2));
            }
        });
        relay
    }

    /// From now on nothing passes either way (connections stay open).
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
    }

    /// Everything held back passes again.
    pub fn heal(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for Partition {
    fn drop(&mut self) {
        self.closed.store(true, Ordering::SeqCst);
        self.cut.store(false, Ordering::SeqCst);
        for stream in self.streams.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
        // Wakes the accept loop so it sees `closed`.
        let _ = TcpStream::connect(self.addr);
    }
}

/// Copies `from` to `to` while the link is up; while cut, reads nothing (what arrives waits in
/// the kernel's buffers). Ends both when `from` ends.
fn pump(mut from: TcpStream, mut to: TcpStream, cut: &AtomicBool) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if cut.load(Ordering::SeqCst) {
            std::thread::sleep(POLL);
            continue;
        }
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
