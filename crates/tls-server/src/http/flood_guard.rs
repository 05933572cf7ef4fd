//! A budget for the HTTP/2 frames that cost a server work but carry no request: SETTINGS and
//! PING to answer, PRIORITY, RST_STREAM, and DATA, HEADERS or CONTINUATION frames with nothing
//! in them (the floods of CVE-2019-9512, -9513, -9515, -9518). h2 bounds resets of streams it
//! has not yet handed over and runaway header blocks itself; it answers every SETTINGS and
//! PING, so a client can keep it busy forever with them. The guard reads the frame headers as
//! the bytes come in, and ends the connection of a client that spends its budget.
//!
//! The budget is a token bucket: [`BURST`] frames at once, refilled at [`PER_SECOND`]. Browsers
//! send a handful of these frames per connection; WINDOW_UPDATE, which grows with the data a
//! client downloads, is not counted.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Frames a client may send at once.
const BURST: f64 = 1000.0;
/// Frames a client may send per second, on average.
const PER_SECOND: f64 = 100.0;
/// The client connection preface, before the first frame (RFC 9113 §3.4).
const PREFACE_LEN: usize = 24;

const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const PRIORITY: u8 = 0x2;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const PING: u8 = 0x6;
const CONTINUATION: u8 = 0x9;
/// The ACK flag of SETTINGS and PING: an answer, not something to answer.
const ACK: u8 = 0x1;

/// The stream a client's frames arrive on, with their headers read on the way through.
pub(crate) struct FloodGuard<S> {
    inner: S,
    /// Preface bytes still to pass before the first frame header.
    preface_left: usize,
    /// The frame header being gathered.
    header: [u8; 9],
    header_len: usize,
    /// Payload bytes of the current frame still to pass.
    payload_left: usize,
    tokens: f64,
    refilled: Instant,
}

impl<S> FloodGuard<S> {
    pub(crate) fn new(inner: S) -> Self {
        Self {
            inner,
            preface_left: PREFACE_LEN,
            header: [0; 9],
            header_len: 0,
            payload_left: 0,
            tokens: BURST,
            refilled: Instant::now(),
        }
    }

    /// Reads the frame headers in `bytes` (the next bytes from the client); an error once the
    /// client has spent its budget.
    fn inspect(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            if self.preface_left > 0 {
                let n = self.preface_left.min(bytes.len());
                self.preface_left -= n;
                bytes = &bytes[n..];
            } else if self.payload_left > 0 {
                let n = self.payload_left.min(bytes.len());
                self.payload_left -= n;
                bytes = &bytes[n..];
            } else {
                let n = (9 - self.header_len).min(bytes.len());
                self.header[self.header_len..self.header_len + n].copy_from_slice(&bytes[..n]);
                self.header_len += n;
                bytes = &bytes[n..];
                if self.header_len == 9 {
                    self.header_len = 0;
                    let len = usize::from(self.header[0]) << 16
                        | usize::from(self.header[1]) << 8
                        | usize::from(self.header[2]);
                    self.payload_left = len;
                    if costs_work(self.header[3], self.header[4], len) {
                        self.spend()?;
                    }
                }
            }
        }
        Ok(())
    }

    fn spend(&mut self) -> io::Result<()> {
        let now = Instant::now();
        let earned = now.duration_since(self.refilled).as_secs_f64() * PER_SECOND;
        self.tokens = (self.tokens + earned).min(BURST);
        self.refilled = now;
        if self.tokens < 1.0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "HTTP/2 flood: too many SETTINGS, PING, PRIORITY, RST_STREAM or empty frames",
            ));
        }
        self.tokens -= 1.0;
        Ok(())
    }
}

/// Whether a frame of this type, flags and length is one the budget counts.
fn costs_work(kind: u8, flags: u8, len: usize) -> bool {
    match kind {
        SETTINGS | PING => flags & ACK == 0,
        PRIORITY | RST_STREAM => true,
        DATA | HEADERS | CONTINUATION => len == 0,
        _ => false,
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for FloodGuard<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        std::task::ready!(Pin::new(&mut self.inner).poll_read(cx, buf))?;
        let this = &mut *self;
        this.inspect(&buf.filled()[before..])?;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for FloodGuard<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u8, flags: u8, payload: &[u8]) -> Vec<u8> {
        let len = payload.len().to_be_bytes();
        let mut out = vec![len[5], len[6], len[7], kind, flags, 0, 0, 0, 1];
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn control_frames_spend_the_budget_and_requests_do_not() {
        let mut guard = FloodGuard::new(());
        let mut wire = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
        wire.extend(frame(SETTINGS, 0, &[0, 4, 0, 0, 255, 255]));
        // Requests, answers and window updates are free, however many.
        for _ in 0..5000 {
            wire.extend(frame(HEADERS, 0x5, b"\x82\x87\x84"));
            wire.extend(frame(SETTINGS, ACK, b""));
            wire.extend(frame(0x8, 0, &[0, 0, 1, 0]));
        }
        // Fed one byte at a time: headers split anywhere are read alike.
        for byte in &wire {
            guard.inspect(std::slice::from_ref(byte)).unwrap();
        }
        assert_eq!(guard.tokens, BURST - 1.0);
        for _ in 0..999 {
            guard.inspect(&frame(PING, 0, b"12345678")).unwrap();
        }
        let e = guard.inspect(&frame(DATA, 0, b"")).unwrap_err();
        assert!(e.to_string().contains("flood"), "{e}");
        // The budget comes back with time.
        guard.refilled -= std::time::Duration::from_secs(1);
        for _ in 0..100 {
            guard.inspect(&frame(RST_STREAM, 0, &[0, 0, 0, 8])).unwrap();
        }
        assert!(guard.inspect(&frame(PRIORITY, 0, &[0; 5])).is_err());
    }
}
