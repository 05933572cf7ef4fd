//! `TlsStream` against bare `rustls::StreamOwned`, and against OpenSSL's s_client/s_server,
//! in one run, over loopback: bulk transfer (TLS 1.3, AES-128-GCM) and full handshakes.
//!
//! `cargo bench -p tls --bench stream` — `BENCH_MIB` (default 1024) sets the bulk size,
//! `BENCH_HANDSHAKES` (default 6000) the handshake count, `BENCH_RUNS` (default 3) the runs
//! whose median is reported.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use tls_testkit::bench::{env_or, median};
use tls_testkit::{PeerProcess, Pki};

const SUITE: &str = "TLS_AES_128_GCM_SHA256";
const CHUNK: usize = 64 * 1024;

/// One side of a connection, by whichever stack: handshake over a TCP socket.
trait Stack: Send + Sync + 'static {
    type Stream: Read + Write + Send;
    fn accept(&self, tcp: TcpStream) -> Self::Stream;
    fn connect(&self, tcp: TcpStream) -> Self::Stream;
    /// Sends close_notify.
    fn finish(&self, stream: Self::Stream);
}

struct Ours {
    server: tls::ServerConfig,
    client: tls::ClientConfig,
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

struct Bare {
    server: Arc<rustls::ServerConfig>,
    client: Arc<rustls::ClientConfig>,
}

type Owned<C> = rustls::StreamOwned<C, TcpStream>;

enum BareStream {
    Server(Owned<rustls::ServerConnection>),
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

fn ours(pki: &Pki) -> Ours {
    let settings = tls::HandshakeSettings {
        min_version: tls::ProtocolVersion::Tls13,
        cipher_names: vec![SUITE.into()],
        ..Default::default()
    };
    Ours {
        server: tls::ServerConfig::builder()
            .cert_chain(pki.server.chain(), pki.server.key())
            .settings(settings.clone())
            .session_cache(None)
            .tickets(false)
            .build()
            .expect("server config"),
        client: tls::ClientConfig::builder()
            .server_auth(tls::ServerAuth::Roots(pki.roots()))
            .settings(settings)
            .no_resumption()
            .build()
            .expect("client config"),
    }
}

fn bare(pki: &Pki) -> Bare {
    let mut provider = rustls::crypto::ring::default_provider();
    provider
        .cipher_suites
        .retain(|s| s.suite() == rustls::CipherSuite::TLS13_AES_128_GCM_SHA256);
    let provider = Arc::new(provider);
    let chain = pki.server.chain().certificates().to_vec();
    let key = rustls_pki_types::pem::PemObject::from_pem_slice(pki.server.key_pem.as_bytes())
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
    Bare {
        server: Arc::new(server),
        client: Arc::new(client),
    }
}

use rustls_pki_types::pem::PemObject;

fn tcp_pair() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    (listener, addr)
}

/// Writes `bytes` bytes in `CHUNK`-sized writes.
fn send(out: &mut impl Write, bytes: u64) {
    let chunk = vec![0x5au8; CHUNK];
    let mut sent = 0;
    while sent < bytes {
        let n = (bytes - sent).min(CHUNK as u64) as usize;
        out.write_all(&chunk[..n]).expect("write");
        sent += n as u64;
    }
}

/// Client sends `bytes`, server reads to the end; returns the seconds taken.
fn bulk<S: Stack>(stack: &Arc<S>, bytes: u64) -> f64 {
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

/// `count` full handshakes, each followed by a one-byte echo; returns handshakes per second.
fn handshakes<S: Stack>(stack: &Arc<S>, count: u64) -> f64 {
    let (listener, addr) = tcp_pair();
    let server = stack.clone();
    let acceptor = thread::spawn(move || {
        for _ in 0..count {
            let (tcp, _) = listener.accept().expect("accept");
            let mut stream = server.accept(tcp);
            let mut byte = [0u8; 1];
            stream.read_exact(&mut byte).expect("read");
            stream.write_all(&byte).expect("write");
            server.finish(stream);
        }
    });
    let started = Instant::now();
    for _ in 0..count {
        let tcp = TcpStream::connect(addr).expect("connect");
        tcp.set_nodelay(true).expect("nodelay");
        let mut stream = stack.connect(tcp);
        stream.write_all(b"x").expect("write");
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).expect("read");
        stack.finish(stream);
    }
    acceptor.join().expect("acceptor");
    count as f64 / started.elapsed().as_secs_f64()
}

/// OpenSSL's own pair: s_client reads `bytes` from a pipe and sends them to s_server, which
/// writes them to /dev/null. Returns seconds from launching s_client until s_server exits.
/// (OpenSSL pays one pipe copy on the way in that our in-process pair does not.)
fn openssl_bulk(openssl: &std::path::Path, pki: &Pki, bytes: u64) -> f64 {
    let port = tcp_pair().1.port();
    let server = PeerProcess::spawn(
        Command::new(openssl)
            .args([
                "s_server",
                "-accept",
                &port.to_string(),
                "-naccept",
                "1",
                "-tls1_3",
            ])
            .args(["-ciphersuites", SUITE])
            .arg("-cert")
            .arg(pki.path("server.pem"))
            .arg("-key")
            .arg(pki.path("server.key"))
            // s_server hangs up when its stdin ends: keep it open until we are done.
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    // Listening once our own bind of that port fails.
    while TcpListener::bind(("127.0.0.1", port)).is_ok() {
        thread::sleep(Duration::from_millis(5));
    }
    let started = Instant::now();
    let mut client = Command::new(openssl)
        .args(["s_client", "-no_ign_eof", "-tls1_3", "-ciphersuites", SUITE])
        .args(["-connect", &format!("127.0.0.1:{port}")])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("s_client");
    let mut stdin = client.stdin.take().expect("stdin");
    send(&mut stdin, bytes);
    drop(stdin);
    assert!(
        client.wait().expect("s_client").success(),
        "s_client failed"
    );
    let mut server = server;
    while server.0.try_wait().expect("s_server").is_none() {
        if started.elapsed() > Duration::from_secs(600) {
            panic!("s_server did not finish");
        }
        thread::sleep(Duration::from_millis(1));
    }
    started.elapsed().as_secs_f64()
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs us once, small, as a smoke test.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let mib = if smoke { 8 } else { env_or("BENCH_MIB", 1024) };
    let count = if smoke {
        20
    } else {
        env_or("BENCH_HANDSHAKES", 6000)
    };
    let runs = if smoke { 1 } else { env_or("BENCH_RUNS", 3) };
    let bytes = mib << 20;
    let pki = Pki::new();
    let ours = Arc::new(ours(&pki));
    let bare = Arc::new(bare(&pki));
    let mbps = |secs: f64| bytes as f64 / secs / 1e6;

    let (mut ours_bulk, mut bare_bulk, mut ours_hs, mut bare_hs) = (vec![], vec![], vec![], vec![]);
    for _ in 0..runs {
        // Alternate, so drift in the machine's speed hits both alike; handshakes alternate in
        // batches of 100, since a few seconds of noise would swamp the difference sought.
        ours_bulk.push(mbps(bulk(&ours, bytes)));
        bare_bulk.push(mbps(bulk(&bare, bytes)));
        let (mut ours_secs, mut bare_secs) = (0.0, 0.0);
        for _ in 0..count.div_ceil(100) {
            let batch = count.min(100);
            ours_secs += batch as f64 / handshakes(&ours, batch);
            bare_secs += batch as f64 / handshakes(&bare, batch);
        }
        let done = (count.div_ceil(100) * count.min(100)) as f64;
        ours_hs.push(done / ours_secs);
        bare_hs.push(done / bare_secs);
    }
    let (ob, bb, oh, bh) = (
        median(ours_bulk),
        median(bare_bulk),
        median(ours_hs),
        median(bare_hs),
    );
    println!("TLS 1.3, {SUITE}, ECDSA P-256, loopback, median of {runs} runs");
    println!(
        "bulk {mib} MiB:  TlsStream {ob:8.0} MB/s   rustls::StreamOwned {bb:8.0} MB/s   ratio {:.3}",
        ob / bb
    );
    println!(
        "handshakes x{count}: TlsStream {oh:8.0} /s     rustls::StreamOwned {bh:8.0} /s     ratio {:.3}",
        oh / bh
    );
    let Some(openssl) = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("openssl"))
            .find(|p| p.is_file())
    }) else {
        println!("openssl: not installed, comparison skipped");
        return;
    };
    let mut ssl = vec![];
    let mut ours_again = vec![];
    for _ in 0..runs {
        ssl.push(mbps(openssl_bulk(&openssl, &pki, bytes)));
        ours_again.push(mbps(bulk(&ours, bytes)));
    }
    let (sb, ob) = (median(ssl), median(ours_again));
    println!(
        "bulk {mib} MiB:  TlsStream {ob:8.0} MB/s   openssl s_client->s_server {sb:8.0} MB/s   ratio {:.3}",
        ob / sb
    );
}
