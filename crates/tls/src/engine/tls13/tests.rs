//! Hostile peers against our TLS 1.3 PSK handshakes, message by message, and the record rules
//! both sides share: every bad input gets its alert, never a panic or a hang.

use super::super::kx::psk::fill_binders;
use super::super::msgs::{
    content, handshake, handshake_message, ClientHello, Extension, Extensions, KeyShareEntry,
    ServerHello, HELLO_RETRY_REQUEST, TLS12, TLS13,
};
use super::super::testing::{
    expect_alert, feed, psk_client, psk_client_params, psk_server, pump, record, take_output,
    PSK_KEY,
};
use super::super::Engine;
use super::Transcript;
use crate::AlertDescription;

/// The client's first ClientHello message (header included), as it would send it.
fn client_hello_message() -> Vec<u8> {
    let bytes = take_output(&mut psk_client(&PSK_KEY));
    bytes[5..].to_vec()
}

/// A ClientHello message changed by `edit`, its binders computed again with `key`.
fn edited_hello(key: &[u8], edit: impl FnOnce(&mut ClientHello)) -> Vec<u8> {
    let raw = client_hello_message();
    let mut hello = ClientHello::decode(&raw[4..]).unwrap();
    edit(&mut hello);
    let mut message = handshake_message(handshake::CLIENT_HELLO, &hello.encode());
    if let Some(offer) = hello.extensions.psk_offer() {
        let (_, keys) = psk_client_params(key).kx.offer(None);
        fill_binders(&mut message, &Transcript::default(), offer, &keys);
    }
    message
}

fn read_data(conn: &mut dyn Engine) -> Vec<u8> {
    let mut out = vec![0; 64];
    let n = conn.read_plaintext(&mut out).unwrap();
    out.truncate(n);
    out
}

#[test]
fn key_updates_both_ways_keep_data_flowing() {
    let (mut client, mut server) = (psk_client(&PSK_KEY), psk_server());
    pump(&mut client, &mut server).unwrap();
    assert!(!client.is_handshaking() && !server.is_handshaking());
    assert_eq!(server.session().psk_identity(), Some(&b"sensor-7"[..]));
    for round in 0..3u8 {
        // The client asks for an update; the server answers with its own.
        client.update_keys(true).unwrap();
        client.write_plaintext(&[round; 10]).unwrap();
        pump(&mut client, &mut server).unwrap();
        assert_eq!(read_data(&mut server), [round; 10]);
        server.write_plaintext(b"back").unwrap();
        server.update_keys(false).unwrap();
        server.write_plaintext(b"again").unwrap();
        pump(&mut client, &mut server).unwrap();
        assert_eq!(read_data(&mut client), b"backagain");
    }
}

/// A peer that keeps asking for KeyUpdates (with a byte of data between, so that no warning
/// limit stops it) and never reads gets one answer, before our next data, not one queued per
/// request.
#[test]
fn key_update_requests_get_one_answer_before_our_next_data() {
    let (mut client, mut server) = (psk_client(&PSK_KEY), psk_server());
    pump(&mut client, &mut server).unwrap();
    for round in 0..20u8 {
        client.update_keys(true).unwrap();
        client.write_plaintext(&[round]).unwrap();
        let bytes = take_output(&mut client);
        feed(&mut server, &bytes).unwrap();
        assert_eq!(read_data(&mut server), [round]);
        assert!(
            !server.wants_write(),
            "round {round}: an answer queued unasked"
        );
    }
    server.write_plaintext(b"reply").unwrap();
    // One KeyUpdate record (5 + 5 + 1 + 16 bytes) and the data's (5 + 5 + 1 + 16).
    let bytes = take_output(&mut server);
    assert_eq!(bytes.len(), 27 + 27, "one KeyUpdate, then the data");
    feed(&mut client, &bytes).unwrap();
    assert_eq!(read_data(&mut client), b"reply");
}

#[test]
fn records_after_close_notify_are_not_read() {
    let (mut client, mut server) = (psk_client(&PSK_KEY), psk_server());
    pump(&mut client, &mut server).unwrap();
    client.write_plaintext(b"before").unwrap();
    client.send_close_notify();
    let mut bytes = take_output(&mut client);
    // Our own client refuses to write after close; a record sealed earlier stands in for
    // what a hostile one would send after it.
    let (mut other, mut other_server) = (psk_client(&PSK_KEY), psk_server());
    pump(&mut other, &mut other_server).unwrap();
    other.write_plaintext(b"after").unwrap();
    bytes.extend(take_output(&mut other));
    feed(&mut server, &bytes).unwrap();
    assert_eq!(read_data(&mut server), b"before");
    assert_eq!(server.read_plaintext(&mut [0; 8]).unwrap(), 0);
}

#[test]
fn bad_binders_and_misplaced_pre_shared_key_are_refused() {
    // A binder made with another key: decrypt_error.
    let wrong = edited_hello(&[7; 32], |_| {});
    expect_alert(
        feed(&mut psk_server(), &record(content::HANDSHAKE, &wrong)),
        AlertDescription::DecryptError,
    );
    // A flipped bit in the binder itself.
    let mut flipped = client_hello_message();
    *flipped.last_mut().unwrap() ^= 1;
    expect_alert(
        feed(&mut psk_server(), &record(content::HANDSHAKE, &flipped)),
        AlertDescription::DecryptError,
    );
    // pre_shared_key first rather than last: illegal_parameter.
    let raw = client_hello_message();
    let mut hello = ClientHello::decode(&raw[4..]).unwrap();
    hello.extensions.0.rotate_right(1);
    let misplaced = handshake_message(handshake::CLIENT_HELLO, &hello.encode());
    expect_alert(
        feed(&mut psk_server(), &record(content::HANDSHAKE, &misplaced)),
        AlertDescription::IllegalParameter,
    );
    // No binder for the identity, or an extra one: the offer does not decode.
    for binders in [vec![], vec![vec![0u8; 32], vec![0u8; 32]]] {
        let raw = client_hello_message();
        let mut hello = ClientHello::decode(&raw[4..]).unwrap();
        if let Some(Extension::PreSharedKey(offer)) = hello.extensions.0.last_mut() {
            offer.binders = binders;
        }
        let message = handshake_message(handshake::CLIENT_HELLO, &hello.encode());
        expect_alert(
            feed(&mut psk_server(), &record(content::HANDSHAKE, &message)),
            AlertDescription::DecodeError,
        );
    }
}

#[test]
fn identities_of_0_and_65535_bytes() {
    // An empty identity does not decode.
    let raw = client_hello_message();
    let mut hello = ClientHello::decode(&raw[4..]).unwrap();
    if let Some(Extension::PreSharedKey(offer)) = hello.extensions.0.last_mut() {
        offer.identities[0].0.clear();
    }
    let message = handshake_message(handshake::CLIENT_HELLO, &hello.encode());
    expect_alert(
        feed(&mut psk_server(), &record(content::HANDSHAKE, &message)),
        AlertDescription::DecodeError,
    );
    // An identity claiming 65,535 bytes cannot fit in the identity list (65,535 bytes in
    // all, ages and lengths included): the offer does not decode.
    let mut body = vec![0xff, 0xff, 0xff, 0xff];
    body.extend(vec![b'x'; 65_531]);
    let mut message = client_hello_message();
    let offer_at = message.len() - 2 - (2 + 8 + 4) - (2 + 33);
    message.truncate(offer_at);
    message.extend((body.len() as u16).to_be_bytes());
    message.extend(&body);
    let mut bytes = Vec::new();
    for chunk in message.chunks(16_384) {
        bytes.extend(record(content::HANDSHAKE, chunk));
    }
    expect_alert(
        feed(&mut psk_server(), &bytes),
        AlertDescription::DecodeError,
    );
    // The longest identity that fits beside the other extensions (all in 65,535 bytes) is
    // read across records, and is simply not known.
    let message = edited_hello(&PSK_KEY, |hello| {
        let mut w = crate::engine::msgs::codec::Writer::default();
        hello.extensions.write(&mut w);
        let room = 65_535 + 2 - w.bytes.len();
        if let Some(Extension::PreSharedKey(offer)) = hello.extensions.0.last_mut() {
            offer.identities[0].0 = vec![b'x'; offer.identities[0].0.len() + room];
        }
    });
    let mut bytes = Vec::new();
    for chunk in message.chunks(16_384) {
        bytes.extend(record(content::HANDSHAKE, chunk));
    }
    expect_alert(
        feed(&mut psk_server(), &bytes),
        AlertDescription::UnknownPskIdentity,
    );
}

#[test]
fn early_data_is_skipped_never_accepted() {
    let message = edited_hello(&PSK_KEY, |hello| {
        let psk = hello.extensions.0.pop().unwrap();
        hello.extensions.push(Extension::EarlyData);
        hello.extensions.push(psk);
    });
    let mut server = psk_server();
    let mut bytes = record(content::HANDSHAKE, &message);
    // Two early-data records under keys the server never derives.
    bytes.extend(record(content::APPLICATION_DATA, &[0xaa; 300]));
    bytes.extend(record(content::APPLICATION_DATA, &[0xbb; 40]));
    feed(&mut server, &bytes).unwrap();
    let flight = take_output(&mut server);
    assert!(!flight.is_empty(), "the server answered");
    // Far more early data than anyone would send is an attack.
    let mut server = psk_server();
    let mut bytes = record(content::HANDSHAKE, &message);
    for _ in 0..10 {
        bytes.extend(record(content::APPLICATION_DATA, &[0xcc; 16_000]));
    }
    expect_alert(feed(&mut server, &bytes), AlertDescription::BadRecordMac);
}

/// A client that has sent its hello, and the hello's session ID and key share group.
fn client_waiting() -> super::Tls13Connection<super::super::client::ClientHandshake13> {
    let mut client = psk_client(&PSK_KEY);
    take_output(&mut client);
    client
}

fn server_hello(random: [u8; 32], extensions: Vec<Extension>) -> Vec<u8> {
    let hello = ServerHello {
        version: TLS12,
        random,
        session_id: vec![],
        suite: 0x1301,
        extensions: Extensions::from(extensions),
    };
    record(
        content::HANDSHAKE,
        &handshake_message(handshake::SERVER_HELLO, &hello.encode()),
    )
}

#[test]
fn client_refuses_bad_server_hellos() {
    let share = |group: u16| {
        Extension::KeyShare(KeyShareEntry {
            group,
            public: vec![9; 32],
        })
    };
    let version = Extension::SelectedVersion(TLS13);
    // A key share on a group we did not share.
    expect_alert(
        feed(
            &mut client_waiting(),
            &server_hello(
                [1; 32],
                vec![version.clone(), share(23), Extension::SelectedPsk(0)],
            ),
        ),
        AlertDescription::IllegalParameter,
    );
    // An identity we did not offer.
    expect_alert(
        feed(
            &mut client_waiting(),
            &server_hello(
                [1; 32],
                vec![version.clone(), share(29), Extension::SelectedPsk(1)],
            ),
        ),
        AlertDescription::IllegalParameter,
    );
    // No PSK accepted: the server went on with a certificate we cannot check.
    expect_alert(
        feed(
            &mut client_waiting(),
            &server_hello([1; 32], vec![version.clone(), share(29)]),
        ),
        AlertDescription::HandshakeFailure,
    );
    // TLS 1.2.
    expect_alert(
        feed(&mut client_waiting(), &server_hello([1; 32], vec![])),
        AlertDescription::ProtocolVersion,
    );
    // A second HelloRetryRequest.
    let retry = server_hello(
        HELLO_RETRY_REQUEST,
        vec![version.clone(), Extension::KeyShareRetry(23)],
    );
    let mut client = client_waiting();
    feed(&mut client, &retry).unwrap();
    let second = take_output(&mut client);
    let hello = ClientHello::decode(&second[9..]).unwrap();
    assert_eq!(hello.extensions.key_shares().unwrap()[0].group, 23);
    expect_alert(
        feed(&mut client, &retry),
        AlertDescription::UnexpectedMessage,
    );
    // A retry for the group already shared.
    expect_alert(
        feed(
            &mut client_waiting(),
            &server_hello(
                HELLO_RETRY_REQUEST,
                vec![version, Extension::KeyShareRetry(29)],
            ),
        ),
        AlertDescription::IllegalParameter,
    );
}

#[test]
fn server_refuses_a_key_share_on_a_group_not_offered() {
    let message = edited_hello(&PSK_KEY, |hello| {
        for extension in &mut hello.extensions.0 {
            if let Extension::SupportedGroups(groups) = extension {
                *groups = vec![23];
            }
        }
    });
    expect_alert(
        feed(&mut psk_server(), &record(content::HANDSHAKE, &message)),
        AlertDescription::IllegalParameter,
    );
}

#[test]
fn server_refuses_psk_ke_alone_and_hellos_without_tls13() {
    let message = edited_hello(&PSK_KEY, |hello| {
        for extension in &mut hello.extensions.0 {
            if let Extension::PskModes(modes) = extension {
                *modes = vec![0];
            }
        }
    });
    expect_alert(
        feed(&mut psk_server(), &record(content::HANDSHAKE, &message)),
        AlertDescription::HandshakeFailure,
    );
    let message = edited_hello(&PSK_KEY, |hello| {
        hello
            .extensions
            .0
            .retain(|e| !matches!(e, Extension::SupportedVersions(_)));
    });
    expect_alert(
        feed(&mut psk_server(), &record(content::HANDSHAKE, &message)),
        AlertDescription::ProtocolVersion,
    );
}

#[test]
fn a_tampered_record_and_a_change_cipher_spec_after_the_handshake_are_fatal() {
    let (mut client, mut server) = (psk_client(&PSK_KEY), psk_server());
    pump(&mut client, &mut server).unwrap();
    client.write_plaintext(b"secret").unwrap();
    let mut bytes = take_output(&mut client);
    let last = bytes.len() - 1;
    bytes[last] ^= 0x80;
    expect_alert(feed(&mut server, &bytes), AlertDescription::BadRecordMac);
    let (mut client, mut server) = (psk_client(&PSK_KEY), psk_server());
    pump(&mut client, &mut server).unwrap();
    expect_alert(
        feed(&mut server, &record(content::CHANGE_CIPHER_SPEC, &[1])),
        AlertDescription::UnexpectedMessage,
    );
}
