//! Verifiers in one SQLite file: safe with concurrent readers and a writer (WAL), and every
//! change is one transaction, so a crash mid-write loses no existing user.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::UserDatabase;
use crate::private_file::create_private;
use crate::srp::SrpGroup;
use crate::srp::{check_username, random_bytes, VerifierEntry, VerifierStore};
use crate::Error;

/// Schema version written by `create`, checked by `open`.
const FORMAT: i64 = 1;
/// The default group size of a new database.
const DEFAULT_BITS: u32 = 2048;

/// An SRP verifier database in a SQLite file (what `tlsdb` manages).
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// # let path = dir.path().join("users.db");
/// use tls::srp::{make_verifier, SqliteVerifierDb, VerifierStore};
/// let db = SqliteVerifierDb::create(&path)?;
/// db.add("alice", &make_verifier("alice", "s3cret", 2048)?)?;
/// assert!(db.lookup("alice")?.unwrap().check_password("alice", "s3cret"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Besides the users, the file keeps the default group (what `tlsdb add` uses and what unknown
/// users are shown) and the secret behind unknown users' fake salts, so that every server
/// reading the file, before and after a restart, shows an unknown name the same salt.
pub struct SqliteVerifierDb {
    conn: Mutex<Connection>,
    simulation_secret: [u8; 32],
    default_bits: AtomicU32,
}

impl std::fmt::Debug for SqliteVerifierDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The simulation secret stays out of logs.
        f.debug_struct("SqliteVerifierDb")
            .field("default_bits", &self.default_bits())
            .finish_non_exhaustive()
    }
}

fn db_error(e: rusqlite::Error) -> Error {
    Error::Config(format!("verifier database: {e}"))
}

impl SqliteVerifierDb {
    /// Makes a new, empty database readable by its owner only (0600; SQLite gives its `-wal`
    /// and `-shm` files the same mode). Fails if anything, even a symbolic link, is at `path`.
    pub fn create(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        create_private(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => {
                Error::Config(format!("{} already exists", path.display()))
            }
            _ => Error::Config(format!("{}: {e}", path.display())),
        })?;
        Self::initialise(path).inspect_err(|_| {
            let _ = std::fs::remove_file(path);
        })
    }

    /// Makes a new database whose default group has `bits` bits; nothing is left at `path`
    /// when it fails.
    pub fn create_with_bits(path: impl AsRef<Path>, bits: u32) -> Result<Self, Error> {
        let path = path.as_ref();
        let db = Self::create(path)?;
        if let Err(e) = db.set_default_bits(bits) {
            drop(db);
            for file in Self::files(path) {
                let _ = std::fs::remove_file(file);
            }
            return Err(e);
        }
        Ok(db)
    }

    /// Writes the schema into the empty file just created.
    fn initialise(path: &Path) -> Result<Self, Error> {
        let conn = Connection::open(path).map_err(db_error)?;
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL;
             BEGIN;
             CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
             INSERT INTO meta VALUES ('format', {FORMAT});
             CREATE TABLE users (
                 username TEXT PRIMARY KEY,
                 bits INTEGER NOT NULL,
                 salt BLOB NOT NULL,
                 verifier BLOB NOT NULL
             );
             COMMIT;"
        ))
        .map_err(db_error)?;
        Self::with_settings(conn)
    }

    /// Reads the settings kept in `meta`, adding those a database made by an older version
    /// lacks. A value already there (made by `tlsdb create` or by another server) always wins.
    fn with_settings(conn: Connection) -> Result<Self, Error> {
        let setting = |key: &str| -> Result<Option<rusqlite::types::Value>, Error> {
            conn.query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| {
                r.get(0)
            })
            .optional()
            .map_err(db_error)
        };
        if setting("simulation_secret")?.is_none() {
            let mut fresh = [0u8; 32];
            random_bytes(&mut fresh)?;
            conn.execute(
                "INSERT OR IGNORE INTO meta VALUES ('simulation_secret', ?1)",
                params![fresh.to_vec()],
            )
            .map_err(db_error)?;
        }
        use rusqlite::types::Value;
        let simulation_secret = match setting("simulation_secret")? {
            Some(Value::Blob(bytes)) => <[u8; 32]>::try_from(bytes.as_slice()).ok(),
            _ => None,
        }
        .ok_or_else(|| Error::Config("verifier database: malformed simulation secret".into()))?;
        let default_bits = match setting("default_bits")? {
            None => DEFAULT_BITS,
            Some(Value::Integer(bits)) if SrpGroup::by_bits(bits as u32).is_some() => bits as u32,
            Some(_) => {
                return Err(Error::Config(
                    "verifier database: malformed default group".into(),
                ))
            }
        };
        Ok(Self {
            conn: Mutex::new(conn),
            simulation_secret,
            default_bits: AtomicU32::new(default_bits),
        })
    }

    /// The group size new users get unless told otherwise, and the group unknown users are
    /// shown: 2048 bits unless [`set_default_bits`](Self::set_default_bits) changed it.
    pub fn default_bits(&self) -> u32 {
        self.default_bits.load(Ordering::Relaxed)
    }

    /// Sets the default group size (an RFC 5054 size), kept in the file.
    pub fn set_default_bits(&self, bits: u32) -> Result<(), Error> {
        if SrpGroup::by_bits(bits).is_none() {
            return Err(Error::Config(format!("no RFC 5054 group of {bits} bits")));
        }
        self.conn()
            .execute(
                "INSERT OR REPLACE INTO meta VALUES ('default_bits', ?1)",
                params![bits],
            )
            .map_err(db_error)?;
        self.default_bits.store(bits, Ordering::Relaxed);
        Ok(())
    }

    /// Opens an existing database.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        if !path.is_file() {
            return Err(Error::Config(format!(
                "{}: no such verifier database (make one with `tlsdb create`)",
                path.display()
            )));
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(db_error)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(db_error)?;
        let format: Option<i64> = conn
            .query_row("SELECT value FROM meta WHERE key = 'format'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|_| Error::Config(format!("{} is not a verifier database", path.display())))?;
        if format != Some(FORMAT) {
            return Err(Error::Config(format!(
                "{}: unknown database format {format:?}",
                path.display()
            )));
        }
        Self::with_settings(conn)
    }

    /// The files a database at `path` lives in: the file itself and what SQLite keeps beside
    /// it (`-wal`, `-shm`, `-journal`). A file server must never serve any of them.
    ///
    /// ```
    /// let files = tls::srp::SqliteVerifierDb::files("users.db");
    /// assert!(files.iter().any(|f| f.ends_with("users.db-wal")));
    /// ```
    pub fn files(path: impl AsRef<Path>) -> [std::path::PathBuf; 4] {
        let path = path.as_ref();
        let beside = |suffix: &str| {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            std::path::PathBuf::from(name)
        };
        [
            path.to_path_buf(),
            beside("-wal"),
            beside("-shm"),
            beside("-journal"),
        ]
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a user; fails if the name is taken or the entry is unfit
    /// ([`VerifierEntry::validate`]).
    pub fn add(&self, username: &str, entry: &VerifierEntry) -> Result<(), Error> {
        self.add_all(&[(username.to_owned(), entry.clone())])
    }

    /// Adds every user in one transaction: all of them, or none if any fails.
    pub fn add_all(&self, users: &[(String, VerifierEntry)]) -> Result<(), Error> {
        for (username, entry) in users {
            check_username(username)?;
            entry.validate()?;
        }
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(db_error)?;
        for (username, entry) in users {
            let inserted = tx
                .execute(
                    "INSERT OR IGNORE INTO users VALUES (?1, ?2, ?3, ?4)",
                    params![username, entry.group.bits(), entry.salt, entry.verifier],
                )
                .map_err(db_error)?;
            if inserted != 1 {
                return Err(Error::Config(format!("user {username:?} already exists")));
            }
        }
        tx.commit().map_err(db_error)
    }

    /// Replaces an existing user's entry; fails if there is no such user.
    pub fn replace(&self, username: &str, entry: &VerifierEntry) -> Result<(), Error> {
        entry.validate()?;
        let changed = self
            .conn()
            .execute(
                "UPDATE users SET bits = ?2, salt = ?3, verifier = ?4 WHERE username = ?1",
                params![username, entry.group.bits(), entry.salt, entry.verifier],
            )
            .map_err(db_error)?;
        match changed {
            1 => Ok(()),
            _ => Err(Error::Config(format!("no user {username:?}"))),
        }
    }

    /// Removes a user; fails if there is none.
    pub fn remove(&self, username: &str) -> Result<(), Error> {
        let removed = self
            .conn()
            .execute("DELETE FROM users WHERE username = ?1", params![username])
            .map_err(db_error)?;
        match removed {
            1 => Ok(()),
            _ => Err(Error::Config(format!("no user {username:?}"))),
        }
    }

    /// Every user with their entry, sorted by name.
    pub fn entries(&self) -> Result<Vec<(String, VerifierEntry)>, Error> {
        let names = self.list()?;
        names
            .into_iter()
            .filter_map(|(name, _)| match self.lookup(&name) {
                Ok(Some(entry)) => Some(Ok((name, entry))),
                Ok(None) => None,
                Err(e) => Some(Err(e)),
            })
            .collect()
    }

    /// Every user with their group size, sorted by name.
    pub fn list(&self) -> Result<Vec<(String, u32)>, Error> {
        let conn = self.conn();
        let mut statement = conn
            .prepare("SELECT username, bits FROM users ORDER BY username")
            .map_err(db_error)?;
        let rows = statement
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(db_error)?;
        rows.collect::<Result<_, _>>().map_err(db_error)
    }
}

impl VerifierStore for SqliteVerifierDb {
    fn lookup(&self, username: &str) -> Result<Option<VerifierEntry>, Error> {
        let row: Option<(u32, Vec<u8>, Vec<u8>)> = self
            .conn()
            .query_row(
                "SELECT bits, salt, verifier FROM users WHERE username = ?1",
                params![username],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(db_error)?;
        row.map(|(bits, salt, verifier)| {
            let group = SrpGroup::by_bits(bits).ok_or_else(|| {
                Error::Config(format!(
                    "user {username:?} has an unknown group of {bits} bits"
                ))
            })?;
            VerifierEntry::new(group, salt, verifier)
                .map_err(|e| Error::Config(format!("user {username:?}: {e}")))
        })
        .transpose()
    }

    fn default_group(&self) -> &'static SrpGroup {
        SrpGroup::by_bits(self.default_bits()).unwrap_or(SrpGroup::default_group())
    }

    fn simulation_secret(&self) -> Result<Option<[u8; 32]>, Error> {
        Ok(Some(self.simulation_secret))
    }
}

impl UserDatabase for SqliteVerifierDb {
    fn add_users(&self, users: &[(String, VerifierEntry)]) -> Result<(), Error> {
        self.add_all(users)
    }

    fn replace_user(&self, username: &str, entry: &VerifierEntry) -> Result<(), Error> {
        self.replace(username, entry)
    }

    fn remove_user(&self, username: &str) -> Result<(), Error> {
        self.remove(username)
    }

    fn users(&self) -> Result<Vec<(String, u32)>, Error> {
        self.list()
    }

    fn user_entries(&self) -> Result<Vec<(String, VerifierEntry)>, Error> {
        self.entries()
    }

    fn default_bits(&self) -> u32 {
        SqliteVerifierDb::default_bits(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::srp::make_verifier;

    #[test]
    fn create_add_lookup_remove_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.db");
        assert!(SqliteVerifierDb::open(&path).is_err(), "missing file");
        let db = SqliteVerifierDb::create(&path).unwrap();
        assert!(SqliteVerifierDb::create(&path).is_err(), "exists");
        let alice = make_verifier("alice", "pw", 2048).unwrap();
        db.add("alice", &alice).unwrap();
        assert!(db.add("alice", &alice).is_err(), "duplicate");
        db.add("bob", &make_verifier("bob", "pw2", 3072).unwrap())
            .unwrap();
        drop(db);
        let db = SqliteVerifierDb::open(&path).unwrap();
        assert_eq!(
            db.list().unwrap(),
            vec![("alice".into(), 2048), ("bob".into(), 3072)]
        );
        assert_eq!(db.lookup("alice").unwrap(), Some(alice));
        assert_eq!(db.lookup("carol").unwrap(), None);
        db.remove("bob").unwrap();
        assert!(db.remove("bob").is_err());
        // A password change replaces the entry; there must be a user to change.
        let changed = make_verifier("alice", "new", 2048).unwrap();
        db.replace("alice", &changed).unwrap();
        assert_eq!(db.lookup("alice").unwrap(), Some(changed.clone()));
        assert!(db.replace("bob", &changed).is_err());
        // An import is all or nothing: one taken name and no user of it is added.
        let batch = [
            (
                "carol".to_owned(),
                make_verifier("carol", "c", 2048).unwrap(),
            ),
            ("alice".to_owned(), changed),
        ];
        assert!(db.add_all(&batch).is_err());
        assert_eq!(db.lookup("carol").unwrap(), None, "half an import applied");
        db.add_all(&batch[..1]).unwrap();
        assert!(db.lookup("carol").unwrap().is_some());
        std::fs::write(dir.path().join("junk.db"), b"not sqlite").unwrap();
        assert!(SqliteVerifierDb::open(dir.path().join("junk.db")).is_err());
    }

    /// Entries are checked going in and coming out: a hostile entry is refused by `add`, and
    /// one planted in the file behind our back is an error on lookup, never a login.
    #[test]
    fn hostile_entries_and_names_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.db");
        let db = SqliteVerifierDb::create(&path).unwrap();
        let good = make_verifier("alice", "pw", 2048).unwrap();
        let one = VerifierEntry {
            verifier: vec![1],
            ..good.clone()
        };
        assert!(db.add("eve", &one).is_err());
        assert!(db.add("a\nroot", &good).is_err());
        assert!(db.add("a:b", &good).is_err());
        db.add("alice", &good).unwrap();
        db.conn()
            .execute(
                "UPDATE users SET verifier = x'01' WHERE username = 'alice'",
                [],
            )
            .unwrap();
        assert!(db.lookup("alice").is_err(), "tampered entry served");
    }
}
