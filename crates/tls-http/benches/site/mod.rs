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

/// Runs this bench again on CPU 0 unless it already runs there; `true` when it did (and the
/// caller should stop). Spread over two CPUs, a keep-alive connection's figure depended on
/// whether its server thread happened to share the client's CPU (same-CPU wakeups are cheap,
/// cross-CPU ones dear on this VM): runs swung from 0.2x to 5x whichever client was measured.
/// On one CPU both clients pay the same scheduling, and the ratio compares their work.
pub fn ran_on_one_cpu() -> bool {
    if std::env::var_os("BENCH_ONE_CPU").is_some() {
        return false;
    }
    let exe = std::env::current_exe().expect("own path");
    let status = std::process::Command::new("taskset")
        .args(["-c", "0"])
        .arg(exe)
        .args(std::env::args_os().skip(1))
        .env("BENCH_ONE_CPU", "1")
        .status();
    match status {
        Ok(status) if status.success() => true,
        Ok(status) => std::process::exit(status.code().unwrap_or(1)),
        Err(e) => {
            eprintln!("taskset unavailable ({e}): running on every CPU, figures will swing");
            false
        }
    }
}
