//! TLS 1.3 external PSK (RFC 8446 §4.2.11): our client and server together, and against real
//! peers both ways: OpenSSL 3.0, GnuTLS 3.7 and tlslite-ng 0.8.2. A missing peer skips with a
//! message, or fails under `TLS_PEERS_REQUIRED=1`.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::Arc;
use std::thread;

use tls::psk::{ExternalPsk, MemoryPskStore, PskHash};
use tls::{AlertDescription, ClientConfig, Error, PeerIdentity, ServerConfig};
use tls_testkit::{connect, hex, http_get, openssl_psk_server, peer, run, PskServer};

const IDENTITY: &str = "sensor-7";
const KEY: [u8; 32] = [
    0x0b, 0x6e, 0x1f, 0x5a, 0x33, 0x90, 0xc4, 0x21, 0x7d, 0x88, 0x12, 0xfe, 0x49, 0xa0, 0x5b, 0x3c,
    0xe1, 0x07, 0x66, 0x2d, 0x9f, 0x40, 0xb8, 0x15, 0x73, 0xca, 0x2e, 0x91, 0x04, 0xdd, 0x58, 0x6a,
];

fn client(identity: &str, key: &[u8]) -> ClientConfig {
    ClientConfig::builder()
        .psk(ExternalPsk::new(identity, key).unwrap())
        .build()
        .unwrap()
}

fn store() -> Arc<MemoryPskStore> {
    let keys = MemoryPskStore::new();
    keys.insert(ExternalPsk::new(IDENTITY, KEY).unwrap());
    Arc::new(keys)
}

fn psk_server() -> ServerConfig {
    ServerConfig::builder()
        .shared_psk_store(store())
        .build()
        .unwrap()
}

/// Serves one connection on a thread: reads a line, answers it upper-cased, and gives back the
/// server's result (the identity the client proved).
fn serve_one(config: ServerConfig) -> (u16, thread::JoinHandle<Result<Vec<u8>, Error>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .unwrap();
        let mut tls = config.accept(tcp)?;
        let identity = match tls.session().peer_identity() {
            PeerIdentity::Psk(identity) => identity.to_vec(),
            other => panic!("not a PSK peer: {other:?}"),
        };
        let mut line = [0u8; 64];
        let n = tls.read(&mut line)?;
        tls.write_all(&line[..n].to_ascii_uppercase())?;
        tls.close()?;
        Ok(identity)
    });
    (port, handle)
}

fn alert_of(e: &Error) -> Option<AlertDescription> {
    match e {
        Error::LocalAlert { description, .. } | Error::RemoteAlert { description } => {
            Some(*description)
        }
        _ => None,
    }
}

#[test]
fn our_client_and_server_agree_and_name_the_identity() {
    let (port, server) = serve_one(psk_server());
    let mut tls = client(IDENTITY, &KEY)
        .connect("localhost", connect(([127, 0, 0, 1], port).into()))
        .unwrap();
    let session = tls.session().clone();
    assert_eq!(session.version(), tls::ProtocolVersion::Tls13);
    assert_eq!(session.cipher_suite(), "TLS_AES_128_GCM_SHA256");
    assert_eq!(
        session.peer_identity(),
        PeerIdentity::Psk(IDENTITY.as_bytes())
    );
    tls.write_all(b"ping\n").unwrap();
    let mut answer = Vec::new();
    tls.read_to_end(&mut answer).unwrap();
    assert_eq!(answer, b"PING\n");
    assert_eq!(server.join().unwrap().unwrap(), IDENTITY.as_bytes());
}

#[test]
fn a_wrong_key_is_decrypt_error_and_an_unknown_identity_unknown_psk_identity() {
    let (port, server) = serve_one(psk_server());
    let e = client(IDENTITY, &[0x11; 32])
        .connect("localhost", connect(([127, 0, 0, 1], port).into()))
        .unwrap_err();
    assert_eq!(alert_of(&e), Some(AlertDescription::DecryptError), "{e:?}");
    let e = server.join().unwrap().unwrap_err();
    assert_eq!(alert_of(&e), Some(AlertDescription::DecryptError), "{e:?}");

    let (port, server) = serve_one(psk_server());
    let e = client("nobody", &KEY)
        .connect("localhost", connect(([127, 0, 0, 1], port).into()))
        .unwrap_err();
    assert_eq!(
        alert_of(&e),
        Some(AlertDescription::UnknownPskIdentity),
        "{e:?}"
    );
    server.join().unwrap().unwrap_err();
}

/// The suite a client gets from one connection to `server`.
fn negotiated_suite(server: ServerConfig, client: ClientConfig) -> String {
    let (port, done) = serve_one(server);
    let mut tls = client
        .connect("localhost", connect(([127, 0, 0, 1], port).into()))
        .unwrap();
    tls.write_all(b"x").unwrap();
    done.join().unwrap().unwrap();
    tls.session().cipher_suite().to_owned()
}

#[test]
fn sha384_keys_take_aes_256_and_other_suites_by_name() {
    let keys = MemoryPskStore::new();
    keys.insert(
        ExternalPsk::new("big", KEY)
            .unwrap()
            .with_hash(PskHash::Sha384),
    );
    keys.insert(ExternalPsk::new(IDENTITY, KEY).unwrap());
    let keys = Arc::new(keys);
    let server = || {
        ServerConfig::builder()
            .shared_psk_store(keys.clone())
            .build()
            .unwrap()
    };
    let big = ExternalPsk::new("big", KEY)
        .unwrap()
        .with_hash(PskHash::Sha384);
    let client = ClientConfig::builder().psk(big).build().unwrap();
    assert_eq!(negotiated_suite(server(), client), "TLS_AES_256_GCM_SHA384");
    let client = ClientConfig::builder()
        .psk(ExternalPsk::new(IDENTITY, KEY).unwrap())
        .settings(tls::HandshakeSettings {
            cipher_names: vec!["TLS_CHACHA20_POLY1305_SHA256".into()],
            ..Default::default()
        })
        .build()
        .unwrap();
    assert_eq!(
        negotiated_suite(server(), client),
        "TLS_CHACHA20_POLY1305_SHA256"
    );
}

/// `openssl s_server -psk` over TLS 1.3 answering HTTP (`-www`), listening when this returns.
fn openssl_server(extra: &[&str]) -> Option<(PskServer, u16)> {
    let args = [&["-tls1_3", "-www"][..], extra].concat();
    let server = openssl_psk_server(&ExternalPsk::new(IDENTITY, KEY).unwrap(), &args)?;
    let port = server.port;
    Some((server, port))
}

#[test]
fn our_client_against_openssl_server() {
    let Some((_server, port)) = openssl_server(&[]) else {
        return;
    };
    let (session, page) = http_get(&client(IDENTITY, &KEY), port).unwrap();
    assert!(page.starts_with("HTTP/1.0 200"), "{page}");
    assert!(page.contains("TLSv1.3"), "{page}");
    assert_eq!(session.psk_identity(), Some(IDENTITY.as_bytes()));
    // OpenSSL 3.0 answers a binder that does not verify with illegal_parameter (its log:
    // "tls_psk_do_binder:binder does not verify"), where RFC 8446 and our server say
    // decrypt_error: the client names what it received.
    let e = http_get(&client(IDENTITY, &[0x11; 32]), port).unwrap_err();
    assert_eq!(
        alert_of(&e),
        Some(AlertDescription::IllegalParameter),
        "{e:?}"
    );
    assert!(matches!(e, Error::RemoteAlert { .. }), "{e:?}");
}

#[test]
fn a_server_without_x25519_asks_again_with_hello_retry_request() {
    let Some((_server, port)) = openssl_server(&["-groups", "P-256"]) else {
        return;
    };
    let (session, page) = http_get(&client(IDENTITY, &KEY), port).unwrap();
    assert!(page.starts_with("HTTP/1.0 200"), "{page}");
    assert_eq!(session.psk_identity(), Some(IDENTITY.as_bytes()));
}

/// `openssl s_client` to our server on `port` with `key` for [`IDENTITY`], over TLS 1.3.
fn s_client(openssl: &std::path::Path, port: u16, key: &[u8]) -> Command {
    let mut command = Command::new(openssl);
    command
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-tls1_3",
        ])
        .args(["-psk", &hex(key), "-psk_identity", IDENTITY]);
    command
}

#[test]
fn openssl_client_against_our_server() {
    let Some(openssl) = peer("openssl") else {
        return;
    };
    let quiet =
        |key: &[u8], port: u16| run(s_client(&openssl, port, key).arg("-quiet"), b"hello\n");
    let (port, server) = serve_one(psk_server());
    let out = quiet(&KEY, port);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("HELLO"),
        "{out:?}"
    );
    assert_eq!(server.join().unwrap().unwrap(), IDENTITY.as_bytes());

    // X448 first: OpenSSL shares a key on it alone, which we lack, so we ask for secp256r1
    // with a HelloRetryRequest.
    let (port, server) = serve_one(psk_server());
    let out = run(
        s_client(&openssl, port, &KEY)
            .args(["-groups", "X448:P-256"])
            .args(["-msg", "-quiet"]),
        b"again\n",
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("AGAIN"), "{out:?}");
    assert_eq!(
        said.matches("ServerHello").count(),
        2,
        "no HelloRetryRequest: {said}"
    );
    server.join().unwrap().unwrap();

    let (port, server) = serve_one(psk_server());
    let out = quiet(&[0x11; 32], port);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("HELLO"),
        "{out:?}"
    );
    let e = server.join().unwrap().unwrap_err();
    assert_eq!(alert_of(&e), Some(AlertDescription::DecryptError), "{e:?}");
}

/// Connects `client` to a fresh one-connection run of `server`: the session.
fn session_with(server: ServerConfig, client: &ClientConfig) -> Result<tls::Session, Error> {
    let (port, done) = serve_one(server);
    let result = client
        .connect("localhost", connect(([127, 0, 0, 1], port).into()))
        .and_then(|mut tls| {
            tls.write_all(b"x\n")?;
            let mut answer = Vec::new();
            tls.read_to_end(&mut answer)?;
            Ok(tls.session().clone())
        });
    let _ = done.join().unwrap();
    result
}

/// A ticket from a PSK handshake resumes it ("res binder"), keeping the identity; a ticket
/// another server sealed is ignored (the external key then serves); a key deleted from the
/// store ends its tickets at once.
#[test]
fn tickets_resume_keep_the_identity_and_end_with_the_key() {
    let keys = store();
    let server = || {
        ServerConfig::builder()
            .shared_psk_store(keys.clone())
            .build()
            .unwrap()
    };
    let first_server = server();
    let client = client(IDENTITY, &KEY);
    let first = session_with(first_server.clone(), &client).unwrap();
    assert!(!first.resumed());
    let again = session_with(first_server.clone(), &client).unwrap();
    assert!(again.resumed(), "the ticket was not used");
    assert_eq!(
        again.peer_identity(),
        PeerIdentity::Psk(IDENTITY.as_bytes())
    );
    // Each connection leaves a new ticket; another configuration's keys cannot open it.
    let elsewhere = session_with(server(), &client).unwrap();
    assert!(!elsewhere.resumed());
    assert_eq!(elsewhere.psk_identity(), Some(IDENTITY.as_bytes()));
    // With the key gone, neither its ticket nor the key itself gets in.
    session_with(first_server.clone(), &client).unwrap();
    assert!(keys.remove(IDENTITY.as_bytes()));
    let e = session_with(first_server, &client).unwrap_err();
    assert_eq!(
        alert_of(&e),
        Some(AlertDescription::UnknownPskIdentity),
        "{e:?}"
    );
}

/// OpenSSL issues tickets after a PSK handshake: our client resumes with them; and
/// `s_client -sess_out/-sess_in` resumes with ours.
#[test]
fn resumption_with_openssl_both_ways() {
    let Some((_server, port)) = openssl_server(&[]) else {
        return;
    };
    let config = client(IDENTITY, &KEY);
    let (first, _) = http_get(&config, port).unwrap();
    assert!(!first.resumed());
    let (again, page) = http_get(&config, port).unwrap();
    assert!(again.resumed(), "OpenSSL's ticket was not used");
    assert!(page.contains("Reused"), "{page}");

    let openssl = peer("openssl").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("session.pem");
    let server = psk_server();
    let resuming = |sess: &str, port: u16| {
        let mut command = s_client(&openssl, port, &KEY);
        run(command.arg("-ign_eof").arg(sess).arg(&saved), b"hello\n")
    };
    let (port, done) = serve_one(server.clone());
    let out = resuming("-sess_out", port);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("HELLO"),
        "{out:?}"
    );
    done.join().unwrap().unwrap();
    let (port, done) = serve_one(server);
    let out = resuming("-sess_in", port);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("Reused, TLSv1.3"), "{said}");
    assert_eq!(done.join().unwrap().unwrap(), IDENTITY.as_bytes());
}

/// `psk_ke` (no forward secrecy) only through `tls::dangerous`: a client offering it alone is
/// refused by a server that does not allow it, ours or OpenSSL's, and served by one that does.
#[test]
fn psk_ke_alone_needs_the_dangerous_opt_in_on_both_sides() {
    let without_dhe = || {
        let builder = ClientConfig::builder().psk(ExternalPsk::new(IDENTITY, KEY).unwrap());
        tls::dangerous::psk_without_forward_secrecy(builder)
            .build()
            .unwrap()
    };
    let e = session_with(psk_server(), &without_dhe()).unwrap_err();
    assert_eq!(
        alert_of(&e),
        Some(AlertDescription::HandshakeFailure),
        "{e:?}"
    );
    let builder = ServerConfig::builder().shared_psk_store(store());
    let allowing = tls::dangerous::accept_psk_without_forward_secrecy(builder)
        .build()
        .unwrap();
    let session = session_with(allowing.clone(), &without_dhe()).unwrap();
    assert_eq!(session.psk_identity(), Some(IDENTITY.as_bytes()));
    // The opt-in lets psk_ke in; a client offering psk_dhe_ke still gets it.
    session_with(allowing, &client(IDENTITY, &KEY)).unwrap();

    let Some((_refusing, port)) = openssl_server(&[]) else {
        return;
    };
    let e = http_get(&without_dhe(), port).unwrap_err();
    assert!(e.alert().is_some(), "{e:?}");
    let (_allowing, port) = openssl_server(&["-allow_no_dhe_kex"]).unwrap();
    let (session, page) = http_get(&without_dhe(), port).unwrap();
    assert!(page.starts_with("HTTP/1.0 200"), "{page}");
    assert_eq!(session.psk_identity(), Some(IDENTITY.as_bytes()));
}

/// A server-side Checker sees the PSK identity and can refuse one the store still knows.
#[test]
fn a_server_checker_refuses_by_identity() {
    let keys = store();
    keys.insert(ExternalPsk::new("revoked", KEY).unwrap());
    let checker = tls::Checker::new().custom(|session| match session.peer_identity() {
        PeerIdentity::Psk(b"revoked") => Err("identity revoked".into()),
        PeerIdentity::Psk(_) => Ok(()),
        other => Err(format!("not a PSK peer: {other:?}")),
    });
    let server = ServerConfig::builder()
        .shared_psk_store(keys)
        .checker(checker)
        .build()
        .unwrap();
    session_with(server.clone(), &client(IDENTITY, &KEY)).unwrap();
    let (port, done) = serve_one(server);
    let refused = client("revoked", &KEY)
        .connect("localhost", connect(([127, 0, 0, 1], port).into()))
        .and_then(|mut tls| {
            tls.write_all(b"x\n")?;
            let mut answer = Vec::new();
            tls.read_to_end(&mut answer)?;
            Ok(answer)
        });
    // The handshake is over when the Checker runs: the server ends the connection with
    // close_notify, and the client gets no answer.
    assert!(refused.is_ok_and(|answer| answer.is_empty()));
    let e = done.join().unwrap().unwrap_err();
    assert!(e.to_string().contains("identity revoked"), "{e}");
}

/// A client that only writes, then closes: the server reads every byte and the close_notify.
/// With the server's ticket sent after the client's Finished, the ticket sat unread in the
/// client's socket and its close reset the connection under the last bytes.
#[test]
fn a_client_that_only_writes_loses_nothing_to_the_ticket() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = psk_server();
    let reader = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let mut tls = server.accept(tcp)?;
        let mut all = Vec::new();
        tls.read_to_end(&mut all)?;
        Ok::<_, Error>(all.len())
    });
    let mut tls = client(IDENTITY, &KEY)
        .connect("localhost", connect(([127, 0, 0, 1], port).into()))
        .unwrap();
    let sent = vec![0x5a; 4 << 20];
    tls.write_all(&sent).unwrap();
    tls.close().unwrap();
    assert_eq!(reader.join().unwrap().unwrap(), sent.len());
}

/// Client certificates and PSKs on one server would let a PSK client skip the certificate
/// demanded: refused when built, never silently.
#[test]
fn client_certificates_and_psks_are_refused_together() {
    let pki = tls_testkit::Pki::new();
    let builder = ServerConfig::builder()
        .cert_chain(pki.server.chain(), pki.server.key())
        .shared_psk_store(store());
    assert!(builder.clone().build().is_ok());
    for builder in [
        builder.clone().require_client_cert(pki.client_roots()),
        builder.request_client_cert(pki.client_roots()),
    ] {
        let e = builder.build().unwrap_err();
        assert!(e.to_string().contains("psk_store"), "{e}");
    }
}
