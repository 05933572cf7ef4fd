//! X.509 servers: rustls runs the handshake, our records carry the traffic after it.
//!
//! rustls's buffered connection keeps a 4 KiB receive buffer for as long as the connection
//! lives, idle or not, and copies each record it seals once more than sealing needs. So the
//! handshake runs on rustls's caller-buffered connection (`rustls::unbuffered`, reading from
//! our buffer), and once it is done rustls hands over its keys (`rustls::kernel`, the interface
//! made for kTLS): our TLS 1.3 or TLS 1.2 connection carries the records from there, holding no
//! buffer while it waits (`CommonState::read_tls`). rustls stays the one to compute new keys at
//! a TLS 1.3 KeyUpdate, as it keeps the secrets.
//!
//! The bytes rustls read past its handshake stay in our buffer and are replayed into the
//! connection taking over; what rustls queued to send (its last flight, session tickets) and
//! any application data it already opened are given out first.

mod established;

use std::io;
use std::sync::Arc;

use rustls::kernel::KernelConnection;
use rustls::server::{ServerConnectionData, UnbufferedServerConnection};
use rustls::unbuffered::{ConnectionState, EncodeError, InsufficientSizeError};
use rustls::ExtractedSecrets;

use super::common::INCOMING_SIZE;
use super::msgs::deframe::{record_header, MAX_HANDSHAKE};
use super::rustls_connection::session;
use super::tls13::Tls13Connection;
use super::{Engine, Tls12Connection};
use crate::{Error, Session};
use established::{protection12, AfterRustls12, AfterRustls13};

/// Bytes asked of the transport per read during the handshake.
const READ_SIZE: usize = 4096;
/// rustls joins a handshake message in place, in our buffer: the largest message (a
/// ClientHello with a long extension, a client's certificate chain) and its records' headers.
const MAX_UNPROCESSED: usize = MAX_HANDSHAKE + INCOMING_SIZE;

/// A server connection with a certificate: rustls's handshake, then ours.
pub(crate) struct RustlsServer {
    /// rustls running the handshake; `None` once it handed over (boxed: a kilobyte the
    /// connection does not keep).
    handshake: Option<Box<UnbufferedServerConnection>>,
    /// The connection carrying the traffic after the handshake.
    traffic: Option<Box<dyn Engine>>,
    /// The name the client asked for by SNI (read from its hello by the router).
    server_name: Option<String>,
    /// Bytes read and not yet processed by rustls.
    incoming: Vec<u8>,
    /// How much of `incoming` rustls may see: whole records only, one more each time it needs
    /// more, so that it stops at the end of the record that completes its handshake and never
    /// reads (or half-reads) a record meant for ours.
    fed: usize,
    /// TLS bytes rustls queued, sent before any of the traffic connection's.
    outgoing: Vec<u8>,
    /// Application data rustls opened before handing over, read before any after it.
    plaintext: Vec<u8>,
    /// rustls's error, reported again by every later call.
    failure: Option<rustls::Error>,
    eof: bool,
    /// The client's close_notify came right after its Finished, read by rustls.
    peer_closed: bool,
}

impl RustlsServer {
    pub(crate) fn new(
        config: Arc<rustls::ServerConfig>,
        server_name: Option<String>,
    ) -> Result<Self, Error> {
        Ok(Self {
            handshake: Some(Box::new(UnbufferedServerConnection::new(config)?)),
            traffic: None,
            server_name,
            incoming: Vec::new(),
            fed: 0,
            outgoing: Vec::new(),
            plaintext: Vec::new(),
            failure: None,
            eof: false,
            peer_closed: false,
        })
    }

    /// Runs rustls over the bytes read, until it needs more or the handshake is done.
    fn handshake(&mut self) -> Result<(), rustls::Error> {
        if self.fed == 0 && !self.feed_a_record() {
            return Ok(());
        }
        loop {
            let Some(conn) = self.handshake.as_mut() else {
                return Ok(());
            };
            let status = conn.process_tls_records(&mut self.incoming[..self.fed]);
            let (discard, state) = (status.discard, status.state);
            let outcome = match state {
                Err(e) => Err(e),
                Ok(ConnectionState::EncodeTlsData(mut data)) => {
                    encode(&mut self.outgoing, |out| data.encode(out)).map(|()| Step::Again)
                }
                Ok(ConnectionState::TransmitTlsData(data)) => {
                    // Sent by `write_tls`, ahead of anything sent later.
                    data.done();
                    Ok(Step::Again)
                }
                Ok(ConnectionState::ReadTraffic(mut traffic)) => {
                    let mut outcome = Ok(Step::Again);
                    while let Some(record) = traffic.next_record() {
                        match record {
                            Ok(record) => self.plaintext.extend_from_slice(record.payload),
                            Err(e) => {
                                outcome = Err(e);
                                break;
                            }
                        }
                    }
                    outcome
                }
                Ok(ConnectionState::BlockedHandshake) => Ok(Step::NeedMore),
                Ok(ConnectionState::WriteTraffic(_)) => Ok(Step::Done),
                Ok(ConnectionState::PeerClosed | ConnectionState::Closed) => Ok(Step::PeerClosed),
                // Early data is never accepted (no `max_early_data_size`), and no other state
                // exists in this rustls.
                Ok(other) => Err(rustls::Error::General(format!(
                    "unexpected rustls state during the handshake: {other:?}"
                ))),
            };
            self.incoming.drain(..discard);
            self.fed -= discard;
            // Handed over as soon as rustls is done and has nothing left to send.
            let done =
                |conn: &UnbufferedServerConnection| !conn.is_handshaking() && !conn.wants_write();
            match outcome? {
                Step::Again if self.handshake.as_deref().is_some_and(done) => {
                    return self.hand_over()
                }
                Step::Again => {}
                Step::NeedMore if self.feed_a_record() => {}
                Step::NeedMore => return Ok(()),
                Step::Done => return self.hand_over(),
                // A client that ends at once (its Checker refused us) can send close_notify
                // with its Finished: the end of its data, after the handshake.
                Step::PeerClosed
                    if self.handshake.as_ref().is_some_and(|c| !c.is_handshaking()) =>
                {
                    self.peer_closed = true;
                    return self.hand_over();
                }
                Step::PeerClosed => {
                    return Err(rustls::Error::AlertReceived(
                        rustls::AlertDescription::CloseNotify,
                    ))
                }
            }
        }
    }

    /// Lets rustls see one more whole record, if one has been read; a header no record can
    /// have is shown as it is, for rustls to refuse with its alert.
    fn feed_a_record(&mut self) -> bool {
        match record_header(&self.incoming[self.fed..]) {
            Ok(Some((_, len))) if self.incoming.len() - self.fed >= 5 + len => {
                self.fed += 5 + len;
                true
            }
            Ok(_) => false,
            Err(_) if self.fed < self.incoming.len() => {
                self.fed = self.incoming.len();
                true
            }
            Err(_) => false,
        }
    }

    /// The handshake is done: rustls's keys go to our connection, with the bytes read past it.
    fn hand_over(&mut self) -> Result<(), rustls::Error> {
        let Some(conn) = self.handshake.take().map(|conn| *conn) else {
            return Ok(());
        };
        let session = session(&conn, self.server_name.take());
        let tls13 = conn.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_3);
        let (secrets, kernel) = conn.dangerous_into_kernel_connection()?;
        let mut traffic = match tls13 {
            true => traffic13(session, kernel, secrets)?,
            false => traffic12(session, secrets)?,
        };
        // The records read past the handshake, as if the connection had read them itself
        // (nothing after a close_notify counts). Their plaintext is taken out as it comes, so
        // that however much was read the connection never refuses the replay as unread.
        let received = std::mem::take(&mut self.incoming);
        self.fed = 0;
        let mut replay = &received[..];
        while !replay.is_empty() && !self.peer_closed {
            let n = traffic.read_tls(&mut replay).map_err(internal_io)?;
            if n == 0 || traffic.process_new_packets().is_err() {
                // An error stays with the connection, reported by the driver's next call.
                break;
            }
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = traffic.read_plaintext(&mut buf) {
                self.plaintext.extend_from_slice(&buf[..n]);
            }
        }
        if self.eof {
            // Tell it the transport ended too.
            let _ = traffic.read_tls(&mut io::empty());
        }
        self.traffic = Some(traffic);
        Ok(())
    }

    /// rustls failed: the alert it queued is encoded, the error kept.
    fn fail(&mut self, e: rustls::Error) -> Error {
        if let Some(conn) = self.handshake.as_mut() {
            // Only what rustls queued: asked again over the records, it would read the bad
            // one a second time and send a second alert.
            while conn.wants_write() {
                let status = conn.process_tls_records(&mut []);
                let Ok(ConnectionState::EncodeTlsData(mut data)) = status.state else {
                    break;
                };
                if encode(&mut self.outgoing, |out| data.encode(out)).is_err() {
                    break;
                }
            }
        }
        self.handshake = None;
        self.incoming = Vec::new();
        self.fed = 0;
        self.failure = Some(e.clone());
        Error::from(e)
    }
}

// The connections are built apart from `hand_over`, each in a frame of its own: built in
// place, their several kilobytes were copied often enough in a debug build to overflow a
// 128 KiB thread stack.

#[inline(never)]
fn traffic13(
    session: Session,
    rustls: KernelConnection<ServerConnectionData>,
    secrets: ExtractedSecrets,
) -> Result<Box<dyn Engine>, rustls::Error> {
    let handshake = AfterRustls13 {
        session,
        rustls,
        keys: Some((secrets.rx, secrets.tx)),
    };
    let connection = Tls13Connection::new(handshake).map_err(internal)?;
    Ok(Box::new(connection))
}

#[inline(never)]
fn traffic12(
    session: Session,
    secrets: ExtractedSecrets,
) -> Result<Box<dyn Engine>, rustls::Error> {
    let failed = |f: super::Failure| internal(f.to_error());
    let read = protection12(secrets.rx).map_err(failed)?;
    let write = protection12(secrets.tx).map_err(failed)?;
    let handshake = AfterRustls12 {
        session,
        protection: Some((read, write)),
    };
    let connection = Tls12Connection::new(handshake).map_err(internal)?;
    Ok(Box::new(connection))
}

fn internal(e: Error) -> rustls::Error {
    rustls::Error::General(e.to_string())
}

fn internal_io(e: io::Error) -> rustls::Error {
    internal(Error::Io(e))
}

/// What the handshake loop does next.
enum Step {
    Again,
    NeedMore,
    Done,
    PeerClosed,
}

/// Appends what `encode` writes to `out`, growing it as rustls asks.
fn encode(
    out: &mut Vec<u8>,
    mut encode: impl FnMut(&mut [u8]) -> Result<usize, EncodeError>,
) -> Result<(), rustls::Error> {
    let start = out.len();
    let mut room = READ_SIZE;
    loop {
        out.resize(start + room, 0);
        match encode(&mut out[start..]) {
            Ok(n) => {
                out.truncate(start + n);
                return Ok(());
            }
            Err(EncodeError::InsufficientSize(InsufficientSizeError { required_size })) => {
                room = required_size;
            }
            Err(e) => {
                out.truncate(start);
                return Err(rustls::Error::General(e.to_string()));
            }
        }
    }
}

impl Engine for RustlsServer {
    fn read_tls(&mut self, rd: &mut dyn io::Read) -> io::Result<usize> {
        if self.eof || self.failure.is_some() || self.peer_closed {
            // Nothing after close_notify counts (RFC 8446 §6.1).
            return Ok(0);
        }
        if let Some(traffic) = &mut self.traffic {
            return traffic.read_tls(rd);
        }
        if self.incoming.len() >= MAX_UNPROCESSED {
            return Err(io::Error::other(
                "received handshake records are not being processed",
            ));
        }
        let start = self.incoming.len();
        self.incoming.resize(start + READ_SIZE, 0);
        let read = rd.read(&mut self.incoming[start..]);
        self.incoming.truncate(start + *read.as_ref().unwrap_or(&0));
        let n = read?;
        if n == 0 {
            self.eof = true;
        }
        Ok(n)
    }

    fn write_tls(&mut self, wr: &mut dyn io::Write) -> io::Result<usize> {
        if !self.outgoing.is_empty() {
            let n = wr.write(&self.outgoing)?;
            self.outgoing.drain(..n);
            if self.outgoing.is_empty() {
                self.outgoing = Vec::new();
            }
            return Ok(n);
        }
        match &mut self.traffic {
            Some(traffic) => traffic.write_tls(wr),
            None => Ok(0),
        }
    }

    fn process_new_packets(&mut self) -> Result<(), Error> {
        if let Some(e) = &self.failure {
            return Err(Error::from(e.clone()));
        }
        if self.handshake.is_some() {
            if let Err(e) = self.handshake() {
                return Err(self.fail(e));
            }
        }
        match &mut self.traffic {
            Some(traffic) => traffic.process_new_packets(),
            None => Ok(()),
        }
    }

    fn is_handshaking(&self) -> bool {
        self.traffic.is_none()
    }

    fn wants_write(&self) -> bool {
        !self.outgoing.is_empty() || self.traffic.as_ref().is_some_and(|t| t.wants_write())
    }

    fn wants_read(&self) -> bool {
        if !self.plaintext.is_empty() || self.peer_closed {
            return false;
        }
        match &self.traffic {
            Some(traffic) => traffic.wants_read(),
            None => !self.eof && self.failure.is_none(),
        }
    }

    fn read_plaintext(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.plaintext.is_empty() {
            let n = buf.len().min(self.plaintext.len());
            buf[..n].copy_from_slice(&self.plaintext[..n]);
            self.plaintext.drain(..n);
            if self.plaintext.is_empty() {
                self.plaintext = Vec::new();
            }
            return Ok(n);
        }
        match &mut self.traffic {
            Some(_) if self.peer_closed => Ok(0),
            Some(traffic) => traffic.read_plaintext(buf),
            None if self.eof => Err(io::ErrorKind::UnexpectedEof.into()),
            None => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    fn write_plaintext(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.traffic {
            Some(traffic) => traffic.write_plaintext(buf),
            None => Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "the handshake has not finished",
            )),
        }
    }

    fn send_close_notify(&mut self) {
        // During the handshake rustls's unbuffered connection has no way to send it: the
        // driver closes the transport instead.
        if let Some(traffic) = &mut self.traffic {
            traffic.send_close_notify();
        }
    }

    fn session(&self) -> Session {
        match &self.traffic {
            Some(traffic) => traffic.session(),
            None => crate::session::NO_SESSION.clone(),
        }
    }
}

#[cfg(test)]
mod tests;
