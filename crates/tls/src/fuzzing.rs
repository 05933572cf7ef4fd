//! Entry points for `cargo fuzz` (feature `fuzzing`; not a stable API). Each takes arbitrary
//! bytes and must return without panicking, whatever they are.

use std::sync::Arc;
use std::time::Duration;

use crate::engine::Engine;
use crate::srp::client::{ClientRole, SrpClientParams};
use crate::srp::codec;
use crate::srp::conn::SrpConnection;
use crate::srp::record::CipherState;
use crate::srp::server::{ServerRole, SrpServerParams};
use crate::srp::sessions::SessionMap;
use crate::srp::suites::SUITES;
use crate::srp::MemoryVerifierDb;

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
    let db = MemoryVerifierDb::new();
    let _ = db.add("alice", "pw", 1024);
    let params = SrpServerParams {
        store: Arc::new(db),
        suites: SUITES.iter().copied().filter(|s| !s.rsa).collect(),
        encrypt_then_mac: true,
        simulate_unknown_users: true,
        secret: [1; 32],
        sessions: Arc::new(SessionMap::new(8, Duration::from_secs(60))),
    };
    if let Ok(mut conn) = SrpConnection::new(ServerRole::new(Arc::new(params))) {
        feed(&mut conn, data);
    }
}

/// An SRP client, after its ClientHello, reading `data` as the server's answer.
pub fn srp_client(data: &[u8]) {
    let params = SrpClientParams {
        username: "alice".into(),
        password: "pw".into(),
        suites: SUITES.iter().copied().filter(|s| !s.rsa).collect(),
        min_bits: 1024,
        max_bits: 8192,
        encrypt_then_mac: true,
        sessions: SessionMap::new(8, Duration::from_secs(60)),
    };
    if let Ok(mut conn) = SrpConnection::new(ClientRole::new(Arc::new(params), "localhost")) {
        feed(&mut conn, data);
    }
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
