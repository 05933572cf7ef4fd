//! `TlsStream` against bare `rustls::StreamOwned`, and against OpenSSL's s_client/s_server,
//! in one run, over loopback: bulk transfer (TLS 1.3, AES-128-GCM) and full handshakes.
//!
//! `cargo bench -p tls --bench stream` — `BENCH_MIB` (default 1024) sets the bulk size,
//! `BENCH_HANDSHAKES` (default 6000) the handshake count, `BENCH_RUNS` (default 3) the runs
//! whose median is reported.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use tls_testkit::bench::{alternate, bulk, env_or, median, send, tcp_pair, Bare, Ours, Stack};
use tls_testkit::{PeerProcess, Pki};

const SUITE: &str = "TLS_AES_128_GCM_SHA256";
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
    let bare = Arc::new(Bare::new(&pki));
    let mbps = |secs: f64| bytes as f64 / secs / 1e6;

    // Alternate, so drift in the machine's speed hits both alike: one transfer each per run,
    // and handshakes in batches of 100, since a few seconds of noise would swamp the
    // difference sought.
    let (ob, bb) = alternate(
        1,
        runs,
        1,
        |_| mbps(bulk(&ours, bytes)),
        |_| mbps(bulk(&bare, bytes)),
    );
    let (oh, bh) = alternate(
        count,
        runs,
        100,
        |n| handshakes(&ours, n),
        |n| handshakes(&bare, n),
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
