//! Entry points for `cargo fuzz` (feature `fuzzing`; not a stable API). Each takes arbitrary
//! bytes and must return without panicking, whatever they are.

use crate::engine::msgs::{self, codec};
use crate::engine::record::{Aead12, Aead12Kind, CbcSha256, CipherState, Protection};
use crate::engine::testing;
use crate::engine::Engine;

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

/// A PSK server of both versions (identity `sensor-7`, a TLS 1.2 hint, plain PSK allowed)
/// reading `data` as its whole input: TLS 1.3 hellos with binders, TLS 1.2 hellos and
/// ClientKeyExchanges with identities.
pub fn psk_server(data: &[u8]) {
    feed(&mut testing::psk_server_both_versions(), data);
}

/// A PSK client offering TLS 1.3 and every TLS 1.2 PSK suite, after its ClientHello, reading
/// `data` as the server's answer: either version's ServerHello, ServerKeyExchanges with hints
/// and curves, and what follows.
pub fn psk_client(data: &[u8]) {
    feed(
        &mut testing::psk_client_both_versions(&testing::PSK_KEY),
        data,
    );
}

/// Every handshake message parser, TLS 1.2 and 1.3; the first byte picks which.
pub fn srp_messages(data: &[u8]) {
    let Some((which, body)) = data.split_first() else {
        return;
    };
    let sender = |n: u8| match n % 3 {
        0 => msgs::Sender::Client,
        1 => msgs::Sender::Server,
        _ => msgs::Sender::RetryRequest,
    };
    match which % 14 {
        10 => drop(msgs::PskServerKeyExchange::decode(body, false)),
        11 => drop(msgs::PskServerKeyExchange::decode(body, true)),
        12 => drop(msgs::PskClientKeyExchange::decode(body, false)),
        13 => drop(msgs::PskClientKeyExchange::decode(body, true)),
        // Extensions as each sender writes them (key shares, versions, PSK offers differ).
        7 | 8 => drop(msgs::Extensions::read(
            &mut codec::Reader::new(body),
            sender(which / 10),
        )),
        9 => drop(msgs::message::NewSessionTicket13::decode(body)),
        0 => drop(msgs::ClientHello::decode(body)),
        1 => drop(msgs::ServerHello::decode(body)),
        2 => drop(msgs::KeyExchangeParams::decode(body)),
        3 => drop(msgs::decode_client_key_exchange(body)),
        4 => drop(msgs::decode_certificate(body)),
        // Every extension body a hello may carry, typed.
        5 => drop(msgs::Extensions::read(
            &mut codec::Reader::new(body),
            msgs::Sender::Client,
        )),
        _ => drop(codec::decode_alert(body)),
    }
}

/// The TLS 1.2 record layer opening arbitrary bodies. The first byte's top two bits pick the
/// protection: the SRP suites' CBC (then its low bit: Encrypt-then-MAC on or off, one body
/// alone and the same bytes cut into up to eight bodies opened together, its next bits say how
/// many), CBC with HMAC-SHA256, AES-GCM or ChaCha20-Poly1305 (each body alone).
pub fn srp_record(data: &[u8]) {
    let Some((mode, body)) = data.split_first() else {
        return;
    };
    let other = match mode >> 6 {
        1 => Some(Protection::CbcSha256(CbcSha256::new(&[7; 16], &[9; 32]))),
        2 => Some(Protection::Aead(Aead12::new(
            Aead12Kind::Aes128Gcm,
            &[7; 16],
            &[9; 4],
        ))),
        3 => Some(Protection::Aead(Aead12::new(
            Aead12Kind::Chacha20Poly1305,
            &[7; 32],
            &[9; 12],
        ))),
        _ => None,
    };
    if let Some(mut state) = other {
        let mut bytes = body.to_vec();
        if let Ok(range) = state.open(23, &mut bytes) {
            assert!(
                range.end <= bytes.len(),
                "a plaintext range inside its record"
            );
        }
        return;
    }
    let etm = mode & 1 == 1;
    let mut state = CipherState::new(&[7; 16], &[9; 20], etm);
    let _ = state.open(23, &mut body.to_vec());
    let count = usize::from(mode >> 1 & 7) + 1;
    let mut bytes = body.to_vec();
    let size = bytes.len().div_ceil(count).max(1);
    let mut bodies: Vec<&mut [u8]> = bytes.chunks_mut(size).collect();
    let mut ranges = vec![0..0; bodies.len()];
    let mut state = CipherState::new(&[7; 16], &[9; 20], etm);
    if let Ok(()) = state.open_many(23, &mut bodies, &mut ranges) {
        for (body, range) in bodies.iter().zip(ranges) {
            assert!(
                range.end <= body.len(),
                "a plaintext range inside its record"
            );
        }
    }
}

/// Fingerprint parsing.
pub fn fingerprint(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = text.parse::<crate::Fingerprint>();
    }
}

/// A server [`Connection`](crate::Connection) reading `data` as everything a client sends,
/// then the end of the transport. The first byte picks the engine: TLS-SRP (user `alice`,
/// 1024-bit group for speed) or X.509 through rustls (a throwaway self-signed certificate).
pub fn server_connection(data: &[u8]) {
    use std::sync::OnceLock;

    use crate::{CertificateChain, Connection, PrivateKey, ServerConfig};

    static SRP: OnceLock<ServerConfig> = OnceLock::new();
    static X509: OnceLock<ServerConfig> = OnceLock::new();
    let Some((which, mut input)) = data.split_first() else {
        return;
    };
    let config = match which % 2 {
        0 => SRP.get_or_init(|| {
            let users = crate::srp::MemoryVerifierDb::new();
            users.add("alice", "pw", 1024).expect("RFC 5054 group");
            ServerConfig::builder()
                .verifier_db(users)
                .build()
                .expect("SRP config")
        }),
        _ => X509.get_or_init(|| {
            ServerConfig::builder()
                .cert_chain(
                    CertificateChain::from_pem(include_bytes!("fuzzing_data/cert.pem"))
                        .expect("certificate"),
                    PrivateKey::from_pem(include_bytes!("fuzzing_data/key.pem")).expect("key"),
                )
                .build()
                .expect("X.509 config")
        }),
    };
    let Ok(mut conn) = Connection::server(config) else {
        return;
    };
    let mut sink = Vec::new();
    let mut plaintext = [0u8; 256];
    let mut ended = false;
    while !ended {
        ended = input.is_empty();
        // An empty input reads as the end of the transport.
        if conn.read_tls(&mut input).is_err() {
            return;
        }
        let failed = conn.process_new_packets().is_err();
        while conn.wants_write() {
            if conn.write_tls(&mut sink).is_err() {
                return;
            }
        }
        if failed {
            return;
        }
        if !conn.is_handshaking() {
            while matches!(conn.read_plaintext(&mut plaintext), Ok(n) if n > 0) {}
            let _ = conn.write_plaintext(b"reply");
        }
    }
    conn.send_close_notify();
    let _ = conn.write_tls(&mut sink);
}
