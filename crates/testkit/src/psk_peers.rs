//! TLS 1.3 external-PSK servers from real stacks: `gnutls-serv --pskpasswd` and tlslite-ng's
//! `tls.py server --psk`, each with its own folder (key file, log), stopped by PID on drop.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tls::psk::{ExternalPsk, PskHash};

use crate::{free_port, peer, PeerProcess};

/// GnuTLS's priority string for TLS 1.3 with every PSK key exchange it has (PEERS.md).
pub const GNUTLS_PSK_TLS13: &str = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+ECDHE-PSK:+DHE-PSK:+PSK";

/// Lower-case hex, as the peers' command lines and key files take keys.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A PSK server peer listening on 127.0.0.1 (or, for gnutls-serv, every address: it has no
/// option to bind one). Killed and reaped when dropped.
pub struct PskServer {
    /// Where it listens.
    pub port: u16,
    process: PeerProcess,
    dir: tempfile::TempDir,
}

impl PskServer {
    /// Starts `command` in `dir` and waits until it listens on `port`; panics with its log
    /// when it exits first.
    fn start(mut command: Command, port: u16, dir: tempfile::TempDir) -> Self {
        let mut process = spawn_logged(&mut command, dir.path());
        wait_until_listening(&mut process, port, &format!("{command:?}"), || {
            read_log(dir.path())
        })
        .unwrap_or_else(|why| panic!("{why}"));
        Self { port, process, dir }
    }

    /// What the peer printed so far (stdout and stderr).
    pub fn log(&self) -> String {
        read_log(self.dir.path())
    }

    /// The peer's PID.
    pub fn pid(&self) -> u32 {
        self.process.0.id()
    }
}

/// Spawns `command` in `dir` with stdout and stderr in `dir/log` (a file: a pipe nobody reads
/// would block a chatty peer).
pub(crate) fn spawn_logged(command: &mut Command, dir: &Path) -> PeerProcess {
    let log = std::fs::File::create(dir.join("log")).expect("log file");
    PeerProcess::spawn(
        command
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log),
    )
}

/// What a peer started by [`spawn_logged`] in `dir` printed so far.
pub(crate) fn read_log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("log")).unwrap_or_default()
}

/// Waits until something listens on `port`; an error with `log()` when `process` exits
/// first or after 20 s.
pub(crate) fn wait_until_listening(
    process: &mut PeerProcess,
    port: u16,
    what: &str,
    log: impl Fn() -> String,
) -> Result<(), String> {
    let started = Instant::now();
    while !crate::gnutls::listening(port) {
        if let Some(status) = process.0.try_wait().expect("try_wait") {
            return Err(format!(
                "{what} exited ({status}) before listening on {port}:\n{}",
                log()
            ));
        }
        if started.elapsed() > Duration::from_secs(20) {
            return Err(format!("{what}: nothing listens on {port}:\n{}", log()));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// A private folder for a peer's files.
pub(crate) fn peer_dir(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("temp dir")
}

/// Writes `keys` to `dir/name` as `identity:hexkey` lines ([`tls::psk::format_key_file`], the
/// format of GnuTLS's `--pskpasswd` and mosquitto's `psk_file`) and gives its path.
pub(crate) fn write_key_file(dir: &Path, name: &str, keys: &[ExternalPsk]) -> PathBuf {
    let path = dir.join(name);
    let text = tls::psk::format_key_file(keys).expect("key file");
    std::fs::write(&path, text.as_bytes()).expect("write key file");
    path
}

/// `gnutls-serv --pskpasswd` with `keys` written as `identity:hexkey` lines by
/// [`tls::psk::format_key_file`], `priority` (e.g. [`GNUTLS_PSK_TLS13`]) and `mode`
/// (`--echo` or `--http`). `None` (after a loud skip) when gnutls-serv is missing.
pub fn gnutls_psk_serv(keys: &[ExternalPsk], priority: &str, mode: &str) -> Option<PskServer> {
    let serv = peer("gnutls-serv")?;
    let dir = peer_dir("gnutls-psk");
    let file = write_key_file(dir.path(), "psk.passwd", keys);
    let port = free_port();
    let mut command = Command::new(serv);
    command
        .args(["--port", &port.to_string(), "--priority", priority, mode])
        .arg("--pskpasswd")
        .arg(&file);
    Some(PskServer::start(command, port, dir))
}

/// tlslite-ng's `tls.py server --echo` with one PSK (`--psk-sha384` for a SHA-384 one), on
/// `localhost`. `None` (after a loud skip) when tlslite-ng is missing.
pub fn tlslite_psk_server(psk: &ExternalPsk) -> Option<PskServer> {
    let tls_py = peer("tls.py")?;
    let port = free_port();
    let mut command = Command::new(tls_py);
    command
        .arg("server")
        .args(tlslite_psk_args(psk))
        .arg("--echo");
    command.arg(format!("localhost:{port}"));
    Some(PskServer::start(command, port, peer_dir("tlslite-psk")))
}

/// The `--psk HEX --psk-ident ID [--psk-sha384]` arguments of tlslite-ng's `tls.py`.
pub fn tlslite_psk_args(psk: &ExternalPsk) -> Vec<String> {
    let mut args = vec![
        "--psk".into(),
        hex(psk.key()),
        "--psk-ident".into(),
        psk.identity_lossy(),
    ];
    if psk.hash() == PskHash::Sha384 {
        args.push("--psk-sha384".into());
    }
    args
}
