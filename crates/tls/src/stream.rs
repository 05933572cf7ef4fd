//! `TlsStream`: the blocking driver. It moves bytes between a `Read + Write` transport and a
//! [`Connection`], which decides everything else.

use std::io::{self, BufRead, Read, Write};

use crate::{Connection, Error, Session};

/// Size of the buffer behind [`BufRead`]: enough for request heads and lines; bulk reads go
/// through `Read` without it. Every idle connection waiting in `fill_buf` holds one.
const BUF_READ_SIZE: usize = 8 * 1024;

/// A TLS connection over a transport `S` (usually a `TcpStream`), after a successful handshake.
///
/// It implements `Read`, `Write` and `BufRead`. Errors from those come as `io::Error`s that
/// carry a [`tls::Error`](Error) inside (`Error::from(io_error)` gets it back).
/// Call [`close`](Self::close) to send close_notify; dropping the stream just drops the socket.
pub struct TlsStream<S> {
    sock: S,
    conn: Connection,
    /// Plaintext read ahead by `fill_buf` (allocated on first use), served before anything
    /// else: `read_ahead[read_ahead_pos..read_ahead_len]`.
    read_ahead: Box<[u8]>,
    read_ahead_pos: usize,
    read_ahead_len: usize,
}

impl<S: Read + Write> TlsStream<S> {
    /// Runs `conn`'s handshake over `sock` to completion (the Checker included).
    pub(crate) fn handshake(sock: S, conn: Connection) -> Result<Self, Error> {
        let mut stream = Self {
            sock,
            conn,
            read_ahead: Box::default(),
            read_ahead_pos: 0,
            read_ahead_len: 0,
        };
        while stream.conn.is_handshaking() {
            stream.exchange()?;
        }
        stream.flush_tls()?;
        Ok(stream)
    }

    /// What the handshake negotiated.
    pub fn session(&self) -> &Session {
        // A TlsStream exists only after its handshake, so the session is always there.
        self.conn.session().unwrap_or(&crate::session::NO_SESSION)
    }

    /// When set, a peer that closes without close_notify reads as a clean end of stream
    /// instead of [`Error::AbruptClose`] (for peers known to do so, e.g. old HTTP/1.0 servers).
    pub fn set_ignore_abrupt_close(&mut self, ignore: bool) {
        self.conn.set_ignore_abrupt_close(ignore);
    }

    /// The transport.
    pub fn get_ref(&self) -> &S {
        &self.sock
    }

    /// The transport, e.g. to set timeouts. Reading or writing it directly corrupts the stream.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.sock
    }

    /// Sends close_notify and hands the transport back (still open).
    pub fn close(mut self) -> Result<S, Error> {
        self.conn.send_close_notify();
        self.flush_tls()?;
        self.sock.flush()?;
        Ok(self.sock)
    }

    /// Writes out everything the connection has queued.
    fn flush_tls(&mut self) -> Result<(), Error> {
        while self.conn.wants_write() {
            match self.conn.write_tls(&mut self.sock) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.alert_behind(e)),
            }
        }
        Ok(())
    }

    /// A write failed because the peer hung up; it often sent a fatal alert first (a TLS 1.3
    /// server refusing our certificate after we finished). Report that alert, which says why,
    /// rather than the broken pipe, when it is there to read.
    fn alert_behind(&mut self, write_error: io::Error) -> Error {
        use io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset};
        if matches!(
            write_error.kind(),
            BrokenPipe | ConnectionReset | ConnectionAborted
        ) && matches!(self.read_tls_retrying(), Ok(n) if n > 0)
        {
            if let Err(alert @ Error::RemoteAlert { .. }) = self.conn.process_new_packets() {
                return alert;
            }
        }
        Error::Io(write_error)
    }

    /// One read from the transport into the connection, read again when a signal cut it
    /// short (a socket with a timeout is never restarted, even under SA_RESTART).
    fn read_tls_retrying(&mut self) -> io::Result<usize> {
        loop {
            match self.conn.read_tls(&mut self.sock) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                read => return read,
            }
        }
    }

    /// Sends what is queued, then reads and processes one batch of records.
    fn exchange(&mut self) -> Result<(), Error> {
        self.flush_tls()?;
        self.read_tls_retrying().map_err(Error::Io)?;
        if let Err(e) = self.conn.process_new_packets() {
            // Deliver the alert the connection queued; the error we report is ours, not the
            // write's.
            let _ = self.flush_tls();
            return Err(e);
        }
        Ok(())
    }

    fn read_plaintext(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.conn.read_plaintext(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.exchange()?,
                other => return other,
            }
        }
    }
}

impl<S: Read + Write> Read for TlsStream<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.read_ahead_pos < self.read_ahead_len {
            let n = (&self.read_ahead[self.read_ahead_pos..self.read_ahead_len]).read(buf)?;
            self.consume(n);
            return Ok(n);
        }
        self.read_plaintext(buf)
    }
}

impl<S: Read + Write> BufRead for TlsStream<S> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.read_ahead_pos >= self.read_ahead_len {
            let mut buf = std::mem::take(&mut self.read_ahead);
            if buf.is_empty() {
                buf = vec![0; BUF_READ_SIZE].into_boxed_slice();
            }
            let n = self.read_plaintext(&mut buf);
            self.read_ahead = buf;
            self.read_ahead_pos = 0;
            self.read_ahead_len = n?;
        }
        Ok(&self.read_ahead[self.read_ahead_pos..self.read_ahead_len])
    }

    fn consume(&mut self, amount: usize) {
        self.read_ahead_pos = (self.read_ahead_pos + amount).min(self.read_ahead_len);
    }
}

impl<S: Read + Write> Write for TlsStream<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Drained first, the connection's bounded buffer has room for at least one record.
        self.flush_tls()?;
        let n = self.conn.write_plaintext(buf)?;
        self.flush_tls()?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_tls()?;
        self.sock.flush()
    }
}

impl<S> std::fmt::Debug for TlsStream<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsStream")
            .field("session", &self.conn.session())
            .finish_non_exhaustive()
    }
}
