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

impl PostgresVerifierDb {
    /// Sets how often the ticket keys rotate (for every server opening the database from now
    /// on; running servers keep the period they read).
    pub fn set_ticket_key_period(&self, period: Duration) -> Result<(), Error> {
        let secs = period.as_secs().max(1).to_string();
        self.inner
            .pool
            .run("setting the ticket key period", |conn| {
                conn.client.execute(
                    "UPDATE tlslite_meta SET value = $1 WHERE key = 'ticket_key_period'",
                    &[&secs],
                )
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
/// draws them; the others keep what it drew), retires those past their grace, and loads the
/// rest into the ring.
fn rotate_keys(db: &Inner, conn: &mut Conn, now: SystemTime) -> Result<(), Error> {
    let period = db.keys.period_of(now) as i64;
    let error = |e: postgres::Error| db.pool.error("rotating the ticket keys", &e);
    let (mut this, mut next) = ([0u8; 32], [0u8; 32]);
    random_bytes(&mut this)?;
    random_bytes(&mut next)?;
    conn.client
        .execute(
            "INSERT INTO tlslite_ticket_keys VALUES ($1, $2), ($3, $4) ON CONFLICT DO NOTHING",
            &[&period, &this.as_slice(), &(period + 1), &next.as_slice()],
        )
        .map_err(error)?;
    conn.client
        .execute(
            "DELETE FROM tlslite_ticket_keys WHERE period < $1",
            &[&(period - 1)],
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
    db.keys.set_keys(keys);
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
        let session = |id: u8| {
            SavedSession::new(vec![id; 32], [id; 48], 0xc01d, true, "alice".into())
                .with_verifier_digest([id; 32])
        };
        a.put(session(1), true);
        a.put(session(2), false);
        // Written by a thread of its own: give it a moment.
        let started = std::time::Instant::now();
        let found = loop {
            if let Some(found) = b.get(&[1; 32]) {
                break found;
            }
            assert!(started.elapsed() < Duration::from_secs(2), "never shared");
            std::thread::sleep(Duration::from_millis(5));
        };
        assert_eq!((found.master, found.verifier_digest), ([1; 48], [1; 32]));
        assert!(
            b.get(&[2; 32]).is_none(),
            "a ticket holder's session was shared"
        );
        assert!(a.get(&[2; 32]).is_some(), "kept by its own server");
        // What the table holds is sealed: the master secret is not in it.
        let rows = pg.psql("SELECT encode(sealed, 'hex') FROM tlslite_srp_sessions");
        assert!(!rows.contains(&"01".repeat(48)), "{rows}");
    }
}
