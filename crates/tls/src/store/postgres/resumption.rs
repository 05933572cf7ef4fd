//! A fleet's resumption state in PostgreSQL, apart from its users: ticket keys rotated in the
//! database (every server agrees on them), and sealed sessions by ID for clients without
//! tickets.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::pool::Conn;
use super::{schema, session_writer, spawn_worker, Inner, PostgresVerifierDb};
use crate::resumption::{SharedResumption, TicketKeyRing};
use crate::srp::random_bytes;
use crate::Error;
use zeroize::Zeroizing;

impl PostgresVerifierDb {
    /// Sets how often the ticket keys rotate, for every server of the fleet: running ones are
    /// told (NOTIFY) and take the new period at their next rotation, within a second, and
    /// number their keys by it. Tickets sealed under the old period stop opening: their clients
    /// make one full handshake.
    pub fn set_ticket_key_period(&self, period: Duration) -> Result<(), Error> {
        let secs = period.as_secs().max(1).to_string();
        self.inner
            .pool
            .run("setting the ticket key period", |conn| {
                conn.client.execute(
                    "UPDATE tlslite_meta SET value = $1 WHERE key = 'ticket_key_period'",
                    &[&secs],
                )?;
                conn.client
                    .batch_execute(&format!("NOTIFY {}", schema::KEYS_CHANNEL))
                    .map(|_| 0)
            })?;
        Ok(())
    }
}

/// When the watcher next rotates keys and sweeps expired sessions.
#[derive(Default)]
pub(super) struct Maintenance {
    next_keys: Option<Instant>,
    next_sweep: Option<Instant>,
}

impl Maintenance {
    /// Rotates the keys at the next run (the period changed).
    pub(super) fn rotate_soon(&mut self) {
        self.next_keys = None;
    }

    pub(super) fn run_if_due(
        &mut self,
        db: &Inner,
        conn: &mut Conn,
        now: SystemTime,
    ) -> Result<(), Error> {
        let due = |at: Option<Instant>| at.is_none_or(|at| Instant::now() >= at);
        if due(self.next_keys) {
            rotate_keys(db, conn, now)?;
            // Well within a period, so the next period's key is loaded before it is needed.
            let every =
                (db.keys.period() / 4).clamp(Duration::from_millis(250), Duration::from_secs(30));
            self.next_keys = Some(Instant::now() + every);
        }
        if due(self.next_sweep) {
            conn.client
                .execute(
                    "DELETE FROM tlslite_srp_sessions WHERE expires < now()",
                    &[],
                )
                .map_err(|e| db.pool.error("removing expired sessions", &e))?;
            self.next_sweep = Some(Instant::now() + Duration::from_secs(60));
        }
        Ok(())
    }
}

/// Makes sure the keys of this period and the next exist (the first server to get there
/// draws them; the others keep what it drew), retires those past their grace (and any
/// numbered by another period length), and loads the rest into the ring. Periods are numbered
/// by the length the database holds now, so every server numbers them alike, however long
/// it has been running.
fn rotate_keys(db: &Inner, conn: &mut Conn, now: SystemTime) -> Result<(), Error> {
    let error = |e: postgres::Error| db.pool.error("rotating the ticket keys", &e);
    let length = conn
        .client
        .query_one(
            "SELECT value FROM tlslite_meta WHERE key = 'ticket_key_period'",
            &[],
        )
        .map_err(error)?
        .get::<_, String>(0)
        .parse::<u64>()
        .ok()
        .filter(|secs| *secs > 0)
        .map_or(db.keys.period(), Duration::from_secs);
    let period = TicketKeyRing::number(now, length) as i64;
    let (mut this, mut next) = (Zeroizing::new([0u8; 32]), Zeroizing::new([0u8; 32]));
    random_bytes(&mut *this)?;
    random_bytes(&mut *next)?;
    conn.client
        .execute(
            "INSERT INTO tlslite_ticket_keys VALUES ($1, $2), ($3, $4) ON CONFLICT DO NOTHING",
            &[&period, &this.as_slice(), &(period + 1), &next.as_slice()],
        )
        .map_err(error)?;
    conn.client
        .execute(
            "DELETE FROM tlslite_ticket_keys WHERE period < $1 OR period > $2",
            &[&(period - 1), &(period + 1)],
        )
        .map_err(error)?;
    let rows = conn
        .client
        .query("SELECT period, key FROM tlslite_ticket_keys", &[])
        .map_err(error)?;
    let keys = rows
        .iter()
        .filter_map(|row| {
            let key: &[u8] = row.get(1);
            Some((
                u64::try_from(row.get::<_, i64>(0)).ok()?,
                <[u8; 32]>::try_from(key).ok()?,
            ))
        })
        .collect();
    db.keys.set_period_and_keys(length, keys);
    Ok(())
}

impl SharedResumption for PostgresVerifierDb {
    fn ticket_keys(&self) -> Arc<TicketKeyRing> {
        self.watch();
        self.inner.keys.clone()
    }

    /// Queues the session for a writer thread that stores many per transaction: the
    /// handshake does not wait, and another server may not find it for a few milliseconds.
    fn save_session(&self, id: &[u8], sealed: &[u8], lifetime: Duration) -> Result<(), Error> {
        self.inner.session_writer.call_once(|| {
            spawn_worker(
                "tlslite-db-sessions",
                "SRP session writer",
                &self.inner,
                session_writer::write,
            )
        });
        match self.inner.sessions.push(id, sealed, lifetime) {
            true => Ok(()),
            false => Err(Error::config("too many SRP sessions waiting to be shared")),
        }
    }

    fn load_session(&self, id: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        let row = self.inner.pool.run("loading a session", |conn| {
            let statement = conn.statement(schema::LOAD_SESSION)?;
            conn.client.query_opt(&statement, &[&id])
        })?;
        Ok(row.map(|row| row.get(0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resumption::{SavedSession, ServerSessions, SessionCache};

    /// Clients without tickets resume on another server through the shared table; a session
    /// whose client holds a ticket is not written there.
    #[test]
    fn sessions_shared_through_the_table_are_found_by_another_server() {
        let Some(pg) = tls_testkit::Postgres::start() else {
            return;
        };
        PostgresVerifierDb::create(&pg.url(), 2048).unwrap();
        let server = || {
            let shared = Arc::new(PostgresVerifierDb::open(&pg.url()).unwrap());
            ServerSessions::new(Some(&SessionCache::new(8)), Some(shared))
        };
        let (a, b) = (server(), server());
        // IDs as the fleet issues them: random bytes tagged under its keys.
        let keys = PostgresVerifierDb::open(&pg.url()).unwrap().ticket_keys();
        let ids: Vec<Vec<u8>> = (1..=2).map(|n| keys.session_id([n; 16]).unwrap()).collect();
        let session = |n: u8| {
            SavedSession::new(
                ids[usize::from(n) - 1].clone(),
                [n; 48],
                0xc01d,
                true,
                "alice".into(),
            )
            .with_verifier_digest([n; 32])
        };
        a.put(session(1), true);
        a.put(session(2), false);
        // Written by a thread of its own: give it a moment.
        let started = std::time::Instant::now();
        let found = loop {
            if let Some(found) = b.get(&ids[0]) {
                break found;
            }
            assert!(started.elapsed() < Duration::from_secs(2), "never shared");
            std::thread::sleep(Duration::from_millis(5));
        };
        assert_eq!((found.master, found.verifier_digest), ([1; 48], [1; 32]));
        assert!(
            b.get(&ids[1]).is_none(),
            "a ticket holder's session was shared"
        );
        assert!(a.get(&ids[1]).is_some(), "kept by its own server");
        // What the table holds is sealed: the master secret is not in it.
        let rows = pg.psql("SELECT encode(sealed, 'hex') FROM tlslite_srp_sessions");
        assert!(!rows.contains(&"01".repeat(48)), "{rows}");
    }

    /// Issue 26, item 4: a server opened before `set_ticket_key_period` kept its old period,
    /// numbered keys by it, and the two kinds of server deleted each other's keys, so tickets
    /// of one did not open on the other. Every server now takes the database's period.
    #[test]
    fn servers_opened_before_and_after_a_period_change_share_keys() {
        use crate::resumption::Purpose;
        let Some(pg) = tls_testkit::Postgres::start() else {
            return;
        };
        PostgresVerifierDb::create(&pg.url(), 2048).unwrap();
        let before = PostgresVerifierDb::open(&pg.url()).unwrap();
        let (before_keys, old_period) = (before.ticket_keys(), before.inner.keys.period());
        let new_period = Duration::from_secs(3600);
        assert_ne!(old_period, new_period);
        before.set_ticket_key_period(new_period).unwrap();
        let after = PostgresVerifierDb::open(&pg.url()).unwrap();
        let after_keys = after.ticket_keys();
        // Told by NOTIFY, the running server rotates within its next wait (250 ms).
        let started = Instant::now();
        while before_keys.period() != new_period {
            assert!(
                started.elapsed() < Duration::from_secs(3),
                "the running server kept {:?}",
                before_keys.period()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // Both ways, and still after each has rotated again.
        for _ in 0..2 {
            let sealed = after_keys.seal(Purpose::SrpTicket, b"from after").unwrap();
            assert!(before_keys.open(Purpose::SrpTicket, &sealed).is_some());
            let sealed = before_keys
                .seal(Purpose::SrpTicket, b"from before")
                .unwrap();
            assert!(after_keys.open(Purpose::SrpTicket, &sealed).is_some());
            for db in [&before, &after] {
                let mut conn = db.inner.pool.connect().unwrap();
                rotate_keys(&db.inner, &mut conn, SystemTime::now()).unwrap();
            }
        }
        let rows = pg.psql("SELECT count(*) FROM tlslite_ticket_keys");
        assert_eq!(rows.trim(), "2", "this period's key and the next");
    }

    /// Issue 26, item 3: ticket keys lived in a logged table, so every key ever drawn stayed in
    /// the WAL, replicas and PITR archives. New databases make the table unlogged; an older
    /// one is moved on open, its logged keys dropped.
    #[test]
    fn ticket_keys_stay_out_of_the_wal() {
        let Some(pg) = tls_testkit::Postgres::start() else {
            return;
        };
        let persistence =
            || pg.psql("SELECT relpersistence FROM pg_class WHERE relname = 'tlslite_ticket_keys'");
        PostgresVerifierDb::create(&pg.url(), 2048).unwrap();
        assert_eq!(persistence().trim(), "u");
        // A database of before: a logged table holding a key.
        pg.psql("ALTER TABLE tlslite_ticket_keys SET LOGGED");
        pg.psql("INSERT INTO tlslite_ticket_keys VALUES (1, '\\x00')");
        assert_eq!(persistence().trim(), "p");
        let count = || pg.psql("SELECT count(*) FROM tlslite_ticket_keys WHERE period = 1");
        assert_eq!(count().trim(), "1");
        let db = PostgresVerifierDb::open(&pg.url()).unwrap();
        assert_eq!(persistence().trim(), "u");
        assert_eq!(
            count().trim(),
            "0",
            "a key written to the WAL is still in use"
        );
        // Keys drawn from now on work as before.
        let sealed = db
            .ticket_keys()
            .seal(crate::resumption::Purpose::SrpTicket, b"s");
        assert!(sealed.is_some());
    }

    /// Issue 26, item 7: the pool capped only idle connections, so a burst of handshakes
    /// opened as many connections as it had. One server now opens at most MAX_OPEN, however
    /// many wait. (Strangers' session IDs: `resumption::fleet`'s test.)
    #[test]
    fn a_burst_opens_at_most_max_open_connections() {
        use super::super::pool::MAX_OPEN;
        let Some(pg) = tls_testkit::Postgres::start() else {
            return;
        };
        PostgresVerifierDb::create(&pg.url(), 2048).unwrap();
        let db = Arc::new(PostgresVerifierDb::open(&pg.url()).unwrap());
        // A burst of slow queries from 100 threads opens at most MAX_OPEN connections.
        let busiest = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..100 {
                scope.spawn(|| {
                    db.inner
                        .pool
                        .run("a slow query", |conn| {
                            conn.client.execute("SELECT pg_sleep(0.05)", &[])
                        })
                        .unwrap();
                });
            }
            scope.spawn(|| {
                for _ in 0..20 {
                    let open = pg.psql(
                        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'tlslite'",
                    );
                    let open: usize = open.trim().parse().unwrap();
                    busiest.fetch_max(open, std::sync::atomic::Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(20));
                }
            });
        });
        let busiest = busiest.into_inner();
        // The watcher's LISTEN connection comes on top of the pool's.
        assert!(
            busiest <= MAX_OPEN + 1,
            "{busiest} connections open at once"
        );
        assert!(busiest >= 2, "no burst was seen ({busiest})");
    }
}
