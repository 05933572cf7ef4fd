//! The tokio driver in one run against its anchors: our `tls::tokio` stream against
//! tokio-rustls on the same rustls configuration (TLS 1.3, AES-128-GCM, ECDSA P-256), and
//! TLS-SRP over tokio against TLS-SRP over the blocking stream. Same-run ratios.
//!
//! `cargo bench -p tls --bench tokio` — `BENCH_MIB` (default 1024), `BENCH_HANDSHAKES` (5000),
//! `BENCH_SRP_HANDSHAKES` (300), `BENCH_SRP_MIB` (256), `BENCH_RUNS` (3).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use tls::srp::MemoryVerifierDb;
use tls::{ClientConfig, HandshakeSettings, ServerAuth, ServerConfig};
use tls_testkit::bench::{blocking_handshakes, env_or, median};
use tls_testkit::Pki;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const SUITE: &str = "TLS_AES_128_GCM_SHA256";

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}
type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A way to run TLS over tokio: ours or tokio-rustls.
trait Driver: Send + Sync + 'static {
    fn accept(&self, tcp: TcpStream) -> Boxed<'_, Box<dyn Io>>;
    fn connect(&self, tcp: TcpStream) -> Boxed<'_, Box<dyn Io>>;
}

struct Ours {
    server: ServerConfig,
    client: ClientConfig,
}

impl Driver for Ours {
    fn accept(&self, tcp: TcpStream) -> Boxed<'_, Box<dyn Io>> {
        Box::pin(async move {
            Box::new(tls::tokio::accept(&self.server, tcp).await.expect("accept")) as Box<dyn Io>
        })
    }
    fn connect(&self, tcp: TcpStream) -> Boxed<'_, Box<dyn Io>> {
        Box::pin(async move {
            let tls = tls::tokio::connect(&self.client, "localhost", tcp).await;
            Box::new(tls.expect("connect")) as Box<dyn Io>
        })
    }
}

struct TokioRustls {
    acceptor: tokio_rustls::TlsAcceptor,
    connector: tokio_rustls::TlsConnector,
}

impl Driver for TokioRustls {
    fn accept(&self, tcp: TcpStream) -> Boxed<'_, Box<dyn Io>> {
        Box::pin(async move {
            Box::new(self.acceptor.accept(tcp).await.expect("accept")) as Box<dyn Io>
        })
    }
    fn connect(&self, tcp: TcpStream) -> Boxed<'_, Box<dyn Io>> {
        Box::pin(async move {
            let name = rustls_pki_types::ServerName::try_from("localhost").expect("name");
            Box::new(self.connector.connect(name, tcp).await.expect("connect")) as Box<dyn Io>
        })
    }
}

async fn listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    (listener, addr)
}

/// Seconds to send `bytes` from a client to a server over one connection.
async fn bulk(driver: Arc<dyn Driver>, bytes: u64) -> f64 {
    let (listener, addr) = listener().await;
    let server = driver.clone();
    let reader = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        let mut tls = server.accept(tcp).await;
        let mut buf = vec![0u8; 1 << 16];
        let mut total = 0u64;
        while total < bytes {
            total += tls.read(&mut buf).await.expect("read") as u64;
        }
    });
    let mut tls = driver
        .connect(TcpStream::connect(addr).await.expect("tcp"))
        .await;
    let chunk = vec![0x5a; 1 << 16];
    let started = Instant::now();
    let mut sent = 0u64;
    while sent < bytes {
        let n = (bytes - sent).min(chunk.len() as u64) as usize;
        tls.write_all(&chunk[..n]).await.expect("write");
        sent += n as u64;
    }
    tls.flush().await.expect("flush");
    reader.await.expect("reader");
    started.elapsed().as_secs_f64()
}

/// Handshakes per second, one after another, each with a one-byte exchange.
async fn handshakes(driver: Arc<dyn Driver>, count: u64) -> f64 {
    let (listener, addr) = listener().await;
    let server = driver.clone();
    let acceptor = tokio::spawn(async move {
        for _ in 0..count {
            let (tcp, _) = listener.accept().await.expect("accept");
            tcp.set_nodelay(true).expect("nodelay");
            let mut tls = server.accept(tcp).await;
            let mut byte = [0u8; 1];
            tls.read_exact(&mut byte).await.expect("read");
            tls.write_all(&byte).await.expect("write");
            tls.shutdown().await.expect("shutdown");
        }
    });
    let started = Instant::now();
    for _ in 0..count {
        let tcp = TcpStream::connect(addr).await.expect("tcp");
        tcp.set_nodelay(true).expect("nodelay");
        let mut tls = driver.connect(tcp).await;
        tls.write_all(b"x").await.expect("write");
        let mut byte = [0u8; 1];
        tls.read_exact(&mut byte).await.expect("read");
    }
    acceptor.await.expect("acceptor");
    count as f64 / started.elapsed().as_secs_f64()
}

fn x509_configs(pki: &Pki) -> (ServerConfig, ClientConfig) {
    let settings = HandshakeSettings {
        min_version: tls::ProtocolVersion::Tls13,
        cipher_names: vec![SUITE.into()],
        ..Default::default()
    };
    let server = ServerConfig::builder()
        .cert_chain(pki.server.chain(), pki.server.key())
        .settings(settings.clone())
        .session_cache(None)
        .tickets(false)
        .build()
        .expect("server");
    let client = ClientConfig::builder()
        .server_auth(ServerAuth::Roots(pki.roots()))
        .settings(settings)
        .no_resumption()
        .build()
        .expect("client");
    (server, client)
}

/// SRP over the blocking stream, for the same measures (threads on the same runtime's pool).
async fn blocking_srp_bulk(server: ServerConfig, client: ClientConfig, bytes: u64) -> f64 {
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let reader = std::thread::spawn(move || {
            let (tcp, _) = listener.accept().expect("accept");
            let mut tls = server.accept(tcp).expect("accept");
            let mut buf = vec![0u8; 1 << 16];
            let mut total = 0u64;
            while total < bytes {
                total += tls.read(&mut buf).expect("read") as u64;
            }
        });
        let tcp = std::net::TcpStream::connect(addr).expect("tcp");
        let mut tls = client.connect("localhost", tcp).expect("connect");
        let chunk = vec![0x5a; 1 << 16];
        let started = Instant::now();
        let mut sent = 0u64;
        while sent < bytes {
            let n = (bytes - sent).min(chunk.len() as u64) as usize;
            tls.write_all(&chunk[..n]).expect("write");
            sent += n as u64;
        }
        tls.flush().expect("flush");
        reader.join().expect("reader");
        started.elapsed().as_secs_f64()
    })
    .await
    .expect("blocking bulk")
}

async fn blocking_srp_handshakes(server: ServerConfig, client: ClientConfig, count: u64) -> f64 {
    tokio::task::spawn_blocking(move || blocking_handshakes(&server, &client, count))
        .await
        .expect("blocking handshakes")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs us once, small, as a smoke test.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let pick = |name: &str, full: u64, small: u64| if smoke { small } else { env_or(name, full) };
    let (mib, count) = (
        pick("BENCH_MIB", 1024, 8),
        pick("BENCH_HANDSHAKES", 5000, 20),
    );
    let (srp_count, srp_mib) = (
        pick("BENCH_SRP_HANDSHAKES", 300, 4),
        pick("BENCH_SRP_MIB", 256, 4),
    );
    let runs = pick("BENCH_RUNS", 3, 1);
    let pki = Pki::new();
    let (server, client) = x509_configs(&pki);
    let theirs: Arc<dyn Driver> = Arc::new(TokioRustls {
        acceptor: tokio_rustls::TlsAcceptor::from(server.to_rustls().expect("export")),
        connector: tokio_rustls::TlsConnector::from(client.to_rustls().expect("export")),
    });
    let ours: Arc<dyn Driver> = Arc::new(Ours { server, client });
    let mbps = |bytes: u64, secs: f64| bytes as f64 / secs / 1e6;

    let (mut ob, mut tb, mut oh, mut th) = (vec![], vec![], vec![], vec![]);
    for _ in 0..runs {
        // Alternate, so drift in the machine's speed falls on both alike.
        ob.push(mbps(mib << 20, bulk(ours.clone(), mib << 20).await));
        tb.push(mbps(mib << 20, bulk(theirs.clone(), mib << 20).await));
        let (mut ours_secs, mut theirs_secs) = (0.0, 0.0);
        for _ in 0..count.div_ceil(100) {
            let batch = count.min(100);
            ours_secs += batch as f64 / handshakes(ours.clone(), batch).await;
            theirs_secs += batch as f64 / handshakes(theirs.clone(), batch).await;
        }
        let done = (count.div_ceil(100) * count.min(100)) as f64;
        oh.push(done / ours_secs);
        th.push(done / theirs_secs);
    }
    let (ob, tb, oh, th) = (median(ob), median(tb), median(oh), median(th));
    println!("tokio, 2 workers, TLS 1.3 {SUITE}, ECDSA P-256, loopback, median of {runs} runs");
    println!(
        "bulk {mib} MiB:          tls::tokio {ob:8.0} MB/s   tokio-rustls {tb:8.0} MB/s   ratio {:.3}",
        ob / tb
    );
    println!(
        "{count} handshakes:      tls::tokio {oh:8.0} /s     tokio-rustls {th:8.0} /s     ratio {:.3}",
        oh / th
    );

    let users = MemoryVerifierDb::new();
    users.add("alice", "pw", 2048).expect("user");
    let srp_server = ServerConfig::builder()
        .verifier_db(users)
        .session_cache(None)
        .build()
        .expect("srp server");
    let srp_client = ClientConfig::builder()
        .srp("alice", "pw")
        .no_resumption()
        .build()
        .expect("srp client");
    let srp: Arc<dyn Driver> = Arc::new(Ours {
        server: srp_server.clone(),
        client: srp_client.clone(),
    });
    let (mut ab, mut bb, mut ah, mut bh) = (vec![], vec![], vec![], vec![]);
    for _ in 0..runs {
        ab.push(mbps(srp_mib << 20, bulk(srp.clone(), srp_mib << 20).await));
        bb.push(mbps(
            srp_mib << 20,
            blocking_srp_bulk(srp_server.clone(), srp_client.clone(), srp_mib << 20).await,
        ));
        ah.push(handshakes(srp.clone(), srp_count).await);
        bh.push(blocking_srp_handshakes(srp_server.clone(), srp_client.clone(), srp_count).await);
    }
    let (ab, bb, ah, bh) = (median(ab), median(bb), median(ah), median(bh));
    println!("TLS-SRP 2048, TLS_SRP_SHA_WITH_AES_128_CBC_SHA + EtM, loopback");
    println!(
        "bulk {srp_mib} MiB:          tokio {ab:8.0} MB/s   blocking {bb:8.0} MB/s   ratio {:.3}",
        ab / bb
    );
    println!(
        "{srp_count} handshakes:       tokio {ah:8.1} /s     blocking {bh:8.1} /s     ratio {:.3}",
        ah / bh
    );
}
