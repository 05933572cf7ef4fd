//! The byte stream under an SMTP session, blocking or tokio: plaintext until STARTTLS, TLS
//! after. The dialogue is written once against [`Wire`]; each driver implements it.

pub(crate) mod blocking;
mod reply;
#[cfg(feature = "tokio")]
pub(crate) mod tokio;

use tls::ClientConfig;

use crate::Error;
pub(crate) use reply::{code, read_reply, text};

/// What the SMTP dialogue needs from a connection.
///
/// The blocking implementation never returns `Pending` (its socket blocks instead), which is
/// what lets [`blocking::ready`] finish a dialogue step with a single poll.
pub(crate) trait Wire {
    /// Appends the bytes up to and including the next `\n` to `line`, reading at most `limit`
    /// bytes; returns how many it appended (0: the server closed the connection).
    async fn read_line(&mut self, line: &mut Vec<u8>, limit: u64) -> Result<usize, Error>;

    /// Writes all of `bytes` (maybe only into a buffer: call [`flush`](Self::flush)).
    async fn write_all(&mut self, bytes: &[u8]) -> Result<(), Error>;

    /// Sends everything written so far.
    async fn flush(&mut self) -> Result<(), Error>;

    /// After the server's go-ahead to STARTTLS: refuses plaintext already received (it
    /// could be injected), then runs the TLS handshake.
    async fn start_tls(&mut self, config: &ClientConfig, host: &str) -> Result<(), Error>;

    /// The TLS session, once there is one.
    fn session(&self) -> Option<&tls::Session>;

    /// Ends the connection, with close_notify under TLS (best effort: the server may be gone).
    async fn close(&mut self);
}

/// Writes one command line (lettre's commands print themselves with their CRLF) and sends it.
pub(crate) async fn send_command(
    wire: &mut impl Wire,
    command: impl std::fmt::Display,
) -> Result<(), Error> {
    wire.write_all(command.to_string().as_bytes()).await?;
    wire.flush().await
}
