//! The blocking wire: plaintext TCP until STARTTLS, TLS after, with socket timeouts.

use std::future::Future;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;

use tls::{ClientConfig, TlsStream};

use super::Wire;
use crate::{Error, SmtpTls};

/// Runs one dialogue step over the blocking [`Stream`]. Its I/O blocks rather than returning
/// `Pending`, so a single poll finishes the step.
pub(crate) fn ready<T>(step: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
    tls::adapter::ready(step).unwrap_or_else(|| {
        Err(Error::Protocol(
            "a blocking SMTP step waited on something other than its socket".into(),
        ))
    })
}

/// Plaintext (buffered) or TLS. `Closed` only exists while switching.
pub(crate) enum Stream {
    Plain(BufReader<TcpStream>),
    Tls(Box<TlsStream<TcpStream>>),
    Closed,
}

impl Stream {
    /// Connects as `config` says: plaintext for STARTTLS, a TLS handshake for implicit TLS.
    pub(crate) fn connect(config: &SmtpTls) -> Result<Self, Error> {
        let tcp = config.tcp()?;
        if config.security.starts_in_plaintext() {
            return Ok(Self::Plain(BufReader::new(tcp)));
        }
        Self::tls(&config.tls, &config.host, tcp)
    }

    /// Handshakes right away (implicit TLS, port 465).
    pub(crate) fn tls(config: &ClientConfig, host: &str, tcp: TcpStream) -> Result<Self, Error> {
        Ok(Self::Tls(Box::new(config.connect(host, tcp)?)))
    }

    /// The socket of a plaintext stream after the server said yes to STARTTLS, refusing
    /// plaintext already received after that yes.
    pub(crate) fn into_socket(self) -> Result<TcpStream, Error> {
        let Self::Plain(reader) = self else {
            return Err(Error::Protocol(
                "STARTTLS on a stream that is not plaintext".into(),
            ));
        };
        tls::adapter::unbuffered(reader).map_err(|_| Error::PlaintextAfterStartTls)
    }

    /// Switches a plaintext stream to TLS after the server said yes to STARTTLS.
    ///
    /// Anything already buffered arrived in plaintext after that yes: it was not sent under
    /// TLS and must not be read as if it were (the STARTTLS injection attack).
    pub(crate) fn upgrade(&mut self, config: &ClientConfig, host: &str) -> Result<(), Error> {
        let tcp = std::mem::replace(self, Self::Closed).into_socket()?;
        *self = Self::tls(config, host, tcp)?;
        Ok(())
    }
}

impl Wire for Stream {
    async fn read_line(&mut self, line: &mut Vec<u8>, limit: u64) -> Result<usize, Error> {
        Ok(self.take(limit).read_until(b'\n', line)?)
    }

    async fn write_all(&mut self, bytes: &[u8]) -> Result<(), Error> {
        Ok(Write::write_all(self, bytes)?)
    }

    async fn flush(&mut self) -> Result<(), Error> {
        Ok(Write::flush(self)?)
    }

    async fn start_tls(&mut self, config: &ClientConfig, host: &str) -> Result<(), Error> {
        self.upgrade(config, host)
    }

    fn session(&self) -> Option<&tls::Session> {
        match self {
            Self::Tls(tls) => Some(tls.session()),
            _ => None,
        }
    }

    async fn close(&mut self) {
        if let Self::Tls(tls) = std::mem::replace(self, Self::Closed) {
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

/// Replies from any `BufRead` (a byte string, say), for the unit tests and the fuzzer: reads
/// go to it, writes go nowhere.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) struct Replay<R>(pub R);

#[cfg(any(test, feature = "fuzzing"))]
impl<R: BufRead> Wire for Replay<R> {
    async fn read_line(&mut self, line: &mut Vec<u8>, limit: u64) -> Result<usize, Error> {
        Ok((&mut self.0).take(limit).read_until(b'\n', line)?)
    }

    async fn write_all(&mut self, _: &[u8]) -> Result<(), Error> {
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), Error> {
        Ok(())
    }

    async fn start_tls(&mut self, _: &ClientConfig, _: &str) -> Result<(), Error> {
        Err(Error::Protocol("no TLS on a replay".into()))
    }

    fn session(&self) -> Option<&tls::Session> {
        None
    }

    async fn close(&mut self) {}
}
