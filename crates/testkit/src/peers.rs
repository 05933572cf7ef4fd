//! Real peers: find them, skip loudly when missing, and never leave a process behind.

use std::io::Write;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// Whether a missing peer must fail the test (`TLS_PEERS_REQUIRED=1`).
pub fn peers_required() -> bool {
    std::env::var("TLS_PEERS_REQUIRED").is_ok_and(|v| v == "1")
}

/// Where `scripts/install-peers.sh` puts Python peers (tlslite-ng).
fn peers_venv() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.peers/venv/bin")
}

/// The path of a peer program (on `PATH`, or in the project's peers venv), or `None` after
/// printing why the test skips. Panics instead when `TLS_PEERS_REQUIRED=1`.
pub fn peer(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain([peers_venv()])
        .map(|dir| dir.join(program))
        .find(|p| p.is_file());
    if found.is_none() {
        if peers_required() {
            panic!("peer {program:?} is not installed and TLS_PEERS_REQUIRED=1");
        }
        eprintln!(
            "SKIPPED: peer {program:?} is not installed (set TLS_PEERS_REQUIRED=1 to fail instead)"
        );
    }
    found
}

/// A child process killed and reaped when dropped.
pub struct PeerProcess(pub Child);

impl PeerProcess {
    /// Spawns the command.
    pub fn spawn(command: &mut Command) -> Self {
        Self(command.spawn().expect("spawn peer"))
    }

    /// Spawns a server that listens on an ephemeral port and prints it on stdout, as
    /// `openssl s_server -accept 0` does (`ACCEPT [::]:PORT`): waits for the first line holding
    /// `marker` and returns the number at its end. The rest of stdout is drained in the background.
    pub fn spawn_printing_port(command: &mut Command, marker: &str) -> (Self, u16) {
        let mut child = Self::spawn(command.stdout(Stdio::piped()));
        let mut stdout = BufReader::new(child.0.stdout.take().expect("piped stdout"));
        let mut seen = String::new();
        let port = loop {
            let mut line = String::new();
            if stdout.read_line(&mut line).unwrap_or(0) == 0 {
                panic!("{command:?} exited before printing {marker:?}; it said:\n{seen}");
            }
            if line.contains(marker) {
                let digits: String = line
                    .trim_end()
                    .chars()
                    .rev()
                    .take_while(char::is_ascii_digit)
                    .collect();
                break digits
                    .chars()
                    .rev()
                    .collect::<String>()
                    .parse()
                    .expect("port number");
            }
            seen.push_str(&line);
        };
        std::thread::spawn(move || std::io::copy(&mut stdout.take(u64::MAX), &mut std::io::sink()));
        (child, port)
    }
}

impl Drop for PeerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs a command to its end with `stdin` as its input, capturing stdout and stderr.
pub fn run(cmd: &mut Command, stdin: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(stdin)
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

/// The stdout of a command that must have succeeded; panics with its stderr otherwise.
pub fn succeeded(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A single-threaded tokio runtime with timers and I/O, as the async clients' tests use.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Runs `work` to completion on a fresh [`runtime`].
pub fn block_on<T>(work: impl std::future::Future<Output = T>) -> T {
    runtime().block_on(work)
}

/// Waits for a daemon's PID file (written a moment after it forks) and returns the PID;
/// panics with `log()` after 10 s.
pub(crate) fn read_pid_file(path: &std::path::Path, log: impl Fn() -> String) -> u32 {
    let started = std::time::Instant::now();
    loop {
        if let Some(pid) = std::fs::read_to_string(path)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            return pid;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "no PID in {}\n{}",
            path.display(),
            log()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// SIGTERM to `pid`, then a wait until it is gone (or a zombie), SIGKILL after 10 s.
pub(crate) fn stop_by_pid(pid: u32) {
    let pid_arg = pid.to_string();
    let _ = Command::new("kill").args(["-TERM", &pid_arg]).status();
    let started = std::time::Instant::now();
    while alive(pid) {
        if started.elapsed() > std::time::Duration::from_secs(10) {
            let _ = Command::new("kill").args(["-KILL", &pid_arg]).status();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Whether the process exists and is not a zombie (its reaper may be slow).
pub(crate) fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}
