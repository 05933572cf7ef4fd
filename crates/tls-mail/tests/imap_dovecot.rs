//! IMAP against Dovecot over IMAPS and STARTTLS, pinned and with custom roots: SELECT, SEARCH,
//! FETCH compared with the seeded files, STORE and EXPUNGE, APPEND then FETCH back, LOGOUT.

mod common;

use common::{crlf, dovecot, files_in, seeded, PASSWORD, USER};
use tls::FingerprintAlgorithm;
use tls_mail::imap::{Error, ImapClient, ImapSession};
use tls_mail::Security;
use tls_testkit::scripted::{pinned, rooted};
use tls_testkit::{Pki, TIMEOUT};

/// Message `seq`'s full text, without setting \Seen.
fn fetch_body(imap: &mut ImapSession, seq: u32) -> Vec<u8> {
    let fetches = imap.fetch(seq.to_string(), "BODY.PEEK[]").unwrap();
    let fetch = fetches.iter().next().expect("one FETCH response");
    fetch.body().expect("BODY[]").to_vec()
}

fn sorted(ids: impl IntoIterator<Item = u32>) -> Vec<u32> {
    let mut ids: Vec<u32> = ids.into_iter().collect();
    ids.sort_unstable();
    ids
}

#[test]
fn imaps_pinned_login_fetch_store_expunge() {
    let pki = Pki::new();
    let Some(server) = dovecot(&pki) else { return };
    let builder = ImapClient::builder(pinned(&pki)).timeout(TIMEOUT);
    let client = builder.connect("127.0.0.1", server.imaps_port).unwrap();
    assert!(
        client.greeting().starts_with("* OK"),
        "{}",
        client.greeting()
    );
    assert_eq!(
        client.tls_session().peer_fingerprint_sha256(),
        Some(pki.server.fingerprint(FingerprintAlgorithm::Sha256))
    );
    let mut imap = client.login(USER, PASSWORD).unwrap();
    assert!(imap.tls_session().peer_certificate().is_some());

    let inbox = imap.select("INBOX").unwrap();
    assert_eq!(inbox.exists, 3);
    assert_eq!(sorted(imap.search("ALL").unwrap()), vec![1, 2, 3]);
    assert_eq!(
        sorted(imap.search("SUBJECT \"Test message 2\"").unwrap()),
        vec![2]
    );
    for (n, seed) in (1..).zip(seeded()) {
        assert_eq!(fetch_body(&mut imap, n), crlf(&seed), "message {n}");
    }

    imap.store("2", "+FLAGS (\\Deleted)").unwrap();
    let deleted = imap.expunge().unwrap();
    assert_eq!(deleted.seqs().collect::<Vec<_>>(), vec![2]);
    assert_eq!(fetch_body(&mut imap, 2), crlf(&seeded()[2]));
    imap.logout().unwrap();

    let mut imap = builder
        .connect("127.0.0.1", server.imaps_port)
        .unwrap()
        .login(USER, PASSWORD)
        .unwrap();
    assert_eq!(imap.select("INBOX").unwrap().exists, 2);
    imap.logout().unwrap();
    assert_eq!(files_in(&server, USER), 2);
}

#[test]
fn starttls_with_roots_authenticate_plain_append_and_fetch_back() {
    let pki = Pki::new();
    let Some(server) = dovecot(&pki) else { return };
    let mut imap = ImapClient::builder(rooted(&pki))
        .security(Security::StartTls)
        .timeout(TIMEOUT)
        .connect("localhost", server.imap_port)
        .unwrap()
        .authenticate_plain(USER, PASSWORD)
        .unwrap();
    let message = b"From: alice@example.test\r\nTo: bob@example.test\r\nSubject: appended \
                    over STARTTLS\r\n\r\n.a line with a dot\r\nand bytes \xc3\xa9\r\n";
    imap.append("INBOX", message).finish().unwrap();
    let inbox = imap.select("INBOX").unwrap();
    assert_eq!(inbox.exists, 4);
    let found = sorted(imap.search("SUBJECT \"appended over STARTTLS\"").unwrap());
    assert_eq!(found, vec![4]);
    assert_eq!(fetch_body(&mut imap, 4), message);
    imap.store("4", "+FLAGS (\\Flagged)").unwrap();
    let flagged = sorted(imap.search("FLAGGED").unwrap());
    assert_eq!(flagged, vec![4]);
    imap.logout().unwrap();
    assert_eq!(files_in(&server, USER), 4);
}

#[test]
fn wrong_password_and_wrong_pin_are_errors() {
    let pki = Pki::new();
    let Some(server) = dovecot(&pki) else { return };
    let err = ImapClient::builder(pinned(&pki))
        .timeout(TIMEOUT)
        .connect("127.0.0.1", server.imaps_port)
        .unwrap()
        .login(USER, "wrong")
        .unwrap_err();
    assert!(matches!(err, Error::Imap(imap::Error::No(_))), "{err}");

    let other = pki.self_signed.fingerprint(FingerprintAlgorithm::Sha256);
    let wrong_pin = tls::ClientConfig::builder()
        .server_auth(tls::ServerAuth::Fingerprint(other))
        .build()
        .unwrap();
    let err = ImapClient::builder(wrong_pin)
        .security(Security::StartTls)
        .connect("127.0.0.1", server.imap_port)
        .unwrap_err();
    assert!(
        matches!(err, Error::Tls(tls::Error::Authentication(_))),
        "{err}"
    );
}

#[test]
fn probe_shows_the_certificate_over_starttls_and_imaps() {
    let pki = Pki::new();
    let Some(server) = dovecot(&pki) else { return };
    let untrusting = tls::ClientConfig::builder().build().unwrap();
    let builder = ImapClient::builder(untrusting).timeout(TIMEOUT);
    let pin = pki.server.fingerprint(FingerprintAlgorithm::Sha256);
    let over_starttls = builder
        .clone()
        .security(Security::StartTls)
        .probe("127.0.0.1", server.imap_port)
        .unwrap();
    assert_eq!(over_starttls.peer_fingerprint_sha256(), Some(pin.clone()));
    let over_imaps = builder.probe("127.0.0.1", server.imaps_port).unwrap();
    assert_eq!(over_imaps.peer_fingerprint_sha256(), Some(pin));
}
