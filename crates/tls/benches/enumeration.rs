//! Can a prober tell a known SRP user from an unknown one by timing? The time from sending a
//! ClientHello to receiving ServerHelloDone, for a known user and for an unknown one (answered
//! with a simulated entry), interleaved, over one SQLite verifier database; the ratio of the
//! medians should be 1 (target ≤ 1.03).
//!
//! `cargo bench -p tls --bench enumeration` — `BENCH_PROBES` (default 400 of each).

use std::net::TcpListener;
use std::thread;
use std::time::Duration;

use tls::srp::{make_verifier, SqliteVerifierDb};
use tls::ServerConfig;
use tls_testkit::{srp_client_hello, srp_first_flight};

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let smoke = !std::env::args().any(|a| a == "--bench");
    let probes: usize = match smoke {
        true => 10,
        false => std::env::var("BENCH_PROBES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(400),
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.db");
    let db = SqliteVerifierDb::create(&path).unwrap();
    for user in ["alice", "bob", "carol"] {
        db.add(user, &make_verifier(user, "pw", 2048).unwrap())
            .unwrap();
    }
    let server = ServerConfig::builder().verifier_db(db).build().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // One connection at a time, so that no probe waits for another's work.
    thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let _ = server.accept(tcp);
        }
    });
    let (known_hello, unknown_hello) = (srp_client_hello("bob"), srp_client_hello("mallory"));
    let probe = |hello: &[u8]| srp_first_flight(addr, hello).unwrap().1;
    for _ in 0..probes.min(20) {
        probe(&known_hello);
        probe(&unknown_hello);
    }
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for i in 0..2 * probes {
        // Alternate which goes first, so drift in the machine's speed falls on both alike.
        match i % 4 {
            0 | 3 => known.push(probe(&known_hello)),
            _ => unknown.push(probe(&unknown_hello)),
        }
    }
    let (known, unknown) = (median(known), median(unknown));
    let ratio = unknown.as_secs_f64() / known.as_secs_f64();
    println!(
        "SRP-2048 ClientHello -> ServerHelloDone, median of {probes} each (interleaved): \
         known user {known:?}, unknown user {unknown:?}, unknown/known {ratio:.3} (target <= 1.03)"
    );
}
