//! The blocking SMTP connection: the shared [`Dialogue`] over a blocking socket.

use lettre::address::Envelope;
use lettre::transport::smtp::response::Response;

use crate::dialogue::Dialogue;
use crate::wire::blocking::{ready, Stream};
use crate::{Delivery, Error, SmtpTls};

/// A connected, TLS-protected (and, with credentials, logged-in) SMTP session.
///
/// Made by [`SmtpTls::connect`]. Send messages with [`send`](Self::send), end with
/// [`quit`](Self::quit); dropping it just closes the connection.
///
/// After an [`Error::Io`], [`Error::Tls`] or [`Error::Protocol`] from a command the
/// connection is broken (see [`is_broken`](Self::is_broken)): every later command fails
/// with [`Error::ConnectionBroken`] without writing anything, since a late reply to the
/// failed command could otherwise be taken as the answer to the next one. Connect again.
pub struct SmtpConnection {
    dialogue: Dialogue<Stream>,
}

impl SmtpConnection {
    pub(crate) fn open(config: &SmtpTls) -> Result<Self, Error> {
        let stream = Stream::connect(config)?;
        let dialogue = ready(Dialogue::open(stream, config))?;
        Ok(Self { dialogue })
    }

    /// Sends one message: MAIL FROM, RCPT TO for each recipient, DATA.
    ///
    /// Adds `SIZE=` when the server offers SIZE (counted as RFC 1870 says: CRLF line ends,
    /// not the doubled dots nor the final `.` line; a message above the server's limit is
    /// refused locally), `BODY=8BITMIME` when the body has 8-bit bytes (an error if the server
    /// lacks 8BITMIME) and `SMTPUTF8` when an address is not ASCII (an error if the server
    /// lacks it). The body's line ends become CRLF and leading dots are doubled on the wire,
    /// so the server stores exactly `body` when its lines end in CRLF.
    ///
    /// After a refusal ([`Error::Reply`], [`Error::RecipientsRefused`]) the transaction is
    /// reset with RSET and the connection can send again; after an I/O, TLS or protocol
    /// error it is broken and later commands fail with [`Error::ConnectionBroken`].
    pub fn send(&mut self, envelope: &Envelope, body: &[u8]) -> Result<Delivery, Error> {
        ready(self.dialogue.send(envelope, body))
    }

    /// RSET: abandons a transaction in progress.
    pub fn rset(&mut self) -> Result<Response, Error> {
        ready(self.dialogue.rset())
    }

    /// NOOP: checks the server is still there (and resets its idle timer).
    pub fn noop(&mut self) -> Result<Response, Error> {
        ready(self.dialogue.noop())
    }

    /// QUIT, then close_notify. On a broken connection it sends nothing, just closes the
    /// socket and returns [`Error::ConnectionBroken`].
    pub fn quit(self) -> Result<Response, Error> {
        ready(self.dialogue.quit())
    }

    crate::dialogue::session_accessors!();
}

impl std::fmt::Debug for SmtpConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.dialogue.fmt(f)
    }
}
