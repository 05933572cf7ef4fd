//! rustls's connection as an engine: X.509 through rustls, TLS 1.2 and 1.3.

use std::io;

use crate::settings::cipher_suite_name;
use crate::{Error, ProtocolVersion, Session};

use super::Engine;

impl Engine for rustls::Connection {
    fn read_tls(&mut self, rd: &mut dyn io::Read) -> io::Result<usize> {
        rustls::Connection::read_tls(self, rd).map_err(explain_full_buffer)
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
        let server_name = match self {
            Self::Server(server) => server.server_name().map(str::to_owned),
            Self::Client(_) => None,
        };
        session(self, server_name)
    }
}

/// What a rustls handshake negotiated; `server_name`: the name the client asked for by SNI.
pub(super) fn session(common: &rustls::CommonState, server_name: Option<String>) -> Session {
    let version = match common.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => ProtocolVersion::Tls13,
        _ => ProtocolVersion::Tls12,
    };
    Session {
        version,
        cipher_suite: common
            .negotiated_cipher_suite()
            .map(|s| cipher_suite_name(s.suite()))
            .unwrap_or_default(),
        peer_certificates: common
            .peer_certificates()
            .map(|certs| certs.to_vec())
            .unwrap_or_default(),
        resumed: common.handshake_kind() == Some(rustls::HandshakeKind::Resumed),
        alpn: common.alpn_protocol().map(<[u8]>::to_vec),
        server_name,
        srp_username: None,
        psk_identity: None,
        encrypt_then_mac: None,
        extended_master_secret: None,
    }
}

/// rustls's refusal of more TLS bytes while its plaintext buffer is full, said with what to do.
fn explain_full_buffer(e: io::Error) -> io::Error {
    match e.kind() == io::ErrorKind::Other && e.to_string() == "received plaintext buffer full" {
        true => io::Error::other(super::common::FULL_PLAINTEXT),
        false => e,
    }
}

#[cfg(test)]
mod tests {
    use crate::{
        CertificateChain, ClientConfig, Connection, PrivateKey, ServerAuth, ServerConfig,
        TrustRoots,
    };

    /// A sans-IO user who reads TLS bytes without taking the plaintext out is told so, by
    /// either engine (a server's records are ours).
    #[test]
    fn a_full_plaintext_buffer_says_what_to_do() {
        let pki = tls_testkit::Pki::new();
        let server = ServerConfig::builder()
            .cert_chain(
                CertificateChain::from_pem(pki.server.chain_pem.as_bytes()).unwrap(),
                PrivateKey::from_pem(pki.server.key_pem.as_bytes()).unwrap(),
            )
            .build()
            .unwrap();
        let client = ClientConfig::builder()
            .server_auth(ServerAuth::Roots(
                TrustRoots::from_pem(pki.root_pem.as_bytes()).unwrap(),
            ))
            .build()
            .unwrap();
        let (mut client, mut server) = (
            Connection::client(&client, "localhost").unwrap(),
            Connection::server(&server).unwrap(),
        );
        // Bytes both ways, never reading plaintext.
        let pump = |from: &mut Connection, to: &mut Connection| -> std::io::Result<()> {
            let mut wire = Vec::new();
            while from.wants_write() {
                from.write_tls(&mut wire)?;
            }
            let mut wire = &wire[..];
            while !wire.is_empty() {
                to.read_tls(&mut wire)?;
                to.process_new_packets().map_err(std::io::Error::other)?;
            }
            Ok(())
        };
        while client.is_handshaking() || server.is_handshaking() {
            pump(&mut client, &mut server).unwrap();
            pump(&mut server, &mut client).unwrap();
        }
        // Both ways: into the server (our records after rustls's handshake) and into the
        // client (rustls's own connection).
        let data = vec![1u8; 256 * 1024];
        for client_sends in [true, false] {
            let (from, to) = match client_sends {
                true => (&mut client, &mut server),
                false => (&mut server, &mut client),
            };
            let mut sent = 0;
            let refused = loop {
                assert!(
                    sent < data.len(),
                    "256 KiB taken without reading any plaintext"
                );
                sent += from.write_plaintext(&data[sent..]).unwrap();
                if let Err(e) = pump(from, to) {
                    break e;
                }
            };
            assert!(refused.to_string().contains("read_plaintext"), "{refused}");
        }
    }
}
