//! What the POP3 conversation and the IMAP STARTTLS steps need from a connection, and POP3
//! from the writer a message streams into, for blocking and tokio I/O alike: each is written
//! once, as `async` code, against these traits (the blocking clients run it with
//! [`tls::adapter::ready`]).

use std::future::Future;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;

/// Runs one conversation step on a blocking socket: its I/O blocks instead of returning
/// `Pending`, so one poll finishes it (see [`tls::adapter::ready`]).
pub(crate) fn ready<T, E: From<tls::Error>>(
    step: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    tls::adapter::ready(step).unwrap_or_else(|| {
        Err(E::from(tls::Error::Io(io::Error::other(
            "a blocking mail step waited on something other than its socket",
        ))))
    })
}

/// The plaintext socket before STLS/STARTTLS, buffered for line reads. After the server's
/// go-ahead, its buffer must be empty: bytes in it came in plaintext and could be injected.
pub(crate) struct Plain(pub BufReader<TcpStream>);

impl Read for Plain {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl BufRead for Plain {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.0.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.0.consume(amount)
    }
}

impl Write for Plain {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.get_mut().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.get_mut().flush()
    }
}

/// A buffered connection: replies are read line by line from its buffer, commands written.
pub(crate) trait LineStream {
    /// The buffered bytes, reading more if there are none; empty once the server closed.
    async fn fill_buf(&mut self) -> io::Result<&[u8]>;

    /// Marks `amount` buffered bytes as read.
    fn consume(&mut self, amount: usize);

    /// Writes all of `bytes` and sends them.
    async fn send(&mut self, bytes: &[u8]) -> io::Result<()>;
}

/// Where RETR and TOP put a message, piece by piece.
pub(crate) trait MessageSink {
    async fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()>;
    async fn flush(&mut self) -> std::io::Result<()>;
}

impl<S: BufRead + Write> LineStream for S {
    async fn fill_buf(&mut self) -> io::Result<&[u8]> {
        // A signal handled in this process interrupts a read on a socket with a timeout, even
        // under SA_RESTART: read again, as std's own read loops do.
        loop {
            match BufRead::fill_buf(self) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
                Ok([]) => return Ok(&[]),
                // Bytes are buffered now, so this second call returns them without reading.
                Ok(_) => return BufRead::fill_buf(self),
            }
        }
    }

    fn consume(&mut self, amount: usize) {
        BufRead::consume(self, amount)
    }

    async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.write_all(bytes)?;
        self.flush()
    }
}

/// A blocking writer as a [`MessageSink`].
pub(crate) struct BlockingSink<'a, W>(pub &'a mut W);

impl<W: Write> MessageSink for BlockingSink<'_, W> {
    async fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.0.write_all(bytes)
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(feature = "tokio")]
pub(crate) use tokio_io::{AsyncSink, TimedStream};

#[cfg(feature = "tokio")]
mod tokio_io {
    use std::time::Duration;

    use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

    use super::{io, LineStream, MessageSink};

    /// A tokio connection whose every wait is bounded by `timeout`.
    pub(crate) struct TimedStream<S> {
        pub stream: S,
        pub timeout: Duration,
    }

    impl<S: AsyncRead + AsyncWrite + Unpin> LineStream for TimedStream<BufReader<S>> {
        async fn fill_buf(&mut self) -> io::Result<&[u8]> {
            // Most calls find bytes already buffered (a message is read a line at a time):
            // those need no timer, and arming one per line cost a tenth of RETR's throughput.
            if !self.stream.buffer().is_empty() {
                return Ok(self.stream.buffer());
            }
            tls::adapter::timed(self.timeout, "reading a reply", self.stream.fill_buf()).await
        }

        fn consume(&mut self, amount: usize) {
            std::pin::Pin::new(&mut self.stream).consume(amount)
        }

        async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
            let timeout = self.timeout;
            let stream = &mut self.stream;
            tls::adapter::timed(timeout, "sending a command", async move {
                stream.write_all(bytes).await?;
                stream.flush().await
            })
            .await
        }
    }

    /// A tokio writer as a [`MessageSink`].
    pub(crate) struct AsyncSink<'a, W>(pub &'a mut W);

    impl<W: AsyncWrite + Unpin> MessageSink for AsyncSink<'_, W> {
        async fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
            self.0.write_all(bytes).await
        }

        async fn flush(&mut self) -> std::io::Result<()> {
            self.0.flush().await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails its first read with EINTR, as a socket read with a timeout does when a signal
    /// handler runs, then reads its bytes.
    struct InterruptedOnce {
        interrupted: bool,
        bytes: io::Cursor<Vec<u8>>,
    }

    impl Read for InterruptedOnce {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.bytes.read(buf)
        }
    }

    impl BufRead for InterruptedOnce {
        fn fill_buf(&mut self) -> io::Result<&[u8]> {
            if !std::mem::replace(&mut self.interrupted, true) {
                return Err(io::ErrorKind::Interrupted.into());
            }
            BufRead::fill_buf(&mut self.bytes)
        }

        fn consume(&mut self, amount: usize) {
            BufRead::consume(&mut self.bytes, amount)
        }
    }

    impl Write for InterruptedOnce {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn an_interrupted_read_is_read_again() {
        let mut stream = InterruptedOnce {
            interrupted: false,
            bytes: io::Cursor::new(b"+OK ready\r\n".to_vec()),
        };
        let read =
            ready(async { Ok::<_, tls::Error>(LineStream::fill_buf(&mut stream).await?.to_vec()) });
        assert_eq!(read.unwrap(), b"+OK ready\r\n");
        LineStream::consume(&mut stream, 11);
        let end =
            ready(async { Ok::<_, tls::Error>(LineStream::fill_buf(&mut stream).await?.len()) });
        assert_eq!(end.unwrap(), 0);
    }
}
