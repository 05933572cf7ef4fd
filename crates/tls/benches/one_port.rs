//! What one port for every client costs an X.509 client: full TLS 1.3 handshakes per second
//! against a certificate-only server and against the same certificate with a verifier database
//! (the ClientHello read and routed first), alternating batches, same run.
//!
//! `cargo bench -p tls --bench one_port` — `BENCH_HANDSHAKES` (default 6000), `BENCH_RUNS` (3).

use tls::srp::MemoryVerifierDb;
use tls::{ClientConfig, ServerAuth, ServerConfig};
use tls_testkit::bench::{blocking_handshakes, env_or, median};
use tls_testkit::Pki;

fn main() {
    let smoke = !std::env::args().any(|a| a == "--bench");
    let count = if smoke {
        20
    } else {
        env_or("BENCH_HANDSHAKES", 6000)
    };
    let runs = if smoke { 1 } else { env_or("BENCH_RUNS", 3) };
    let pki = Pki::new();
    let cert_only = ServerConfig::builder()
        .cert_chain(pki.server.chain(), pki.server.key())
        .session_cache(None)
        .tickets(false)
        .build()
        .expect("cert-only server");
    let users = MemoryVerifierDb::new();
    users.add("alice", "pw", 2048).expect("user");
    let one_port = ServerConfig::builder()
        .cert_chain(pki.server.chain(), pki.server.key())
        .verifier_db(users)
        .session_cache(None)
        .tickets(false)
        .build()
        .expect("one-port server");
    let client = ClientConfig::builder()
        .server_auth(ServerAuth::Roots(pki.roots()))
        .no_resumption()
        .build()
        .expect("client");
    let (mut plain, mut routed) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let (mut plain_secs, mut routed_secs) = (0.0, 0.0);
        for _ in 0..count.div_ceil(100) {
            let batch = count.min(100);
            plain_secs += batch as f64 / blocking_handshakes(&cert_only, &client, batch);
            routed_secs += batch as f64 / blocking_handshakes(&one_port, &client, batch);
        }
        let done = (count.div_ceil(100) * count.min(100)) as f64;
        plain.push(done / plain_secs);
        routed.push(done / routed_secs);
    }
    let (plain, routed) = (median(plain), median(routed));
    println!(
        "X.509 TLS 1.3 handshakes x{count} (ECDSA P-256, median of {runs}): certificate only \
         {plain:.0}/s, certificate + verifier DB on one port {routed:.0}/s, ratio {:.3}",
        routed / plain
    );
}
