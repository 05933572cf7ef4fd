//! Scripted servers for the modes no real server speaks here (SRP mail, client certificates
//! on mail ports, downgrade and injection attacks, malformed or dropped replies): SMTP, POP3
//! and IMAP on `tls_server`, each recording what the client sent.

mod mail;
pub mod smtp;

pub use mail::*;
