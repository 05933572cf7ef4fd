//! POP3 against scripted servers on tls-server, for what Dovecot cannot show: TLS-SRP, client
//! certificates, servers that drop or talk nonsense, a large message streamed, and that no
//! credential leaves before TLS.

mod scripted;

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use scripted::{lines, plain_server, pop3, seen, tls_server};
use tls::srp::MemoryVerifierDb;
use tls::{ClientConfig, ServerAuth, ServerConfig};
use tls_mail::pop3::{Error, Pop3Client};
use tls_mail::Security;
use tls_testkit::{Pki, TIMEOUT};

const MESSAGE: &[u8] = b"Subject: hi\r\n\r\n.dot first\r\n..\r\n.\r\nend\r\n";

fn x509_server(pki: &Pki) -> ServerConfig {
    ServerConfig::builder()
        .cert_chain(pki.server.chain(), pki.server.key())
        .build()
        .unwrap()
}

fn rooted(pki: &Pki) -> ClientConfig {
    ClientConfig::builder()
        .server_auth(ServerAuth::Roots(pki.roots()))
        .build()
        .unwrap()
}

/// Greets, then answers every command as a tiny mailbox holding [`MESSAGE`].
fn mailbox_server(config: ServerConfig) -> (tls_server::RunningServer, scripted::Seen) {
    let seen = seen();
    let log = seen.clone();
    let server = tls_server(config, move |tls| {
        tls.write_all(b"+OK ready\r\n")?;
        pop3(tls, &[MESSAGE.to_vec()], &log)
    });
    (server, seen)
}

/// Greets over plaintext, offers STLS in CAPA, upgrades, then serves [`MESSAGE`].
fn stls_server(config: ServerConfig) -> (tls_server::RunningServer, scripted::Seen) {
    let seen = seen();
    let log = seen.clone();
    let server = plain_server(config, move |mut conn| {
        conn.write_all(b"+OK plain ready\r\n")?;
        loop {
            match scripted::command(&mut conn, &log)?.as_deref() {
                Some("CAPA") => conn.write_all(b"+OK\r\nSTLS\r\nUSER\r\n.\r\n")?,
                Some("STLS") => break,
                Some(_) => conn.write_all(b"-ERR say STLS first\r\n")?,
                None => return Ok(()),
            }
        }
        conn.write_all(b"+OK begin TLS\r\n")?;
        let mut tls = conn.starttls()?;
        pop3(&mut tls, &[MESSAGE.to_vec()], &log)
    });
    (server, seen)
}

#[test]
fn srp_instead_of_certificates() {
    let db = MemoryVerifierDb::new();
    db.add("alice", "correct horse", 2048).unwrap();
    let config = ServerConfig::builder().verifier_db(db).build().unwrap();
    let (server, seen) = mailbox_server(config);
    let client = ClientConfig::builder()
        .srp("alice", "correct horse")
        .build()
        .unwrap();
    let mut pop = Pop3Client::builder(client)
        .timeout(TIMEOUT)
        .connect("localhost", server.addr.port())
        .unwrap();
    assert_eq!(pop.tls_session().srp_username(), Some("alice"));
    pop.login("alice", "pop-password").unwrap();
    assert_eq!(pop.retr(1).unwrap(), MESSAGE);
    pop.quit().unwrap();
    assert_eq!(
        lines(&seen),
        ["CAPA", "USER alice", "PASS pop-password", "RETR 1", "QUIT"]
    );

    let wrong = ClientConfig::builder()
        .srp("alice", "wrong")
        .build()
        .unwrap();
    let err = Pop3Client::builder(wrong)
        .timeout(TIMEOUT)
        .connect("localhost", server.addr.port())
        .unwrap_err();
    assert!(matches!(err, Error::Tls(_)), "{err}");
}

#[test]
fn client_certificate_over_stls() {
    let pki = Pki::new();
    let config = ServerConfig::builder()
        .cert_chain(pki.server.chain(), pki.server.key())
        .require_client_cert(pki.client_roots())
        .build()
        .unwrap();
    let (server, seen) = stls_server(config);
    let client = ClientConfig::builder()
        .server_auth(ServerAuth::Roots(pki.roots()))
        .client_cert(pki.client.chain(), pki.client.key())
        .build()
        .unwrap();
    let builder = Pop3Client::builder(client)
        .security(Security::StartTls)
        .timeout(TIMEOUT);
    let mut pop = builder.connect("localhost", server.addr.port()).unwrap();
    assert_eq!(pop.greeting(), "plain ready");
    assert!(pop.has_capability("USER"));
    pop.login("alice", "pw").unwrap();
    assert_eq!(pop.stat().unwrap().count, 1);
    assert_eq!(pop.retr(1).unwrap(), MESSAGE);
    pop.quit().unwrap();
    assert_eq!(
        lines(&seen),
        [
            "CAPA",
            "STLS",
            "CAPA",
            "USER alice",
            "PASS pw",
            "STAT",
            "RETR 1",
            "QUIT"
        ]
    );

    // Without the certificate the server ends the handshake.
    let err = Pop3Client::builder(rooted(&pki))
        .security(Security::StartTls)
        .timeout(TIMEOUT)
        .connect("localhost", server.addr.port())
        .unwrap_err();
    assert!(
        matches!(err, Error::Tls(_) | Error::ConnectionClosed),
        "{err}"
    );
}

#[test]
fn no_credentials_when_the_server_offers_no_stls() {
    let pki = Pki::new();
    let seen = seen();
    let log = seen.clone();
    let server = plain_server(x509_server(&pki), move |mut conn| {
        conn.write_all(b"+OK plain only\r\n")?;
        pop3(&mut conn, &[], &log)
    });
    let err = Pop3Client::builder(rooted(&pki))
        .security(Security::StartTls)
        .timeout(TIMEOUT)
        .connect("localhost", server.addr.port())
        .unwrap_err();
    assert!(matches!(err, Error::StlsUnavailable(_)), "{err}");
    server.shutdown(Duration::from_secs(1)).unwrap();
    assert_eq!(lines(&seen), ["CAPA", "QUIT"]);
}

#[test]
fn refused_stls_and_injected_plaintext_are_errors() {
    let pki = Pki::new();
    let seen = seen();
    let log = seen.clone();
    // No CAPA at all, so the client tries STLS blind; the first connection gets -ERR, the
    // second +OK with a forged reply in the same packet.
    let count = Arc::new(Mutex::new(0));
    let server = plain_server(x509_server(&pki), move |mut conn| {
        conn.write_all(b"+OK hi\r\n")?;
        let mut count = count.lock().unwrap();
        *count += 1;
        while let Some(line) = scripted::command(&mut conn, &log)? {
            match (line.as_str(), *count) {
                ("STLS", 1) => conn.write_all(b"-ERR TLS is broken today\r\n")?,
                ("STLS", _) => conn.write_all(b"+OK go\r\n+OK injected\r\n")?,
                _ => conn.write_all(b"-ERR unknown\r\n")?,
            }
        }
        Ok(())
    });
    let builder = Pop3Client::builder(rooted(&pki))
        .security(Security::StartTls)
        .timeout(TIMEOUT);
    match builder
        .connect("localhost", server.addr.port())
        .unwrap_err()
    {
        Error::StlsUnavailable(why) => assert_eq!(why, "TLS is broken today"),
        other => panic!("expected StlsUnavailable, got {other}"),
    }
    let err = builder
        .connect("localhost", server.addr.port())
        .unwrap_err();
    assert!(matches!(err, Error::PlaintextAfterStls), "{err}");
    server.shutdown(Duration::from_secs(1)).unwrap();
    assert!(
        lines(&seen).iter().all(|l| l == "CAPA" || l == "STLS"),
        "{:?}",
        lines(&seen)
    );
}

/// A server that answers CAPA, then replies to the next command with `reply` and hangs up
/// (without close_notify when `abrupt`).
fn one_reply_server(pki: &Pki, reply: &'static [u8], abrupt: bool) -> tls_server::RunningServer {
    tls_server(x509_server(pki), move |tls| {
        tls.write_all(b"+OK ready\r\n")?;
        let log = seen();
        scripted::command(tls, &log)?;
        tls.write_all(b"+OK\r\n.\r\n")?;
        scripted::command(tls, &log)?;
        tls.write_all(reply)?;
        tls.flush()?;
        if abrupt {
            return Err(io::Error::other("dropping the client mid-reply"));
        }
        Ok(())
    })
}

#[test]
fn a_server_that_drops_mid_message_is_a_clear_error() {
    let pki = Pki::new();
    for abrupt in [true, false] {
        let server = one_reply_server(
            &pki,
            b"+OK 120 octets\r\nSubject: cut\r\n\r\nhalf a",
            abrupt,
        );
        let mut pop = Pop3Client::builder(rooted(&pki))
            .timeout(TIMEOUT)
            .connect("localhost", server.addr.port())
            .unwrap();
        let mut out = Vec::new();
        let err = pop.retr_to(1, &mut out).unwrap_err();
        assert!(matches!(err, Error::ConnectionClosed), "{err}");
        assert_eq!(
            out, b"Subject: cut\r\n\r\n",
            "only whole lines reach the writer"
        );
    }
}

#[test]
fn malformed_replies_are_clear_errors() {
    let pki = Pki::new();
    let cases: [(&[u8], &str); 3] = [
        (b"hello there\r\n", "status line"),
        (b"+OK two\r\n", "STAT reply"),
        (b"+OK many\r\n", "LIST"),
    ];
    for (reply, what) in cases {
        let server = one_reply_server(&pki, reply, false);
        let mut pop = Pop3Client::builder(rooted(&pki))
            .timeout(TIMEOUT)
            .connect("localhost", server.addr.port())
            .unwrap();
        let err = if what == "LIST" {
            pop.list_one(1).unwrap_err()
        } else {
            pop.stat().unwrap_err()
        };
        match err {
            Error::Malformed(m) => assert!(m.contains(what), "{m}"),
            other => panic!("expected Malformed for {what}, got {other}"),
        }
    }
    let server = one_reply_server(&pki, b"+OK\r\nx 1\r\n.\r\n", false);
    let mut pop = Pop3Client::builder(rooted(&pki))
        .timeout(TIMEOUT)
        .connect("localhost", server.addr.port())
        .unwrap();
    assert!(matches!(pop.list().unwrap_err(), Error::Malformed(m) if m.contains("\"x 1\"")));
}

#[test]
fn an_endless_line_is_refused_not_buffered() {
    let pki = Pki::new();
    let server = tls_server(x509_server(&pki), |tls| {
        tls.write_all(b"+OK ready\r\n")?;
        scripted::command(tls, &seen())?;
        tls.write_all(b"+OK\r\n.\r\n")?;
        scripted::command(tls, &seen())?;
        tls.write_all(b"+OK\r\n")?;
        // 1 MiB without a line end, then the server waits for the client to give up.
        let _ = tls.write_all(&vec![b'a'; 1 << 20]);
        let _ = tls.flush();
        Ok(())
    });
    let mut pop = Pop3Client::builder(rooted(&pki))
        .timeout(TIMEOUT)
        .max_line_length(4096)
        .connect("localhost", server.addr.port())
        .unwrap();
    let err = pop.retr(1).unwrap_err();
    assert!(matches!(err, Error::LineTooLong { max: 4096 }), "{err}");
}

/// Line `i` of the large message: 1000 bytes, some lines starting with dots.
fn big_line(i: usize) -> Vec<u8> {
    let mut line = format!("{}{i:08} ", if i % 7 == 0 { "." } else { "" }).into_bytes();
    line.resize(998, b'x' + (i % 3) as u8);
    line.extend_from_slice(b"\r\n");
    line
}

const BIG_LINES: usize = 32 * 1024; // 32 MiB (1000-byte lines)

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
        .connect("localhost", server.addr.port())
        .unwrap();
    let mut sink = Sink {
        bytes: 0,
        hash: 0xcbf2_9ce4_8422_2325,
        arrived: Some(tx),
    };
    let written = pop.retr_to(1, &mut sink).unwrap();
    assert!(
        streamed.load(Ordering::SeqCst),
        "the writer saw nothing before the end"
    );
    assert_eq!(written, (BIG_LINES * 1000) as u64);
    assert_eq!((sink.bytes, sink.hash), (expected.bytes, expected.hash));
    // The whole test process, server included, never held the message: its peak resident
    // size stays well under the message's 32 MiB (about 7 MiB here).
    if let Some(peak) = peak_rss_kib() {
        assert!(peak < 24 * 1024, "peak RSS {peak} KiB");
    }
}

/// The process's peak resident set size (Linux's VmHWM), if known.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn a_checker_veto_stops_the_session_before_any_credential() {
    let pki = Pki::new();
    let (server, seen) = stls_server(x509_server(&pki));
    let leaf = pki.server.fingerprint(tls::FingerprintAlgorithm::Sha256);
    let checked = |checker: tls::Checker| {
        let config = ClientConfig::builder()
            .server_auth(ServerAuth::Roots(pki.roots()))
            .checker(checker)
            .build()
            .unwrap();
        Pop3Client::builder(config)
            .security(Security::StartTls)
            .timeout(TIMEOUT)
            .connect("localhost", server.addr.port())
    };
    let err = checked(tls::Checker::new().custom(|_| Err("not this server".into()))).unwrap_err();
    assert!(
        matches!(err, Error::Tls(tls::Error::Authentication(_))),
        "{err}"
    );
    let mut pop = checked(tls::Checker::new().x509_fingerprint(leaf)).unwrap();
    pop.login("alice", "pw").unwrap();
    pop.quit().unwrap();
    server.shutdown(Duration::from_secs(1)).unwrap();
    // The vetoed connection got as far as STLS and no further.
    assert_eq!(
        lines(&seen),
        [
            "CAPA",
            "STLS",
            "CAPA",
            "STLS",
            "CAPA",
            "USER alice",
            "PASS pw",
            "QUIT"
        ]
    );
}

#[test]
fn a_silent_server_times_out_instead_of_hanging() {
    let pki = Pki::new();
    let server = tls_server(x509_server(&pki), |tls| {
        // Says nothing until the client gives up and closes.
        let _ = scripted::command(tls, &seen());
        Ok(())
    });
    let started = std::time::Instant::now();
    let err = Pop3Client::builder(rooted(&pki))
        .timeout(Duration::from_millis(300))
        .connect("localhost", server.addr.port())
        .unwrap_err();
    assert!(
        matches!(&err, Error::Io(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}
