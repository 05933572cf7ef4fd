//! POP3 against Dovecot over POP3S and STLS, pinned and with custom roots: list, retrieve and
//! compare bytes with the seeded Maildir files, delete and confirm.

mod clients;
mod common;

use clients::ConnectWith;
use common::{crlf, dovecot, files_in, seeded, PASSWORD, USER};
use tls::FingerprintAlgorithm;
use tls_mail::pop3::{Error, Pop3Client};
use tls_mail::Security;
use tls_testkit::scripted::{pinned, rooted};
use tls_testkit::{on_both_clients, Client};
use tls_testkit::{Pki, TIMEOUT};

on_both_clients!(
    pop3s_pinned_lists_retrieves_and_deletes,
    stls_with_custom_roots_auth_plain_and_rset,
    apop_works_and_a_wrong_password_carries_the_server_text,
    a_wrong_pin_or_an_untrusted_ca_stops_before_any_pop3,
);

fn pop3s_pinned_lists_retrieves_and_deletes(client: Client) {
    let pki = Pki::new();
    let Some(server) = dovecot(&pki) else { return };
    let builder = Pop3Client::builder(pinned(&pki)).timeout(TIMEOUT);
    let mut pop = builder
        .connect_with(client, "127.0.0.1", server.pop3s_port)
        .unwrap();
    assert_eq!(
        pop.tls_session().peer_fingerprint_sha256(),
        Some(pki.server.fingerprint(FingerprintAlgorithm::Sha256))
    );
    assert!(pop.has_capability("UIDL"), "{:?}", pop.capabilities());
    pop.login(USER, PASSWORD).unwrap();

    let wire: Vec<Vec<u8>> = seeded().iter().map(|m| crlf(m)).collect();
    let stat = pop.stat().unwrap();
    assert_eq!(stat.count, 3);
    assert_eq!(stat.size, wire.iter().map(|m| m.len() as u64).sum::<u64>());
    let list = pop.list().unwrap();
    assert_eq!(
        list.iter().map(|e| (e.number, e.size)).collect::<Vec<_>>(),
        vec![
            (1, wire[0].len() as u64),
            (2, wire[1].len() as u64),
            (3, wire[2].len() as u64)
        ]
    );
    assert_eq!(pop.list_one(3).unwrap().size, wire[2].len() as u64);
    let uids = pop.uidl().unwrap();
    assert_eq!(uids.len(), 3);
    assert!(uids[0].uid != uids[1].uid && uids[1].uid != uids[2].uid);
    for (n, expected) in (1..).zip(&wire) {
        assert_eq!(pop.retr(n).unwrap(), *expected, "message {n}");
    }
    // TOP 3 0: the header block and the blank line after it.
    let head_len = wire[2].windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!(pop.top(3, 0).unwrap(), wire[2][..head_len]);

    pop.dele(2).unwrap();
    let gone = pop.retr(2).unwrap_err();
    assert!(
        matches!(&gone, Error::Server { command, .. } if command == "RETR"),
        "{gone}"
    );
    pop.quit().unwrap();

    let mut pop = builder
        .connect_with(client, "127.0.0.1", server.pop3s_port)
        .unwrap();
    pop.login(USER, PASSWORD).unwrap();
    assert_eq!(pop.stat().unwrap().count, 2);
    assert_eq!(pop.retr(2).unwrap(), wire[2]);
    assert_eq!(pop.uidl().unwrap()[1].uid, uids[2].uid);
    pop.quit().unwrap();
    assert_eq!(files_in(&server, USER), 2);
}

fn stls_with_custom_roots_auth_plain_and_rset(client: Client) {
    let pki = Pki::new();
    let Some(server) = dovecot(&pki) else { return };
    let builder = Pop3Client::builder(rooted(&pki))
        .security(Security::StartTls)
        .timeout(TIMEOUT);
    let mut pop = builder
        .connect_with(client, "localhost", server.pop3_port)
        .unwrap();
    assert!(pop.tls_session().peer_certificate().is_some());
    pop.auth_plain(USER, PASSWORD).unwrap();
    pop.noop().unwrap();
    assert_eq!(pop.retr(1).unwrap(), crlf(&seeded()[0]));
    let mut streamed = Vec::new();
    let written = pop.retr_to(3, &mut streamed).unwrap();
    assert_eq!(streamed, crlf(&seeded()[2]));
    assert_eq!(written, streamed.len() as u64);
    pop.dele(1).unwrap();
    assert_eq!(pop.stat().unwrap().count, 2);
    pop.rset().unwrap();
    assert_eq!(pop.stat().unwrap().count, 3);
    pop.quit().unwrap();
    assert_eq!(files_in(&server, USER), 3);
}

fn apop_works_and_a_wrong_password_carries_the_server_text(client: Client) {
    let pki = Pki::new();
    let Some(server) = dovecot(&pki) else { return };
    let builder = Pop3Client::builder(pinned(&pki)).timeout(TIMEOUT);
    let mut pop = builder
        .connect_with(client, "127.0.0.1", server.pop3s_port)
        .unwrap();
    pop.apop(USER, PASSWORD).unwrap();
    assert_eq!(pop.stat().unwrap().count, 3);
    pop.quit().unwrap();

    let mut pop = builder
        .connect_with(client, "127.0.0.1", server.pop3s_port)
        .unwrap();
    match pop.login(USER, "wrong").unwrap_err() {
        Error::Server { command, message } => {
            assert_eq!(command, "PASS");
            assert!(message.contains("Authentication failed"), "{message}");
        }
        other => panic!("expected -ERR, got {other}"),
    }
}

fn a_wrong_pin_or_an_untrusted_ca_stops_before_any_pop3(client: Client) {
    let pki = Pki::new();
    let Some(server) = dovecot(&pki) else { return };
    let other = pki.self_signed.fingerprint(FingerprintAlgorithm::Sha256);
    let wrong_pin = tls::ClientConfig::builder()
        .server_auth(tls::ServerAuth::Fingerprint(other))
        .build()
        .unwrap();
    let err = Pop3Client::builder(wrong_pin)
        .security(Security::StartTls)
        .connect_with(client, "127.0.0.1", server.pop3_port)
        .unwrap_err();
    assert!(
        matches!(err, Error::Tls(tls::Error::Authentication(_))),
        "{err}"
    );
    let other_root = Pki::new();
    let err = Pop3Client::builder(rooted(&other_root))
        .connect_with(client, "localhost", server.pop3s_port)
        .unwrap_err();
    assert!(matches!(err, Error::Tls(_)), "{err}");
}
