//! The tokio driver (feature `tokio`): TLS over any `AsyncRead + AsyncWrite + Unpin`, for
//! both engines (X.509 through rustls, and TLS-SRP), with the policy of [`Connection`].
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! let config = tls::ClientConfig::builder().srp("alice", "correct horse").build()?;
//! let tcp = tokio::net::TcpStream::connect("localhost:4443").await?;
//! let mut tls = tls::tokio::connect(&config, "localhost", tcp).await?;
//! tls.write_all(b"GET / HTTP/1.0\r\n\r\n").await?;
//! let mut page = Vec::new();
//! tls.read_to_end(&mut page).await?;
//! # Ok(()) }
//! ```
//!
//! TLS-SRP handshakes do big-number arithmetic (milliseconds per exponentiation): that part
//! runs on tokio's blocking pool, at most one computation per CPU at a time, so a storm of SRP
//! handshakes neither stalls other tasks nor buries the runtime's workers under hundreds of
//! busy threads.

mod compute;
mod stream;
mod sync_io;

use std::future::Future;

use ::tokio::io::{AsyncRead, AsyncWrite};

use crate::{ClientConfig, Connection, Error, ServerConfig};
pub use stream::TlsStream;

/// Connects as a client to `host` over `io` and runs the handshake (and the Checker).
///
/// The returned future owns everything it needs (`'static` when `IO` is), so it can be
/// spawned; dropping it abandons the handshake.
pub fn connect<IO>(
    config: &ClientConfig,
    host: &str,
    io: IO,
) -> impl Future<Output = Result<TlsStream<IO>, Error>> + Send
where
    IO: AsyncRead + AsyncWrite + Unpin + Send,
{
    let conn = Connection::client(config, host);
    async move { TlsStream::handshake(conn?, io).await }
}

/// Accepts a client over `io` and runs the handshake (and the Checker).
pub fn accept<IO>(
    config: &ServerConfig,
    io: IO,
) -> impl Future<Output = Result<TlsStream<IO>, Error>> + Send
where
    IO: AsyncRead + AsyncWrite + Unpin + Send,
{
    let conn = Connection::server(config);
    async move { TlsStream::handshake(conn?, io).await }
}
