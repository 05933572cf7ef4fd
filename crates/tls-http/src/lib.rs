//! HTTPS requests over `tls` streams with every authentication mode, on ureq.
//!
//! Not implemented yet: this crate is filled by the tls-http issue.
#![forbid(unsafe_code)]
