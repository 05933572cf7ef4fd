//! A deadline on every wait of a tokio stream, for protocol crates that take a stream and
//! drive it themselves (async-imap, say), where the adapter cannot wrap each call.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use ::tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use ::tokio::time::{Instant, Sleep};

/// `S` whose reads, writes, flushes and shutdown fail with [`io::ErrorKind::TimedOut`] when
/// one of them waits longer than the limit without progress.
///
/// The timer is armed only when an operation returns `Pending`, and disarmed by any progress,
/// so a busy stream pays nothing for it.
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// use std::time::Duration;
/// use tokio::io::AsyncReadExt;
///
/// let tcp = tokio::net::TcpStream::connect("127.0.0.1:143").await?;
/// let mut stream = tls::adapter::Deadline::new(tcp, Duration::from_secs(30));
/// let mut greeting = [0; 512];
/// let n = stream.read(&mut greeting).await?; // TimedOut after 30 s of silence
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Deadline<S> {
    inner: S,
    limit: Duration,
    timer: Pin<Box<Sleep>>,
    armed: bool,
}

impl<S> Deadline<S> {
    /// Wraps `inner`; each wait may last at most `limit`.
    pub fn new(inner: S, limit: Duration) -> Self {
        Self {
            inner,
            limit,
            timer: Box::pin(::tokio::time::sleep(limit)),
            armed: false,
        }
    }

    /// The stream inside.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The stream inside, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The limit on one wait.
    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// Passes a finished operation on (disarming the timer), or checks the timer for one
    /// still waiting (arming it first).
    fn watch<T>(
        &mut self,
        cx: &mut Context<'_>,
        what: &str,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if polled.is_ready() {
            self.armed = false;
            return polled;
        }
        if !self.armed {
            self.timer.as_mut().reset(Instant::now() + self.limit);
            self.armed = true;
        }
        match self.timer.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.armed = false;
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("{what} waited longer than {:?}", self.limit),
                )))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Deadline<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        this.watch(cx, "a read", polled)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Deadline<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.watch(cx, "a write", polled)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.watch(cx, "a write", polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_flush(cx);
        this.watch(cx, "a flush", polled)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_shutdown(cx);
        this.watch(cx, "closing", polled)
    }
}

#[cfg(test)]
mod tests {
    use ::tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[::tokio::test(flavor = "current_thread", start_paused = true)]
    async fn silence_times_out_and_progress_rearms() {
        let (near, mut far) = ::tokio::io::duplex(64);
        let mut stream = Deadline::new(near, Duration::from_secs(5));
        far.write_all(b"hi").await.unwrap();
        let mut buf = [0; 2];
        stream.read_exact(&mut buf).await.unwrap();
        let started = Instant::now();
        let err = stream.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_secs(5));
        // After a timeout the stream still works, with a fresh limit.
        far.write_all(b"ok").await.unwrap();
        stream.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ok");
    }
}
