//! What the subcommands share: errors, HOST:PORT, connecting with timeouts.

use std::fmt;
use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

/// A command-line failure: bad usage (exit 2) or a failed run (exit 1).
#[derive(Debug)]
pub enum CliError {
    Usage(String),
    Tls(tls::Error),
    /// Writing our own output failed (a closed pipe, a full disk).
    Output(std::io::Error),
    Other(String),
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(why) | Self::Other(why) => f.write_str(why),
            Self::Tls(e) => write!(f, "{e}"),
            Self::Output(e) => write!(f, "writing output: {e}"),
        }
    }
}

impl From<lexopt::Error> for CliError {
    fn from(e: lexopt::Error) -> Self {
        Self::Usage(e.to_string())
    }
}

impl From<tls::Error> for CliError {
    fn from(e: tls::Error) -> Self {
        Self::Tls(e)
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        Self::Tls(e.into())
    }
}

/// `HOST:PORT` or `[V6]:PORT`.
pub struct Target {
    pub host: String,
    pub port: u16,
}

impl Target {
    pub fn parse(text: &str) -> Result<Self, CliError> {
        let bad = || CliError::Usage(format!("{text:?} is not HOST:PORT"));
        let (host, port) = text.rsplit_once(':').ok_or_else(bad)?;
        let host = tls::adapter::bare_host(host);
        if host.is_empty() {
            return Err(bad());
        }
        Ok(Self {
            host: host.to_owned(),
            port: port.parse().map_err(|_| bad())?,
        })
    }

    /// A TCP connection with `timeout` on connecting, reading and writing.
    pub fn connect(&self, timeout: Duration) -> Result<TcpStream, CliError> {
        tls::adapter::connect_blocking(&self.host, self.port, timeout).map_err(|e| {
            CliError::Other(format!(
                "cannot connect to {}:{}: {e}",
                self.host, self.port
            ))
        })
    }
}

pub fn parse_timeout(value: std::ffi::OsString) -> Result<Duration, CliError> {
    let text = value.to_string_lossy();
    text.parse::<f64>()
        .ok()
        .filter(|s| *s > 0.0 && s.is_finite())
        .map(Duration::from_secs_f64)
        .ok_or_else(|| {
            CliError::Usage(format!(
                "--timeout {text:?} is not a positive number of seconds"
            ))
        })
}

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// Prints the session to stdout as `Name: value` lines.
pub fn print_session(session: &tls::Session) -> Result<(), CliError> {
    write_session(session).map_err(CliError::Output)
}

fn write_session(session: &tls::Session) -> std::io::Result<()> {
    let hex = |fp: Option<tls::Fingerprint>| fp.map_or_else(|| "(none)".into(), |f| f.to_hex());
    let alpn = session.alpn_protocol().map(String::from_utf8_lossy);
    let mut out = std::io::stdout().lock();
    writeln!(out, "Version: {}", session.version())?;
    writeln!(out, "Cipher suite: {}", session.cipher_suite())?;
    writeln!(
        out,
        "Peer fingerprint SHA-1: {}",
        hex(session.peer_fingerprint_sha1())
    )?;
    writeln!(
        out,
        "Peer fingerprint SHA-256: {}",
        hex(session.peer_fingerprint_sha256())
    )?;
    writeln!(
        out,
        "Resumed: {}",
        if session.resumed() { "yes" } else { "no" }
    )?;
    writeln!(out, "ALPN: {}", alpn.as_deref().unwrap_or("(none)"))?;
    let yes_no = |b: Option<bool>| match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "n/a",
    };
    if let Some(user) = session.srp_username() {
        writeln!(out, "SRP username: {user}")?;
    }
    if let Some(identity) = session.psk_identity() {
        writeln!(out, "PSK identity: {}", String::from_utf8_lossy(identity))?;
    }
    writeln!(
        out,
        "Encrypt-then-MAC: {}",
        yes_no(session.encrypt_then_mac())
    )?;
    writeln!(
        out,
        "Extended master secret: {}",
        yes_no(session.extended_master_secret())
    )?;
    out.flush()
}
