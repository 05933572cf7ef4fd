//! The tokio SMTP client: the same [`Dialogue`] as the blocking one, over tokio's sockets.

use lettre::address::Envelope;
use lettre::transport::smtp::response::Response;

use crate::dialogue::Dialogue;
use crate::wire::tokio::AsyncStream;
use crate::{Delivery, Error, SmtpTls, SmtpTlsBuilder};

/// The async twin of [`SmtpTls`] (tokio): the same settings, the same rules, and the same
/// conversation code; a [`lettre::AsyncTransport`].
///
/// Made by the same builder as [`SmtpTls`], started here: [`AsyncSmtpTls::builder`] ends in
/// an `AsyncSmtpTls`. Every network wait (connecting, each read and write, the handshake) is bounded by the
/// builder's timeout.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use lettre::{AsyncTransport, Message};
/// use tls_smtp::{AsyncSmtpTls, Credentials};
///
/// let tls = tls::ClientConfig::builder().srp("alice", "correct horse").build()?;
/// let mailer = AsyncSmtpTls::builder("mail.example.org", tls)
///     .credentials(Credentials::new("alice".into(), "secret".into()))
///     .build()?;
/// let message = Message::builder()
///     .from("alice@example.org".parse()?)
///     .to("bob@example.org".parse()?)
///     .body(String::from("Hello, Bob.\r\n"))?;
/// mailer.send(message).await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct AsyncSmtpTls {
    config: SmtpTls,
}

impl AsyncSmtpTls {
    /// Starts a configuration for `host`, with the settings and defaults of
    /// [`SmtpTls::builder`]; [`build`](SmtpTlsBuilder::build) gives an `AsyncSmtpTls`.
    pub fn builder(host: impl Into<String>, tls: tls::ClientConfig) -> SmtpTlsBuilder<Self> {
        SmtpTlsBuilder::new(host.into(), tls)
    }

    /// Connects: greeting, EHLO, STARTTLS (or implicit TLS), EHLO again, AUTH if credentials
    /// are set. The connection then sends any number of messages.
    pub async fn connect(&self) -> Result<AsyncSmtpConnection, Error> {
        let stream = AsyncStream::connect(&self.config).await?;
        let dialogue = Dialogue::open(stream, &self.config).await?;
        Ok(AsyncSmtpConnection { dialogue })
    }
}

impl From<SmtpTls> for AsyncSmtpTls {
    /// The same settings, for the tokio client.
    fn from(config: SmtpTls) -> Self {
        Self { config }
    }
}

/// A connected, TLS-protected (and, with credentials, logged-in) SMTP session on tokio.
///
/// The async twin of [`SmtpConnection`](crate::SmtpConnection), with the same rules: after
/// an I/O, TLS or protocol error every later command fails with [`Error::ConnectionBroken`].
/// So it does after a command whose future was dropped before it finished (a timeout around
/// `send`, say): its reply may still be on its way.
pub struct AsyncSmtpConnection {
    dialogue: Dialogue<AsyncStream>,
}

impl AsyncSmtpConnection {
    /// Sends one message, as [`SmtpConnection::send`](crate::SmtpConnection::send) does.
    pub async fn send(&mut self, envelope: &Envelope, body: &[u8]) -> Result<Delivery, Error> {
        self.dialogue.send(envelope, body).await
    }

    /// RSET: abandons a transaction in progress.
    pub async fn rset(&mut self) -> Result<Response, Error> {
        self.dialogue.rset().await
    }

    /// NOOP: checks the server is still there (and resets its idle timer).
    pub async fn noop(&mut self) -> Result<Response, Error> {
        self.dialogue.noop().await
    }

    /// QUIT, then close_notify. On a broken connection it sends nothing, just closes the
    /// socket and returns [`Error::ConnectionBroken`].
    pub async fn quit(self) -> Result<Response, Error> {
        self.dialogue.quit().await
    }

    crate::dialogue::session_accessors!();
}

impl std::fmt::Debug for AsyncSmtpConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.dialogue.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 28: the builder started from `AsyncSmtpTls` builds an `AsyncSmtpTls` (it used to
    /// give the blocking `SmtpTls` unless `build_async` was called), with the settings given.
    #[test]
    fn the_builder_gives_the_type_it_was_started_from() {
        let tls = tls::ClientConfig::builder().build().unwrap();
        let built: AsyncSmtpTls = AsyncSmtpTls::builder("mail.example.org", tls.clone())
            .port(2525)
            .build()
            .unwrap();
        assert_eq!(built.config.port, 2525);
        let blocking: SmtpTls = SmtpTls::builder("mail.example.org", tls).build().unwrap();
        assert_eq!(AsyncSmtpTls::from(blocking).config.port, 587);
    }
}
