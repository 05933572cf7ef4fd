//! The stream under the `imap` crate, with a cap on how much one response may carry.
//!
//! The `imap` crate reads with an uncapped `read_until(b'\n')` and gathers every line of a
//! response, untagged lines and literals included, into one buffer until the tagged reply.
//! A literal (`{n}` then n bytes, a FETCHed message say) is read through the same line reads
//! and may hold no LF at all, so a cap per line would refuse large messages. The cap is on
//! what the server sends between two of our commands instead: that bounds both one line and
//! the crate's buffer.

use std::io::{self, Read, Write};
use std::net::TcpStream;

use tls::TlsStream;

/// The default cap on one IMAP response: room for FETCHing large messages whole.
pub const DEFAULT_MAX_RESPONSE: u64 = 64 * 1024 * 1024;

/// The cap on the greeting (one line, read before we send anything).
const MAX_GREETING: u64 = 64 * 1024;

/// The error inside the [`io::Error`] (kind `Other`) that ends a response over the cap.
/// [`Error::from`](super::Error) turns an [`imap::Error::Io`](::imap::Error::Io) carrying it
/// into [`Error::ResponseTooLarge`](super::Error::ResponseTooLarge).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseTooLarge {
    /// The cap in bytes.
    pub max: u64,
}

impl std::fmt::Display for ResponseTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IMAP response longer than {} bytes", self.max)
    }
}

impl std::error::Error for ResponseTooLarge {}

/// A [`TlsStream`] (or, for tests and fuzzing, any stream `S`) that fails reads once the
/// server has sent more than `max_response` bytes since our last write (and more than 64 KiB
/// before our first, for the greeting).
///
/// While IDLE waits, the count runs until the next command (the `imap` crate re-sends IDLE
/// every 29 minutes by default).
#[derive(Debug)]
pub struct ImapStream<S = TlsStream<TcpStream>> {
    inner: S,
    max_response: u64,
    /// The cap now: the greeting's before our first write, `max_response` after.
    window: u64,
    /// What may still be read before the next write.
    left: u64,
}

impl<S> ImapStream<S> {
    pub(crate) fn new(inner: S, max_response: u64) -> Self {
        let window = MAX_GREETING.min(max_response);
        Self {
            inner,
            max_response,
            window,
            left: window,
        }
    }

    /// The TLS stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The TLS stream, for closing it say. Reading from it directly bypasses the cap.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The cap on one response, in bytes.
    pub fn max_response(&self) -> u64 {
        self.max_response
    }
}

impl<S> ImapStream<S> {
    /// How many of `want` bytes may be read now; once the response has used up the cap,
    /// the error that says so.
    fn room(&self, want: usize) -> io::Result<usize> {
        if self.left == 0 {
            return Err(io::Error::other(ResponseTooLarge { max: self.window }));
        }
        Ok(want.min(usize::try_from(self.left).unwrap_or(usize::MAX)))
    }

    fn took(&mut self, read: usize) {
        self.left -= read as u64;
    }

    /// A command starts a new response.
    fn command_sent(&mut self) {
        self.window = self.max_response;
        self.left = self.window;
    }
}

impl<S: Read> Read for ImapStream<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let room = self.room(buf.len())?;
        let read = self.inner.read(&mut buf[..room])?;
        self.took(read);
        Ok(read)
    }
}

impl<S: Write> Write for ImapStream<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.command_sent();
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(feature = "tokio")]
mod tokio_io {
    use std::io;
    use std::pin::Pin;
    use std::task::{ready, Context, Poll};

    use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

    use super::ImapStream;

    /// The same cap for the tokio client (async-imap also gathers a whole response).
    impl<S: AsyncRead + Unpin> AsyncRead for ImapStream<S> {
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let this = self.get_mut();
            if buf.remaining() == 0 {
                return Poll::Ready(Ok(()));
            }
            // At most a TLS record's worth: the window below is zeroed when the caller's
            // buffer is not yet initialised, and async-imap's can be large.
            let room = this.room(buf.remaining().min(16 * 1024))?;
            // Reading into an initialised window keeps this free of `unsafe`.
            let mut window = ReadBuf::new(buf.initialize_unfilled_to(room));
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut window))?;
            let read = window.filled().len();
            buf.advance(read);
            this.took(read);
            Poll::Ready(Ok(()))
        }
    }

    impl<S: AsyncWrite + Unpin> AsyncWrite for ImapStream<S> {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            let this = self.get_mut();
            this.command_sent();
            Pin::new(&mut this.inner).poll_write(cx, buf)
        }

        fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.get_mut().inner).poll_flush(cx)
        }

        fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
        }
    }
}
