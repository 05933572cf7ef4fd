//! IMAP against scripted servers on tls-server: TLS-SRP, a client certificate after STARTTLS,
//! and STARTTLS refused, injected into, or preceded by a bad greeting.

use tls_testkit::scripted;

use std::io::Write;
use std::time::Duration;

use scripted::{
    imap, lines, mutual, replying_server, rooted, seen, starttls_server, tls_server, x509_server,
};
use tls::srp::MemoryVerifierDb;
use tls::{ClientConfig, ServerConfig};
use tls_mail::imap::{Error, ImapClient, ImapSession};
use tls_mail::Security;
use tls_testkit::{Pki, TIMEOUT};

#[test]
fn srp_over_implicit_tls() {
    let db = MemoryVerifierDb::new();
    db.add("alice", "correct horse", 2048).unwrap();
    let config = ServerConfig::builder().verifier_db(db).build().unwrap();
    let seen = seen();
    let log = seen.clone();
    let server = tls_server(config, move |tls| {
        if tls.session().srp_username() != Some("alice") {
            return Err(std::io::Error::other("no SRP user"));
        }
        tls.write_all(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] scripted\r\n")?;
        imap(tls, &log)
    });
    let client = ClientConfig::builder()
        .srp("alice", "correct horse")
        .build()
        .unwrap();
    let mut session = ImapClient::builder(client)
        .timeout(TIMEOUT)
        .connect("localhost", server.addr.port())
        .unwrap()
        .login("alice", "imap password")
        .unwrap();
    assert_eq!(session.tls_session().srp_username(), Some("alice"));
    assert_eq!(session.select("INBOX").unwrap().exists, 1);
    session.logout().unwrap();
    assert_eq!(
        lines(&seen),
        [
            "a1 LOGIN \"alice\" \"imap password\"",
            "a2 SELECT \"INBOX\"",
            "a3 LOGOUT"
        ]
    );
}

#[test]
fn client_certificate_after_starttls() {
    let pki = Pki::new();
    let (server_config, client_config) = mutual(&pki);
    let (server, seen) = starttls_server(
        server_config,
        b"* OK [CAPABILITY IMAP4rev1 STARTTLS] plain\r\n",
        vec![b"* CAPABILITY IMAP4rev1 STARTTLS\r\na0 OK Begin TLS\r\n"],
    );
    let client = ImapClient::builder(client_config)
        .security(Security::StartTls)
        .timeout(TIMEOUT)
        .connect("localhost", server.addr.port())
        .unwrap();
    assert_eq!(
        client.greeting(),
        "* OK [CAPABILITY IMAP4rev1 STARTTLS] plain"
    );
    let mut session = client.login("alice", "pw").unwrap();
    session.logout().unwrap();
    assert_eq!(
        lines(&seen),
        ["a0 STARTTLS", "a1 LOGIN \"alice\" \"pw\"", "a2 LOGOUT"]
    );
}

#[test]
fn refused_or_injected_starttls_and_bad_greetings_send_no_credentials() {
    let pki = Pki::new();
    let (server_config, client_config) = mutual(&pki);
    let (server, seen) = starttls_server(
        server_config,
        b"* OK hi\r\n",
        vec![
            b"a0 NO [UNAVAILABLE] not today\r\n",
            b"a0 OK go\r\n* OK [ALERT] forged\r\n",
        ],
    );
    let builder = ImapClient::builder(client_config.clone())
        .security(Security::StartTls)
        .timeout(TIMEOUT);
    match builder
        .connect("localhost", server.addr.port())
        .unwrap_err()
    {
        Error::StartTlsRefused(why) => assert_eq!(why, "NO [UNAVAILABLE] not today"),
        other => panic!("expected StartTlsRefused, got {other}"),
    }
    let err = builder
        .connect("localhost", server.addr.port())
        .unwrap_err();
    assert!(matches!(err, Error::PlaintextAfterStartTls), "{err}");
    server.shutdown(Duration::from_secs(1)).unwrap();
    assert_eq!(lines(&seen), ["a0 STARTTLS", "a0 STARTTLS"]);

    let (server, seen) =
        starttls_server(x509_server(&pki), b"* BYE too busy\r\n", vec![b"a0 OK\r\n"]);
    let err = builder
        .connect("localhost", server.addr.port())
        .unwrap_err();
    assert!(
        matches!(&err, Error::Greeting(g) if g == "* BYE too busy"),
        "{err}"
    );
    server.shutdown(Duration::from_secs(1)).unwrap();
    assert!(lines(&seen).is_empty());
}

/// Greets over TLS, accepts LOGIN (`a1`), answers the next command with `reply` and hangs up
/// without close_notify.
fn second_reply_server(pki: &Pki, reply: &'static [u8]) -> tls_server::RunningServer {
    replying_server(pki, move |tls| tls.write_all(reply))
}

/// Logs in to a [`replying_server`] with this response cap.
fn session(pki: &Pki, server: &tls_server::RunningServer, max_response: u64) -> ImapSession {
    ImapClient::builder(rooted(pki))
        .timeout(TIMEOUT)
        .max_response(max_response)
        .connect("localhost", server.addr.port())
        .unwrap()
        .login("alice", "pw")
        .unwrap()
}

#[test]
fn an_endless_line_stops_at_the_response_cap() {
    let pki = Pki::new();
    let server = replying_server(&pki, |tls| {
        // No line end, ever: the client has to give up.
        let chunk = vec![b'x'; 64 * 1024];
        tls.write_all(b"* 1 EXISTS ")?;
        loop {
            tls.write_all(&chunk)?;
        }
    });
    let err = session(&pki, &server, 1 << 20)
        .select("INBOX")
        .map(drop)
        .unwrap_err();
    match Error::from(err) {
        Error::ResponseTooLarge { max } => assert_eq!(max, 1 << 20),
        other => panic!("expected ResponseTooLarge, got {other:?}"),
    }
}

#[test]
fn an_endless_greeting_stops_at_64_kib() {
    let pki = Pki::new();
    let server = tls_server(x509_server(&pki), |tls| {
        let chunk = vec![b'x'; 16 * 1024];
        tls.write_all(b"* OK ")?;
        loop {
            tls.write_all(&chunk)?;
        }
    });
    let err = ImapClient::builder(rooted(&pki))
        .timeout(TIMEOUT)
        .connect("localhost", server.addr.port())
        .unwrap_err();
    assert!(
        matches!(err, Error::ResponseTooLarge { max: 65536 }),
        "{err:?}"
    );
}

/// A message of `size` bytes whose first MiB has no line end.
fn big_message(size: usize) -> Vec<u8> {
    let mut message = b"Subject: big\r\n\r\n".to_vec();
    message.extend((0..1 << 20).map(|i| b'a' + (i % 26) as u8));
    message.extend_from_slice(b"\r\n");
    while message.len() < size {
        message.extend_from_slice(b"0123456789 line\r\n");
    }
    message.truncate(size);
    message
}

/// Answers the FETCH with `message` as a literal.
fn fetch_server(pki: &Pki, message: Vec<u8>) -> tls_server::RunningServer {
    replying_server(pki, move |tls| {
        tls.write_all(format!("* 1 FETCH (UID 7 BODY[] {{{}}}\r\n", message.len()).as_bytes())?;
        tls.write_all(&message)?;
        tls.write_all(b")\r\na2 OK FETCH completed\r\n")
    })
}

#[test]
fn a_large_fetch_literal_fits_under_the_cap_and_fails_over_it() {
    let pki = Pki::new();
    let message = big_message(3 << 20);
    let server = fetch_server(&pki, message.clone());
    let mut session = session(&pki, &server, 4 << 20);
    let fetched = session.fetch("1", "(UID BODY[])").unwrap();
    assert_eq!(fetched.len(), 1);
    let first = fetched.iter().next().unwrap();
    assert_eq!(first.uid, Some(7));
    assert!(
        first.body() == Some(&message[..]),
        "the body came back changed"
    );

    let server = fetch_server(&pki, message);
    let err = session_over(&pki, &server, 2 << 20);
    assert!(
        matches!(err, Error::ResponseTooLarge { max } if max == 2 << 20),
        "{err:?}"
    );
}

/// The error of a FETCH whose reply is over `max_response`.
fn session_over(pki: &Pki, server: &tls_server::RunningServer, max_response: u64) -> Error {
    let err = session(pki, server, max_response)
        .fetch("1", "(UID BODY[])")
        .map(drop)
        .unwrap_err();
    Error::from(err)
}

#[test]
fn a_dropped_or_garbled_reply_is_an_error_not_a_hang() {
    let pki = Pki::new();
    let select = |reply: &'static [u8]| {
        let server = second_reply_server(&pki, reply);
        let mut session = session(&pki, &server, tls_mail::imap::DEFAULT_MAX_RESPONSE);
        session.select("INBOX").map(|_| ()).unwrap_err()
    };
    // The imap crate's error has no `source()`; ours leads `tls::Error::find` to the TLS failure.
    for reply in [&b"* 3 EXISTS\r\n* FLAGS (\\Seen"[..], b""] {
        let cut = Error::from(select(reply));
        assert!(
            matches!(tls::Error::find(&cut), Some(tls::Error::AbruptClose)),
            "{cut:?}"
        );
    }
    // The imap crate reports a line it cannot parse as a BYE "with no explanation";
    // Error::from tells it apart as a malformed reply.
    let garbled = select(b"* 3 EXISTS\r\n)(garbage\r\na2 OK done\r\n");
    assert!(
        matches!(&garbled, imap::Error::Bye(bye) if bye.information == "no explanation given"),
        "{garbled:?}"
    );
    assert!(matches!(Error::from(garbled), Error::Malformed));
    // A real NO keeps its text.
    let refused = select(b"a2 NO no such mailbox\r\n");
    let refused = Error::from(refused);
    assert!(
        matches!(&refused, Error::Imap(imap::Error::No(no)) if no.information == "no such mailbox"),
        "{refused:?}"
    );
}
