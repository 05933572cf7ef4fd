//! When TLS starts, for the protocols that also have a plaintext form.

/// When TLS starts on a connection. Every adapter (SMTP, POP3, IMAP) takes this one type;
/// each picks its own default (submission prefers STARTTLS on 587, the mail readers implicit
/// TLS).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Security {
    /// TLS from the first byte (RFC 8314): SMTP submission on 465, POP3S on 995, IMAPS on 993.
    Implicit,
    /// A plaintext greeting, then STARTTLS (SMTP, IMAP) or STLS (POP3) before anything else:
    /// 587, 110, 143. A server that does not offer it or refuses is an error, never a
    /// fallback to plaintext, and nothing the server sends in plaintext after its go-ahead is
    /// read.
    StartTls,
}

/// A service whose usual ports [`Security::default_port`] knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Service {
    /// Mail submission (RFC 6409, RFC 8314).
    Submission,
    /// POP3 (RFC 1939, RFC 2595).
    Pop3,
    /// IMAP (RFC 3501, RFC 2595).
    Imap,
}

impl Security {
    /// True when the connection starts in plaintext and switches to TLS on request.
    pub fn starts_in_plaintext(self) -> bool {
        match self {
            Self::Implicit => false,
            Self::StartTls => true,
        }
    }

    /// The usual port of `service` in this mode.
    ///
    /// ```
    /// use tls::{Security, Service};
    ///
    /// assert_eq!(Security::Implicit.default_port(Service::Imap), 993);
    /// assert_eq!(Security::StartTls.default_port(Service::Submission), 587);
    /// ```
    pub fn default_port(self, service: Service) -> u16 {
        match (service, self) {
            (Service::Submission, Self::StartTls) => 587,
            (Service::Submission, Self::Implicit) => 465,
            (Service::Pop3, Self::StartTls) => 110,
            (Service::Pop3, Self::Implicit) => 995,
            (Service::Imap, Self::StartTls) => 143,
            (Service::Imap, Self::Implicit) => 993,
        }
    }
}
