//! `lettre::Transport` for [`SmtpTls`]: `mailer.send(&message)` over our TLS.

use lettre::address::Envelope;
use lettre::transport::smtp::response::Response;
use lettre::Transport;

use crate::{Error, SmtpTls};

impl Transport for SmtpTls {
    type Ok = Response;
    type Error = Error;

    /// Connects, sends the message, quits. Returns the server's reply to the message.
    fn send_raw(&self, envelope: &Envelope, email: &[u8]) -> Result<Response, Error> {
        let mut conn = self.connect()?;
        let delivery = conn.send(envelope, email)?;
        for r in &delivery.refused {
            log::warn!("recipient refused, message sent to the others: {r}");
        }
        // The message is accepted at this point; a failing QUIT changes nothing about that.
        if let Err(e) = conn.quit() {
            log::debug!("QUIT after sending failed: {e}");
        }
        Ok(delivery.response)
    }
}
