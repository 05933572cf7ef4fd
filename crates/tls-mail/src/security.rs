//! What the two protocols share: when TLS starts, and TCP with timeouts.

use std::io;
use std::net::TcpStream;
use std::time::Duration;

/// The read and write timeout on mail sockets unless a builder says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// When TLS starts on a mail connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (POP3S on 995, IMAPS on 993). The default.
    #[default]
    Implicit,
    /// A plaintext greeting, then STLS (POP3, 110) or STARTTLS (IMAP, 143) before anything
    /// else. A server that refuses is an error: there is no fallback to plaintext.
    StartTls,
}

/// Connects with `timeout` on the connect itself and on every later read and write.
pub(crate) fn tcp(host: &str, port: u16, timeout: Duration) -> io::Result<TcpStream> {
    use std::net::ToSocketAddrs;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let mut last = io::Error::new(io::ErrorKind::NotFound, format!("{host} has no address"));
    for addr in (bare, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(sock) => {
                with_timeouts(&sock, timeout)?;
                return Ok(sock);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Sets the read and write timeouts on a socket the caller connected.
pub(crate) fn with_timeouts(sock: &TcpStream, timeout: Duration) -> io::Result<()> {
    sock.set_read_timeout(Some(timeout))?;
    sock.set_write_timeout(Some(timeout))
}
