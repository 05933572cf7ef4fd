//! PostgreSQL 15 as a real shared store: a private cluster (`initdb`) in a temp dir, listening on
//! a free loopback port, started and stopped with `pg_ctl` (by its PID on drop); optionally
//! taking TLS connections only, with a certificate from the test PKI.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{free_port, peers_required, run, succeeded, Pki};

/// Where Debian's package puts the server programs.
const BIN: &str = "/usr/lib/postgresql/15/bin";
/// The server refuses to run as root; Debian's package makes this user.
const USER: &str = "postgres";

/// A running private PostgreSQL cluster with one database, `tlslite`; stopped when dropped.
pub struct Postgres {
    /// The loopback port it listens on.
    pub port: u16,
    dir: tempfile::TempDir,
    /// Whether it runs with `ssl = on` (its certificate in `server.pem`/`server.key`).
    tls: bool,
}

impl Postgres {
    /// Makes and starts a cluster (password authentication for the user `tlslite`, password
    /// `tlslite`; the superuser `postgres` trusted). `None` (after a loud skip message) when
    /// PostgreSQL is not installed; panics under `TLS_PEERS_REQUIRED=1` then, and whenever it
    /// fails to start.
    pub fn start() -> Option<Self> {
        Self::start_with(None)
    }

    /// As [`start`](Self::start), but the cluster takes TLS connections only (`hostssl`, the
    /// superuser's included; a plaintext one is refused) and shows the PKI's `server`
    /// certificate (for `localhost` and 127.0.0.1, under its root `root.pem`).
    pub fn start_with_tls(pki: &Pki) -> Option<Self> {
        Self::start_with(Some(pki))
    }

    fn start_with(pki: Option<&Pki>) -> Option<Self> {
        if !Path::new(BIN).join("initdb").is_file() {
            assert!(
                !peers_required(),
                "PostgreSQL 15 is not installed ({BIN}) and TLS_PEERS_REQUIRED=1"
            );
            eprintln!("SKIPPED: PostgreSQL 15 is not installed (set TLS_PEERS_REQUIRED=1 to fail instead)");
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("pg")
            .tempdir_in("/tmp")
            .expect("temp dir");
        succeeded(&run(Command::new("chown").arg(USER).arg(dir.path()), b""));
        let data = dir.path().join("data");
        succeeded(&run(
            as_postgres("initdb")
                .args(["-A", "trust", "-U", USER, "--no-sync", "-D"])
                .arg(&data),
            b"",
        ));
        // Password authentication over TCP for the application's user, as in production.
        let tcp = match pki {
            Some(_) => "hostssl",
            None => "host",
        };
        std::fs::write(
            data.join("pg_hba.conf"),
            format!(
                "local all postgres trust\n\
                 {tcp} all postgres 127.0.0.1/32 trust\n\
                 {tcp} all all 127.0.0.1/32 scram-sha-256\n"
            ),
        )
        .expect("pg_hba.conf");
        let mut server = Postgres {
            port: 0,
            dir,
            tls: pki.is_some(),
        };
        if let Some(pki) = pki {
            server.use_certificate(&pki.path("server.pem"), &pki.path("server.key"));
        }
        for attempt in 1.. {
            // A free port can be taken before the server binds it: retry with another.
            server.port = free_port();
            if server.pg_ctl_start() {
                break;
            }
            assert!(attempt < 5, "PostgreSQL failed to start:\n{}", server.log());
        }
        server.psql_in("postgres", "CREATE USER tlslite PASSWORD 'tlslite'");
        server.psql_in("postgres", "CREATE DATABASE tlslite OWNER tlslite");
        Some(server)
    }

    /// `postgres://` URL of the database, for the application's user.
    pub fn url(&self) -> String {
        format!("postgres://tlslite:tlslite@127.0.0.1:{}/tlslite", self.port)
    }

    /// Runs SQL as the superuser in the `tlslite` database; panics on failure.
    pub fn psql(&self, sql: &str) -> String {
        self.psql_in("tlslite", sql)
    }

    fn psql_in(&self, database: &str, sql: &str) -> String {
        let out = run(
            Command::new("psql")
                .args([
                    "-X",
                    "-q",
                    "-t",
                    "-A",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-h",
                    "127.0.0.1",
                ])
                .args([
                    "-p",
                    &self.port.to_string(),
                    "-U",
                    USER,
                    "-d",
                    database,
                    "-c",
                    sql,
                ]),
            b"",
        );
        succeeded(&out);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Makes the server show another certificate (chain and key PEM files) from the next
    /// connection on, as an operator's reload does.
    pub fn use_certificate(&self, chain: &Path, key: &Path) {
        assert!(self.tls, "a cluster started without TLS");
        for (from, to) in [(chain, "server.pem"), (key, "server.key")] {
            let to = self.dir.path().join(to);
            std::fs::copy(from, &to).expect("copy the certificate");
            // The server reads its key only when the key is private to it.
            succeeded(&run(Command::new("chmod").arg("600").arg(&to), b""));
            succeeded(&run(Command::new("chown").arg(USER).arg(&to), b""));
        }
        if self.pid().is_some() {
            succeeded(&run(
                as_postgres("pg_ctl")
                    .args(["reload", "-D"])
                    .arg(self.data()),
                b"",
            ));
            // The postmaster rereads its files when it gets to the signal.
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
    }

    /// Stops the server (fast shutdown: sessions are cut), keeping its data.
    pub fn stop(&self) {
        succeeded(&run(
            as_postgres("pg_ctl")
                .args(["-m", "fast", "-w", "stop", "-D"])
                .arg(self.data()),
            b"",
        ));
    }

    /// Starts it again on the same port, with the same data.
    pub fn restart(&self) {
        assert!(
            self.pg_ctl_start(),
            "PostgreSQL did not restart:\n{}",
            self.log()
        );
    }

    fn pg_ctl_start(&self) -> bool {
        let dir = self.dir.path().display();
        let mut options = format!(
            "-p {} -k {dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            self.port,
        );
        if self.tls {
            options += &format!(
                " -c ssl=on -c ssl_cert_file={dir}/server.pem -c ssl_key_file={dir}/server.key"
            );
        }
        run(
            as_postgres("pg_ctl")
                .args(["-w", "-t", "30", "-o", &options, "-l"])
                .arg(self.dir.path().join("log"))
                .arg("-D")
                .arg(self.data())
                .arg("start"),
            b"",
        )
        .status
        .success()
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The server's log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    /// The postmaster's PID, while it runs.
    fn pid(&self) -> Option<u32> {
        let text = std::fs::read_to_string(self.data().join("postmaster.pid")).ok()?;
        text.lines().next()?.trim().parse().ok()
    }
}

fn as_postgres(program: &str) -> Command {
    let mut command = Command::new("runuser");
    command
        .args(["-u", USER, "--"])
        .arg(Path::new(BIN).join(program));
    command
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(pid) = self.pid() {
            // SIGQUIT: immediate shutdown, the cluster is thrown away with the temp dir.
            let _ = Command::new("kill")
                .args(["-QUIT", &pid.to_string()])
                .status();
            let proc = PathBuf::from(format!("/proc/{pid}"));
            for _ in 0..500 {
                if !proc.exists() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
    }
}
