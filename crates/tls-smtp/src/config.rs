//! `SmtpTls`: where to connect, how TLS starts, who we are.

use std::marker::PhantomData;
use std::net::TcpStream;
use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::extension::ClientId;
use tls::ClientConfig;
use tls::Service;

use crate::dialogue::until_starttls;
use crate::wire::blocking::{ready, Stream};
use crate::{Error, Security, SmtpConnection};

/// An SMTP client that only ever talks to the server over TLS, authenticated the way its
/// [`tls::ClientConfig`] says: roots, a pinned fingerprint, SRP, a client certificate, a
/// [`tls::Checker`].
///
/// It is a [`lettre::Transport`]: each `send` opens a connection, sends one message and
/// quits. For several messages on one connection, or to look at the TLS session, use
/// [`connect`](Self::connect).
///
/// ```no_run
/// use lettre::{Message, Transport};
/// use tls_smtp::{Credentials, SmtpTls};
///
/// let fingerprint = "sha256:90:60:...".parse()?; // what `openssl x509 -fingerprint` prints
/// let tls = tls::ClientConfig::builder()
///     .server_auth(tls::ServerAuth::Fingerprint(fingerprint))
///     .build()?;
/// let mailer = SmtpTls::builder("mail.example.org", tls)
///     .credentials(Credentials::new("alice".into(), "secret".into()))
///     .build()?;
/// let message = Message::builder()
///     .from("alice@example.org".parse()?)
///     .to("bob@example.org".parse()?)
///     .subject("hello")
///     .body(String::from("Hello, Bob.\r\n"))?;
/// let reply = mailer.send(&message)?;
/// println!("{}", reply.code());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct SmtpTls {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) tls: ClientConfig,
    pub(crate) security: Security,
    pub(crate) credentials: Option<Credentials>,
    pub(crate) timeout: Duration,
    pub(crate) hello: ClientId,
    pub(crate) partial_delivery: bool,
}

impl SmtpTls {
    /// Starts a configuration for `host` (a DNS name or an IP address, also the name the
    /// server's certificate must carry) with STARTTLS on port 587.
    pub fn builder(host: impl Into<String>, tls: ClientConfig) -> SmtpTlsBuilder {
        SmtpTlsBuilder::new(host.into(), tls)
    }

    /// Connects: greeting, EHLO, STARTTLS (or implicit TLS), EHLO again, AUTH if credentials
    /// are set. The connection then sends any number of messages.
    pub fn connect(&self) -> Result<SmtpConnection, Error> {
        SmtpConnection::open(self)
    }

    /// Trust on first use: connects (through greeting, EHLO and STARTTLS, or straight into
    /// TLS), records the server's certificate chain without judging it, and closes before any
    /// SMTP command goes over TLS. Show the fingerprints to a person, then pin one. The
    /// configuration's TLS settings are not used: nothing is authenticated.
    ///
    /// ```no_run
    /// use tls_smtp::SmtpTls;
    ///
    /// let mailer = SmtpTls::builder("mail.example.org", tls::ClientConfig::builder().build()?)
    ///     .build()?;
    /// let session = mailer.probe()?;
    /// println!("{}", session.peer_fingerprint_sha256().unwrap());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn probe(&self) -> Result<tls::Session, Error> {
        let tcp = self.tcp()?;
        let tcp = if self.security.starts_in_plaintext() {
            let mut plain = Stream::Plain(std::io::BufReader::new(tcp));
            ready(until_starttls(&mut plain, self))?;
            plain.into_socket()?
        } else {
            tcp
        };
        let settings = tls::HandshakeSettings::default();
        Ok(tls::dangerous::probe(&self.host, tcp, &settings)?)
    }

    /// The TCP connection, with the timeouts set.
    pub(crate) fn tcp(&self) -> Result<TcpStream, Error> {
        Ok(tls::adapter::connect_blocking(
            &self.host,
            self.port,
            self.timeout,
        )?)
    }
}

/// Builds an [`SmtpTls`], or from [`AsyncSmtpTls::builder`](crate::AsyncSmtpTls::builder) an
/// [`AsyncSmtpTls`](crate::AsyncSmtpTls): [`build`](Self::build) gives the type the builder
/// was started from.
#[derive(Debug)]
pub struct SmtpTlsBuilder<T = SmtpTls> {
    config: SmtpTls,
    builds: PhantomData<fn() -> T>,
}

impl<T: From<SmtpTls>> SmtpTlsBuilder<T> {
    pub(crate) fn new(host: String, tls: ClientConfig) -> Self {
        Self {
            config: SmtpTls {
                host,
                port: 0,
                tls,
                security: Security::StartTls,
                credentials: None,
                timeout: Duration::from_secs(60),
                hello: ClientId::default(),
                partial_delivery: false,
            },
            builds: PhantomData,
        }
    }

    /// The port (default: 587 for STARTTLS, 465 for implicit TLS).
    pub fn port(mut self, port: u16) -> Self {
        self.config.port = port;
        self
    }

    /// STARTTLS (the default) or implicit TLS.
    pub fn security(mut self, security: Security) -> Self {
        self.config.security = security;
        self
    }

    /// Logs in with AUTH PLAIN or LOGIN (whichever the server offers, PLAIN first), always
    /// after TLS is up.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.config.credentials = Some(credentials);
        self
    }

    /// Timeout for connecting and for every read and write (default 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout = timeout;
        self
    }

    /// The name we give in EHLO (default `[127.0.0.1]`).
    pub fn hello_name(mut self, name: ClientId) -> Self {
        self.config.hello = name;
        self
    }

    /// When some recipients are refused: `false` (the default) sends nothing and fails with
    /// [`Error::RecipientsRefused`]; `true` sends to the others. Either way, every
    /// recipient being refused is an error.
    pub fn partial_delivery(mut self, allow: bool) -> Self {
        self.config.partial_delivery = allow;
        self
    }

    /// Checks the configuration.
    pub fn build(mut self) -> Result<T, Error> {
        let c = &mut self.config;
        if c.host.is_empty() {
            return Err(Error::Config("empty host".into()));
        }
        if c.timeout.is_zero() {
            return Err(Error::Config("a zero timeout means none at all".into()));
        }
        if let ClientId::Domain(name) = &c.hello {
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(Error::Config(format!("bad EHLO name {name:?}")));
            }
        }
        if c.port == 0 {
            c.port = c.security.default_port(Service::Submission);
        }
        Ok(T::from(self.config))
    }
}
