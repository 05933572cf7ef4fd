//! The `smtp_starttls` example as a user runs it: body on stdin, the final reply on stdout,
//! a clear error and exit 1 on failure.

mod common;

use tls::FingerprintAlgorithm;
use tls_testkit::scripted::smtp::{Options, SmtpServer, PASSWORD, USER};
use tls_testkit::scripted::x509_server as cert_server;
use tls_testkit::{example, run, Pki};

#[test]
fn smtp_starttls_sends_stdin_as_a_message_or_fails_clearly() {
    let pki = Pki::new();
    let server = SmtpServer::starttls(cert_server(&pki), Options::default());
    // Hangs up on QUIT: the message is accepted all the same, so the example succeeds.
    let rude = SmtpServer::starttls(
        cert_server(&pki),
        Options {
            hang_up_on_quit: true,
            ..Options::default()
        },
    );
    let pin = pki
        .server
        .fingerprint(FingerprintAlgorithm::Sha256)
        .to_hex();
    let args = |pin: &str, server: &SmtpServer| {
        let target = format!("127.0.0.1:{}", server.port());
        let mut command = example("smtp_starttls");
        command.args([
            "--fingerprint",
            pin,
            "--auth-user",
            USER,
            "--auth-password",
            PASSWORD,
            "--from",
            "alice@example.org",
            "--to",
            "bob@example.org",
            "--subject",
            "from the example",
        ]);
        command.arg(target);
        command
    };

    let sent = run(&mut args(&pin, &server), b"first line\n.dotted line\n");
    assert!(sent.status.success(), "{sent:?}");
    assert!(String::from_utf8_lossy(&sent.stdout).starts_with("250 "));
    let message = the_message(&server);
    let data = String::from_utf8_lossy(&message.data);
    assert!(data.contains("Subject: from the example\r\n"), "{data}");
    assert!(
        data.ends_with("\r\n\r\nfirst line\r\n.dotted line\r\n"),
        "{data}"
    );

    refuses_a_wrong_pin(&pki, &server, |wrong| {
        run(&mut args(wrong, &server), b"never sent\n")
    });

    let no_bye = run(&mut args(&pin, &rude), b"quit goes unanswered\n");
    assert!(no_bye.status.success(), "{no_bye:?}");
    assert!(String::from_utf8_lossy(&no_bye.stdout).starts_with("250 "));
    let stderr = String::from_utf8_lossy(&no_bye.stderr);
    assert!(stderr.contains("QUIT failed"), "{stderr}");
    assert_eq!(rude.received().messages.len(), 1);
}

#[test]
fn smtp_async_sends_stdin_with_the_tokio_client() {
    let pki = Pki::new();
    let server = SmtpServer::starttls(cert_server(&pki), Options::default());
    let target = format!("127.0.0.1:{}", server.port());
    let send = |pin: &str, body: &[u8]| {
        let mut command = example("smtp_async");
        command
            .args([&target, pin, "alice@example.org", "bob@example.org"])
            .env("SMTP_USER", USER)
            .env("SMTP_PASSWORD", PASSWORD);
        run(&mut command, body)
    };
    let pin = pki
        .server
        .fingerprint(FingerprintAlgorithm::Sha256)
        .to_hex();
    let sent = send(&pin, b"async line\n.dotted\n");
    assert!(sent.status.success(), "{sent:?}");
    assert!(String::from_utf8_lossy(&sent.stdout).starts_with("250 "));
    let message = the_message(&server);
    assert!(server.received().lines[2..].iter().all(|l| l.tls));
    let data = String::from_utf8_lossy(&message.data);
    assert!(
        data.ends_with("\r\n\r\nasync line\r\n.dotted\r\n"),
        "{data}"
    );

    refuses_a_wrong_pin(&pki, &server, |wrong| send(wrong, b"never sent\n"));

    let mut bad = example("smtp_async");
    let usage = run(bad.arg("127.0.0.1:1"), b"");
    assert_eq!(usage.status.code(), Some(2), "{usage:?}");
}

/// The one message `server` stored, checking it came from [`USER`].
fn the_message(server: &SmtpServer) -> tls_testkit::scripted::smtp::Stored {
    let received = server.received();
    let [message] = &received.messages[..] else {
        panic!("one message expected: {received:?}");
    };
    assert_eq!(message.auth_user.as_deref(), Some(USER));
    message.clone()
}

/// Run with another certificate's pin, the example exits 1 saying so and sends nothing.
fn refuses_a_wrong_pin(
    pki: &Pki,
    server: &SmtpServer,
    send: impl FnOnce(&str) -> std::process::Output,
) {
    let wrong = pki
        .stranger
        .fingerprint(FingerprintAlgorithm::Sha256)
        .to_hex();
    let refused = send(&wrong);
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("does not match"), "{stderr}");
    assert_eq!(server.received().messages.len(), 1);
}
