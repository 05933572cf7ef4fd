//! TLS-SRP: our client against our server.

use std::io::{BufRead, Write};

use tls::srp::MemoryVerifierDb;
use tls::{
    AlertDescription, Checker, ClientConfig, Error, HandshakeSettings, PeerIdentity, ServerConfig,
    Session, SessionCache,
};
use tls_testkit::{connect, echo_lines, serve_once};

fn db(bits: u32) -> MemoryVerifierDb {
    let db = MemoryVerifierDb::new();
    db.add("alice", "correct horse battery staple", bits)
        .unwrap();
    db
}

fn client(user: &str, password: &str, settings: HandshakeSettings) -> ClientConfig {
    ClientConfig::builder()
        .srp(user, password)
        .settings(settings)
        .build()
        .unwrap()
}

/// alice with her password and default settings.
fn alice() -> ClientConfig {
    client(
        "alice",
        "correct horse battery staple",
        HandshakeSettings::default(),
    )
}

/// One echo exchange; both sides' results.
fn pair(
    server: &ServerConfig,
    client: &ClientConfig,
) -> (Result<Session, Error>, Result<Option<String>, Error>) {
    let server = server.clone();
    let thread = serve_once(move |tcp| {
        let tls = server.accept(tcp)?;
        let user = tls.session().srp_username().map(str::to_owned);
        echo_lines(tls)?;
        Ok(user)
    });
    let result = client
        .connect("localhost", connect(thread.addr))
        .and_then(|mut tls| {
            tls.write_all(b"hello\n")?;
            let mut line = String::new();
            tls.read_line(&mut line)?;
            if line != "hello\n" {
                return Err(Error::Io(std::io::Error::other(format!(
                    "echo came back as {line:?}"
                ))));
            }
            let session = tls.session().clone();
            tls.close()?;
            Ok(session)
        });
    (result, thread.join())
}

#[test]
fn every_suite_with_and_without_encrypt_then_mac() {
    // MAC-then-encrypt only for those who opt in.
    let server = ServerConfig::builder()
        .verifier_db(db(2048))
        .settings(HandshakeSettings {
            allow_mac_then_encrypt: true,
            ..Default::default()
        })
        .build()
        .unwrap();
    for suite in [
        "TLS_SRP_SHA_WITH_AES_128_CBC_SHA",
        "TLS_SRP_SHA_WITH_AES_256_CBC_SHA",
    ] {
        for etm in [true, false] {
            let settings = HandshakeSettings {
                cipher_names: vec![suite.into()],
                encrypt_then_mac: etm,
                allow_mac_then_encrypt: !etm,
                ..Default::default()
            };
            let (session, served) = pair(
                &server,
                &client("alice", "correct horse battery staple", settings),
            );
            let session = session.unwrap();
            assert_eq!(served.unwrap().as_deref(), Some("alice"));
            assert_eq!(session.cipher_suite(), suite);
            assert_eq!(session.encrypt_then_mac(), Some(etm));
            assert_eq!(session.extended_master_secret(), Some(true));
            assert_eq!(session.srp_username(), Some("alice"));
            assert_eq!(session.version(), tls::ProtocolVersion::Tls12);
        }
    }
}

#[test]
fn wrong_password_is_bad_record_mac() {
    let server = ServerConfig::builder()
        .verifier_db(db(2048))
        .build()
        .unwrap();
    let (session, served) = pair(
        &server,
        &client("alice", "wrong", HandshakeSettings::default()),
    );
    assert_eq!(
        served.unwrap_err().alert(),
        Some(AlertDescription::BadRecordMac)
    );
    assert_eq!(
        session.unwrap_err().alert(),
        Some(AlertDescription::BadRecordMac)
    );
}

#[test]
fn unknown_users_are_simulated_or_refused() {
    let simulated = ServerConfig::builder()
        .verifier_db(db(2048))
        .build()
        .unwrap();
    let (_, served) = pair(
        &simulated,
        &client("mallory", "x", HandshakeSettings::default()),
    );
    assert_eq!(
        served.unwrap_err().alert(),
        Some(AlertDescription::BadRecordMac),
        "looks like a wrong password"
    );
    let honest = ServerConfig::builder()
        .verifier_db(db(2048))
        .simulate_unknown_users(false)
        .build()
        .unwrap();
    let (session, served) = pair(
        &honest,
        &client("mallory", "x", HandshakeSettings::default()),
    );
    assert_eq!(
        served.unwrap_err().alert(),
        Some(AlertDescription::UnknownPskIdentity)
    );
    assert_eq!(
        session.unwrap_err().alert(),
        Some(AlertDescription::UnknownPskIdentity)
    );
}

#[test]
fn groups_from_2048_to_8192_and_the_minimum() {
    for bits in [2048, 3072, 4096, 8192] {
        let server = ServerConfig::builder()
            .verifier_db(db(bits))
            .build()
            .unwrap();
        let (session, _) = pair(&server, &alice());
        session.unwrap_or_else(|e| panic!("{bits}: {e}"));
    }
    let small = ServerConfig::builder()
        .verifier_db(db(1024))
        .build()
        .unwrap();
    let (session, served) = pair(&small, &alice());
    assert_eq!(
        session.unwrap_err().alert(),
        Some(AlertDescription::InsufficientSecurity)
    );
    assert_eq!(
        served.unwrap_err().alert(),
        Some(AlertDescription::InsufficientSecurity)
    );
    let lenient = HandshakeSettings {
        min_srp_bits: 1024,
        ..Default::default()
    };
    pair(
        &small,
        &client("alice", "correct horse battery staple", lenient),
    )
    .0
    .unwrap();
}

#[test]
fn resumption_and_a_checker_on_the_username() {
    let server = ServerConfig::builder()
        .verifier_db(db(2048))
        .checker(Checker::new().custom(|s| match s.srp_username() {
            Some("alice") => Ok(()),
            other => Err(format!("{other:?} may not log in here")),
        }))
        .build()
        .unwrap();
    let config = alice();
    assert!(!pair(&server, &config).0.unwrap().resumed());
    let second = pair(&server, &config).0.unwrap();
    assert!(second.resumed(), "second connection did not resume");
    assert_eq!(second.srp_username(), Some("alice"));

    let bob_db = db(2048);
    bob_db.add("bob", "pw", 2048).unwrap();
    let picky = ServerConfig::builder()
        .verifier_db(bob_db)
        .checker(Checker::new().custom(|s| match s.srp_username() {
            Some("alice") => Ok(()),
            other => Err(format!("{other:?} may not log in here")),
        }))
        .build()
        .unwrap();
    let (_, served) = pair(&picky, &client("bob", "pw", HandshakeSettings::default()));
    assert!(
        matches!(served, Err(Error::Authentication(_))),
        "{served:?}"
    );
}

#[test]
fn bulk_data_in_both_directions_crosses_record_boundaries() {
    let server = ServerConfig::builder()
        .verifier_db(db(2048))
        .build()
        .unwrap();
    let thread = serve_once(move |tcp| {
        let mut tls = server.accept(tcp).unwrap();
        let mut got = vec![0u8; 1_000_003];
        std::io::Read::read_exact(&mut tls, &mut got).unwrap();
        tls.write_all(&got).unwrap();
        tls.close().unwrap();
    });
    let config = alice();
    let mut tls = config.connect("localhost", connect(thread.addr)).unwrap();
    let payload: Vec<u8> = (0..1_000_003u32).map(|i| (i % 251) as u8).collect();
    tls.write_all(&payload).unwrap();
    tls.flush().unwrap();
    let mut reader = tls;
    let mut back = Vec::new();
    {
        use std::io::Read;
        let mut buf = vec![0u8; 1 << 16];
        while back.len() < payload.len() {
            let n = reader.read(&mut buf).unwrap();
            assert!(n > 0, "stream ended after {} bytes", back.len());
            back.extend_from_slice(&buf[..n]);
        }
    }
    assert!(back == payload, "echo differs");
    thread.join();
}

/// A session made before a password change or a deletion never resumes after it: the cached
/// session is tied to the verifier entry it was made with.
#[test]
fn sessions_end_when_the_user_is_changed_or_deleted() {
    let users = std::sync::Arc::new(db(2048));
    let server = ServerConfig::builder()
        .shared_verifier_db(users.clone())
        .build()
        .unwrap();
    let alice = alice();
    assert!(!pair(&server, &alice).0.unwrap().resumed());
    assert!(pair(&server, &alice).0.unwrap().resumed());
    // The same password again gives a new salt and verifier: a changed entry.
    users
        .add("alice", "correct horse battery staple", 2048)
        .unwrap();
    let after_change = pair(&server, &alice).0.unwrap();
    assert!(!after_change.resumed(), "resumed across a password change");
    assert!(pair(&server, &alice).0.unwrap().resumed());
    assert!(users.remove("alice"));
    let (session, served) = pair(&server, &alice);
    assert!(session.is_err(), "a deleted user logged in: {session:?}");
    assert_eq!(
        served.unwrap_err().alert(),
        Some(AlertDescription::BadRecordMac)
    );
}

/// Every server reading one verifier database shows an unknown name the same salt, before and
/// after a restart, in the database's default group, with a salt shaped like real ones.
#[cfg(feature = "sqlite")]
#[test]
fn unknown_users_look_alike_on_every_server_of_a_database() {
    use tls::srp::SqliteVerifierDb;
    use tls_testkit::{srp_client_hello, srp_first_flight};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.db");
    let created = SqliteVerifierDb::create(&path).unwrap();
    created.set_default_bits(3072).unwrap();
    created
        .add(
            "alice",
            &tls::srp::make_verifier("alice", "pw", 3072).unwrap(),
        )
        .unwrap();
    drop(created);
    // Two servers, each with its own handle on the file (as two processes would have).
    let flights: Vec<_> = (0..2)
        .map(|_| {
            let server = ServerConfig::builder()
                .verifier_db(SqliteVerifierDb::open(&path).unwrap())
                .build()
                .unwrap();
            ["alice", "mallory"].map(|user| {
                let server = server.clone();
                let thread = serve_once(move |tcp| {
                    let _ = server.accept(tcp);
                });
                let flight = srp_first_flight(thread.addr, &srp_client_hello(user)).unwrap();
                thread.join();
                flight.0
            })
        })
        .collect();
    let [alice, mallory] = &flights[0];
    assert_eq!(
        mallory.salt, flights[1][1].salt,
        "servers disagree on the fake salt"
    );
    assert_ne!(mallory.b, flights[1][1].b, "B must still be fresh");
    assert_eq!(
        mallory.n, alice.n,
        "the fake user is not in the database's group"
    );
    assert_eq!(mallory.n.len(), 3072 / 8);
    assert_eq!(mallory.salt.len(), alice.salt.len());
    assert_ne!(mallory.salt[0], 0);
}

/// Encrypt-then-MAC is required unless both sides opt in to MAC-then-encrypt: a client or a
/// server without it is refused with `insufficient_security`, and turning EtM off without the
/// opt-in is a configuration error, not a silent downgrade.
#[test]
fn mac_then_encrypt_needs_an_explicit_opt_in() {
    let legacy = HandshakeSettings {
        encrypt_then_mac: false,
        allow_mac_then_encrypt: true,
        ..Default::default()
    };
    let strict = ServerConfig::builder()
        .verifier_db(db(2048))
        .build()
        .unwrap();
    let (session, served) = pair(
        &strict,
        &client("alice", "correct horse battery staple", legacy.clone()),
    );
    assert_eq!(
        served.unwrap_err().alert(),
        Some(AlertDescription::InsufficientSecurity)
    );
    assert!(session.is_err());
    let legacy_server = ServerConfig::builder()
        .verifier_db(db(2048))
        .settings(legacy)
        .build()
        .unwrap();
    let (session, _) = pair(&legacy_server, &alice());
    assert_eq!(
        session.unwrap_err().alert(),
        Some(AlertDescription::InsufficientSecurity)
    );
    let nothing_left = HandshakeSettings {
        encrypt_then_mac: false,
        ..Default::default()
    };
    let e = ClientConfig::builder()
        .srp("alice", "pw")
        .settings(nothing_left.clone())
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("allow_mac_then_encrypt"), "{e}");
    assert!(ServerConfig::builder()
        .verifier_db(db(2048))
        .settings(nothing_left)
        .build()
        .is_err());
}

/// ALPN and SNI work over SRP as over X.509: the client sends the host name (never an address)
/// and its protocols, the server picks its first in common that may run over SRP's suites (not
/// h2: RFC 9113 rules CBC out), and a client setting that SRP
/// cannot honour (a client certificate, an X.509 session store) is refused, not dropped.
#[test]
fn alpn_and_sni_over_srp_and_settings_srp_cannot_honour() {
    let with_alpn = |protocols: &[&str]| HandshakeSettings {
        alpn: protocols.iter().map(|p| p.to_string()).collect(),
        ..Default::default()
    };
    let server = ServerConfig::builder()
        .verifier_db(db(2048))
        .settings(with_alpn(&["h2", "http/1.1"]))
        .build()
        .unwrap();
    let thread = serve_once({
        let server = server.clone();
        move |tcp| {
            let tls = server.accept(tcp)?;
            let session = tls.session().clone();
            echo_lines(tls)?;
            Ok::<_, Error>(session)
        }
    });
    let alpn_client = client(
        "alice",
        "correct horse battery staple",
        with_alpn(&["http/1.1", "h2"]),
    );
    let mut tls = alpn_client
        .connect("localhost", connect(thread.addr))
        .unwrap();
    tls.write_all(b"hi\n").unwrap();
    let mut line = String::new();
    tls.read_line(&mut line).unwrap();
    let session = tls.session().clone();
    tls.close().unwrap();
    let served = thread.join().unwrap();
    // The server's first choice, h2, is passed over: every SRP suite is CBC, which RFC 9113
    // §9.2.2 rules out for HTTP/2.
    assert_eq!(session.alpn_protocol(), Some(&b"http/1.1"[..]));
    assert_eq!(served.alpn_protocol(), Some(&b"http/1.1"[..]));
    assert_eq!(served.server_name(), Some("localhost"));
    assert_eq!(session.server_name(), Some("localhost"));

    // No protocol in common is fatal (RFC 7301), h2 alone included; an IP address is never
    // sent by SNI.
    for offered in ["smtp", "h2"] {
        let (session, served) = pair(
            &server,
            &client(
                "alice",
                "correct horse battery staple",
                with_alpn(&[offered]),
            ),
        );
        assert_eq!(
            served.unwrap_err().alert(),
            Some(AlertDescription::NoApplicationProtocol),
            "{offered}"
        );
        assert!(session.is_err());
    }
    let thread = serve_once(move |tcp| server.accept(tcp).map(|t| t.session().clone()));
    let by_address = alpn_client
        .connect("127.0.0.1", connect(thread.addr))
        .unwrap();
    assert_eq!(by_address.session().server_name(), None);
    assert_eq!(thread.join().unwrap().server_name(), None);

    let pki = tls_testkit::Pki::new();
    let refused = ClientConfig::builder()
        .srp("alice", "pw")
        .client_cert(pki.client.chain(), pki.client.key())
        .build();
    assert!(matches!(refused, Err(Error::Config(_))));
    let refused = ClientConfig::builder()
        .srp("alice", "pw")
        .session_store(tls::SessionStore::default())
        .build();
    assert!(matches!(refused, Err(Error::Config(_))));
    let refused = ServerConfig::builder()
        .verifier_db(db(2048))
        .require_client_cert(pki.client_roots())
        .build();
    assert!(matches!(refused, Err(Error::Config(_))));
}

/// The server's session cache holds our engine's sessions as it holds rustls's: its size
/// bounds them, and configurations built with clones of one cache resume each other's.
#[test]
fn the_session_cache_bounds_and_shares_srp_sessions() {
    let users = std::sync::Arc::new(db(2048));
    let server = |cache: &SessionCache| {
        ServerConfig::builder()
            .shared_verifier_db(users.clone())
            .session_cache(Some(cache.clone()))
            .build()
            .unwrap()
    };
    let one = SessionCache::new(1);
    let small = server(&one);
    let (first, second) = (alice(), alice());
    let made = pair(&small, &first).0.unwrap();
    assert!(!made.resumed());
    assert!(
        matches!(
            made.peer_identity(),
            PeerIdentity::Srp {
                username: "alice",
                certificates: []
            }
        ),
        "{:?}",
        made.peer_identity()
    );
    assert!(pair(&small, &first).0.unwrap().resumed(), "not kept at all");
    assert!(!pair(&small, &second).0.unwrap().resumed());
    // The second client's session took the only place: the first's is gone.
    assert!(
        !pair(&small, &first).0.unwrap().resumed(),
        "a cache of one kept two SRP sessions"
    );

    let shared = SessionCache::new(16);
    let (a, b) = (server(&shared), server(&shared));
    let client = alice();
    assert!(!pair(&a, &client).0.unwrap().resumed());
    assert!(
        pair(&b, &client).0.unwrap().resumed(),
        "a clone of the cache did not share the session"
    );
}
