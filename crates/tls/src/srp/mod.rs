//! TLS-SRP (RFC 5054): mutual authentication from a username and password, no certificates.
//!
//! This module holds SRP itself: the SRP-6a arithmetic, the RFC 5054 groups, verifier entries
//! and the [`VerifierStore`] trait, and GnuTLS's `tpasswd` format. The handshakes that carry it
//! are our TLS 1.2 engine's, with SRP as its key exchange. Clients get it with
//! [`ClientConfigBuilder::srp`](crate::ClientConfigBuilder::srp), servers with
//! [`ServerConfigBuilder::verifier_db`](crate::ServerConfigBuilder::verifier_db); the stores
//! live in the crate's `store` module and are re-exported here, where users look for them.

pub mod gnutls;
mod groups;
pub(crate) mod math;
mod verifier;

pub use groups::SrpGroup;
pub(crate) use verifier::random_bytes;
pub(crate) use verifier::{check_username, SALT_LEN};
pub use verifier::{make_verifier, MemoryVerifierDb, VerifierEntry, VerifierStore, MAX_USERNAME};

#[cfg(feature = "postgres")]
pub use crate::store::PostgresVerifierDb;
#[cfg(feature = "sqlite")]
pub use crate::store::SqliteVerifierDb;
pub use crate::store::{
    create_database, is_postgres_url, location_from_argument, open_database, readable_by_others,
    write_private, UserDatabase,
};
