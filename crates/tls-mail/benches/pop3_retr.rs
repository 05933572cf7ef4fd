//! POP3 RETR of a 32 MB message: the tokio client (`AsyncPop3Client::retr_to` into an
//! `AsyncWrite`) against the blocking one (`Pop3Client::retr_to` into a `Write`), same server
//! (a scripted POP3 server on `TlsServer`, ECDSA P-256, TLS 1.3, the message dot-stuffed once
//! and sent in 64 KiB writes), same run, alternating which client goes first.
//!
//! `cargo bench -p tls-mail --features tokio --bench pop3_retr` — `BENCH_MB` (default 32) the
//! message size, `BENCH_RUNS` (default 5) runs whose median is reported. Without `--bench` (as
//! `cargo test --all-targets` runs it) it is a smoke run of 2 MB.

use tls_testkit::scripted;

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use scripted::{rooted, seen, tls_server, x509_server};
use tls_mail::pop3::{AsyncPop3Client, Pop3Builder, Pop3Client};
use tls_testkit::bench::{env_or, median};
use tls_testkit::Pki;

/// The message as it goes on the wire (every 7th line starts with a stuffed dot) and its
/// length once un-stuffed.
fn wire_message(megabytes: u64) -> (Vec<u8>, u64) {
    let (mut wire, mut plain) = (Vec::new(), 0u64);
    let mut i = 0u64;
    while plain < megabytes * 1_000_000 {
        let mut line =
            format!("{}{i:08} ", if i.is_multiple_of(7) { "." } else { "" }).into_bytes();
        line.resize(998, b'x');
        line.extend_from_slice(b"\r\n");
        plain += line.len() as u64;
        if line[0] == b'.' {
            wire.push(b'.');
        }
        wire.extend_from_slice(&line);
        i += 1;
    }
    wire.extend_from_slice(b".\r\n");
    (wire, plain)
}

fn main() {
    let smoke = !std::env::args().any(|a| a == "--bench");
    let megabytes = if smoke { 2 } else { env_or("BENCH_MB", 32) };
    let runs = if smoke { 1 } else { env_or("BENCH_RUNS", 5) };
    let (wire, size) = wire_message(megabytes);
    let wire = Arc::new(wire);

    let pki = Pki::new();
    let server = tls_server(x509_server(&pki), move |tls| {
        tls.write_all(b"+OK ready\r\n")?;
        let seen = seen();
        while let Some(line) = scripted::command(tls, &seen)? {
            match line.as_str() {
                "CAPA" => tls.write_all(b"+OK\r\nUSER\r\n.\r\n")?,
                "RETR 1" => {
                    tls.write_all(b"+OK message follows\r\n")?;
                    for chunk in wire.chunks(64 * 1024) {
                        tls.write_all(chunk)?;
                    }
                }
                "QUIT" => {
                    tls.write_all(b"+OK bye\r\n")?;
                    break;
                }
                _ => tls.write_all(b"+OK\r\n")?,
            }
            tls.flush()?;
        }
        Ok(())
    });
    let port = server.addr.port();
    let builder = Pop3Client::builder(rooted(&pki));
    let async_builder = Pop3Builder::<AsyncPop3Client>::from(builder.clone());
    let rt = tls_testkit::runtime();

    let blocking = || {
        let mut pop = builder.connect("localhost", port).unwrap();
        let start = Instant::now();
        assert_eq!(pop.retr_to(1, &mut std::io::sink()).unwrap(), size);
        let rate = size as f64 / start.elapsed().as_secs_f64() / 1e6;
        pop.quit().unwrap();
        rate
    };
    let tokio = || {
        rt.block_on(async {
            let mut pop = async_builder.connect("localhost", port).await.unwrap();
            let start = Instant::now();
            assert_eq!(pop.retr_to(1, &mut tokio::io::sink()).await.unwrap(), size);
            let rate = size as f64 / start.elapsed().as_secs_f64() / 1e6;
            pop.quit().await.unwrap();
            rate
        })
    };
    let (mut sync_rates, mut async_rates) = (Vec::new(), Vec::new());
    for run in 0..runs {
        if run % 2 == 0 {
            sync_rates.push(blocking());
            async_rates.push(tokio());
        } else {
            async_rates.push(tokio());
            sync_rates.push(blocking());
        }
    }
    let (sync_rate, async_rate) = (median(sync_rates), median(async_rates));
    println!(
        "POP3 RETR of {:.1} MB, median of {runs}:",
        size as f64 / 1e6
    );
    println!("  blocking Pop3Client       {sync_rate:8.1} MB/s");
    println!("  tokio AsyncPop3Client     {async_rate:8.1} MB/s");
    println!("  ratio tokio/blocking      {:8.3}", async_rate / sync_rate);
}
