//! Opens N TLS connections to a server and holds them idle, to measure what an idle
//! connection costs the server: `cargo run --release --example idle_connections -- N HOST:PORT`.
//! Prints `ready N` once every handshake is done, then waits for stdin to close.

use std::io::{BufRead, Write};
use std::net::TcpStream;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: idle_connections N HOST:PORT";
    let count: usize = args.next().ok_or(usage)?.parse()?;
    let target = args.next().ok_or(usage)?;
    let host = target.rsplit_once(':').ok_or(usage)?.0.to_owned();
    // Measuring a server we started ourselves: learn its certificate, then pin it.
    let session = tls::dangerous::probe(&host, TcpStream::connect(&target)?, &Default::default())?;
    let pin = session.peer_fingerprint_sha256().ok_or("no certificate")?;
    let config = tls::ClientConfig::builder()
        .server_auth(tls::ServerAuth::Fingerprint(pin))
        .build()?;
    let mut held = Vec::with_capacity(count);
    for i in 0..count {
        let tcp = TcpStream::connect(&target)?;
        let tls = config
            .connect(&host, tcp)
            .map_err(|e| format!("connection {i}: {e}"))?;
        held.push(tls);
    }
    println!("ready {}", held.len());
    std::io::stdout().flush()?;
    for _ in std::io::stdin().lock().lines() {}
    Ok(())
}
