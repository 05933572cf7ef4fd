//! TCP for the adapters: a host as users write it, every address tried, a deadline on each
//! wait. Both connect with `TCP_NODELAY`: adapters write whole commands and wait for replies,
//! where Nagle's algorithm only adds the peer's delayed-ACK time.

use std::io;
use std::net::ToSocketAddrs;
use std::time::Duration;

use super::bare_host;

/// Connects to `host:port` (a name, an IP address, or a bracketed IPv6 literal), trying each
/// address in turn, with `timeout` on each attempt and as the socket's read and write timeout.
pub fn connect_blocking(
    host: &str,
    port: u16,
    timeout: Duration,
) -> io::Result<std::net::TcpStream> {
    let mut last = None;
    for addr in (bare_host(host), port).to_socket_addrs()? {
        match std::net::TcpStream::connect_timeout(&addr, timeout) {
            Ok(tcp) => {
                tcp.set_read_timeout(Some(timeout))?;
                tcp.set_write_timeout(Some(timeout))?;
                tcp.set_nodelay(true)?;
                return Ok(tcp);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| no_address(host)))
}

fn no_address(host: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("{host} resolves to no address"),
    )
}

/// [`connect_blocking`] for tokio, with `timeout` on resolving too.
#[cfg(feature = "tokio")]
pub async fn connect(
    host: &str,
    port: u16,
    timeout: Duration,
) -> io::Result<::tokio::net::TcpStream> {
    use ::tokio::net::TcpStream;

    use super::timed;

    let addresses = timed(timeout, "resolving the host", async {
        ::tokio::net::lookup_host((bare_host(host), port)).await
    })
    .await?;
    let mut last = None;
    for addr in addresses {
        match timed(timeout, "connecting", TcpStream::connect(addr)).await {
            Ok(tcp) => {
                tcp.set_nodelay(true)?;
                return Ok(tcp);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| no_address(host)))
}
