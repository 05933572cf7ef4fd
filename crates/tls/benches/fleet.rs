//! What a fleet on PostgreSQL costs, same run, our blocking client and server over loopback:
//!
//! - full SRP-2048 handshakes/s with 50 concurrent clients, the PostgreSQL store (entries
//!   cached, dropped on change notices) against the SQLite store;
//! - resumed handshakes on another server of the fleet than the one that made the session,
//!   against resuming on the same server: SRP (RFC 5077 tickets) and X.509 TLS 1.3 (tickets),
//!   both sealed under the fleet's shared keys, alternating one by one.
//!
//! `cargo bench -p tls --features postgres --bench fleet` — `BENCH_HANDSHAKES` (full handshakes
//! per run, default 600), `BENCH_RESUMPTIONS` (per case, default 1000), `BENCH_RUNS` (3).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use tls::srp::{make_verifier, PostgresVerifierDb, SqliteVerifierDb, UserDatabase};
use tls::{ClientConfig, ServerAuth, ServerConfig};
use tls_testkit::bench::{env_or, exchange, median};
use tls_testkit::{Pki, Postgres};

const CLIENTS: u64 = 50;

fn main() {
    let smoke = !std::env::args().any(|a| a == "--bench");
    let handshakes = if smoke {
        CLIENTS
    } else {
        env_or("BENCH_HANDSHAKES", 600)
    };
    let resumptions = if smoke {
        10
    } else {
        env_or("BENCH_RESUMPTIONS", 1000)
    };
    let runs = if smoke { 1 } else { env_or("BENCH_RUNS", 3) };
    let Some(pg) = Postgres::start() else { return };
    let pki = Pki::new();
    let alice = make_verifier("alice", "pw", 2048).expect("verifier");

    let created = PostgresVerifierDb::create(&pg.url(), 2048).expect("PostgreSQL store");
    created.add_user("alice", &alice).expect("user");
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = SqliteVerifierDb::create(dir.path().join("users.db")).expect("SQLite store");
    sqlite.add("alice", &alice).expect("user");

    // Two servers of a fleet: each opens the database itself, as two processes would.
    let fleet_server = || {
        let db = Arc::new(PostgresVerifierDb::open(&pg.url()).expect("open"));
        let config = ServerConfig::builder()
            .cert_chain(pki.server.chain(), pki.server.key())
            .shared_verifier_db(db.clone())
            .shared_resumption(db)
            .build()
            .expect("fleet server");
        serve(config)
    };
    let (a, b) = (fleet_server(), fleet_server());
    let single = serve(
        ServerConfig::builder()
            .cert_chain(pki.server.chain(), pki.server.key())
            .verifier_db(sqlite)
            .build()
            .expect("SQLite server"),
    );

    let full = ClientConfig::builder()
        .srp("alice", "pw")
        .no_resumption()
        .build()
        .expect("client");
    let (mut on_sqlite, mut on_postgres) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        on_sqlite.push(concurrent_handshakes(&full, single, handshakes));
        on_postgres.push(concurrent_handshakes(&full, a, handshakes));
    }
    let (on_sqlite, on_postgres) = (median(on_sqlite), median(on_postgres));
    println!(
        "SRP-2048 full handshakes, {CLIENTS} clients x{handshakes} (median of {runs}): SQLite \
         store {on_sqlite:.1}/s, PostgreSQL store {on_postgres:.1}/s, ratio {:.3}",
        on_postgres / on_sqlite
    );

    let srp = || {
        ClientConfig::builder()
            .srp("alice", "pw")
            .build()
            .expect("client")
    };
    let x509 = || {
        ClientConfig::builder()
            .server_auth(ServerAuth::Roots(pki.roots()))
            .build()
            .expect("client")
    };
    let cases: [(&str, &dyn Fn() -> ClientConfig); 2] =
        [("SRP (tickets)", &srp), ("X.509 TLS 1.3 (tickets)", &x509)];
    for (name, client) in cases {
        let (mut same, mut other) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let (s, o) = resumptions_same_and_other(client, a, b, resumptions);
            same.push(s);
            other.push(o);
        }
        let (same, other) = (median(same), median(other));
        println!(
            "{name} resumed handshakes x{resumptions} (median of {runs}): on the same server \
             {same:.0}/s, on another server of the fleet {other:.0}/s, ratio {:.3}",
            other / same
        );
    }
}

/// An accept loop answering each connection on its own thread: handshake, echo one byte.
fn serve(config: ServerConfig) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { continue };
            let config = config.clone();
            thread::spawn(move || {
                tcp.set_nodelay(true).expect("nodelay");
                let mut tls = config.accept(tcp).expect("server handshake");
                let mut byte = [0u8; 1];
                tls.read_exact(&mut byte).expect("read");
                tls.write_all(&byte).expect("write");
                let _ = tls.close();
            });
        }
    });
    addr
}

/// One handshake and a one-byte exchange; whether the session was resumed.
fn handshake(client: &ClientConfig, addr: SocketAddr) -> bool {
    exchange(client, addr).resumed()
}

/// Handshakes per second with `CLIENTS` clients at once.
fn concurrent_handshakes(client: &ClientConfig, addr: SocketAddr, count: u64) -> f64 {
    let started = Instant::now();
    let workers: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let client = client.clone();
            thread::spawn(move || {
                for _ in 0..count / CLIENTS {
                    handshake(&client, addr);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("client");
    }
    (count / CLIENTS * CLIENTS) as f64 / started.elapsed().as_secs_f64()
}

/// Resumptions per second on the server that made the session and on another one: each
/// time a new client gets a session from `a` (not timed), then resumes it once, at `a` and at
/// `b` in turn.
fn resumptions_same_and_other(
    new_client: &dyn Fn() -> ClientConfig,
    a: SocketAddr,
    b: SocketAddr,
    count: u64,
) -> (f64, f64) {
    let (mut same, mut other) = (Duration::ZERO, Duration::ZERO);
    for i in 0..count * 2 {
        let client = new_client();
        assert!(!handshake(&client, a), "a fresh client resumed");
        let (at, total) = match i % 2 {
            0 => (a, &mut same),
            _ => (b, &mut other),
        };
        let started = Instant::now();
        assert!(handshake(&client, at), "no resumption at {at}");
        *total += started.elapsed();
    }
    let rate = |d: Duration| count as f64 / d.as_secs_f64();
    (rate(same), rate(other))
}
