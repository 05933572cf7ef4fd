//! What the server tests share: a server and a client on the test PKI, the same services on
//! both drivers (threaded and event-driven), connections from other loopback addresses, and
//! clients that trickle bytes.
#![allow(dead_code)] // each test file uses its own part

use std::io::{self, BufRead, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use tls::{ClientConfig, ServerAuth, ServerConfig, TlsStream};
use tls_server::{
    AsyncHandler, AsyncPlainConnection, AsyncPlainHandler, AsyncTlsStream, ConnectionInfo,
    PlainConnection, RunningServer, Socket, StaticFiles, TlsServer, TlsServerBuilder,
};
use tls_testkit::{Pki, TIMEOUT};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// Which server runs a test.
#[derive(Clone, Copy, Debug)]
pub enum Driver {
    /// `TlsServer`: a thread per connection.
    Threaded,
    /// `AsyncTlsServer`: tokio tasks.
    Async,
}

/// Runs a test body once per driver, as two tests: `NAME::threaded` and `NAME::event_driven`.
#[macro_export]
macro_rules! on_both_drivers {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn threaded() {
                super::$name($crate::common::Driver::Threaded)
            }

            #[test]
            fn event_driven() {
                super::$name($crate::common::Driver::Async)
            }
        }
    )*};
}

/// What a test server runs after (or, for `Plain`, before) the handshake.
pub enum Service {
    /// Echoes lines until the client leaves; `firehose\n` makes it stream `x`s forever.
    Lines,
    /// Greets with `220 ready`, echoes plaintext lines, and upgrades on `STARTTLS` (`220 go
    /// ahead`, then `250 secure now` over TLS), then echoes lines over TLS.
    Plain,
    Files(StaticFiles),
}

/// Binds `builder` on a free loopback port and serves `service` with `driver`.
pub fn start(builder: TlsServerBuilder, driver: Driver, service: Service) -> RunningServer {
    let addr = "127.0.0.1:0";
    match (driver, service) {
        (Driver::Threaded, Service::Lines) => builder.bind(addr).unwrap().spawn(lines),
        (Driver::Threaded, Service::Plain) => builder.bind(addr).unwrap().spawn_plain(plain),
        (Driver::Threaded, Service::Files(files)) => builder.bind(addr).unwrap().spawn(files),
        (Driver::Async, Service::Lines) => builder.bind_async(addr).unwrap().spawn(AsyncLines),
        (Driver::Async, Service::Plain) => {
            builder.bind_async(addr).unwrap().spawn_plain(AsyncPlain)
        }
        (Driver::Async, Service::Files(files)) => builder.bind_async(addr).unwrap().spawn(files),
    }
}

const FIREHOSE: &str = "firehose\n";

fn lines(tls: &mut TlsStream<Socket>, _: &ConnectionInfo) -> io::Result<()> {
    loop {
        let mut line = String::new();
        if tls.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if line == FIREHOSE {
            let chunk = vec![b'x'; 64 * 1024];
            loop {
                tls.write_all(&chunk)?;
            }
        }
        tls.write_all(line.as_bytes())?;
    }
}

fn plain(mut conn: PlainConnection) -> io::Result<()> {
    conn.write_all(b"220 ready\r\n")?;
    loop {
        let mut line = String::new();
        if conn.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if line == "STARTTLS\r\n" {
            conn.write_all(b"220 go ahead\r\n")?;
            let info = conn.info().clone();
            let mut tls = conn.starttls()?;
            tls.write_all(b"250 secure now\r\n")?;
            return lines(&mut tls, &info);
        }
        conn.write_all(line.as_bytes())?;
    }
}

struct AsyncLines;

impl AsyncHandler for AsyncLines {
    async fn handle(&self, tls: &mut AsyncTlsStream, _: &ConnectionInfo) -> io::Result<()> {
        let mut tls = BufReader::new(tls);
        loop {
            let mut line = String::new();
            if tls.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            if line == FIREHOSE {
                let chunk = vec![b'x'; 64 * 1024];
                loop {
                    tls.write_all(&chunk).await?;
                }
            }
            tls.write_all(line.as_bytes()).await?;
        }
    }
}

struct AsyncPlain;

impl AsyncPlainHandler for AsyncPlain {
    async fn handle(&self, mut conn: AsyncPlainConnection) -> io::Result<()> {
        conn.write_all(b"220 ready\r\n").await?;
        loop {
            let mut line = String::new();
            if conn.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            if line == "STARTTLS\r\n" {
                conn.write_all(b"220 go ahead\r\n").await?;
                let info = conn.info().clone();
                let mut tls = conn.starttls().await?;
                tls.write_all(b"250 secure now\r\n").await?;
                return AsyncLines.handle(&mut tls, &info).await;
            }
            conn.write_all(line.as_bytes()).await?;
        }
    }
}

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
