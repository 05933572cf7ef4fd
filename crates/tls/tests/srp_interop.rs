//! TLS-SRP against real peers, both directions: tlslite-ng 0.8.2 and GnuTLS.
//! A missing peer skips with a message, or fails under `TLS_PEERS_REQUIRED=1`.

use std::io::{BufRead, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::Duration;

use tls::srp::MemoryVerifierDb;
use tls::{ClientConfig, Error, HandshakeSettings, ServerConfig, Session, TlsStream};
use tls_testkit::{
    connect, gnutls_serv, peer, rsa_identity, run, srptool_passwd, succeeded, tlslite_srp_server,
    PeerProcess,
};

const USER: &str = "alice";
const PASSWORD: &str = "tr0ub4dor&3";

fn srp_client(settings: HandshakeSettings) -> ClientConfig {
    ClientConfig::builder()
        .srp(USER, PASSWORD)
        .settings(settings)
        .build()
        .unwrap()
}

/// The AES-CBC SRP suites without a certificate.
const SUITES: [&str; 2] = [
    "TLS_SRP_SHA_WITH_AES_128_CBC_SHA",
    "TLS_SRP_SHA_WITH_AES_256_CBC_SHA",
];

/// An SRP client offering only `suite`.
fn suite_client(suite: &str) -> ClientConfig {
    srp_client(HandshakeSettings {
        cipher_names: vec![suite.into()],
        ..Default::default()
    })
}

/// GET `path` over HTTP/1.0 from an SRP server; the session and the body.
fn get(config: &ClientConfig, port: u16, path: &str) -> Result<(Session, Vec<u8>), Error> {
    let mut tls = config.connect("localhost", connect(([127, 0, 0, 1], port).into()))?;
    write!(tls, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
    tls.flush()?;
    let mut response = Vec::new();
    // Both servers close without close_notify after an HTTP/1.0 answer at times.
    tls.set_ignore_abrupt_close(true);
    tls.read_to_end(&mut response)?;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(0, |i| i + 4);
    Ok((tls.session().clone(), response.split_off(split)))
}

#[test]
fn our_client_against_tlslite_ng_server() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hello.txt"), "hello from tlslite-ng\n").unwrap();
    let Some((_server, port)) = tlslite_srp_server(dir.path(), USER, PASSWORD, None) else {
        return;
    };
    for suite in SUITES {
        let (session, body) = get(&suite_client(suite), port, "/hello.txt").unwrap();
        assert_eq!(body, b"hello from tlslite-ng\n");
        assert_eq!(session.cipher_suite(), suite);
        assert_eq!(session.encrypt_then_mac(), Some(true));
        assert_eq!(session.extended_master_secret(), Some(true));
    }
    let wrong = ClientConfig::builder().srp(USER, "wrong").build().unwrap();
    let e = get(&wrong, port, "/hello.txt").unwrap_err();
    assert!(e.alert().is_some(), "{e:?}");
}

/// gnutls-serv with `alice` in the 2048-bit group, answering HTTP.
fn gnutls_http(priority: &str) -> Option<(PeerProcess, u16, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let (passwd, conf) = srptool_passwd(dir.path(), USER, PASSWORD, 3)?;
    let (process, port) = gnutls_serv(&passwd, &conf, priority, &["--http"])?;
    Some((process, port, dir))
}

const GNUTLS_SRP: &str = "NORMAL:-KX-ALL:+SRP:-VERS-TLS1.3";

#[test]
fn our_client_against_gnutls_serv_500_handshakes() {
    let Some((_server, port, _dir)) = gnutls_http(GNUTLS_SRP) else {
        return;
    };
    let config = ClientConfig::builder()
        .srp(USER, PASSWORD)
        .no_resumption()
        .build()
        .unwrap();
    for i in 0..500 {
        let (session, body) =
            get(&config, port, "/").unwrap_or_else(|e| panic!("handshake {i}: {e}"));
        assert!(!body.is_empty());
        if i == 0 {
            assert_eq!(session.encrypt_then_mac(), Some(true));
            assert_eq!(session.extended_master_secret(), Some(true));
        }
    }
}

#[test]
fn tlslite_ng_reads_records_sealed_side_by_side() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hello.txt"), "hello from tlslite-ng\n").unwrap();
    let Some((_server, port)) = tlslite_srp_server(dir.path(), USER, PASSWORD, None) else {
        return;
    };
    // A request head of 180 KB in one write: 12 records, CBC chains encrypted 8 at a time,
    // then the last 4. The server answers only if it authenticated and decrypted every one.
    let mut request = String::from("GET /hello.txt HTTP/1.0\r\nHost: localhost\r\n");
    for i in 0..90 {
        let pad: String = (0..2000)
            .map(|j| (b'a' + ((i + j) % 26) as u8) as char)
            .collect();
        request += &format!("X-Pad-{i}: {pad}\r\n");
    }
    request += "\r\n";
    for suite in SUITES {
        let mut tls = suite_client(suite)
            .connect("localhost", connect(([127, 0, 0, 1], port).into()))
            .unwrap();
        tls.write_all(request.as_bytes()).unwrap();
        tls.flush().unwrap();
        tls.set_ignore_abrupt_close(true);
        let mut response = String::new();
        tls.read_to_string(&mut response).unwrap();
        assert!(response.starts_with("HTTP/1.0 200"), "{suite}: {response}");
        assert!(
            response.ends_with("hello from tlslite-ng\n"),
            "{suite}: {response}"
        );
    }
}

#[test]
fn our_client_against_gnutls_without_encrypt_then_mac_and_resuming() {
    let Some((_server, port, _dir)) = gnutls_http(&format!("{GNUTLS_SRP}:%NO_ETM")) else {
        return;
    };
    // By default a server without Encrypt-then-MAC is refused, never silently used.
    let e = get(&srp_client(HandshakeSettings::default()), port, "/").unwrap_err();
    assert_eq!(
        e.alert(),
        Some(tls::AlertDescription::InsufficientSecurity),
        "{e:?}"
    );
    let config = srp_client(HandshakeSettings {
        allow_mac_then_encrypt: true,
        ..Default::default()
    });
    let (first, _) = get(&config, port, "/").unwrap();
    assert_eq!(
        first.encrypt_then_mac(),
        Some(false),
        "MAC-then-encrypt with a peer lacking EtM"
    );
    let (second, body) = get(&config, port, "/").unwrap();
    assert!(second.resumed(), "gnutls-serv did not resume");
    assert!(!body.is_empty());
}

/// RFC 5077 with GnuTLS: a gnutls-serv that keeps no sessions (`--nodb`) can resume only
/// through the ticket it gave our client, and does so time after time.
#[test]
fn our_client_resumes_with_nothing_but_a_gnutls_ticket() {
    let dir = tempfile::tempdir().unwrap();
    let Some((passwd, conf)) = srptool_passwd(dir.path(), USER, PASSWORD, 3) else {
        return;
    };
    let Some((_server, port)) = gnutls_serv(&passwd, &conf, GNUTLS_SRP, &["--http", "--nodb"])
    else {
        return;
    };
    let config = srp_client(HandshakeSettings::default());
    assert!(!get(&config, port, "/").unwrap().0.resumed());
    for i in 0..3 {
        let (session, body) = get(&config, port, "/").unwrap();
        assert!(session.resumed(), "resumption {i} with the ticket");
        assert!(!body.is_empty());
    }
    // Without resumption our client asks for no ticket: nothing to resume with.
    let once = ClientConfig::builder()
        .srp(USER, PASSWORD)
        .no_resumption()
        .build()
        .unwrap();
    get(&once, port, "/").unwrap();
    assert!(!get(&once, port, "/").unwrap().0.resumed());
}

/// Our SRP server for `connections` connections: each reads a line (if any), echoes it, closes.
fn our_server(connections: usize) -> (u16, thread::JoinHandle<Vec<Result<Session, Error>>>) {
    our_server_with(connections, HandshakeSettings::default())
}

/// The same, with these settings.
fn our_server_with(
    connections: usize,
    settings: HandshakeSettings,
) -> (u16, thread::JoinHandle<Vec<Result<Session, Error>>>) {
    let db = MemoryVerifierDb::new();
    db.add(USER, PASSWORD, 2048).unwrap();
    let config = ServerConfig::builder()
        .verifier_db(db)
        .settings(settings)
        .build()
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = thread::spawn(move || {
        (0..connections)
            .map(|_| {
                let (tcp, _) = listener.accept().unwrap();
                tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                let mut tls: TlsStream<_> = config.accept(tcp)?;
                let session = tls.session().clone();
                let mut line = String::new();
                if tls.read_line(&mut line).is_ok() && !line.is_empty() {
                    tls.write_all(line.as_bytes())?;
                }
                let _ = tls.close();
                Ok(session)
            })
            .collect()
    });
    (port, handle)
}

#[test]
fn tlslite_ng_client_against_our_server() {
    let Some(tls_py) = peer("tls.py") else { return };
    let (port, server) = our_server(1);
    let out = run(
        Command::new(tls_py).args([
            "client",
            "--max-ver",
            "tls1.2",
            "-u",
            USER,
            "-p",
            PASSWORD,
            &format!("localhost:{port}"),
        ]),
        b"",
    );
    let stdout = succeeded(&out);
    assert!(stdout.contains("Encrypt-then-MAC: True"), "{stdout}");
    assert!(stdout.contains("Extended Master Secret: True"), "{stdout}");
    // tlslite-ng prints the name as a Python bytearray.
    assert!(
        stdout.contains("Client SRP username: ") && stdout.contains(USER),
        "{stdout}"
    );
    assert!(
        stdout.contains("Ciphersuite: TLS_SRP_SHA_WITH_AES_128_CBC_SHA"),
        "{stdout}"
    );
    let sessions = server.join().unwrap();
    assert_eq!(sessions[0].as_ref().unwrap().srp_username(), Some(USER));
}

/// gnutls-cli offering h2 and HTTP/1.1 to our SRP server, which prefers h2: HTTP/1.1 is
/// chosen, since RFC 9113 §9.2.2 rules HTTP/2 out over CBC suites (all of SRP's).
/// (tlslite-ng's client sends no ALPN with SRP.)
#[test]
fn gnutls_cli_gets_http1_1_not_h2_over_srp() {
    let Some(cli) = peer("gnutls-cli") else {
        return;
    };
    let settings = HandshakeSettings {
        alpn: vec!["h2".into(), "http/1.1".into()],
        ..Default::default()
    };
    let (port, server) = our_server_with(1, settings);
    let out = run(
        Command::new(cli)
            .args(["--port", &port.to_string(), "--srpusername", USER])
            .args(["--srppasswd", PASSWORD, "--priority", GNUTLS_SRP])
            .args([
                "--alpn",
                "h2",
                "--alpn",
                "http/1.1",
                "--insecure",
                "localhost",
            ]),
        b"",
    );
    let stdout = succeeded(&out);
    assert!(
        stdout.contains("Application protocol: http/1.1"),
        "{stdout}"
    );
    let sessions = server.join().unwrap();
    let session = sessions[0].as_ref().unwrap();
    assert_eq!(session.alpn_protocol(), Some(&b"http/1.1"[..]));
}

#[test]
fn gnutls_cli_against_our_server_with_resumption() {
    let Some(cli) = peer("gnutls-cli") else {
        return;
    };
    let (port, server) = our_server(2);
    let out = run(
        Command::new(cli)
            .args([
                "--port",
                &port.to_string(),
                "--srpusername",
                USER,
                "--srppasswd",
                PASSWORD,
            ])
            .args([
                "--priority",
                GNUTLS_SRP,
                "--insecure",
                "--resume",
                "localhost",
            ]),
        b"",
    );
    let stdout = succeeded(&out);
    assert!(stdout.contains("This is a resumed session"), "{stdout}");
    let sessions = server.join().unwrap();
    assert!(!sessions[0].as_ref().unwrap().resumed());
    assert!(sessions[1].as_ref().unwrap().resumed());
    assert_eq!(
        sessions[1].as_ref().unwrap().extended_master_secret(),
        Some(true)
    );
}

#[test]
fn users_imported_from_srptool_log_in_with_gnutls_cli() {
    let dir = tempfile::tempdir().unwrap();
    let Some((passwd, conf)) = srptool_passwd(dir.path(), USER, PASSWORD, 3) else {
        return;
    };
    imported_user_logs_in_with_gnutls_cli(&passwd, &conf);
}

/// srptool writes a 16-byte salt whose first byte is 0 as a lone "0" before the full groups;
/// read as a number, that byte was lost, and the user could not log in (1 import in 256).
#[test]
fn a_srptool_salt_starting_with_a_zero_byte_survives_the_import() {
    let dir = tempfile::tempdir().unwrap();
    // Salts are random: users are made until one gets such a salt (each try 1 in 256; 5,000
    // tries all miss about once in 300 million runs).
    for _ in 0..5000 {
        let Some((passwd, conf)) = srptool_passwd(dir.path(), USER, PASSWORD, 3) else {
            return;
        };
        let line = std::fs::read_to_string(&passwd).unwrap();
        let salt = line.split(':').nth(2).unwrap();
        if salt.len() == 21 && salt.starts_with('0') {
            let users = imported_user_logs_in_with_gnutls_cli(&passwd, &conf);
            assert_eq!(users[0].1.salt.len(), 16);
            assert_eq!(users[0].1.salt[0], 0);
            return;
        }
        std::fs::remove_file(&passwd).unwrap();
    }
    panic!("srptool made no salt starting with a zero byte in 5,000 tries");
}

/// Imports the one user of srptool's `passwd` and `conf` into our server, which gnutls-cli
/// then logs in to; the users read.
fn imported_user_logs_in_with_gnutls_cli(
    passwd: &Path,
    conf: &Path,
) -> Vec<(String, tls::srp::VerifierEntry)> {
    let read = |p: &Path| std::fs::read_to_string(p).unwrap();
    let users = tls::srp::gnutls::read_tpasswd(&read(passwd), &read(conf)).unwrap();
    let Some(cli) = peer("gnutls-cli") else {
        return users;
    };
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].1.group.bits(), 2048);
    let db = MemoryVerifierDb::new();
    db.insert(&users[0].0, users[0].1.clone()).unwrap();
    let config = ServerConfig::builder().verifier_db(db).build().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let tls = config.accept(tcp)?;
        let user = tls.session().srp_username().map(str::to_owned);
        let _ = tls.close();
        Ok::<_, Error>(user)
    });
    succeeded(&run(
        Command::new(cli)
            .args([
                "--port",
                &port.to_string(),
                "--srpusername",
                USER,
                "--srppasswd",
                PASSWORD,
            ])
            .args(["--priority", GNUTLS_SRP, "--insecure", "localhost"]),
        b"",
    ));
    assert_eq!(server.join().unwrap().unwrap().as_deref(), Some(USER));
    users
}

#[test]
fn users_exported_to_tpasswd_are_served_by_gnutls_serv() {
    let dir = tempfile::tempdir().unwrap();
    let mut users = Vec::new();
    for bits in [2048, 3072, 4096, 8192] {
        users.push((
            format!("user{bits}"),
            tls::srp::make_verifier(&format!("user{bits}"), PASSWORD, bits).unwrap(),
        ));
    }
    let (passwd_text, conf_text) = tls::srp::gnutls::write_tpasswd(&users).unwrap();
    let (passwd, conf) = (dir.path().join("tpasswd"), dir.path().join("tpasswd.conf"));
    std::fs::write(&passwd, passwd_text).unwrap();
    std::fs::write(&conf, conf_text).unwrap();
    let Some((_server, port)) = gnutls_serv(&passwd, &conf, GNUTLS_SRP, &["--http"]) else {
        return;
    };
    for (user, _) in &users {
        let config = ClientConfig::builder()
            .srp(user.as_str(), PASSWORD)
            .build()
            .unwrap();
        get(&config, port, "/").unwrap_or_else(|e| panic!("{user}: {e}"));
    }
}

const SRP_RSA: &str = "TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA";

fn rsa_client(pin: tls::Fingerprint) -> ClientConfig {
    ClientConfig::builder()
        .srp(USER, PASSWORD)
        .server_auth(tls::ServerAuth::Fingerprint(pin))
        .settings(HandshakeSettings {
            cipher_names: vec![SRP_RSA.into()],
            ..Default::default()
        })
        .build()
        .unwrap()
}

#[test]
fn srp_rsa_between_our_client_and_server_with_a_pinned_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let Some((cert, key, pin)) = rsa_identity(dir.path()) else {
        return;
    };
    let db = MemoryVerifierDb::new();
    db.add(USER, PASSWORD, 2048).unwrap();
    let config = ServerConfig::builder()
        .cert_chain(
            tls::CertificateChain::from_pem_file(&cert).unwrap(),
            tls::PrivateKey::from_pem_file(&key).unwrap(),
        )
        .verifier_db(db)
        .build()
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        (0..2)
            .map(|_| {
                let (tcp, _) = listener.accept().unwrap();
                let tls = config
                    .accept(tcp)
                    .inspect_err(|e| eprintln!("server: {e}"))?;
                let suite = tls.session().cipher_suite().to_owned();
                let _ = tls.close();
                Ok::<_, Error>(suite)
            })
            .collect::<Vec<_>>()
    });
    let tls = match rsa_client(pin).connect("localhost", connect(addr)) {
        Ok(tls) => tls,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(tls.session().cipher_suite(), SRP_RSA);
    assert_eq!(tls.session().peer_fingerprint_sha256(), Some(pin_of(&cert)));
    drop(tls);
    let wrong = rsa_client(tls::Fingerprint::of(
        tls::FingerprintAlgorithm::Sha256,
        b"another",
    ));
    let e = wrong.connect("localhost", connect(addr)).unwrap_err();
    assert!(matches!(e, Error::Authentication(_)), "{e:?}");
    let results = server.join().unwrap();
    assert_eq!(results[0].as_deref().unwrap(), SRP_RSA);
    assert!(results[1].is_err());
}

fn pin_of(cert: &Path) -> tls::Fingerprint {
    let chain = tls::CertificateChain::from_pem_file(cert).unwrap();
    tls::Fingerprint::of(
        tls::FingerprintAlgorithm::Sha256,
        chain.certificates()[0].as_ref(),
    )
}

#[test]
fn srp_rsa_against_tlslite_ng_and_gnutls_servers() {
    let dir = tempfile::tempdir().unwrap();
    let Some((cert, key, pin)) = rsa_identity(dir.path()) else {
        return;
    };
    // gnutls-serv with SRP-RSA only.
    let (passwd, conf) = srptool_passwd(dir.path(), USER, PASSWORD, 3).unwrap();
    let priority = "NORMAL:-KX-ALL:+SRP-RSA:-VERS-TLS1.3";
    let x509 = [
        "--http",
        "--x509certfile",
        cert.to_str().unwrap(),
        "--x509keyfile",
        key.to_str().unwrap(),
    ];
    if let Some((_server, port)) = gnutls_serv(&passwd, &conf, priority, &x509) {
        let (session, body) = get(&rsa_client(pin.clone()), port, "/").unwrap();
        assert_eq!(session.cipher_suite(), SRP_RSA);
        assert!(!body.is_empty());
    }
    // tlslite-ng's server with both a verifier database and the certificate.
    std::fs::write(dir.path().join("hello.txt"), "hello over SRP-RSA\n").unwrap();
    let Some((_process, port)) =
        tlslite_srp_server(dir.path(), USER, PASSWORD, Some((&key, &cert)))
    else {
        return;
    };
    let (session, body) = get(&rsa_client(pin), port, "/hello.txt").unwrap();
    assert_eq!(session.cipher_suite(), SRP_RSA);
    assert_eq!(body, b"hello over SRP-RSA\n");
}

#[test]
fn gnutls_cli_against_our_srp_rsa_server() {
    let Some(cli) = peer("gnutls-cli") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let Some((cert, key, _)) = rsa_identity(dir.path()) else {
        return;
    };
    let db = MemoryVerifierDb::new();
    db.add(USER, PASSWORD, 2048).unwrap();
    let config = ServerConfig::builder()
        .cert_chain(
            tls::CertificateChain::from_pem_file(&cert).unwrap(),
            tls::PrivateKey::from_pem_file(&key).unwrap(),
        )
        .verifier_db(db)
        .build()
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let tls = config.accept(tcp)?;
        let suite = tls.session().cipher_suite().to_owned();
        let _ = tls.close();
        Ok::<_, Error>(suite)
    });
    succeeded(&run(
        Command::new(cli)
            .args([
                "--port",
                &port.to_string(),
                "--srpusername",
                USER,
                "--srppasswd",
                PASSWORD,
            ])
            .args([
                "--priority",
                "NORMAL:-KX-ALL:+SRP-RSA:-VERS-TLS1.3",
                "--x509cafile",
            ])
            .arg(&cert)
            .arg("localhost"),
        b"",
    ));
    assert_eq!(server.join().unwrap().unwrap(), SRP_RSA);
}

#[test]
fn tlslite_ng_client_against_our_srp_rsa_server() {
    let Some(tls_py) = peer("tls.py") else { return };
    let dir = tempfile::tempdir().unwrap();
    let Some((cert, key, _)) = rsa_identity(dir.path()) else {
        return;
    };
    let db = MemoryVerifierDb::new();
    db.add(USER, PASSWORD, 2048).unwrap();
    let config = ServerConfig::builder()
        .cert_chain(
            tls::CertificateChain::from_pem_file(&cert).unwrap(),
            tls::PrivateKey::from_pem_file(&key).unwrap(),
        )
        .verifier_db(db)
        .settings(HandshakeSettings {
            cipher_names: vec![SRP_RSA.into()],
            ..Default::default()
        })
        .build()
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let tls = config.accept(tcp)?;
        let suite = tls.session().cipher_suite().to_owned();
        let _ = tls.close();
        Ok::<_, Error>(suite)
    });
    let out = run(
        Command::new(tls_py).args([
            "client",
            "--max-ver",
            "tls1.2",
            "-u",
            USER,
            "-p",
            PASSWORD,
            &format!("localhost:{port}"),
        ]),
        b"",
    );
    let stdout = succeeded(&out);
    assert!(
        stdout.contains(&format!("Ciphersuite: {SRP_RSA}")),
        "{stdout}"
    );
    // tlslite-ng prints the server certificate's SHA-1 fingerprint; it must be ours.
    let sha1 = tls::Fingerprint::of(
        tls::FingerprintAlgorithm::Sha1,
        tls::CertificateChain::from_pem_file(&cert)
            .unwrap()
            .certificates()[0]
            .as_ref(),
    );
    assert!(
        stdout.to_lowercase().contains(&sha1.to_hex())
            || stdout.contains("Server X.509 SHA1 fingerprint"),
        "{stdout}"
    );
    assert_eq!(server.join().unwrap().unwrap(), SRP_RSA);
}

/// A pin set with SRP means SRP-RSA with that pin: the client offers only the SRP-RSA suites, so
/// a server holding both a verifier and a certificate cannot pick plain SRP and skip the pin, and
/// a plain SRP server is refused rather than trusted.
#[test]
fn a_pin_given_with_srp_is_checked_on_every_server() {
    let dir = tempfile::tempdir().unwrap();
    let Some((cert, key, pin)) = rsa_identity(dir.path()) else {
        return;
    };
    let both = {
        let db = MemoryVerifierDb::new();
        db.add(USER, PASSWORD, 2048).unwrap();
        ServerConfig::builder()
            .cert_chain(
                tls::CertificateChain::from_pem_file(&cert).unwrap(),
                tls::PrivateKey::from_pem_file(&key).unwrap(),
            )
            .verifier_db(db)
            .build()
            .unwrap()
    };
    let plain = {
        let db = MemoryVerifierDb::new();
        db.add(USER, PASSWORD, 2048).unwrap();
        ServerConfig::builder().verifier_db(db).build().unwrap()
    };
    let pinned = |pin: tls::Fingerprint| {
        ClientConfig::builder()
            .srp(USER, PASSWORD)
            .server_auth(tls::ServerAuth::Fingerprint(pin))
            .build()
            .unwrap()
    };
    let wrong = tls::Fingerprint::of(tls::FingerprintAlgorithm::Sha256, b"another");
    let cases: [(&ServerConfig, ClientConfig); 3] = [
        (&both, pinned(pin.clone())),
        (&both, pinned(wrong)),
        (&plain, pinned(pin)),
    ];
    let mut outcomes = Vec::new();
    for (server, client) in cases {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = server.clone();
        let thread = thread::spawn(move || {
            let (tcp, _) = listener.accept().unwrap();
            server.accept(tcp).map(|tls| {
                let suite = tls.session().cipher_suite().to_owned();
                let _ = tls.close();
                suite
            })
        });
        let client = client
            .connect("localhost", connect(addr))
            .map(|tls| tls.session().cipher_suite().to_owned());
        outcomes.push((client, thread.join().unwrap()));
    }
    let [right, wrong, plain] = <[_; 3]>::try_from(outcomes).unwrap();
    assert_eq!(right.0.unwrap(), "TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA");
    let e = wrong.0.unwrap_err();
    assert!(matches!(e, Error::Authentication(_)), "{e:?}");
    assert!(wrong.1.is_err(), "the server saw the pin refused");
    assert_eq!(
        plain.1.unwrap_err().alert(),
        Some(tls::AlertDescription::HandshakeFailure),
        "a plain SRP server has no suite in common with a pinned client"
    );
    assert!(plain.0.is_err());
}

/// A gnutls-cli that refuses Encrypt-then-MAC: our server turns it away by default, and
/// serves it with MAC-then-encrypt (constant-time checks) only when told to.
#[test]
fn gnutls_cli_without_encrypt_then_mac_needs_the_opt_in() {
    let Some(cli) = peer("gnutls-cli") else {
        return;
    };
    let gnutls_cli = |port: u16| {
        run(
            Command::new(&cli)
                .args(["--port", &port.to_string(), "--srpusername", USER])
                .args(["--srppasswd", PASSWORD, "--priority"])
                .arg(format!("{GNUTLS_SRP}:%NO_ETM"))
                .args(["--insecure", "localhost"]),
            b"",
        )
    };
    let (port, server) = our_server(1);
    assert!(!gnutls_cli(port).status.success());
    let refused = server.join().unwrap().remove(0).unwrap_err();
    assert_eq!(
        refused.alert(),
        Some(tls::AlertDescription::InsufficientSecurity)
    );
    let (port, server) = our_server_with(
        1,
        HandshakeSettings {
            allow_mac_then_encrypt: true,
            ..Default::default()
        },
    );
    succeeded(&gnutls_cli(port));
    let session = server.join().unwrap().remove(0).unwrap();
    assert_eq!(session.encrypt_then_mac(), Some(false));
}
