//! rustls's connection as an engine: X.509 through rustls, TLS 1.2 and 1.3.

use std::io;

use crate::settings::cipher_suite_name;
use crate::{Error, ProtocolVersion, Session};

use super::Engine;

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
