//! The mail loop through real servers: the tokio SMTP client sends through Postfix (STARTTLS
//! with the CA roots, and implicit TLS with a pin; AUTH checked by Postfix through Dovecot's
//! SASL socket), Postfix delivers into Dovecot, and the tokio POP3 and IMAP clients read the
//! messages back with their bodies intact. Postfix adds its own headers (Received, …), so the
//! headers are compared by what we set and the bodies byte for byte.

use futures_util::TryStreamExt;
use lettre::address::Envelope;
use lettre::AsyncTransport;
use tls::{ClientConfig, FingerprintAlgorithm, ServerAuth};
use tls_mail::imap::AsyncImapClient;
use tls_mail::pop3::AsyncPop3Client;
use tls_smtp::{AsyncSmtpTls, Credentials, Error, Security};
use tls_testkit::{block_on, Dovecot, Pki, Postfix, TIMEOUT};

const ALICE: (&str, &str) = ("alice", "alice's secret");
const BOB: (&str, &str) = ("bob", "bob's secret");

/// A body with what transports like to mangle: lines starting with dots, a lone dot, 8-bit
/// bytes, a long line.
fn body(n: u32) -> Vec<u8> {
    let mut body = format!(".leading dot {n}\r\n..two dots\r\n.\r\nünïcödé €\r\n").into_bytes();
    body.extend_from_slice(&[b'x'; 900]);
    body.extend_from_slice(b"\r\nlast line\r\n");
    body
}

fn message(n: u32) -> Vec<u8> {
    let headers = format!(
        "From: Alice <alice@example.test>\r\nTo: bob@example.test\r\n\
         Subject: loop {n}\r\nMessage-ID: <loop-{n}@example.test>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\r\n"
    );
    [headers.into_bytes(), body(n)].concat()
}

/// The subject and the body of a message as read back.
fn subject_and_body(message: &[u8]) -> (String, Vec<u8>) {
    let split = message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header block");
    let headers = String::from_utf8_lossy(&message[..split]);
    let subject = headers
        .lines()
        .find_map(|l| l.strip_prefix("Subject: "))
        .expect("a subject")
        .to_owned();
    (subject, message[split + 4..].to_vec())
}

#[test]
fn mail_sent_through_postfix_comes_back_over_pop3_and_imap() {
    let pki = Pki::new();
    let Some(dovecot) = Dovecot::start(&pki.server, &[ALICE, BOB], &[]) else {
        return;
    };
    let Some(postfix) = Postfix::start(&pki.server, &dovecot) else {
        return;
    };
    let roots = ClientConfig::builder()
        .server_auth(ServerAuth::Roots(pki.roots()))
        .build()
        .unwrap();
    let pin = pki.server.fingerprint(FingerprintAlgorithm::Sha256);
    let pinned = ClientConfig::builder()
        .server_auth(ServerAuth::Fingerprint(pin))
        .build()
        .unwrap();
    let alice = || Credentials::new(ALICE.0.into(), ALICE.1.into());
    let envelope = Envelope::new(
        Some("alice@example.test".parse().unwrap()),
        vec!["bob@example.test".parse().unwrap()],
    )
    .unwrap();

    block_on(async {
        let starttls = AsyncSmtpTls::builder("localhost", roots.clone())
            .port(postfix.smtp_port)
            .credentials(alice())
            .timeout(TIMEOUT)
            .build()
            .unwrap();
        let implicit = AsyncSmtpTls::builder("127.0.0.1", pinned.clone())
            .port(postfix.smtps_port)
            .security(Security::Implicit)
            .credentials(alice())
            .timeout(TIMEOUT)
            .build()
            .unwrap();
        for (n, mailer) in [(1, &starttls), (2, &implicit)] {
            let reply = mailer
                .send_raw(&envelope, &message(n))
                .await
                .unwrap_or_else(|e| panic!("{e}\n{}", postfix.log()));
            assert!(reply.is_positive(), "{reply:?}");
        }
        // Postfix's own check of the password, through Dovecot: a wrong one is refused.
        let wrong = AsyncSmtpTls::builder("localhost", roots.clone())
            .port(postfix.smtp_port)
            .credentials(Credentials::new(ALICE.0.into(), "not it".into()))
            .timeout(TIMEOUT)
            .build()
            .unwrap();
        let err = wrong.send_raw(&envelope, &message(3)).await.unwrap_err();
        assert!(
            matches!(err, Error::AuthenticationFailed { code: 535, .. }),
            "{err:?}"
        );
    });
    postfix.wait_for_empty_queue();

    let expected = |subject: &str| {
        let n: u32 = subject.trim_start_matches("loop ").parse().unwrap();
        body(n)
    };
    block_on(async {
        // POP3 over STLS with the roots.
        let mut pop = AsyncPop3Client::builder(roots.clone())
            .security(Security::StartTls)
            .timeout(TIMEOUT)
            .connect("localhost", dovecot.pop3_port)
            .await
            .unwrap();
        pop.login(BOB.0, BOB.1).await.unwrap();
        let stat = pop.stat().await.unwrap();
        assert_eq!(stat.count, 2, "{}", dovecot.log());
        let mut subjects = Vec::new();
        for n in 1..=2 {
            let (subject, body) = subject_and_body(&pop.retr(n).await.unwrap());
            assert_eq!(body, expected(&subject), "{subject} over POP3");
            subjects.push(subject);
        }
        subjects.sort();
        assert_eq!(subjects, ["loop 1", "loop 2"]);
        pop.quit().await.unwrap();

        // IMAP over implicit TLS with the pin.
        let imap = AsyncImapClient::builder(pinned)
            .timeout(TIMEOUT)
            .connect("127.0.0.1", dovecot.imaps_port)
            .await
            .unwrap();
        let mut imap = imap.login(BOB.0, BOB.1).await.unwrap();
        assert_eq!(imap.select("INBOX").await.unwrap().exists, 2);
        let fetched: Vec<_> = imap
            .fetch("1:2", "BODY.PEEK[]")
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(fetched.len(), 2);
        for fetch in &fetched {
            let (subject, body) = subject_and_body(fetch.body().expect("BODY[]"));
            assert_eq!(body, expected(&subject), "{subject} over IMAP");
        }
        imap.logout().await.unwrap();
    });
}
