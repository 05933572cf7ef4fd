//! Verifiers, pre-shared keys, ticket keys and SRP sessions in PostgreSQL: one store for a
//! fleet of servers. The users and keys are here; the fleet's resumption state (ticket keys,
//! shared sessions) is in `resumption.rs` and `session_writer.rs`.

mod cache;
mod link;
mod password;
mod pool;
mod resumption;
mod schema;
mod session_writer;
mod watcher;

use std::sync::{Arc, Once};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use std::time::{Duration, SystemTime};

use crate::psk::{ExternalPsk, PskHash, PskStore};
use crate::resumption::TicketKeyRing;
use crate::srp::{check_username, random_bytes, SrpGroup, VerifierEntry, VerifierStore};
use crate::store::database::{psk_error, psk_from_row};
use crate::store::UserDatabase;
use crate::Error;
use cache::{PskCache, VerifierCache};
use link::LinkSecurity;
use pool::{on_client_thread, Conn, Pool};
use resumption::Maintenance;
use schema::FORMAT;
use session_writer::SessionQueue;

/// An SRP verifier database in PostgreSQL, for a fleet of servers behind one name; it keeps
/// the fleet's pre-shared keys too (a [`PskStore`]).
///
/// Every server opening it serves the same users and keys, shows an unknown name the same
/// fake salt (the simulation secret is kept in the database), and resumes the sessions of
/// every other (it is also a [`SharedResumption`](crate::SharedResumption): ticket keys
/// rotated in the database, SRP sessions in a shared table). Each server caches entries and
/// drops them when PostgreSQL notifies a change (`LISTEN`/`NOTIFY`, from a trigger, so even
/// changes made in plain SQL count): a new password, a removed user or a changed or removed
/// key takes effect on every server within a moment. While the database is unreachable
/// nothing is served from the cache: SRP and PSK lookups fail (an SRP handshake with
/// `internal_error`) and succeed again once it is back.
///
/// Its calls block (a few milliseconds at most on a healthy network). Called from async code
/// they run on a thread of their own rather than on the runtime's; the servers of this
/// workspace look users up off their event loops anyway.
///
/// ```no_run
/// use tls::srp::{make_verifier, PostgresVerifierDb, UserDatabase, VerifierStore};
/// let db = PostgresVerifierDb::create("postgres://tls:secret@127.0.0.1/tls", 2048)?;
/// db.add_user("alice", &make_verifier("alice", "s3cret", 2048)?)?;
/// assert!(db.lookup("alice")?.is_some());
/// # Ok::<(), tls::Error>(())
/// ```
#[derive(Clone)]
pub struct PostgresVerifierDb {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    cache: VerifierCache,
    psk_cache: PskCache,
    keys: Arc<TicketKeyRing>,
    simulation_secret: [u8; 32],
    default_bits: u32,
    watcher: Once,
    sessions: SessionQueue,
    session_writer: Once,
}

impl std::fmt::Debug for PostgresVerifierDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresVerifierDb")
            .field("database", &self.inner.pool.target)
            .field("default_bits", &self.inner.default_bits)
            .finish_non_exhaustive()
    }
}

/// A pool for the database at `url`: its link secured as `sslmode` says, with short timeouts
/// unless the URL sets its own (a database that does not answer must fail a handshake well
/// before its deadline).
fn pool_for(url: &str) -> Result<Pool, Error> {
    let env = |name: &str| std::env::var(name).ok();
    let (url, link) = LinkSecurity::take_from_url(url, &env)?;
    let mut config: postgres::Config = url.parse().map_err(|e| {
        // The URL may hold a password: it is not repeated.
        Error::Config(format!("malformed PostgreSQL URL: {e}"))
    })?;
    if config.get_hosts().is_empty() {
        return Err(Error::config("malformed PostgreSQL URL: no host"));
    }
    link.check(config.get_hosts(), config.get_hostaddrs())?;
    config.ssl_mode(link.wire_mode());
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(2));
    }
    config.tcp_user_timeout(Duration::from_secs(3));
    config.keepalives_idle(Duration::from_secs(10));
    config.application_name("tlslite");
    let host = match &config.get_hosts()[0] {
        postgres::config::Host::Tcp(host) => host.clone(),
        postgres::config::Host::Unix(path) => path.display().to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let target = format!("{host}:{port}/{}", config.get_dbname().unwrap_or("-"));
    if config.get_password().is_none() {
        // As libpq: PGPASSWORD, then ~/.pgpass (or PGPASSFILE), so the URL need not hold it.
        let user = config
            .get_user()
            .map(str::to_owned)
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_default();
        let database = config.get_dbname().unwrap_or(&user).to_owned();
        let match_host = match &config.get_hosts()[0] {
            postgres::config::Host::Tcp(host) => host.as_str(),
            postgres::config::Host::Unix(_) => "localhost",
        };
        if let Some(password) = password::from_environment(&env, match_host, port, &database, &user)
        {
            config.password(zeroize::Zeroizing::new(password).as_bytes());
        }
    }
    Ok(Pool::new(config, target, link.connector()?))
}

impl PostgresVerifierDb {
    /// Creates the tables in the database at `url` (all in one transaction) with a default
    /// group of `bits` bits, and opens it. Fails if the database already holds them.
    pub fn create(url: &str, bits: u32) -> Result<Self, Error> {
        on_client_thread(|| Self::create_here(url, bits))
    }

    fn create_here(url: &str, bits: u32) -> Result<Self, Error> {
        if SrpGroup::by_bits(bits).is_none() {
            return Err(Error::Config(format!("no RFC 5054 group of {bits} bits")));
        }
        let pool = pool_for(url)?;
        let mut conn = pool.connect()?;
        let mut secret = [0u8; 32];
        random_bytes(&mut secret)?;
        let created = (|| {
            let mut tx = conn.client.transaction()?;
            tx.batch_execute(schema::CREATE)?;
            tx.batch_execute(schema::CREATE_PSK_KEYS)?;
            let meta = [
                ("format", FORMAT.to_string()),
                ("default_bits", bits.to_string()),
                ("simulation_secret", BASE64.encode(secret)),
                (
                    "ticket_key_period",
                    schema::DEFAULT_TICKET_KEY_PERIOD.to_string(),
                ),
            ];
            for (key, value) in &meta {
                tx.execute("INSERT INTO tlslite_meta VALUES ($1, $2)", &[key, value])?;
            }
            tx.commit()
        })();
        if let Err(e) = created {
            if e.code() == Some(&postgres::error::SqlState::DUPLICATE_TABLE) {
                return Err(Error::Config(format!(
                    "verifier database {} already exists",
                    pool.target
                )));
            }
            return Err(pool.error("creating the tables", &e));
        }
        Self::with_pool(pool, conn)
    }

    /// Opens the database at `url`, made by [`create`](Self::create) (`tlsdb create`).
    pub fn open(url: &str) -> Result<Self, Error> {
        on_client_thread(|| {
            let pool = pool_for(url)?;
            let conn = pool.connect()?;
            Self::with_pool(pool, conn)
        })
    }

    /// Reads the settings and checks the schema version.
    fn with_pool(pool: Pool, mut conn: Conn) -> Result<Self, Error> {
        let rows = conn
            .client
            .query("SELECT key, value FROM tlslite_meta", &[])
            .map_err(|e| match e.code() {
                Some(&postgres::error::SqlState::UNDEFINED_TABLE) => Error::Config(format!(
                    "{} holds no verifier database (make one with `tlsdb create`)",
                    pool.target
                )),
                _ => pool.error("reading its settings", &e),
            })?;
        let setting = |name: &str| -> Option<String> {
            rows.iter()
                .find(|row| row.get::<_, &str>(0) == name)
                .map(|row| row.get::<_, String>(1))
        };
        let malformed = |what: &str| {
            Error::Config(format!(
                "verifier database {}: malformed {what}",
                pool.target
            ))
        };
        let format: i64 = setting("format")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| malformed("schema version"))?;
        if format != FORMAT {
            return Err(Error::Config(format!(
                "verifier database {} has schema version {format}; this program reads version \
                 {FORMAT} (upgrade it to one that knows version {format})",
                pool.target
            )));
        }
        let default_bits = setting("default_bits")
            .and_then(|v| v.parse().ok())
            .filter(|bits| SrpGroup::by_bits(*bits).is_some())
            .ok_or_else(|| malformed("default group"))?;
        let simulation_secret = setting("simulation_secret")
            .and_then(|v| BASE64.decode(v).ok())
            .and_then(|v| <[u8; 32]>::try_from(v).ok())
            .ok_or_else(|| malformed("simulation secret"))?;
        let period: u64 = setting("ticket_key_period")
            .and_then(|v| v.parse().ok())
            .filter(|secs| *secs > 0)
            .ok_or_else(|| malformed("ticket key period"))?;
        add_psk_table(&pool, &mut conn)?;
        unlog_ticket_keys(&pool, &mut conn)?;
        drop(conn);
        Ok(Self {
            inner: Arc::new(Inner {
                pool,
                cache: VerifierCache::default(),
                psk_cache: PskCache::default(),
                keys: Arc::new(TicketKeyRing::new(Duration::from_secs(period))),
                simulation_secret,
                default_bits,
                watcher: Once::new(),
                sessions: SessionQueue::default(),
                session_writer: Once::new(),
            }),
        })
    }

    /// Starts the watcher (once): LISTEN for changes, rotate and load the ticket keys. The
    /// first load happens here, so a server has its keys before its first handshake.
    fn watch(&self) {
        self.inner.watcher.call_once(|| {
            let mut first = Maintenance::default();
            let loaded = on_client_thread(|| {
                let mut conn = self.inner.pool.connect()?;
                first.run_if_due(&self.inner, &mut conn, SystemTime::now())
            });
            if let Err(e) = loaded {
                log::warn!("{e}");
            }
            // Without the watcher nothing is cached and no key rotates: logged as an error.
            spawn_worker(
                "tlslite-db-watch",
                "verifier database watcher",
                &self.inner,
                watcher::watch,
            );
        });
    }

    fn entry_from(
        username: &str,
        bits: i32,
        salt: Vec<u8>,
        verifier: Vec<u8>,
    ) -> Result<VerifierEntry, Error> {
        let group = u32::try_from(bits)
            .ok()
            .and_then(SrpGroup::by_bits)
            .ok_or_else(|| {
                Error::Config(format!(
                    "user {username:?} has an unknown group of {bits} bits"
                ))
            })?;
        VerifierEntry::new(group, salt, verifier)
            .map_err(|e| Error::Config(format!("user {username:?}: {e}")))
    }
}

impl PostgresVerifierDb {
    /// Inserts a row for each item in one transaction with `sql` (an `INSERT` that does nothing
    /// on a conflict): the first item whose row was there already, having added none, or
    /// `None` with all added.
    fn insert_all<'a, T: Sync>(
        &self,
        what: &str,
        sql: &'static str,
        items: &'a [T],
        insert: impl Fn(
                &mut postgres::Transaction<'_>,
                &postgres::Statement,
                &T,
            ) -> Result<u64, postgres::Error>
            + Sync,
    ) -> Result<Option<&'a T>, Error> {
        let mut taken = None;
        self.inner.pool.run(what, |conn| {
            let statement = conn.statement(sql)?;
            let mut tx = conn.client.transaction()?;
            for item in items {
                if insert(&mut tx, &statement, item)? != 1 {
                    // Dropping the transaction rolls it back: none of the rows is added.
                    taken = Some(item);
                    return Ok(());
                }
            }
            tx.commit()
        })?;
        Ok(taken)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.simulation_secret);
    }
}

/// Adds the PSK table to a database made before it (format 1 still: older readers ignore it),
/// under a lock so that servers opening it at once do not race.
fn add_psk_table(pool: &Pool, conn: &mut Conn) -> Result<(), Error> {
    fn has(client: &mut impl postgres::GenericClient) -> Result<bool, postgres::Error> {
        Ok(client.query_one(schema::HAS_PSK_KEYS, &[])?.get(0))
    }
    let added = (|| {
        if has(&mut conn.client)? {
            return Ok(());
        }
        let mut tx = conn.client.transaction()?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1)",
            &[&schema::MIGRATION_LOCK],
        )?;
        if !has(&mut tx)? {
            tx.batch_execute(schema::CREATE_PSK_KEYS)?;
        }
        tx.commit()
    })();
    added.map_err(|e| {
        pool.error(
            "adding the PSK table (open it once as the database's owner, e.g. `tlsdb list`)",
            &e,
        )
    })
}

/// Moves the ticket keys of a database made before they were unlogged out of the WAL: the
/// table becomes unlogged and its keys are dropped, so no key in use was ever logged (old ones
/// may sit in old WAL and backups: they opened tickets of the past only). The servers draw new
/// keys at once; tickets in flight get one full handshake.
fn unlog_ticket_keys(pool: &Pool, conn: &mut Conn) -> Result<(), Error> {
    fn logged(client: &mut impl postgres::GenericClient) -> Result<bool, postgres::Error> {
        Ok(client
            .query_opt(schema::KEYS_LOGGED, &[])?
            .is_some_and(|row| row.get(0)))
    }
    let moved = (|| {
        if !logged(&mut conn.client)? {
            return Ok(());
        }
        let mut tx = conn.client.transaction()?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1)",
            &[&schema::MIGRATION_LOCK],
        )?;
        if logged(&mut tx)? {
            tx.batch_execute(
                "ALTER TABLE tlslite_ticket_keys SET UNLOGGED; DELETE FROM tlslite_ticket_keys",
            )?;
        }
        tx.commit()
    })();
    moved.map_err(|e| {
        pool.error(
            "making the ticket key table unlogged (open it once as the database's owner, \
             e.g. `tlsdb list`)",
            &e,
        )
    })
}

/// Starts one of the store's background threads, which hold only a weak handle (they end
/// once the store is dropped); `what` names it in the error log if it cannot start.
fn spawn_worker(name: &str, what: &str, inner: &Arc<Inner>, work: fn(&std::sync::Weak<Inner>)) {
    let inner = Arc::downgrade(inner);
    let spawned = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || work(&inner));
    if let Err(e) = spawned {
        log::error!("{what} did not start: {e}");
    }
}

impl PskStore for PostgresVerifierDb {
    fn lookup(&self, identity: &[u8]) -> Result<Option<ExternalPsk>, Error> {
        self.watch();
        let inner = &self.inner;
        inner.psk_cache.get_or_read(identity, || {
            let row = inner.pool.run("looking a PSK up", |conn| {
                let statement = conn.statement(schema::LOOKUP_PSK)?;
                conn.client.query_opt(&statement, &[&identity])
            })?;
            row.map(|row| {
                let key = zeroize::Zeroizing::new(row.get::<_, Vec<u8>>(0));
                psk_from_row(identity.to_vec(), &key, row.get(1))
            })
            .transpose()
        })
    }
}

impl VerifierStore for PostgresVerifierDb {
    fn lookup(&self, username: &str) -> Result<Option<VerifierEntry>, Error> {
        self.watch();
        let inner = &self.inner;
        inner.cache.get_or_read(username, || {
            let row = inner.pool.run("looking a user up", |conn| {
                let statement = conn.statement(schema::LOOKUP)?;
                conn.client.query_opt(&statement, &[&username])
            })?;
            row.map(|row| Self::entry_from(username, row.get(0), row.get(1), row.get(2)))
                .transpose()
        })
    }

    fn default_group(&self) -> &'static SrpGroup {
        SrpGroup::by_bits(self.inner.default_bits).unwrap_or(SrpGroup::default_group())
    }

    fn simulation_secret(&self) -> Result<Option<[u8; 32]>, Error> {
        Ok(Some(self.inner.simulation_secret))
    }
}

impl UserDatabase for PostgresVerifierDb {
    fn add_users(&self, users: &[(String, VerifierEntry)]) -> Result<(), Error> {
        for (username, entry) in users {
            check_username(username)?;
            entry.validate()?;
        }
        let taken = self.insert_all(
            "adding users",
            schema::INSERT_USER,
            users,
            |tx, statement, (username, entry)| {
                let bits = entry.group.bits() as i32;
                tx.execute(statement, &[username, &bits, &entry.salt, &entry.verifier])
            },
        )?;
        match taken {
            Some((username, _)) => Err(Error::Config(format!("user {username:?} already exists"))),
            None => Ok(()),
        }
    }

    fn replace_user(&self, username: &str, entry: &VerifierEntry) -> Result<(), Error> {
        entry.validate()?;
        let bits = entry.group.bits() as i32;
        let changed = self.inner.pool.run("changing a user", |conn| {
            conn.client.execute(
                "UPDATE tlslite_users SET bits = $2, salt = $3, verifier = $4 WHERE username = $1",
                &[&username, &bits, &entry.salt, &entry.verifier],
            )
        })?;
        match changed {
            1 => Ok(()),
            _ => Err(Error::Config(format!("no user {username:?}"))),
        }
    }

    fn remove_user(&self, username: &str) -> Result<(), Error> {
        let removed = self.inner.pool.run("removing a user", |conn| {
            conn.client.execute(
                "DELETE FROM tlslite_users WHERE username = $1",
                &[&username],
            )
        })?;
        match removed {
            1 => Ok(()),
            _ => Err(Error::Config(format!("no user {username:?}"))),
        }
    }

    fn users(&self) -> Result<Vec<(String, u32)>, Error> {
        let rows = self.inner.pool.run("listing users", |conn| {
            conn.client.query(
                "SELECT username, bits FROM tlslite_users ORDER BY username COLLATE \"C\"",
                &[],
            )
        })?;
        Ok(rows
            .iter()
            .map(|row| (row.get(0), row.get::<_, i32>(1) as u32))
            .collect())
    }

    fn user_entries(&self) -> Result<Vec<(String, VerifierEntry)>, Error> {
        let rows = self.inner.pool.run("reading users", |conn| {
            conn.client.query(
                "SELECT username, bits, salt, verifier FROM tlslite_users \
                 ORDER BY username COLLATE \"C\"",
                &[],
            )
        })?;
        rows.iter()
            .map(|row| {
                let username: String = row.get(0);
                let entry = Self::entry_from(&username, row.get(1), row.get(2), row.get(3))?;
                Ok((username, entry))
            })
            .collect()
    }

    fn default_bits(&self) -> u32 {
        self.inner.default_bits
    }

    fn add_psks(&self, psks: &[ExternalPsk]) -> Result<(), Error> {
        let taken = self.insert_all(
            "adding PSKs",
            schema::INSERT_PSK,
            psks,
            |tx, statement, psk| {
                let hash = psk.hash().to_string();
                tx.execute(statement, &[&psk.identity(), &psk.key(), &hash])
            },
        )?;
        match taken {
            Some(psk) => Err(psk_error(psk.identity(), "there is already a")),
            None => Ok(()),
        }
    }

    fn replace_psk(&self, psk: &ExternalPsk) -> Result<(), Error> {
        let hash = psk.hash().to_string();
        let changed = self.inner.pool.run("changing a PSK", |conn| {
            conn.client.execute(
                "UPDATE tlslite_psk_keys SET key = $2, hash = $3 WHERE identity = $1",
                &[&psk.identity(), &psk.key(), &hash],
            )
        })?;
        match changed {
            1 => Ok(()),
            _ => Err(psk_error(psk.identity(), "no")),
        }
    }

    fn remove_psk(&self, identity: &[u8]) -> Result<(), Error> {
        let removed = self.inner.pool.run("removing a PSK", |conn| {
            conn.client.execute(
                "DELETE FROM tlslite_psk_keys WHERE identity = $1",
                &[&identity],
            )
        })?;
        match removed {
            1 => Ok(()),
            _ => Err(psk_error(identity, "no")),
        }
    }

    fn psk_identities(&self) -> Result<Vec<(Vec<u8>, PskHash)>, Error> {
        let rows = self.inner.pool.run("listing PSKs", |conn| {
            conn.client.query(
                "SELECT identity, hash FROM tlslite_psk_keys ORDER BY identity",
                &[],
            )
        })?;
        rows.iter()
            .map(|row| Ok((row.get(0), row.get::<_, &str>(1).parse()?)))
            .collect()
    }

    fn psk_entries(&self) -> Result<Vec<ExternalPsk>, Error> {
        let rows = self.inner.pool.run("reading PSKs", |conn| {
            conn.client.query(
                "SELECT identity, key, hash FROM tlslite_psk_keys ORDER BY identity",
                &[],
            )
        })?;
        rows.iter()
            .map(|row| {
                let key = zeroize::Zeroizing::new(row.get::<_, Vec<u8>>(1));
                psk_from_row(row.get(0), &key, row.get(2))
            })
            .collect()
    }
}
