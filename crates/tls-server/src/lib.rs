//! TLS servers with a handshake hook, caps on connections (in all and per client address),
//! handshake, request-head and idle deadlines, graceful shutdown and server-side STARTTLS, and
//! [`StaticFiles`], an HTTPS static-file handler. Two drivers share one builder and those rules:
//!
//! - [`AsyncTlsServer`]: event-driven, a tokio task per connection on every core; thousands of
//!   idle connections cost little. What `tls server` runs.
//! - [`TlsServer`]: a thread per connection with small stacks (tlslite's `TLSSocketServerMixIn`
//!   with `ThreadingMixIn`), for blocking handlers.
//!
//! ```no_run
//! use std::time::Duration;
//! use tls_server::{AsyncTlsServer, StaticFiles};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = tls::ServerConfig::builder()
//!     .cert_chain(
//!         tls::CertificateChain::from_pem_file("cert.pem")?,
//!         tls::PrivateKey::from_pem_file("key.pem")?,
//!     )
//!     .build()?;
//! let server = AsyncTlsServer::builder(config)
//!     .idle_timeout(Duration::from_secs(30))
//!     .handshake_hook(|session, conn| {
//!         println!("{} speaks {}", conn.peer_addr(), session.version());
//!         true
//!     })
//!     .bind_async("127.0.0.1:4443")?;
//! server.serve(StaticFiles::new("public")?).await?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod async_server;
mod builder;
mod http;
mod server;
mod slots;
mod socket;

pub use async_server::{
    AsyncHandler, AsyncPlainConnection, AsyncPlainHandler, AsyncSocket, AsyncTlsServer,
    AsyncTlsStream,
};
pub use builder::{ConnectionInfo, RunningServer, ShutdownHandle, TlsServerBuilder};
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub use http::fuzzing;
pub use http::StaticFiles;
pub use server::{Handler, PlainConnection, PlainHandler, TlsServer};
pub use socket::Socket;
