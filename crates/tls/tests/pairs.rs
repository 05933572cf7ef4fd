//! Our client against our server over loopback TCP, in every authentication mode.

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;

use tls::{
    AlertDescription, AuthenticationError, Checker, ClientConfig, Error, FingerprintAlgorithm,
    HandshakeSettings, ProtocolVersion, ServerAuth, ServerConfig, TlsStream,
};
use tls_testkit::{connect, echo_lines, serve_once, Identity, Pki};

fn server_config(id: &Identity) -> tls::ServerConfigBuilder {
    ServerConfig::builder().cert_chain(id.chain(), id.key())
}

fn roots_client(pki: &Pki) -> tls::ClientConfigBuilder {
    ClientConfig::builder().server_auth(ServerAuth::Roots(pki.roots()))
}

type Served = Result<Vec<String>, Error>;

/// Starts an echo server, connects as `host`, says hello, and returns both sides' results.
fn echo_pair(
    server: &ServerConfig,
    client: &ClientConfig,
    host: &str,
) -> (Result<tls::Session, Error>, Served) {
    let server = server.clone();
    let thread = serve_once(move |tcp| echo_lines(server.accept(tcp)?));
    let client_result = client
        .connect(host, connect(thread.addr))
        .and_then(|mut tls| {
            tls.write_all(b"hello\n")?;
            let mut line = String::new();
            tls.read_line(&mut line)?;
            if line != "hello\n" {
                let why = format!("echo came back as {line:?}");
                return Err(Error::Io(std::io::Error::other(why)));
            }
            let session = tls.session().clone();
            tls.close()?;
            Ok(session)
        });
    (client_result, thread.join())
}

fn expect_local_alert(result: Result<impl std::fmt::Debug, Error>, alert: AlertDescription) {
    match result {
        Err(Error::LocalAlert { description, .. }) if description == alert => {}
        other => panic!("expected local alert {alert}, got {other:?}"),
    }
}

fn expect_remote_alert(result: Result<impl std::fmt::Debug, Error>, alert: AlertDescription) {
    match result {
        Err(Error::RemoteAlert { description }) if description == alert => {}
        other => panic!("expected remote alert {alert}, got {other:?}"),
    }
}

#[test]
fn ca_chain_with_intermediate_verifies_and_reports_the_session() {
    let pki = Pki::new();
    let server = server_config(&pki.server).build().unwrap();
    let client = roots_client(&pki).build().unwrap();
    let (session, served) = echo_pair(&server, &client, "localhost");
    let session = session.unwrap();
    assert_eq!(served.unwrap(), vec!["hello\n"]);
    assert_eq!(session.version(), ProtocolVersion::Tls13);
    assert!(
        session.cipher_suite().starts_with("TLS_"),
        "{}",
        session.cipher_suite()
    );
    assert_eq!(
        session.peer_certificates().len(),
        2,
        "leaf and intermediate"
    );
    assert_eq!(session.peer_certificate(), Some(&pki.server.leaf_der[..]));
    assert_eq!(
        session.peer_fingerprint_sha256(),
        Some(pki.server.fingerprint(FingerprintAlgorithm::Sha256))
    );
    assert_eq!(session.server_name(), Some("localhost"));
    assert!(!session.resumed());
}

#[test]
fn ip_address_hosts_verify_against_ip_subject_alt_names() {
    let pki = Pki::new();
    let server = server_config(&pki.server).build().unwrap();
    let (session, _) = echo_pair(&server, &roots_client(&pki).build().unwrap(), "127.0.0.1");
    assert_eq!(
        session.unwrap().server_name(),
        None,
        "no SNI for IP addresses"
    );
}

#[test]
fn default_webpki_roots_reject_a_private_ca() {
    let pki = Pki::new();
    let server = server_config(&pki.server).build().unwrap();
    let client = ClientConfig::builder().build().unwrap();
    let (client_result, served) = echo_pair(&server, &client, "localhost");
    expect_local_alert(client_result, AlertDescription::UnknownCa);
    expect_remote_alert(served, AlertDescription::UnknownCa);
}

#[test]
fn host_name_mismatch_fails() {
    let pki = Pki::new();
    let server = server_config(&pki.other_host).build().unwrap();
    let client = roots_client(&pki).build().unwrap();
    let (client_result, served) = echo_pair(&server, &client, "localhost");
    expect_local_alert(client_result, AlertDescription::BadCertificate);
    assert!(served.is_err());
}

#[test]
fn sha1_and_sha256_pins_accept_the_pinned_certificate_whatever_its_name() {
    let pki = Pki::new();
    // A self-signed certificate for "localhost", reached under another name: only the pin counts.
    let server = server_config(&pki.self_signed).build().unwrap();
    for algorithm in [FingerprintAlgorithm::Sha1, FingerprintAlgorithm::Sha256] {
        let pin = pki
            .self_signed
            .fingerprint(algorithm)
            .to_hex()
            .parse()
            .unwrap();
        let client = ClientConfig::builder()
            .server_auth(ServerAuth::Fingerprint(pin))
            .build()
            .unwrap();
        let (session, served) = echo_pair(&server, &client, "anything.example");
        assert_eq!(served.unwrap(), vec!["hello\n"], "{algorithm:?}");
        assert_eq!(
            session.unwrap().peer_fingerprint(algorithm),
            Some(pki.self_signed.fingerprint(algorithm))
        );
    }
}

#[test]
fn pin_mismatch_is_an_authentication_error() {
    let pki = Pki::new();
    let server = server_config(&pki.self_signed).build().unwrap();
    let wrong = pki.server.fingerprint(FingerprintAlgorithm::Sha256);
    let client = ClientConfig::builder()
        .server_auth(ServerAuth::Fingerprint(wrong.clone()))
        .build()
        .unwrap();
    let (client_result, served) = echo_pair(&server, &client, "localhost");
    match client_result {
        Err(Error::Authentication(AuthenticationError::FingerprintMismatch {
            expected,
            actual,
        })) => {
            assert_eq!(expected, wrong);
            assert_eq!(
                actual,
                pki.self_signed.fingerprint(FingerprintAlgorithm::Sha256)
            );
        }
        other => panic!("expected a fingerprint mismatch, got {other:?}"),
    }
    expect_remote_alert(served, AlertDescription::CertificateUnknown);
}

#[test]
fn required_client_certificate_is_verified_and_visible_to_the_server() {
    let pki = Pki::new();
    let server = server_config(&pki.server)
        .require_client_cert(pki.client_roots())
        .build()
        .unwrap();
    let client = roots_client(&pki)
        .client_cert(pki.client.chain(), pki.client.key())
        .build()
        .unwrap();
    let thread = serve_once(move |tcp| {
        let tls = server.accept(tcp)?;
        let seen = tls.session().peer_fingerprint_sha256();
        echo_lines(tls)?;
        Ok::<_, Error>(seen)
    });
    let mut tls = client.connect("localhost", connect(thread.addr)).unwrap();
    tls.write_all(b"hi\n").unwrap();
    let mut line = String::new();
    tls.read_line(&mut line).unwrap();
    tls.close().unwrap();
    assert_eq!(
        thread.join().unwrap(),
        Some(pki.client.fingerprint(FingerprintAlgorithm::Sha256))
    );
}

#[test]
fn required_client_certificate_missing_or_untrusted_is_refused() {
    let pki = Pki::new();
    let server = server_config(&pki.server)
        .require_client_cert(pki.client_roots())
        .build()
        .unwrap();
    let without = roots_client(&pki).build().unwrap();
    let (client_result, served) = echo_pair(&server, &without, "localhost");
    expect_local_alert(served, AlertDescription::CertificateRequired);
    // In TLS 1.3 the client finishes first, so it learns of the refusal on its first read.
    expect_remote_alert(client_result, AlertDescription::CertificateRequired);

    let stranger = roots_client(&pki)
        .client_cert(pki.stranger.chain(), pki.stranger.key())
        .build()
        .unwrap();
    let (client_result, served) = echo_pair(&server, &stranger, "localhost");
    expect_local_alert(served, AlertDescription::UnknownCa);
    expect_remote_alert(client_result, AlertDescription::UnknownCa);
}

#[test]
fn requested_client_certificate_is_optional() {
    let pki = Pki::new();
    let server = server_config(&pki.server)
        .request_client_cert(pki.client_roots())
        .build()
        .unwrap();
    let client = roots_client(&pki).build().unwrap();
    let (session, served) = echo_pair(&server, &client, "localhost");
    session.unwrap();
    served.unwrap();
}

#[test]
fn checker_accepts_and_rejects_on_both_sides() {
    let pki = Pki::new();
    let server = server_config(&pki.server).build().unwrap();
    let sha1 = FingerprintAlgorithm::Sha1;
    let right = Checker::new().x509_fingerprint(pki.server.fingerprint(sha1));
    let client = roots_client(&pki).checker(right).build().unwrap();
    echo_pair(&server, &client, "localhost").0.unwrap();

    let wrong = Checker::new().x509_fingerprint(pki.other_host.fingerprint(sha1));
    let client = roots_client(&pki).checker(wrong).build().unwrap();
    let (refused, served) = echo_pair(&server, &client, "localhost");
    assert!(
        matches!(
            refused,
            Err(Error::Authentication(
                AuthenticationError::FingerprintMismatch { .. }
            ))
        ),
        "{refused:?}"
    );
    // The client closed politely: the server saw no data and a clean end.
    assert_eq!(served.unwrap(), Vec::<String>::new());

    // A server-side checker that wants a client certificate, when none is sent.
    let client_fp = pki.client.fingerprint(FingerprintAlgorithm::Sha256);
    let picky = server_config(&pki.server)
        .request_client_cert(pki.client_roots())
        .checker(Checker::new().x509_fingerprint(client_fp))
        .build()
        .unwrap();
    let plain = roots_client(&pki).build().unwrap();
    let (client_result, served) = echo_pair(&picky, &plain, "localhost");
    // The server ends with close_notify, so the client sees an end of stream instead of its echo.
    assert!(client_result.is_err());
    assert!(
        matches!(
            served,
            Err(Error::Authentication(
                AuthenticationError::NoPeerCertificate
            ))
        ),
        "{served:?}"
    );

    let custom = server_config(&pki.server)
        .checker(Checker::new().custom(|s| match s.server_name() {
            Some("localhost") => Ok(()),
            other => Err(format!("unexpected SNI {other:?}")),
        }))
        .build()
        .unwrap();
    echo_pair(&custom, &plain, "localhost").0.unwrap();
    let no_sni = roots_client(&pki)
        .settings(HandshakeSettings {
            sni: false,
            ..Default::default()
        })
        .build()
        .unwrap();
    let (_, served) = echo_pair(&custom, &no_sni, "localhost");
    match served {
        Err(Error::Authentication(AuthenticationError::Rejected(why))) => {
            assert!(why.contains("None"), "{why}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn tls12_and_tls13_are_negotiated_as_configured() {
    let pki = Pki::new();
    let server = server_config(&pki.server).build().unwrap();
    let only12 = HandshakeSettings {
        max_version: ProtocolVersion::Tls12,
        ..Default::default()
    };
    let client = roots_client(&pki).settings(only12).build().unwrap();
    let session = echo_pair(&server, &client, "localhost").0.unwrap();
    assert_eq!(session.version(), ProtocolVersion::Tls12);
    let suite = session.cipher_suite();
    assert!(suite.starts_with("TLS_ECDHE_ECDSA_WITH_"), "{suite}");

    let only13 = server_config(&pki.server)
        .settings(HandshakeSettings {
            min_version: ProtocolVersion::Tls13,
            ..Default::default()
        })
        .build()
        .unwrap();
    let (client_result, served) = echo_pair(&only13, &client, "localhost");
    assert!(client_result.unwrap_err().alert().is_some());
    expect_local_alert(served, AlertDescription::ProtocolVersion);

    let chacha = HandshakeSettings {
        cipher_names: vec!["TLS_CHACHA20_POLY1305_SHA256".into()],
        ..Default::default()
    };
    let client = roots_client(&pki).settings(chacha).build().unwrap();
    let session = echo_pair(&server, &client, "localhost").0.unwrap();
    assert_eq!(session.cipher_suite(), "TLS_CHACHA20_POLY1305_SHA256");
}

#[test]
fn alpn_agreement_and_refusal() {
    let pki = Pki::new();
    let alpn = |protocols: &[&str]| HandshakeSettings {
        alpn: protocols.iter().map(|p| p.to_string()).collect(),
        ..Default::default()
    };
    let server = server_config(&pki.server)
        .settings(alpn(&["http/1.1"]))
        .build()
        .unwrap();
    let client = roots_client(&pki)
        .settings(alpn(&["h2", "http/1.1"]))
        .build()
        .unwrap();
    let session = echo_pair(&server, &client, "localhost").0.unwrap();
    assert_eq!(session.alpn_protocol(), Some(&b"http/1.1"[..]));

    let h2_only = server_config(&pki.server)
        .settings(alpn(&["h2"]))
        .build()
        .unwrap();
    let http11 = roots_client(&pki)
        .settings(alpn(&["http/1.1"]))
        .build()
        .unwrap();
    let (client_result, served) = echo_pair(&h2_only, &http11, "localhost");
    expect_remote_alert(client_result, AlertDescription::NoApplicationProtocol);
    expect_local_alert(served, AlertDescription::NoApplicationProtocol);
}

#[test]
fn second_connection_resumes_in_tls12_and_tls13() {
    let pki = Pki::new();
    for version in [ProtocolVersion::Tls12, ProtocolVersion::Tls13] {
        let settings = HandshakeSettings {
            max_version: version,
            ..Default::default()
        };
        let server = server_config(&pki.server).build().unwrap();
        let client = roots_client(&pki).settings(settings).build().unwrap();
        let first = echo_pair(&server, &client, "localhost").0.unwrap();
        let second = echo_pair(&server, &client, "localhost").0.unwrap();
        assert!(!first.resumed(), "{version}");
        assert!(
            second.resumed(),
            "{version}: second connection did not resume"
        );
        assert_eq!(second.version(), version);
        assert_eq!(second.peer_certificate(), first.peer_certificate());
    }
}

#[test]
fn resumption_by_session_id_without_tickets() {
    let pki = Pki::new();
    let settings = HandshakeSettings {
        max_version: ProtocolVersion::Tls12,
        ..Default::default()
    };
    let server = server_config(&pki.server).tickets(false).build().unwrap();
    let client = roots_client(&pki).settings(settings).build().unwrap();
    assert!(!echo_pair(&server, &client, "localhost")
        .0
        .unwrap()
        .resumed());
    assert!(echo_pair(&server, &client, "localhost")
        .0
        .unwrap()
        .resumed());

    let forgetful = server_config(&pki.server)
        .tickets(false)
        .session_cache(None)
        .build()
        .unwrap();
    echo_pair(&forgetful, &client, "localhost").0.unwrap();
    assert!(!echo_pair(&forgetful, &client, "localhost")
        .0
        .unwrap()
        .resumed());
}

/// The server sends `bye`, then either close_notify or just drops the socket.
fn read_after(polite: bool, ignore_abrupt_close: bool) -> Result<Vec<u8>, Error> {
    let pki = Pki::new();
    let server = server_config(&pki.server).build().unwrap();
    let thread = serve_once(move |tcp| {
        let mut tls = server.accept(tcp).unwrap();
        tls.write_all(b"bye").unwrap();
        if polite {
            tls.close().unwrap();
        }
    });
    let client = roots_client(&pki).build().unwrap();
    let mut tls: TlsStream<TcpStream> = client.connect("localhost", connect(thread.addr))?;
    tls.set_ignore_abrupt_close(ignore_abrupt_close);
    thread.join();
    let mut got = Vec::new();
    tls.read_to_end(&mut got).map_err(Error::from)?;
    Ok(got)
}

#[test]
fn close_notify_ends_the_stream_cleanly() {
    assert_eq!(read_after(true, false).unwrap(), b"bye");
}

#[test]
fn close_without_close_notify_is_an_abrupt_close() {
    assert!(matches!(read_after(false, false), Err(Error::AbruptClose)));
    assert_eq!(read_after(false, true).unwrap(), b"bye");
}

#[test]
fn bufread_lines_then_bulk_data_keep_every_byte() {
    let pki = Pki::new();
    let server = server_config(&pki.server).build().unwrap();
    let payload: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let sent = payload.clone();
    let thread = serve_once(move |tcp| {
        let mut tls = server.accept(tcp).unwrap();
        tls.write_all(b"first line\nsecond line\n").unwrap();
        tls.write_all(&sent).unwrap();
        tls.close().unwrap();
    });
    let client = roots_client(&pki).build().unwrap();
    let mut tls = client.connect("localhost", connect(thread.addr)).unwrap();
    let mut line = String::new();
    tls.read_line(&mut line).unwrap();
    assert_eq!(line, "first line\n");
    line.clear();
    tls.read_line(&mut line).unwrap();
    assert_eq!(line, "second line\n");
    let mut rest = Vec::new();
    tls.read_to_end(&mut rest).unwrap();
    assert!(
        rest == payload,
        "payload differs ({} bytes read)",
        rest.len()
    );
    thread.join();
}

#[test]
fn sessions_resume_only_under_the_configuration_that_made_them() {
    let pki = Pki::new();
    let server = server_config(&pki.server).build().unwrap();
    let store = tls::SessionStore::new(16);
    let a = roots_client(&pki)
        .session_store(store.clone())
        .build()
        .unwrap();
    assert!(!echo_pair(&server, &a, "localhost").0.unwrap().resumed());
    assert!(echo_pair(&server, &a.clone(), "localhost")
        .0
        .unwrap()
        .resumed());
    // Another configuration authenticates the server its own way: a session made under `a`
    // must not let it skip that, even with the store shared.
    let b = roots_client(&pki).session_store(store).build().unwrap();
    assert!(!echo_pair(&server, &b, "localhost").0.unwrap().resumed());

    let never = roots_client(&pki).no_resumption().build().unwrap();
    echo_pair(&server, &never, "localhost").0.unwrap();
    assert!(!echo_pair(&server, &never, "localhost").0.unwrap().resumed());
}
