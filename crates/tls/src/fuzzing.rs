//! Entry points for `cargo fuzz` (feature `fuzzing`; not a stable API). Each takes arbitrary
//! bytes and must return without panicking, whatever they are.

use crate::engine::Engine;
use crate::srp::codec;
use crate::srp::record::CipherState;
use crate::srp::testing;

fn feed(conn: &mut dyn Engine, mut data: &[u8]) {
    while !data.is_empty() {
        if conn.read_tls(&mut data).is_err() || conn.process_new_packets().is_err() {
            return;
        }
        let mut sink = Vec::new();
        let _ = conn.write_tls(&mut sink);
    }
    let mut buf = [0u8; 64];
    let _ = conn.read_plaintext(&mut buf);
}

/// An SRP server (user `alice`) reading `data` as its whole input.
pub fn srp_server(data: &[u8]) {
    feed(&mut testing::server(1024), data);
}

/// An SRP client, after its ClientHello, reading `data` as the server's answer.
pub fn srp_client(data: &[u8]) {
    feed(&mut testing::client(1024), data);
}

/// Every handshake message parser; the first byte picks which.
pub fn srp_messages(data: &[u8]) {
    let Some((which, body)) = data.split_first() else {
        return;
    };
    match which % 7 {
        0 => drop(codec::ClientHello::decode(body)),
        1 => drop(codec::ServerHello::decode(body)),
        2 => drop(codec::KeyExchangeParams::decode(body)),
        3 => drop(codec::decode_client_key_exchange(body)),
        4 => drop(codec::decode_certificate(body)),
        5 => drop(codec::decode_srp_extension(body)),
        _ => drop(codec::decode_alert(body)),
    }
}

/// The record layer opening arbitrary bodies, with Encrypt-then-MAC on or off (first byte).
pub fn srp_record(data: &[u8]) {
    let Some((mode, body)) = data.split_first() else {
        return;
    };
    let mut state = CipherState::new(&[7; 16], &[9; 20], mode & 1 == 1);
    let mut body = body.to_vec();
    let _ = state.open(23, &mut body);
}

/// Fingerprint parsing.
pub fn fingerprint(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = text.parse::<crate::Fingerprint>();
    }
}
