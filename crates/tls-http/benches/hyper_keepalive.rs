//! Async keep-alive GETs of a small file per second through hyper-util's legacy `Client`: our
//! connector against hyper-rustls with its own rustls configuration, same server (our
//! `StaticFiles` on the threaded `TlsServer`, ECDSA P-256, TLS 1.3, HTTP/1.1), same run, alternating
//! batches so drift hits both alike. The clients run on one current-thread runtime.
//!
//! `cargo bench -p tls-http --features hyper --bench hyper_keepalive` — `BENCH_REQUESTS`
//! (default 20000) per run and client, `BENCH_RUNS` (default 3), `BENCH_BYTES` (default 1024).
//! It runs itself on one CPU (see `tls_testkit::bench::ran_on_one_cpu`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::Connect;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tls::ServerAuth;
use tls_testkit::bench::median;
use tls_testkit::Pki;

mod site;

const BATCH: u64 = 500;

/// Time spent on `n` GETs of `url`, checking each body's length.
async fn time_gets<C>(
    client: &Client<C, Empty<Bytes>>,
    url: &hyper::Uri,
    n: u64,
    size: usize,
) -> Duration
where
    C: Connect + Clone + Send + Sync + 'static,
{
    let started = Instant::now();
    for _ in 0..n {
        let response = client.get(url.clone()).await.expect("response");
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        assert_eq!(body.len(), size);
    }
    started.elapsed()
}

fn main() {
    if tls_testkit::bench::ran_on_one_cpu() {
        return;
    }
    let (requests, runs, size) = site::settings(500);
    let pki = Pki::new();
    let site = site::small_file(&pki, size);
    let url: hyper::Uri = site.url.parse().unwrap();

    let ours =
        Client::builder(TokioExecutor::new()).build(tls_http::hyper_client::HttpsConnector::new(
            tls_http::config()
                .server_auth(ServerAuth::Roots(pki.roots()))
                .build()
                .unwrap(),
        ));
    let root_pem = std::fs::read(pki.path("root.pem")).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for der in rustls_pki_types::pem::PemObject::pem_slice_iter(&root_pem) {
        let der: rustls_pki_types::CertificateDer<'static> = der.unwrap();
        roots.add(der).unwrap();
    }
    let rustls_config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    // The same TCP settings as our connector's (TCP_NODELAY on), so only TLS differs.
    let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    let theirs = Client::builder(TokioExecutor::new()).build(
        hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(rustls_config)
            .https_only()
            .enable_http1()
            .wrap_connector(http),
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (ours_rate, theirs_rate) = runtime.block_on(async {
        // Warm both pools and the server.
        time_gets(&ours, &url, 200, size).await;
        time_gets(&theirs, &url, 200, size).await;
        let (mut ours_rates, mut theirs_rates) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let (mut t_ours, mut t_theirs) = (Duration::ZERO, Duration::ZERO);
            let mut done = 0;
            while done < requests {
                let n = BATCH.min(requests - done);
                t_ours += time_gets(&ours, &url, n, size).await;
                t_theirs += time_gets(&theirs, &url, n, size).await;
                done += n;
            }
            ours_rates.push(requests as f64 / t_ours.as_secs_f64());
            theirs_rates.push(requests as f64 / t_theirs.as_secs_f64());
        }
        (median(ours_rates), median(theirs_rates))
    });
    println!(
        "hyper keep-alive GET {size} B, {requests} requests x {runs} runs (median), one connection each"
    );
    println!("  our connector:           {ours_rate:>9.0} req/s");
    println!("  hyper-rustls:            {theirs_rate:>9.0} req/s");
    println!(
        "  ratio (ours / theirs):   {:>9.3}",
        ours_rate / theirs_rate
    );
}
