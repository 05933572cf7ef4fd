//! One line per event on stderr, with a UTC timestamp: enough for a command-line server.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

struct StderrLogger;

static LOGGER: StderrLogger = StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, meta: &log::Metadata<'_>) -> bool {
        meta.level() <= log::max_level() && !meta.target().starts_with("rustls")
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            let stamp = httpdate_like(now.as_secs());
            let _ = writeln!(
                std::io::stderr(),
                "{stamp} {:5} {}",
                record.level(),
                record.args()
            );
        }
    }

    fn flush(&self) {}
}

/// `HH:MM:SS` of the UTC day.
fn httpdate_like(secs: u64) -> String {
    let day = secs % 86_400;
    format!("{:02}:{:02}:{:02}", day / 3600, day / 60 % 60, day % 60)
}

/// Logs at `info` (or `debug` with `TLS_LOG=debug`).
pub fn init() {
    let level = match std::env::var("TLS_LOG").as_deref() {
        Ok("debug") => log::LevelFilter::Debug,
        Ok("warn") => log::LevelFilter::Warn,
        Ok("off") => log::LevelFilter::Off,
        _ => log::LevelFilter::Info,
    };
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(level);
    }
}
