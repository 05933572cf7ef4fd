//! Hostile peers against our engine (SRP), message by message: every malformed or dangerous
//! input gets its documented alert, never a panic.

use super::client::ClientHandshake;
use super::msgs::{
    content, handshake, handshake_message, ClientHello, Extension, Extensions, KeyExchangeParams,
    ServerHello, TLS12,
};
use super::server::ServerHandshake;
use super::testing::{self, expect_alert, feed, record};
use super::tls12::Tls12Suite;
use super::{Engine, Tls12Connection};
use crate::srp::SrpGroup;
use crate::{AlertDescription, Error};

fn server() -> Tls12Connection<ServerHandshake> {
    testing::server(2048)
}

fn client() -> Tls12Connection<ClientHandshake> {
    testing::client(2048)
}

fn handshake_record(kind: u8, body: &[u8]) -> Vec<u8> {
    record(content::HANDSHAKE, &handshake_message(kind, body))
}

fn hello(username: &str) -> ClientHello {
    ClientHello {
        version: TLS12,
        random: [5; 32],
        session_id: vec![],
        suites: vec![0xc01d],
        extensions: vec![
            Extension::Srp(username.into()),
            Extension::ExtendedMasterSecret,
            Extension::EncryptThenMac,
        ]
        .into(),
    }
}

fn a_record(a: &[u8]) -> Vec<u8> {
    let mut body = (a.len() as u16).to_be_bytes().to_vec();
    body.extend_from_slice(a);
    handshake_record(handshake::CLIENT_KEY_EXCHANGE, &body)
}

#[test]
fn server_refuses_a_equal_to_zero_or_n() {
    let n = SrpGroup::by_bits(2048).unwrap().params().n_bytes.clone();
    for a in [vec![0u8], vec![0u8; 256], n.clone()] {
        let mut conn = server();
        feed(
            &mut conn,
            &handshake_record(handshake::CLIENT_HELLO, &hello("alice").encode()),
        )
        .unwrap();
        expect_alert(
            feed(&mut conn, &a_record(&a)),
            AlertDescription::IllegalParameter,
        );
        // The alert was queued for the peer, and the error sticks.
        assert!(conn.wants_write());
        assert!(conn.process_new_packets().is_err());
    }
}

#[test]
fn server_answers_malformed_messages_with_decode_error() {
    let full = hello("alice").encode();
    for cut in [0, 10, 34, 35, full.len() - 1] {
        let mut conn = server();
        expect_alert(
            feed(
                &mut conn,
                &handshake_record(handshake::CLIENT_HELLO, &full[..cut]),
            ),
            AlertDescription::DecodeError,
        );
    }
    let mut conn = server();
    feed(&mut conn, &handshake_record(handshake::CLIENT_HELLO, &full)).unwrap();
    expect_alert(
        feed(
            &mut conn,
            &handshake_record(handshake::CLIENT_KEY_EXCHANGE, &[0, 9, 1]),
        ),
        AlertDescription::DecodeError,
    );
    let mut conn = server();
    expect_alert(
        feed(&mut conn, &record(content::ALERT, &[9, 9, 9])),
        AlertDescription::DecodeError,
    );
}

#[test]
fn server_refuses_messages_out_of_order_and_garbage() {
    let mut conn = server();
    expect_alert(
        feed(&mut conn, &a_record(&[7])),
        AlertDescription::UnexpectedMessage,
    );
    let mut conn = server();
    expect_alert(
        feed(&mut conn, &record(content::APPLICATION_DATA, b"early")),
        AlertDescription::UnexpectedMessage,
    );
    let mut conn = server();
    expect_alert(
        feed(&mut conn, &record(content::CHANGE_CIPHER_SPEC, &[1])),
        AlertDescription::UnexpectedMessage,
    );
    let mut conn = server();
    expect_alert(
        feed(&mut conn, b"GET / HTTP/1.1\r\n\r\n"),
        AlertDescription::DecodeError,
    );
    let mut conn = server();
    let mut no_srp = hello("alice");
    no_srp.extensions.0.clear();
    expect_alert(
        feed(
            &mut conn,
            &handshake_record(handshake::CLIENT_HELLO, &no_srp.encode()),
        ),
        AlertDescription::HandshakeFailure,
    );
    let mut conn = server();
    let mut old = hello("alice");
    old.version = 0x0301;
    expect_alert(
        feed(
            &mut conn,
            &handshake_record(handshake::CLIENT_HELLO, &old.encode()),
        ),
        AlertDescription::ProtocolVersion,
    );
}

#[test]
fn oversized_records_are_refused() {
    let mut conn = server();
    let mut header = vec![content::HANDSHAKE, 3, 3];
    header.extend_from_slice(&((1u16 << 14) + 2049).to_be_bytes());
    expect_alert(feed(&mut conn, &header), AlertDescription::RecordOverflow);
}

/// The client after its ClientHello, given a ServerHello for suite 0xc01d.
fn client_after_server_hello() -> Tls12Connection<ClientHandshake> {
    let mut conn = client();
    let hello = ServerHello {
        version: TLS12,
        random: [6; 32],
        session_id: vec![1; 32],
        suite: Tls12Suite::allowed(&[])[0].id,
        extensions: vec![Extension::ExtendedMasterSecret, Extension::EncryptThenMac].into(),
    };
    feed(
        &mut conn,
        &handshake_record(handshake::SERVER_HELLO, &hello.encode()),
    )
    .unwrap();
    conn
}

fn key_exchange(n: Vec<u8>, g: Vec<u8>, b: Vec<u8>) -> Vec<u8> {
    let params = KeyExchangeParams {
        n,
        g,
        salt: vec![3; 16],
        b,
    };
    handshake_record(handshake::SERVER_KEY_EXCHANGE, &params.encode())
}

#[test]
fn client_refuses_b_equal_to_zero_or_n_and_unknown_or_small_groups() {
    let group = SrpGroup::by_bits(2048).unwrap().params();
    for b in [vec![0u8], group.n_bytes.clone()] {
        let mut conn = client_after_server_hello();
        expect_alert(
            feed(
                &mut conn,
                &key_exchange(group.n_bytes.clone(), group.g_bytes.clone(), b),
            ),
            AlertDescription::IllegalParameter,
        );
    }
    let mut not_a_group = group.n_bytes.clone();
    not_a_group[100] ^= 1;
    let mut conn = client_after_server_hello();
    expect_alert(
        feed(
            &mut conn,
            &key_exchange(not_a_group, group.g_bytes.clone(), vec![5]),
        ),
        AlertDescription::InsufficientSecurity,
    );
    let small = SrpGroup::by_bits(1024).unwrap().params();
    let mut conn = client_after_server_hello();
    expect_alert(
        feed(
            &mut conn,
            &key_exchange(small.n_bytes.clone(), small.g_bytes.clone(), vec![5]),
        ),
        AlertDescription::InsufficientSecurity,
    );
}

#[test]
fn client_refuses_bad_server_hellos() {
    let mut conn = client();
    let other_suite = ServerHello {
        version: TLS12,
        random: [6; 32],
        session_id: vec![],
        suite: 0x002f,
        extensions: Extensions::default(),
    };
    expect_alert(
        feed(
            &mut conn,
            &handshake_record(handshake::SERVER_HELLO, &other_suite.encode()),
        ),
        AlertDescription::IllegalParameter,
    );
    let mut conn = client();
    let tls11 = ServerHello {
        version: 0x0302,
        random: [6; 32],
        session_id: vec![],
        suite: 0xc01d,
        extensions: Extensions::default(),
    };
    expect_alert(
        feed(
            &mut conn,
            &handshake_record(handshake::SERVER_HELLO, &tls11.encode()),
        ),
        AlertDescription::ProtocolVersion,
    );
    let mut conn = client();
    let unasked = ServerHello {
        version: TLS12,
        random: [6; 32],
        session_id: vec![],
        suite: 0xc01d,
        extensions: vec![Extension::Srp(String::new())].into(),
    };
    expect_alert(
        feed(
            &mut conn,
            &handshake_record(handshake::SERVER_HELLO, &unasked.encode()),
        ),
        AlertDescription::UnsupportedExtension,
    );
    let mut conn = client();
    expect_alert(
        feed(
            &mut conn,
            &handshake_record(handshake::SERVER_HELLO, &[3, 3, 0]),
        ),
        AlertDescription::DecodeError,
    );
    let mut conn = client_after_server_hello();
    expect_alert(
        feed(&mut conn, &handshake_record(handshake::FINISHED, &[0; 12])),
        AlertDescription::UnexpectedMessage,
    );
    // A server that does not take up Encrypt-then-MAC is refused unless MtE was allowed.
    let mut conn = client();
    let no_etm = ServerHello {
        version: TLS12,
        random: [6; 32],
        session_id: vec![],
        suite: 0xc01d,
        extensions: vec![Extension::ExtendedMasterSecret].into(),
    };
    expect_alert(
        feed(
            &mut conn,
            &handshake_record(handshake::SERVER_HELLO, &no_etm.encode()),
        ),
        AlertDescription::InsufficientSecurity,
    );
}

#[test]
fn server_refuses_clients_without_encrypt_then_mac() {
    let mut legacy = hello("alice");
    legacy
        .extensions
        .0
        .retain(|e| *e != Extension::EncryptThenMac);
    expect_alert(
        feed(
            &mut server(),
            &handshake_record(handshake::CLIENT_HELLO, &legacy.encode()),
        ),
        AlertDescription::InsufficientSecurity,
    );
}

#[test]
fn fatal_alerts_from_the_peer_are_reported_by_name() {
    let mut conn = client();
    match feed(
        &mut conn,
        &record(
            content::ALERT,
            &[2, AlertDescription::UnknownPskIdentity.code()],
        ),
    ) {
        Err(Error::RemoteAlert {
            description: AlertDescription::UnknownPskIdentity,
        }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn handshake_messages_are_reassembled_across_records_and_bytes() {
    // One ClientHello split over two handshake records, fed one byte at a time: the server
    // must answer exactly as for the whole message.
    let message = handshake_message(handshake::CLIENT_HELLO, &hello("alice").encode());
    let (first, second) = message.split_at(message.len() / 3);
    let mut input = record(content::HANDSHAKE, first);
    input.extend(record(content::HANDSHAKE, second));
    let mut conn = server();
    for byte in input.chunks(1) {
        feed(&mut conn, byte).unwrap();
    }
    let mut flight = Vec::new();
    conn.write_tls(&mut flight).unwrap();
    // ServerHello, ServerKeyExchange and ServerHelloDone came back, each in its record.
    let kinds: Vec<u8> = records(&flight).iter().map(|(_, body)| body[0]).collect();
    assert_eq!(
        kinds,
        [
            handshake::SERVER_HELLO,
            handshake::SERVER_KEY_EXCHANGE,
            handshake::SERVER_HELLO_DONE
        ]
    );
}

#[test]
fn several_handshake_messages_in_one_record_are_all_read() {
    let mut conn = client();
    let group = SrpGroup::by_bits(2048).unwrap().params();
    let server_hello = ServerHello {
        version: TLS12,
        random: [6; 32],
        session_id: vec![1; 32],
        suite: 0xc01d,
        extensions: vec![Extension::EncryptThenMac].into(),
    };
    let params = KeyExchangeParams {
        n: group.n_bytes.clone(),
        g: group.g_bytes.clone(),
        salt: vec![3; 16],
        b: vec![5],
    };
    let mut together = handshake_message(handshake::SERVER_HELLO, &server_hello.encode());
    together.extend(handshake_message(
        handshake::SERVER_KEY_EXCHANGE,
        &params.encode(),
    ));
    together.extend(handshake_message(handshake::SERVER_HELLO_DONE, &[]));
    feed(&mut conn, &record(content::HANDSHAKE, &together)).unwrap();
    // The client answered the whole flight: ClientKeyExchange, ChangeCipherSpec, Finished.
    let mut answer = Vec::new();
    conn.write_tls(&mut answer).unwrap();
    let types: Vec<u8> = records(&answer).iter().map(|(t, _)| *t).collect();
    assert_eq!(
        types,
        [
            content::HANDSHAKE,
            content::HANDSHAKE,
            content::CHANGE_CIPHER_SPEC,
            content::HANDSHAKE
        ]
    );
}

/// Splits TLS bytes into (content type, body) records.
fn records(mut bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while bytes.len() >= 5 {
        let len = usize::from(u16::from_be_bytes([bytes[3], bytes[4]]));
        out.push((bytes[0], bytes[5..5 + len].to_vec()));
        bytes = &bytes[5 + len..];
    }
    out
}

/// A peer may not keep the connection busy with warnings: a handful are tolerated, a stream of
/// them is fatal.
#[test]
fn a_stream_of_warning_alerts_is_cut_off() {
    let mut conn = server();
    feed(
        &mut conn,
        &handshake_record(handshake::CLIENT_HELLO, &hello("alice").encode()),
    )
    .unwrap();
    let warning = record(content::ALERT, &[1, AlertDescription::UserCanceled.code()]);
    feed(&mut conn, &warning).unwrap();
    feed(&mut conn, &warning).unwrap();
    expect_alert(
        feed(&mut conn, &warning.repeat(1000)),
        AlertDescription::UnexpectedMessage,
    );
}

/// Duplicate extensions are found in linear time: four times as many extensions cost about four
/// times as much to decode (a pairwise search would cost sixteen times as much), so a 64 KB
/// ClientHello stuffed with 16,000 of them is no lever for an attacker.
#[test]
fn duplicate_extensions_are_found_in_linear_time() {
    let stuffed = |count: u16| {
        let mut hello = hello("alice");
        hello
            .extensions
            .0
            .extend((1000..1000 + count).map(|kind| Extension::Unknown(kind, vec![])));
        hello
    };
    let fastest_decode = |hello: &ClientHello| {
        let encoded = hello.encode();
        (0..5)
            .map(|_| {
                let started = std::time::Instant::now();
                assert_eq!(&ClientHello::decode(&encoded).unwrap(), hello);
                started.elapsed()
            })
            .min()
            .unwrap()
    };
    let (small, large) = (stuffed(4_000), stuffed(16_000));
    let ratio = fastest_decode(&large).as_secs_f64() / fastest_decode(&small).as_secs_f64();
    assert!(ratio < 8.0, "4x the extensions cost {ratio:.1}x the time");
    let mut duplicated = large.clone();
    duplicated
        .extensions
        .push(Extension::Unknown(16_999, vec![]));
    assert!(
        ClientHello::decode(&duplicated.encode()).is_err(),
        "duplicate accepted"
    );
}

/// What an unknown user is shown looks like a real user's: a 16-byte salt whose first byte is
/// not zero (as `make_verifier` draws them), the same one every time, in the store's default
/// group.
#[test]
fn unknown_users_get_stable_salts_shaped_like_real_ones() {
    let key_exchange = |conn: &mut Tls12Connection<ServerHandshake>, user: &str| {
        feed(
            conn,
            &handshake_record(handshake::CLIENT_HELLO, &hello(user).encode()),
        )
        .unwrap();
        let mut flight = Vec::new();
        conn.write_tls(&mut flight).unwrap();
        let (_, body) = records(&flight)
            .into_iter()
            .find(|(_, body)| body[0] == handshake::SERVER_KEY_EXCHANGE)
            .unwrap();
        KeyExchangeParams::decode(&body[4..]).unwrap().0
    };
    let real = key_exchange(&mut server(), "alice");
    for user in ["mallory", "eve", "trudy", "x"] {
        let first = key_exchange(&mut server(), user);
        let again = key_exchange(&mut server(), user);
        assert_eq!(first.salt, again.salt, "{user}: salt not stable");
        assert_eq!(first.salt.len(), real.salt.len(), "{user}: salt length");
        assert_ne!(
            first.salt[0], 0,
            "{user}: salts made here never start with 0"
        );
        assert_eq!(first.n, real.n, "{user}: group");
    }
}

/// Issue 26, item 12: SRP sessions did not remember the name asked for by SNI, so one resumed
/// under another name (RFC 6066 §3 says it must not). A client offering its `localhost`
/// session to `other.example` (as one keying sessions by address would) gets a full handshake.
#[test]
fn a_session_resumes_only_under_the_name_it_was_made_for() {
    use super::client::ClientHandshake;
    use super::server::ServerHandshake;
    use super::testing::{client_params, pump, server_params};
    let (client, server) = (client_params(1024), server_params(1024));
    let connect = |host: &str| {
        let mut c = Tls12Connection::new(ClientHandshake::new(client.clone(), host)).unwrap();
        let mut s = Tls12Connection::new(ServerHandshake::new(server.clone())).unwrap();
        pump(&mut c, &mut s).unwrap();
        assert!(!c.is_handshaking() && !s.is_handshaking());
        s.session()
    };
    assert!(!connect("localhost").resumed);
    assert!(connect("localhost").resumed, "the same name resumes");
    let saved = client.sessions.get(b"localhost\0alice").unwrap();
    client.sessions.put(b"other.example\0alice".to_vec(), saved);
    let other = connect("other.example");
    assert!(!other.resumed, "resumed under another SNI name");
    assert_eq!(other.server_name.as_deref(), Some("other.example"));
}
