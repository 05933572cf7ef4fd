//! The tokio POP3 client: the same conversation as [`Pop3Client`](super::Pop3Client), over
//! tokio's sockets, every wait under the builder's timeout.

use tokio::io::{AsyncWrite, BufReader};
use tokio::net::TcpStream;

use super::client::{ListEntry, Pop3Builder, Stat, UidEntry};
use super::session::{self, Session};
use super::wire::Wire;
use super::Error;
use crate::line_stream::{AsyncSink, TimedStream};

type Connection = TimedStream<BufReader<tls::tokio::TlsStream<TcpStream>>>;

impl Pop3Builder<AsyncPop3Client> {
    /// Connects to `host:port`, runs STLS if asked, the TLS handshake, and CAPA, each wait
    /// bounded by the timeout.
    pub async fn connect(&self, host: &str, port: u16) -> Result<AsyncPop3Client, Error> {
        let timeout = self.timeout;
        let tcp = tls::adapter::connect(host, port, timeout)
            .await
            .map_err(Error::Io)?;
        let (tcp, plain_greeting) = if self.security.starts_in_plaintext() {
            let plain = TimedStream {
                stream: BufReader::new(tcp),
                timeout,
            };
            let mut wire = Wire::new(plain, self.max_line);
            let greeting = session::stls(&mut wire).await?;
            let tcp = tls::adapter::unbuffered_async(wire.stream.stream)
                .map_err(|_| Error::PlaintextAfterStartTls)?;
            (tcp, Some(greeting))
        } else {
            (tcp, None)
        };
        let tls = tls::adapter::handshake(&self.tls, host, tcp, timeout).await?;
        // Room for a few whole TLS records (16 KiB each) per read from the connection.
        let stream = TimedStream {
            stream: BufReader::with_capacity(64 * 1024, tls),
            timeout,
        };
        let wire = Wire::new(stream, self.max_line);
        let session = Session::open(wire, plain_greeting, self.max_listing).await?;
        Ok(AsyncPop3Client { session })
    }
}

impl From<Pop3Builder> for Pop3Builder<AsyncPop3Client> {
    /// The same settings, for the tokio client.
    fn from(blocking: Pop3Builder) -> Self {
        blocking.retarget()
    }
}

/// A POP3 session over TLS on tokio: the async twin of [`Pop3Client`](super::Pop3Client),
/// with the same commands, caps and rules, made by the same builder, started here. A command
/// whose future is dropped before its whole reply was read (a timeout around `retr_to`, say)
/// leaves the client broken: later commands fail with [`Error::ConnectionBroken`].
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let config = tls::ClientConfig::builder().srp("alice", "correct horse").build()?;
/// let mut pop = tls_mail::pop3::AsyncPop3Client::builder(config)
///     .connect("mail.example.org", 995)
///     .await?;
/// pop.login("alice", "secret").await?;
/// let mut file = tokio::fs::File::create("message.eml").await?;
/// pop.retr_to(1, &mut file).await?; // streamed: no whole message in memory
/// pop.quit().await?;
/// # Ok(()) }
/// ```
pub struct AsyncPop3Client {
    session: Session<Connection>,
}

impl std::fmt::Debug for AsyncPop3Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.session.fmt(f)
    }
}

impl AsyncPop3Client {
    /// Starts a builder with this TLS configuration (implicit TLS,
    /// [`DEFAULT_TIMEOUT`](crate::DEFAULT_TIMEOUT)), the settings of
    /// [`Pop3Client::builder`](super::Pop3Client::builder); its `connect` is async.
    pub fn builder(tls: tls::ClientConfig) -> Pop3Builder<Self> {
        Pop3Builder::new(tls)
    }

    /// The TLS session: version, suite, the server's fingerprints, SRP user name…
    pub fn tls_session(&self) -> &tls::Session {
        self.session.wire.stream.stream.get_ref().session()
    }

    /// As [`Pop3Client::capa`](super::Pop3Client::capa).
    pub async fn capa(&mut self) -> Result<&[String], Error> {
        self.session.capa().await
    }

    /// USER and PASS.
    pub async fn login(&mut self, user: &str, password: &str) -> Result<(), Error> {
        self.session.login(user, password).await
    }

    /// APOP: the password never crosses the wire, only MD5(timestamp + password).
    pub async fn apop(&mut self, user: &str, password: &str) -> Result<(), Error> {
        self.session.apop(user, password).await
    }

    /// AUTH PLAIN (RFC 5034) with the initial response on the command line.
    pub async fn auth_plain(&mut self, user: &str, password: &str) -> Result<(), Error> {
        self.session.auth_plain(user, password).await
    }

    /// STAT: message count and total size.
    pub async fn stat(&mut self) -> Result<Stat, Error> {
        self.session.stat().await
    }

    /// LIST: every message's number and size.
    pub async fn list(&mut self) -> Result<Vec<ListEntry>, Error> {
        self.session.list().await
    }

    /// LIST for one message.
    pub async fn list_one(&mut self, number: u32) -> Result<ListEntry, Error> {
        self.session.list_one(number).await
    }

    /// UIDL: every message's unique id.
    pub async fn uidl(&mut self) -> Result<Vec<UidEntry>, Error> {
        self.session.uidl().await
    }

    /// RETR streamed into `out` in bounded memory, as
    /// [`Pop3Client::retr_to`](super::Pop3Client::retr_to) does.
    pub async fn retr_to(
        &mut self,
        number: u32,
        out: &mut (impl AsyncWrite + Unpin),
    ) -> Result<u64, Error> {
        let command = format!("RETR {number}");
        self.session.body_to(&command, &mut AsyncSink(out)).await
    }

    /// RETR into memory (see [`retr_to`](Self::retr_to) for large messages).
    pub async fn retr(&mut self, number: u32) -> Result<Vec<u8>, Error> {
        let mut message = Vec::new();
        self.retr_to(number, &mut message).await?;
        Ok(message)
    }

    /// TOP: the headers and the first `lines` body lines of message `number`, into `out`.
    pub async fn top_to(
        &mut self,
        number: u32,
        lines: u32,
        out: &mut (impl AsyncWrite + Unpin),
    ) -> Result<u64, Error> {
        let command = format!("TOP {number} {lines}");
        self.session.body_to(&command, &mut AsyncSink(out)).await
    }

    /// TOP into memory.
    pub async fn top(&mut self, number: u32, lines: u32) -> Result<Vec<u8>, Error> {
        let mut head = Vec::new();
        self.top_to(number, lines, &mut head).await?;
        Ok(head)
    }

    /// DELE: marks message `number` deleted; the server removes it at [`quit`](Self::quit).
    pub async fn dele(&mut self, number: u32) -> Result<(), Error> {
        self.session.simple(&format!("DELE {number}")).await
    }

    /// RSET: unmarks every message marked deleted in this session.
    pub async fn rset(&mut self) -> Result<(), Error> {
        self.session.simple("RSET").await
    }

    /// NOOP: keeps the session alive.
    pub async fn noop(&mut self) -> Result<(), Error> {
        self.session.simple("NOOP").await
    }

    /// QUIT, then close_notify (best effort: the server may hang up first).
    pub async fn quit(mut self) -> Result<(), Error> {
        self.session.simple("QUIT").await?;
        let timeout = self.session.wire.stream.timeout;
        let stream = &mut self.session.wire.stream.stream;
        let _ = tls::adapter::timed(timeout, "closing", async {
            tokio::io::AsyncWriteExt::shutdown(stream).await
        })
        .await;
        Ok(())
    }

    crate::pop3::session::session_accessors!();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 28: `AsyncPop3Client::builder` connects to an `AsyncPop3Client` (the tokio client
    /// used to be reached through the blocking type's `connect_async`), and a blocking
    /// builder's settings carry over.
    #[test]
    fn the_builder_gives_the_type_it_was_started_from() {
        let tls = tls::ClientConfig::builder().build().unwrap();
        let builder =
            AsyncPop3Client::builder(tls.clone()).timeout(std::time::Duration::from_secs(3));
        let connecting = builder.connect("localhost", 0);
        let _: &dyn std::future::Future<Output = Result<AsyncPop3Client, Error>> = &connecting;
        let blocking = super::super::Pop3Client::builder(tls).max_listing(7);
        let converted = Pop3Builder::<AsyncPop3Client>::from(blocking);
        assert_eq!(converted.max_listing, 7);
        assert_eq!(builder.timeout, std::time::Duration::from_secs(3));
    }
}
