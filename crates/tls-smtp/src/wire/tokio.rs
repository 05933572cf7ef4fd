//! The tokio wire: plaintext TCP until STARTTLS, TLS after, every wait under the timeout.

use std::future::Future;
use std::io;
use std::time::Duration;

use tls::ClientConfig;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::Wire;
use crate::{Error, SmtpTls};

enum Io {
    Plain(BufReader<TcpStream>),
    Tls(Box<BufReader<tls::tokio::TlsStream<TcpStream>>>),
    /// Only while switching to TLS, or after closing.
    Closed,
}

/// The connection under an async SMTP session.
pub(crate) struct AsyncStream {
    io: Io,
    /// Bounds every network wait: connecting, each read, each write, the handshake.
    timeout: Duration,
}

/// `what` under `limit`, as the crate's error.
async fn timed<T>(
    limit: Duration,
    what: &str,
    work: impl Future<Output = io::Result<T>>,
) -> Result<T, Error> {
    Ok(tls::adapter::timed(limit, what, work).await?)
}

async fn read_line(
    reader: &mut (impl AsyncBufRead + Unpin),
    line: &mut Vec<u8>,
    limit: u64,
) -> io::Result<usize> {
    reader.take(limit).read_until(b'\n', line).await
}

fn closed() -> Error {
    Error::Io(io::Error::new(
        io::ErrorKind::NotConnected,
        "connection closed",
    ))
}

impl AsyncStream {
    /// Connects as `config` says: plaintext for STARTTLS, a TLS handshake for implicit TLS.
    pub(crate) async fn connect(config: &SmtpTls) -> Result<Self, Error> {
        let tcp = tls::adapter::connect(&config.host, config.port, config.timeout).await?;
        let mut stream = Self {
            io: Io::Plain(BufReader::new(tcp)),
            timeout: config.timeout,
        };
        if !config.security.starts_in_plaintext() {
            stream.handshake(&config.tls, &config.host).await?;
        }
        Ok(stream)
    }

    /// Runs the handshake over the plaintext connection, refusing bytes already buffered.
    async fn handshake(&mut self, config: &ClientConfig, host: &str) -> Result<(), Error> {
        let Io::Plain(reader) = std::mem::replace(&mut self.io, Io::Closed) else {
            return Err(Error::Protocol(
                "STARTTLS on a stream that is not plaintext".into(),
            ));
        };
        let tcp =
            tls::adapter::unbuffered_async(reader).map_err(|_| Error::PlaintextAfterStartTls)?;
        let tls = tls::adapter::handshake(config, host, tcp, self.timeout).await?;
        self.io = Io::Tls(Box::new(BufReader::new(tls)));
        Ok(())
    }
}

impl Wire for AsyncStream {
    async fn read_line(&mut self, line: &mut Vec<u8>, limit: u64) -> Result<usize, Error> {
        let t = self.timeout;
        match &mut self.io {
            Io::Plain(r) => timed(t, "reading a reply", read_line(r, line, limit)).await,
            Io::Tls(r) => timed(t, "reading a reply", read_line(r, line, limit)).await,
            Io::Closed => Err(closed()),
        }
    }

    async fn write_all(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let t = self.timeout;
        match &mut self.io {
            Io::Plain(w) => timed(t, "writing", w.write_all(bytes)).await,
            Io::Tls(w) => timed(t, "writing", w.write_all(bytes)).await,
            Io::Closed => Err(closed()),
        }
    }

    async fn flush(&mut self) -> Result<(), Error> {
        let t = self.timeout;
        match &mut self.io {
            Io::Plain(w) => timed(t, "writing", w.flush()).await,
            Io::Tls(w) => timed(t, "writing", w.flush()).await,
            Io::Closed => Err(closed()),
        }
    }

    async fn start_tls(&mut self, config: &ClientConfig, host: &str) -> Result<(), Error> {
        self.handshake(config, host).await
    }

    fn session(&self) -> Option<&tls::Session> {
        match &self.io {
            Io::Tls(tls) => Some(tls.get_ref().session()),
            _ => None,
        }
    }

    async fn close(&mut self) {
        if let Io::Tls(mut tls) = std::mem::replace(&mut self.io, Io::Closed) {
            let _ = timed(self.timeout, "closing", tls.shutdown()).await;
        }
    }
}
