//! lettre's transports for [`SmtpTls`] and [`AsyncSmtpTls`](crate::AsyncSmtpTls):
//! `mailer.send(&message)` over our TLS.

use lettre::address::Envelope;
use lettre::transport::smtp::response::Response;
use lettre::Transport;

use crate::{Delivery, Error, SmtpTls};

impl Transport for SmtpTls {
    type Ok = Response;
    type Error = Error;

    /// Connects, sends the message, quits. Returns the server's reply to the message.
    fn send_raw(&self, envelope: &Envelope, email: &[u8]) -> Result<Response, Error> {
        let mut conn = self.connect()?;
        let delivery = conn.send(envelope, email)?;
        Ok(accepted(delivery, conn.quit()))
    }
}

#[cfg(feature = "tokio")]
#[async_trait::async_trait]
impl lettre::AsyncTransport for crate::AsyncSmtpTls {
    type Ok = Response;
    type Error = Error;

    /// Connects, sends the message, quits. Returns the server's reply to the message.
    async fn send_raw(&self, envelope: &Envelope, email: &[u8]) -> Result<Response, Error> {
        let mut conn = self.connect().await?;
        let delivery = conn.send(envelope, email).await?;
        Ok(accepted(delivery, conn.quit().await))
    }
}

/// The reply to a message the server took; the refusals and a failed QUIT are only logged,
/// since the message is accepted at this point.
fn accepted(delivery: Delivery, quit: Result<Response, Error>) -> Response {
    for r in &delivery.refused {
        log::warn!("recipient refused, message sent to the others: {r}");
    }
    if let Err(e) = quit {
        log::debug!("QUIT after sending failed: {e}");
    }
    delivery.response
}
