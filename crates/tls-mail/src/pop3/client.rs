//! The POP3 client: connect (implicit TLS or STLS), authenticate, read and delete mail.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use base64::Engine as _;
use md5::{Digest, Md5};
use tls::{ClientConfig, TlsStream};

use super::parse;
use super::wire::{Body, Wire, MIN_LINE};
use super::Error;
use crate::security::{tcp, with_timeouts};
use crate::{Security, DEFAULT_TIMEOUT};

/// The default cap on one line. RFC 5322 lines stay under 1000 bytes; this leaves room for
/// sloppy mail while keeping a hostile server from filling memory with one endless line.
/// Message bodies are not bound by it: their lines stream through in pieces of this size.
pub const DEFAULT_MAX_LINE: usize = 64 * 1024;

/// The default cap on the entries of a LIST or UIDL listing: generous for any real mailbox,
/// yet a server cannot grow the list without end.
pub const DEFAULT_MAX_LISTING: usize = 1_000_000;

/// The cap on CAPA lines (RFC 2449 servers send a dozen or so).
const MAX_CAPA_LINES: usize = 1000;

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
/// Checker all come from there).
#[derive(Clone, Debug)]
pub struct Pop3Builder {
    tls: ClientConfig,
    security: Security,
    timeout: Duration,
    max_line: usize,
    max_listing: usize,
}

impl Pop3Builder {
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
        let mut wire = Wire::new(tls, self.max_line);
        let greeting = match plain_greeting {
            Some(greeting) => greeting,
            None => wire.status("greeting")?,
        };
        let mut client = Pop3Client {
            wire,
            greeting,
            capabilities: Vec::new(),
            max_listing: self.max_listing,
        };
        client.capa()?;
        Ok(client)
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
        if self.security == Security::Implicit {
            return Ok((sock, None));
        }
        let mut wire = Wire::new(Plain(BufReader::new(sock)), self.max_line);
        let greeting = wire.status("greeting")?;
        // RFC 2595: STLS is announced in CAPA. A server without CAPA may still know STLS.
        let offered = match wire.command("CAPA") {
            Ok(_) => {
                let mut stls = false;
                wire.body(CAPA, |line| {
                    stls |= parse::words(line)
                        .first()
                        .is_some_and(|w| w.eq_ignore_ascii_case(b"STLS"));
                    Ok(())
                })?;
                stls
            }
            Err(Error::Server { .. }) => true,
            Err(e) => return Err(e),
        };
        if !offered {
            let _ = wire.command("QUIT");
            return Err(Error::StlsUnavailable(
                "STLS is not in its CAPA list".into(),
            ));
        }
        match wire.command("STLS") {
            Ok(_) => {}
            Err(Error::Server { message, .. }) => return Err(Error::StlsUnavailable(message)),
            Err(e) => return Err(e),
        }
        let reader = wire.stream.0;
        if !reader.buffer().is_empty() {
            return Err(Error::PlaintextAfterStls);
        }
        Ok((reader.into_inner(), Some(greeting)))
    }
}

/// The plaintext socket before STLS, buffered for line reads.
struct Plain(BufReader<TcpStream>);

impl Read for Plain {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl BufRead for Plain {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.0.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.0.consume(amount)
    }
}

impl Write for Plain {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.get_mut().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.get_mut().flush()
    }
}

/// A POP3 session over TLS. Every method sends one command and reads its whole reply;
/// `-ERR` comes back as [`Error::Server`] with the server's text.
///
/// The connection is TLS before any method can run, so credentials never go in the clear.
pub struct Pop3Client {
    wire: Wire<TlsStream<TcpStream>>,
    greeting: String,
    capabilities: Vec<String>,
    max_listing: usize,
}

impl std::fmt::Debug for Pop3Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pop3Client")
            .field("greeting", &self.greeting)
            .field("capabilities", &self.capabilities)
            .finish_non_exhaustive()
    }
}

impl Pop3Client {
    /// Starts a builder with this TLS configuration: implicit TLS, [`DEFAULT_TIMEOUT`].
    pub fn builder(tls: ClientConfig) -> Pop3Builder {
        Pop3Builder {
            tls,
            security: Security::Implicit,
            timeout: DEFAULT_TIMEOUT,
            max_line: DEFAULT_MAX_LINE,
            max_listing: DEFAULT_MAX_LISTING,
        }
    }

    /// The TLS session: version, suite, the server's fingerprints, SRP user name…
    pub fn tls_session(&self) -> &tls::Session {
        self.wire.stream.session()
    }

    /// The server's greeting (the text after `+OK`). With [`Security::StartTls`] this is the
    /// plaintext greeting from before STLS, which an attacker on the path could have changed
    /// (the server sends no second one over TLS); the APOP timestamp comes from it too.
    pub fn greeting(&self) -> &str {
        &self.greeting
    }

    /// The CAPA lines from the last [`capa`](Self::capa) (empty if the server has no CAPA).
    pub fn capabilities(&self) -> &[String] {
        &self.capabilities
    }

    /// Whether a CAPA line starts with `name` (`"TOP"`, `"UIDL"`, `"SASL"`…), in any case.
    pub fn has_capability(&self, name: &str) -> bool {
        self.capabilities.iter().any(|line| {
            line.split_whitespace()
                .next()
                .is_some_and(|w| w.eq_ignore_ascii_case(name))
        })
    }

    /// Asks for the capabilities again (RFC 2449); they change after login.
    pub fn capa(&mut self) -> Result<&[String], Error> {
        self.capabilities.clear();
        match self.wire.command("CAPA") {
            Ok(_) => {}
            Err(Error::Server { .. }) => return Ok(&self.capabilities),
            Err(e) => return Err(e),
        }
        let mut lines = Vec::new();
        self.wire.body(CAPA, |line| {
            lines.push(String::from_utf8_lossy(line).trim_end().to_owned());
            Ok(())
        })?;
        self.capabilities = lines;
        Ok(&self.capabilities)
    }

    /// USER and PASS.
    pub fn login(&mut self, user: &str, password: &str) -> Result<(), Error> {
        // Both checked before either is sent.
        let (user, password) = (user_arg(user)?, arg(password, "password")?);
        self.wire.command(&format!("USER {user}"))?;
        self.wire.command(&format!("PASS {password}"))?;
        Ok(())
    }

    /// APOP: the password never crosses the wire, only MD5(timestamp + password).
    pub fn apop(&mut self, user: &str, password: &str) -> Result<(), Error> {
        let stamp =
            parse::apop_timestamp(self.greeting.as_bytes()).ok_or(Error::NoApopTimestamp)?;
        let mut md5 = Md5::new();
        md5.update(stamp);
        md5.update(arg(password, "password")?.as_bytes());
        let digest: String = md5.finalize().iter().map(|b| format!("{b:02x}")).collect();
        self.wire
            .command(&format!("APOP {} {digest}", user_arg(user)?))?;
        Ok(())
    }

    /// AUTH PLAIN (RFC 5034) with the initial response on the command line.
    pub fn auth_plain(&mut self, user: &str, password: &str) -> Result<(), Error> {
        let token = format!("\0{}\0{}", arg(user, "user")?, arg(password, "password")?);
        let encoded = base64::engine::general_purpose::STANDARD.encode(token);
        self.wire.command(&format!("AUTH PLAIN {encoded}"))?;
        Ok(())
    }

    /// STAT: message count and total size.
    pub fn stat(&mut self) -> Result<Stat, Error> {
        let (count, size) = self.numbers("STAT")?;
        Ok(Stat { count, size })
    }

    /// LIST: every message's number and size.
    pub fn list(&mut self) -> Result<Vec<ListEntry>, Error> {
        self.listing("LIST", |line| {
            let (number, size) = parse::number_and_size(line)?;
            Some(ListEntry { number, size })
        })
    }

    /// LIST for one message.
    pub fn list_one(&mut self, number: u32) -> Result<ListEntry, Error> {
        let (number, size) = self.numbers(&format!("LIST {number}"))?;
        Ok(ListEntry { number, size })
    }

    /// UIDL: every message's unique id.
    pub fn uidl(&mut self) -> Result<Vec<UidEntry>, Error> {
        self.listing("UIDL", |line| {
            let (number, uid) = parse::number_and_uid(line)?;
            let uid = String::from_utf8_lossy(uid).into_owned();
            Some(UidEntry { number, uid })
        })
    }

    /// RETR: streams message `number` into `out`, line by line, dot-stuffing removed and CRLF
    /// kept. Memory use stays at one line, or one piece of [`Pop3Builder::max_line_length`]
    /// bytes for longer lines, however large the message. Returns the bytes written.
    ///
    /// If `out` fails, the rest of the message is still read (and dropped) before the
    /// writer's [`Error::Io`] comes back, so the client stays usable. If the connection
    /// fails mid-message, later commands return [`Error::Broken`].
    pub fn retr_to(&mut self, number: u32, out: &mut impl Write) -> Result<u64, Error> {
        self.body_to(&format!("RETR {number}"), out)
    }

    /// RETR into memory (see [`retr_to`](Self::retr_to) for large messages).
    pub fn retr(&mut self, number: u32) -> Result<Vec<u8>, Error> {
        let mut message = Vec::new();
        self.retr_to(number, &mut message)?;
        Ok(message)
    }

    /// TOP: the headers and the first `lines` body lines of message `number`, into `out`.
    pub fn top_to(&mut self, number: u32, lines: u32, out: &mut impl Write) -> Result<u64, Error> {
        self.body_to(&format!("TOP {number} {lines}"), out)
    }

    /// TOP into memory.
    pub fn top(&mut self, number: u32, lines: u32) -> Result<Vec<u8>, Error> {
        let mut head = Vec::new();
        self.top_to(number, lines, &mut head)?;
        Ok(head)
    }

    /// DELE: marks message `number` deleted; the server removes it at [`quit`](Self::quit).
    pub fn dele(&mut self, number: u32) -> Result<(), Error> {
        self.wire.command(&format!("DELE {number}")).map(drop)
    }

    /// RSET: unmarks every message marked deleted in this session.
    pub fn rset(&mut self) -> Result<(), Error> {
        self.wire.command("RSET").map(drop)
    }

    /// NOOP: keeps the session alive.
    pub fn noop(&mut self) -> Result<(), Error> {
        self.wire.command("NOOP").map(drop)
    }

    /// QUIT: the server commits deletions and answers `+OK`; then TLS is closed with
    /// close_notify (best effort: the server may hang up first).
    pub fn quit(mut self) -> Result<(), Error> {
        self.wire.command("QUIT")?;
        let _ = self.wire.stream.close();
        Ok(())
    }

    /// The `number size` pair in a one-line reply (STAT, LIST with an argument).
    fn numbers(&mut self, command: &str) -> Result<(u32, u64), Error> {
        let text = self.wire.command(command)?;
        parse::number_and_size(text.as_bytes()).ok_or_else(|| {
            let verb = command.split(' ').next().unwrap_or_default();
            Error::malformed(&format!("{verb} reply"), text.as_bytes())
        })
    }

    /// A multi-line listing, one entry per line; a line `entry` cannot read is malformed.
    fn listing<T>(
        &mut self,
        command: &str,
        entry: impl Fn(&[u8]) -> Option<T>,
    ) -> Result<Vec<T>, Error> {
        self.wire.command(command)?;
        let mut entries = Vec::new();
        let kind = Body::Listing {
            max_lines: self.max_listing,
        };
        self.wire.body(kind, |line| {
            let parsed =
                entry(line).ok_or_else(|| Error::malformed(&format!("{command} line"), line))?;
            entries.push(parsed);
            Ok(())
        })?;
        Ok(entries)
    }

    fn body_to(&mut self, command: &str, out: &mut impl Write) -> Result<u64, Error> {
        self.wire.command(command)?;
        let mut written = 0u64;
        // A writer error still reads the message to its end (in `body`), so the next command
        // gets its own reply.
        self.wire.body(Body::Message, |data| {
            out.write_all(data).map_err(Error::Io)?;
            written += data.len() as u64;
            Ok(())
        })?;
        out.flush().map_err(Error::Io)?;
        Ok(written)
    }
}

/// CAPA before and after TLS.
const CAPA: Body = Body::Listing {
    max_lines: MAX_CAPA_LINES,
};

/// An argument for a command line: no CR or LF (they would end the command and start another)
/// and no NUL (it separates the fields of AUTH PLAIN).
fn arg<'a>(value: &'a str, what: &'static str) -> Result<&'a str, Error> {
    if value.is_empty() || value.contains(['\r', '\n', '\0']) {
        return Err(Error::InvalidArgument(what));
    }
    Ok(value)
}

/// A user name for USER and APOP, where a space would split it into two arguments.
fn user_arg(user: &str) -> Result<&str, Error> {
    if user.contains(|c: char| c.is_ascii_whitespace()) {
        return Err(Error::InvalidArgument("user"));
    }
    arg(user, "user")
}
