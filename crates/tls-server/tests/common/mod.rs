//! What the `TlsServer` tests share: a server and a client on the test PKI, connections from
//! other loopback addresses, and clients that trickle bytes.
#![allow(dead_code)] // each test file uses its own part

use std::io::{self, Read};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use tls::{ClientConfig, ServerAuth, ServerConfig};
use tls_server::{TlsServer, TlsServerBuilder};
use tls_testkit::{Pki, TIMEOUT};

pub fn builder(pki: &Pki) -> TlsServerBuilder {
    let config = ServerConfig::builder()
        .cert_chain(pki.server.chain(), pki.server.key())
        .build()
        .unwrap();
    TlsServer::builder(config)
}

pub fn client(pki: &Pki) -> ClientConfig {
    ClientConfig::builder()
        .server_auth(ServerAuth::Roots(pki.roots()))
        .build()
        .unwrap()
}

/// A TCP connection to `addr` from `local` (any 127.0.0.0/8 address works on Linux loopback),
/// with the test timeouts.
pub fn connect_from(local: IpAddr, addr: SocketAddr) -> io::Result<TcpStream> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.bind(&SocketAddr::new(local, 0).into())?;
    socket.connect_timeout(&addr.into(), TIMEOUT)?;
    let tcp: TcpStream = socket.into();
    tcp.set_read_timeout(Some(TIMEOUT))?;
    tcp.set_write_timeout(Some(TIMEOUT))?;
    Ok(tcp)
}

/// Whether the server has hung up on `raw`, without waiting: reads (and drops) whatever it
/// sent until nothing more is there. `raw` is left non-blocking.
///
/// For a TLS connection, pass a clone of its socket: what is read here never reaches the TLS
/// stream, which the tests then only write to.
pub fn hung_up(raw: &TcpStream) -> bool {
    raw.set_nonblocking(true).unwrap();
    let mut sink = [0u8; 4096];
    loop {
        match (&*raw).read(&mut sink) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return true,
        }
    }
}

/// Sends `bytes` one at a time through `send`, `every` apart, until the server hangs up on
/// `raw` (see [`hung_up`]). Returns how long the server kept the connection, or `None` if it
/// was still there after every byte.
pub fn trickle(
    raw: &TcpStream,
    mut send: impl FnMut(u8) -> io::Result<()>,
    bytes: impl IntoIterator<Item = u8>,
    every: Duration,
) -> Option<Duration> {
    let started = Instant::now();
    for byte in bytes {
        if send(byte).is_err() || hung_up(raw) {
            return Some(started.elapsed());
        }
        thread::sleep(every);
    }
    hung_up(raw).then(|| started.elapsed())
}
