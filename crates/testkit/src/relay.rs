//! A TCP relay between one client and a server that counts the TLS records going each way, so
//! a test can show how many records (and so which sequence numbers) a peer really handled.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::thread::JoinHandle;

/// Records counted by a [`RecordRelay`], each way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecordCounts {
    /// From the client to the server.
    pub client_to_server: u64,
    /// From the server to the client.
    pub server_to_client: u64,
}

/// Listens on 127.0.0.1, relays one connection to the server, and counts the records (by their
/// 5-byte headers) as the bytes pass, unchanged.
pub struct RecordRelay {
    /// Where the client connects.
    pub addr: SocketAddr,
    handle: JoinHandle<RecordCounts>,
}

impl RecordRelay {
    /// A relay to `server`, accepting one client.
    pub fn to(server: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind relay");
        let addr = listener.local_addr().expect("relay address");
        let handle = std::thread::spawn(move || {
            let (client, _) = listener.accept().expect("relay accept");
            let upstream = TcpStream::connect(server).expect("relay connect");
            for side in [&client, &upstream] {
                side.set_nodelay(true).expect("nodelay");
                // A side gone quiet ends its direction rather than hanging the test.
                side.set_read_timeout(Some(crate::TIMEOUT * 3))
                    .expect("timeout");
            }
            let (client2, upstream2) = (
                client.try_clone().expect("clone"),
                upstream.try_clone().expect("clone"),
            );
            let up = std::thread::spawn(move || pump(client, upstream));
            let server_to_client = pump(upstream2, client2);
            RecordCounts {
                client_to_server: up.join().expect("relay thread"),
                server_to_client,
            }
        });
        Self { addr, handle }
    }

    /// The counts once both directions have ended (each side closed its half).
    pub fn join(self) -> RecordCounts {
        self.handle.join().expect("relay thread panicked")
    }
}

/// Copies `from` to `to` until `from` ends (or either fails), then ends `to`'s write half;
/// gives the number of whole records seen.
fn pump(mut from: TcpStream, mut to: TcpStream) -> u64 {
    let mut buf = vec![0u8; 64 * 1024];
    // Bytes still to skip in the current record's body, and the header bytes gathered so far.
    let (mut body_left, mut header, mut header_len) = (0usize, [0u8; 5], 0usize);
    let mut records = 0u64;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
        let mut at = 0;
        while at < n {
            if body_left > 0 {
                let skip = body_left.min(n - at);
                body_left -= skip;
                at += skip;
                continue;
            }
            header[header_len] = buf[at];
            header_len += 1;
            at += 1;
            if header_len == 5 {
                body_left = usize::from(u16::from_be_bytes([header[3], header[4]]));
                header_len = 0;
                records += 1;
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
    records
}
