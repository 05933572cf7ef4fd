//! What the benchmarks share: their settings from the environment, medians, alternating
//! batches, the blocking handshake loop they compare against, and bulk transfer over loopback
//! by our `TlsStream` or bare rustls.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use rustls_pki_types::pem::PemObject;

use crate::Pki;

/// The number in environment variable `name`, or `default`.
pub fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The `cargo bench` command line that repeats a run with these settings.
pub fn reproduce(bench: &str, knobs: &[(&str, u64)]) -> String {
    let mut line = String::new();
    for (name, value) in knobs {
        line += &format!("{name}={value} ");
    }
    line + &format!("cargo bench -p tls --bench {bench}")
}

/// Alternates batches of `a` and `b` (each given how many to do and returning how many per
/// second it did), `count` of each per run, so drift in the machine's speed hits both alike;
/// returns the medians over `runs` runs of each one's rate.
pub fn alternate(
    count: u64,
    runs: u64,
    batch: u64,
    mut a: impl FnMut(u64) -> f64,
    mut b: impl FnMut(u64) -> f64,
) -> (f64, f64) {
    let batch = count.min(batch).max(1);
    let (mut rates_a, mut rates_b) = (Vec::new(), Vec::new());
    for _ in 0..runs.max(1) {
        let (mut secs_a, mut secs_b) = (0.0, 0.0);
        for _ in 0..count.div_ceil(batch) {
            secs_a += batch as f64 / a(batch);
            secs_b += batch as f64 / b(batch);
        }
        let done = (count.div_ceil(batch) * batch) as f64;
        rates_a.push(done / secs_a);
        rates_b.push(done / secs_b);
    }
    (median(rates_a), median(rates_b))
}

/// The median of some measurements.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Handshakes per second of our blocking client against our blocking server, one after
/// another over loopback, each with a one-byte exchange and close_notify.
pub fn blocking_handshakes(
    server: &tls::ServerConfig,
    client: &tls::ClientConfig,
    count: u64,
) -> f64 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = server.clone();
    let acceptor = thread::spawn(move || {
        for _ in 0..count {
            let (tcp, _) = listener.accept().expect("accept");
            tcp.set_nodelay(true).expect("nodelay");
            let mut tls = server.accept(tcp).expect("handshake");
            let mut byte = [0u8; 1];
            tls.read_exact(&mut byte).expect("read");
            tls.write_all(&byte).expect("write");
            tls.close().expect("close");
        }
    });
    let started = Instant::now();
    for _ in 0..count {
        exchange(client, addr);
    }
    acceptor.join().expect("acceptor");
    count as f64 / started.elapsed().as_secs_f64()
}

/// What one port for every client costs an X.509 client: full TLS 1.3 handshakes per second
/// (ECDSA P-256, no resumption) against `pki`'s certificate alone and against the same
/// certificate with what `more` adds to the server (a verifier database, a PSK store: the
/// ClientHello read and routed first), alternating batches of 100; the medians over `runs`.
pub fn one_port_handshakes(
    pki: &Pki,
    more: impl FnOnce(tls::ServerConfigBuilder) -> tls::ServerConfigBuilder,
    count: u64,
    runs: u64,
) -> (f64, f64) {
    let server = || {
        tls::ServerConfig::builder()
            .cert_chain(pki.server.chain(), pki.server.key())
            .session_cache(None)
            .tickets(false)
    };
    let cert_only = server().build().expect("cert-only server");
    let one_port = more(server()).build().expect("one-port server");
    let client = tls::ClientConfig::builder()
        .server_auth(tls::ServerAuth::Roots(pki.roots()))
        .no_resumption()
        .build()
        .expect("client");
    alternate(
        count,
        runs,
        100,
        |n| blocking_handshakes(&cert_only, &client, n),
        |n| blocking_handshakes(&one_port, &client, n),
    )
}

/// Our client's side of one benchmark connection: handshake, one byte each way (which also
/// delivers a TLS 1.3 ticket). Returns the session.
pub fn exchange(client: &tls::ClientConfig, addr: std::net::SocketAddr) -> tls::Session {
    let tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_nodelay(true).expect("nodelay");
    let mut tls = client.connect("localhost", tcp).expect("handshake");
    tls.write_all(b"x").expect("write");
    let mut byte = [0u8; 1];
    tls.read_exact(&mut byte).expect("read");
    tls.session().clone()
}

/// Runs this bench again on CPU 0 unless it already runs there; `true` when it did (and the
/// caller should stop). Spread over two CPUs, a connection's figure depended on
/// whether its server thread happened to share the client's CPU (same-CPU wakeups are cheap,
/// cross-CPU ones dear on this VM): runs swung from 0.2x to 5x whichever client was measured (HTTPS keep-alive).
/// On one CPU both clients pay the same scheduling, and the ratio compares their work.
pub fn ran_on_one_cpu() -> bool {
    if std::env::var_os("BENCH_ONE_CPU").is_some() {
        return false;
    }
    let exe = std::env::current_exe().expect("own path");
    let status = std::process::Command::new("taskset")
        .args(["-c", "0"])
        .arg(exe)
        .args(std::env::args_os().skip(1))
        .env("BENCH_ONE_CPU", "1")
        .status();
    match status {
        Ok(status) if status.success() => true,
        Ok(status) => std::process::exit(status.code().unwrap_or(1)),
        Err(e) => {
            eprintln!("taskset unavailable ({e}): running on every CPU, figures will swing");
            false
        }
    }
}

/// The size of the writes (and reads) in [`bulk`].
pub const CHUNK: usize = 64 * 1024;

/// One side of a connection, by whichever stack: handshake over a TCP socket.
pub trait Stack: Send + Sync + 'static {
    /// The stream a handshake gives.
    type Stream: Read + Write + Send;
    /// The server's handshake over `tcp`.
    fn accept(&self, tcp: TcpStream) -> Self::Stream;
    /// The client's handshake over `tcp`, to `localhost`.
    fn connect(&self, tcp: TcpStream) -> Self::Stream;
    /// Sends close_notify.
    fn finish(&self, stream: Self::Stream);
}

/// Our blocking `TlsStream`, both ends.
pub struct Ours {
    /// The server's configuration.
    pub server: tls::ServerConfig,
    /// The client's configuration.
    pub client: tls::ClientConfig,
}

impl Stack for Ours {
    type Stream = tls::TlsStream<TcpStream>;
    fn accept(&self, tcp: TcpStream) -> Self::Stream {
        self.server.accept(tcp).expect("accept")
    }
    fn connect(&self, tcp: TcpStream) -> Self::Stream {
        self.client.connect("localhost", tcp).expect("connect")
    }
    fn finish(&self, stream: Self::Stream) {
        stream.close().expect("close");
    }
}

/// Bare `rustls::StreamOwned`, both ends.
pub struct Bare {
    /// The server's configuration.
    pub server: Arc<rustls::ServerConfig>,
    /// The client's configuration.
    pub client: Arc<rustls::ClientConfig>,
}

type Owned<C> = rustls::StreamOwned<C, TcpStream>;

/// Either end of a bare rustls connection.
pub enum BareStream {
    /// The server's end.
    Server(Owned<rustls::ServerConnection>),
    /// The client's end.
    Client(Owned<rustls::ClientConnection>),
}

impl Read for BareStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Self::Server(s) => s.read(buf),
            Self::Client(s) => s.read(buf),
        }
    }
}

impl Write for BareStream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Self::Server(s) => s.write(buf),
            Self::Client(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Self::Server(s) => s.flush(),
            Self::Client(s) => s.flush(),
        }
    }
}

impl Stack for Bare {
    type Stream = BareStream;
    fn accept(&self, tcp: TcpStream) -> BareStream {
        let conn = rustls::ServerConnection::new(self.server.clone()).expect("server");
        let mut s = rustls::StreamOwned::new(conn, tcp);
        while s.conn.is_handshaking() {
            s.conn.complete_io(&mut s.sock).expect("handshake");
        }
        BareStream::Server(s)
    }
    fn connect(&self, tcp: TcpStream) -> BareStream {
        let name = "localhost".try_into().expect("name");
        let conn = rustls::ClientConnection::new(self.client.clone(), name).expect("client");
        let mut s = rustls::StreamOwned::new(conn, tcp);
        while s.conn.is_handshaking() {
            s.conn.complete_io(&mut s.sock).expect("handshake");
        }
        BareStream::Client(s)
    }
    fn finish(&self, stream: BareStream) {
        let mut stream = stream;
        match &mut stream {
            BareStream::Server(s) => s.conn.send_close_notify(),
            BareStream::Client(s) => s.conn.send_close_notify(),
        }
        stream.flush().expect("close");
    }
}

impl Bare {
    /// rustls with ring, TLS 1.3 only, TLS_AES_128_GCM_SHA256 and X25519 only, `pki`'s server
    /// certificate, no resumption.
    pub fn new(pki: &Pki) -> Self {
        let mut provider = rustls::crypto::ring::default_provider();
        provider
            .cipher_suites
            .retain(|s| s.suite() == rustls::CipherSuite::TLS13_AES_128_GCM_SHA256);
        provider
            .kx_groups
            .retain(|g| g.name() == rustls::NamedGroup::X25519);
        let provider = Arc::new(provider);
        let chain = pki.server.chain().certificates().to_vec();
        let key = rustls_pki_types::PrivateKeyDer::from_pem_slice(pki.server.key_pem.as_bytes())
            .expect("key");
        let mut server = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("server config");
        server.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_pki_types::CertificateDer::pem_slice_iter(pki.root_pem.as_bytes()) {
            roots.add(cert.expect("root")).expect("root");
        }
        let mut client = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        client.resumption = rustls::client::Resumption::disabled();
        Self {
            server: Arc::new(server),
            client: Arc::new(client),
        }
    }
}

/// A listener on a free loopback port, and its address.
pub fn tcp_pair() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    (listener, addr)
}

/// Writes `bytes` bytes in `CHUNK`-sized writes.
pub fn send(out: &mut impl Write, bytes: u64) {
    let chunk = vec![0x5au8; CHUNK];
    let mut sent = 0;
    while sent < bytes {
        let n = (bytes - sent).min(CHUNK as u64) as usize;
        out.write_all(&chunk[..n]).expect("write");
        sent += n as u64;
    }
}

/// Client sends `bytes` over loopback, server (on a thread) reads to the end; returns the
/// seconds taken, handshake included.
pub fn bulk<S: Stack>(stack: &Arc<S>, bytes: u64) -> f64 {
    let (listener, addr) = tcp_pair();
    let server = stack.clone();
    let reader = thread::spawn(move || {
        let (tcp, _) = listener.accept().expect("accept");
        let mut stream = server.accept(tcp);
        let mut buf = vec![0u8; CHUNK];
        let mut total = 0u64;
        loop {
            match stream.read(&mut buf).expect("read") {
                0 => break,
                n => total += n as u64,
            }
        }
        total
    });
    let started = Instant::now();
    let mut stream = stack.connect(TcpStream::connect(addr).expect("connect"));
    send(&mut stream, bytes);
    stack.finish(stream);
    assert_eq!(reader.join().expect("reader"), bytes);
    started.elapsed().as_secs_f64()
}
