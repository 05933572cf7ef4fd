//! Opens N TLS connections to a server and holds them idle, to measure what an idle
//! connection costs the server: `cargo run --release --example idle_connections -- N HOST:PORT
//! [IDENTITY HEXKEY]`: pinning the certificate the server shows, or with that pre-shared key.
//! Prints `ready N` once every handshake is done, then waits for stdin to close.

use std::io::{BufRead, Write};
use std::net::TcpStream;
use std::thread;

/// Handshakes run from this many threads, so thousands finish well within a server's
/// request-head deadline.
const THREADS: usize = 8;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: idle_connections N HOST:PORT [IDENTITY HEXKEY]";
    let count: usize = args.next().ok_or(usage)?.parse()?;
    let target = args.next().ok_or(usage)?;
    let host = target.rsplit_once(':').ok_or(usage)?.0.to_owned();
    let config = match (args.next(), args.next()) {
        (Some(identity), Some(key)) => {
            let key = tls::psk::decode_hex(&key)?;
            tls::ClientConfig::builder()
                .psk(tls::psk::ExternalPsk::new(identity, key)?)
                .build()?
        }
        (None, None) => {
            // Measuring a server we started ourselves: learn its certificate, then pin it.
            let tcp = TcpStream::connect(&target)?;
            let session = tls::dangerous::probe(&host, tcp, &Default::default())?;
            let pin = session.peer_fingerprint_sha256().ok_or("no certificate")?;
            tls::ClientConfig::builder()
                .server_auth(tls::ServerAuth::Fingerprint(pin))
                .build()?
        }
        _ => return Err(usage.into()),
    };
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (config, target, host) = (config.clone(), target.clone(), host.clone());
            let share = count / THREADS + usize::from(t < count % THREADS);
            thread::spawn(move || {
                (0..share)
                    .map(|i| {
                        let tcp = TcpStream::connect(&target).map_err(|e| e.to_string())?;
                        config
                            .connect(&host, tcp)
                            .map_err(|e| format!("connection {i} of thread {t}: {e}"))
                    })
                    .collect::<Result<Vec<_>, String>>()
            })
        })
        .collect();
    let mut held = Vec::with_capacity(count);
    for worker in workers {
        held.extend(worker.join().map_err(|_| "a thread panicked")??);
    }
    println!("ready {}", held.len());
    std::io::stdout().flush()?;
    for _ in std::io::stdin().lock().lines() {}
    Ok(())
}
