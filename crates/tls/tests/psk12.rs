//! TLS 1.2 PSK suites (RFC 4279, RFC 5489, RFC 7905, RFC 5487) between our client and server:
//! each suite, the version a client offering both gets, plain PSK refused unless allowed on
//! both sides, wrong and unknown keys named, and the downgrade sentinel (RFC 8446 §4.1.3)
//! against a relay that strips TLS 1.3 from the ClientHello. The real peers are in
//! `psk12_peers.rs`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use tls::psk::{ExternalPsk, MemoryPskStore};
use tls::{
    AlertDescription, ClientConfig, ClientConfigBuilder, Error, HandshakeSettings, ProtocolVersion,
    ServerConfig, ServerConfigBuilder, Session,
};

const IDENTITY: &str = "meter-12";
const KEY: [u8; 32] = [
    0x3c, 0x91, 0x0e, 0x5d, 0x77, 0x2a, 0xb4, 0x18, 0xf0, 0x63, 0x9e, 0x05, 0xc2, 0x4b, 0x81, 0xd7,
    0x1a, 0x6f, 0xe8, 0x34, 0x50, 0x9b, 0x2c, 0xa7, 0x0d, 0xfe, 0x46, 0x13, 0x88, 0xb1, 0x7e, 0x29,
];

const CHACHA: &str = "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256";
const CBC: &str = "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256";
const PLAIN: &str = "TLS_PSK_WITH_AES_128_GCM_SHA256";

fn settings(max: ProtocolVersion, suites: &[&str]) -> HandshakeSettings {
    HandshakeSettings {
        max_version: max,
        cipher_names: suites.iter().map(|s| s.to_string()).collect(),
        ..HandshakeSettings::default()
    }
}

fn client_builder(identity: &str, key: &[u8]) -> ClientConfigBuilder {
    ClientConfig::builder().psk(ExternalPsk::new(identity, key).unwrap())
}

fn server_builder() -> ServerConfigBuilder {
    let keys = MemoryPskStore::new();
    keys.insert(ExternalPsk::new(IDENTITY, KEY).unwrap());
    ServerConfig::builder().shared_psk_store(Arc::new(keys))
}

/// Serves one connection on a thread: echoes what it reads until close, and gives back the
/// session it saw (or the error).
fn serve_one(config: ServerConfig) -> (u16, thread::JoinHandle<Result<Session, Error>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut tls = config.accept(tcp)?;
        let session = tls.session().clone();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = tls.read(&mut buf)?;
            if n == 0 {
                break;
            }
            tls.write_all(&buf[..n])?;
        }
        tls.close()?;
        Ok(session)
    });
    (port, handle)
}

fn dial(config: &ClientConfig, port: u16) -> Result<tls::TlsStream<TcpStream>, Error> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    config.connect("localhost", tcp)
}

/// Sends `data` through an echoing server and checks every byte came back.
fn echo(tls: &mut tls::TlsStream<TcpStream>, data: &[u8]) {
    let reader_data = data.len();
    let mut back = vec![0u8; reader_data];
    // Writes and reads alternate in pieces, so neither side's buffers fill.
    let mut got = 0;
    for piece in data.chunks(48 * 1024) {
        tls.write_all(piece).unwrap();
        tls.flush().unwrap();
        let want = got + piece.len();
        while got < want {
            let n = tls.read(&mut back[got..want]).unwrap();
            assert!(n > 0, "the server closed early");
            got += n;
        }
    }
    assert!(back == data, "the bytes that came back differ");
}

fn alert_of(result: &Result<impl std::fmt::Debug, Error>) -> (Option<AlertDescription>, String) {
    match result {
        Err(e) => (e.alert(), e.to_string()),
        Ok(ok) => panic!("expected a failure, got {ok:?}"),
    }
}

fn run_suite(name: &str) {
    let (port, server) = serve_one(
        server_builder()
            .settings(settings(ProtocolVersion::Tls12, &[name]))
            .build()
            .unwrap(),
    );
    let builder =
        client_builder(IDENTITY, &KEY).settings(settings(ProtocolVersion::Tls12, &[name]));
    let mut tls = dial(&builder.build().unwrap(), port).unwrap();
    let session = tls.session().clone();
    assert_eq!(session.version(), ProtocolVersion::Tls12);
    assert_eq!(session.cipher_suite(), name);
    assert_eq!(session.psk_identity(), Some(IDENTITY.as_bytes()));
    let data: Vec<u8> = (0..3 * 1024 * 1024u32)
        .map(|i| (i * 7 + i / 251) as u8)
        .collect();
    echo(&mut tls, &data);
    tls.close().unwrap();
    let seen = server.join().unwrap().unwrap();
    assert_eq!(seen.cipher_suite(), name);
    assert_eq!(seen.psk_identity(), Some(IDENTITY.as_bytes()));
}

#[test]
fn ecdhe_psk_chacha20_both_ways() {
    run_suite(CHACHA);
}

#[test]
fn ecdhe_psk_aes_cbc_sha256_with_encrypt_then_mac() {
    run_suite(CBC);
}

#[test]
fn plain_psk_aes_gcm_with_both_opt_ins() {
    let (port, server) = serve_one(
        tls::dangerous::accept_psk_without_forward_secrecy(server_builder())
            .settings(settings(ProtocolVersion::Tls12, &[]))
            .build()
            .unwrap(),
    );
    let builder = client_builder(IDENTITY, &KEY).settings(settings(ProtocolVersion::Tls12, &[]));
    let config = tls::dangerous::psk_without_forward_secrecy(builder)
        .build()
        .unwrap();
    let mut tls = dial(&config, port).unwrap();
    assert_eq!(tls.session().cipher_suite(), PLAIN);
    echo(&mut tls, &[0x5a; 100_000]);
    tls.close().unwrap();
    assert_eq!(server.join().unwrap().unwrap().cipher_suite(), PLAIN);
}

#[test]
fn plain_psk_is_refused_by_a_server_that_did_not_allow_it() {
    let (port, server) = serve_one(
        server_builder()
            .settings(settings(ProtocolVersion::Tls12, &[]))
            .build()
            .unwrap(),
    );
    let builder = client_builder(IDENTITY, &KEY).settings(settings(ProtocolVersion::Tls12, &[]));
    let config = tls::dangerous::psk_without_forward_secrecy(builder)
        .build()
        .unwrap();
    let client = dial(&config, port).map(|_| ());
    let (alert, _) = alert_of(&client);
    assert_eq!(alert, Some(AlertDescription::HandshakeFailure));
    let refused = server.join().unwrap();
    let (alert, message) = alert_of(&refused);
    assert_eq!(alert, Some(AlertDescription::HandshakeFailure));
    assert!(
        message.contains("plain PSK") && message.contains("accept_psk_without_forward_secrecy"),
        "{message}"
    );
}

#[test]
fn a_default_client_offers_no_plain_psk() {
    // A server that allows plain PSK only: the client's default offer has nothing for it.
    let (port, server) = serve_one(
        tls::dangerous::accept_psk_without_forward_secrecy(server_builder())
            .settings(settings(ProtocolVersion::Tls12, &[PLAIN]))
            .build()
            .unwrap(),
    );
    let config = client_builder(IDENTITY, &KEY).build().unwrap();
    let client = dial(&config, port).map(|_| ());
    assert_eq!(
        alert_of(&client).0,
        Some(AlertDescription::HandshakeFailure)
    );
    assert_eq!(
        alert_of(&server.join().unwrap()).0,
        Some(AlertDescription::HandshakeFailure)
    );
}

#[test]
fn a_client_offering_both_versions_gets_what_the_server_has() {
    let both = client_builder(IDENTITY, &KEY).build().unwrap();
    // A TLS 1.2-only server: TLS 1.2, with the preferred ECDHE_PSK suite.
    let (port, server) = serve_one(
        server_builder()
            .settings(settings(ProtocolVersion::Tls12, &[]))
            .build()
            .unwrap(),
    );
    let mut tls = dial(&both, port).unwrap();
    assert_eq!(tls.session().version(), ProtocolVersion::Tls12);
    assert_eq!(tls.session().cipher_suite(), CHACHA);
    echo(&mut tls, b"twelve");
    tls.close().unwrap();
    server.join().unwrap().unwrap();
    // A server with both: TLS 1.3.
    let (port, server) = serve_one(server_builder().build().unwrap());
    let mut tls = dial(&both, port).unwrap();
    assert_eq!(tls.session().version(), ProtocolVersion::Tls13);
    assert_eq!(tls.session().psk_identity(), Some(IDENTITY.as_bytes()));
    echo(&mut tls, b"thirteen");
    tls.close().unwrap();
    server.join().unwrap().unwrap();
    // A TLS 1.2-only client against a server with both: TLS 1.2, no sentinel trouble.
    let (port, server) = serve_one(server_builder().build().unwrap());
    let only12 = client_builder(IDENTITY, &KEY)
        .settings(settings(ProtocolVersion::Tls12, &[]))
        .build()
        .unwrap();
    let mut tls = dial(&only12, port).unwrap();
    assert_eq!(tls.session().version(), ProtocolVersion::Tls12);
    echo(&mut tls, b"twelve again");
    tls.close().unwrap();
    assert_eq!(
        server.join().unwrap().unwrap().version(),
        ProtocolVersion::Tls12
    );
}

#[test]
fn a_wrong_key_and_an_unknown_identity_are_named() {
    let only12 = |identity: &str, key: &[u8]| {
        client_builder(identity, key)
            .settings(settings(ProtocolVersion::Tls12, &[]))
            .build()
            .unwrap()
    };
    let (port, server) = serve_one(server_builder().build().unwrap());
    let wrong = dial(&only12(IDENTITY, &[0x11; 32]), port).map(|_| ());
    let (client_alert, _) = alert_of(&wrong);
    let (server_alert, message) = alert_of(&server.join().unwrap());
    // The server opens the client's Finished under keys it cannot share: the record fails.
    assert_eq!(
        server_alert,
        Some(AlertDescription::BadRecordMac),
        "{message}"
    );
    assert_eq!(client_alert, Some(AlertDescription::BadRecordMac));

    let (port, server) = serve_one(server_builder().build().unwrap());
    let unknown = dial(&only12("nobody", &KEY), port).map(|_| ());
    assert_eq!(
        alert_of(&unknown).0,
        Some(AlertDescription::UnknownPskIdentity)
    );
    let (alert, message) = alert_of(&server.join().unwrap());
    assert_eq!(alert, Some(AlertDescription::UnknownPskIdentity));
    assert!(message.contains("nobody"), "{message}");
}

#[test]
fn a_server_hint_is_sent_and_the_client_goes_on() {
    let (port, server) = serve_one(
        server_builder()
            .psk_identity_hint("meters")
            .settings(settings(ProtocolVersion::Tls12, &[]))
            .build()
            .unwrap(),
    );
    let config = client_builder(IDENTITY, &KEY).build().unwrap();
    let mut tls = dial(&config, port).unwrap();
    echo(&mut tls, b"hinted");
    tls.close().unwrap();
    server.join().unwrap().unwrap();
    // A hint with no TLS 1.2 to send it in is refused, not dropped.
    let refused = server_builder()
        .psk_identity_hint("meters")
        .settings(HandshakeSettings {
            min_version: ProtocolVersion::Tls13,
            ..HandshakeSettings::default()
        })
        .build();
    assert!(refused.is_err());
}

/// Removes `supported_versions` from the ClientHello in `record` (one record holding the
/// whole hello), fixing the lengths: what an attacker in the path does to force TLS 1.2.
fn strip_supported_versions(record: &[u8]) -> Vec<u8> {
    let hello = &record[5 + 4..];
    let mut at = 2 + 32; // legacy_version, random
    at += 1 + usize::from(hello[at]); // session id
    at += 2 + usize::from(u16::from_be_bytes([hello[at], hello[at + 1]])); // suites
    at += 1 + usize::from(hello[at]); // compression methods
    let extensions_at = at + 2;
    let mut kept = Vec::new();
    let mut e = extensions_at;
    while e < hello.len() {
        let kind = u16::from_be_bytes([hello[e], hello[e + 1]]);
        let len = usize::from(u16::from_be_bytes([hello[e + 2], hello[e + 3]]));
        if kind != 43 {
            kept.extend_from_slice(&hello[e..e + 4 + len]);
        }
        e += 4 + len;
    }
    let mut body = hello[..at].to_vec();
    body.extend_from_slice(&(kept.len() as u16).to_be_bytes());
    body.extend_from_slice(&kept);
    let mut message = vec![1];
    message.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    message.extend_from_slice(&body);
    let mut out = vec![22, 3, 1];
    out.extend_from_slice(&(message.len() as u16).to_be_bytes());
    out.extend_from_slice(&message);
    out
}

/// Relays one connection to `to`, rewriting the client's first record with `rewrite`.
fn relay(to: u16, rewrite: fn(&[u8]) -> Vec<u8>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        let (mut client, _) = listener.accept().unwrap();
        let mut server = TcpStream::connect(("127.0.0.1", to)).unwrap();
        let mut header = [0u8; 5];
        client.read_exact(&mut header).unwrap();
        let mut first = header.to_vec();
        first.resize(
            5 + usize::from(u16::from_be_bytes([header[3], header[4]])),
            0,
        );
        client.read_exact(&mut first[5..]).unwrap();
        server.write_all(&rewrite(&first)).unwrap();
        let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
        let up = thread::spawn(move || std::io::copy(&mut c2, &mut s2));
        let _ = std::io::copy(&mut server, &mut client);
        let _ = client.shutdown(std::net::Shutdown::Both);
        let _ = up.join();
    });
    port
}

#[test]
fn a_relay_that_strips_tls13_is_caught_by_the_downgrade_sentinel() {
    let (port, server) = serve_one(server_builder().build().unwrap());
    let relayed = relay(port, strip_supported_versions);
    let config = client_builder(IDENTITY, &KEY).build().unwrap();
    let attacked = dial(&config, relayed).map(|_| ());
    let (alert, message) = alert_of(&attacked);
    assert_eq!(alert, Some(AlertDescription::IllegalParameter), "{message}");
    assert!(message.contains("downgrade"), "{message}");
    // The server did answer with TLS 1.2 (the relay worked), then saw our alert.
    let (server_alert, _) = alert_of(&server.join().unwrap());
    assert_eq!(server_alert, Some(AlertDescription::IllegalParameter));
    // Without the relay the same pair agree on TLS 1.3 (the test above), and a relay that
    // changes nothing leaves them there.
    let (port, server) = serve_one(server_builder().build().unwrap());
    let relayed = relay(port, |record| record.to_vec());
    let mut tls = dial(&config, relayed).unwrap();
    assert_eq!(tls.session().version(), ProtocolVersion::Tls13);
    echo(&mut tls, b"untouched");
    tls.close().unwrap();
    server.join().unwrap().unwrap();
}
