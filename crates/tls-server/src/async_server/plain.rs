//! The plaintext phase of a STARTTLS protocol on the tokio server.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncBufRead, AsyncRead, AsyncWrite, BufReader, ReadBuf};

use super::{AsyncSocket, AsyncTlsStream, Shared};
use crate::ConnectionInfo;

/// Enough for a command line of any of the STARTTLS protocols.
const LINE_BUFFER: usize = 2048;

/// A connection of an [`AsyncTlsServer`](crate::AsyncTlsServer) in plaintext, before
/// STARTTLS. Reads are buffered (`AsyncBufRead`, for reading lines). Every read and write fails
/// once the plaintext phase's deadline has passed
/// ([`plaintext_timeout`](crate::TlsServerBuilder::plaintext_timeout)).
pub struct AsyncPlainConnection {
    reader: BufReader<AsyncSocket>,
    shared: Arc<Shared>,
    info: ConnectionInfo,
}

impl AsyncPlainConnection {
    pub(super) fn new(sock: AsyncSocket, shared: Arc<Shared>, info: ConnectionInfo) -> Self {
        Self {
            reader: BufReader::with_capacity(LINE_BUFFER, sock),
            shared,
            info,
        }
    }

    /// The client's address and the server's state.
    pub fn info(&self) -> &ConnectionInfo {
        &self.info
    }

    /// Upgrades to TLS with the server's configuration (and its handshake hook), within the
    /// plaintext phase's deadline; after it, only the idle timeout applies.
    ///
    /// Fails if the client sent anything after the command that asked for TLS: those bytes
    /// were sent in the clear and must not be taken as if they came over TLS (the STARTTLS
    /// command-injection attack, CVE-2011-0411).
    pub async fn starttls(self) -> io::Result<AsyncTlsStream> {
        let socket = tls::adapter::unbuffered_async(self.reader)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        self.shared.handshake(socket, &self.info).await
    }
}

impl AsyncRead for AsyncPlainConnection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().reader).poll_read(cx, buf)
    }
}

impl AsyncBufRead for AsyncPlainConnection {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        Pin::new(&mut self.get_mut().reader).poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amount: usize) {
        Pin::new(&mut self.get_mut().reader).consume(amount)
    }
}

impl AsyncWrite for AsyncPlainConnection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(self.get_mut().reader.get_mut()).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.get_mut().reader.get_mut()).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.get_mut().reader.get_mut()).poll_shutdown(cx)
    }
}
