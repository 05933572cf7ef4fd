//! The POP3 client: connect (implicit TLS or STLS), authenticate, read and delete mail.

use std::io::{BufReader, Write};
use std::marker::PhantomData;
use std::net::TcpStream;
use std::time::Duration;

use tls::{ClientConfig, TlsStream};

use super::session::{self, Session};
use super::wire::{Wire, MIN_LINE};
use super::Error;
use crate::line_stream::{ready, BlockingSink, Plain};
use crate::security::{tcp, with_timeouts};
use crate::{Security, DEFAULT_TIMEOUT};

/// The default cap on one line. RFC 5322 lines stay under 1000 bytes; this leaves room for
/// sloppy mail while keeping a hostile server from filling memory with one endless line.
/// Message bodies are not bound by it: their lines stream through in pieces of this size.
pub const DEFAULT_MAX_LINE: usize = 64 * 1024;

/// The default cap on the entries of a LIST or UIDL listing: generous for any real mailbox,
/// yet a server cannot grow the list without end.
pub const DEFAULT_MAX_LISTING: usize = 1_000_000;

/// The mailbox size from STAT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    /// Messages in the mailbox (not counting those marked deleted).
    pub count: u32,
    /// Their total size in octets.
    pub size: u64,
}

/// One line of a LIST scan listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListEntry {
    /// The message number (1-based, stable for the session).
    pub number: u32,
    /// Its size in octets, as the server counts them (with CRLF line ends).
    pub size: u64,
}

/// One line of a UIDL listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UidEntry {
    /// The message number.
    pub number: u32,
    /// The server's unique id for the message, stable across sessions.
    pub uid: String,
}

/// Builds a [`Pop3Client`] from a [`tls::ClientConfig`] (roots, pin, SRP, client certificate,
/// Checker all come from there), or from [`AsyncPop3Client::builder`](super::AsyncPop3Client::builder)
/// the tokio client: `connect` gives the type the builder was started from.
pub struct Pop3Builder<C = Pop3Client> {
    pub(crate) tls: ClientConfig,
    pub(crate) security: Security,
    pub(crate) timeout: Duration,
    pub(crate) max_line: usize,
    pub(crate) max_listing: usize,
    connects: PhantomData<fn() -> C>,
}

// By hand: derived ones would ask the client type to be Clone and Debug too.
impl<C> Clone for Pop3Builder<C> {
    fn clone(&self) -> Self {
        Self {
            tls: self.tls.clone(),
            connects: PhantomData,
            ..*self
        }
    }
}

impl<C> std::fmt::Debug for Pop3Builder<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pop3Builder")
            .field("tls", &self.tls)
            .field("security", &self.security)
            .field("timeout", &self.timeout)
            .field("max_line", &self.max_line)
            .field("max_listing", &self.max_listing)
            .finish()
    }
}

impl<C> Pop3Builder<C> {
    /// A builder with this TLS configuration: implicit TLS, [`DEFAULT_TIMEOUT`].
    pub(crate) fn new(tls: ClientConfig) -> Self {
        Self {
            tls,
            security: Security::Implicit,
            timeout: DEFAULT_TIMEOUT,
            max_line: DEFAULT_MAX_LINE,
            max_listing: DEFAULT_MAX_LISTING,
            connects: PhantomData,
        }
    }

    /// Implicit TLS (port 995) or STLS on a plaintext connection (port 110).
    pub fn security(mut self, security: Security) -> Self {
        self.security = security;
        self
    }

    /// The connect, read and write timeout ([`DEFAULT_TIMEOUT`] unless set).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The longest status or listing line accepted from the server ([`DEFAULT_MAX_LINE`]
    /// unless set; values under 64 count as 64). Message lines of any length stream through
    /// RETR and TOP in pieces of this size.
    pub fn max_line_length(mut self, bytes: usize) -> Self {
        self.max_line = bytes.max(MIN_LINE);
        self
    }

    /// The most entries accepted in a LIST or UIDL listing ([`DEFAULT_MAX_LISTING`] unless
    /// set); a longer one is [`Error::TooManyLines`].
    pub fn max_listing(mut self, entries: usize) -> Self {
        self.max_listing = entries;
        self
    }

    /// The same settings, building the other client.
    pub(crate) fn retarget<D>(self) -> Pop3Builder<D> {
        Pop3Builder {
            tls: self.tls,
            security: self.security,
            timeout: self.timeout,
            max_line: self.max_line,
            max_listing: self.max_listing,
            connects: PhantomData,
        }
    }

    /// Trust on first use: connects (and runs STLS if asked), records the server's certificate
    /// without judging it, and closes before any POP3 command goes over TLS. Show the
    /// fingerprints to a person, then pin one. The builder's TLS configuration is not used.
    pub fn probe(&self, host: &str, port: u16) -> Result<tls::Session, Error> {
        let sock = tcp(host, port, self.timeout).map_err(Error::Io)?;
        let (sock, _) = self.before_tls(sock)?;
        Ok(tls::dangerous::probe(
            host,
            sock,
            &tls::HandshakeSettings::default(),
        )?)
    }

    /// For STLS, the plaintext part (greeting, CAPA, STLS) up to the handshake, with the
    /// greeting; for implicit TLS, nothing.
    fn before_tls(&self, sock: TcpStream) -> Result<(TcpStream, Option<String>), Error> {
        if !self.security.starts_in_plaintext() {
            return Ok((sock, None));
        }
        let mut wire = Wire::new(Plain(BufReader::new(sock)), self.max_line);
        let greeting = ready(session::stls(&mut wire))?;
        let tcp =
            tls::adapter::unbuffered(wire.stream.0).map_err(|_| Error::PlaintextAfterStartTls)?;
        Ok((tcp, Some(greeting)))
    }
}

impl Pop3Builder<Pop3Client> {
    /// Connects to `host:port`, runs STLS if asked, the TLS handshake, and CAPA.
    pub fn connect(&self, host: &str, port: u16) -> Result<Pop3Client, Error> {
        let sock = tcp(host, port, self.timeout).map_err(Error::Io)?;
        self.connect_stream(host, sock)
    }

    /// Like [`connect`](Self::connect) on a socket the caller opened (its timeouts are set
    /// here). `host` is the name the certificate must carry.
    pub fn connect_stream(&self, host: &str, sock: TcpStream) -> Result<Pop3Client, Error> {
        with_timeouts(&sock, self.timeout).map_err(Error::Io)?;
        let (sock, plain_greeting) = self.before_tls(sock)?;
        let tls = self.tls.connect(host, sock)?;
        let wire = Wire::new(tls, self.max_line);
        let session = ready(Session::open(wire, plain_greeting, self.max_listing))?;
        Ok(Pop3Client { session })
    }
}

/// A POP3 session over TLS. Every method sends one command and reads its whole reply;
/// `-ERR` comes back as [`Error::Server`] with the server's text.
///
/// The connection is TLS before any method can run, so credentials never go in the clear.
pub struct Pop3Client {
    session: Session<TlsStream<TcpStream>>,
}

impl std::fmt::Debug for Pop3Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.session.fmt(f)
    }
}

impl Pop3Client {
    /// Starts a builder with this TLS configuration: implicit TLS, [`DEFAULT_TIMEOUT`].
    pub fn builder(tls: ClientConfig) -> Pop3Builder {
        Pop3Builder::new(tls)
    }

    /// The TLS session: version, suite, the server's fingerprints, SRP user name…
    pub fn tls_session(&self) -> &tls::Session {
        self.session.wire.stream.session()
    }

    /// Asks for the capabilities again (RFC 2449); they change after login.
    pub fn capa(&mut self) -> Result<&[String], Error> {
        ready(self.session.capa())
    }

    /// USER and PASS.
    pub fn login(&mut self, user: &str, password: &str) -> Result<(), Error> {
        ready(self.session.login(user, password))
    }

    /// APOP: the password never crosses the wire, only MD5(timestamp + password).
    pub fn apop(&mut self, user: &str, password: &str) -> Result<(), Error> {
        ready(self.session.apop(user, password))
    }

    /// AUTH PLAIN (RFC 5034) with the initial response on the command line.
    pub fn auth_plain(&mut self, user: &str, password: &str) -> Result<(), Error> {
        ready(self.session.auth_plain(user, password))
    }

    /// STAT: message count and total size.
    pub fn stat(&mut self) -> Result<Stat, Error> {
        ready(self.session.stat())
    }

    /// LIST: every message's number and size.
    pub fn list(&mut self) -> Result<Vec<ListEntry>, Error> {
        ready(self.session.list())
    }

    /// LIST for one message.
    pub fn list_one(&mut self, number: u32) -> Result<ListEntry, Error> {
        ready(self.session.list_one(number))
    }

    /// UIDL: every message's unique id.
    pub fn uidl(&mut self) -> Result<Vec<UidEntry>, Error> {
        ready(self.session.uidl())
    }

    /// RETR: streams message `number` into `out`, line by line, dot-stuffing removed and CRLF
    /// kept. Memory use stays at one line, or one piece of [`Pop3Builder::max_line_length`]
    /// bytes for longer lines, however large the message. Returns the bytes written.
    ///
    /// If `out` fails, the rest of the message is still read (and dropped) before the
    /// writer's [`Error::Io`] comes back, so the client stays usable. If the connection
    /// fails mid-message, later commands return [`Error::ConnectionBroken`].
    pub fn retr_to(&mut self, number: u32, out: &mut impl Write) -> Result<u64, Error> {
        ready(
            self.session
                .body_to(&format!("RETR {number}"), &mut BlockingSink(out)),
        )
    }

    /// RETR into memory (see [`retr_to`](Self::retr_to) for large messages).
    pub fn retr(&mut self, number: u32) -> Result<Vec<u8>, Error> {
        let mut message = Vec::new();
        self.retr_to(number, &mut message)?;
        Ok(message)
    }

    /// TOP: the headers and the first `lines` body lines of message `number`, into `out`.
    pub fn top_to(&mut self, number: u32, lines: u32, out: &mut impl Write) -> Result<u64, Error> {
        let command = format!("TOP {number} {lines}");
        ready(self.session.body_to(&command, &mut BlockingSink(out)))
    }

    /// TOP into memory.
    pub fn top(&mut self, number: u32, lines: u32) -> Result<Vec<u8>, Error> {
        let mut head = Vec::new();
        self.top_to(number, lines, &mut head)?;
        Ok(head)
    }

    /// DELE: marks message `number` deleted; the server removes it at [`quit`](Self::quit).
    pub fn dele(&mut self, number: u32) -> Result<(), Error> {
        ready(self.session.simple(&format!("DELE {number}")))
    }

    /// RSET: unmarks every message marked deleted in this session.
    pub fn rset(&mut self) -> Result<(), Error> {
        ready(self.session.simple("RSET"))
    }

    /// NOOP: keeps the session alive.
    pub fn noop(&mut self) -> Result<(), Error> {
        ready(self.session.simple("NOOP"))
    }

    /// QUIT: the server commits deletions and answers `+OK`; then TLS is closed with
    /// close_notify (best effort: the server may hang up first).
    pub fn quit(mut self) -> Result<(), Error> {
        ready(self.session.simple("QUIT"))?;
        let _ = self.session.wire.stream.close();
        Ok(())
    }

    crate::pop3::session::session_accessors!();
}
