//! Our TLS 1.2 PSK suites in memory, and hostile peers against them: version choice, every
//! suite's records (tampered, truncated, a wrong explicit nonce, sequence numbers past 2^16),
//! and bad key-exchange messages.

use super::super::msgs::{content, handshake, handshake_message, PskServerKeyExchange};
use super::super::testing::{
    expect_alert, feed, psk12_client, psk_client_both_versions, psk_server_both_versions, pump,
    record, take_output, PSK_KEY,
};
use super::super::Engine;
use crate::{AlertDescription, ProtocolVersion};

const CHACHA: u16 = 0xccac;
const CBC: u16 = 0xc037;
const PLAIN: u16 = 0x00a8;

fn read_all(conn: &mut dyn Engine) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0; 64 * 1024];
    while let Ok(n) = conn.read_plaintext(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    out
}

#[test]
fn one_hello_for_both_versions_gets_tls13_from_a_server_with_both() {
    let mut client = psk_client_both_versions(&PSK_KEY);
    let mut server = psk_server_both_versions();
    pump(&mut client, &mut server).unwrap();
    assert!(!client.is_handshaking() && !server.is_handshaking());
    assert_eq!(client.session().version, ProtocolVersion::Tls13);
    assert_eq!(server.session().version, ProtocolVersion::Tls13);
}

/// Sends `count` records of one byte each from `from` to `to`, checking each byte arrives.
fn one_byte_records(from: &mut dyn Engine, to: &mut dyn Engine, count: u32, name: &str) {
    let mut sent = Vec::new();
    for i in 0..count {
        let byte = [(i % 251) as u8];
        assert_eq!(from.write_plaintext(&byte).unwrap(), 1);
        sent.push(byte[0]);
        // Pumped before the records queued reach the send limit (128 KiB).
        if i % 1000 == 999 || i == count - 1 {
            pump(from, to).unwrap();
            assert_eq!(read_all(to), sent, "{name}");
            sent.clear();
        }
    }
}

#[test]
fn each_suite_carries_data_past_2_to_the_16_records() {
    for (suite, name) in [
        (CHACHA, "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256"),
        (CBC, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256"),
        (PLAIN, "TLS_PSK_WITH_AES_128_GCM_SHA256"),
    ] {
        let mut client = psk12_client(&PSK_KEY, &[suite]);
        let mut server = psk_server_both_versions();
        pump(&mut client, &mut server).unwrap();
        let session = server.session();
        assert_eq!(session.cipher_suite, name);
        assert_eq!(session.version, ProtocolVersion::Tls12);
        assert_eq!(session.psk_identity.as_deref(), Some(&b"sensor-7"[..]));
        // One record per write, 70,000 each way: every sequence number goes past 2^16, and
        // each record is opened with its own nonce (a wrong one fails the record it is in).
        one_byte_records(&mut client, &mut server, 70_000, name);
        one_byte_records(&mut server, &mut client, 70_000, name);
    }
}

/// A client and server of `suite` after the handshake, and the client's next record (with
/// `data`) as it would send it.
fn one_record(suite: u16, data: &[u8]) -> (super::super::route::RoutingEngine, Vec<u8>) {
    let mut client = psk12_client(&PSK_KEY, &[suite]);
    let mut server = psk_server_both_versions();
    pump(&mut client, &mut server).unwrap();
    client.write_plaintext(data).unwrap();
    (server, take_output(&mut client))
}

#[test]
fn tampered_truncated_and_renumbered_records_are_bad_record_mac() {
    for suite in [CHACHA, CBC, PLAIN] {
        // The last byte of the tag.
        let (mut server, mut bytes) = one_record(suite, b"secret");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        expect_alert(feed(&mut server, &bytes), AlertDescription::BadRecordMac);
        // One byte shorter, the header saying so.
        let (mut server, mut bytes) = one_record(suite, b"secret");
        bytes.pop();
        let len = u16::from_be_bytes([bytes[3], bytes[4]]) - 1;
        bytes[3..5].copy_from_slice(&len.to_be_bytes());
        expect_alert(feed(&mut server, &bytes), AlertDescription::BadRecordMac);
        // Shorter than any record of the suite can be.
        let (mut server, _) = one_record(suite, b"secret");
        expect_alert(
            feed(&mut server, &record(content::APPLICATION_DATA, &[0; 7])),
            AlertDescription::BadRecordMac,
        );
    }
    // AES-GCM: the explicit nonce on the wire is what the nonce is made of (RFC 5288 §3); a
    // record claiming another one fails.
    let (mut server, mut bytes) = one_record(PLAIN, b"secret");
    bytes[5] ^= 0x80;
    expect_alert(feed(&mut server, &bytes), AlertDescription::BadRecordMac);
}

/// The client after a ServerHello of `suite` from a server of ours, waiting for the rest.
fn client_after_server_hello(
    suite: u16,
) -> super::super::Tls12Connection<super::super::client::ClientHandshake> {
    let mut client = psk12_client(&PSK_KEY, &[suite]);
    let mut server = psk_server_both_versions();
    let hello = take_output(&mut client);
    feed(&mut server, &hello).unwrap();
    let flight = take_output(&mut server);
    // Only the ServerHello's record: the first record of the flight.
    let len = usize::from(u16::from_be_bytes([flight[3], flight[4]]));
    let hello_only = &flight[..5 + len];
    let first = super::super::msgs::ServerHello::decode(&hello_only[9..]);
    assert!(first.is_ok(), "one record, one ServerHello");
    feed(&mut client, hello_only).unwrap();
    client
}

#[test]
fn bad_server_key_exchanges_are_refused() {
    let key_exchange = |message: &PskServerKeyExchange| {
        record(
            content::HANDSHAKE,
            &handshake_message(handshake::SERVER_KEY_EXCHANGE, &message.encode()),
        )
    };
    // A curve we did not offer.
    let mut client = client_after_server_hello(CHACHA);
    let message = PskServerKeyExchange {
        hint: b"meters".to_vec(),
        ecdh: Some((0x0018, vec![4; 97])),
    };
    expect_alert(
        feed(&mut client, &key_exchange(&message)),
        AlertDescription::IllegalParameter,
    );
    // A point that is not on the curve: caught when the client computes the secret.
    let mut client = client_after_server_hello(CHACHA);
    let message = PskServerKeyExchange {
        hint: Vec::new(),
        ecdh: Some((0x0017, vec![4; 65])),
    };
    feed(&mut client, &key_exchange(&message)).unwrap();
    expect_alert(
        feed(
            &mut client,
            &record(
                content::HANDSHAKE,
                &handshake_message(handshake::SERVER_HELLO_DONE, &[]),
            ),
        ),
        AlertDescription::IllegalParameter,
    );
    // ECDHE_PSK parameters cut short.
    let mut client = client_after_server_hello(CBC);
    expect_alert(
        feed(
            &mut client,
            &record(
                content::HANDSHAKE,
                &handshake_message(handshake::SERVER_KEY_EXCHANGE, &[0, 0, 3, 0]),
            ),
        ),
        AlertDescription::DecodeError,
    );
    // ECDHE_PSK with no ServerKeyExchange at all.
    let mut client = client_after_server_hello(CHACHA);
    expect_alert(
        feed(
            &mut client,
            &record(
                content::HANDSHAKE,
                &handshake_message(handshake::SERVER_HELLO_DONE, &[]),
            ),
        ),
        AlertDescription::UnexpectedMessage,
    );
}

#[test]
fn bad_client_key_exchanges_are_refused() {
    let server_waiting = || {
        let mut client = psk12_client(&PSK_KEY, &[CHACHA]);
        let mut server = psk_server_both_versions();
        feed(&mut server, &take_output(&mut client)).unwrap();
        take_output(&mut server);
        server
    };
    let key_exchange = |body: &[u8]| {
        record(
            content::HANDSHAKE,
            &handshake_message(handshake::CLIENT_KEY_EXCHANGE, body),
        )
    };
    // An empty identity.
    expect_alert(
        feed(&mut server_waiting(), &key_exchange(&[0, 0, 1, 4])),
        AlertDescription::DecodeError,
    );
    // An identity the store does not know.
    let mut unknown = vec![0, 6];
    unknown.extend_from_slice(b"nobody");
    unknown.push(32);
    unknown.extend_from_slice(&[9; 32]);
    expect_alert(
        feed(&mut server_waiting(), &key_exchange(&unknown)),
        AlertDescription::UnknownPskIdentity,
    );
    // A known identity with an X25519 point of the wrong length.
    let mut short = vec![0, 8];
    short.extend_from_slice(b"sensor-7");
    short.push(31);
    short.extend_from_slice(&[9; 31]);
    expect_alert(
        feed(&mut server_waiting(), &key_exchange(&short)),
        AlertDescription::IllegalParameter,
    );
}
