//! The tokio IMAP client (async-imap over our stream): against Dovecot over IMAPS and
//! STARTTLS, pinned and with roots, messages compared with the seeded files; against scripted
//! servers for TLS-SRP, a client certificate, refused or injected STARTTLS, the response cap
//! and a silent server.

mod common;
use tls_testkit::scripted;

use std::io::Write;
use std::time::Duration;

use futures_util::TryStreamExt;
use tls::srp::MemoryVerifierDb;
use tls::{ClientConfig, FingerprintAlgorithm, ServerConfig};
use tls_mail::imap::{AsyncImapClient, AsyncImapSession, Error, ImapBuilder};
use tls_mail::Security;
use tls_testkit::{block_on, Pki, TIMEOUT};

use common::{crlf, dovecot, seeded, PASSWORD, USER};
use scripted::{imap, lines, mutual, replying_server, seen, starttls_server, tls_server};
use tls_testkit::scripted::{pinned, rooted};

/// A session on `localhost:port`, connected with `builder` and logged in.
async fn logged_in(
    builder: ImapBuilder<AsyncImapClient>,
    port: u16,
    user: &str,
    password: &str,
) -> AsyncImapSession {
    let client = builder.connect("localhost", port).await.unwrap();
    client.login(user, password).await.unwrap()
}

/// Message `seq`'s full text, without setting \Seen.
async fn fetch_body(imap: &mut AsyncImapSession, seq: u32) -> Vec<u8> {
    let fetches: Vec<_> = imap
        .fetch(seq.to_string(), "BODY.PEEK[]")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let [fetch] = &fetches[..] else {
        panic!("one FETCH response expected, got {}", fetches.len());
    };
    fetch.body().expect("BODY[]").to_vec()
}

#[test]
fn imaps_pinned_login_and_fetch() {
    let pki = Pki::new();
    let Some(server) = dovecot(&pki) else { return };
    block_on(async {
        let builder = AsyncImapClient::builder(pinned(&pki)).timeout(TIMEOUT);
        let client = builder
            .connect("127.0.0.1", server.imaps_port)
            .await
            .unwrap();
        // The greeting line alone: not the rest of async-imap's read buffer behind it.
        let greeting = client.greeting();
        assert!(
            greeting.starts_with("* OK") && !greeting.contains(['\0', '\r', '\n']),
            "{greeting:?} ({} bytes)",
            greeting.len()
        );
        assert_eq!(
            client.tls_session().peer_fingerprint_sha256(),
            Some(pki.server.fingerprint(FingerprintAlgorithm::Sha256))
        );
        let mut imap = client.login(USER, PASSWORD).await.unwrap();
        assert_eq!(imap.select("INBOX").await.unwrap().exists, 3);
        for (n, seed) in (1..).zip(seeded()) {
            assert_eq!(fetch_body(&mut imap, n).await, crlf(&seed), "message {n}");
        }
        imap.logout().await.unwrap();
    });
}

#[test]
fn starttls_with_roots_authenticate_plain_append_and_fetch_back() {
    let pki = Pki::new();
    let Some(server) = dovecot(&pki) else { return };
    block_on(async {
        let mut imap = AsyncImapClient::builder(rooted(&pki))
            .security(Security::StartTls)
            .timeout(TIMEOUT)
            .connect("localhost", server.imap_port)
            .await
            .unwrap()
            .authenticate_plain(USER, PASSWORD)
            .await
            .unwrap();
        let message = b"From: alice@example.test\r\nSubject: appended by tokio\r\n\r\n\
                        .a line with a dot\r\nand bytes \xc3\xa9\r\n";
        imap.append("INBOX", None, None, message).await.unwrap();
        assert_eq!(imap.select("INBOX").await.unwrap().exists, 4);
        assert_eq!(fetch_body(&mut imap, 4).await, message);
        imap.logout().await.unwrap();
    });
}

#[test]
fn wrong_password_and_wrong_pin_are_errors() {
    let pki = Pki::new();
    let Some(server) = dovecot(&pki) else { return };
    block_on(async {
        let err = AsyncImapClient::builder(pinned(&pki))
            .timeout(TIMEOUT)
            .connect("127.0.0.1", server.imaps_port)
            .await
            .unwrap()
            .login(USER, "wrong")
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::AsyncImap(async_imap::error::Error::No(_))),
            "{err}"
        );
        let other = pki.self_signed.fingerprint(FingerprintAlgorithm::Sha256);
        let wrong_pin = ClientConfig::builder()
            .server_auth(tls::ServerAuth::Fingerprint(other))
            .build()
            .unwrap();
        let err = AsyncImapClient::builder(wrong_pin)
            .security(Security::StartTls)
            .connect("127.0.0.1", server.imap_port)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Tls(tls::Error::Authentication(_))),
            "{err}"
        );
    });
}

#[test]
fn srp_over_implicit_tls() {
    let db = MemoryVerifierDb::new();
    db.add("alice", "correct horse", 2048).unwrap();
    let config = ServerConfig::builder().verifier_db(db).build().unwrap();
    let seen = seen();
    let log = seen.clone();
    let server = tls_server(config, move |tls| {
        tls.write_all(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] scripted\r\n")?;
        imap(tls, &log)
    });
    let tls_config = ClientConfig::builder()
        .srp("alice", "correct horse")
        .build()
        .unwrap();
    block_on(async {
        let mut session = logged_in(
            AsyncImapClient::builder(tls_config).timeout(TIMEOUT),
            server.addr.port(),
            "alice",
            "imap password",
        )
        .await;
        assert_eq!(session.tls_session().srp_username(), Some("alice"));
        assert_eq!(session.select("INBOX").await.unwrap().exists, 1);
        session.logout().await.unwrap();
    });
    let seen = lines(&seen);
    assert_eq!(seen[0], "A0001 LOGIN \"alice\" \"imap password\"");
    assert!(seen[1].ends_with(" SELECT \"INBOX\""), "{seen:?}");
}

#[test]
fn client_certificate_after_starttls_and_refused_or_injected_starttls() {
    let pki = Pki::new();
    let (server_config, client_config) = mutual(&pki);
    let (server, seen) = starttls_server(
        server_config,
        b"* OK [CAPABILITY IMAP4rev1 STARTTLS] plain\r\n",
        vec![
            b"* CAPABILITY IMAP4rev1 STARTTLS\r\na0 OK Begin TLS\r\n",
            b"a0 NO [UNAVAILABLE] not today\r\n",
            b"a0 OK go\r\n* OK [ALERT] forged\r\n",
        ],
    );
    let builder = AsyncImapClient::builder(client_config)
        .security(Security::StartTls)
        .timeout(TIMEOUT);
    block_on(async {
        let client = builder
            .connect("localhost", server.addr.port())
            .await
            .unwrap();
        assert_eq!(
            client.greeting(),
            "* OK [CAPABILITY IMAP4rev1 STARTTLS] plain"
        );
        let mut session = client.login("alice", "pw").await.unwrap();
        session.logout().await.unwrap();
        match builder.connect("localhost", server.addr.port()).await {
            Err(Error::StartTlsRefused(why)) => assert_eq!(why, "NO [UNAVAILABLE] not today"),
            other => panic!("expected StartTlsRefused, got {other:?}"),
        }
        let err = builder
            .connect("localhost", server.addr.port())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::PlaintextAfterStartTls), "{err}");
    });
    server.shutdown(Duration::from_secs(1)).unwrap();
    let seen = lines(&seen);
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert_eq!(seen[0], "a0 STARTTLS");
    assert!(seen[1].ends_with("LOGIN \"alice\" \"pw\""), "{seen:?}");
    assert_eq!(seen[3..], ["a0 STARTTLS", "a0 STARTTLS"]);
}

#[test]
fn the_response_cap_and_the_timeout_hold() {
    let pki = Pki::new();
    // An endless untagged line after LOGIN: stopped at the cap, not buffered.
    let endless = replying_server(&pki, |tls| loop {
        tls.write_all(&[b'x'; 16 * 1024])?;
    });
    // Silent after LOGIN.
    let silent = replying_server(&pki, |_| {
        std::thread::sleep(Duration::from_secs(3));
        Ok(())
    });
    block_on(async {
        let mut session = logged_in(
            AsyncImapClient::builder(rooted(&pki))
                .timeout(TIMEOUT)
                .max_response(64 * 1024),
            endless.addr.port(),
            "alice",
            "pw",
        )
        .await;
        let err = Error::from(session.select("INBOX").await.unwrap_err());
        assert!(
            matches!(err, Error::ResponseTooLarge { max: 65536 }),
            "{err}"
        );

        let mut session = logged_in(
            AsyncImapClient::builder(rooted(&pki)).timeout(Duration::from_millis(300)),
            silent.addr.port(),
            "alice",
            "pw",
        )
        .await;
        let started = std::time::Instant::now();
        let err = Error::from(session.select("INBOX").await.unwrap_err());
        assert!(started.elapsed() < Duration::from_secs(2), "{err}");
        assert!(err.to_string().contains("longer than"), "{err}");
    });
}

#[test]
fn a_dropped_or_garbled_reply_is_an_error_not_a_hang() {
    let pki = Pki::new();
    // async-imap tags its commands A0001 (LOGIN), A0002 (SELECT), …
    let select = |reply: &'static [u8]| {
        let server = replying_server(&pki, move |tls| tls.write_all(reply));
        block_on(async {
            let mut session = logged_in(
                AsyncImapClient::builder(rooted(&pki)).timeout(TIMEOUT),
                server.addr.port(),
                "alice",
                "pw",
            )
            .await;
            let started = std::time::Instant::now();
            let err = Error::from(session.select("INBOX").await.unwrap_err());
            assert!(started.elapsed() < Duration::from_secs(5), "{err}");
            err
        })
    };
    // Cut mid-response or before any: an error (the abrupt close, or async-imap's lost
    // connection), not a wait for the timeout.
    for reply in [&b"* 3 EXISTS\r\n* FLAGS (\\Seen"[..], b""] {
        let cut = select(reply);
        assert!(
            matches!(cut, Error::AsyncImap(_) | Error::Tls(_) | Error::Io(_)),
            "{cut:?}"
        );
    }
    let garbled = select(b"* 3 EXISTS\r\n)(garbage\r\nA0002 OK done\r\n");
    // async-imap reports a line it cannot parse as an I/O error naming the parse.
    assert!(
        matches!(&garbled, Error::AsyncImap(async_imap::error::Error::Io(e)) if e.to_string().contains("during parsing")),
        "{garbled:?}"
    );
    // A real NO keeps its text.
    let refused = select(b"A0002 NO no such mailbox\r\n");
    assert!(
        matches!(&refused, Error::AsyncImap(async_imap::error::Error::No(text)) if text.contains("no such mailbox")),
        "{refused:?}"
    );
}
