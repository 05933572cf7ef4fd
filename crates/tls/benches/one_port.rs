//! What one port for every client costs an X.509 client: full TLS 1.3 handshakes per second
//! against a certificate-only server and against the same certificate with a verifier database
//! (the ClientHello read and routed first), alternating batches, same run.
//!
//! `cargo bench -p tls --bench one_port` — `BENCH_HANDSHAKES` (default 6000), `BENCH_RUNS` (3).

use tls::srp::MemoryVerifierDb;
use tls_testkit::bench::{env_or, one_port_handshakes};
use tls_testkit::Pki;

fn main() {
    let smoke = !std::env::args().any(|a| a == "--bench");
    let count = if smoke {
        20
    } else {
        env_or("BENCH_HANDSHAKES", 6000)
    };
    let runs = if smoke { 1 } else { env_or("BENCH_RUNS", 3) };
    let users = MemoryVerifierDb::new();
    users.add("alice", "pw", 2048).expect("user");
    let (plain, routed) =
        one_port_handshakes(&Pki::new(), |server| server.verifier_db(users), count, runs);
    println!(
        "X.509 TLS 1.3 handshakes x{count} (ECDSA P-256, median of {runs}): certificate only \
         {plain:.0}/s, certificate + verifier DB on one port {routed:.0}/s, ratio {:.3}",
        routed / plain
    );
}
