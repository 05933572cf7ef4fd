//! rustls clients against our X.509 server: every cipher rustls can pick, carried by our
//! records with its keys, and TLS 1.3 KeyUpdates asked for by the client.

use std::sync::Arc;

use rustls::crypto::ring::{cipher_suite as suite, default_provider};
use rustls::{SupportedCipherSuite, SupportedProtocolVersion};

use super::RustlsServer;
use crate::engine::testing::{feed, pump, take_output};
use crate::engine::Engine;
use crate::{CertificateChain, PrivateKey, TrustRoots};

/// rustls's configuration for a server under `pki`'s certificate, as ours sets it.
fn server_config(
    pki: &tls_testkit::Pki,
    versions: &[&'static SupportedProtocolVersion],
) -> rustls::ServerConfig {
    let chain = CertificateChain::from_pem(pki.server.chain_pem.as_bytes()).unwrap();
    let key = PrivateKey::from_pem(pki.server.key_pem.as_bytes()).unwrap();
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(default_provider()))
        .with_protocol_versions(versions)
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain.0, key.0)
        .unwrap();
    config.enable_secret_extraction = true;
    config
}

/// A server under `pki`'s certificate, both versions.
fn server(pki: &tls_testkit::Pki) -> RustlsServer {
    let config = server_config(pki, &[&rustls::version::TLS13, &rustls::version::TLS12]);
    RustlsServer::new(Arc::new(config), Some("localhost".into())).unwrap()
}

/// A rustls client offering only `suites` over `version`.
fn client(
    pki: &tls_testkit::Pki,
    suites: Vec<SupportedCipherSuite>,
    version: &'static SupportedProtocolVersion,
) -> rustls::Connection {
    let roots = TrustRoots::from_pem(pki.root_pem.as_bytes()).unwrap();
    let provider = rustls::crypto::CryptoProvider {
        cipher_suites: suites,
        ..default_provider()
    };
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[version])
        .unwrap()
        .with_root_certificates(roots.root_store().unwrap())
        .with_no_client_auth();
    let name = "localhost".try_into().unwrap();
    rustls::Connection::Client(rustls::ClientConnection::new(Arc::new(config), name).unwrap())
}

/// A TLS 1.3 client that has `server`'s flight and is done, its Finished not yet sent.
fn client_before_its_finished(
    pki: &tls_testkit::Pki,
    server: &mut RustlsServer,
) -> rustls::Connection {
    let mut client = client(
        pki,
        vec![suite::TLS13_AES_128_GCM_SHA256],
        &rustls::version::TLS13,
    );
    let hello = take_output(&mut client);
    feed(server, &hello).unwrap();
    let flight = take_output(server);
    feed(&mut client, &flight).unwrap();
    client
}

/// Sends `data` from `from` and reads it out of `to`, 10 KiB at a time (under what either
/// side holds unread).
fn deliver(from: &mut dyn Engine, to: &mut dyn Engine, data: &[u8]) {
    for piece in data.chunks(10 * 1024) {
        assert_eq!(from.write_plaintext(piece).unwrap(), piece.len());
        pump(from, to).unwrap();
        let mut got = vec![0; piece.len() + 1];
        let mut n = 0;
        while n < piece.len() {
            n += to.read_plaintext(&mut got[n..]).unwrap();
        }
        assert_eq!(&got[..n], piece);
    }
}

fn handshake(client: &mut rustls::Connection, server: &mut RustlsServer) {
    pump(client, server).unwrap();
    assert!(!server.is_handshaking() && !Engine::is_handshaking(client));
}

/// Each TLS 1.3 suite: 40 KiB both ways, then three KeyUpdates asked
/// by the client, each answered by the server's own: without rustls's next keys on both of
/// our sides, the first record after an update fails to open on one end.
#[test]
fn every_tls13_suite_carries_data_through_key_updates() {
    let pki = tls_testkit::Pki::new();
    let data: Vec<u8> = (0..40 * 1024).map(|i| i as u8).collect();
    for (offered, name) in [
        (suite::TLS13_AES_128_GCM_SHA256, "TLS_AES_128_GCM_SHA256"),
        (suite::TLS13_AES_256_GCM_SHA384, "TLS_AES_256_GCM_SHA384"),
        (
            suite::TLS13_CHACHA20_POLY1305_SHA256,
            "TLS_CHACHA20_POLY1305_SHA256",
        ),
    ] {
        let mut client = client(&pki, vec![offered], &rustls::version::TLS13);
        let mut server = server(&pki);
        handshake(&mut client, &mut server);
        assert_eq!(server.session().cipher_suite, name);
        assert_eq!(server.session().server_name(), Some("localhost"));
        deliver(&mut client, &mut server, &data);
        deliver(&mut server, &mut client, &data);
        for round in 0..3u8 {
            let rustls::Connection::Client(c) = &mut client else {
                unreachable!()
            };
            c.refresh_traffic_keys().unwrap();
            deliver(&mut client, &mut server, &[round; 100]);
            deliver(&mut server, &mut client, &[round; 100]);
        }
        // And a clean end: our close_notify under the latest keys.
        server.send_close_notify();
        pump(&mut server, &mut client).unwrap();
        assert_eq!(client.read_plaintext(&mut [0; 8]).unwrap(), 0, "{name}");
    }
}

/// Each TLS 1.2 AEAD (RSA or ECDSA, whichever the certificate is): GCM's explicit nonces go
/// on from rustls's, and records both ways open.
#[test]
fn every_tls12_suite_carries_data() {
    let pki = tls_testkit::Pki::new();
    let data: Vec<u8> = (0..40 * 1024).map(|i| (i / 7) as u8).collect();
    for (offered, bulk) in [
        (
            [
                suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
                suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            ],
            "AES_128_GCM",
        ),
        (
            [
                suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
                suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            ],
            "AES_256_GCM",
        ),
        (
            [
                suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
                suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            ],
            "CHACHA20_POLY1305",
        ),
    ] {
        let mut client = client(&pki, offered.to_vec(), &rustls::version::TLS12);
        let mut server = server(&pki);
        handshake(&mut client, &mut server);
        let session = server.session();
        assert!(
            session.cipher_suite.contains(bulk),
            "{}",
            session.cipher_suite
        );
        assert_eq!(session.version, crate::ProtocolVersion::Tls12);
        for _ in 0..2 {
            deliver(&mut client, &mut server, &data);
            deliver(&mut server, &mut client, &data);
        }
    }
}

/// A server that sends no session tickets has nothing to say after the client's Finished, so
/// rustls would read on: a KeyUpdate sent with the Finished (and data under the new keys) must
/// reach our records, not rustls, or its answer is lost and our next records go out under keys
/// the client does not have.
#[test]
fn a_key_update_sent_with_the_finished_is_ours_to_answer() {
    let pki = tls_testkit::Pki::new();
    let mut config = server_config(&pki, &[&rustls::version::TLS13]);
    config.send_tls13_tickets = 0;
    let mut server = RustlsServer::new(Arc::new(config), None).unwrap();
    let mut client = client_before_its_finished(&pki, &mut server);
    let rustls::Connection::Client(c) = &mut client else {
        unreachable!()
    };
    c.refresh_traffic_keys().unwrap();
    client.write_plaintext(b"first").unwrap();
    // The Finished, the KeyUpdate and the data, in one read.
    let together = take_output(&mut client);
    feed(&mut server, &together).unwrap();
    let mut got = [0u8; 5];
    assert_eq!(server.read_plaintext(&mut got).unwrap(), 5);
    assert_eq!(&got, b"first");
    deliver(
        &mut server,
        &mut client,
        b"answered under the client's new keys",
    );
}

/// TLS 1.2 cannot change keys: at AES-GCM's limit of 2^24 records under one key the
/// connection refuses more data with a clear error (rustls enforced this itself; after its
/// handshake it is ours to do).
#[test]
fn tls12_gcm_stops_at_its_record_limit() {
    use crate::engine::record::{Aead12, Aead12Kind, Protection};
    use crate::engine::Tls12Connection;
    let keys = |seq| {
        Protection::Aead(Aead12::from_key(Aead12Kind::Aes128Gcm, &[7; 16], [1; 12], seq).unwrap())
    };
    let mut conn = Tls12Connection::new(super::established::AfterRustls12 {
        session: crate::session::NO_SESSION.clone(),
        protection: Some((keys(0), keys((1 << 24) - 3))),
    })
    .unwrap();
    // Two records fit, with room for close_notify after them.
    assert_eq!(conn.write_plaintext(&[0; 20_000]).unwrap(), 20_000);
    let refused = conn.write_plaintext(b"one more").unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::BrokenPipe);
    assert!(refused.to_string().contains("2^24"), "{refused}");
    conn.send_close_notify();
    assert!(conn.wants_write());
}

/// A record that fails to open during the handshake: rustls's alert goes out once, and the
/// error is reported again by every later call.
#[test]
fn a_corrupted_finished_gets_one_alert() {
    let pki = tls_testkit::Pki::new();
    let mut server = server(&pki);
    let mut client = client_before_its_finished(&pki, &mut server);
    let mut finished = take_output(&mut client);
    let last = finished.len() - 1;
    finished[last] ^= 1;
    let e = feed(&mut server, &finished).unwrap_err();
    assert!(
        matches!(
            e,
            crate::Error::LocalAlert {
                description: crate::AlertDescription::BadRecordMac,
                ..
            }
        ),
        "{e:?}"
    );
    // One alert record, sealed under the handshake keys: 5 + 2 + 1 + 16 bytes.
    assert_eq!(take_output(&mut server).len(), 24);
    assert_eq!(
        server.process_new_packets().unwrap_err().to_string(),
        e.to_string()
    );
}
