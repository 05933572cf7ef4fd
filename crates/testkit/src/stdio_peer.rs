//! A peer program that carries application data on its stdin and stdout, as `openssl s_server`
//! and `s_client` do without `-www`: what it receives from the TLS peer lands in a file, what it
//! sends comes from a file or a pipe we feed. Killed and reaped when dropped.

use std::io::Write;
use std::path::Path;
use std::process::{ChildStdin, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::PeerProcess;

/// A running peer with its stdout in `dir/stdout` and its stderr in `dir/log`.
pub struct StdioPeer {
    /// Where it listens (a server), or 0 (a client).
    pub port: u16,
    process: PeerProcess,
    /// The pipe to its stdin, until [`feed`](Self::feed) takes it to a thread.
    stdin: Option<ChildStdin>,
    /// The thread writing to its stdin; it hands the pipe back, still open, when done.
    feeder: Option<JoinHandle<Option<ChildStdin>>>,
    status: Option<ExitStatus>,
    dir: tempfile::TempDir,
}

impl StdioPeer {
    /// Spawns `command` in `dir`. With `input`, stdin is a file holding it (the program sees
    /// its end right after); without, stdin is a pipe kept open until the program exits, for
    /// [`feed`](Self::feed) (`openssl s_server -quiet` spins on an ended stdin and never reads
    /// its socket again).
    pub(crate) fn spawn(
        command: &mut Command,
        dir: tempfile::TempDir,
        input: Option<&[u8]>,
    ) -> Self {
        let stdout = std::fs::File::create(dir.path().join("stdout")).expect("stdout file");
        let log = std::fs::File::create(dir.path().join("log")).expect("log file");
        let stdin = match input {
            Some(bytes) => {
                let path = dir.path().join("stdin");
                std::fs::write(&path, bytes).expect("stdin file");
                Stdio::from(std::fs::File::open(&path).expect("stdin file"))
            }
            None => Stdio::piped(),
        };
        let mut process = PeerProcess::spawn(
            command
                .current_dir(dir.path())
                .stdin(stdin)
                .stdout(stdout)
                .stderr(log),
        );
        let stdin = process.0.stdin.take();
        Self {
            port: 0,
            process,
            stdin,
            feeder: None,
            status: None,
            dir,
        }
    }

    /// The folder its files are in.
    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The process, e.g. to wait until it listens.
    pub(crate) fn process(&mut self) -> &mut PeerProcess {
        &mut self.process
    }

    /// Writes `data` to its stdin from a thread (a pipe holds 64 KiB: the peer has to read as we
    /// write), leaving the pipe open afterwards. Panics when stdin is a file or already fed.
    pub fn feed(&mut self, data: Vec<u8>) {
        let mut stdin = self.stdin.take().expect("stdin is a pipe not fed yet");
        self.feeder = Some(std::thread::spawn(move || {
            // A peer that exits first breaks the pipe: its log says why, `wait` shows it.
            stdin.write_all(&data).ok()?;
            stdin.flush().ok()?;
            Some(stdin)
        }));
    }

    /// Waits up to `within` for the program to exit and gives its status; past that, kills it
    /// and panics with what it printed.
    pub fn wait(&mut self, within: Duration) -> ExitStatus {
        if let Some(status) = self.status {
            return status;
        }
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.process.0.try_wait().expect("try_wait") {
                break status;
            }
            if started.elapsed() > within {
                let _ = self.process.0.kill();
                let _ = self.process.0.wait();
                panic!(
                    "peer (PID {}) still running after {within:?}; its stderr:\n{}",
                    self.pid(),
                    crate::tail(&self.log(), 4000)
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        // The pipe is broken now, so the feeder has returned (or returns at its next write).
        if let Some(feeder) = self.feeder.take() {
            let _ = feeder.join();
        }
        self.stdin = None;
        self.status = Some(status);
        status
    }

    /// Everything it wrote to stdout so far: the application data it received.
    pub fn stdout(&self) -> Vec<u8> {
        std::fs::read(self.dir.path().join("stdout")).unwrap_or_default()
    }

    /// What it wrote to stderr so far.
    pub fn log(&self) -> String {
        crate::psk_peers::read_log(self.dir.path())
    }

    /// Its stdout (lossily as text) then its stderr: for short conversations.
    pub fn said(&self) -> String {
        format!("{}{}", String::from_utf8_lossy(&self.stdout()), self.log())
    }

    /// The peer's PID.
    pub fn pid(&self) -> u32 {
        self.process.0.id()
    }
}
