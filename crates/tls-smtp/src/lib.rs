//! SMTP with STARTTLS or implicit TLS over `tls` streams, sending lettre messages.
//!
//! Not implemented yet: this crate is filled by the tls-smtp issue.
#![forbid(unsafe_code)]
