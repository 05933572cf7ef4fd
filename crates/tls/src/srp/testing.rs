//! Ready-made SRP connections on no transport, for unit tests and fuzz targets.

use std::sync::Arc;
use std::time::Duration;

use super::client::{ClientRole, SrpClientParams};
use super::conn::SrpConnection;
use super::server::{ServerRole, SrpServerParams};
use super::sessions::{ServerSessions, SessionMap};
use super::suites::SUITES;
use super::MemoryVerifierDb;

/// A server knowing `alice` (password `pw`) in the `bits`-bit group.
pub(crate) fn server(bits: u32) -> SrpConnection<ServerRole> {
    let db = MemoryVerifierDb::new();
    db.add("alice", "pw", bits).expect("RFC 5054 group");
    let params = SrpServerParams {
        store: Arc::new(db),
        suites: SUITES.iter().copied().filter(|s| !s.rsa).collect(),
        encrypt_then_mac: true,
        mac_then_encrypt: false,
        alpn: Vec::new(),
        named_certificates: Vec::new(),
        simulate_unknown_users: true,
        secret: [1; 32],
        sessions: Arc::new(ServerSessions {
            local: SessionMap::new(8, Duration::from_secs(60)),
            shared: None,
        }),
        certificate: None,
    };
    SrpConnection::new(ServerRole::new(Arc::new(params))).expect("server starts")
}

/// A client logging in as `alice`/`pw`, its ClientHello already queued.
pub(crate) fn client(min_bits: u32) -> SrpConnection<ClientRole> {
    let params = SrpClientParams {
        username: "alice".into(),
        password: zeroize::Zeroizing::new("pw".into()),
        suites: SUITES.iter().copied().filter(|s| !s.rsa).collect(),
        min_bits,
        max_bits: 8192,
        encrypt_then_mac: true,
        mac_then_encrypt: false,
        alpn: Vec::new(),
        sni: true,
        sessions: SessionMap::new(8, Duration::from_secs(60)),
        tickets: true,
        cert_verifier: None,
        signature_algorithms: rustls::crypto::ring::default_provider()
            .signature_verification_algorithms,
    };
    SrpConnection::new(ClientRole::new(Arc::new(params), "localhost")).expect("client starts")
}
