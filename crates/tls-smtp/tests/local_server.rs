//! `SmtpTls` against our own SMTP test server (tls-server with STARTTLS), in every auth mode.

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::time::Duration;

use lettre::message::header::ContentTransferEncoding;
use lettre::message::Body;
use lettre::Message;
use tls::{
    AuthenticationError, Checker, ClientConfig, FingerprintAlgorithm, ServerAuth, ServerConfig,
};
use tls_smtp::{Error, Security};
use tls_testkit::Pki;

use common::{envelope, mailer, Conn, SmtpClient, TRICKY};
use tls_testkit::scripted::smtp::{AfterData, Options, SmtpServer, PASSWORD, USER};
use tls_testkit::scripted::{rooted as roots, x509_server as cert_server};
use tls_testkit::{on_both_clients, Client};

on_both_clients!(
    ca_roots_starttls_delivers_byte_for_byte,
    pinned_fingerprint_starttls_and_session_info,
    pin_mismatch_fails_before_any_credentials,
    srp_starttls_and_wrong_srp_password,
    client_certificate_starttls,
    implicit_tls_sends_a_lettre_message,
    a_checker_can_veto_the_server,
    several_messages_rset_and_noop_on_one_connection,
    refused_recipients_are_reported,
    size_8bitmime_and_smtputf8_are_honoured,
    auth_login_and_wrong_credentials,
    error_greetings_and_silent_servers_fail_fast,
    a_timeout_awaiting_the_final_reply_breaks_the_connection,
    a_connection_dropped_after_the_message_breaks_the_connection,
    a_3xx_to_rcpt_or_to_the_final_dot_is_an_error,
);

fn srp_server() -> ServerConfig {
    let db = tls::srp::MemoryVerifierDb::new();
    db.add("carol", "srp password", 2048).unwrap();
    ServerConfig::builder().verifier_db(db).build().unwrap()
}

/// Sends TRICKY with STARTTLS and returns what the server stored, after checking that
/// everything from AUTH on came over TLS.
fn deliver_tricky(
    client: Client,
    server: &SmtpServer,
    tls: ClientConfig,
) -> tls_testkit::scripted::smtp::Stored {
    let reply = client
        .send_raw(
            &mailer(tls, server.port(), Security::StartTls),
            &envelope("sender@example.org", &["rcpt@example.org"]),
            TRICKY,
        )
        .unwrap();
    assert_eq!(reply.code().to_string(), "250");
    let received = server.received();
    assert_eq!(
        received.verbs(),
        ["EHLO", "STARTTLS", "EHLO", "AUTH", "MAIL", "RCPT", "DATA", "QUIT"]
    );
    assert!(received.lines[..2].iter().all(|l| !l.tls));
    assert!(received.lines[2..].iter().all(|l| l.tls));
    assert_eq!(received.messages.len(), 1);
    let stored = received.messages[0].clone();
    assert_eq!(stored.data, TRICKY, "message not stored byte for byte");
    assert_eq!(stored.auth_user.as_deref(), Some(USER));
    assert_eq!(stored.rcpt_to, ["rcpt@example.org"]);
    stored
}

fn ca_roots_starttls_delivers_byte_for_byte(client: Client) {
    let pki = Pki::new();
    let server = SmtpServer::starttls(cert_server(&pki), Options::default());
    let stored = deliver_tricky(client, &server, roots(&pki));
    // 8-bit body: BODY=8BITMIME. SIZE offered: RFC 1870's size, which leaves out the dots
    // doubled on the wire (TRICKY has CRLF line ends and five lines starting with a dot).
    assert!(stored.mail_from.starts_with("FROM:<sender@example.org>"));
    let parameters: Vec<_> = stored.mail_from.split_whitespace().skip(1).collect();
    assert_eq!(
        parameters,
        [format!("SIZE={}", TRICKY.len()), "BODY=8BITMIME".into()]
    );
    assert!(!stored.client_cert);
}

fn pinned_fingerprint_starttls_and_session_info(client: Client) {
    let pki = Pki::new();
    let config = ServerConfig::builder()
        .cert_chain(pki.self_signed.chain(), pki.self_signed.key())
        .build()
        .unwrap();
    let server = SmtpServer::starttls(config, Options::default());
    let pin = pki.self_signed.fingerprint(FingerprintAlgorithm::Sha256);
    let tls = ClientConfig::builder()
        .server_auth(ServerAuth::Fingerprint(pin.clone()))
        .build()
        .unwrap();
    let conn = client
        .connect(&mailer(tls.clone(), server.port(), Security::StartTls))
        .unwrap();
    assert_eq!(conn.tls_session().peer_fingerprint_sha256(), Some(pin));
    assert_eq!(conn.size_limit(), Some(1_000_000));
    assert_eq!(conn.quit().unwrap().code().to_string(), "221");
    let again = SmtpServer::starttls(
        ServerConfig::builder()
            .cert_chain(pki.self_signed.chain(), pki.self_signed.key())
            .build()
            .unwrap(),
        Options::default(),
    );
    deliver_tricky(client, &again, tls);
}

fn pin_mismatch_fails_before_any_credentials(client: Client) {
    let pki = Pki::new();
    let server = SmtpServer::starttls(cert_server(&pki), Options::default());
    let wrong = pki.self_signed.fingerprint(FingerprintAlgorithm::Sha256);
    let tls = ClientConfig::builder()
        .server_auth(ServerAuth::Fingerprint(wrong))
        .build()
        .unwrap();
    let err = client
        .send_raw(
            &mailer(tls, server.port(), Security::StartTls),
            &envelope("a@example.org", &["b@example.org"]),
            b"x\r\n",
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Tls(tls::Error::Authentication(
                AuthenticationError::FingerprintMismatch { .. }
            ))
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("does not match"), "{err}");
    assert_eq!(server.received().verbs(), ["EHLO", "STARTTLS"]);
}

fn srp_starttls_and_wrong_srp_password(client: Client) {
    let server = SmtpServer::starttls(srp_server(), Options::default());
    let tls = ClientConfig::builder()
        .srp("carol", "srp password")
        .build()
        .unwrap();
    let stored = deliver_tricky(client, &server, tls.clone());
    assert_eq!(stored.srp_user.as_deref(), Some("carol"));
    let conn = client
        .connect(&mailer(tls, server.port(), Security::StartTls))
        .unwrap();
    assert_eq!(conn.tls_session().srp_username(), Some("carol"));
    conn.quit().unwrap();

    let wrong = SmtpServer::starttls(srp_server(), Options::default());
    let tls = ClientConfig::builder()
        .srp("carol", "guess")
        .build()
        .unwrap();
    let err = client
        .connect(&mailer(tls, wrong.port(), Security::StartTls))
        .unwrap_err();
    assert!(
        matches!(&err, Error::Tls(e) if e.alert().is_some()),
        "{err:?}"
    );
    assert_eq!(wrong.received().verbs(), ["EHLO", "STARTTLS"]);
}

fn client_certificate_starttls(client: Client) {
    let pki = Pki::new();
    let config = ServerConfig::builder()
        .cert_chain(pki.server.chain(), pki.server.key())
        .require_client_cert(pki.client_roots())
        .build()
        .unwrap();
    let server = SmtpServer::starttls(config, Options::default());
    let tls = ClientConfig::builder()
        .server_auth(ServerAuth::Roots(pki.roots()))
        .client_cert(pki.client.chain(), pki.client.key())
        .build()
        .unwrap();
    assert!(deliver_tricky(client, &server, tls).client_cert);
}

fn implicit_tls_sends_a_lettre_message(client: Client) {
    let pki = Pki::new();
    let server = SmtpServer::implicit(cert_server(&pki), Options::default());
    let message = Message::builder()
        .from("Sender <sender@example.org>".parse().unwrap())
        .to("rcpt@example.org".parse().unwrap())
        .cc("copy@example.org".parse().unwrap())
        .subject("implicit TLS")
        .body(
            // 8bit keeps the dots and bytes as they are (lettre would pick base64 here).
            Body::new_with_encoding(
                String::from(".dot first\r\nünïcödé body\r\n.\r\n"),
                ContentTransferEncoding::EightBit,
            )
            .unwrap(),
        )
        .unwrap();
    let reply = client
        .send(
            &mailer(roots(&pki), server.port(), Security::Implicit),
            &message,
        )
        .unwrap();
    assert!(reply.is_positive());
    let received = server.received();
    assert!(received.lines.iter().all(|l| l.tls));
    assert_eq!(
        received.verbs(),
        ["EHLO", "AUTH", "MAIL", "RCPT", "RCPT", "DATA", "QUIT"]
    );
    let stored = &received.messages[0];
    assert_eq!(stored.data, message.formatted());
    assert!(stored
        .data
        .ends_with(".dot first\r\nünïcödé body\r\n.\r\n".as_bytes()));
    assert!(stored.mail_from.contains("BODY=8BITMIME"));
    assert_eq!(stored.rcpt_to, ["rcpt@example.org", "copy@example.org"]);
}

fn a_checker_can_veto_the_server(client: Client) {
    let pki = Pki::new();
    let server = SmtpServer::starttls(cert_server(&pki), Options::default());
    let tls = ClientConfig::builder()
        .server_auth(ServerAuth::Roots(pki.roots()))
        .checker(Checker::new().custom(|_| Err("not this one".into())))
        .build()
        .unwrap();
    let err = client
        .connect(&mailer(tls, server.port(), Security::StartTls))
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Tls(tls::Error::Authentication(AuthenticationError::Rejected(why)))
                if why == "not this one"
        ),
        "{err:?}"
    );
    assert_eq!(server.received().verbs(), ["EHLO", "STARTTLS"]);
}

fn several_messages_rset_and_noop_on_one_connection(client: Client) {
    let pki = Pki::new();
    let server = SmtpServer::starttls(cert_server(&pki), Options::default());
    let mut conn = client
        .connect(&mailer(roots(&pki), server.port(), Security::StartTls))
        .unwrap();
    assert_eq!(conn.noop().unwrap().code().to_string(), "250");
    let first = conn
        .send(&envelope("a@example.org", &["b@example.org"]), b"one\r\n")
        .unwrap();
    assert!(first.refused.is_empty());
    assert_eq!(conn.rset().unwrap().code().to_string(), "250");
    // Bare LF line ends go out as CRLF; a missing last line end is added.
    conn.send(
        &envelope("a@example.org", &["c@example.org"]),
        b"two\n.three",
    )
    .unwrap();
    conn.quit().unwrap();
    let received = server.received();
    let data: Vec<_> = received.messages.iter().map(|m| m.data.clone()).collect();
    assert_eq!(data, [b"one\r\n".to_vec(), b"two\r\n.three\r\n".to_vec()]);
    assert!(!received.messages[0].mail_from.contains("BODY="));
}

fn refused_recipients_are_reported(client: Client) {
    let pki = Pki::new();
    let options = Options {
        refuse: vec!["nobody@example.org".into(), "ghost@example.org".into()],
        ..Options::default()
    };
    let server = SmtpServer::starttls(cert_server(&pki), options);
    let mixed = envelope("a@example.org", &["b@example.org", "nobody@example.org"]);

    // Default: one refusal means nothing is sent.
    let strict = mailer(roots(&pki), server.port(), Security::StartTls);
    let err = client.send_raw(&strict, &mixed, b"hi\r\n").unwrap_err();
    let Error::RecipientsRefused(refused) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].address.to_string(), "nobody@example.org");
    assert_eq!(refused[0].code, 550);
    assert!(refused[0].text.contains("no such user"));
    assert!(server.received().messages.is_empty());
    assert!(!server.received().verbs().contains(&"DATA".to_owned()));

    // Partial delivery: sent to the others, refusals in the Delivery.
    let lenient = tls_smtp::SmtpTls::builder("127.0.0.1", roots(&pki))
        .port(server.port())
        .partial_delivery(true)
        .timeout(tls_testkit::TIMEOUT)
        .build()
        .unwrap();
    let mut conn = client.connect(&lenient).unwrap();
    let delivery = conn.send(&mixed, b"hi\r\n").unwrap();
    assert_eq!(delivery.refused.len(), 1);
    assert_eq!(server.received().messages[0].rcpt_to, ["b@example.org"]);
    // Everyone refused: an error even so.
    let all = envelope(
        "a@example.org",
        &["nobody@example.org", "ghost@example.org"],
    );
    let err = conn.send(&all, b"hi\r\n").unwrap_err();
    assert!(
        matches!(&err, Error::RecipientsRefused(r) if r.len() == 2),
        "{err:?}"
    );
    conn.quit().unwrap();
    assert_eq!(server.received().messages.len(), 1);
}

fn size_8bitmime_and_smtputf8_are_honoured(client: Client) {
    let pki = Pki::new();
    let limited = Options {
        size: Some(100),
        eight_bit_mime: false,
        smtputf8: false,
        ..Options::default()
    };
    let server = SmtpServer::starttls(cert_server(&pki), limited);
    let mut conn = client
        .connect(&mailer(roots(&pki), server.port(), Security::StartTls))
        .unwrap();
    let to = envelope("a@example.org", &["b@example.org"]);
    let err = conn.send(&to, &[b'x'; 200]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::MessageTooLarge {
                size: 202,
                limit: 100
            }
        ),
        "{err:?}"
    );
    let err = conn.send(&to, "café\r\n".as_bytes()).unwrap_err();
    assert!(matches!(err, Error::EightBitNotSupported), "{err:?}");
    let international = envelope("a@example.org", &["jörg@example.org"]);
    let err = conn.send(&international, b"hi\r\n").unwrap_err();
    assert!(matches!(err, Error::SmtpUtf8NotSupported), "{err:?}");
    conn.send(&to, b"7-bit and small\r\n").unwrap();
    conn.quit().unwrap();
    let received = server.received();
    // Nothing refused locally reached the server.
    assert_eq!(received.verbs().iter().filter(|v| *v == "MAIL").count(), 1);
    assert!(received.messages[0].mail_from.contains("SIZE=17"));

    let full = SmtpServer::starttls(cert_server(&pki), Options::default());
    client
        .send_raw(
            &mailer(roots(&pki), full.port(), Security::StartTls),
            &international,
            "grüße\r\n".as_bytes(),
        )
        .unwrap();
    let stored = &full.received().messages[0];
    assert!(
        stored.mail_from.contains("SMTPUTF8"),
        "{}",
        stored.mail_from
    );
    assert!(stored.mail_from.contains("BODY=8BITMIME"));
    assert_eq!(stored.rcpt_to, ["jörg@example.org"]);
}

fn auth_login_and_wrong_credentials(client: Client) {
    let pki = Pki::new();
    let login_only = Options {
        auth: "LOGIN",
        ..Options::default()
    };
    let server = SmtpServer::starttls(cert_server(&pki), login_only);
    client
        .send_raw(
            &mailer(roots(&pki), server.port(), Security::StartTls),
            &envelope("a@example.org", &["b@example.org"]),
            b"x\r\n",
        )
        .unwrap();
    let received = server.received();
    assert_eq!(received.messages[0].auth_user.as_deref(), Some(USER));
    assert!(received
        .lines
        .iter()
        .any(|l| l.text == "AUTH LOGIN" && l.tls));

    let wrong = tls_smtp::SmtpTls::builder("127.0.0.1", roots(&pki))
        .port(server.port())
        .credentials(tls_smtp::Credentials::new(
            USER.into(),
            format!("{PASSWORD}!"),
        ))
        .build()
        .unwrap();
    let err = client.connect(&wrong).unwrap_err();
    assert!(
        matches!(&err, Error::AuthenticationFailed { code: 535, text } if text.contains("bad credentials")),
        "{err:?}"
    );

    let none = SmtpServer::starttls(
        cert_server(&pki),
        Options {
            auth: "CRAM-MD5",
            ..Options::default()
        },
    );
    let err = client
        .connect(&mailer(roots(&pki), none.port(), Security::StartTls))
        .unwrap_err();
    assert!(matches!(err, Error::NoAuthMechanism), "{err:?}");
    assert!(!none.received().verbs().contains(&"AUTH".to_owned()));
}

fn error_greetings_and_silent_servers_fail_fast(client: Client) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut refuse, _) = listener.accept().unwrap();
        refuse.write_all(b"554 5.3.2 go away\r\n").unwrap();
        let (silent, _) = listener.accept().unwrap();
        std::thread::sleep(Duration::from_secs(1));
        drop((refuse, silent));
    });
    let pki = Pki::new();
    let config = |timeout| {
        tls_smtp::SmtpTls::builder("127.0.0.1", roots(&pki))
            .port(port)
            .timeout(timeout)
            .build()
            .unwrap()
    };
    let err = client.connect(&config(tls_testkit::TIMEOUT)).unwrap_err();
    assert!(
        matches!(&err, Error::Reply { command: "greeting", code: 554, text } if text == "5.3.2 go away"),
        "{err:?}"
    );
    let started = std::time::Instant::now();
    let err = client
        .connect(&config(Duration::from_millis(300)))
        .unwrap_err();
    assert!(
        matches!(&err, Error::Io(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_millis(900));
    server.join().unwrap();
}

#[test]
fn bad_configurations_are_errors() {
    let pki = Pki::new();
    let build = |host: &str, hello: &str| {
        tls_smtp::SmtpTls::builder(host, roots(&pki))
            .hello_name(tls_smtp::ClientId::Domain(hello.into()))
            .build()
    };
    assert!(matches!(build("", "me.example"), Err(Error::Config(_))));
    assert!(matches!(build("h", "two words"), Err(Error::Config(_))));
    assert!(matches!(build("h", "evil\r\nMAIL"), Err(Error::Config(_))));
    assert!(build("h", "me.example").is_ok());
}

/// Sends one message to a server that misbehaves after DATA as `after_data` says, with a
/// client timeout of `timeout`; checks that the connection then refuses every command
/// without writing, and returns the first error.
fn broken_after_data(client: Client, after_data: AfterData, timeout: Duration) -> Error {
    let pki = Pki::new();
    let options = Options {
        after_data,
        ..Options::default()
    };
    let server = SmtpServer::starttls(cert_server(&pki), options);
    let conn = tls_smtp::SmtpTls::builder("127.0.0.1", roots(&pki))
        .port(server.port())
        .timeout(timeout)
        .build()
        .unwrap();
    let mut conn = client.connect(&conn).unwrap();
    let to = envelope("a@example.org", &["b@example.org"]);
    let err = conn.send(&to, b"one\r\n").unwrap_err();
    assert!(conn.is_broken(), "{err:?}");
    let again = conn.send(&to, b"two\r\n").unwrap_err();
    assert!(matches!(again, Error::ConnectionBroken), "{again:?}");
    assert!(again.to_string().contains("connect again"), "{again}");
    assert!(matches!(conn.noop(), Err(Error::ConnectionBroken)));
    assert!(matches!(conn.rset(), Err(Error::ConnectionBroken)));
    assert!(matches!(conn.quit(), Err(Error::ConnectionBroken)));
    // Once the server is done with the connection: no RSET, MAIL or QUIT ever reached it.
    let received = server.received_after(1);
    assert_eq!(
        received.verbs(),
        ["EHLO", "STARTTLS", "EHLO", "MAIL", "RCPT", "DATA"]
    );
    assert_eq!(received.messages.len(), 1);
    err
}

fn a_timeout_awaiting_the_final_reply_breaks_the_connection(client: Client) {
    // The 250 comes after the client gave up; had the client sent RSET, that late 250
    // would have been read as RSET's answer and every later reply shifted by one.
    let late = AfterData::Late(Duration::from_millis(1200));
    let err = broken_after_data(client, late, Duration::from_millis(300));
    assert!(
        matches!(&err, Error::Io(_) | Error::Tls(_)),
        "a timeout expected: {err:?}"
    );
}

fn a_connection_dropped_after_the_message_breaks_the_connection(client: Client) {
    let err = broken_after_data(client, AfterData::HangUp, tls_testkit::TIMEOUT);
    assert!(
        matches!(&err, Error::Protocol(m) if m.contains("closed")),
        "{err:?}"
    );
}

/// Connects to a server started with `options` and sends a message, which must fail.
fn failed_send(client: Client, pki: &Pki, options: Options) -> (SmtpServer, Conn, Error) {
    let server = SmtpServer::starttls(cert_server(pki), options);
    let mut conn = client
        .connect(&mailer(roots(pki), server.port(), Security::StartTls))
        .unwrap();
    let to = envelope("a@example.org", &["b@example.org"]);
    let err = conn.send(&to, b"hi\r\n").unwrap_err();
    (server, conn, err)
}

fn a_3xx_to_rcpt_or_to_the_final_dot_is_an_error(client: Client) {
    let pki = Pki::new();
    let rcpt_3xx = Options {
        rcpt_reply: Some("354 go on then"),
        ..Options::default()
    };
    let (server, conn, err) = failed_send(client, &pki, rcpt_3xx);
    assert!(
        matches!(&err, Error::Protocol(m) if m.contains("RCPT") && m.contains("354")),
        "{err:?}"
    );
    assert!(conn.is_broken());
    drop(conn);
    // Neither DATA nor RSET followed.
    let received = server.received_after(1);
    assert_eq!(received.verbs().last().map(String::as_str), Some("RCPT"));
    assert!(received.messages.is_empty());

    let dot_3xx = Options {
        after_data: AfterData::Answer("334 and now?"),
        ..Options::default()
    };
    let (_server, mut conn, err) = failed_send(client, &pki, dot_3xx);
    assert!(
        matches!(&err, Error::Protocol(m) if m.contains("message") && m.contains("334")),
        "{err:?}"
    );
    assert!(matches!(conn.noop(), Err(Error::ConnectionBroken)));
}

#[test]
fn probe_records_the_certificate_and_sends_nothing_over_tls() {
    let pki = Pki::new();
    let pin = pki.server.fingerprint(FingerprintAlgorithm::Sha256);
    // Nothing is authenticated: a client that trusts no one still learns the fingerprint.
    let untrusting = || ClientConfig::builder().build().unwrap();
    let starttls = SmtpServer::starttls(cert_server(&pki), Options::default());
    let session = mailer(untrusting(), starttls.port(), Security::StartTls)
        .probe()
        .unwrap();
    assert_eq!(session.peer_fingerprint_sha256(), Some(pin.clone()));
    let received = starttls.received_after(1);
    assert_eq!(received.verbs(), ["EHLO", "STARTTLS"]);
    assert!(received.lines.iter().all(|l| !l.tls));

    let implicit = SmtpServer::implicit(cert_server(&pki), Options::default());
    let session = mailer(untrusting(), implicit.port(), Security::Implicit)
        .probe()
        .unwrap();
    assert_eq!(session.peer_fingerprint_sha256(), Some(pin));
    assert!(implicit.received_after(1).lines.is_empty());

    let hidden = SmtpServer::starttls(
        cert_server(&pki),
        Options {
            starttls: tls_testkit::scripted::smtp::StartTls::NotOffered,
            ..Options::default()
        },
    );
    let err = mailer(untrusting(), hidden.port(), Security::StartTls)
        .probe()
        .unwrap_err();
    assert!(matches!(err, Error::StartTlsNotOffered), "{err:?}");
}

/// A tokio `send` dropped half way (a timeout around it, say) leaves a reply on its way: the
/// connection must count as broken, or the next command would read that reply as its own.
#[test]
fn a_cancelled_async_send_breaks_the_connection() {
    let pki = Pki::new();
    let late = Options {
        after_data: AfterData::Late(Duration::from_millis(600)),
        ..Options::default()
    };
    let server = SmtpServer::starttls(cert_server(&pki), late);
    let mailer =
        tls_smtp::AsyncSmtpTls::from(mailer(roots(&pki), server.port(), Security::StartTls));
    let to = envelope("a@example.org", &["b@example.org"]);
    tls_testkit::block_on(async {
        let mut conn = mailer.connect().await.unwrap();
        let cut =
            tokio::time::timeout(Duration::from_millis(100), conn.send(&to, b"one\r\n")).await;
        assert!(
            cut.is_err(),
            "the send should still wait for the late reply"
        );
        assert!(conn.is_broken());
        assert!(matches!(conn.noop().await, Err(Error::ConnectionBroken)));
    });
    let received = server.received_after(1);
    assert_eq!(received.verbs().last().map(String::as_str), Some("DATA"));
}
