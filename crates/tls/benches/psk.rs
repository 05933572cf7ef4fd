//! TLS 1.3 external PSK (psk_dhe_ke, X25519, TLS_AES_128_GCM_SHA256) against its anchors, same
//! run, alternating:
//! - handshakes per second, both ends in one thread over the sans-IO `Connection` (no sockets),
//!   against rustls's own TLS 1.3 resumption in one thread (ring, X25519, a stored session
//!   resumed every time and no new ticket issued: binder + key share + AEAD, as ours), and
//!   against OpenSSL's external PSK, its client and server in one process over a BIO pair
//!   (`benches/openssl_psk.c`, built with `cc` when it and libssl are there);
//! - bulk transfer over loopback, our `TlsStream` on a PSK against rustls's `StreamOwned`
//!   (certificate): the same AES-128-GCM TLS 1.3 records;
//! - what the PSK store costs X.509 clients on one port: full handshakes against a certificate
//!   alone and against certificate + SRP verifier database + PSK store;
//! - TLS 1.2 ECDHE_PSK with ChaCha20-Poly1305 against our TLS 1.3 PSK with the same AEAD:
//!   handshakes in one thread and bulk over loopback, with `openssl speed -evp
//!   chacha20-poly1305` at 16 KiB as the ceiling of the cipher alone.
//!
//! `cargo bench -p tls --bench psk` — `BENCH_PSK_HANDSHAKES` (default 20000; 0 skips the
//! in-process handshakes), `BENCH_MIB` (1024; 0 skips bulk), `BENCH_HANDSHAKES` (X.509, 6000;
//! 0 skips), `BENCH_PSK12` (1; 0 skips the TLS 1.2 comparison), `BENCH_RUNS` (3).

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rustls::client::{ClientSessionStore, Tls12ClientSessionValue, Tls13ClientSessionValue};
use rustls::{HandshakeKind, NamedGroup};
use rustls_pki_types::ServerName;
use tls::psk::{ExternalPsk, MemoryPskStore};
use tls::srp::MemoryVerifierDb;
use tls::{ClientConfig, Connection, ServerConfig};
use tls_testkit::bench::{alternate, bulk, env_or, one_port_handshakes, reproduce, Bare, Ours};
use tls_testkit::Pki;

const SUITE: &str = "TLS_AES_128_GCM_SHA256";
const IDENTITY: &[u8] = b"bench";
/// The key `openssl_psk.c` uses too.
const KEY: [u8; 32] = [
    0x0b, 0x6e, 0x1f, 0x5a, 0x33, 0x90, 0xc4, 0x21, 0x7d, 0x88, 0x12, 0xfe, 0x49, 0xa0, 0x5b, 0x3c,
    0xe1, 0x07, 0x66, 0x2d, 0x9f, 0x40, 0xb8, 0x15, 0x73, 0xca, 0x2e, 0x91, 0x04, 0xdd, 0x58, 0x6a,
];

/// One end of an in-memory connection, ours or rustls's.
trait Endpoint {
    /// Appends everything queued to `wire`.
    fn send(&mut self, wire: &mut Vec<u8>);
    /// Reads and processes all of `wire`.
    fn receive(&mut self, wire: &[u8]);
    fn handshaking(&self) -> bool;
    fn has_output(&self) -> bool;
}

macro_rules! endpoint {
    ($connection:ty) => {
        impl Endpoint for $connection {
            fn send(&mut self, wire: &mut Vec<u8>) {
                while self.wants_write() {
                    self.write_tls(wire).expect("write_tls");
                }
            }
            fn receive(&mut self, mut wire: &[u8]) {
                while !wire.is_empty() {
                    self.read_tls(&mut wire).expect("read_tls");
                    self.process_new_packets().expect("handshake");
                }
            }
            fn handshaking(&self) -> bool {
                self.is_handshaking()
            }
            fn has_output(&self) -> bool {
                self.wants_write()
            }
        }
    };
}

endpoint!(Connection);
endpoint!(rustls::Connection);

/// Moves flights between the two ends until both are done and nothing is left to send (a
/// rustls server's tickets reach the client).
fn handshake(client: &mut impl Endpoint, server: &mut impl Endpoint, wire: &mut Vec<u8>) {
    let mut flights = 0;
    while client.handshaking() || server.handshaking() || client.has_output() || server.has_output()
    {
        flights += 1;
        assert!(flights < 10, "the handshake stalled");
        wire.clear();
        client.send(wire);
        server.receive(wire);
        wire.clear();
        server.send(wire);
        client.receive(wire);
    }
}

/// Our PSK handshakes per second, both ends in this thread.
fn ours_in_memory(psk: &Ours, suite: &str, count: u64) -> f64 {
    let mut wire = Vec::with_capacity(4096);
    let started = Instant::now();
    for _ in 0..count {
        let mut client = Connection::client(&psk.client, "localhost").expect("client");
        let mut server = Connection::server(&psk.server).expect("server");
        handshake(&mut client, &mut server, &mut wire);
        let session = server.session().expect("session");
        assert_eq!(session.psk_identity(), Some(IDENTITY));
        assert_eq!(session.cipher_suite(), suite);
    }
    count as f64 / started.elapsed().as_secs_f64()
}

/// A client's TLS 1.3 tickets, as many as the server sends (rustls's own cache keeps eight).
#[derive(Debug, Default)]
struct Tickets(Mutex<Vec<Tls13ClientSessionValue>>);

impl Tickets {
    fn len(&self) -> usize {
        self.0.lock().expect("tickets").len()
    }
}

impl ClientSessionStore for Tickets {
    fn set_kx_hint(&self, _: ServerName<'static>, _: NamedGroup) {}
    fn kx_hint(&self, _: &ServerName<'_>) -> Option<NamedGroup> {
        Some(NamedGroup::X25519)
    }
    fn set_tls12_session(&self, _: ServerName<'static>, _: Tls12ClientSessionValue) {}
    fn tls12_session(&self, _: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        None
    }
    fn remove_tls12_session(&self, _: &ServerName<'static>) {}
    fn insert_tls13_ticket(&self, _: ServerName<'static>, value: Tls13ClientSessionValue) {
        self.0.lock().expect("tickets").push(value);
    }
    fn take_tls13_ticket(&self, _: &ServerName<'static>) -> Option<Tls13ClientSessionValue> {
        self.0.lock().expect("tickets").pop()
    }
}

/// rustls resuming TLS 1.3 sessions: the server keeps them in its (default, stateful) session
/// cache; `primer` is the same server issuing a batch of tickets in one full handshake, untimed,
/// and `server` resumes them without issuing new ones.
struct Resuming {
    server: Arc<rustls::ServerConfig>,
    primer: Arc<rustls::ServerConfig>,
    client: Arc<rustls::ClientConfig>,
    tickets: Arc<Tickets>,
}

/// Tickets one priming handshake issues.
const PRIMED: usize = 500;

impl Resuming {
    fn new(bare: &Bare) -> Self {
        let mut server = (*bare.server).clone();
        server.session_storage = rustls::server::ServerSessionMemoryCache::new(4 * PRIMED);
        server.send_tls13_tickets = 0;
        let mut primer = server.clone();
        primer.send_tls13_tickets = PRIMED;
        let tickets = Arc::new(Tickets::default());
        let mut client = (*bare.client).clone();
        client.resumption = rustls::client::Resumption::store(tickets.clone());
        Self {
            server: Arc::new(server),
            primer: Arc::new(primer),
            client: Arc::new(client),
            tickets,
        }
    }

    fn connect(
        &self,
        server: &Arc<rustls::ServerConfig>,
    ) -> (rustls::Connection, rustls::Connection) {
        let name = ServerName::try_from("localhost").expect("name");
        let client = rustls::ClientConnection::new(self.client.clone(), name).expect("client");
        let server = rustls::ServerConnection::new(server.clone()).expect("server");
        (client.into(), server.into())
    }

    /// Resumed handshakes per second, both ends in this thread; every one checked resumed.
    fn handshakes(&self, count: u64) -> f64 {
        let mut wire = Vec::with_capacity(4096);
        while self.tickets.len() < count as usize {
            let (mut client, mut server) = self.connect(&self.primer);
            handshake(&mut client, &mut server, &mut wire);
            assert_eq!(client.handshake_kind(), Some(HandshakeKind::Full));
        }
        let started = Instant::now();
        for _ in 0..count {
            let (mut client, mut server) = self.connect(&self.server);
            handshake(&mut client, &mut server, &mut wire);
            for end in [&client, &server] {
                assert_eq!(end.handshake_kind(), Some(HandshakeKind::Resumed));
                let group = end.negotiated_key_exchange_group().map(|g| g.name());
                assert_eq!(group, Some(NamedGroup::X25519));
            }
        }
        count as f64 / started.elapsed().as_secs_f64()
    }
}

/// `benches/openssl_psk.c` built next to this bench (again when the source is newer), or why
/// not.
fn openssl_program() -> Result<PathBuf, String> {
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/openssl_psk.c");
    let exe = std::env::current_exe()
        .map_err(|e| e.to_string())?
        .with_file_name("openssl_psk");
    let modified = |p: &PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if modified(&exe).is_some() && modified(&exe) >= modified(&source) {
        return Ok(exe);
    }
    let out = Command::new("cc")
        .args(["-O2", "-o"])
        .arg(&exe)
        .arg(&source)
        .args(["-lssl", "-lcrypto"])
        .output()
        .map_err(|e| format!("no C compiler ({e})"))?;
    match out.status.success() {
        true => Ok(exe),
        false => Err(format!(
            "it did not build (libssl-dev missing?): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
    }
}

/// OpenSSL's PSK handshakes per second over `count` handshakes (its own timing, without the
/// process start).
fn openssl_in_memory(program: &PathBuf, count: u64) -> f64 {
    let out = Command::new(program)
        .arg(count.to_string())
        .output()
        .expect("openssl_psk");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "openssl_psk failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    text.trim().parse().expect("a rate")
}

/// Our PSK client and server, TLS 1.3 with AES-128-GCM. The server issues no tickets, as the
/// rustls and OpenSSL servers it is compared with issue none while timed.
fn psk_pair() -> Ours {
    let store = MemoryPskStore::new();
    store.insert(ExternalPsk::new(IDENTITY, KEY).expect("psk"));
    Ours {
        server: ServerConfig::builder()
            .psk_store(store)
            .tickets(false)
            .build()
            .expect("PSK server"),
        client: ClientConfig::builder()
            .psk(ExternalPsk::new(IDENTITY, KEY).expect("psk"))
            .build()
            .expect("PSK client"),
    }
}

const CHACHA12: &str = "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256";
const CHACHA13: &str = "TLS_CHACHA20_POLY1305_SHA256";

/// Our PSK pair held to one version and one ChaCha20-Poly1305 suite.
fn chacha_pair(version: tls::ProtocolVersion, suite: &str) -> Ours {
    let settings = tls::HandshakeSettings {
        min_version: version,
        max_version: version,
        cipher_names: vec![suite.to_owned()],
        ..tls::HandshakeSettings::default()
    };
    let store = MemoryPskStore::new();
    store.insert(ExternalPsk::new(IDENTITY, KEY).expect("psk"));
    Ours {
        server: ServerConfig::builder()
            .psk_store(store)
            .tickets(false)
            .settings(settings.clone())
            .build()
            .expect("PSK server"),
        client: ClientConfig::builder()
            .psk(ExternalPsk::new(IDENTITY, KEY).expect("psk"))
            .settings(settings)
            .build()
            .expect("PSK client"),
    }
}

/// `openssl speed -evp chacha20-poly1305` at 16 KiB blocks, in GB/s: the cipher alone.
fn openssl_chacha_speed() -> Result<f64, String> {
    let out = Command::new("openssl")
        .args([
            "speed",
            "-evp",
            "chacha20-poly1305",
            "-bytes",
            "16384",
            "-seconds",
            "2",
        ])
        .args(["-mr"])
        .output()
        .map_err(|e| format!("openssl: {e}"))?;
    // -mr prints `+F:<n>:<name>:<bytes per second>` for the sizes asked.
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|line| line.strip_prefix("+F:"))
        .and_then(|rest| rest.rsplit(':').next())
        .and_then(|rate| rate.trim().parse::<f64>().ok())
        .map(|bytes_per_second| bytes_per_second / 1e9)
        .ok_or_else(|| format!("no rate in openssl speed's output: {text}"))
}

/// TLS 1.2 ECDHE_PSK against TLS 1.3 PSK, both ChaCha20-Poly1305: handshakes and bulk.
fn tls12_against_tls13(psk_count: u64, mib: u64, runs: u64) {
    let tls12 = Arc::new(chacha_pair(tls::ProtocolVersion::Tls12, CHACHA12));
    let tls13 = Arc::new(chacha_pair(tls::ProtocolVersion::Tls13, CHACHA13));
    if psk_count > 0 {
        let (ours12, ours13) = alternate(
            psk_count,
            runs,
            100,
            |n| ours_in_memory(&tls12, CHACHA12, n),
            |n| ours_in_memory(&tls13, CHACHA13, n),
        );
        println!(
            "handshakes in one thread x{psk_count}: TLS 1.2 ECDHE_PSK {ours12:7.0}/s   TLS 1.3 \
             PSK {ours13:7.0}/s   ratio {:.3} (target >= 0.9)",
            ours12 / ours13
        );
    }
    if mib > 0 {
        let bytes = mib << 20;
        let gbps = |secs: f64| bytes as f64 / secs / 1e9;
        let (ours12, ours13) = alternate(
            1,
            runs,
            1,
            |_| gbps(bulk(&tls12, bytes)),
            |_| gbps(bulk(&tls13, bytes)),
        );
        let ceiling = match openssl_chacha_speed() {
            Ok(rate) => format!("{rate:.2} GB/s, ours at {:.2} of it", ours12 / rate),
            Err(why) => format!("not measured: {why}"),
        };
        println!(
            "bulk {mib} MiB over loopback, ChaCha20-Poly1305: TLS 1.2 ECDHE_PSK {ours12:.2} GB/s   \
             TLS 1.3 PSK {ours13:.2} GB/s   ratio {:.3} (target >= 0.9); openssl speed at 16 KiB \
             (the cipher alone, one way): {ceiling}",
            ours12 / ours13
        );
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs us once, small, as a smoke test.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let pick = |name, full, small| match smoke {
        true => small,
        false => env_or(name, full),
    };
    let psk_count = pick("BENCH_PSK_HANDSHAKES", 20000, 20);
    let mib = pick("BENCH_MIB", 1024, 4);
    let x509_count = pick("BENCH_HANDSHAKES", 6000, 20);
    let runs = pick("BENCH_RUNS", 3, 1);
    let psk12 = pick("BENCH_PSK12", 1, 1);
    let pki = Pki::new();
    let psk = Arc::new(psk_pair());
    let bare = Arc::new(Bare::new(&pki));
    println!("TLS 1.3 external PSK, psk_dhe_ke, X25519, {SUITE}; medians of {runs} runs");

    if psk_count > 0 {
        let rustls = Resuming::new(&bare);
        let (ours, theirs) = alternate(
            psk_count,
            runs,
            100,
            |n| ours_in_memory(&psk, SUITE, n),
            |n| rustls.handshakes(n),
        );
        println!(
            "handshakes in one thread x{psk_count}: ours (PSK) {ours:7.0}/s   rustls resumed \
             {theirs:7.0}/s   ratio {:.3} (target >= 1.0)",
            ours / theirs
        );
        match openssl_program() {
            Ok(program) => {
                let (ours, openssl) = alternate(
                    psk_count,
                    runs,
                    1000,
                    |n| ours_in_memory(&psk, SUITE, n),
                    |n| openssl_in_memory(&program, n),
                );
                println!(
                    "handshakes in one thread x{psk_count}: ours (PSK) {ours:7.0}/s   OpenSSL \
                     (PSK, BIO pair) {openssl:7.0}/s   ratio {:.3}",
                    ours / openssl
                );
            }
            Err(why) => println!("OpenSSL PSK handshakes skipped: {why}"),
        }
    }

    if mib > 0 {
        let bytes = mib << 20;
        let gbps = |secs: f64| bytes as f64 / secs / 1e9;
        let (ours, theirs) = alternate(
            1,
            runs,
            1,
            |_| gbps(bulk(&psk, bytes)),
            |_| gbps(bulk(&bare, bytes)),
        );
        println!(
            "bulk {mib} MiB over loopback: TlsStream (PSK) {ours:.2} GB/s   \
             rustls::StreamOwned (certificate) {theirs:.2} GB/s   ratio {:.3} (target >= 0.95)",
            ours / theirs
        );
    }

    if x509_count > 0 {
        let users = MemoryVerifierDb::new();
        users.add("alice", "pw", 2048).expect("user");
        let keys = MemoryPskStore::new();
        keys.insert(ExternalPsk::new(IDENTITY, KEY).expect("psk"));
        let (plain, routed) = one_port_handshakes(
            &pki,
            |server| server.verifier_db(users).psk_store(keys),
            x509_count,
            runs,
        );
        println!(
            "X.509 handshakes over loopback x{x509_count} (ECDSA P-256): certificate only \
             {plain:.0}/s   certificate + SRP verifier DB + PSK store {routed:.0}/s   ratio {:.3} \
             (target >= 0.97)",
            routed / plain
        );
    }
    if psk12 > 0 {
        tls12_against_tls13(psk_count, mib, runs);
    }
    let knobs = [
        ("BENCH_PSK12", psk12),
        ("BENCH_PSK_HANDSHAKES", psk_count),
        ("BENCH_MIB", mib),
        ("BENCH_HANDSHAKES", x509_count),
        ("BENCH_RUNS", runs),
    ];
    match smoke {
        true => println!(
            "smoke run, figures mean nothing: measure with `cargo bench -p tls --bench psk`"
        ),
        false => println!("reproduce: {}", reproduce("psk", &knobs)),
    }
}
