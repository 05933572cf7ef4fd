//! What the two protocols share: blocking TCP with timeouts.

use std::io;
use std::net::TcpStream;
use std::time::Duration;

/// The read and write timeout on mail sockets unless a builder says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Connects with `timeout` on the connect itself and on every later read and write.
pub(crate) fn tcp(host: &str, port: u16, timeout: Duration) -> io::Result<TcpStream> {
    tls::adapter::connect_blocking(host, port, timeout)
}

/// Sets the read and write timeouts on a socket the caller connected.
pub(crate) fn with_timeouts(sock: &TcpStream, timeout: Duration) -> io::Result<()> {
    sock.set_read_timeout(Some(timeout))?;
    sock.set_write_timeout(Some(timeout))
}
