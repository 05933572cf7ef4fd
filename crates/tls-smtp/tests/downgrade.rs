//! STARTTLS downgrades: a server that hides STARTTLS, refuses it, or smuggles plaintext
//! behind its yes. Each must fail clearly, and the server must never see credentials or mail.

mod common;

use tls_smtp::{Error, Security};
use tls_testkit::Pki;

use common::{envelope, mailer, SmtpClient};
use tls_testkit::scripted::smtp::{Options, Received, SmtpServer, StartTls, PASSWORD};
use tls_testkit::scripted::{rooted as roots, x509_server as cert_server};
use tls_testkit::{on_both_clients, Client};

on_both_clients!(
    a_server_without_starttls_is_an_error,
    a_server_answering_454_is_an_error,
    plaintext_pipelined_after_the_starttls_reply_is_refused,
);

/// Tries to send with credentials to a server that misbehaves as `starttls` says; returns
/// the client's error and what the server received.
fn attempt(client: Client, starttls: StartTls) -> (Error, Received) {
    let pki = Pki::new();
    let server = SmtpServer::starttls(
        cert_server(&pki),
        Options {
            starttls,
            ..Options::default()
        },
    );
    let err = client
        .send_raw(
            &mailer(roots(&pki), server.port(), Security::StartTls),
            &envelope("a@example.org", &["b@example.org"]),
            b"secret mail\r\n",
        )
        .unwrap_err();
    let received = server.received();
    // Nothing but the opening went over the wire, and all of it in plaintext.
    assert!(received.lines.iter().all(|l| !l.tls));
    assert!(received.messages.is_empty());
    for line in &received.lines {
        for forbidden in ["AUTH", "MAIL", "RCPT", "DATA"] {
            assert!(
                !line.text.to_ascii_uppercase().starts_with(forbidden),
                "{line:?}"
            );
        }
        assert!(!line.text.contains(PASSWORD));
    }
    (err, received)
}

fn a_server_without_starttls_is_an_error(client: Client) {
    let (err, received) = attempt(client, StartTls::NotOffered);
    assert!(matches!(err, Error::StartTlsNotOffered), "{err:?}");
    assert!(err.to_string().contains("does not offer STARTTLS"), "{err}");
    assert_eq!(received.verbs(), ["EHLO", "QUIT"]);
}

fn a_server_answering_454_is_an_error(client: Client) {
    let (err, received) = attempt(client, StartTls::Refuse);
    assert!(
        matches!(&err, Error::StartTlsRefused { code: 454, text } if text.contains("TLS not available")),
        "{err:?}"
    );
    assert!(err.is_transient());
    assert_eq!(received.verbs(), ["EHLO", "STARTTLS", "QUIT"]);
}

/// Relies on the forged line arriving in the same read as the 220 (see `StartTls::Inject`);
/// arriving later, it would fail the handshake instead of being caught as injection.
fn plaintext_pipelined_after_the_starttls_reply_is_refused(client: Client) {
    let (err, received) = attempt(client, StartTls::Inject);
    assert!(matches!(err, Error::PlaintextAfterStartTls), "{err:?}");
    assert_eq!(received.verbs(), ["EHLO", "STARTTLS"]);
}
