//! The thread that keeps a server's view of the database current: it LISTENs for changes to
//! users and pre-shared keys (dropping cached entries as they come), and keeps the ticket keys
//! rotated and loaded.

use std::sync::Weak;
use std::time::{Duration, Instant, SystemTime};

use postgres::fallible_iterator::FallibleIterator;

use super::schema::{CHANNEL, KEYS_CHANNEL, PSK_CHANNEL};
use super::{Inner, Maintenance};

/// How long one wait for notices lasts (also how soon a lost connection is retried).
const WAIT: Duration = Duration::from_millis(250);

/// The watcher thread's loop: connect, LISTEN, keep the keys, drop changed entries.
pub(super) fn watch(inner: &Weak<Inner>) {
    let mut maintenance = Maintenance::default();
    let mut said_down = false;
    loop {
        let Some(db) = inner.upgrade() else { return };
        let listener = db.pool.connect().and_then(|mut conn| {
            conn.client
                .batch_execute(&format!(
                    "LISTEN {CHANNEL}; LISTEN {PSK_CHANNEL}; LISTEN {KEYS_CHANNEL}"
                ))
                .map_err(|e| db.pool.error("listening for changes", &e))?;
            Ok(conn)
        });
        let mut conn = match listener {
            Ok(conn) => conn,
            Err(e) => {
                db.set_listening(false);
                if !said_down {
                    log::warn!("{e}; retrying");
                    said_down = true;
                }
                drop(db);
                std::thread::sleep(WAIT);
                continue;
            }
        };
        if said_down {
            log::info!("verifier database {} is back", db.pool.target);
            said_down = false;
            db.pool.clear();
        }
        db.set_listening(true);
        drop(db);
        loop {
            let Some(db) = inner.upgrade() else { return };
            if let Err(e) = maintenance.run_if_due(&db, &mut conn, SystemTime::now()) {
                log::warn!("{e}");
            }
            // A heartbeat: PostgreSQL sends a listener its pending notices before the answer to
            // a query, so once it is answered (and the notices read), every change committed
            // before it was sent is known. The caches serve only while this is recent: a
            // silent link (no FIN, no RST) would otherwise go unseen for as long as TCP takes.
            let sent = Instant::now();
            let answered = conn.client.batch_execute("SELECT 1").is_ok();
            let broken = !answered || {
                let mut notices = conn.client.notifications();
                let mut iter = notices.timeout_iter(WAIT);
                loop {
                    match iter.next() {
                        Ok(Some(notice)) => match (notice.channel(), notice.payload()) {
                            (PSK_CHANNEL, _) => db.psk_cache.changed_all(),
                            (KEYS_CHANNEL, _) => maintenance.rotate_soon(),
                            (_, "") => db.cache.changed_all(),
                            (_, username) => db.cache.changed(username),
                        },
                        Ok(None) => break false,
                        Err(_) => break true,
                    }
                }
            };
            if broken || conn.client.is_closed() {
                db.set_listening(false);
                db.pool.clear();
                break;
            }
            db.cache.heard(sent);
            db.psk_cache.heard(sent);
        }
    }
}

impl Inner {
    /// Whether change notices arrive, for both caches.
    fn set_listening(&self, listening: bool) {
        self.cache.set_listening(listening);
        self.psk_cache.set_listening(listening);
    }
}
