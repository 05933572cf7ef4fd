//! The engines a [`Connection`](crate::Connection) drives, behind one boundary ([`Engine`]).
//!
//! rustls's connections are one engine (X.509). Ours is the other, laid out like rustls:
//!
//! | where | what |
//! |---|---|
//! | `msgs/` | wire messages and extensions (typed), deframing, reassembly |
//! | `record/` | record protection (CBC with HMAC-SHA1, EtM or constant-time MtE) |
//! | `common.rs`, `failure.rs`, `connection.rs` | the common state, failures and alerts, the `Engine` calls |
//! | `tls12/` | the TLS 1.2 key schedule: PRF, suites, the negotiated keys |
//! | `tls13/` | TLS 1.3: HKDF key schedule, transcript, AEAD records, its connection |
//! | `client/`, `server/` | each side's handshakes, `tls12.rs` and `tls13.rs` |
//! | `kx/` | the key exchanges the handshakes call: SRP (TLS 1.2), PSK with ECDHE (TLS 1.3) |
//! | `route.rs` | one port for both engines: the ClientHello picks |
//! | `rustls_connection.rs` | rustls as an engine (clients) |
//! | `rustls_server/` | X.509 servers: rustls's handshake, then our records with its keys |
//! | `testing.rs`, `tests.rs` | ready-made connections, and hostile peers message by message |
//!
//! Nothing here imports the configurations (`client`, `server`), the stores or the adapters:
//! the configurations hand each connection its parameters, users are looked up through the
//! [`VerifierStore`](crate::srp::VerifierStore) handed in.

use std::io;

pub(crate) mod client;
mod common;
mod connection;
mod failure;
pub(crate) mod kx;
pub(crate) mod msgs;
pub(crate) mod record;
pub(crate) mod route;
mod rustls_connection;
pub(crate) mod rustls_server;
pub(crate) mod server;
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
pub(crate) mod tls12;
pub(crate) mod tls13;

pub(crate) use common::CommonState;
pub(crate) use connection::{Handshake, Tls12Connection};
pub(crate) use failure::{fail, Failure};

use crate::{Error, Session};

/// A TLS connection state machine that never touches a socket (rustls's shape).
pub(crate) trait Engine: Send + Sync {
    /// Takes TLS bytes from `rd` into the engine; `Ok(0)` means the transport reached EOF.
    fn read_tls(&mut self, rd: &mut dyn io::Read) -> io::Result<usize>;
    /// Moves queued TLS bytes to `wr`.
    fn write_tls(&mut self, wr: &mut dyn io::Write) -> io::Result<usize>;
    /// Decodes and acts on the records read so far; a fatal error queues an alert to send.
    fn process_new_packets(&mut self) -> Result<(), Error>;
    fn is_handshaking(&self) -> bool;
    fn wants_write(&self) -> bool;
    /// No plaintext is waiting and the peer has not ended the connection: only more TLS bytes
    /// can make progress.
    fn wants_read(&self) -> bool;
    /// Decrypted application data: `Ok(0)` after the peer's close_notify, `WouldBlock` when
    /// more records are needed, `UnexpectedEof` when the transport ended without close_notify.
    fn read_plaintext(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    /// Queues application data for encryption.
    fn write_plaintext(&mut self, buf: &[u8]) -> io::Result<usize>;
    fn send_close_notify(&mut self);
    /// What was negotiated; called once the handshake is done.
    fn session(&self) -> Session;
    /// Whether processing handshake messages can take milliseconds (TLS-SRP's big-number
    /// arithmetic), so that an event loop should run it off its reactor.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    fn heavy_handshake(&self) -> bool {
        false
    }
}

/// The calls of an engine that first chooses another (`route.rs` by the ClientHello,
/// `client/version.rs` by the ServerHello) and hands over to it: the one chosen answers, or,
/// before the choice, a connection with no data yet.
pub(crate) mod handover {
    use super::Engine;
    use crate::Session;
    use std::io;

    pub(crate) fn read_plaintext(
        chosen: &mut Option<Box<dyn Engine>>,
        eof: bool,
        buf: &mut [u8],
    ) -> io::Result<usize> {
        match chosen {
            Some(engine) => engine.read_plaintext(buf),
            None if eof => Err(io::ErrorKind::UnexpectedEof.into()),
            None => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    pub(crate) fn write_plaintext(
        chosen: &mut Option<Box<dyn Engine>>,
        buf: &[u8],
    ) -> io::Result<usize> {
        match chosen {
            Some(engine) => engine.write_plaintext(buf),
            None => Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "the handshake has not finished",
            )),
        }
    }

    pub(crate) fn session(chosen: &Option<Box<dyn Engine>>) -> Session {
        match chosen {
            Some(engine) => engine.session(),
            None => crate::session::NO_SESSION.clone(),
        }
    }
}
