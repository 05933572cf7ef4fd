//! `Connection`: a TLS connection's policy without any I/O (sans-IO).
//!
//! It owns the engine (rustls for X.509, whose server connections hand their records to ours
//! after the handshake; ours for TLS-SRP and PSK) and everything decided above the
//! records: the [`Checker`] run when the handshake completes, the name sent by SNI, the rule
//! that a transport ending without close_notify is [`Error::AbruptClose`], and the
//! [`Session`]. A driver only moves bytes: the blocking [`TlsStream`](crate::TlsStream), the
//! tokio stream, or your own event loop.

use std::io;

use crate::engine::Engine;
use crate::{AuthenticationError, Checker, ClientConfig, Error, ServerConfig, Session};

/// One TLS connection, client or server, that never touches a socket.
///
/// Feed it the bytes read from the transport with [`read_tls`](Self::read_tls) and
/// [`process_new_packets`](Self::process_new_packets); send what
/// [`write_tls`](Self::write_tls) gives you while [`wants_write`](Self::wants_write) is true.
/// Once [`is_handshaking`](Self::is_handshaking) is false, the handshake and the Checker have
/// passed: read and write plaintext, and [`send_close_notify`](Self::send_close_notify) to end.
///
/// Its errors are TLS errors: an alert sent or received, a failed check, an abrupt close. I/O
/// errors belong to the driver.
///
/// Take the plaintext out between reads of TLS bytes: an engine holds only so much decrypted
/// data (16 KiB) and refuses more TLS bytes until it is read.
///
/// Two connections talking through in-memory buffers, over TLS-SRP:
///
/// ```
/// use std::io::ErrorKind;
/// use tls::{ClientConfig, Connection, ServerConfig};
///
/// let users = tls::srp::MemoryVerifierDb::new();
/// users.add("alice", "correct horse", 2048)?;
/// let server_config = ServerConfig::builder().verifier_db(users).build()?;
/// let client_config = ClientConfig::builder().srp("alice", "correct horse").build()?;
/// let mut client = Connection::client(&client_config, "localhost")?;
/// let mut server = Connection::server(&server_config)?;
///
/// // Moves what `from` has to send into `to`, and the plaintext `to` gets out into `received`
/// // after every read, so that no amount of data in flight fills `to` up.
/// fn pump(
///     from: &mut Connection,
///     to: &mut Connection,
///     received: &mut Vec<u8>,
/// ) -> Result<(), Box<dyn std::error::Error>> {
///     let mut wire = Vec::new();
///     while from.wants_write() {
///         from.write_tls(&mut wire)?;
///     }
///     let (mut wire, mut buf) = (&wire[..], [0u8; 4096]);
///     while !wire.is_empty() {
///         to.read_tls(&mut wire)?;
///         to.process_new_packets()?;
///         loop {
///             match to.read_plaintext(&mut buf) {
///                 Ok(0) => break, // the peer's close_notify
///                 Ok(n) => received.extend_from_slice(&buf[..n]),
///                 Err(e) if e.kind() == ErrorKind::WouldBlock => break,
///                 Err(e) => return Err(e.into()),
///             }
///         }
///     }
///     Ok(())
/// }
/// let mut received = Vec::new();
/// while client.is_handshaking() || server.is_handshaking() {
///     pump(&mut client, &mut server, &mut received)?;
///     pump(&mut server, &mut client, &mut received)?;
/// }
/// assert_eq!(server.session().unwrap().srp_username(), Some("alice"));
///
/// // 100 KiB in one go: a write takes what fits, the pump moves it, and so on.
/// let data = vec![7u8; 100 * 1024];
/// let mut sent = 0;
/// while sent < data.len() {
///     sent += client.write_plaintext(&data[sent..])?;
///     pump(&mut client, &mut server, &mut received)?;
/// }
/// assert_eq!(received, data);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// The same with certificates, nothing else changes (the `pump` is the one above):
///
/// ```
/// # use std::io::ErrorKind;
/// # use tls::{ClientConfig, Connection, ServerAuth, ServerConfig};
/// # fn pump(
/// #     from: &mut Connection,
/// #     to: &mut Connection,
/// #     received: &mut Vec<u8>,
/// # ) -> Result<(), Box<dyn std::error::Error>> {
/// #     let mut wire = Vec::new();
/// #     while from.wants_write() { from.write_tls(&mut wire)?; }
/// #     let (mut wire, mut buf) = (&wire[..], [0u8; 4096]);
/// #     while !wire.is_empty() {
/// #         to.read_tls(&mut wire)?;
/// #         to.process_new_packets()?;
/// #         loop {
/// #             match to.read_plaintext(&mut buf) {
/// #                 Ok(0) => break,
/// #                 Ok(n) => received.extend_from_slice(&buf[..n]),
/// #                 Err(e) if e.kind() == ErrorKind::WouldBlock => break,
/// #                 Err(e) => return Err(e.into()),
/// #             }
/// #         }
/// #     }
/// #     Ok(())
/// # }
/// # let pki = tls_testkit::Pki::new();
/// # let (chain, key, roots) = (pki.server.chain(), pki.server.key(), pki.roots());
/// let server_config = ServerConfig::builder().cert_chain(chain, key).build()?;
/// let client_config = ClientConfig::builder().server_auth(ServerAuth::Roots(roots)).build()?;
/// let mut client = Connection::client(&client_config, "localhost")?;
/// let mut server = Connection::server(&server_config)?;
/// let mut received = Vec::new();
/// while client.is_handshaking() || server.is_handshaking() {
///     pump(&mut client, &mut server, &mut received)?;
///     pump(&mut server, &mut client, &mut received)?;
/// }
/// assert_eq!(client.session().unwrap().version(), tls::ProtocolVersion::Tls13);
///
/// let data = vec![7u8; 100 * 1024];
/// let mut sent = 0;
/// while sent < data.len() {
///     sent += client.write_plaintext(&data[sent..])?;
///     pump(&mut client, &mut server, &mut received)?;
/// }
/// assert_eq!(received, data);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Connection {
    engine: Box<dyn Engine>,
    checker: Option<Checker>,
    /// The name a client sent by SNI (its engine cannot report it).
    sent_server_name: Option<String>,
    /// Set once the handshake completed and the Checker passed.
    session: Option<Session>,
    ignore_abrupt_close: bool,
    /// The transport reached its end.
    transport_eof: bool,
    /// The Checker's verdict against the peer, reported again by every later call.
    rejected: Option<AuthenticationError>,
}

impl Connection {
    pub(crate) fn new(
        engine: Box<dyn Engine>,
        checker: Option<Checker>,
        sent_server_name: Option<String>,
    ) -> Self {
        Self {
            engine,
            checker,
            sent_server_name,
            session: None,
            ignore_abrupt_close: false,
            transport_eof: false,
            rejected: None,
        }
    }

    /// A client connection to `host` (a DNS name or an IP address, IPv6 with or without
    /// brackets) under `config`; its first flight is queued at once.
    pub fn client(config: &ClientConfig, host: &str) -> Result<Self, Error> {
        config.connection(host)
    }

    /// A server connection under `config`, waiting for a ClientHello.
    pub fn server(config: &ServerConfig) -> Result<Self, Error> {
        config.connection()
    }

    /// Takes TLS bytes from `rd` (one read); `Ok(0)` tells the connection the transport has
    /// ended. Take the plaintext waiting ([`read_plaintext`](Self::read_plaintext) until
    /// `WouldBlock`) between reads: a connection holding too much unread plaintext refuses
    /// more TLS bytes with an error that says so.
    pub fn read_tls(&mut self, rd: &mut dyn io::Read) -> io::Result<usize> {
        let n = self.engine.read_tls(rd)?;
        if n == 0 {
            self.transport_eof = true;
        }
        Ok(n)
    }

    /// Writes queued TLS bytes to `wr` (one write).
    pub fn write_tls(&mut self, wr: &mut dyn io::Write) -> io::Result<usize> {
        self.engine.write_tls(wr)
    }

    /// Acts on the bytes read so far. When the handshake completes, the Checker runs: a
    /// rejection is [`Error::Authentication`] and queues close_notify. A fatal error queues its
    /// alert (send it with `write_tls`) and is returned again by every later call.
    pub fn process_new_packets(&mut self) -> Result<(), Error> {
        if let Some(rejected) = &self.rejected {
            return Err(Error::Authentication(rejected.clone()));
        }
        // The engines report their own fatal errors again on every call.
        self.engine.process_new_packets()?;
        if self.session.is_none() && !self.engine.is_handshaking() {
            self.finish_handshake()?;
        }
        if self.transport_eof && self.session.is_none() {
            return Err(Error::AbruptClose);
        }
        Ok(())
    }

    /// The handshake is done: take the session snapshot and run the Checker.
    fn finish_handshake(&mut self) -> Result<(), Error> {
        let mut session = self.engine.session();
        if self.sent_server_name.is_some() {
            session.server_name = self.sent_server_name.take();
        }
        if let Some(checker) = &self.checker {
            if let Err(e) = checker.check(&session) {
                // The handshake is over: no alert fits; the peer sees the connection end.
                self.engine.send_close_notify();
                self.rejected = Some(e.clone());
                return Err(Error::Authentication(e));
            }
        }
        self.session = Some(session);
        Ok(())
    }

    /// True until the handshake has completed and the Checker has passed.
    pub fn is_handshaking(&self) -> bool {
        self.session.is_none()
    }

    /// Whether the connection has TLS bytes to send.
    pub fn wants_write(&self) -> bool {
        self.engine.wants_write()
    }

    /// Whether the connection needs more bytes from the transport to make progress (no
    /// plaintext is waiting, and neither side has ended it).
    pub fn wants_read(&self) -> bool {
        self.rejected.is_none() && !self.transport_eof && self.engine.wants_read()
    }

    /// What the handshake negotiated, once it is done.
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    /// When set, a transport that ends without close_notify reads as a clean end of stream
    /// instead of [`Error::AbruptClose`] (for peers known to do so).
    pub fn set_ignore_abrupt_close(&mut self, ignore: bool) {
        self.ignore_abrupt_close = ignore;
    }

    /// Decrypted application data into `buf`: `Ok(n)` with `n > 0`, `Ok(0)` once the peer
    /// closed with close_notify, `ErrorKind::WouldBlock` when more TLS bytes are needed, and an
    /// error carrying [`Error::AbruptClose`] when the transport ended without close_notify.
    pub fn read_plaintext(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        match self.engine.read_plaintext(buf) {
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => match self.ignore_abrupt_close {
                true => Ok(0),
                false => Err(Error::AbruptClose.into()),
            },
            other => other,
        }
    }

    /// Queues application data for encryption; takes fewer bytes than offered (possibly none)
    /// when the outgoing buffer is full, until `write_tls` drains it.
    pub fn write_plaintext(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.session.is_none() {
            return Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "the handshake has not completed",
            ));
        }
        self.engine.write_plaintext(buf)
    }

    /// Whether the handshake's processing is heavy (TLS-SRP's exponentiations) and belongs
    /// off an event loop's reactor.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) fn does_heavy_handshake_work(&self) -> bool {
        self.is_handshaking() && self.engine.heavy_handshake()
    }

    /// Queues close_notify: no more data will be sent.
    pub fn send_close_notify(&mut self) {
        self.engine.send_close_notify();
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("session", &self.session)
            .field("rejected", &self.rejected)
            .finish_non_exhaustive()
    }
}
