//! Leaving the plaintext phase of STARTTLS: the socket back from its line reader, but only if
//! the reader holds nothing more.
//!
//! After the go-ahead to STARTTLS (the server's, read by a client; the client's command, read
//! by a server), anything already buffered arrived in plaintext: taken as if it had come over
//! TLS it would let an attacker on the path inject commands or replies (CVE-2011-0411). Every
//! adapter, client or server, ends its plaintext phase through these two functions.

use std::fmt;

/// The peer sent bytes after the STARTTLS go-ahead, before the handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlaintextAfterStartTls {
    /// How many bytes were waiting.
    pub bytes: usize,
}

impl fmt::Display for PlaintextAfterStartTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} bytes of plaintext arrived after the STARTTLS go-ahead, before TLS (possible injection)",
            self.bytes
        )
    }
}

impl std::error::Error for PlaintextAfterStartTls {}

/// The socket under `reader`, or an error if the reader holds unread bytes.
///
/// ```
/// use std::io::{BufRead, BufReader};
///
/// let mut reader = BufReader::new(&b"220 go ahead\r\n"[..]);
/// let mut line = String::new();
/// reader.read_line(&mut line)?;
/// assert!(tls::adapter::unbuffered(reader).is_ok());
///
/// let mut reader = BufReader::new(&b"220 go ahead\r\n250 forged\r\n"[..]);
/// reader.read_line(&mut line)?;
/// assert_eq!(tls::adapter::unbuffered(reader).unwrap_err().bytes, 12);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn unbuffered<R>(reader: std::io::BufReader<R>) -> Result<R, PlaintextAfterStartTls> {
    match reader.buffer().len() {
        0 => Ok(reader.into_inner()),
        bytes => Err(PlaintextAfterStartTls { bytes }),
    }
}

/// [`unbuffered`] for tokio's `BufReader`.
#[cfg(feature = "tokio")]
pub fn unbuffered_async<R: ::tokio::io::AsyncRead>(
    reader: ::tokio::io::BufReader<R>,
) -> Result<R, PlaintextAfterStartTls> {
    match reader.buffer().len() {
        0 => Ok(reader.into_inner()),
        bytes => Err(PlaintextAfterStartTls { bytes }),
    }
}
