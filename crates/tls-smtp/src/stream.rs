//! The byte stream under an SMTP session: plaintext TCP until STARTTLS, TLS after.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;

use tls::{ClientConfig, TlsStream};

use crate::Error;

/// Plaintext (buffered) or TLS. `Closed` only exists while switching.
pub(crate) enum Stream {
    Plain(BufReader<TcpStream>),
    Tls(Box<TlsStream<TcpStream>>),
    Closed,
}

impl Stream {
    pub(crate) fn plain(tcp: TcpStream) -> Self {
        Self::Plain(BufReader::new(tcp))
    }

    /// Handshakes right away (implicit TLS, port 465).
    pub(crate) fn tls(config: &ClientConfig, host: &str, tcp: TcpStream) -> Result<Self, Error> {
        Ok(Self::Tls(Box::new(config.connect(host, tcp)?)))
    }

    /// Switches a plaintext stream to TLS after the server said yes to STARTTLS.
    ///
    /// Anything already buffered arrived in plaintext after that yes: it was not sent under
    /// TLS and must not be read as if it were (the STARTTLS injection attack).
    pub(crate) fn upgrade(&mut self, config: &ClientConfig, host: &str) -> Result<(), Error> {
        let Self::Plain(reader) = std::mem::replace(self, Self::Closed) else {
            return Err(Error::Protocol(
                "STARTTLS on a stream that is not plaintext".into(),
            ));
        };
        if !reader.buffer().is_empty() {
            return Err(Error::PlaintextAfterStartTls);
        }
        *self = Self::tls(config, host, reader.into_inner())?;
        Ok(())
    }

    /// The TLS session, once there is one.
    pub(crate) fn session(&self) -> Option<&tls::Session> {
        match self {
            Self::Tls(tls) => Some(tls.session()),
            _ => None,
        }
    }

    pub(crate) fn is_tls(&self) -> bool {
        matches!(self, Self::Tls(_))
    }

    /// Ends the connection, with close_notify under TLS (best effort: the server may be gone).
    pub(crate) fn close(self) {
        if let Self::Tls(tls) = self {
            let _ = tls.close();
        }
    }
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "connection closed")
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(r) => r.read(buf),
            Self::Tls(t) => t.read(buf),
            Self::Closed => Err(closed()),
        }
    }
}

impl BufRead for Stream {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match self {
            Self::Plain(r) => r.fill_buf(),
            Self::Tls(t) => t.fill_buf(),
            Self::Closed => Err(closed()),
        }
    }

    fn consume(&mut self, amount: usize) {
        match self {
            Self::Plain(r) => r.consume(amount),
            Self::Tls(t) => t.consume(amount),
            Self::Closed => {}
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Plain(r) => r.get_mut().write(buf),
            Self::Tls(t) => t.write(buf),
            Self::Closed => Err(closed()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Plain(r) => r.get_mut().flush(),
            Self::Tls(t) => t.flush(),
            Self::Closed => Err(closed()),
        }
    }
}
