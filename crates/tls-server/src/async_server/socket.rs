//! The tokio server's view of a TCP connection: the blocking [`Socket`](crate::Socket)'s rules
//! (a total deadline while the client owes something, an idle timeout otherwise) on a tokio
//! `TcpStream`, with one timer per connection.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

/// A TCP connection accepted by [`AsyncTlsServer`](crate::AsyncTlsServer).
///
/// A read or write that waits past the idle timeout (counted from the last byte moved either
/// way), or past a deadline the server set, fails with `TimedOut`.
#[derive(Debug)]
pub struct AsyncSocket {
    tcp: TcpStream,
    deadline: Option<Instant>,
    idle_timeout: Duration,
    /// When the connection was last seen idle after moving data (or opened): the idle limit
    /// counts from here.
    last_io: Instant,
    /// Data moved since `last_io` was stamped: stamp it again at the next wait. Stamping on
    /// waits rather than on every read and write keeps the clock off the busy path.
    moved: bool,
    /// Armed for the earliest of the deadline and the idle limit, or later: it is re-armed
    /// only when it fires early, not on every byte, which keeps busy connections cheap.
    timer: Pin<Box<Sleep>>,
}

impl AsyncSocket {
    pub(crate) fn new(tcp: TcpStream, idle_timeout: Duration) -> io::Result<Self> {
        tcp.set_nodelay(true)?;
        let now = Instant::now();
        Ok(Self {
            tcp,
            deadline: None,
            idle_timeout,
            last_io: now,
            moved: false,
            timer: Box::pin(tokio::time::sleep_until(now + idle_timeout)),
        })
    }

    /// The deadline in force, if any.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Every read and write must finish by `deadline`; `None` goes back to the idle timeout.
    pub(crate) fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    /// The client's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.peer_addr()
    }

    /// The underlying TCP stream.
    pub fn tcp(&self) -> &TcpStream {
        &self.tcp
    }

    /// When waiting must end: the deadline or the idle limit, whichever comes first.
    fn due(&self) -> Instant {
        let idle = self.last_io + self.idle_timeout;
        self.deadline.map_or(idle, |d| d.min(idle))
    }

    /// Called when the transport is not ready: `Ready(Err)` once waiting has lasted too long,
    /// else `Pending` with the timer set to wake this task in time.
    fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        if self.moved {
            self.moved = false;
            self.last_io = Instant::now();
        }
        loop {
            let due = self.due();
            if self.timer.deadline() > due {
                self.timer.as_mut().reset(due);
            }
            if self.timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            if Instant::now() >= self.due() {
                let what = match self.deadline {
                    Some(d) if d <= Instant::now() => "deadline passed",
                    _ => "idle timeout",
                };
                return Poll::Ready(io::Error::new(io::ErrorKind::TimedOut, what));
            }
            // Fired for an older limit: data moved since. Re-arm for the current one.
            let due = self.due();
            self.timer.as_mut().reset(due);
        }
    }

    /// Runs a transport operation; progress counts as activity, waiting is bounded.
    fn run<T>(
        &mut self,
        cx: &mut Context<'_>,
        op: impl FnOnce(Pin<&mut TcpStream>, &mut Context<'_>) -> Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if let Some(d) = self.deadline {
            if Instant::now() >= d {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "deadline passed",
                )));
            }
        }
        match op(Pin::new(&mut self.tcp), cx) {
            Poll::Ready(result) => {
                self.moved = true;
                Poll::Ready(result)
            }
            Poll::Pending => self.poll_expired(cx).map(Err),
        }
    }
}

impl AsyncRead for AsyncSocket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.get_mut().run(cx, |tcp, cx| tcp.poll_read(cx, buf))
    }
}

impl AsyncWrite for AsyncSocket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().run(cx, |tcp, cx| tcp.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .run(cx, |tcp, cx| tcp.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().run(cx, |tcp, cx| tcp.poll_shutdown(cx))
    }
}
