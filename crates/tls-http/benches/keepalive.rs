//! Keep-alive GETs of a small file per second: our agent against plain ureq with its own
//! rustls connector, same server (our `StaticFiles` on `TlsServer`, ECDSA P-256, TLS 1.3),
//! same run, alternating batches so drift hits both alike.
//!
//! `cargo bench -p tls-http --bench keepalive` — `BENCH_REQUESTS` (default 20000) requests per
//! run and client, `BENCH_RUNS` (default 3) runs whose median is reported, `BENCH_BYTES`
//! (default 1024) the file size. Without `--bench` (as `cargo test --all-targets` runs it) it
//! is a smoke run of 1 000 requests. It runs itself on one CPU (see `tls_testkit::bench::ran_on_one_cpu`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tls::ServerAuth;
use tls_testkit::Pki;
use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};

mod site;

const BATCH: u64 = 500;

/// Time spent on `n` GETs of `url`, checking each body's length.
fn time_gets(agent: &ureq::Agent, url: &str, n: u64, size: usize) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        let body = agent
            .get(url)
            .call()
            .unwrap()
            .body_mut()
            .read_to_vec()
            .unwrap();
        assert_eq!(body.len(), size);
    }
    start.elapsed()
}

fn main() {
    if tls_testkit::bench::ran_on_one_cpu() {
        return;
    }
    let (requests, runs, size) = site::settings(1_000);
    let pki = Pki::new();
    let site = site::small_file(&pki, size);
    let url = site.url.clone();

    let ours = tls_http::agent(
        tls_http::config()
            .server_auth(ServerAuth::Roots(pki.roots()))
            .build()
            .unwrap(),
    );
    let root_der = std::fs::read(pki.path("root.pem")).unwrap();
    let roots = rustls_pki_types::pem::PemObject::pem_slice_iter(&root_der)
        .map(
            |der: Result<rustls_pki_types::CertificateDer<'static>, _>| {
                Certificate::from_der(der.unwrap().as_ref()).to_owned()
            },
        )
        .collect();
    let plain = ureq::Agent::config_builder()
        .tls_config(
            TlsConfig::builder()
                .provider(TlsProvider::Rustls)
                .root_certs(RootCerts::Specific(Arc::new(roots)))
                .build(),
        )
        .build()
        .new_agent();

    // Warm both pools and the server.
    time_gets(&ours, &url, 200, size);
    time_gets(&plain, &url, 200, size);

    let mut rates = Vec::new();
    for _ in 0..runs {
        let (mut t_ours, mut t_plain) = (Duration::ZERO, Duration::ZERO);
        let mut done = 0;
        while done < requests {
            let n = BATCH.min(requests - done);
            t_ours += time_gets(&ours, &url, n, size);
            t_plain += time_gets(&plain, &url, n, size);
            done += n;
        }
        let rate = |t: Duration| requests as f64 / t.as_secs_f64();
        rates.push((rate(t_ours), rate(t_plain)));
    }
    let median = |pick: fn(&(f64, f64)) -> f64| {
        let mut v: Vec<f64> = rates.iter().map(pick).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (ours_rate, plain_rate) = (median(|r| r.0), median(|r| r.1));
    println!(
        "keep-alive GET {size} B, {requests} requests x {runs} runs (median), one connection each"
    );
    println!("  tls_http agent:        {ours_rate:>9.0} req/s");
    println!("  ureq + own rustls:     {plain_rate:>9.0} req/s");
    println!("  ratio (ours / ureq):   {:>9.2}", ours_rate / plain_rate);
}
