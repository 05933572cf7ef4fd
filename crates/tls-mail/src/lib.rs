//! POP3 and IMAP over implicit TLS and STLS/STARTTLS on `tls` streams.
//!
//! Not implemented yet: this crate is filled by the tls-mail issue.
#![forbid(unsafe_code)]
