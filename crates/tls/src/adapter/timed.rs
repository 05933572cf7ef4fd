//! A deadline on one network wait of a tokio client.

use std::future::Future;
use std::io;
use std::time::Duration;

/// Runs `work` for at most `limit`; running out of time is an [`io::ErrorKind::TimedOut`]
/// error that names `what` was being waited for. Adapters wrap every read, write, connect and
/// handshake in it, as their blocking twins set socket timeouts.
///
/// ```
/// # async fn run() {
/// use std::time::Duration;
///
/// let never = std::future::pending::<std::io::Result<()>>();
/// let err = tls::adapter::timed(Duration::from_millis(10), "a reply", never).await.unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
/// # }
/// ```
pub async fn timed<T>(
    limit: Duration,
    what: &str,
    work: impl Future<Output = io::Result<T>>,
) -> io::Result<T> {
    match ::tokio::time::timeout(limit, work).await {
        Ok(done) => done,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("{what} took longer than {limit:?}"),
        )),
    }
}

/// [`tls::tokio::connect`](crate::tokio::connect) for at most `limit`: the client handshake
/// every tokio adapter runs (SMTP, POP3, IMAP, hyper's connector). Running out of time is an
/// [`Error::Io`](crate::Error::Io) of kind `TimedOut`; the handshake's own errors (alerts, a
/// pin mismatch, a Checker's veto) come back as they are.
pub async fn handshake<IO>(
    config: &crate::ClientConfig,
    host: &str,
    io: IO,
    limit: Duration,
) -> Result<crate::tokio::TlsStream<IO>, crate::Error>
where
    IO: ::tokio::io::AsyncRead + ::tokio::io::AsyncWrite + Unpin + Send,
{
    match ::tokio::time::timeout(limit, crate::tokio::connect(config, host, io)).await {
        Ok(done) => done,
        Err(_) => Err(crate::Error::Io(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("the TLS handshake with {host} took longer than {limit:?}"),
        ))),
    }
}
