//! TCP for the tokio adapters: a host as users write it, every address tried, a deadline.

use std::io;
use std::time::Duration;

use ::tokio::net::TcpStream;

use super::{bare_host, timed};

/// Connects to `host:port` (a name, an IP address, or a bracketed IPv6 literal), trying each
/// address in turn, with `timeout` on resolving and on each attempt. `TCP_NODELAY` is set:
/// protocol adapters write whole commands and wait for replies, where Nagle's algorithm only
/// adds the peer's delayed-ACK time.
pub async fn connect(host: &str, port: u16, timeout: Duration) -> io::Result<TcpStream> {
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
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!("{host} resolves to no address"),
        )
    }))
}
