//! TLS-SRP (RFC 5054): mutual authentication from a username and password, no certificates.
//!
//! Our own TLS 1.2 engine for the SRP suites, shaped like rustls's connections so that
//! [`TlsStream`](crate::TlsStream) drives it unchanged. Clients get it with
//! [`ClientConfigBuilder::srp`](crate::ClientConfigBuilder::srp), servers with
//! [`ServerConfigBuilder::verifier_db`](crate::ServerConfigBuilder::verifier_db).

pub(crate) mod client;
pub(crate) mod codec;
pub(crate) mod conn;
mod database;
pub(crate) mod deframe;
pub(crate) mod extension;
pub mod gnutls;
mod groups;
mod math;
mod negotiated;
#[cfg(feature = "postgres")]
mod postgres_db;
mod prf;
mod private_file;
pub(crate) mod record;
pub(crate) mod server;
pub(crate) mod sessions;
#[cfg(feature = "sqlite")]
mod sqlite;
pub(crate) mod suites;
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) mod testing;
mod verifier;

#[cfg(test)]
mod tests;

pub use database::{create_database, is_postgres_url, open_database, UserDatabase};
pub use groups::SrpGroup;
#[cfg(feature = "postgres")]
pub use postgres_db::PostgresVerifierDb;
pub use private_file::readable_by_others;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteVerifierDb;
pub(crate) use verifier::check_username;
pub use verifier::{make_verifier, MemoryVerifierDb, VerifierEntry, VerifierStore, MAX_USERNAME};
