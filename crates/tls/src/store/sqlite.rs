//! Verifiers and pre-shared keys in one SQLite file: safe with concurrent readers and a writer
//! (WAL), and every change is one transaction, so a crash mid-write loses no existing user.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::database::{psk_error, psk_from_row};
use super::UserDatabase;
use crate::private_file::create_private;
use crate::psk::{self, ExternalPsk, PskHash};
use crate::srp::SrpGroup;
use crate::srp::{check_username, random_bytes, VerifierEntry, VerifierStore};
use crate::Error;

/// Schema version written by `create`, checked by `open`.
const FORMAT: i64 = 1;
/// The default group size of a new database.
const DEFAULT_BITS: u32 = 2048;
/// The pre-shared keys: made with a new database, and added to one made before them when it
/// is opened (the format stays 1: older readers ignore the table).
const PSK_TABLE: &str = "CREATE TABLE IF NOT EXISTS psk_keys (
    identity BLOB PRIMARY KEY,
    key BLOB NOT NULL,
    hash TEXT NOT NULL
)";

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

    /// Reads the settings kept in `meta`, adding those (and the PSK table) a database made by
    /// an older version lacks. A value already there (made by `tlsdb create` or by another
    /// server) always wins.
    fn with_settings(conn: Connection) -> Result<Self, Error> {
        conn.execute(PSK_TABLE, []).map_err(db_error)?;
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
            .filter_map(|(name, _)| match VerifierStore::lookup(self, &name) {
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

impl psk::PskStore for SqliteVerifierDb {
    fn lookup(&self, identity: &[u8]) -> Result<Option<ExternalPsk>, Error> {
        let row: Option<(Vec<u8>, String)> = self
            .conn()
            .query_row(
                "SELECT key, hash FROM psk_keys WHERE identity = ?1",
                params![identity],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db_error)?;
        row.map(|(key, hash)| psk_from_row(identity.to_vec(), &zeroize::Zeroizing::new(key), &hash))
            .transpose()
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

    fn add_psks(&self, psks: &[ExternalPsk]) -> Result<(), Error> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(db_error)?;
        for psk in psks {
            let inserted = tx
                .execute(
                    "INSERT OR IGNORE INTO psk_keys VALUES (?1, ?2, ?3)",
                    params![psk.identity(), psk.key(), psk.hash().to_string()],
                )
                .map_err(db_error)?;
            if inserted != 1 {
                return Err(psk_error(psk.identity(), "there is already a"));
            }
        }
        tx.commit().map_err(db_error)
    }

    fn replace_psk(&self, psk: &ExternalPsk) -> Result<(), Error> {
        let changed = self
            .conn()
            .execute(
                "UPDATE psk_keys SET key = ?2, hash = ?3 WHERE identity = ?1",
                params![psk.identity(), psk.key(), psk.hash().to_string()],
            )
            .map_err(db_error)?;
        match changed {
            1 => Ok(()),
            _ => Err(psk_error(psk.identity(), "no")),
        }
    }

    fn remove_psk(&self, identity: &[u8]) -> Result<(), Error> {
        let removed = self
            .conn()
            .execute(
                "DELETE FROM psk_keys WHERE identity = ?1",
                params![identity],
            )
            .map_err(db_error)?;
        match removed {
            1 => Ok(()),
            _ => Err(psk_error(identity, "no")),
        }
    }

    fn psk_identities(&self) -> Result<Vec<(Vec<u8>, PskHash)>, Error> {
        let conn = self.conn();
        let mut statement = conn
            .prepare("SELECT identity, hash FROM psk_keys ORDER BY identity")
            .map_err(db_error)?;
        let rows = statement
            .query_map([], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(db_error)?;
        rows.map(|row| {
            let (identity, hash) = row.map_err(db_error)?;
            Ok((identity, hash.parse()?))
        })
        .collect()
    }

    fn psk_entries(&self) -> Result<Vec<ExternalPsk>, Error> {
        let conn = self.conn();
        let mut statement = conn
            .prepare("SELECT identity, key, hash FROM psk_keys ORDER BY identity")
            .map_err(db_error)?;
        let rows = statement
            .query_map([], |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    zeroize::Zeroizing::new(r.get::<_, Vec<u8>>(1)?),
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(db_error)?;
        rows.map(|row| {
            let (identity, key, hash) = row.map_err(db_error)?;
            psk_from_row(identity, &key, &hash)
        })
        .collect()
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

    fn psk(identity: &str, fill: u8) -> ExternalPsk {
        ExternalPsk::new(identity, [fill; 32]).unwrap()
    }

    /// Keys go in all or nothing, come back with their hash, and change and go away; users
    /// and keys are apart (one name may be both).
    #[test]
    fn psks_round_trip_beside_users() {
        use crate::psk::PskStore;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.db");
        let db = SqliteVerifierDb::create(&path).unwrap();
        db.add("alice", &make_verifier("alice", "pw", 2048).unwrap())
            .unwrap();
        let sha384 = psk("b", 2).with_hash(PskHash::Sha384);
        db.add_psks(&[psk("alice", 1), sha384.clone()]).unwrap();
        assert!(db.add_psk(&psk("b", 9)).is_err(), "duplicate");
        // One taken identity and none of the batch is added.
        assert!(db.add_psks(&[psk("c", 3), psk("alice", 4)]).is_err());
        assert_eq!(PskStore::lookup(&db, b"c").unwrap(), None, "half an import");
        drop(db);
        let db = SqliteVerifierDb::open(&path).unwrap();
        assert_eq!(
            PskStore::lookup(&db, b"alice").unwrap(),
            Some(psk("alice", 1))
        );
        assert_eq!(PskStore::lookup(&db, b"b").unwrap(), Some(sha384.clone()));
        assert_eq!(db.list().unwrap(), vec![("alice".into(), 2048)]);
        assert_eq!(
            db.psk_identities().unwrap(),
            vec![
                (b"alice".to_vec(), PskHash::Sha256),
                (b"b".to_vec(), PskHash::Sha384)
            ]
        );
        assert_eq!(db.psk_entries().unwrap(), vec![psk("alice", 1), sha384]);
        db.replace_psk(&psk("alice", 7)).unwrap();
        assert_eq!(
            PskStore::lookup(&db, b"alice").unwrap(),
            Some(psk("alice", 7))
        );
        assert!(db.replace_psk(&psk("nobody", 7)).is_err());
        db.remove_psk(b"alice").unwrap();
        assert!(db.remove_psk(b"alice").is_err());
        assert_eq!(PskStore::lookup(&db, b"alice").unwrap(), None);
        assert!(
            VerifierStore::lookup(&db, "alice").unwrap().is_some(),
            "the user stays"
        );
        let drawn = db.add_random_psk(b"fresh", 32).unwrap();
        assert_eq!(drawn.key().len(), 32);
        assert_ne!(drawn.key(), &[0; 32]);
        assert_eq!(PskStore::lookup(&db, b"fresh").unwrap(), Some(drawn));
        assert!(db.add_random_psk(b"short", 15).is_err());
        assert!(db.add_random_psk(b"long", 1025).is_err());
        assert_eq!(PskStore::lookup(&db, b"short").unwrap(), None);
        // A row planted behind the store's back is an error, never a key.
        db.conn()
            .execute(
                "INSERT INTO psk_keys VALUES (x'65', x'', 'sha256'), (x'66', x'01', 'md5')",
                [],
            )
            .unwrap();
        assert!(PskStore::lookup(&db, b"e").is_err(), "empty key served");
        assert!(PskStore::lookup(&db, b"f").is_err(), "unknown hash served");
        assert!(db.psk_identities().is_err());
    }

    /// A database made before PSKs (this schema, format 1) opens, keeps its users and gains the
    /// PSK table; a new database and an export are readable by their owner only.
    #[test]
    fn an_old_database_gains_psks_and_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("old.db");
        let alice = make_verifier("alice", "pw", 2048).unwrap();
        {
            let conn = Connection::open(&old).unwrap();
            conn.execute_batch(
                "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
                 INSERT INTO meta VALUES ('format', 1);
                 CREATE TABLE users (username TEXT PRIMARY KEY, bits INTEGER NOT NULL,
                                     salt BLOB NOT NULL, verifier BLOB NOT NULL);",
            )
            .unwrap();
            conn.execute(
                "INSERT INTO users VALUES ('alice', 2048, ?1, ?2)",
                params![alice.salt, alice.verifier],
            )
            .unwrap();
        }
        let db = SqliteVerifierDb::open(&old).unwrap();
        assert_eq!(VerifierStore::lookup(&db, "alice").unwrap(), Some(alice));
        assert_eq!(db.psk_identities().unwrap(), vec![]);
        db.add_psk(&psk("sensor", 5)).unwrap();
        drop(db);
        let db = SqliteVerifierDb::open(&old).unwrap();
        assert_eq!(
            crate::psk::PskStore::lookup(&db, b"sensor").unwrap(),
            Some(psk("sensor", 5))
        );

        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let new = dir.path().join("new.db");
        drop(SqliteVerifierDb::create(&new).unwrap());
        assert_eq!(mode(&new), 0o600);
        let out = dir.path().join("keys.psk");
        assert_eq!(db.export_psks(&out).unwrap(), 1);
        assert_eq!(mode(&out), 0o600);
        let text = std::fs::read_to_string(&out).unwrap();
        assert_eq!(
            crate::psk::parse_key_file(&text).unwrap(),
            vec![psk("sensor", 5)]
        );
        assert!(
            db.export_psks(&out).is_err(),
            "an existing file is overwritten"
        );
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep me").unwrap();
        let link = dir.path().join("link.psk");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        assert!(db.export_psks(&link).is_err(), "written through a link");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
        // An identity that is not plain text goes out in psktool's hex form, and comes back.
        db.add_psk(&ExternalPsk::new("odd\nline", [1; 16]).unwrap())
            .unwrap();
        let hex_form = dir.path().join("hex.psk");
        assert_eq!(db.export_psks(&hex_form).unwrap(), 2);
        let text = std::fs::read_to_string(&hex_form).unwrap();
        assert!(text.starts_with("#6f64640a6c696e65:"), "{text}");
        assert_eq!(crate::psk::parse_key_file(&text).unwrap().len(), 2);
    }
}
