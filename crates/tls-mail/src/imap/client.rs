//! `imap::Client` over our TLS stream: implicit TLS (993) or STARTTLS (143), then LOGIN or
//! AUTHENTICATE PLAIN.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::ops::{Deref, DerefMut};
use std::time::Duration;

use tls::ClientConfig;

use super::auth::Plain;
use super::{Error, ImapStream, DEFAULT_MAX_RESPONSE};
use crate::security::{tcp, with_timeouts};
use crate::{Security, DEFAULT_TIMEOUT};

/// The tag of our one plaintext command; the `imap` crate numbers its own from `a1`.
const STARTTLS_TAG: &str = "a0";

/// Cap on a plaintext line (greeting, capability and STARTTLS replies are short).
const MAX_PLAIN_LINE: usize = 8 * 1024;

/// Cap on untagged lines before the tagged reply to STARTTLS.
const MAX_UNTAGGED: usize = 100;

/// Builds an [`ImapClient`] from a [`tls::ClientConfig`] (roots, pin, SRP, client certificate,
/// Checker all come from there).
#[derive(Clone, Debug)]
pub struct ImapBuilder {
    tls: ClientConfig,
    security: Security,
    timeout: Duration,
    max_response: u64,
}

impl ImapBuilder {
    /// Implicit TLS (port 993) or STARTTLS on a plaintext connection (port 143).
    pub fn security(mut self, security: Security) -> Self {
        self.security = security;
        self
    }

    /// The connect, read and write timeout ([`DEFAULT_TIMEOUT`] unless set).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The most bytes the server may send in reply to one command, untagged lines and
    /// literals included ([`DEFAULT_MAX_RESPONSE`] unless set). The `imap` crate holds a whole
    /// response in memory, so this bounds what a server can make us buffer; a FETCH of
    /// messages larger than this fails. Past the cap, the `imap` crate's calls fail with an
    /// [`imap::Error::Io`](::imap::Error::Io) that [`Error::from`] turns into
    /// [`Error::ResponseTooLarge`]; the connection is then unusable.
    pub fn max_response(mut self, bytes: u64) -> Self {
        self.max_response = bytes;
        self
    }

    /// Connects to `host:port`, runs STARTTLS if asked, the TLS handshake, and reads the
    /// greeting.
    pub fn connect(&self, host: &str, port: u16) -> Result<ImapClient, Error> {
        let sock = tcp(host, port, self.timeout).map_err(Error::Io)?;
        self.connect_stream(host, sock)
    }

    /// Like [`connect`](Self::connect) on a socket the caller opened (its timeouts are set
    /// here). `host` is the name the certificate must carry.
    pub fn connect_stream(&self, host: &str, sock: TcpStream) -> Result<ImapClient, Error> {
        with_timeouts(&sock, self.timeout).map_err(Error::Io)?;
        let (sock, plain_greeting) = match self.security {
            Security::Implicit => (sock, None),
            Security::StartTls => {
                let (sock, greeting) = starttls(sock)?;
                (sock, Some(greeting))
            }
        };
        let tls = self.tls.connect(host, sock)?;
        let session = tls.session().clone();
        let mut client = ::imap::Client::new(ImapStream::new(tls, self.max_response));
        let greeting = match plain_greeting {
            // The greeting came before STARTTLS; the server sends none after the handshake.
            Some(greeting) => {
                client.greeting_read = true;
                greeting
            }
            None => {
                let line = client.read_greeting()?;
                check_greeting(&line, true)?
            }
        };
        Ok(ImapClient {
            client,
            session,
            greeting,
        })
    }
}

/// Reads the plaintext greeting, sends STARTTLS and waits for its tagged OK. Returns the
/// socket, positioned where the handshake starts, and the greeting.
fn starttls(sock: TcpStream) -> Result<(TcpStream, String), Error> {
    let mut reader = BufReader::new(sock);
    let greeting = check_greeting(&read_line(&mut reader)?, false)?;
    let command = format!("{STARTTLS_TAG} STARTTLS\r\n");
    reader
        .get_mut()
        .write_all(command.as_bytes())
        .map_err(Error::Io)?;
    await_tagged_ok(&mut reader)?;
    if !reader.buffer().is_empty() {
        return Err(Error::PlaintextAfterStartTls);
    }
    Ok((reader.into_inner(), greeting))
}

/// Reads past untagged lines (a CAPABILITY, say) to the tagged reply to STARTTLS: OK, or
/// the reason it was refused.
pub(crate) fn await_tagged_ok(reader: &mut impl BufRead) -> Result<(), Error> {
    let prefix = format!("{STARTTLS_TAG} ");
    // An endless stream of untagged lines is not a reply.
    for _ in 0..MAX_UNTAGGED {
        let line = read_line(reader)?;
        let text = String::from_utf8_lossy(&line).trim_end().to_owned();
        if text.starts_with("* ") {
            continue;
        }
        let Some(status) = text.strip_prefix(&prefix) else {
            return Err(Error::StartTlsRefused(format!("unexpected reply {text:?}")));
        };
        let word = status.split(' ').next().unwrap_or_default();
        if word.eq_ignore_ascii_case("OK") {
            return Ok(());
        }
        return Err(Error::StartTlsRefused(status.to_owned()));
    }
    Err(Error::StartTlsRefused("no tagged reply".into()))
}

/// One CRLF-terminated line of at most [`MAX_PLAIN_LINE`] bytes.
pub(crate) fn read_line(reader: &mut impl BufRead) -> Result<Vec<u8>, Error> {
    let mut line = Vec::new();
    let read = reader
        .by_ref()
        .take(MAX_PLAIN_LINE as u64)
        .read_until(b'\n', &mut line)
        .map_err(Error::Io)?;
    match line.last() {
        _ if read == 0 => Err(Error::ConnectionClosed),
        Some(b'\n') => Ok(line),
        _ if line.len() >= MAX_PLAIN_LINE => Err(Error::LineTooLong),
        _ => Err(Error::ConnectionClosed),
    }
}

/// Accepts `* OK …`, and `* PREAUTH …` only over TLS (a plaintext PREAUTH leaves no room for
/// STARTTLS). Returns the line without its ending.
pub(crate) fn check_greeting(line: &[u8], tls: bool) -> Result<String, Error> {
    let text = String::from_utf8_lossy(line).trim_end().to_owned();
    let upper = text.to_ascii_uppercase();
    if upper.starts_with("* OK") || (tls && upper.starts_with("* PREAUTH")) {
        Ok(text)
    } else {
        Err(Error::Greeting(text))
    }
}

/// An IMAP connection over TLS, not yet authenticated.
#[derive(Debug)]
pub struct ImapClient {
    client: ::imap::Client<ImapStream>,
    session: tls::Session,
    greeting: String,
}

impl ImapClient {
    /// Starts a builder with this TLS configuration: implicit TLS, [`DEFAULT_TIMEOUT`].
    pub fn builder(tls: ClientConfig) -> ImapBuilder {
        ImapBuilder {
            tls,
            security: Security::Implicit,
            timeout: DEFAULT_TIMEOUT,
            max_response: DEFAULT_MAX_RESPONSE,
        }
    }

    /// The TLS session: version, suite, the server's fingerprints, SRP user name…
    pub fn tls_session(&self) -> &tls::Session {
        &self.session
    }

    /// The server's greeting line. With [`Security::StartTls`] this is the plaintext greeting
    /// from before STARTTLS, which an attacker on the path could have changed (the server
    /// sends no second one over TLS): trust CAPABILITY asked over TLS instead of a
    /// `[CAPABILITY …]` in it.
    pub fn greeting(&self) -> &str {
        &self.greeting
    }

    /// CAPABILITY before login.
    pub fn capabilities(&mut self) -> Result<::imap::types::Capabilities, Error> {
        Ok(self.client.capabilities()?)
    }

    /// LOGIN (the `imap` crate quotes the arguments).
    pub fn login(self, user: &str, password: &str) -> Result<ImapSession, Error> {
        let session = self.client.login(user, password).map_err(|(e, _)| e)?;
        Ok(ImapSession {
            session,
            tls: self.session,
        })
    }

    /// AUTHENTICATE PLAIN (RFC 4616).
    pub fn authenticate_plain(self, user: &str, password: &str) -> Result<ImapSession, Error> {
        let plain = Plain { user, password };
        let session = self
            .client
            .authenticate("PLAIN", &plain)
            .map_err(|(e, _)| e)?;
        Ok(ImapSession {
            session,
            tls: self.session,
        })
    }

    /// The `imap` crate's client, for what this type does not wrap.
    pub fn into_inner(self) -> ::imap::Client<ImapStream> {
        self.client
    }
}

/// An authenticated IMAP session: derefs to [`imap::Session`](::imap::Session), so SELECT,
/// SEARCH, FETCH, APPEND, STORE, EXPUNGE and LOGOUT are the `imap` crate's own methods.
/// Their errors are the crate's; [`Error::from`] sorts out a response over the cap
/// ([`Error::ResponseTooLarge`]) and an unparsable line ([`Error::Malformed`]).
#[derive(Debug)]
pub struct ImapSession {
    session: ::imap::Session<ImapStream>,
    tls: tls::Session,
}

impl ImapSession {
    /// The TLS session of the connection.
    pub fn tls_session(&self) -> &tls::Session {
        &self.tls
    }

    /// The `imap` crate's session.
    pub fn into_inner(self) -> ::imap::Session<ImapStream> {
        self.session
    }
}

impl Deref for ImapSession {
    type Target = ::imap::Session<ImapStream>;

    fn deref(&self) -> &Self::Target {
        &self.session
    }
}

impl DerefMut for ImapSession {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.session
    }
}
