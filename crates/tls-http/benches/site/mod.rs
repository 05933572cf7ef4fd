//! What the keep-alive benchmarks (and the example's test) share: settings and the site.

mod serve;

pub use serve::serve;
use tls_server::RunningServer;
use tls_testkit::bench::env_or;
use tls_testkit::Pki;

/// Requests per run and client, runs, and the file's size: from the environment, or a smoke
/// run when not started by `cargo bench` (`cargo test --all-targets` runs benches too).
pub fn settings(smoke_requests: u64) -> (u64, u64, usize) {
    let smoke = !std::env::args().any(|a| a == "--bench");
    let requests = match smoke {
        true => smoke_requests,
        false => env_or("BENCH_REQUESTS", 20_000),
    };
    let runs = if smoke { 1 } else { env_or("BENCH_RUNS", 3) };
    (requests, runs, env_or("BENCH_BYTES", 1024) as usize)
}

/// A file of `size` bytes served by `StaticFiles` on the threaded `TlsServer` (a thread per
/// connection serves every client's connection alike), with the PKI's server certificate.
pub struct Site {
    pub url: String,
    _server: RunningServer,
    _root: tempfile::TempDir,
}

pub fn small_file(pki: &Pki, size: usize) -> Site {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("small.bin"), vec![b'x'; size]).unwrap();
    let server = serve(pki, root.path());
    let url = format!("https://localhost:{}/small.bin", server.addr.port());
    Site {
        url,
        _server: server,
        _root: root,
    }
}
