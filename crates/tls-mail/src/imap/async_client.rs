//! The tokio IMAP client: async-imap over our tokio TLS stream, with the same STARTTLS steps,
//! response cap and timeouts as [`ImapClient`](super::ImapClient).

use std::ops::{Deref, DerefMut};

use tokio::io::BufReader;
use tokio::net::TcpStream;

use super::auth::PlainAuth;
use super::{starttls, Error, ImapBuilder, ImapStream};
use crate::line_stream::TimedStream;

/// The stream under the tokio client: TLS, a deadline on every wait, the response cap.
pub type AsyncImapStream = ImapStream<tls::adapter::Deadline<tls::tokio::TlsStream<TcpStream>>>;

impl ImapBuilder<AsyncImapClient> {
    /// Connects to `host:port` (async-imap), runs STARTTLS if asked, the TLS handshake, and
    /// reads the greeting. Every later read and write keeps the builder's timeout, and each
    /// response the cap.
    pub async fn connect(&self, host: &str, port: u16) -> Result<AsyncImapClient, Error> {
        let timeout = self.timeout;
        let tcp = tls::adapter::connect(host, port, timeout)
            .await
            .map_err(Error::Io)?;
        let (tcp, plain_greeting) = if self.security.starts_in_plaintext() {
            let mut plain = TimedStream {
                stream: BufReader::new(tcp),
                timeout,
            };
            let greeting = starttls::starttls(&mut plain).await?;
            let tcp = tls::adapter::unbuffered_async(plain.stream)
                .map_err(|_| Error::PlaintextAfterStartTls)?;
            (tcp, Some(greeting))
        } else {
            (tcp, None)
        };
        let tls = tls::adapter::handshake(&self.tls, host, tcp, timeout).await?;
        let session = tls.session().clone();
        let stream = tls::adapter::Deadline::new(tls, timeout);
        let mut client = async_imap::Client::new(ImapStream::new(stream, self.max_response));
        let greeting = match plain_greeting {
            // The greeting came before STARTTLS; the server sends none after the handshake.
            Some(greeting) => greeting,
            None => match client.read_response().await {
                Ok(Some(response)) => starttls::check_greeting(response.borrow_owner(), true)?,
                Ok(None) => return Err(Error::ConnectionClosed),
                Err(e) => return Err(Error::from(async_imap::error::Error::Io(e))),
            },
        };
        Ok(AsyncImapClient {
            client,
            session,
            greeting,
        })
    }
}

impl From<ImapBuilder> for ImapBuilder<AsyncImapClient> {
    /// The same settings, for the tokio client.
    fn from(blocking: ImapBuilder) -> Self {
        blocking.retarget()
    }
}

/// An IMAP connection over TLS on tokio, not yet authenticated: the async twin of
/// [`ImapClient`](super::ImapClient), on async-imap, made by the same builder started here.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use tls_mail::imap::TryStreamExt; // re-exported: no futures-util of your own
///
/// let pin = "sha256:90:60:...".parse()?;
/// let config = tls::ClientConfig::builder().server_auth(tls::ServerAuth::Fingerprint(pin)).build()?;
/// let imap = tls_mail::imap::AsyncImapClient::builder(config)
///     .connect("mail.example.org", 993)
///     .await?;
/// let mut session = imap.login("alice", "secret").await?; // derefs to async_imap::Session
/// session.select("INBOX").await?;
/// let fetched: Vec<_> = session.fetch("1", "RFC822").await?.try_collect().await?;
/// session.logout().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct AsyncImapClient {
    client: async_imap::Client<AsyncImapStream>,
    session: tls::Session,
    greeting: String,
}

impl AsyncImapClient {
    /// Starts a builder with this TLS configuration (implicit TLS,
    /// [`DEFAULT_TIMEOUT`](crate::DEFAULT_TIMEOUT)), the settings of
    /// [`ImapClient::builder`](super::ImapClient::builder); its `connect` is async.
    pub fn builder(tls: tls::ClientConfig) -> ImapBuilder<Self> {
        ImapBuilder::new(tls)
    }

    /// The TLS session: version, suite, the server's fingerprints, SRP user name…
    pub fn tls_session(&self) -> &tls::Session {
        &self.session
    }

    /// The server's greeting line (see [`ImapClient::greeting`](super::ImapClient::greeting)
    /// for what it is worth after STARTTLS).
    pub fn greeting(&self) -> &str {
        &self.greeting
    }

    /// LOGIN (async-imap quotes the arguments).
    pub async fn login(self, user: &str, password: &str) -> Result<AsyncImapSession, Error> {
        let session = self
            .client
            .login(user, password)
            .await
            .map_err(|(e, _)| e)?;
        Ok(AsyncImapSession {
            session,
            tls: self.session,
        })
    }

    /// AUTHENTICATE PLAIN (RFC 4616).
    pub async fn authenticate_plain(
        self,
        user: &str,
        password: &str,
    ) -> Result<AsyncImapSession, Error> {
        let plain = PlainAuth { user, password };
        let session = self
            .client
            .authenticate("PLAIN", plain)
            .await
            .map_err(|(e, _)| e)?;
        Ok(AsyncImapSession {
            session,
            tls: self.session,
        })
    }

    /// async-imap's client, for what this type does not wrap.
    pub fn into_inner(self) -> async_imap::Client<AsyncImapStream> {
        self.client
    }
}

/// An authenticated IMAP session on tokio: derefs to [`async_imap::Session`], so SELECT,
/// SEARCH, FETCH, APPEND, STORE, EXPUNGE and LOGOUT are async-imap's own methods. Their
/// errors are async-imap's; [`Error::from`] sorts out a response over the cap.
#[derive(Debug)]
pub struct AsyncImapSession {
    session: async_imap::Session<AsyncImapStream>,
    tls: tls::Session,
}

impl AsyncImapSession {
    /// The TLS session of the connection.
    pub fn tls_session(&self) -> &tls::Session {
        &self.tls
    }

    /// async-imap's session.
    pub fn into_inner(self) -> async_imap::Session<AsyncImapStream> {
        self.session
    }
}

impl Deref for AsyncImapSession {
    type Target = async_imap::Session<AsyncImapStream>;

    fn deref(&self) -> &Self::Target {
        &self.session
    }
}

impl DerefMut for AsyncImapSession {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.session
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 28: `AsyncImapClient::builder` connects to an `AsyncImapClient`, and a blocking
    /// builder's settings carry over.
    #[test]
    fn the_builder_gives_the_type_it_was_started_from() {
        let tls = tls::ClientConfig::builder().build().unwrap();
        let builder = AsyncImapClient::builder(tls.clone()).max_response(4096);
        let connecting = builder.connect("localhost", 0);
        let _: &dyn std::future::Future<Output = Result<AsyncImapClient, Error>> = &connecting;
        let blocking = super::super::ImapClient::builder(tls).max_response(9);
        let converted = ImapBuilder::<AsyncImapClient>::from(blocking);
        assert_eq!(converted.max_response, 9);
        assert_eq!(builder.max_response, 4096);
    }
}
