//! POP3 against scripted servers on tls-server, for what Dovecot cannot show: TLS-SRP, client
//! certificates, servers that drop or talk nonsense, a 1 MiB line streamed, a client that stays
//! in step after a writer fails (or refuses to go on after a half-read reply), and that no
//! credential leaves before TLS. The 33 MB message is in `pop3_memory.rs`.

mod clients;
use tls_testkit::scripted;

use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clients::{ConnectWith, Pop};
use scripted::{lines, plain_server, pop3, rooted, seen, tls_server, x509_server};
use tls::srp::MemoryVerifierDb;
use tls::{ClientConfig, ServerAuth, ServerConfig};
use tls_mail::pop3::{AsyncPop3Client, Error, Pop3Client};
use tls_mail::Security;
use tls_testkit::{on_both_clients, Client};
use tls_testkit::{Pki, TIMEOUT};

on_both_clients!(
    srp_instead_of_certificates,
    client_certificate_over_stls,
    no_credentials_when_the_server_offers_no_stls,
    refused_stls_and_injected_plaintext_are_errors,
    a_server_that_drops_mid_message_is_a_clear_error,
    malformed_replies_are_clear_errors,
    an_endless_line_is_refused_not_buffered_and_breaks_the_client,
    a_listing_over_its_cap_is_refused_and_breaks_the_client,
    a_failing_writer_drains_the_message_and_the_client_stays_usable,
    a_one_mebibyte_line_streams_through_retr,
    arguments_that_would_change_the_command_are_refused,
    a_checker_veto_stops_the_session_before_any_credential,
    a_silent_server_times_out_instead_of_hanging,
);

const MESSAGE: &[u8] = b"Subject: hi\r\n\r\n.dot first\r\n..\r\n.\r\nend\r\n";

/// Greets, then answers every command as a tiny mailbox holding [`MESSAGE`].
fn mailbox_server(config: ServerConfig) -> (tls_server::RunningServer, scripted::Seen) {
    mailbox_server_with(config, vec![MESSAGE.to_vec()])
}

/// Greets, then answers every command as a mailbox holding these messages.
fn mailbox_server_with(
    config: ServerConfig,
    mailbox: Vec<Vec<u8>>,
) -> (tls_server::RunningServer, scripted::Seen) {
    let seen = seen();
    let log = seen.clone();
    let server = tls_server(config, move |tls| {
        tls.write_all(b"+OK ready\r\n")?;
        pop3(tls, &mailbox, &log)
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

fn srp_instead_of_certificates(client: Client) {
    let db = MemoryVerifierDb::new();
    db.add("alice", "correct horse", 2048).unwrap();
    let config = ServerConfig::builder().verifier_db(db).build().unwrap();
    let (server, seen) = mailbox_server(config);
    let tls_config = ClientConfig::builder()
        .srp("alice", "correct horse")
        .build()
        .unwrap();
    let mut pop = Pop3Client::builder(tls_config)
        .timeout(TIMEOUT)
        .connect_with(client, "localhost", server.addr.port())
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
        .connect_with(client, "localhost", server.addr.port())
        .unwrap_err();
    assert!(matches!(err, Error::Tls(_)), "{err}");
}

fn client_certificate_over_stls(client: Client) {
    let pki = Pki::new();
    let config = ServerConfig::builder()
        .cert_chain(pki.server.chain(), pki.server.key())
        .require_client_cert(pki.client_roots())
        .build()
        .unwrap();
    let (server, seen) = stls_server(config);
    let tls_config = ClientConfig::builder()
        .server_auth(ServerAuth::Roots(pki.roots()))
        .client_cert(pki.client.chain(), pki.client.key())
        .build()
        .unwrap();
    let builder = Pop3Client::builder(tls_config)
        .security(Security::StartTls)
        .timeout(TIMEOUT);
    let mut pop = builder
        .connect_with(client, "localhost", server.addr.port())
        .unwrap();
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
        .connect_with(client, "localhost", server.addr.port())
        .unwrap_err();
    assert!(
        matches!(err, Error::Tls(_) | Error::ConnectionClosed),
        "{err}"
    );
}

fn no_credentials_when_the_server_offers_no_stls(client: Client) {
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
        .connect_with(client, "localhost", server.addr.port())
        .unwrap_err();
    assert!(matches!(err, Error::StartTlsNotOffered), "{err}");
    server.shutdown(Duration::from_secs(1)).unwrap();
    assert_eq!(lines(&seen), ["CAPA", "QUIT"]);
}

fn refused_stls_and_injected_plaintext_are_errors(client: Client) {
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
        .connect_with(client, "localhost", server.addr.port())
        .unwrap_err()
    {
        Error::StartTlsRefused(why) => assert_eq!(why, "TLS is broken today"),
        other => panic!("expected StartTlsRefused, got {other}"),
    }
    let err = builder
        .connect_with(client, "localhost", server.addr.port())
        .unwrap_err();
    assert!(matches!(err, Error::PlaintextAfterStartTls), "{err}");
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

fn a_server_that_drops_mid_message_is_a_clear_error(client: Client) {
    let pki = Pki::new();
    for abrupt in [true, false] {
        let server = one_reply_server(
            &pki,
            b"+OK 120 octets\r\nSubject: cut\r\n\r\nhalf a",
            abrupt,
        );
        let mut pop = Pop3Client::builder(rooted(&pki))
            .timeout(TIMEOUT)
            .connect_with(client, "localhost", server.addr.port())
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

fn malformed_replies_are_clear_errors(client: Client) {
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
            .connect_with(client, "localhost", server.addr.port())
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
        .connect_with(client, "localhost", server.addr.port())
        .unwrap();
    assert!(matches!(pop.list().unwrap_err(), Error::Malformed(m) if m.contains("\"x 1\"")));
}

/// Answers CAPA, then the next command with `reply`, then records what else it is sent.
fn listing_server(
    pki: &Pki,
    reply: impl Fn() -> Vec<u8> + Send + Sync + 'static,
) -> (tls_server::RunningServer, scripted::Seen) {
    let seen = seen();
    let log = seen.clone();
    let server = tls_server(x509_server(pki), move |tls| {
        tls.write_all(b"+OK ready\r\n")?;
        scripted::command(tls, &log)?;
        tls.write_all(b"+OK\r\n.\r\n")?;
        scripted::command(tls, &log)?;
        // The client may hang up before it has read all of this.
        let _ = tls.write_all(&reply()).and_then(|()| tls.flush());
        while scripted::command(tls, &log)?.is_some() {
            tls.write_all(b"+OK\r\n")?;
        }
        Ok(())
    });
    (server, seen)
}

/// After an error mid-LIST, the client refuses NOOP, DELE and STAT with `ConnectionBroken` without
/// sending them.
fn assert_broken(mut pop: Pop, server: tls_server::RunningServer, seen: &scripted::Seen) {
    assert!(matches!(pop.noop(), Err(Error::ConnectionBroken)));
    assert!(matches!(pop.dele(1), Err(Error::ConnectionBroken)));
    assert!(matches!(pop.stat(), Err(Error::ConnectionBroken)));
    drop(pop);
    server.shutdown(Duration::from_secs(5)).unwrap();
    assert_eq!(lines(seen), ["CAPA", "LIST"]);
}

fn an_endless_line_is_refused_not_buffered_and_breaks_the_client(client: Client) {
    let pki = Pki::new();
    // 1 MiB without a line end; a client that came back for more would read it as a reply.
    let (server, seen) = listing_server(&pki, || {
        [
            &b"+OK\r\n"[..],
            &vec![b'a'; 1 << 20],
            b"\r\n+OK fooled\r\n.\r\n",
        ]
        .concat()
    });
    let mut pop = Pop3Client::builder(rooted(&pki))
        .timeout(TIMEOUT)
        .max_line_length(4096)
        .connect_with(client, "localhost", server.addr.port())
        .unwrap();
    let err = pop.list().unwrap_err();
    assert!(matches!(err, Error::LineTooLong { max: 4096 }), "{err}");
    assert_broken(pop, server, &seen);
}

fn a_listing_over_its_cap_is_refused_and_breaks_the_client(client: Client) {
    let pki = Pki::new();
    let listing = || {
        let mut reply = b"+OK\r\n".to_vec();
        for n in 1..=1001 {
            reply.extend_from_slice(format!("{n} 100\r\n").as_bytes());
        }
        reply.extend_from_slice(b".\r\n");
        reply
    };
    let builder = Pop3Client::builder(rooted(&pki)).timeout(TIMEOUT);
    // With one more entry allowed, the same listing is fine.
    let (server, seen) = listing_server(&pki, listing);
    let mut pop = builder
        .clone()
        .max_listing(1001)
        .connect_with(client, "localhost", server.addr.port())
        .unwrap();
    assert_eq!(pop.list().unwrap().len(), 1001);
    pop.noop().unwrap();
    drop(pop);
    server.shutdown(Duration::from_secs(5)).unwrap();
    assert_eq!(lines(&seen), ["CAPA", "LIST", "NOOP"]);

    let (server, seen) = listing_server(&pki, listing);
    let mut pop = builder
        .max_listing(1000)
        .connect_with(client, "localhost", server.addr.port())
        .unwrap();
    let err = pop.list().unwrap_err();
    assert!(matches!(err, Error::TooManyLines { max: 1000 }), "{err}");
    assert_broken(pop, server, &seen);
}

/// A writer that takes `left` bytes, then fails.
struct FailAfter {
    left: usize,
    taken: Vec<u8>,
}

impl Write for FailAfter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Err(io::Error::other("disk full"));
        }
        let n = buf.len().min(self.left);
        self.taken.extend_from_slice(&buf[..n]);
        self.left -= n;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn a_failing_writer_drains_the_message_and_the_client_stays_usable(client: Client) {
    let pki = Pki::new();
    // The body's `+OK` and `1 2` lines would pass for replies to the next commands if the
    // client did not read the message to its end.
    let message = b"Subject: x\r\n\r\n+OK 1 2\r\n1 2\r\n.\r\n+OK\r\nend\r\n".to_vec();
    let (server, seen) = mailbox_server_with(x509_server(&pki), vec![message.clone()]);
    let mut pop = Pop3Client::builder(rooted(&pki))
        .timeout(TIMEOUT)
        .connect_with(client, "localhost", server.addr.port())
        .unwrap();
    let mut out = FailAfter {
        left: 5,
        taken: Vec::new(),
    };
    match pop.retr_to(1, &mut out).unwrap_err() {
        Error::Io(e) => assert_eq!(e.to_string(), "disk full"),
        other => panic!("expected the writer's error, got {other}"),
    }
    assert_eq!(out.taken, b"Subje");
    let size = message.len() as u64;
    assert_eq!(pop.stat().unwrap(), tls_mail::pop3::Stat { count: 1, size });
    assert_eq!(
        pop.list().unwrap(),
        [tls_mail::pop3::ListEntry { number: 1, size }]
    );
    assert_eq!(pop.retr(1).unwrap(), message);
    pop.quit().unwrap();
    assert_eq!(
        lines(&seen),
        ["CAPA", "RETR 1", "STAT", "LIST", "RETR 1", "QUIT"]
    );
}

fn a_one_mebibyte_line_streams_through_retr(client: Client) {
    let pki = Pki::new();
    // A long line that starts with a dot (stuffed on the wire), then a short one.
    let mut message = b"Subject: long\r\n\r\n.".to_vec();
    message.extend((0..1 << 20).map(|i| b'a' + (i % 26) as u8));
    message.extend_from_slice(b"\r\n..\r\nend\r\n");
    let (server, _) = mailbox_server_with(x509_server(&pki), vec![message.clone()]);
    let mut pop = Pop3Client::builder(rooted(&pki))
        .timeout(TIMEOUT)
        .connect_with(client, "localhost", server.addr.port())
        .unwrap();
    let mut out = Vec::new();
    let written = pop.retr_to(1, &mut out).unwrap();
    assert_eq!(written, message.len() as u64);
    assert!(out == message, "the message came back changed");
    // And the connection is in step for the next command.
    assert_eq!(pop.stat().unwrap().count, 1);
    pop.quit().unwrap();
}

fn arguments_that_would_change_the_command_are_refused(client: Client) {
    let pki = Pki::new();
    let (server, seen) = mailbox_server(x509_server(&pki));
    let mut pop = Pop3Client::builder(rooted(&pki))
        .timeout(TIMEOUT)
        .connect_with(client, "localhost", server.addr.port())
        .unwrap();
    let refused = |r: Result<(), Error>, what: &str| match r {
        Err(Error::InvalidArgument(w)) => assert_eq!(w, what),
        other => panic!("expected InvalidArgument({what}), got {other:?}"),
    };
    refused(pop.login("al ice", "pw"), "user");
    refused(pop.login("alice\r\nDELE 1", "pw"), "user");
    refused(pop.login("", "pw"), "user");
    refused(pop.auth_plain("alice\0admin", "pw"), "user");
    refused(pop.auth_plain("alice", "p\0w"), "password");
    refused(pop.login("alice", "pw\nDELE 1"), "password");
    // A space in a password is fine: PASS takes the rest of the line.
    pop.login("alice", "pass word").unwrap();
    pop.quit().unwrap();
    assert_eq!(
        lines(&seen),
        ["CAPA", "USER alice", "PASS pass word", "QUIT"]
    );
}

fn a_checker_veto_stops_the_session_before_any_credential(client: Client) {
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
            .connect_with(client, "localhost", server.addr.port())
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

fn a_silent_server_times_out_instead_of_hanging(client: Client) {
    let pki = Pki::new();
    let server = tls_server(x509_server(&pki), |tls| {
        // Says nothing until the client gives up and closes.
        let _ = scripted::command(tls, &seen());
        Ok(())
    });
    let started = std::time::Instant::now();
    let err = Pop3Client::builder(rooted(&pki))
        .timeout(Duration::from_millis(300))
        .connect_with(client, "localhost", server.addr.port())
        .unwrap_err();
    assert!(
        matches!(&err, Error::Io(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// A tokio RETR dropped before the message ended (a timeout around it) leaves the rest of the
/// message on its way: the client must refuse later commands rather than read it as replies.
#[test]
fn a_cancelled_async_retr_breaks_the_client() {
    let pki = Pki::new();
    let server = tls_server(x509_server(&pki), |tls| {
        tls.write_all(b"+OK ready\r\n")?;
        let log = seen();
        while let Some(line) = scripted::command(tls, &log)? {
            match line.as_str() {
                "CAPA" => tls.write_all(b"+OK\r\nUSER\r\n.\r\n")?,
                "RETR 1" => {
                    tls.write_all(b"+OK\r\nfirst line\r\n")?;
                    tls.flush()?;
                    std::thread::sleep(Duration::from_millis(600));
                    tls.write_all(b"+OK looks like a reply\r\n.\r\n")?;
                }
                _ => tls.write_all(b"+OK\r\n")?,
            }
            tls.flush()?;
        }
        Ok(())
    });
    tls_testkit::block_on(async {
        let mut pop = AsyncPop3Client::builder(rooted(&pki))
            .timeout(TIMEOUT)
            .connect("localhost", server.addr.port())
            .await
            .unwrap();
        let cut = tokio::time::timeout(Duration::from_millis(100), pop.retr(1)).await;
        assert!(cut.is_err(), "the RETR should still wait for the rest");
        assert!(matches!(pop.noop().await, Err(Error::ConnectionBroken)));
    });
}
