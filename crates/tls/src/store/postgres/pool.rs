//! A small pool of blocking PostgreSQL connections, each with its prepared statements.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use postgres::{Client, Statement};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::Error;

/// Idle connections kept for reuse.
const MAX_IDLE: usize = 16;
/// Connections a server has open at once for handshakes and sessions (the watcher's and the
/// session writer's own come on top): a burst of ClientHellos waits for one rather than opening
/// hundreds against the database's `max_connections`.
pub(super) const MAX_OPEN: usize = 32;
/// How long a query waits for a connection before it fails.
const WAIT_FOR_CONNECTION: Duration = Duration::from_secs(2);

/// A connection and the statements prepared on it.
pub(super) struct Conn {
    pub(super) client: Client,
    statements: HashMap<&'static str, Statement>,
}

impl Conn {
    /// `sql` prepared once per connection: one round trip per query afterwards, not two.
    pub(super) fn statement(&mut self, sql: &'static str) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }
}

pub(super) struct Pool {
    pub(super) config: postgres::Config,
    /// `host:port/database`, for messages (never the password).
    pub(super) target: String,
    /// TLS as the URL's `sslmode` says (unused with `disable`).
    tls: MakeRustlsConnect,
    idle: Mutex<Vec<Conn>>,
    /// Connections handed out by `run` and not yet back, with the wait for one to come back.
    busy: Mutex<usize>,
    returned: Condvar,
}

impl Pool {
    pub(super) fn new(config: postgres::Config, target: String, tls: MakeRustlsConnect) -> Self {
        Self {
            config,
            target,
            tls,
            idle: Mutex::default(),
            busy: Mutex::new(0),
            returned: Condvar::new(),
        }
    }

    /// Takes one of the [`MAX_OPEN`] slots, waiting up to [`WAIT_FOR_CONNECTION`] for one.
    fn take_slot(&self) -> Result<Slot<'_>, Error> {
        let busy = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        let (mut busy, waited) = self
            .returned
            .wait_timeout_while(busy, WAIT_FOR_CONNECTION, |busy| *busy >= MAX_OPEN)
            .unwrap_or_else(|p| p.into_inner());
        if waited.timed_out() && *busy >= MAX_OPEN {
            return Err(Error::Config(format!(
                "verifier database {}: all {MAX_OPEN} connections stayed busy for {:?}",
                self.target, WAIT_FOR_CONNECTION
            )));
        }
        *busy += 1;
        Ok(Slot(self))
    }

    pub(super) fn connect(&self) -> Result<Conn, Error> {
        let client = on_client_thread(|| self.config.connect(self.tls.clone()))
            .map_err(|e| self.error("connecting", &e))?;
        Ok(Conn {
            client,
            statements: HashMap::new(),
        })
    }

    /// Runs `work` on a pooled connection. A pooled connection found closed (the server
    /// restarted since) is replaced once by a fresh one.
    pub(super) fn run<T: Send>(
        &self,
        what: &str,
        work: impl FnMut(&mut Conn) -> Result<T, postgres::Error> + Send,
    ) -> Result<T, Error> {
        on_client_thread(|| self.run_here(what, work))
    }

    fn run_here<T>(
        &self,
        what: &str,
        mut work: impl FnMut(&mut Conn) -> Result<T, postgres::Error>,
    ) -> Result<T, Error> {
        let _slot = self.take_slot()?;
        let pooled = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let (mut conn, from_pool) = match pooled {
            Some(conn) => (conn, true),
            None => (self.connect()?, false),
        };
        let mut result = work(&mut conn);
        if result.is_err() && from_pool && conn.client.is_closed() {
            conn = self.connect()?;
            result = work(&mut conn);
        }
        if !conn.client.is_closed() {
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            if idle.len() < MAX_IDLE {
                idle.push(conn);
            }
        }
        result.map_err(|e| self.error(what, &e))
    }

    /// Drops every idle connection (after an outage they are all dead).
    pub(super) fn clear(&self) {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// A clear error naming the database and what failed.
    pub(super) fn error(&self, what: &str, e: &postgres::Error) -> Error {
        use postgres::error::SqlState;
        let detail = match e.as_db_error() {
            Some(db) if *db.code() == SqlState::INVALID_PASSWORD => {
                "the server refused the user name or password".to_owned()
            }
            Some(db) => db.message().to_owned(),
            None => match std::error::Error::source(e) {
                Some(source) => format!("{e}: {source}"),
                None => e.to_string(),
            },
        };
        Error::Config(format!(
            "verifier database {}: {what}: {detail}",
            self.target
        ))
    }
}

/// One connection's worth of the pool's cap, given back when dropped.
struct Slot<'a>(&'a Pool);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        *self.0.busy.lock().unwrap_or_else(|p| p.into_inner()) -= 1;
        self.0.returned.notify_one();
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // A blocking client owns a runtime of its own, which may not be dropped in async code.
        let idle = std::mem::take(&mut *self.idle.lock().unwrap_or_else(|p| p.into_inner()));
        on_client_thread(move || drop(idle));
    }
}

/// Stack for the threads that run the blocking client. In an unoptimized build its futures
/// (the TLS stream among them) outgrow the small stacks of a thread-per-connection server.
const CLIENT_STACK: usize = 1024 * 1024;

/// Runs `work` where the blocking client may run: on a thread of its own, since async code's
/// threads may not block (the client would panic) and a thread-per-connection server's stack
/// may be too small for it. A thread costs microseconds; a query, a round trip.
pub(super) fn on_client_thread<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("tlslite postgres".into())
            .stack_size(CLIENT_STACK)
            .spawn_scoped(scope, work)
            .expect("spawning a thread for the database client")
            .join()
    })
    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}
