//! Ready-made connections of our engine on no transport (SRP, TLS 1.3 PSK), for unit tests and
//! fuzz targets, and the helpers the hostile-peer tests share.

use std::sync::Arc;
use std::time::Duration;

use super::client::{ClientHandshake, ClientKx12, ClientParams};
use super::kx::srp::{SrpClient, SrpServer};
use super::server::{ServerHandshake, ServerKx12, ServerParams};
use super::tls12::{PSK_SUITES, SUITES};
use super::Tls12Connection;
use crate::resumption::{BoundedSessions, ServerSessions, SessionCache};
use crate::srp::MemoryVerifierDb;

/// A server knowing `alice` (password `pw`) in the `bits`-bit group.
pub(crate) fn server(bits: u32) -> Tls12Connection<ServerHandshake> {
    Tls12Connection::new(ServerHandshake::new(server_params(bits))).expect("server starts")
}

/// The parameters of [`server`], to share between connections (one session cache).
pub(crate) fn server_params(bits: u32) -> Arc<ServerParams> {
    let db = MemoryVerifierDb::new();
    db.add("alice", "pw", bits).expect("RFC 5054 group");
    let params = ServerParams {
        kx: ServerKx12::Srp(SrpServer {
            store: Arc::new(db),
            simulate_unknown_users: true,
            secret: [1; 32],
        }),
        suites: SUITES.iter().copied().filter(|s| !s.rsa()).collect(),
        encrypt_then_mac: true,
        mac_then_encrypt: false,
        alpn: Vec::new(),
        named_certificates: Vec::new(),
        sessions: Arc::new(ServerSessions::new(Some(&SessionCache::new(8)), None)),
        certificate: None,
    };
    Arc::new(params)
}

/// A client logging in as `alice`/`pw`, its ClientHello already queued.
pub(crate) fn client(min_bits: u32) -> Tls12Connection<ClientHandshake> {
    Tls12Connection::new(ClientHandshake::new(client_params(min_bits), "localhost"))
        .expect("client starts")
}

/// The parameters of [`client`], to share between connections (one session store).
pub(crate) fn client_params(min_bits: u32) -> Arc<ClientParams> {
    let params = ClientParams {
        kx: ClientKx12::Srp(SrpClient {
            username: "alice".into(),
            password: zeroize::Zeroizing::new("pw".into()),
            min_bits,
            max_bits: 8192,
        }),
        suites: SUITES.iter().copied().filter(|s| !s.rsa()).collect(),
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
    Arc::new(params)
}

/// The identity and key of the ready-made PSK connections.
pub(crate) const PSK_IDENTITY: &[u8] = b"sensor-7";
pub(crate) const PSK_KEY: [u8; 32] = [0x42; 32];

/// A TLS 1.3 server knowing [`PSK_IDENTITY`].
#[cfg(test)]
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
#[cfg(test)]
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
        tls12: None,
    }
}

/// TLS 1.2 PSK parameters for a client offering [`PSK_IDENTITY`] with `key` and the PSK suites
/// of `suites` (all when empty: plain PSK too, so the fuzzers reach it).
pub(crate) fn psk12_client_params(key: &[u8], suites: &[u16]) -> Arc<ClientParams> {
    use crate::psk::ExternalPsk;
    Arc::new(ClientParams {
        kx: ClientKx12::Psk(super::kx::psk12::Psk12Client {
            psk: ExternalPsk::new(PSK_IDENTITY, key).expect("key"),
        }),
        suites: PSK_SUITES
            .iter()
            .copied()
            .filter(|s| suites.is_empty() || suites.contains(&s.id))
            .collect(),
        encrypt_then_mac: true,
        mac_then_encrypt: false,
        alpn: Vec::new(),
        sni: true,
        sessions: BoundedSessions::new(1, Duration::ZERO),
        tickets: false,
        cert_verifier: None,
        signature_algorithms: rustls::crypto::ring::default_provider()
            .signature_verification_algorithms,
    })
}

/// A TLS 1.2 PSK client offering `suites` (all when empty), its ClientHello already queued.
#[cfg(test)]
pub(crate) fn psk12_client(key: &[u8], suites: &[u16]) -> Tls12Connection<ClientHandshake> {
    Tls12Connection::new(ClientHandshake::new(
        psk12_client_params(key, suites),
        "localhost",
    ))
    .expect("client starts")
}

/// A client offering TLS 1.3 and TLS 1.2 PSK in one hello, its ClientHello already queued.
pub(crate) fn psk_client_both_versions(key: &[u8]) -> super::client::VersionChoice {
    let mut params = psk_client_params(key);
    params.tls12 = Some(psk12_client_params(key, &[]));
    super::client::VersionChoice::new(Arc::new(params), "localhost").expect("client starts")
}

/// A server of both PSK versions (plain PSK allowed) knowing [`PSK_IDENTITY`], with a hint:
/// the ClientHello picks the version.
pub(crate) fn psk_server_both_versions() -> super::route::RoutingEngine {
    use crate::psk::{ExternalPsk, MemoryPskStore};
    let store = Arc::new(MemoryPskStore::new());
    store.insert(ExternalPsk::new(PSK_IDENTITY, PSK_KEY).expect("key"));
    let tls13 = super::server::Server13Params {
        kx: super::kx::psk::PskServer {
            store: store.clone(),
            tickets: Some(crate::resumption::TicketSealer::own()),
        },
        suites: super::tls13::Tls13Suite::allowed(&[]),
        alpn: Vec::new(),
        allow_psk_ke: true,
    };
    let tls12 = ServerParams {
        kx: ServerKx12::Psk {
            kx: super::kx::psk12::Psk12Server {
                store,
                hint: b"meters".to_vec(),
            },
            allow_plain: true,
            downgrade_sentinel: true,
        },
        suites: PSK_SUITES.to_vec(),
        encrypt_then_mac: true,
        mac_then_encrypt: false,
        alpn: Vec::new(),
        named_certificates: Vec::new(),
        sessions: Arc::new(ServerSessions::new(None, None)),
        certificate: None,
    };
    super::route::RoutingEngine::new(Arc::new(super::route::Routes {
        srp: None,
        psk: Some(Arc::new(tls13)),
        psk12: Some(Arc::new(tls12)),
        x509: None,
        strict_names: None,
    }))
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

/// Moves bytes both ways until neither side has anything to say; the first error either
/// side reports.
#[cfg(test)]
pub(crate) fn pump(
    a: &mut dyn super::Engine,
    b: &mut dyn super::Engine,
) -> Result<(), crate::Error> {
    loop {
        let moved_ab = transfer(a, b)?;
        let moved_ba = transfer(b, a)?;
        if !moved_ab && !moved_ba {
            return Ok(());
        }
    }
}

/// Moves what `from` has to say into `to`; whether anything moved.
#[cfg(test)]
fn transfer(
    from: &mut dyn super::Engine,
    to: &mut dyn super::Engine,
) -> Result<bool, crate::Error> {
    let bytes = take_output(from);
    feed(to, &bytes)?;
    Ok(!bytes.is_empty())
}

#[cfg(test)]
pub(crate) fn take_output(conn: &mut dyn super::Engine) -> Vec<u8> {
    let mut bytes = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut bytes).unwrap();
    }
    bytes
}
