//! SASL PLAIN (RFC 4616) for `AUTHENTICATE PLAIN`.

/// Answers the (empty) PLAIN challenge with `\0user\0password`; the `imap` crate encodes it.
pub(crate) struct PlainAuth<'a> {
    pub user: &'a str,
    pub password: &'a str,
}

impl ::imap::Authenticator for PlainAuth<'_> {
    type Response = Vec<u8>;

    fn process(&self, _challenge: &[u8]) -> Self::Response {
        let mut response = Vec::with_capacity(self.user.len() + self.password.len() + 2);
        response.push(0);
        response.extend_from_slice(self.user.as_bytes());
        response.push(0);
        response.extend_from_slice(self.password.as_bytes());
        response
    }
}

#[cfg(feature = "tokio")]
impl async_imap::Authenticator for PlainAuth<'_> {
    type Response = Vec<u8>;

    fn process(&mut self, challenge: &[u8]) -> Self::Response {
        ::imap::Authenticator::process(self, challenge)
    }
}
