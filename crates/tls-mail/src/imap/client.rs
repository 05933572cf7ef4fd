//! `imap::Client` over our TLS stream: implicit TLS (993) or STARTTLS (143), then LOGIN or
//! AUTHENTICATE PLAIN.

use std::io::BufReader;
use std::marker::PhantomData;
use std::net::TcpStream;
use std::ops::{Deref, DerefMut};
use std::time::Duration;

use tls::ClientConfig;

use super::auth::PlainAuth;
use super::starttls;
use super::{Error, ImapStream, DEFAULT_MAX_RESPONSE};
use crate::line_stream::{ready, Plain};
use crate::security::{tcp, with_timeouts};
use crate::{Security, DEFAULT_TIMEOUT};

/// Builds an [`ImapClient`] from a [`tls::ClientConfig`] (roots, pin, SRP, client certificate,
/// Checker all come from there), or from `AsyncImapClient::builder` the tokio client:
/// `connect` gives the type the builder was started from.
pub struct ImapBuilder<C = ImapClient> {
    pub(crate) tls: ClientConfig,
    pub(crate) security: Security,
    pub(crate) timeout: Duration,
    pub(crate) max_response: u64,
    connects: PhantomData<fn() -> C>,
}

// By hand: derived ones would ask the client type to be Clone and Debug too.
impl<C> Clone for ImapBuilder<C> {
    fn clone(&self) -> Self {
        Self {
            tls: self.tls.clone(),
            connects: PhantomData,
            ..*self
        }
    }
}

impl<C> std::fmt::Debug for ImapBuilder<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapBuilder")
            .field("tls", &self.tls)
            .field("security", &self.security)
            .field("timeout", &self.timeout)
            .field("max_response", &self.max_response)
            .finish()
    }
}

impl<C> ImapBuilder<C> {
    /// A builder with this TLS configuration: implicit TLS, [`DEFAULT_TIMEOUT`].
    pub(crate) fn new(tls: ClientConfig) -> Self {
        Self {
            tls,
            security: Security::Implicit,
            timeout: DEFAULT_TIMEOUT,
            max_response: DEFAULT_MAX_RESPONSE,
            connects: PhantomData,
        }
    }

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

    /// The same settings, building the other client.
    pub(crate) fn retarget<D>(self) -> ImapBuilder<D> {
        ImapBuilder {
            tls: self.tls,
            security: self.security,
            timeout: self.timeout,
            max_response: self.max_response,
            connects: PhantomData,
        }
    }

    /// Trust on first use: connects (and runs STARTTLS if asked), records the server's
    /// certificate chain without judging it, and closes before any IMAP command goes over
    /// TLS. Show the fingerprints to a person, then pin one. The builder's TLS configuration
    /// is not used.
    pub fn probe(&self, host: &str, port: u16) -> Result<tls::Session, Error> {
        let sock = tcp(host, port, self.timeout).map_err(Error::Io)?;
        let (sock, _) = self.before_tls(sock)?;
        let settings = tls::HandshakeSettings::default();
        Ok(tls::dangerous::probe(host, sock, &settings)?)
    }

    /// For STARTTLS, the plaintext greeting and STARTTLS up to the handshake, with the
    /// greeting; for implicit TLS, nothing.
    fn before_tls(&self, sock: TcpStream) -> Result<(TcpStream, Option<String>), Error> {
        if !self.security.starts_in_plaintext() {
            return Ok((sock, None));
        }
        let mut plain = Plain(BufReader::new(sock));
        let greeting = ready(starttls::starttls(&mut plain))?;
        let tcp = tls::adapter::unbuffered(plain.0).map_err(|_| Error::PlaintextAfterStartTls)?;
        Ok((tcp, Some(greeting)))
    }
}

impl ImapBuilder<ImapClient> {
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
        let (sock, plain_greeting) = self.before_tls(sock)?;
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
                starttls::check_greeting(&line, true)?
            }
        };
        Ok(ImapClient {
            client,
            session,
            greeting,
        })
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
        ImapBuilder::new(tls)
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
        let plain = PlainAuth { user, password };
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
