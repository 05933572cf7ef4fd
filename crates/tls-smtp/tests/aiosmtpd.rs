//! `SmtpTls` and `AsyncSmtpTls` against a real server: aiosmtpd with STARTTLS + AUTH, and
//! implicit TLS.
//! Skips loudly when aiosmtpd is not installed (fails under `TLS_PEERS_REQUIRED=1`).

mod common;

use lettre::message::header::ContentTransferEncoding;
use lettre::message::Body;
use lettre::Message;
use tls::{ClientConfig, FingerprintAlgorithm, ServerAuth};
use tls_smtp::{Credentials, Error, Security, SmtpTls};
use tls_testkit::{Aiosmtpd, Pki};

use common::{envelope, SmtpClient, TRICKY};
use tls_testkit::scripted::rooted as roots;
use tls_testkit::{on_both_clients, Client};

on_both_clients!(
    starttls_and_auth_with_custom_roots_arrive_intact,
    a_pinned_fingerprint_over_starttls_and_implicit_tls,
    wrong_password_and_wrong_pin_are_refused,
);

/// A password with a space, quotes and a backslash, as tricky for AUTH PLAIN as it gets.
const PASSWORD: &str = r#"c4rol "quoted" \back slash"#;

fn mailer(tls: ClientConfig, port: u16, mode: Security, password: &str) -> SmtpTls {
    SmtpTls::builder("127.0.0.1", tls)
        .port(port)
        .security(mode)
        .credentials(Credentials::new("carol".into(), password.into()))
        .timeout(tls_testkit::TIMEOUT)
        .build()
        .unwrap()
}

fn starttls_and_auth_with_custom_roots_arrive_intact(client: Client) {
    let pki = Pki::new();
    let Some(server) = Aiosmtpd::start(&pki.server, &[("carol", PASSWORD)]) else {
        return;
    };
    let starttls = mailer(
        roots(&pki),
        server.starttls_port,
        Security::StartTls,
        PASSWORD,
    );
    let reply = client
        .send_raw(
            &starttls,
            &envelope(
                "sender@example.org",
                &["rcpt@example.org", "other@example.org"],
            ),
            TRICKY,
        )
        .unwrap_or_else(|e| panic!("{e}\nserver log:\n{}", server.log()));
    assert_eq!(reply.code().to_string(), "250");
    let deliveries = server.deliveries();
    assert_eq!(deliveries.len(), 1);
    let d = &deliveries[0];
    assert_eq!(d.data, TRICKY, "message not stored byte for byte");
    assert_eq!(d.mail_from, "sender@example.org");
    assert_eq!(d.rcpt_to, ["rcpt@example.org", "other@example.org"]);
    assert_eq!(d.auth_login.as_deref(), Some("carol"));
    assert!(d.tls);
    assert!(
        d.mail_options.iter().any(|o| o == "BODY=8BITMIME"),
        "{:?}",
        d.mail_options
    );
    // RFC 1870's size: TRICKY has CRLF line ends, and its doubled dots do not count.
    let size = format!("SIZE={}", TRICKY.len());
    assert!(
        d.mail_options.contains(&size),
        "{size} not in {:?}",
        d.mail_options
    );
}

fn a_pinned_fingerprint_over_starttls_and_implicit_tls(client: Client) {
    let pki = Pki::new();
    let Some(server) = Aiosmtpd::start(&pki.self_signed, &[("carol", PASSWORD)]) else {
        return;
    };
    let pin = pki.self_signed.fingerprint(FingerprintAlgorithm::Sha256);
    let tls = ClientConfig::builder()
        .server_auth(ServerAuth::Fingerprint(pin.clone()))
        .build()
        .unwrap();
    let message = Message::builder()
        .from("Carol <carol@example.org>".parse().unwrap())
        .to("rcpt@example.org".parse().unwrap())
        .subject("über TLS")
        .body(
            Body::new_with_encoding(
                String::from("..dots\r\n.\r\nünïcödé\r\n"),
                ContentTransferEncoding::EightBit,
            )
            .unwrap(),
        )
        .unwrap();
    let starttls = mailer(
        tls.clone(),
        server.starttls_port,
        Security::StartTls,
        PASSWORD,
    );
    let mut conn = client.connect(&starttls).unwrap();
    assert_eq!(
        conn.tls_session().peer_fingerprint_sha256(),
        Some(pin.clone())
    );
    conn.send(message.envelope(), &message.formatted())
        .unwrap_or_else(|e| panic!("{e}\nserver log:\n{}", server.log()));
    conn.quit().unwrap();

    let implicit = mailer(tls, server.implicit_port, Security::Implicit, PASSWORD);
    let mut conn = client.connect(&implicit).unwrap();
    assert_eq!(conn.tls_session().peer_fingerprint_sha256(), Some(pin));
    conn.noop().unwrap();
    conn.quit().unwrap();
    client
        .send(&implicit, &message)
        .unwrap_or_else(|e| panic!("{e}\nserver log:\n{}", server.log()));
    let deliveries = server.deliveries();
    assert_eq!(deliveries.len(), 2);
    for d in &deliveries {
        assert_eq!(d.data, message.formatted());
        assert_eq!(d.auth_login.as_deref(), Some("carol"));
        assert!(d.tls);
    }
}

fn wrong_password_and_wrong_pin_are_refused(client: Client) {
    let pki = Pki::new();
    let Some(server) = Aiosmtpd::start(&pki.server, &[("carol", PASSWORD)]) else {
        return;
    };
    let wrong_password = mailer(
        roots(&pki),
        server.starttls_port,
        Security::StartTls,
        "wrong",
    );
    let err = client.connect(&wrong_password).unwrap_err();
    assert!(
        matches!(err, Error::AuthenticationFailed { code: 535, .. }),
        "{err:?}"
    );
    let wrong_pin = ClientConfig::builder()
        .server_auth(ServerAuth::Fingerprint(
            pki.self_signed.fingerprint(FingerprintAlgorithm::Sha256),
        ))
        .build()
        .unwrap();
    let wrong_pin = mailer(
        wrong_pin,
        server.implicit_port,
        Security::Implicit,
        PASSWORD,
    );
    let err = client.connect(&wrong_pin).unwrap_err();
    assert!(
        matches!(err, Error::Tls(tls::Error::Authentication(_))),
        "{err:?}"
    );
    assert!(server.deliveries().is_empty());
}
