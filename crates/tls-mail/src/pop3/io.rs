//! What the POP3 conversation needs from a connection and from the writer a message streams
//! into, for blocking and tokio I/O alike: the conversation is written once, as `async` code,
//! against these traits (the blocking client runs it with [`tls::adapter::ready`]).

use std::io::{BufRead, Write};

use super::Error;

/// A buffered connection: replies are read line by line from its buffer, commands written.
pub(crate) trait LineStream {
    /// The buffered bytes, reading more if there are none; empty once the server closed.
    async fn fill_buf(&mut self) -> Result<&[u8], Error>;

    /// Marks `amount` buffered bytes as read.
    fn consume(&mut self, amount: usize);

    /// Writes all of `bytes` and sends them.
    async fn send(&mut self, bytes: &[u8]) -> Result<(), Error>;
}

/// Where RETR and TOP put a message, piece by piece.
pub(crate) trait MessageSink {
    async fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()>;
    async fn flush(&mut self) -> std::io::Result<()>;
}

impl<S: BufRead + Write> LineStream for S {
    async fn fill_buf(&mut self) -> Result<&[u8], Error> {
        BufRead::fill_buf(self).map_err(Error::from_io)
    }

    fn consume(&mut self, amount: usize) {
        BufRead::consume(self, amount)
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.write_all(bytes).map_err(Error::from_io)?;
        self.flush().map_err(Error::from_io)
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

    use super::{Error, LineStream, MessageSink};

    /// A tokio connection whose every wait is bounded by `timeout`.
    pub(crate) struct TimedStream<S> {
        pub stream: S,
        pub timeout: Duration,
    }

    impl<S: AsyncRead + AsyncWrite + Unpin> LineStream for TimedStream<BufReader<S>> {
        async fn fill_buf(&mut self) -> Result<&[u8], Error> {
            // Most calls find bytes already buffered (a message is read a line at a time):
            // those need no timer, and arming one per line cost a tenth of RETR's throughput.
            if !self.stream.buffer().is_empty() {
                return Ok(self.stream.buffer());
            }
            tls::adapter::timed(self.timeout, "reading a reply", self.stream.fill_buf())
                .await
                .map_err(Error::from_io)
        }

        fn consume(&mut self, amount: usize) {
            std::pin::Pin::new(&mut self.stream).consume(amount)
        }

        async fn send(&mut self, bytes: &[u8]) -> Result<(), Error> {
            let timeout = self.timeout;
            let stream = &mut self.stream;
            tls::adapter::timed(timeout, "sending a command", async move {
                stream.write_all(bytes).await?;
                stream.flush().await
            })
            .await
            .map_err(Error::from_io)
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
