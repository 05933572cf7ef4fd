//! Ready-made connections of our engine on no transport (SRP, TLS 1.3 PSK), for unit tests and
//! fuzz targets, and the helpers the hostile-peer tests share.

use std::sync::Arc;
use std::time::Duration;

use super::client::{ClientHandshake, ClientParams};
use super::kx::srp::{SrpClient, SrpServer};
use super::server::{ServerHandshake, ServerParams};
use super::tls12::SUITES;
use super::Tls12Connection;
use crate::resumption::{BoundedSessions, ServerSessions, SessionCache};
use crate::srp::MemoryVerifierDb;

/// A server knowing `alice` (password `pw`) in the `bits`-bit group.
pub(crate) fn server(bits: u32) -> Tls12Connection<ServerHandshake> {
    let db = MemoryVerifierDb::new();
    db.add("alice", "pw", bits).expect("RFC 5054 group");
    let params = ServerParams {
        kx: SrpServer {
            store: Arc::new(db),
            simulate_unknown_users: true,
            secret: [1; 32],
        },
        suites: SUITES.iter().copied().filter(|s| !s.rsa).collect(),
        encrypt_then_mac: true,
        mac_then_encrypt: false,
        alpn: Vec::new(),
        named_certificates: Vec::new(),
        sessions: Arc::new(ServerSessions::new(Some(&SessionCache::new(8)), None)),
        certificate: None,
    };
    Tls12Connection::new(ServerHandshake::new(Arc::new(params))).expect("server starts")
}

/// A client logging in as `alice`/`pw`, its ClientHello already queued.
pub(crate) fn client(min_bits: u32) -> Tls12Connection<ClientHandshake> {
    let params = ClientParams {
        kx: SrpClient {
            username: "alice".into(),
            password: zeroize::Zeroizing::new("pw".into()),
            min_bits,
            max_bits: 8192,
        },
        suites: SUITES.iter().copied().filter(|s| !s.rsa).collect(),
        encrypt_then_mac: true,
        mac_then_encrypt: false,
        alpn: Vec::new(),
        sni: true,
        sessions: BoundedSessions::new(8, Duration::from_secs(60)),
        tickets: true,
        cert_verifier: None,
        signature_algorithms: rustls::crypto::ring::default_provider()
            .signature_verification_algorithms,
    };
    Tls12Connection::new(ClientHandshake::new(Arc::new(params), "localhost"))
        .expect("client starts")
}

/// The identity and key of the ready-made PSK connections.
pub(crate) const PSK_IDENTITY: &[u8] = b"sensor-7";
pub(crate) const PSK_KEY: [u8; 32] = [0x42; 32];

/// A TLS 1.3 server knowing [`PSK_IDENTITY`].
pub(crate) fn psk_server() -> super::tls13::Tls13Connection<super::server::ServerHandshake13> {
    use crate::psk::{ExternalPsk, MemoryPskStore};
    let store = MemoryPskStore::new();
    store.insert(ExternalPsk::new(PSK_IDENTITY, PSK_KEY).expect("key"));
    let params = super::server::Server13Params {
        kx: super::kx::psk::PskServer {
            store: Arc::new(store),
            tickets: Some(crate::resumption::TicketSealer::own()),
        },
        suites: super::tls13::Tls13Suite::allowed(&[]),
        alpn: Vec::new(),
        allow_psk_ke: false,
    };
    super::tls13::Tls13Connection::new(super::server::ServerHandshake13::new(Arc::new(params)))
        .expect("server starts")
}

/// A TLS 1.3 client offering `key` for [`PSK_IDENTITY`], its ClientHello already queued.
pub(crate) fn psk_client(
    key: &[u8],
) -> super::tls13::Tls13Connection<super::client::ClientHandshake13> {
    super::tls13::Tls13Connection::new(super::client::ClientHandshake13::new(
        Arc::new(psk_client_params(key)),
        "localhost",
    ))
    .expect("client starts")
}

pub(crate) fn psk_client_params(key: &[u8]) -> super::client::Client13Params {
    use crate::psk::ExternalPsk;
    super::client::Client13Params {
        kx: super::kx::psk::PskClient {
            psks: vec![ExternalPsk::new(PSK_IDENTITY, key).expect("key")],
        },
        suites: super::tls13::Tls13Suite::allowed(&[]),
        alpn: Vec::new(),
        sni: true,
        tickets: crate::resumption::ClientTickets::new(8),
        without_dhe: false,
    }
}

/// A record of `content_type` around `body`, unprotected.
#[cfg(test)]
pub(crate) fn record(content_type: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![content_type, 3, 3];
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// Feeds bytes and returns what processing them said.
#[cfg(test)]
pub(crate) fn feed(conn: &mut dyn super::Engine, bytes: &[u8]) -> Result<(), crate::Error> {
    let mut input = bytes;
    while !input.is_empty() {
        conn.read_tls(&mut input).expect("read from a slice");
        conn.process_new_packets()?;
    }
    Ok(())
}

/// Panics unless `result` is our own fatal `alert`.
#[cfg(test)]
pub(crate) fn expect_alert(result: Result<(), crate::Error>, alert: crate::AlertDescription) {
    match result {
        Err(crate::Error::LocalAlert { description, .. }) if description == alert => {}
        other => panic!("expected {alert}, got {other:?}"),
    }
}
