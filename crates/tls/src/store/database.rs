//! Verifier databases one can manage (what `tlsdb` works on), whichever their backend: a SQLite
//! file for one machine, PostgreSQL for a fleet. One database holds SRP users and pre-shared
//! keys, in two namespaces: a name may be both a user and a PSK identity.

use std::path::Path;

use crate::private_file::write_private;
use crate::psk::{format_key_file, ExternalPsk, PskHash};
use crate::srp::{random_bytes, VerifierEntry, VerifierStore};
use crate::Error;

/// A verifier store whose users can be listed and changed, and which keeps pre-shared keys
/// too. Every change is all or nothing.
///
/// A server looks keys up through [`PskStore`](crate::psk::PskStore), which both backends
/// (`SqliteVerifierDb`, `PostgresVerifierDb`) implement; it is not a supertrait here, so that
/// `lookup` on a `dyn UserDatabase` stays the SRP one.
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

    /// Adds every PSK or, if any one fails (its identity is taken), none.
    fn add_psks(&self, psks: &[ExternalPsk]) -> Result<(), Error>;

    /// Adds one PSK; fails if its identity is taken.
    fn add_psk(&self, psk: &ExternalPsk) -> Result<(), Error> {
        self.add_psks(std::slice::from_ref(psk))
    }

    /// Draws a key of `len` random bytes for `identity` (refused under
    /// [`MIN_KEY_LEN`](crate::psk::MIN_KEY_LEN)), adds it, and returns it: the one chance to
    /// show it to whoever configures the client.
    fn add_random_psk(&self, identity: &[u8], len: usize) -> Result<ExternalPsk, Error> {
        if len > crate::psk::MAX_KEY_LEN {
            return Err(Error::config(format!(
                "a PSK of {len} bytes is longer than the {} allowed",
                crate::psk::MAX_KEY_LEN
            )));
        }
        let mut key = zeroize::Zeroizing::new(vec![0; len]);
        random_bytes(&mut key)?;
        let psk = ExternalPsk::new(identity, &*key)?;
        self.add_psk(&psk)?;
        Ok(psk)
    }

    /// Replaces the key (and hash) of an existing identity; fails if there is none.
    fn replace_psk(&self, psk: &ExternalPsk) -> Result<(), Error>;

    /// Removes a PSK; fails if there is none.
    fn remove_psk(&self, identity: &[u8]) -> Result<(), Error>;

    /// Every PSK identity with its hash (never the key), sorted bytewise.
    fn psk_identities(&self) -> Result<Vec<(Vec<u8>, PskHash)>, Error>;

    /// Every PSK with its key, sorted by identity (for an export).
    fn psk_entries(&self) -> Result<Vec<ExternalPsk>, Error>;

    /// Writes every PSK to a new `identity:hexkey` file ([`format_key_file`]) readable by its
    /// owner only (0600), never over an existing file or through a symbolic link; returns how
    /// many.
    fn export_psks(&self, path: &Path) -> Result<usize, Error> {
        let psks = self.psk_entries()?;
        let text = format_key_file(&psks)?;
        write_private(path, text.as_bytes())?;
        Ok(psks.len())
    }
}

/// A PSK read back from a database, checked as it comes out: a row planted behind the
/// store's back with an empty or oversized key, or an unknown hash, is an error, never a key.
/// (A short key is taken: only [`low_entropy_psk`](crate::dangerous::low_entropy_psk) adds one.)
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn psk_from_row(
    identity: Vec<u8>,
    key: &[u8],
    hash: &str,
) -> Result<ExternalPsk, Error> {
    let name = String::from_utf8_lossy(&identity).into_owned();
    let hash: PskHash = hash
        .parse()
        .map_err(|e| Error::Config(format!("PSK {name:?}: {e}")))?;
    ExternalPsk::unchecked_length(identity, key)
        .map(|psk| psk.with_hash(hash))
        .map_err(|e| Error::Config(format!("PSK {name:?}: {e}")))
}

/// The error for a PSK identity that is taken or missing.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn psk_error(identity: &[u8], what: &str) -> Error {
    Error::Config(format!(
        "{what} PSK {:?}",
        String::from_utf8_lossy(identity)
    ))
}

/// A database location as given on a command line: `@PATH` reads it from that file (so a
/// `postgres://` URL holding a password stays out of `ps` and shell history), which only its
/// owner may be able to read; anything else is the location itself.
///
/// ```
/// assert_eq!(tls::srp::location_from_argument("users.db")?, "users.db");
/// # Ok::<(), tls::Error>(())
/// ```
pub fn location_from_argument(argument: &str) -> Result<String, Error> {
    let Some(path) = argument.strip_prefix('@') else {
        return Ok(argument.to_owned());
    };
    let failed = |e: std::io::Error| Error::Config(format!("{path}: {e}"));
    if crate::private_file::readable_by_others(path.as_ref()).map_err(failed)? {
        return Err(Error::Config(format!(
            "{path} can be read by others than its owner, and may hold a password: chmod 600 it"
        )));
    }
    let text = std::fs::read_to_string(path).map_err(failed)?;
    let location = text.trim();
    if location.is_empty() || location.contains('\n') {
        return Err(Error::Config(format!(
            "{path} must hold one database location on one line"
        )));
    }
    Ok(location.to_owned())
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
