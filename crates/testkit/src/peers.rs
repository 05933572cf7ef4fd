//! Real peers: find them, skip loudly when missing, and never leave a process behind.

use std::path::PathBuf;
use std::process::{Child, Command};

/// Whether a missing peer must fail the test (`TLS_PEERS_REQUIRED=1`).
pub fn peers_required() -> bool {
    std::env::var("TLS_PEERS_REQUIRED").is_ok_and(|v| v == "1")
}

/// The path of a peer program, or `None` after printing why the test skips.
/// Panics instead when `TLS_PEERS_REQUIRED=1`.
pub fn peer(program: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    });
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
}

impl Drop for PeerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
