//! Verifier databases one can manage (what `tlsdb` works on), whichever their backend: a SQLite
//! file for one machine, PostgreSQL for a fleet.

use crate::srp::{VerifierEntry, VerifierStore};
use crate::Error;

/// A verifier store whose users can be listed and changed. Every change is all or nothing.
pub trait UserDatabase: VerifierStore {
    /// Adds a user; fails if the name is taken or the entry is unfit
    /// ([`VerifierEntry::validate`]).
    fn add_user(&self, username: &str, entry: &VerifierEntry) -> Result<(), Error> {
        self.add_users(&[(username.to_owned(), entry.clone())])
    }

    /// Adds every user or, if any one fails, none.
    fn add_users(&self, users: &[(String, VerifierEntry)]) -> Result<(), Error>;

    /// Replaces an existing user's entry (a password change); fails if there is no such user.
    fn replace_user(&self, username: &str, entry: &VerifierEntry) -> Result<(), Error>;

    /// Removes a user; fails if there is none.
    fn remove_user(&self, username: &str) -> Result<(), Error>;

    /// Every user with their group size, sorted by name.
    fn users(&self) -> Result<Vec<(String, u32)>, Error>;

    /// Every user with their entry, sorted by name.
    fn user_entries(&self) -> Result<Vec<(String, VerifierEntry)>, Error>;

    /// The group size new users get unless told otherwise.
    fn default_bits(&self) -> u32;
}

/// Whether `location` names a PostgreSQL database (`postgres://` or `postgresql://`) rather
/// than a file.
///
/// ```
/// assert!(tls::srp::is_postgres_url("postgres://tls@db/tls"));
/// assert!(!tls::srp::is_postgres_url("users.db"));
/// ```
pub fn is_postgres_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

/// Opens the database at `location`: a `postgres://` URL or a SQLite file's path.
pub fn open_database(location: &str) -> Result<Box<dyn UserDatabase>, Error> {
    match is_postgres_url(location) {
        true => backend::open_postgres(location),
        false => backend::open_sqlite(location),
    }
}

/// Makes an empty database at `location` (a `postgres://` URL or a new SQLite file) whose
/// default group has `bits` bits.
pub fn create_database(location: &str, bits: u32) -> Result<Box<dyn UserDatabase>, Error> {
    match is_postgres_url(location) {
        true => backend::create_postgres(location, bits),
        false => backend::create_sqlite(location, bits),
    }
}

/// Each backend, or a clear error when the crate was built without it.
mod backend {
    use super::UserDatabase;
    use crate::Error;

    type Opened = Result<Box<dyn UserDatabase>, Error>;

    #[cfg(feature = "postgres")]
    pub(super) fn open_postgres(url: &str) -> Opened {
        Ok(Box::new(crate::srp::PostgresVerifierDb::open(url)?))
    }

    #[cfg(feature = "postgres")]
    pub(super) fn create_postgres(url: &str, bits: u32) -> Opened {
        Ok(Box::new(crate::srp::PostgresVerifierDb::create(url, bits)?))
    }

    #[cfg(not(feature = "postgres"))]
    pub(super) fn open_postgres(_: &str) -> Opened {
        Err(Error::config(
            "built without PostgreSQL (feature `postgres`)",
        ))
    }

    #[cfg(not(feature = "postgres"))]
    pub(super) fn create_postgres(url: &str, _: u32) -> Opened {
        open_postgres(url)
    }

    #[cfg(feature = "sqlite")]
    pub(super) fn open_sqlite(path: &str) -> Opened {
        Ok(Box::new(crate::srp::SqliteVerifierDb::open(path)?))
    }

    #[cfg(feature = "sqlite")]
    pub(super) fn create_sqlite(path: &str, bits: u32) -> Opened {
        Ok(Box::new(crate::srp::SqliteVerifierDb::create_with_bits(
            path, bits,
        )?))
    }

    #[cfg(not(feature = "sqlite"))]
    pub(super) fn open_sqlite(_: &str) -> Opened {
        Err(Error::config("built without SQLite (feature `sqlite`)"))
    }

    #[cfg(not(feature = "sqlite"))]
    pub(super) fn create_sqlite(path: &str, _: u32) -> Opened {
        open_sqlite(path)
    }
}
