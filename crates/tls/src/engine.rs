//! The engine boundary: what a [`Connection`](crate::Connection) needs from a TLS
//! implementation.
//!
//! rustls's connections implement it here; the TLS-SRP engine implements the same calls, so
//! the connection's policy and every driver serve both.

use std::io;

use crate::settings::cipher_suite_name;
use crate::{Error, ProtocolVersion, Session};

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

impl Engine for rustls::Connection {
    fn read_tls(&mut self, rd: &mut dyn io::Read) -> io::Result<usize> {
        rustls::Connection::read_tls(self, rd)
    }

    fn write_tls(&mut self, wr: &mut dyn io::Write) -> io::Result<usize> {
        rustls::Connection::write_tls(self, wr)
    }

    fn process_new_packets(&mut self) -> Result<(), Error> {
        rustls::Connection::process_new_packets(self)
            .map(drop)
            .map_err(Error::from)
    }

    fn is_handshaking(&self) -> bool {
        rustls::CommonState::is_handshaking(self)
    }

    fn wants_write(&self) -> bool {
        rustls::CommonState::wants_write(self)
    }

    fn wants_read(&self) -> bool {
        rustls::CommonState::wants_read(self)
    }

    fn read_plaintext(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        io::Read::read(&mut self.reader(), buf)
    }

    fn write_plaintext(&mut self, buf: &[u8]) -> io::Result<usize> {
        io::Write::write(&mut self.writer(), buf)
    }

    fn send_close_notify(&mut self) {
        rustls::CommonState::send_close_notify(self)
    }

    fn session(&self) -> Session {
        let version = match self.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_3) => ProtocolVersion::Tls13,
            _ => ProtocolVersion::Tls12,
        };
        let server_name = match self {
            Self::Server(server) => server.server_name().map(str::to_owned),
            Self::Client(_) => None,
        };
        Session {
            version,
            cipher_suite: self
                .negotiated_cipher_suite()
                .map(|s| cipher_suite_name(s.suite()))
                .unwrap_or_default(),
            peer_certificates: self
                .peer_certificates()
                .map(|certs| certs.to_vec())
                .unwrap_or_default(),
            resumed: self.handshake_kind() == Some(rustls::HandshakeKind::Resumed),
            alpn: self.alpn_protocol().map(<[u8]>::to_vec),
            server_name,
            srp_username: None,
            encrypt_then_mac: None,
            extended_master_secret: None,
        }
    }
}
