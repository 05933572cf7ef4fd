//! A threaded TLS server (tlslite's `TLSSocketServerMixIn` with `ThreadingMixIn`): a thread
//! per connection with small stacks, a cap on connections, handshake and idle timeouts,
//! graceful shutdown, a handshake hook, server-side STARTTLS, and [`StaticFiles`], an
//! HTTPS static-file handler.
//!
//! ```no_run
//! use std::time::Duration;
//! use tls_server::{StaticFiles, TlsServer};
//!
//! let config = tls::ServerConfig::builder()
//!     .cert_chain(
//!         tls::CertificateChain::from_pem_file("cert.pem")?,
//!         tls::PrivateKey::from_pem_file("key.pem")?,
//!     )
//!     .build()?;
//! let server = TlsServer::builder(config)
//!     .idle_timeout(Duration::from_secs(30))
//!     .handshake_hook(|tls, conn| {
//!         println!("{} speaks {}", conn.peer_addr(), tls.session().version());
//!         true
//!     })
//!     .bind("127.0.0.1:4443")?;
//! server.serve(StaticFiles::new("public")?)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod http;
mod server;
mod slots;
mod socket;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub use http::fuzzing;
pub use http::StaticFiles;
pub use server::{
    ConnectionInfo, Handler, PlainConnection, PlainHandler, RunningServer, ShutdownHandle,
    TlsServer, TlsServerBuilder,
};
pub use socket::Socket;
