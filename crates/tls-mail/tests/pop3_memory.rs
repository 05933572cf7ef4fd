//! A 32.8 MB (31 MiB) message through RETR, with each client in turn: it reaches the writer
//! while it arrives, and the process never holds it. Alone in its test binary, so the process's
//! peak memory is this test's.

mod clients;
use tls_testkit::scripted;

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use clients::ConnectWith;
use scripted::{rooted, seen, tls_server, x509_server};
use tls_mail::pop3::Pop3Client;
use tls_testkit::Client;
use tls_testkit::{Pki, TIMEOUT};

/// Line `i` of the large message: 1000 bytes, some lines starting with dots.
fn big_line(i: usize) -> Vec<u8> {
    let mut line = format!("{}{i:08} ", if i.is_multiple_of(7) { "." } else { "" }).into_bytes();
    line.resize(998, b'x' + (i % 3) as u8);
    line.extend_from_slice(b"\r\n");
    line
}

const BIG_LINES: usize = 32 * 1024; // 32.8 MB in 1000-byte lines

/// Counts and hashes what it is given, holding none of it, and says when 1 MiB has arrived.
struct Sink {
    bytes: u64,
    hash: u64,
    arrived: Option<mpsc::Sender<()>>,
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        for &b in buf {
            self.hash = (self.hash ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
        self.bytes += buf.len() as u64;
        if self.bytes >= 1 << 20 {
            if let Some(tx) = self.arrived.take() {
                let _ = tx.send(());
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_large_message_streams_to_the_writer_while_it_arrives() {
    // One client after the other, so that the peak is the larger of the two, not their sum.
    for client in Client::BOTH {
        streams_in_bounded_memory(client);
    }
}

fn streams_in_bounded_memory(client: Client) {
    let pki = Pki::new();
    let (tx, rx) = mpsc::channel::<()>();
    let rx = Mutex::new(rx);
    let streamed = Arc::new(AtomicBool::new(false));
    let flag = streamed.clone();
    let server = tls_server(x509_server(&pki), move |tls| {
        tls.write_all(b"+OK ready\r\n")?;
        scripted::command(tls, &seen())?;
        tls.write_all(b"+OK\r\n.\r\n")?;
        scripted::command(tls, &seen())?;
        tls.write_all(b"+OK big\r\n")?;
        for i in 0..BIG_LINES {
            if i == 4 * 1024 {
                // The client has 4 MiB; the rest waits until its writer has seen 1 MiB.
                tls.flush()?;
                let heard = rx.lock().unwrap().recv_timeout(Duration::from_secs(10));
                flag.store(heard.is_ok(), Ordering::SeqCst);
            }
            let line = big_line(i);
            if line[0] == b'.' {
                tls.write_all(b".")?;
            }
            tls.write_all(&line)?;
        }
        tls.write_all(b".\r\n")
    });
    let mut expected = Sink {
        bytes: 0,
        hash: 0xcbf2_9ce4_8422_2325,
        arrived: None,
    };
    for i in 0..BIG_LINES {
        expected.write_all(&big_line(i)).unwrap();
    }
    let mut pop = Pop3Client::builder(rooted(&pki))
        .timeout(TIMEOUT)
        .connect_with(client, "localhost", server.addr.port())
        .unwrap();
    let mut sink = Sink {
        bytes: 0,
        hash: 0xcbf2_9ce4_8422_2325,
        arrived: Some(tx),
    };
    let started = std::time::Instant::now();
    let written = pop.retr_to(1, &mut sink).unwrap();
    let took = started.elapsed();
    assert!(
        streamed.load(Ordering::SeqCst),
        "the writer saw nothing before the end"
    );
    assert_eq!(written, (BIG_LINES * 1000) as u64);
    assert_eq!((sink.bytes, sink.hash), (expected.bytes, expected.hash));
    // The whole test process, server included, never held the message: its peak resident
    // size stays well under the message's 31 MiB (about 6 MiB here). This is the only test in
    // this binary, so no other test's memory counts.
    let peak = peak_rss_kib().expect("VmHWM in /proc/self/status");
    eprintln!(
        "{client:?}: RETR of {:.1} MB streamed in {:.2} s; peak RSS of the test process {peak} KiB",
        written as f64 / 1e6,
        took.as_secs_f64()
    );
    assert!(peak < 24 * 1024, "peak RSS {peak} KiB");
}

/// The process's peak resident set size (Linux's VmHWM), if known.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
