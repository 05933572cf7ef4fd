//! TLS 1.3 external PSK against more real stacks, both ways: GnuTLS 3.7 (`gnutls-serv`,
//! `gnutls-cli`), tlslite-ng 0.8.2 (`tls.py`), and a private mosquitto 2.0 broker that our client
//! speaks MQTT 3.1.1 to over a PSK listener. Peers are started by tls_testkit on 127.0.0.1 and
//! stopped by PID. A missing peer skips with a message, or fails under `TLS_PEERS_REQUIRED=1`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use tls::psk::{ExternalPsk, MemoryPskStore, PskHash};
use tls::AlertDescription::{self, DecryptError, HandshakeFailure, IllegalParameter};
use tls::{ClientConfig, Error, ServerConfig, Session, TlsStream};
use tls_testkit::{
    answer_upper, assert_refused_by_peer, assert_refused_by_us, connect, gnutls_psk_serv, hex,
    mqtt_disconnect, mqtt_expect_publish, mqtt_publish, mqtt_subscribe, peer, run, serve_once,
    tlslite_psk_args, tlslite_psk_server, Mosquitto, ServerThread, GNUTLS_PSK_TLS13,
};

const IDENTITY: &str = "gateway-12";
const KEY: [u8; 32] = [
    0x5d, 0x21, 0x9a, 0xc7, 0x04, 0x6b, 0xe8, 0x3f, 0x71, 0x0e, 0xb2, 0x96, 0x4c, 0xd5, 0x18, 0x83,
    0xa0, 0x3e, 0x67, 0xf1, 0x29, 0xbc, 0x50, 0x0d, 0x94, 0x7a, 0xe3, 0x16, 0xcf, 0x42, 0x8b, 0x65,
];
const WRONG_KEY: [u8; 32] = [0x11; 32];

fn key(identity: &str, key: &[u8]) -> ExternalPsk {
    ExternalPsk::new(identity, key).unwrap()
}

fn sha384(identity: &str, key: &[u8]) -> ExternalPsk {
    ExternalPsk::new(identity, key)
        .unwrap()
        .with_hash(PskHash::Sha384)
}

/// Our client with one PSK, connected to 127.0.0.1:`port` (as `localhost`), socket timeouts
/// `timeout`.
fn dial(psk: ExternalPsk, port: u16, timeout: Duration) -> Result<TlsStream<TcpStream>, Error> {
    let tcp = connect(([127, 0, 0, 1], port).into());
    tcp.set_read_timeout(Some(timeout)).unwrap();
    tcp.set_write_timeout(Some(timeout)).unwrap();
    ClientConfig::builder()
        .psk(psk)
        .build()
        .unwrap()
        .connect("localhost", tcp)
}

/// Our client sends `request` and reads until `done` says the answer is whole, or the end of
/// the stream (a close without close_notify counts as an end: HTTP/1.0 servers do that).
fn converse(
    psk: ExternalPsk,
    port: u16,
    request: &[u8],
    done: impl Fn(&[u8]) -> bool,
) -> Result<(Session, Vec<u8>), Error> {
    let mut tls = dial(psk, port, Duration::from_secs(10))?;
    tls.write_all(request)?;
    tls.set_ignore_abrupt_close(true);
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    while !done(&answer) {
        let n = tls.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&chunk[..n]);
    }
    Ok((tls.session().clone(), answer))
}

fn http_get(psk: ExternalPsk, port: u16) -> Result<(Session, String), Error> {
    let (session, page) = converse(psk, port, b"GET / HTTP/1.0\r\n\r\n", |_| false)?;
    Ok((session, String::from_utf8_lossy(&page).into_owned()))
}

/// What our server saw of one client: the identity it proved and the bytes it sent.
type Seen = Result<(Option<Vec<u8>>, Vec<u8>), Error>;

/// Our server with `keys`, for one connection: reads once, answers upper-cased, close_notify.
fn our_server(keys: &[ExternalPsk]) -> ServerThread<Seen> {
    let store = MemoryPskStore::new();
    for psk in keys {
        store.insert(psk.clone());
    }
    let config = ServerConfig::builder().psk_store(store).build().unwrap();
    serve_once(move |tcp| {
        let tls = config.accept(tcp)?;
        let identity = tls.session().psk_identity().map(<[u8]>::to_vec);
        Ok((identity, answer_upper(tls)?))
    })
}

fn said(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Our client's handshake with `psk` must end within 4 s (socket timeouts of 5 s: a hang is an
/// error, never a stuck test) on the alert `expected` from the peer, whose log is `log()`.
fn assert_peer_refuses(
    psk: ExternalPsk,
    port: u16,
    expected: AlertDescription,
    log: impl Fn() -> String,
) {
    assert_refused_by_peer(|| dial(psk, port, Duration::from_secs(5)), expected, log);
}

/// Our server refused its client, within 4 s of `started`, sending the alert `expected`.
fn assert_we_refused(server: ServerThread<Seen>, started: Instant, expected: AlertDescription) {
    assert_refused_by_us(server.join(), started, &[expected]);
}

// ---------------------------------------------------------------------------------------------
// GnuTLS 3.7

#[test]
fn our_client_against_gnutls_serv() {
    let Some(server) = gnutls_psk_serv(&[key(IDENTITY, &KEY)], GNUTLS_PSK_TLS13, "--http") else {
        return;
    };
    let (session, page) = http_get(key(IDENTITY, &KEY), server.port).unwrap();
    assert!(page.starts_with("HTTP/1.0 200"), "{page}");
    // gnutls-serv's page describes the session it served (its "Description" says
    // "(TLS1.3-X.509)" even for PSK: GnuTLS names the certificate type there), its log the
    // identity it accepted.
    assert!(page.contains("TLS1.3"), "{page}");
    assert!(
        server.log().contains(&format!("Connected as '{IDENTITY}'")),
        "{}",
        server.log()
    );
    assert_eq!(session.version(), tls::ProtocolVersion::Tls13);
    assert_eq!(session.psk_identity(), Some(IDENTITY.as_bytes()));
    assert_eq!(session.cipher_suite(), "TLS_AES_128_GCM_SHA256");

    // gnutls-serv answers a binder that does not verify with illegal_parameter (its log: "An
    // illegal parameter has been received"), as OpenSSL does, where RFC 8446 says
    // decrypt_error: our client names the alert it received.
    let wrong = key(IDENTITY, &WRONG_KEY);
    assert_peer_refuses(wrong, server.port, IllegalParameter, || server.log());
}

#[test]
fn gnutls_serv_answers_an_unknown_identity_as_a_wrong_key() {
    let Some(server) = gnutls_psk_serv(&[key(IDENTITY, &KEY)], GNUTLS_PSK_TLS13, "--http") else {
        return;
    };
    // GnuTLS's password-file lookup gives an unknown user a random key (psk_passwd.c:
    // "If the user doesn't exist a random password is returned instead"), so that identities
    // cannot be enumerated: the binder then fails and the server sends illegal_parameter, the
    // same alert as for a wrong key, never unknown_psk_identity.
    let nobody = key("nobody", &KEY);
    assert_peer_refuses(nobody, server.port, IllegalParameter, || server.log());
}

#[test]
fn a_sha384_key_against_gnutls_fails_quickly() {
    let Some(server) = gnutls_psk_serv(&[key(IDENTITY, &KEY)], GNUTLS_PSK_TLS13, "--http") else {
        return;
    };
    // GnuTLS ties every external PSK to SHA-256: it checks our 48-byte SHA-384 binder as a
    // SHA-256 one, which fails, and sends illegal_parameter (its log: "An illegal parameter has
    // been received") at once.
    let big = sha384(IDENTITY, &KEY);
    assert_peer_refuses(big, server.port, IllegalParameter, || server.log());
}

fn gnutls_cli(port: u16, identity: &str, key: &[u8], input: &[u8]) -> Option<String> {
    let cli = peer("gnutls-cli")?;
    let out = run(
        Command::new(cli)
            .args(["--port", &port.to_string(), "--priority", GNUTLS_PSK_TLS13])
            .args(["--pskusername", identity, "--pskkey", &hex(key)])
            .arg("localhost"),
        input,
    );
    Some(said(&out))
}

#[test]
fn gnutls_cli_against_our_server() {
    let server = our_server(&[key(IDENTITY, &KEY)]);
    let Some(out) = gnutls_cli(server.addr.port(), IDENTITY, &KEY, b"hello\n") else {
        return;
    };
    assert!(out.contains("HELLO"), "{out}");
    assert!(
        out.contains(&format!("PSK authentication. Connected as '{IDENTITY}'")),
        "{out}"
    );
    let (identity, got) = server.join().unwrap();
    assert_eq!(identity.as_deref(), Some(IDENTITY.as_bytes()));
    assert_eq!(got, b"hello\n");

    let server = our_server(&[key(IDENTITY, &KEY)]);
    let started = Instant::now();
    let out = gnutls_cli(server.addr.port(), IDENTITY, &WRONG_KEY, b"hello\n").unwrap();
    assert!(!out.contains("HELLO"), "{out}");
    // Our server sends decrypt_error for a binder that does not verify (RFC 8446 §4.2.11).
    assert!(out.contains("Received alert [51]: Decrypt error"), "{out}");
    assert_we_refused(server, started, DecryptError);
}

// ---------------------------------------------------------------------------------------------
// tlslite-ng 0.8.2

#[test]
fn our_client_against_tlslite_server() {
    let Some(server) = tlslite_psk_server(&key(IDENTITY, &KEY)) else {
        return;
    };
    let (session, echo) = converse(key(IDENTITY, &KEY), server.port, b"ping\n", |a| {
        a.ends_with(b"\n")
    })
    .unwrap();
    assert_eq!(echo, b"ping\n", "{}", server.log());
    assert_eq!(session.psk_identity(), Some(IDENTITY.as_bytes()));
    assert_eq!(session.version(), tls::ProtocolVersion::Tls13);

    // tlslite-ng too answers a binder that does not verify with illegal_parameter
    // ("Binder does not verify", tlsconnection.py), not RFC 8446's decrypt_error.
    let wrong = key(IDENTITY, &WRONG_KEY);
    assert_peer_refuses(wrong, server.port, IllegalParameter, || server.log());
}

#[test]
fn a_sha384_key_with_tlslite_takes_aes_256() {
    let big = sha384(IDENTITY, &KEY);
    let Some(server) = tlslite_psk_server(&big) else {
        return;
    };
    let (session, echo) = converse(big, server.port, b"wide\n", |a| a.ends_with(b"\n")).unwrap();
    assert_eq!(echo, b"wide\n", "{}", server.log());
    assert_eq!(session.cipher_suite(), "TLS_AES_256_GCM_SHA384");
}

fn tlslite_client(port: u16, psk: &ExternalPsk) -> Option<std::process::Output> {
    let tls_py = peer("tls.py")?;
    Some(run(
        Command::new(tls_py)
            .arg("client")
            .args(tlslite_psk_args(psk))
            .arg(format!("localhost:{port}")),
        b"",
    ))
}

#[test]
fn tlslite_client_against_our_server() {
    let server = our_server(&[key(IDENTITY, &KEY)]);
    let Some(out) = tlslite_client(server.addr.port(), &key(IDENTITY, &KEY)) else {
        return;
    };
    let out = said(&out);
    assert!(out.contains("Handshake success"), "{out}");
    assert!(out.contains("TLS_AES_128_GCM_SHA256"), "{out}");
    let (identity, got) = server.join().unwrap();
    assert_eq!(identity.as_deref(), Some(IDENTITY.as_bytes()));
    // tls.py's client sends a GET once connected.
    assert_eq!(got, b"GET / HTTP/1.0\r\n\r\n");

    let server = our_server(&[key(IDENTITY, &KEY)]);
    let started = Instant::now();
    let out = said(&tlslite_client(server.addr.port(), &key(IDENTITY, &WRONG_KEY)).unwrap());
    assert!(!out.contains("Handshake success"), "{out}");
    // tls.py raises the alert it received: "TLSRemoteAlert: decrypt_error".
    assert!(out.contains("decrypt_error"), "{out}");
    assert_we_refused(server, started, DecryptError);
}

// ---------------------------------------------------------------------------------------------
// mosquitto 2.0: MQTT 3.1.1 (OASIS), written by hand (tls_testkit's mqtt helpers)

const TOPIC: &str = "tls-lite/psk/temperature";

#[test]
fn our_client_talks_mqtt_to_mosquitto_over_psk() {
    let Some(broker) = Mosquitto::start(&[key(IDENTITY, &KEY), key("publisher", &[0x42; 32])])
    else {
        return;
    };
    let mut tls = dial(key(IDENTITY, &KEY), broker.port, Duration::from_secs(10)).unwrap();
    assert_eq!(tls.session().version(), tls::ProtocolVersion::Tls13);
    assert_eq!(tls.session().psk_identity(), Some(IDENTITY.as_bytes()));
    mqtt_subscribe(&mut tls, &broker, TOPIC);
    // The broker took our PSK identity as the user name.
    let user = format!("u'{IDENTITY}'");
    let log = broker.log_with(&user);
    assert!(log.contains(&user), "{log}");

    // Our own QoS 0 message comes back to us, byte for byte.
    tls.write_all(&mqtt_publish(TOPIC, b"21.5 C")).unwrap();
    mqtt_expect_publish(&mut tls, &broker, TOPIC, b"21.5 C");

    // A message mosquitto_pub publishes over PSK, under another identity, reaches us too.
    if let Some(()) = broker.publish(&key("publisher", &[0x42; 32]), TOPIC, "22.0 C") {
        mqtt_expect_publish(&mut tls, &broker, TOPIC, b"22.0 C");
    }

    // DISCONNECT, then close_notify.
    tls.write_all(&mqtt_disconnect()).unwrap();
    tls.close().unwrap();
}

#[test]
fn mosquitto_refuses_a_wrong_key_and_an_unknown_identity() {
    let Some(broker) = Mosquitto::start(&[key(IDENTITY, &KEY)]) else {
        return;
    };
    // mosquitto's TLS is OpenSSL's: a binder that does not verify is illegal_parameter (its
    // log: "binder does not verify").
    let wrong = key(IDENTITY, &WRONG_KEY);
    assert_peer_refuses(wrong, broker.port, IllegalParameter, || broker.log());

    // An unknown identity is ignored (RFC 8446 §4.2.11) and OpenSSL goes on towards a
    // certificate handshake, which a PSK-only broker cannot make: handshake_failure.
    let intruder = key("intruder", &KEY);
    assert_peer_refuses(intruder, broker.port, HandshakeFailure, || broker.log());
    for said in ["binder does not verify", "no suitable signature algorithm"] {
        let log = broker.log_with(said);
        assert!(log.contains(said), "{log}");
    }
}

#[test]
fn tlslite_client_with_a_sha384_key_against_our_server() {
    let big = sha384(IDENTITY, &KEY);
    let server = our_server(std::slice::from_ref(&big));
    let Some(out) = tlslite_client(server.addr.port(), &big) else {
        return;
    };
    let out = said(&out);
    assert!(out.contains("TLS_AES_256_GCM_SHA384"), "{out}");
    let (identity, _) = server.join().unwrap();
    assert_eq!(identity.as_deref(), Some(IDENTITY.as_bytes()));
}

#[test]
fn gnutls_cli_against_a_sha384_key_on_our_server_fails_quickly() {
    let server = our_server(&[sha384(IDENTITY, &KEY)]);
    let started = Instant::now();
    let Some(out) = gnutls_cli(server.addr.port(), IDENTITY, &KEY, b"hello\n") else {
        return;
    };
    // gnutls-cli offers TLS_AES_256_GCM_SHA384 among its suites, so our server takes the
    // SHA-384 key and checks gnutls-cli's 32-byte SHA-256 binder against it: decrypt_error, sent
    // by our server, as for a wrong key.
    assert!(out.contains("Received alert [51]: Decrypt error"), "{out}");
    assert_we_refused(server, started, DecryptError);
}
