//! Ready-made SRP connections of our engine on no transport, for unit tests and fuzz targets.

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
