//! The tokio stream: a thin poll driver over a [`Connection`].

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use ::tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::sync_io::{pending, SyncIo};
use crate::{Connection, Error, Session};

/// A TLS connection over a tokio transport, after a successful handshake; made by
/// [`connect`](super::connect) or [`accept`](super::accept).
///
/// It implements tokio's `AsyncRead` and `AsyncWrite`, with the same errors as the blocking
/// [`TlsStream`](crate::TlsStream): an `io::Error` carrying a [`tls::Error`](Error) (an alert,
/// [`Error::AbruptClose`] when the transport ends without close_notify).
///
/// Writing encrypts into the connection's bounded buffer and hands the transport what it takes
/// at once; `poll_write` returns as soon as the data is accepted. Vectored writes gather small
/// slices into shared records, so a writer that frames its data (h2) sends few, full records
/// in one transport write. Call `flush` to wait until
/// everything has reached the transport, and `shutdown` to send close_notify. Reads and writes
/// are cancellation-safe: a `read` or `write` future dropped before it completes has taken or
/// lost nothing.
pub struct TlsStream<IO> {
    io: IO,
    conn: Connection,
    close_sent: bool,
    /// Where plaintext goes on its way into a caller's buffer that is not yet initialised
    /// (hyper's, say): copying what was decrypted costs less than zeroing the caller's whole
    /// spare capacity on every read, which is what filling it directly would take without
    /// `unsafe`. Allocated on need, freed while the connection waits; never holds data
    /// between calls.
    scratch: Vec<u8>,
}

/// The scratch buffer's size: a quarter of a full record, enough for most small reads.
const SCRATCH: usize = 4 * 1024;

impl<IO: AsyncRead + AsyncWrite + Unpin> TlsStream<IO> {
    /// Runs `conn`'s handshake over `io`. Our engine's (SRP) processing runs on the blocking
    /// pool: it holds the exponentiations.
    pub(super) async fn handshake(mut conn: Connection, mut io: IO) -> Result<Self, Error> {
        while conn.is_handshaking() {
            poll_fn(|cx| write_all_tls(&mut conn, &mut io, cx))
                .await
                .map_err(Error::Io)?;
            poll_fn(|cx| pending(conn.read_tls(&mut SyncIo { io: &mut io, cx })))
                .await
                .map_err(Error::Io)?;
            let result = if conn.does_heavy_handshake_work() {
                let (back, result) = super::compute::run(move || {
                    let result = conn.process_new_packets();
                    (conn, result)
                })
                .await?;
                conn = back;
                result
            } else {
                conn.process_new_packets()
            };
            if let Err(e) = result {
                // Deliver the alert the connection queued; the handshake's error is what counts.
                let _ = poll_fn(|cx| write_all_tls(&mut conn, &mut io, cx)).await;
                return Err(e);
            }
        }
        poll_fn(|cx| write_all_tls(&mut conn, &mut io, cx))
            .await
            .map_err(Error::Io)?;
        Ok(Self {
            io,
            conn,
            close_sent: false,
            scratch: Vec::new(),
        })
    }
}

impl<IO> TlsStream<IO> {
    /// What the handshake negotiated.
    pub fn session(&self) -> &Session {
        // A TlsStream exists only after its handshake, so the session is always there.
        self.conn.session().unwrap_or(&crate::session::NO_SESSION)
    }

    /// When set, a transport that ends without close_notify reads as a clean end of stream
    /// instead of [`Error::AbruptClose`].
    pub fn set_ignore_abrupt_close(&mut self, ignore: bool) {
        self.conn.set_ignore_abrupt_close(ignore);
    }

    /// The transport.
    pub fn get_ref(&self) -> &IO {
        &self.io
    }

    /// The transport. Reading or writing it directly corrupts the stream.
    pub fn get_mut(&mut self) -> &mut IO {
        &mut self.io
    }

    /// The transport and the connection, e.g. to drive them another way.
    pub fn into_parts(self) -> (IO, Connection) {
        (self.io, self.conn)
    }
}

/// Writes everything the connection has queued; `Pending` until the transport took it all.
fn write_all_tls<IO: AsyncWrite + Unpin>(
    conn: &mut Connection,
    io: &mut IO,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    while conn.wants_write() {
        match ready!(pending(conn.write_tls(&mut SyncIo { io, cx }))) {
            Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
            Ok(_) => {}
            Err(e) => return Poll::Ready(Err(e)),
        }
    }
    Poll::Ready(Ok(()))
}

/// Moves decrypted plaintext into `buf`: straight into its initialised spare room when it has
/// some, else through `scratch` (never more than `buf` takes, so nothing is left behind).
fn read_plaintext(
    conn: &mut Connection,
    scratch: &mut Vec<u8>,
    buf: &mut ReadBuf<'_>,
) -> io::Result<()> {
    let initialised = buf.initialized().len() - buf.filled().len();
    if initialised > 0 {
        let n = conn.read_plaintext(buf.initialize_unfilled_to(initialised))?;
        buf.advance(n);
        return Ok(());
    }
    if scratch.is_empty() {
        scratch.resize(SCRATCH, 0);
    }
    let want = buf.remaining().min(SCRATCH);
    let n = conn.read_plaintext(&mut scratch[..want])?;
    buf.put_slice(&scratch[..n]);
    Ok(())
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncRead for TlsStream<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        loop {
            // What reading queued (an alert, a key update) goes out when the transport takes it.
            if let Poll::Ready(Err(e)) = write_all_tls(&mut this.conn, &mut this.io, cx) {
                return Poll::Ready(Err(e));
            }
            match read_plaintext(&mut this.conn, &mut this.scratch, buf) {
                Ok(()) => return Poll::Ready(Ok(())),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
            // An end of the transport is the connection's to judge (close_notify or abrupt).
            let read = pending(this.conn.read_tls(&mut SyncIo {
                io: &mut this.io,
                cx,
            }));
            if read.is_pending() {
                // Waiting for the peer: no buffer is kept meanwhile.
                this.scratch = Vec::new();
            }
            ready!(read)?;
            if let Err(e) = this.conn.process_new_packets() {
                let _ = write_all_tls(&mut this.conn, &mut this.io, cx);
                return Poll::Ready(Err(e.into()));
            }
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> TlsStream<IO> {
    /// Gives the connection what `take` hands it, waiting for the transport only if the
    /// connection's buffer is full, then hands the transport what it takes now; the rest waits
    /// for the next write or flush.
    fn poll_take(
        &mut self,
        cx: &mut Context<'_>,
        mut take: impl FnMut(&mut Connection) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        let mut taken = take(&mut self.conn)?;
        if taken == 0 {
            // The buffer is full: wait for the transport before taking anything, so a dropped
            // write has taken nothing.
            ready!(write_all_tls(&mut self.conn, &mut self.io, cx))?;
            taken = take(&mut self.conn)?;
        }
        if let Poll::Ready(Err(e)) = write_all_tls(&mut self.conn, &mut self.io, cx) {
            if taken == 0 {
                return Poll::Ready(Err(e));
            }
        }
        Poll::Ready(Ok(taken))
    }
}

/// The most plaintext one record carries.
const RECORD_PLAINTEXT: usize = 16 * 1024;

/// Gives the connection the bytes of `bufs` in order, small slices gathered so they share a
/// record (h2 writes a frame header and its payload as two slices; many responses' frames
/// then go out as a few full records in one transport write, not two records each). A slice
/// of a record or more met with nothing gathered goes in as it is. Returns how many bytes were
/// taken: a prefix of `bufs`.
fn take_gathered(conn: &mut Connection, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
    let mut gathered: Vec<u8> = Vec::new();
    let mut taken = 0;
    for buf in bufs {
        let mut rest: &[u8] = buf;
        while !rest.is_empty() {
            if gathered.is_empty() && rest.len() >= RECORD_PLAINTEXT {
                let n = conn.write_plaintext(rest)?;
                taken += n;
                if n < rest.len() {
                    return Ok(taken);
                }
                break;
            }
            let n = (RECORD_PLAINTEXT - gathered.len()).min(rest.len());
            gathered.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
            if gathered.len() == RECORD_PLAINTEXT {
                let n = conn.write_plaintext(&gathered)?;
                taken += n;
                if n < gathered.len() {
                    return Ok(taken);
                }
                gathered.clear();
            }
        }
    }
    if !gathered.is_empty() {
        taken += conn.write_plaintext(&gathered)?;
    }
    Ok(taken)
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for TlsStream<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.get_mut()
            .poll_take(cx, |conn| conn.write_plaintext(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if bufs.iter().all(|buf| buf.is_empty()) {
            return Poll::Ready(Ok(0));
        }
        self.get_mut()
            .poll_take(cx, |conn| take_gathered(conn, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(write_all_tls(&mut this.conn, &mut this.io, cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    /// Sends close_notify (once), then shuts the transport's writing side down.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.close_sent {
            this.conn.send_close_notify();
            this.close_sent = true;
        }
        ready!(write_all_tls(&mut this.conn, &mut this.io, cx))?;
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}

impl<IO> std::fmt::Debug for TlsStream<IO> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsStream")
            .field("session", &self.conn.session())
            .finish_non_exhaustive()
    }
}
