//! What the benchmarks share: their settings from the environment, medians, and the blocking
//! handshake loop they compare against.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Instant;

/// The number in environment variable `name`, or `default`.
pub fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The median of some measurements.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Handshakes per second of our blocking client against our blocking server, one after
/// another over loopback, each with a one-byte exchange and close_notify.
pub fn blocking_handshakes(
    server: &tls::ServerConfig,
    client: &tls::ClientConfig,
    count: u64,
) -> f64 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = server.clone();
    let acceptor = thread::spawn(move || {
        for _ in 0..count {
            let (tcp, _) = listener.accept().expect("accept");
            tcp.set_nodelay(true).expect("nodelay");
            let mut tls = server.accept(tcp).expect("handshake");
            let mut byte = [0u8; 1];
            tls.read_exact(&mut byte).expect("read");
            tls.write_all(&byte).expect("write");
            tls.close().expect("close");
        }
    });
    let started = Instant::now();
    for _ in 0..count {
        exchange(client, addr);
    }
    acceptor.join().expect("acceptor");
    count as f64 / started.elapsed().as_secs_f64()
}

/// Our client's side of one benchmark connection: handshake, one byte each way (which also
/// delivers a TLS 1.3 ticket). Returns the session.
pub fn exchange(client: &tls::ClientConfig, addr: std::net::SocketAddr) -> tls::Session {
    let tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_nodelay(true).expect("nodelay");
    let mut tls = client.connect("localhost", tcp).expect("handshake");
    tls.write_all(b"x").expect("write");
    let mut byte = [0u8; 1];
    tls.read_exact(&mut byte).expect("read");
    tls.session().clone()
}

/// Runs this bench again on CPU 0 unless it already runs there; `true` when it did (and the
/// caller should stop). Spread over two CPUs, a connection's figure depended on
/// whether its server thread happened to share the client's CPU (same-CPU wakeups are cheap,
/// cross-CPU ones dear on this VM): runs swung from 0.2x to 5x whichever client was measured (HTTPS keep-alive).
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
