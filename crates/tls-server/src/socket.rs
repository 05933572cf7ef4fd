//! The server's view of a TCP connection: a socket whose reads obey a total deadline while the
//! client owes something in bounded time (a handshake, a request head, the plaintext phase
//! before STARTTLS), so a client trickling bytes cannot hold a slot, and an idle timeout
//! otherwise.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A TCP connection accepted by [`TlsServer`](crate::TlsServer).
#[derive(Debug)]
pub struct Socket {
    tcp: TcpStream,
    deadline: Option<Instant>,
    idle_timeout: Duration,
}

impl Socket {
    pub(crate) fn new(tcp: TcpStream, idle_timeout: Duration) -> io::Result<Self> {
        tcp.set_nodelay(true)?;
        tcp.set_read_timeout(Some(idle_timeout))?;
        tcp.set_write_timeout(Some(idle_timeout))?;
        Ok(Self {
            tcp,
            deadline: None,
            idle_timeout,
        })
    }

    /// The deadline in force, if any.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Every read and write must finish by `deadline`; `None` goes back to the idle timeout.
    pub(crate) fn set_deadline(&mut self, deadline: Option<Instant>) -> io::Result<()> {
        self.deadline = deadline;
        if deadline.is_none() {
            self.tcp.set_read_timeout(Some(self.idle_timeout))?;
            self.tcp.set_write_timeout(Some(self.idle_timeout))?;
        }
        Ok(())
    }

    /// Applies what is left of the deadline as the socket timeout.
    fn arm(&self) -> io::Result<()> {
        if let Some(deadline) = self.deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "deadline passed"));
            }
            self.tcp.set_read_timeout(Some(left))?;
            self.tcp.set_write_timeout(Some(left))?;
        }
        Ok(())
    }

    /// The client's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.peer_addr()
    }

    /// The underlying TCP stream (e.g. to change timeouts).
    pub fn tcp(&self) -> &TcpStream {
        &self.tcp
    }
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.arm()?;
        self.tcp.read(buf)
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.arm()?;
        self.tcp.write(buf)
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.arm()?;
        self.tcp.write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}
