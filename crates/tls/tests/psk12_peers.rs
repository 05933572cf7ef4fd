//! The TLS 1.2 PSK suites (RFC 4279, 5489, 7905, 5487) against real stacks, both ways:
//! OpenSSL 3.0 (`s_server`, `s_client`), GnuTLS 3.7 (`gnutls-serv`, and a client on the same
//! library: gnutls-cli 3.7 crashes right after a TLS 1.2 ECDHE-PSK handshake), and a private
//! mosquitto 2.0 broker held to TLS 1.2.
//!
//! Each suite carries 10 MiB each way, compared byte for byte, with the identity in the session;
//! wrong keys and unknown identities end on named alerts; plain PSK (no forward secrecy) needs
//! the `tls::dangerous` opt-in on each side; a client offering TLS 1.3 and 1.2 lands on the
//! version the server has; and more than 2^16 records each way take the AEAD nonces past 16 bits
//! of sequence number. Peers are started by tls_testkit on 127.0.0.1 and stopped by PID. A
//! missing peer skips with a message, or fails under `TLS_PEERS_REQUIRED=1`.
//!
//! What the peers answer, as seen on this machine (OpenSSL 3.0.19, GnuTLS 3.7.9, mosquitto
//! 2.0.11): a wrong key is bad_record_mac from all three (the server cannot decrypt our
//! Finished); an unknown identity is unknown_psk_identity from mosquitto (OpenSSL looking the
//! identity up), bad_record_mac from gnutls-serv (it answers an unknown user with a random key,
//! so identities cannot be probed), and nothing from `s_server`, which has one key and only
//! warns about another identity.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use tls::psk::{ExternalPsk, MemoryPskStore};
use tls::AlertDescription::{
    self, BadRecordMac, DecryptError, HandshakeFailure, InsufficientSecurity, UnknownPskIdentity,
};
use tls::{
    ClientConfig, Error, HandshakeSettings, ProtocolVersion, ServerConfig, Session, TlsStream,
};
use tls_testkit::{
    answer_upper, assert_refused_by_peer, assert_refused_by_us, assert_same_bytes, connect,
    gnutls_psk_client, gnutls_psk_serv, http_get, mqtt_disconnect, mqtt_expect_publish,
    mqtt_publish, mqtt_subscribe, openssl_psk_client, openssl_psk_server, openssl_psk_stdio_server,
    payload, serve_once, tail, text_payload, Mosquitto, Psk12Suite, RecordRelay, ServerThread,
    GNUTLS_PSK_TLS12, PSK12_ECDHE_AES128_CBC, PSK12_ECDHE_CHACHA20, PSK12_PLAIN_AES128_GCM,
    PSK12_SUITES,
};

const IDENTITY: &str = "meter-1207";
const KEY: [u8; 32] = [
    0xa7, 0x16, 0xe2, 0x4d, 0x09, 0xbb, 0x73, 0xc8, 0x5e, 0x31, 0xf4, 0x8a, 0x62, 0x0d, 0x97, 0x2f,
    0xd5, 0x48, 0x1c, 0xe9, 0x86, 0x3b, 0x70, 0xaf, 0x24, 0xc1, 0x5b, 0x93, 0x0e, 0x7a, 0xf6, 0x38,
];
const WRONG_KEY: [u8; 32] = [0x11; 32];

/// Bytes carried each way, per suite and peer.
const BULK: usize = 10 << 20;

/// A peer program still running after this is stuck: it is killed and the test fails.
const PEER_DEADLINE: Duration = Duration::from_secs(60);

/// gnutls-serv's log repeats everything it echoes: show only its end.
const LOG_TAIL: usize = 4000;

fn psk(identity: &str, key: &[u8]) -> ExternalPsk {
    ExternalPsk::new(identity, key).unwrap()
}

/// Our client held to TLS 1.2 and `suite` alone; plain PSK through the `dangerous` opt-in.
fn client12(psk: ExternalPsk, suite: &Psk12Suite) -> ClientConfig {
    client12_offering(psk, suite, &[])
}

/// The same, offering the ALPN protocols `alpn`.
fn client12_offering(psk: ExternalPsk, suite: &Psk12Suite, alpn: &[&str]) -> ClientConfig {
    let builder = ClientConfig::builder()
        .psk(psk)
        .settings(HandshakeSettings {
            max_version: ProtocolVersion::Tls12,
            cipher_names: vec![suite.iana.into()],
            alpn: alpn.iter().map(|p| p.to_string()).collect(),
            ..Default::default()
        });
    let builder = match suite.forward_secret {
        true => builder,
        false => tls::dangerous::psk_without_forward_secrecy(builder),
    };
    builder.build().unwrap()
}

/// Our client as it comes: TLS 1.3 PSK and the TLS 1.2 ECDHE-PSK suites in one ClientHello.
fn default_client(psk: ExternalPsk) -> ClientConfig {
    ClientConfig::builder().psk(psk).build().unwrap()
}

/// Our server knowing `keys`, TLS 1.3 and 1.2 (a client that offers only TLS 1.2 gets the TLS
/// 1.2 PSK suites), plain PSK only when `allow_plain`.
fn our_server_config(keys: &[ExternalPsk], allow_plain: bool) -> ServerConfig {
    our_server_with(keys, allow_plain, HandshakeSettings::default())
}

/// The same, with `settings`.
fn our_server_with(
    keys: &[ExternalPsk],
    allow_plain: bool,
    settings: HandshakeSettings,
) -> ServerConfig {
    let store = MemoryPskStore::new();
    for key in keys {
        store.insert(key.clone());
    }
    let builder = ServerConfig::builder().psk_store(store).settings(settings);
    let builder = match allow_plain {
        true => tls::dangerous::accept_psk_without_forward_secrecy(builder),
        false => builder,
    };
    builder.build().unwrap()
}

/// Our server with [`IDENTITY`]'s key, plain PSK allowed for a plain suite.
fn our_server_for(suite: &Psk12Suite) -> ServerConfig {
    our_server_config(&[psk(IDENTITY, &KEY)], !suite.forward_secret)
}

fn dial(config: &ClientConfig, port: u16) -> Result<TlsStream<TcpStream>, Error> {
    config.connect("localhost", connect(([127, 0, 0, 1], port).into()))
}

/// Sends `batches` to an echo server and checks each echo byte for byte: `record_size` bytes a
/// write (a write is a record), the next batch sent before the last one's echo is read. Without
/// that overlap the echo's small segments wait on delayed ACKs (gnutls-serv leaves Nagle on):
/// 10 MiB took 7 s instead of 0.3 s.
fn echo_pipelined(
    tls: &mut TlsStream<TcpStream>,
    batches: &[&[u8]],
    record_size: usize,
    log: impl Fn() -> String,
) {
    let mut back: Vec<u8> = Vec::new();
    let mut check = |tls: &mut TlsStream<TcpStream>, i: usize| {
        back.resize(batches[i].len(), 0);
        tls.read_exact(&mut back)
            .unwrap_or_else(|e| panic!("echo of batch {i}: {e}\n{}", log()));
        assert_same_bytes(&back, batches[i], &format!("echo of batch {i}"));
    };
    for (i, batch) in batches.iter().enumerate() {
        for record in batch.chunks(record_size) {
            tls.write_all(record)
                .unwrap_or_else(|e| panic!("batch {i}: {e}\n{}", log()));
        }
        if i > 0 {
            check(&mut *tls, i - 1);
        }
    }
    if !batches.is_empty() {
        check(&mut *tls, batches.len() - 1);
    }
}

/// What a TLS 1.2 PSK session of `suite` shows, on either side.
fn assert_tls12(session: &Session, suite: &Psk12Suite) {
    assert_eq!(session.version(), ProtocolVersion::Tls12, "{session:?}");
    assert_eq!(session.cipher_suite(), suite.iana, "{session:?}");
    assert_eq!(
        session.psk_identity(),
        Some(IDENTITY.as_bytes()),
        "{session:?}"
    );
    // OpenSSL and GnuTLS both do RFC 7627; the CBC suite runs Encrypt-then-MAC (RFC 7366).
    assert_eq!(session.extended_master_secret(), Some(true), "{session:?}");
    if suite.iana.contains("_CBC_") {
        assert_eq!(session.encrypt_then_mac(), Some(true), "{session:?}");
    }
}

/// What our server saw of one client: the session and the bytes it read.
type Seen = Result<(Session, Vec<u8>), Error>;

/// Our server for one connection: reads [`BULK`] bytes, then sends `down` and close_notify.
fn serve_bulk(config: ServerConfig, down: Vec<u8>) -> ServerThread<Seen> {
    serve_once(move |tcp| {
        let mut tls = config.accept(tcp)?;
        let session = tls.session().clone();
        let mut got = vec![0; BULK];
        tls.read_exact(&mut got)?;
        tls.write_all(&down)?;
        tls.close()?;
        Ok((session, got))
    })
}

/// Our server for one connection: reads once, answers upper-cased, close_notify.
fn serve_small(config: ServerConfig) -> ServerThread<Seen> {
    serve_once(move |tcp| {
        let tls = config.accept(tcp)?;
        let session = tls.session().clone();
        Ok((session, answer_upper(tls)?))
    })
}

/// Our client's handshake with `config` must end within 4 s on the alert `expected` from the
/// peer, whose log is `log()`.
fn assert_peer_refuses(
    config: &ClientConfig,
    port: u16,
    expected: AlertDescription,
    log: impl Fn() -> String,
) {
    assert_refused_by_peer(|| dial(config, port), expected, log);
}

/// One test per suite for each scenario: `scenario::ecdhe_psk_chacha20_poly1305`,
/// `scenario::ecdhe_psk_aes_128_cbc_sha256`, `scenario::psk_aes_128_gcm_sha256`.
macro_rules! for_each_suite {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[test]
            fn ecdhe_psk_chacha20_poly1305() {
                super::$scenario(&tls_testkit::PSK12_ECDHE_CHACHA20);
            }
            #[test]
            fn ecdhe_psk_aes_128_cbc_sha256() {
                super::$scenario(&tls_testkit::PSK12_ECDHE_AES128_CBC);
            }
            #[test]
            fn psk_aes_128_gcm_sha256() {
                super::$scenario(&tls_testkit::PSK12_PLAIN_AES128_GCM);
            }
        }
    )*};
}

for_each_suite!(
    our_client_to_openssl,
    openssl_client_to_us,
    our_client_to_gnutls,
    gnutls_client_to_us,
);

// ---------------------------------------------------------------------------------------------
// 10 MiB each way, each suite, each direction

/// Our client against `openssl s_server -tls1_2 -cipher <suite>` in data mode: what we send
/// lands in its stdout, what we feed its stdin comes to us.
fn our_client_to_openssl(suite: &Psk12Suite) {
    let args = ["-tls1_2", "-cipher", suite.openssl];
    let Some(mut server) = openssl_psk_stdio_server(&psk(IDENTITY, &KEY), &args) else {
        return;
    };
    let mut tls = dial(&client12(psk(IDENTITY, &KEY), suite), server.port)
        .unwrap_or_else(|e| panic!("{e:?}\n{}", server.log()));
    assert_tls12(tls.session(), suite);
    let (up, down) = (payload(BULK, 1), payload(BULK, 2));
    // Ours first, whole: s_server writes it to a file and sends nothing until fed. Fed while we
    // still write, it would block on us as we block on it.
    tls.write_all(&up)
        .unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
    server.feed(down.clone());
    let mut got = vec![0; BULK];
    tls.read_exact(&mut got)
        .unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
    assert_same_bytes(&got, &down, "what s_server sent");
    tls.close().unwrap();
    // `-naccept 1`: s_server exits once it has read our close_notify, which comes after all
    // our data.
    server.wait(PEER_DEADLINE);
    assert_same_bytes(&server.stdout(), &up, "what s_server received");
}

/// `s_client` with [`IDENTITY`]'s key and `args` against `server`, sending `input`: what our
/// server saw (the session, the bytes) and the finished client. `None` when OpenSSL is missing.
fn openssl_client_served(
    server: ServerThread<Seen>,
    args: &[&str],
    input: &[u8],
) -> Option<(Session, Vec<u8>, tls_testkit::StdioPeer)> {
    let mut client = openssl_psk_client(server.addr.port(), &psk(IDENTITY, &KEY), args, input)?;
    client.wait(PEER_DEADLINE);
    let (session, got) = server
        .join()
        .unwrap_or_else(|e| panic!("{e:?}\n{}", client.log()));
    Some((session, got, client))
}

/// `openssl s_client -tls1_2 -cipher <suite> -quiet` against our server: it sends its stdin,
/// we send ours back after reading it all, then close_notify ends s_client.
fn openssl_client_to_us(suite: &Psk12Suite) {
    let (up, down) = (payload(BULK, 3), payload(BULK, 4));
    let server = serve_bulk(our_server_for(suite), down.clone());
    let args = ["-tls1_2", "-cipher", suite.openssl, "-quiet"];
    let Some((session, got, client)) = openssl_client_served(server, &args, &up) else {
        return;
    };
    assert_tls12(&session, suite);
    assert_same_bytes(&got, &up, "what s_client sent");
    assert_same_bytes(&client.stdout(), &down, "what s_client received");
}

/// Our client against `gnutls-serv --echo` limited to `suite`: 10 MiB of text lines (what its
/// echo mode takes), echoed a chunk at a time.
fn our_client_to_gnutls(suite: &Psk12Suite) {
    let Some(server) = gnutls_psk_serv(&[psk(IDENTITY, &KEY)], suite.gnutls, "--echo") else {
        return;
    };
    let log = || tail(&server.log(), LOG_TAIL).to_owned();
    let mut tls = dial(&client12(psk(IDENTITY, &KEY), suite), server.port)
        .unwrap_or_else(|e| panic!("{e:?}\n{}", log()));
    assert_tls12(tls.session(), suite);
    let data = text_payload(BULK, 5);
    // 252 whole lines of 65 bytes a batch: gnutls-serv echoes once it has a line's end.
    let batches: Vec<&[u8]> = data.chunks(65 * 252).collect();
    echo_pipelined(&mut tls, &batches, 16 * 1024, log);
    tls.close().unwrap();
    let log = server.log();
    for said in [
        format!("PSK authentication. Connected as '{IDENTITY}'"),
        "- Version: TLS1.2".to_owned(),
    ] {
        assert!(
            log.contains(&said),
            "{said:?} not in\n{}",
            tail(&log, LOG_TAIL)
        );
    }
}

/// A GnuTLS client limited to `suite` against our server, as [`openssl_client_to_us`].
fn gnutls_client_to_us(suite: &Psk12Suite) {
    let (up, down) = (payload(BULK, 6), payload(BULK, 7));
    let server = serve_bulk(our_server_for(suite), down.clone());
    let Some(mut client) =
        gnutls_psk_client(server.addr.port(), &psk(IDENTITY, &KEY), suite.gnutls, &up)
    else {
        return;
    };
    client.wait(PEER_DEADLINE);
    let (session, got) = server
        .join()
        .unwrap_or_else(|e| panic!("{e:?}\n{}", client.log()));
    let log = client.log();
    assert!(
        log.contains(&format!("suite: {}", suite.gnutls_name)),
        "{log}"
    );
    assert!(log.contains("closed: close_notify"), "{log}");
    assert_tls12(&session, suite);
    assert_same_bytes(&got, &up, "what the GnuTLS client sent");
    assert_same_bytes(&client.stdout(), &down, "what the GnuTLS client received");
}

/// ECDHE_PSK on both curves we offer and accept, X25519 and secp256r1 (GnuTLS lists
/// secp256r1 first, OpenSSL X25519), each side of the handshake ours in turn.
#[test]
fn ecdhe_psk_on_x25519_and_secp256r1_with_gnutls() {
    let suite = &PSK12_ECDHE_CHACHA20;
    for (group, named) in [
        ("GROUP-X25519", "ECDHE-X25519"),
        ("GROUP-SECP256R1", "ECDHE-SECP256R1"),
    ] {
        let priority = format!("{}:-GROUP-ALL:+{group}", suite.gnutls);
        let server = serve_small(our_server_for(suite));
        let Some(mut client) = gnutls_psk_client(
            server.addr.port(),
            &psk(IDENTITY, &KEY),
            &priority,
            b"ping\n",
        ) else {
            return;
        };
        client.wait(PEER_DEADLINE);
        let (session, got) = server
            .join()
            .unwrap_or_else(|e| panic!("{e:?}\n{}", client.log()));
        assert_tls12(&session, suite);
        assert_eq!(got, b"ping\n");
        assert_eq!(client.stdout(), b"PING\n", "{}", client.log());
        assert!(client.log().contains(named), "{}", client.log());

        let gnutls = gnutls_psk_serv(&[psk(IDENTITY, &KEY)], &priority, "--echo").unwrap();
        let mut tls = dial(&client12(psk(IDENTITY, &KEY), suite), gnutls.port)
            .unwrap_or_else(|e| panic!("{e:?}\n{}", gnutls.log()));
        assert_tls12(tls.session(), suite);
        tls.write_all(b"pong\n").unwrap();
        let mut back = [0u8; 5];
        tls.read_exact(&mut back).unwrap();
        assert_eq!(&back, b"pong\n");
        tls.close().unwrap();
        let log = gnutls.log();
        assert!(log.contains(named), "{}", tail(&log, LOG_TAIL));
    }
}

// ---------------------------------------------------------------------------------------------
// Wrong keys and unknown identities

#[test]
fn openssl_s_server_names_a_wrong_key_bad_record_mac() {
    let all = PSK12_SUITES.map(|s| s.openssl).join(":");
    let args = ["-tls1_2", "-cipher", all.as_str(), "-www"];
    let Some(server) = openssl_psk_server(&psk(IDENTITY, &KEY), &args) else {
        return;
    };
    // The server cannot decrypt our Finished: bad_record_mac, whatever the record protection.
    for suite in &PSK12_SUITES {
        let wrong = client12(psk(IDENTITY, &WRONG_KEY), suite);
        assert_peer_refuses(&wrong, server.port, BadRecordMac, || server.log());
    }
    // s_server has one key and looks no identity up: another identity with that key is only
    // warned about, and served. Unknown identities are refused by mosquitto (OpenSSL with a
    // lookup), below.
    let nobody = client12(psk("nobody", &KEY), &PSK12_ECDHE_CHACHA20);
    let (session, page) = http_get(&nobody, server.port).unwrap();
    assert!(page.contains("PSK identity: nobody"), "{page}");
    assert_eq!(session.psk_identity(), Some(&b"nobody"[..]));
}

#[test]
fn gnutls_serv_names_a_wrong_key_and_an_unknown_identity_bad_record_mac() {
    let Some(server) = gnutls_psk_serv(&[psk(IDENTITY, &KEY)], GNUTLS_PSK_TLS12, "--echo") else {
        return;
    };
    // GnuTLS gives an unknown identity a random key ("If the user doesn't exist a random
    // password is returned instead"): both fail at our Finished, alike.
    for suite in &PSK12_SUITES {
        for config in [
            client12(psk(IDENTITY, &WRONG_KEY), suite),
            client12(psk("nobody", &KEY), suite),
        ] {
            assert_peer_refuses(&config, server.port, BadRecordMac, || server.log());
        }
    }
    let log = server.log_with("Decryption has failed");
    assert!(
        log.contains("Decryption has failed"),
        "{}",
        tail(&log, LOG_TAIL)
    );
}

/// `s_client` with `psk`, limited to `suite`, against our server, which must refuse it with
/// one of `expected`; s_client must have received that alert.
fn openssl_client_refused(psk: ExternalPsk, suite: &Psk12Suite, expected: &[AlertDescription]) {
    let server = serve_small(our_server_for(suite));
    let started = Instant::now();
    let args = ["-tls1_2", "-cipher", suite.openssl, "-quiet"];
    let Some(mut client) = openssl_psk_client(server.addr.port(), &psk, &args, b"hello\n") else {
        return;
    };
    client.wait(PEER_DEADLINE);
    let (sent, why) = assert_refused_by_us(server.join(), started, expected);
    let said = client.said();
    assert!(!said.contains("HELLO"), "{said}");
    assert!(
        said.contains(&format!("SSL alert number {}", sent.code())),
        "{sent:?} ({why}) not seen by s_client:\n{said}"
    );
}

/// `s_client` offering h2 and HTTP/1.1 over each suite to our server, which prefers h2: h2
/// only over ECDHE_PSK with ChaCha20-Poly1305, HTTP/1.1 over the CBC and the plain PSK suites
/// (RFC 9113 §9.2.2 rules out suites without both an AEAD and an ephemeral key exchange).
#[test]
fn h2_is_chosen_only_over_the_suite_rfc_9113_allows() {
    for suite in &PSK12_SUITES {
        let settings = HandshakeSettings {
            alpn: vec!["h2".into(), "http/1.1".into()],
            ..Default::default()
        };
        let config = our_server_with(&[psk(IDENTITY, &KEY)], !suite.forward_secret, settings);
        let args = ["-tls1_2", "-cipher", suite.openssl, "-alpn", "h2,http/1.1"];
        let Some((session, _, client)) =
            openssl_client_served(serve_small(config), &args, b"hello\n")
        else {
            return;
        };
        let wanted = match suite.iana {
            "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256" => "h2",
            _ => "http/1.1",
        };
        assert_eq!(
            session.alpn_protocol(),
            Some(wanted.as_bytes()),
            "{}",
            suite.iana
        );
        let said = client.said();
        assert!(
            said.contains(&format!("ALPN protocol: {wanted}")),
            "{}: {said}",
            suite.iana
        );
    }
}

/// Our client offering h2 and HTTP/1.1 to `s_server -alpn h2`, which picks h2 over any suite:
/// taken over ECDHE_PSK with ChaCha20-Poly1305, refused with insufficient_security over the
/// CBC and the plain PSK suites (RFC 9113 §9.2.2).
#[test]
fn our_client_refuses_h2_over_a_suite_rfc_9113_forbids() {
    for suite in &PSK12_SUITES {
        let args = ["-tls1_2", "-cipher", suite.openssl, "-alpn", "h2", "-www"];
        let Some(server) = openssl_psk_server(&psk(IDENTITY, &KEY), &args) else {
            return;
        };
        let config = client12_offering(psk(IDENTITY, &KEY), suite, &["h2", "http/1.1"]);
        if suite.iana == "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256" {
            let (session, _) = http_get(&config, server.port)
                .unwrap_or_else(|e| panic!("{e:?}\n{}", server.log()));
            assert_eq!(session.alpn_protocol(), Some(&b"h2"[..]));
            continue;
        }
        let started = Instant::now();
        let (_, why) =
            assert_refused_by_us(dial(&config, server.port), started, &[InsufficientSecurity]);
        assert!(why.contains("RFC 9113"), "{}: {why}", suite.iana);
    }
}

#[test]
fn our_server_names_a_wrong_key_and_an_unknown_identity_to_openssl() {
    for suite in &PSK12_SUITES {
        // We cannot decrypt (AEAD) or authenticate (CBC, EtM) the client's Finished.
        let wrong = psk(IDENTITY, &WRONG_KEY);
        openssl_client_refused(wrong, suite, &[BadRecordMac, DecryptError]);
        // s_client prints "tlsv1 alert unknown psk identity ... SSL alert number 115".
        openssl_client_refused(psk("nobody", &KEY), suite, &[UnknownPskIdentity]);
    }
}

/// The GnuTLS client with `psk` against our server, which must refuse it with one of
/// `expected`; the client must have received that alert.
fn gnutls_client_refused(psk: ExternalPsk, suite: &Psk12Suite, expected: &[AlertDescription]) {
    let server = serve_small(our_server_for(suite));
    let started = Instant::now();
    let Some(mut client) = gnutls_psk_client(server.addr.port(), &psk, suite.gnutls, b"hello\n")
    else {
        return;
    };
    client.wait(PEER_DEADLINE);
    let (sent, why) = assert_refused_by_us(server.join(), started, expected);
    let said = client.said();
    assert!(!said.contains("HELLO"), "{said}");
    assert!(
        said.contains("alert received: ") && said.contains(&format!("({})", sent.code())),
        "{sent:?} ({why}) not seen by the GnuTLS client:\n{said}"
    );
}

#[test]
fn our_server_names_a_wrong_key_and_an_unknown_identity_to_gnutls() {
    for suite in &PSK12_SUITES {
        let wrong = psk(IDENTITY, &WRONG_KEY);
        gnutls_client_refused(wrong, suite, &[BadRecordMac, DecryptError]);
        // GnuTLS names 115 "The SRP/PSK username is missing or not known".
        gnutls_client_refused(psk("nobody", &KEY), suite, &[UnknownPskIdentity]);
    }
}

// ---------------------------------------------------------------------------------------------
// Plain PSK (no forward secrecy): refused by default on both sides, taken with the opt-ins

#[test]
fn plain_psk_from_an_openssl_server_needs_the_client_opt_in() {
    let plain = &PSK12_PLAIN_AES128_GCM;
    let args = ["-tls1_2", "-cipher", plain.openssl, "-www"];
    let Some(server) = openssl_psk_server(&psk(IDENTITY, &KEY), &args) else {
        return;
    };
    // Our client as it comes offers TLS 1.3, which this server lacks, and ECDHE_PSK in TLS
    // 1.2, which it lacks too: handshake_failure (s_server: "no shared cipher").
    let as_it_comes = default_client(psk(IDENTITY, &KEY));
    assert_peer_refuses(&as_it_comes, server.port, HandshakeFailure, || server.log());
    let log = server.log_with("no shared cipher");
    assert!(log.contains("no shared cipher"), "{log}");
    // Naming the suite is not enough: the configuration is refused, saying what is missing.
    let named_only = ClientConfig::builder()
        .psk(psk(IDENTITY, &KEY))
        .settings(HandshakeSettings {
            max_version: ProtocolVersion::Tls12,
            cipher_names: vec![plain.iana.into()],
            ..Default::default()
        })
        .build()
        .unwrap_err();
    assert!(matches!(named_only, Error::Config(_)), "{named_only:?}");
    assert!(
        named_only
            .to_string()
            .contains("psk_without_forward_secrecy"),
        "{named_only}"
    );
    // With tls::dangerous::psk_without_forward_secrecy it is served.
    let (session, page) = http_get(&client12(psk(IDENTITY, &KEY), plain), server.port).unwrap();
    assert_tls12(&session, plain);
    assert!(page.contains("Cipher is PSK-AES128-GCM-SHA256"), "{page}");
    assert!(
        page.contains(&format!("PSK identity: {IDENTITY}")),
        "{page}"
    );
}

#[test]
fn plain_psk_from_a_gnutls_server_needs_the_client_opt_in() {
    let plain = &PSK12_PLAIN_AES128_GCM;
    let Some(server) = gnutls_psk_serv(&[psk(IDENTITY, &KEY)], plain.gnutls, "--echo") else {
        return;
    };
    let as_it_comes = default_client(psk(IDENTITY, &KEY));
    assert_peer_refuses(&as_it_comes, server.port, HandshakeFailure, || server.log());
    let log = server.log_with("No supported cipher suites");
    assert!(log.contains("No supported cipher suites"), "{log}");
    let mut tls = dial(&client12(psk(IDENTITY, &KEY), plain), server.port).unwrap();
    assert_tls12(tls.session(), plain);
    tls.write_all(b"plain\n").unwrap();
    let mut back = [0u8; 6];
    tls.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"plain\n");
    tls.close().unwrap();
}

#[test]
fn our_server_takes_plain_psk_from_openssl_only_with_the_opt_in() {
    let plain = &PSK12_PLAIN_AES128_GCM;
    let ask = |server: &ServerThread<Seen>, ciphers: &str| {
        let args = ["-tls1_2", "-cipher", ciphers, "-ign_eof"];
        openssl_psk_client(server.addr.port(), &psk(IDENTITY, &KEY), &args, b"hello\n")
    };
    // Refused by default, saying why; s_client reads "alert handshake failure".
    let server = serve_small(our_server_config(&[psk(IDENTITY, &KEY)], false));
    let started = Instant::now();
    let Some(mut client) = ask(&server, plain.openssl) else {
        return;
    };
    client.wait(PEER_DEADLINE);
    let (_, why) = assert_refused_by_us(server.join(), started, &[HandshakeFailure]);
    assert!(why.contains("forward secrecy"), "{why}");
    assert!(
        client.said().contains("SSL alert number 40"),
        "{}",
        client.said()
    );

    // With tls::dangerous::accept_psk_without_forward_secrecy, a client that has nothing else
    // is served plain PSK...
    let allowing = || our_server_config(&[psk(IDENTITY, &KEY)], true);
    let server = serve_small(allowing());
    let mut client = ask(&server, plain.openssl).unwrap();
    client.wait(PEER_DEADLINE);
    let (session, got) = server.join().unwrap();
    assert_tls12(&session, plain);
    assert_eq!(got, b"hello\n");
    assert!(client.said().contains("HELLO"), "{}", client.said());

    // ...and one that offers ECDHE_PSK too still gets it, even listing plain PSK first.
    let server = serve_small(allowing());
    let both = format!("{}:{}", plain.openssl, PSK12_ECDHE_CHACHA20.openssl);
    let mut client = ask(&server, both.as_str()).unwrap();
    client.wait(PEER_DEADLINE);
    let (session, _) = server.join().unwrap();
    assert_tls12(&session, &PSK12_ECDHE_CHACHA20);
    let said = client.said();
    assert!(
        said.contains("Cipher is ECDHE-PSK-CHACHA20-POLY1305"),
        "{said}"
    );
}

#[test]
fn our_server_takes_plain_psk_from_gnutls_only_with_the_opt_in() {
    let plain = &PSK12_PLAIN_AES128_GCM;
    let server = serve_small(our_server_config(&[psk(IDENTITY, &KEY)], false));
    let started = Instant::now();
    let port = server.addr.port();
    let Some(mut client) = gnutls_psk_client(port, &psk(IDENTITY, &KEY), plain.gnutls, b"hi\n")
    else {
        return;
    };
    client.wait(PEER_DEADLINE);
    let (_, why) = assert_refused_by_us(server.join(), started, &[HandshakeFailure]);
    assert!(why.contains("forward secrecy"), "{why}");
    assert!(client.log().contains("(40)"), "{}", client.log());

    let server = serve_small(our_server_config(&[psk(IDENTITY, &KEY)], true));
    let port = server.addr.port();
    let mut client = gnutls_psk_client(port, &psk(IDENTITY, &KEY), plain.gnutls, b"hi\n").unwrap();
    client.wait(PEER_DEADLINE);
    let (session, _) = server.join().unwrap();
    assert_tls12(&session, plain);
    assert_eq!(client.stdout(), b"HI\n", "{}", client.log());
}

// ---------------------------------------------------------------------------------------------
// One client, two versions

#[test]
fn a_default_client_gets_tls12_from_a_tls12_server_and_tls13_otherwise() {
    let Some(only12) = openssl_psk_server(&psk(IDENTITY, &KEY), &["-tls1_2", "-www"]) else {
        return;
    };
    let client = default_client(psk(IDENTITY, &KEY));
    let (session, page) = http_get(&client, only12.port).unwrap();
    assert_eq!(session.version(), ProtocolVersion::Tls12, "{session:?}");
    assert!(
        session.cipher_suite().starts_with("TLS_ECDHE_PSK_WITH_"),
        "{session:?}"
    );
    assert_eq!(session.psk_identity(), Some(IDENTITY.as_bytes()));
    assert!(
        page.contains("New, TLSv1.2, Cipher is ECDHE-PSK-"),
        "{page}"
    );
    assert!(
        page.contains(&format!("PSK identity: {IDENTITY}")),
        "{page}"
    );

    let both = openssl_psk_server(&psk(IDENTITY, &KEY), &["-www"]).unwrap();
    let (session, page) = http_get(&client, both.port).unwrap();
    assert_eq!(session.version(), ProtocolVersion::Tls13, "{session:?}");
    assert_eq!(session.psk_identity(), Some(IDENTITY.as_bytes()));
    assert!(page.contains("TLSv1.3"), "{page}");

    let Some(gnutls12) = gnutls_psk_serv(&[psk(IDENTITY, &KEY)], GNUTLS_PSK_TLS12, "--echo") else {
        return;
    };
    let mut tls = dial(&client, gnutls12.port).unwrap();
    assert_eq!(tls.session().version(), ProtocolVersion::Tls12);
    tls.write_all(b"twelve\n").unwrap();
    let mut back = [0u8; 7];
    tls.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"twelve\n");
    tls.close().unwrap();
}

// ---------------------------------------------------------------------------------------------
// mosquitto 2.0 held to TLS 1.2, as a real broker

const TOPIC: &str = "tls-lite/psk12/energy";

#[test]
fn our_client_talks_mqtt_to_a_tls12_mosquitto() {
    let publisher = psk("publisher", &[0x42; 32]);
    let Some(broker) = Mosquitto::start_tls12_only(&[psk(IDENTITY, &KEY), publisher.clone()])
    else {
        return;
    };
    // Our client as it comes offers TLS 1.3 too: the broker answers with TLS 1.2 ECDHE_PSK
    // (and its psk_hint, which our client does not need).
    let mut tls = dial(&default_client(psk(IDENTITY, &KEY)), broker.port)
        .unwrap_or_else(|e| panic!("{e:?}\n{}", broker.log()));
    let session = tls.session().clone();
    assert_eq!(session.version(), ProtocolVersion::Tls12, "{session:?}");
    assert!(
        session.cipher_suite().starts_with("TLS_ECDHE_PSK_WITH_"),
        "{session:?}"
    );
    assert_eq!(session.psk_identity(), Some(IDENTITY.as_bytes()));
    mqtt_subscribe(&mut tls, &broker, TOPIC);
    let user = format!("u'{IDENTITY}'");
    let log = broker.log_with(&user);
    assert!(log.contains(&user), "{log}");

    tls.write_all(&mqtt_publish(TOPIC, b"1207 kWh")).unwrap();
    mqtt_expect_publish(&mut tls, &broker, TOPIC, b"1207 kWh");
    if let Some(()) = broker.publish(&publisher, TOPIC, "1208 kWh") {
        mqtt_expect_publish(&mut tls, &broker, TOPIC, b"1208 kWh");
    }
    tls.write_all(&mqtt_disconnect()).unwrap();
    tls.close().unwrap();

    // Each ECDHE_PSK suite by name works too.
    for suite in [&PSK12_ECDHE_CHACHA20, &PSK12_ECDHE_AES128_CBC] {
        let mut tls = dial(&client12(psk(IDENTITY, &KEY), suite), broker.port).unwrap();
        assert_tls12(tls.session(), suite);
        mqtt_subscribe(&mut tls, &broker, TOPIC);
        tls.write_all(&mqtt_publish(TOPIC, suite.iana.as_bytes()))
            .unwrap();
        mqtt_expect_publish(&mut tls, &broker, TOPIC, suite.iana.as_bytes());
        tls.write_all(&mqtt_disconnect()).unwrap();
        tls.close().unwrap();
    }
}

#[test]
fn a_tls12_mosquitto_names_an_unknown_identity_and_a_wrong_key() {
    let Some(broker) = Mosquitto::start_tls12_only(&[psk(IDENTITY, &KEY)]) else {
        return;
    };
    // mosquitto looks the identity up in its psk_file; OpenSSL sends unknown_psk_identity when
    // it is not there (the broker logs "psk identity not found").
    let intruder = default_client(psk("intruder", &KEY));
    assert_peer_refuses(&intruder, broker.port, UnknownPskIdentity, || broker.log());
    let wrong = default_client(psk(IDENTITY, &WRONG_KEY));
    assert_peer_refuses(&wrong, broker.port, BadRecordMac, || broker.log());
    for said in [
        "psk identity not found",
        "decryption failed or bad record mac",
    ] {
        let log = broker.log_with(said);
        assert!(log.contains(said), "{log}");
    }
}

// ---------------------------------------------------------------------------------------------
// Many records: AEAD nonces past 2^16 records each way

/// Records of application data each way: past 2^16, so the sequence numbers in the nonces
/// (RFC 7905: XORed into the IV; RFC 5288: the explicit nonce, and the AAD of both) need more
/// than 16 bits, on our side and the peer's.
const RECORDS: usize = 66_000;

/// Records written in a batch, before the echoes of the batch before are read back.
const BATCH: usize = 1_000;

/// Our client writes [`RECORDS`] records of one 8-byte line each (a write is a record) to
/// `gnutls-serv --echo`, which answers each with a record; a relay counts both ways.
fn many_records_with_gnutls(suite: &Psk12Suite) {
    let Some(server) = gnutls_psk_serv(&[psk(IDENTITY, &KEY)], suite.gnutls, "--echo") else {
        return;
    };
    let relay = RecordRelay::to(([127, 0, 0, 1], server.port).into());
    let mut tls = dial(&client12(psk(IDENTITY, &KEY), suite), relay.addr.port()).unwrap();
    assert_tls12(tls.session(), suite);
    let started = Instant::now();
    let lines: Vec<u8> = (0..RECORDS)
        .flat_map(|i| format!("{i:07}\n").into_bytes())
        .collect();
    let batches: Vec<&[u8]> = lines.chunks(8 * BATCH).collect();
    echo_pipelined(&mut tls, &batches, 8, || {
        tail(&server.log(), LOG_TAIL).to_owned()
    });
    tls.close().unwrap();
    let counts = relay.join();
    eprintln!("{}: {counts:?} in {:?}", suite.iana, started.elapsed());
    let past = RECORDS as u64;
    assert!(
        counts.client_to_server > past && counts.server_to_client > past,
        "{counts:?}"
    );
}

#[test]
fn many_records_chacha20_poly1305_with_gnutls() {
    many_records_with_gnutls(&PSK12_ECDHE_CHACHA20);
}

#[test]
fn many_records_aes_128_gcm_with_gnutls() {
    many_records_with_gnutls(&PSK12_PLAIN_AES128_GCM);
}
