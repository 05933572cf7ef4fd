//! What an HTTP/2 connection (h2) writes, sent in one batch once it has nothing more to do.
//!
//! h2 flushes after each DATA frame it does not copy into its own buffer (any payload over
//! 256 bytes), so each response would leave in its own TLS record and its own `writev`: one
//! system call per request, a quarter of the server's time at 1 KiB responses. Here writes
//! are staged and h2's flushes are let through at once; the loop that polls the connection
//! sends what is staged each time the connection stops to wait, so all the responses to one
//! read of requests leave together, in full records.

use std::cell::RefCell;
use std::io;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard};
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::checked_files::CheckedFiles;
use crate::AsyncTlsStream;

/// Staged plaintext beyond which it is sealed and handed to the transport before more is
/// taken: four full records.
const STAGE_LIMIT: usize = 64 * 1024;

/// The TLS stream with the plaintext written but not yet sealed.
pub(crate) struct Outbox<'t> {
    tls: &'t mut AsyncTlsStream,
    staged: Vec<u8>,
}

impl<'t> Outbox<'t> {
    pub(crate) fn new(tls: &'t mut AsyncTlsStream) -> Mutex<Self> {
        Mutex::new(Self {
            tls,
            staged: Vec::new(),
        })
    }

    /// Seals what is staged into the TLS stream (which hands the transport what it takes).
    fn poll_seal(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.staged.is_empty() {
            let n = ready!(Pin::new(&mut *self.tls).poll_write(cx, &self.staged))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.staged.drain(..n);
        }
        Poll::Ready(Ok(()))
    }

    /// Sends everything written so far; `Pending` until the transport has taken it.
    pub(crate) fn poll_send(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_seal(cx))?;
        // An idle connection keeps no staging buffer: it goes back to the thread's spare.
        give_back(std::mem::take(&mut self.staged));
        Pin::new(&mut *self.tls).poll_flush(cx)
    }
}

thread_local! {
    /// One staging buffer per thread, lent to the connection writing and given back once
    /// sent. Freeing it after each batch cost more than the batching saved at 1 KiB
    /// responses: glibc gave the pages back to the kernel (madvise) and took them again
    /// (page faults), about 1 in 3 batches.
    static SPARE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

fn borrow_spare() -> Vec<u8> {
    SPARE.with_borrow_mut(std::mem::take)
}

fn give_back(mut staged: Vec<u8>) {
    staged.clear();
    SPARE.with_borrow_mut(|spare| {
        if staged.capacity() > spare.capacity() && staged.capacity() <= 2 * STAGE_LIMIT {
            *spare = staged;
        }
    });
}

/// Locks an outbox; one task uses it, so this never waits. A panic while it was held left
/// nothing half-done that matters more than the connection, which ends anyway.
pub(crate) fn lock<'a, 't>(outbox: &'a Mutex<Outbox<'t>>) -> MutexGuard<'a, Outbox<'t>> {
    outbox.lock().unwrap_or_else(|p| p.into_inner())
}

/// The TLS stream as h2 sees it: reads pass through (each one that brings bytes told to
/// `checked`), writes are staged, flushes are left to whoever calls [`Outbox::poll_send`].
pub(crate) struct Batched<'a, 't> {
    pub(crate) outbox: &'a Mutex<Outbox<'t>>,
    pub(crate) checked: &'a CheckedFiles,
}

impl AsyncRead for Batched<'_, '_> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut *lock(self.outbox).tls).poll_read(cx, buf))?;
        if buf.filled().len() > before {
            self.checked.client_sent();
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Batched<'_, '_> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[io::IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let mut outbox = lock(self.outbox);
        if outbox.staged.capacity() == 0 {
            outbox.staged = borrow_spare();
        }
        // Sealed only once full, and what does not fit waits for the next call: records come
        // out full whatever the slicing. (Sealing before a frame that would not fit left a
        // 27-byte record after every three 16 KiB DATA frames.)
        if outbox.staged.len() >= STAGE_LIMIT {
            ready!(outbox.poll_seal(cx))?;
        }
        let mut room = STAGE_LIMIT - outbox.staged.len();
        let mut taken = 0;
        for buf in bufs {
            let n = buf.len().min(room);
            outbox.staged.extend_from_slice(&buf[..n]);
            (taken, room) = (taken + n, room - n);
        }
        Poll::Ready(Ok(taken))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    /// Nothing to do here: the connection's driver sends the batch when the connection waits.
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut outbox = lock(self.outbox);
        ready!(outbox.poll_seal(cx))?;
        Pin::new(&mut *outbox.tls).poll_shutdown(cx)
    }
}
