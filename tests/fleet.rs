//! A fleet: several `tls server` processes on one PostgreSQL database share their users, their
//! ticket keys and their SRP sessions, and ride out the database's outages.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tls::psk::{ExternalPsk, PskStore};
use tls::srp::{PostgresVerifierDb, UserDatabase};
use tls::{ClientConfig, Error, ServerAuth, Session};
use tls_testkit::{
    connect, gnutls_serv, rsa_identity, run, srp_client_hello, srp_first_flight, srptool_passwd,
    succeeded, Partition, PeerProcess, Pki, Postgres,
};

const TLSDB: &str = env!("CARGO_BIN_EXE_tlsdb");
const TLS: &str = env!("CARGO_BIN_EXE_tls");

fn tlsdb(args: &[&str]) -> std::process::Output {
    run(Command::new(TLSDB).args(args), b"")
}

/// What a test needs: the database, a certificate and a folder to serve.
struct Fleet {
    pg: Postgres,
    /// How the servers reach the database.
    url: String,
    dir: tempfile::TempDir,
    cert: std::path::PathBuf,
    key: std::path::PathBuf,
    pin: tls::Fingerprint,
}

impl Fleet {
    /// `None` when PostgreSQL or OpenSSL is missing (skipped loudly by the testkit).
    fn new() -> Option<Self> {
        let pg = Postgres::start()?;
        let url = pg.url();
        Self::on(pg, url)
    }

    /// A fleet on `pg` reached at `url`, its tables made there.
    fn on(pg: Postgres, url: String) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key, pin) = rsa_identity(dir.path())?;
        std::fs::create_dir(dir.path().join("www")).unwrap();
        std::fs::write(dir.path().join("www/note.txt"), "served by the fleet\n").unwrap();
        succeeded(&tlsdb(&["create", &url]));
        Some(Self {
            pg,
            url,
            dir,
            cert,
            key,
            pin,
        })
    }

    /// A `tls server` on the shared database (one port: SRP, SRP-RSA and X.509), with more
    /// `args` (e.g. `--threaded`).
    fn server(&self, args: &[&str]) -> (PeerProcess, u16) {
        self.server_at(&self.url, args)
    }

    /// As [`server`](Self::server), reaching the database at `url`.
    fn server_at(&self, url: &str, args: &[&str]) -> (PeerProcess, u16) {
        let mut process = PeerProcess::spawn(
            Command::new(TLS)
                .arg("server")
                .args(args)
                .args(["-v", url, "-c"])
                .arg(&self.cert)
                .arg("-k")
                .arg(&self.key)
                .arg("-d")
                .arg(self.dir.path().join("www"))
                .arg("127.0.0.1:0")
                .env("TLS_LOG", "warn")
                .stdin(Stdio::null())
                .stdout(Stdio::piped()),
        );
        let mut lines = BufReader::new(process.0.stdout.take().unwrap()).lines();
        let mut seen = Vec::new();
        let port = loop {
            let line = lines.next().expect("server exited").unwrap();
            // `Serving DIR on https://127.0.0.1:PORT/`
            if let Some((_, url)) = line.split_once(" on https://") {
                break url.split([':', '/']).nth(1).unwrap().parse().unwrap();
            }
            seen.push(line);
        };
        assert!(
            seen.iter()
                .any(|l| l.contains("Sharing users, tickets and sessions")),
            "{seen:?}"
        );
        std::thread::spawn(move || lines.for_each(drop));
        (process, port)
    }

    fn x509_client(&self) -> ClientConfig {
        ClientConfig::builder()
            .server_auth(ServerAuth::Fingerprint(self.pin.clone()))
            .build()
            .unwrap()
    }
}

fn srp_client(user: &str, password: &str) -> ClientConfig {
    ClientConfig::builder().srp(user, password).build().unwrap()
}

/// GETs the note from the server at `port`: the session, once the whole answer is read (so a
/// TLS 1.3 ticket sent after the handshake has arrived).
fn get(config: &ClientConfig, port: u16) -> Result<Session, Error> {
    get_over(config, connect(SocketAddr::from(([127, 0, 0, 1], port))))
}

/// [`get`] over a socket of the caller's (its timeouts, say).
fn get_over(config: &ClientConfig, socket: TcpStream) -> Result<Session, Error> {
    let mut tls = config.connect("localhost", socket)?;
    write!(
        tls,
        "GET /note.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )?;
    tls.flush()?;
    let mut response = Vec::new();
    tls.read_to_end(&mut response)?;
    let text = String::from_utf8_lossy(&response);
    assert!(text.ends_with("served by the fleet\n"), "{text}");
    Ok(tls.session().clone())
}

/// Polls `check` until it holds; panics if it does not within `limit`. Returns how long it took.
fn within(limit: Duration, what: &str, mut check: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    loop {
        if check() {
            return started.elapsed();
        }
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The salt a server shows `username` in its ServerKeyExchange.
fn salt_for(port: u16, username: &str) -> Vec<u8> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    srp_first_flight(addr, &srp_client_hello(username))
        .unwrap()
        .0
        .salt
}

#[test]
fn two_servers_share_users_sessions_and_unknown_salts() {
    let Some(fleet) = Fleet::new() else { return };
    let url = fleet.pg.url();
    // One event-driven server and one thread-per-connection server: both drivers share.
    let (_a, a) = fleet.server(&[]);
    let (_b, b) = fleet.server(&["--threaded"]);

    // Nobody knows alice yet (both servers remember that), then she is added once.
    for port in [a, b] {
        let e = get(&srp_client("alice", "first"), port).unwrap_err();
        assert!(e.alert().is_some(), "{e:?}");
    }
    succeeded(&tlsdb(&["add", &url, "alice", "first"]));
    for port in [a, b] {
        let took = within(Duration::from_secs(1), "alice served", || {
            get(&srp_client("alice", "first"), port).is_ok()
        });
        eprintln!("a new user served by :{port} after {took:?}");
    }

    // A session made on one server resumes on the other, for SRP (the shared session table)
    // and for X.509 over TLS 1.3 and TLS 1.2 (tickets under the shared keys).
    let srp = srp_client("alice", "first");
    assert!(!get(&srp, a).unwrap().resumed());
    assert!(
        get(&srp, b).unwrap().resumed(),
        "SRP session from A resumed on B"
    );
    for max in [tls::ProtocolVersion::Tls13, tls::ProtocolVersion::Tls12] {
        let x509 = ClientConfig::builder()
            .server_auth(ServerAuth::Fingerprint(fleet.pin.clone()))
            .settings(tls::HandshakeSettings {
                max_version: max,
                ..Default::default()
            })
            .build()
            .unwrap();
        assert!(!get(&x509, b).unwrap().resumed());
        assert!(
            get(&x509, a).unwrap().resumed(),
            "{max:?} ticket from B resumed on A"
        );
    }
    // The command line says so too.
    let out = succeeded(&run(
        Command::new(TLS)
            .args(["client", "-u", "alice", "-p", "first", "--resume-at"])
            .arg(format!("127.0.0.1:{b}"))
            .arg(format!("localhost:{a}")),
        b"",
    ));
    let (first, second) = out.split_once("\n\n").unwrap();
    assert!(first.contains("Resumed: no"), "{out}");
    assert!(second.contains("Resumed: yes"), "{out}");

    // The same unknown name gets byte-identical salts from both (and a different name
    // another salt): nothing tells an unknown user from a known one across the fleet.
    let mallory = salt_for(a, "mallory");
    assert_eq!(mallory, salt_for(b, "mallory"));
    assert_eq!(mallory, salt_for(a, "mallory"));
    assert_ne!(mallory, salt_for(b, "mallory2"));
    assert_eq!(mallory.len(), salt_for(a, "alice").len());

    // A password change: the old password is refused by both within a second, the new one
    // served, and a session made with the old entry no longer resumes anywhere.
    let before = srp_client("alice", "first");
    get(&before, a).unwrap();
    succeeded(&tlsdb(&["passwd", &url, "alice", "second"]));
    let changed = Instant::now();
    for port in [a, b] {
        let took = within(Duration::from_secs(1), "old password refused", || {
            get(&srp_client("alice", "first"), port).is_err()
        });
        eprintln!("the old password refused by :{port} after {took:?}");
    }
    assert!(
        changed.elapsed() < Duration::from_secs(1),
        "{:?}",
        changed.elapsed()
    );
    for port in [a, b] {
        get(&srp_client("alice", "second"), port).unwrap();
        assert!(
            get(&before, port).is_err(),
            "a session of the old password resumed"
        );
    }

    // A deleted user's sessions do not resume either.
    let after = srp_client("alice", "second");
    get(&after, b).unwrap();
    succeeded(&tlsdb(&["del", &url, "alice"]));
    for port in [a, b] {
        within(Duration::from_secs(1), "deleted user refused", || {
            get(&after, port).is_err()
        });
    }
}

/// GnuTLS's client resumes on a fleet server with the server's RFC 5077 ticket, and without
/// tickets (`%NO_TICKETS`) by session ID (gnutls-cli resumes at the same address, so this is
/// the server's own cache; the shared table is tested in the store's unit tests).
#[test]
fn gnutls_cli_resumes_with_tickets_and_with_session_ids() {
    let Some(cli) = tls_testkit::peer("gnutls-cli") else {
        return;
    };
    let Some(fleet) = Fleet::new() else { return };
    succeeded(&tlsdb(&["add", &fleet.pg.url(), "alice", "pw"]));
    let (_a, a) = fleet.server(&[]);
    for priority in [
        "NORMAL:-KX-ALL:+SRP:-VERS-TLS1.3",
        "NORMAL:-KX-ALL:+SRP:-VERS-TLS1.3:%NO_TICKETS",
    ] {
        let out = succeeded(&run(
            Command::new(&cli)
                .args(["--port", &a.to_string(), "--srpusername", "alice"])
                .args(["--srppasswd", "pw", "--priority", priority])
                .args(["--insecure", "--resume", "localhost"]),
            b"",
        ));
        assert!(
            out.contains("This is a resumed session"),
            "{priority}: {out}"
        );
    }
}

#[test]
fn a_database_outage_fails_handshakes_fast_and_the_servers_recover() {
    let Some(fleet) = Fleet::new() else { return };
    let url = fleet.pg.url();
    for user in ["alice", "bob"] {
        succeeded(&tlsdb(&["add", &url, user, "pw"]));
    }
    let (mut a_process, a) = fleet.server(&[]);
    let (mut b_process, b) = fleet.server(&["--threaded"]);
    get(&srp_client("alice", "pw"), a).unwrap();

    // A stream of handshakes to both servers while the database goes away and comes back.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stream = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut outcomes = Vec::new();
            let config = ClientConfig::builder()
                .srp("bob", "pw")
                .no_resumption()
                .build()
                .unwrap();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for port in [a, b] {
                    let started = Instant::now();
                    let result = get(&config, port).map(|_| ());
                    outcomes.push((Instant::now(), started.elapsed(), result));
                }
            }
            outcomes
        })
    };
    std::thread::sleep(Duration::from_millis(500));
    fleet.pg.stop();
    let stopped = Instant::now();
    std::thread::sleep(Duration::from_secs(2));
    // X.509 clients do not need the database: the ticket keys are in memory.
    get(&fleet.x509_client(), a).unwrap();
    let restarting = Instant::now();
    fleet.pg.restart();
    // The servers find the database again by themselves.
    for port in [a, b] {
        within(
            Duration::from_secs(10),
            "SRP back after the restart",
            || get(&srp_client("alice", "pw"), port).is_ok(),
        );
    }
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let outcomes = stream.join().unwrap();

    let during: Vec<_> = outcomes
        .iter()
        .filter(|(at, took, _)| {
            *at - *took > stopped + Duration::from_millis(300) && *at < restarting
        })
        .collect();
    assert!(
        !during.is_empty(),
        "no handshake while the database was down"
    );
    for (at, took, result) in &during {
        let Err(e) = result else {
            panic!(
                "an SRP login succeeded without its database, {:?} after it stopped",
                *at - stopped
            )
        };
        assert_eq!(
            e.alert(),
            Some(tls::AlertDescription::InternalError),
            "{e:?}: a database outage must not look like an unknown user or a wrong password"
        );
        assert!(*took < Duration::from_secs(3), "a handshake took {took:?}");
    }
    let last = outcomes.last().unwrap();
    assert!(last.2.is_ok(), "after the restart: {:?}", last.2);
    // Both servers stayed up, and nobody was lost.
    for process in [&mut a_process, &mut b_process] {
        assert!(process.0.try_wait().unwrap().is_none(), "a server exited");
    }
    assert_eq!(
        succeeded(&tlsdb(&["list", &url])),
        "alice srp 2048\nbob srp 2048\n"
    );
}

#[test]
fn tickets_of_retired_keys_get_a_full_handshake() {
    let Some(fleet) = Fleet::new() else { return };
    tls::srp::PostgresVerifierDb::open(&fleet.pg.url())
        .unwrap()
        .set_ticket_key_period(Duration::from_secs(1))
        .unwrap();
    succeeded(&tlsdb(&["add", &fleet.pg.url(), "alice", "pw"]));
    let (_a, a) = fleet.server(&[]);
    let (_b, b) = fleet.server(&[]);
    let clients = [fleet.x509_client(), srp_client("alice", "pw")];
    for client in &clients {
        get(client, a).unwrap();
        assert!(get(client, b).unwrap().resumed(), "within the key's life");
        get(client, a).unwrap();
    }
    // Two periods later the keys that sealed the tickets are retired.
    std::thread::sleep(Duration::from_millis(3100));
    for client in &clients {
        let session = get(client, b).unwrap();
        assert!(!session.resumed(), "a retired key's ticket resumed");
    }
}

#[test]
fn gnutls_password_files_round_trip_through_postgres() {
    let Some(fleet) = Fleet::new() else { return };
    let url = fleet.pg.url();
    let dir = fleet.dir.path();
    let Some((passwd, conf)) = srptool_passwd(dir, "gnu", "from srptool", 4) else {
        return;
    };
    let path = |p: &Path| p.to_str().unwrap().to_owned();
    assert_eq!(
        succeeded(&tlsdb(&[
            "import-gnutls",
            &url,
            &path(&passwd),
            &path(&conf)
        ])),
        "imported 1 users\n"
    );
    succeeded(&tlsdb(&["add", &url, "ours", "pw", "2048"]));
    // An import is all or nothing: the second time, `gnu` exists and nothing is added.
    let again = tlsdb(&["import-gnutls", &url, &path(&passwd), &path(&conf)]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    assert_eq!(
        succeeded(&tlsdb(&["list", &url])),
        "gnu srp 3072\nours srp 2048\n"
    );
    let (out, out_conf) = (dir.join("out"), dir.join("out.conf"));
    succeeded(&tlsdb(&[
        "export-gnutls",
        &url,
        &path(&out),
        &path(&out_conf),
    ]));
    let Some((_server, port)) = gnutls_serv(
        &out,
        &out_conf,
        "NORMAL:-KX-ALL:+SRP:-VERS-TLS1.3",
        &["--http"],
    ) else {
        return;
    };
    for (user, password) in [("gnu", "from srptool"), ("ours", "pw")] {
        let config = srp_client(user, password);
        let mut tls = config
            .connect("localhost", connect(([127, 0, 0, 1], port).into()))
            .unwrap_or_else(|e| panic!("{user}: {e}"));
        assert_eq!(tls.session().srp_username(), Some(user));
        tls.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    }
}

#[test]
fn bad_urls_newer_schemas_and_refused_passwords_are_clear_errors() {
    let Some(fleet) = Fleet::new() else { return };
    let url = fleet.pg.url();
    let stderr = |args: &[&str]| {
        let out = tlsdb(args);
        assert!(!out.status.success(), "{args:?} succeeded");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(stderr(&["list", "postgres://u:p@[::1/db"]).contains("malformed PostgreSQL URL"));
    let refused = url.replace("tlslite:tlslite@", "tlslite:wrong@");
    let said = stderr(&["list", &refused]);
    assert!(said.contains("refused the user name or password"), "{said}");
    assert!(!said.contains("wrong"), "the password was echoed: {said}");
    let empty = format!("postgres://postgres@127.0.0.1:{}/postgres", fleet.pg.port);
    assert!(stderr(&["list", &empty]).contains("holds no verifier database"));
    assert!(stderr(&["create", &url]).contains("already exists"));
    // Used from async code, the blocking store neither panics nor blocks the runtime's thread.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let db = tls::srp::PostgresVerifierDb::open(&url).unwrap();
        assert_eq!(tls::srp::UserDatabase::users(&db).unwrap(), vec![]);
        assert!(tls::srp::VerifierStore::lookup(&db, "nobody")
            .unwrap()
            .is_none());
        drop(db);
    });
    let closed = format!(
        "postgres://tlslite:tlslite@127.0.0.1:{}/tlslite",
        tls_testkit::free_port()
    );
    assert!(stderr(&["list", &closed]).contains("connecting"));
    fleet
        .pg
        .psql("UPDATE tlslite_meta SET value = '2' WHERE key = 'format'");
    let said = stderr(&["list", &url]);
    assert!(said.contains("schema version 2"), "{said}");
    // The server refuses to start on it, with the same words.
    let server = run(
        Command::new(TLS).args(["server", "-v", &url, "127.0.0.1:0"]),
        b"",
    );
    assert!(!server.status.success());
    assert!(String::from_utf8_lossy(&server.stderr).contains("schema version 2"));
}

/// Pre-shared keys beside the users: a database made before them gains their table when
/// opened, and a key added, changed (through the store or plain SQL) or removed on one store
/// is seen at once by another that has it cached.
#[test]
fn psk_changes_reach_every_store_at_once() {
    let Some(pg) = Postgres::start() else { return };
    let url = pg.url();
    succeeded(&tlsdb(&["create", &url]));
    succeeded(&tlsdb(&["add", &url, "alice", "pw"]));
    // What a database made before PSKs lacks.
    pg.psql("DROP TABLE tlslite_psk_keys; DROP FUNCTION tlslite_psk_keys_changed()");
    assert_eq!(succeeded(&tlsdb(&["list", &url])), "alice srp 2048\n");
    assert_eq!(pg.psql("SELECT count(*) FROM tlslite_psk_keys"), "0\n");

    let writer = PostgresVerifierDb::open(&url).unwrap();
    let reader = PostgresVerifierDb::open(&url).unwrap();
    let key = |fill: u8| Some(ExternalPsk::new("sensor-7", [fill; 32]).unwrap());
    let seen = |want: Option<ExternalPsk>, what: &str| {
        let took = within(Duration::from_secs(1), what, || {
            PskStore::lookup(&reader, b"sensor-7").unwrap() == want
        });
        eprintln!("{what} after {took:?}");
    };
    // The reader looks the identity up until its watcher listens and it caches the answer.
    seen(None, "unknown");
    std::thread::sleep(Duration::from_millis(500));
    seen(None, "unknown, cached");
    writer.add_psk(key(1).as_ref().unwrap()).unwrap();
    seen(key(1), "a new key seen");
    writer.replace_psk(key(2).as_ref().unwrap()).unwrap();
    seen(key(2), "a changed key seen");
    pg.psql(&format!(
        "UPDATE tlslite_psk_keys SET key = '\\x{}'",
        "03".repeat(32)
    ));
    seen(key(3), "a key changed in SQL seen");
    succeeded(&tlsdb(&["del", &url, "sensor-7"]));
    seen(None, "a removed key gone");
    assert!(writer.remove_psk(b"sensor-7").is_err());

    // tlsdb manages them on PostgreSQL as on a file.
    let printed = succeeded(&tlsdb(&["add-psk", &url, "alice"]));
    assert_eq!(printed.len(), 65, "{printed}");
    let listed = succeeded(&tlsdb(&["list", &url]));
    assert_eq!(listed, "alice srp 2048\nalice psk sha256\n");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("keys.psk").display().to_string();
    succeeded(&tlsdb(&["export-psk", &url, &file]));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        format!("alice:{printed}")
    );
    let again = tlsdb(&["import-psk", &url, &file]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("already"));
    assert_eq!(writer.psk_identities().unwrap().len(), 1);
}

/// Issue 26, item 2: the database password could only be given inside the URL, on the command
/// line, where `ps` shows it. It now comes as libpq's come (`PGPASSWORD`, a private
/// `.pgpass`/`PGPASSFILE`), or the whole URL from a private file (`@FILE`), for `tlsdb` and
/// `tls server` alike.
#[test]
fn the_database_password_stays_off_the_command_line() {
    use std::os::unix::fs::PermissionsExt;
    let Some(fleet) = Fleet::new() else { return };
    let url = fleet.pg.url();
    succeeded(&tlsdb(&["add", &url, "alice", "pw"]));
    let bare = url.replace("tlslite:tlslite@", "tlslite@");
    assert_ne!(bare, url);
    let home = tempfile::tempdir().unwrap();
    let list = |args: &[&str], env: &[(&str, &Path)], password: Option<&str>| {
        let mut cmd = Command::new(TLSDB);
        cmd.args(args)
            .env("HOME", home.path())
            .env_remove("PGPASSWORD")
            .env_remove("PGPASSFILE");
        for (name, value) in env {
            cmd.env(name, value);
        }
        if let Some(password) = password {
            cmd.env("PGPASSWORD", password);
        }
        run(&mut cmd, b"")
    };
    let refused = list(&["list", &bare], &[], None);
    assert!(!refused.status.success(), "{refused:?}");
    assert_eq!(
        succeeded(&list(&["list", &bare], &[], Some("tlslite"))),
        "alice srp 2048\n"
    );
    let pgpass = home.path().join("pgpass");
    let line = format!("127.0.0.1:{}:tlslite:tlslite:tlslite\n", fleet.pg.port);
    std::fs::write(&pgpass, line).unwrap();
    let mode = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    mode(&pgpass, 0o600);
    let by_file = list(&["list", &bare], &[("PGPASSFILE", &pgpass)], None);
    assert_eq!(succeeded(&by_file), "alice srp 2048\n");
    mode(&pgpass, 0o644);
    let loose = list(&["list", &bare], &[("PGPASSFILE", &pgpass)], None);
    assert!(
        !loose.status.success(),
        "a .pgpass others can read was used"
    );
    // The whole URL from a file: `@FILE`, private only.
    let location = home.path().join("db.url");
    std::fs::write(&location, format!("{url}\n")).unwrap();
    mode(&location, 0o600);
    let at = format!("@{}", location.display());
    assert_eq!(
        succeeded(&list(&["list", &at], &[], None)),
        "alice srp 2048\n"
    );
    let (_server, port) = {
        let mut process = PeerProcess::spawn(
            Command::new(TLS)
                .args(["server", "-v", &at, "-c"])
                .arg(&fleet.cert)
                .arg("-k")
                .arg(&fleet.key)
                .args(["-d"])
                .arg(fleet.dir.path())
                .arg("127.0.0.1:0")
                .env("TLS_LOG", "warn")
                .stdin(Stdio::null())
                .stdout(Stdio::piped()),
        );
        let mut out = BufReader::new(process.0.stdout.take().unwrap());
        let mut line = String::new();
        while !line.starts_with("Serving ") || line.contains("TLS-SRP") {
            line.clear();
            assert!(out.read_line(&mut line).unwrap() > 0, "the server ended");
        }
        let port: u16 = line
            .trim_end()
            .trim_end_matches('/')
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        std::thread::spawn(move || out.lines().for_each(drop));
        (process, port)
    };
    let srp = ClientConfig::builder().srp("alice", "pw").build().unwrap();
    let tls = srp.connect("localhost", connect(([127, 0, 0, 1], port).into()));
    assert_eq!(tls.unwrap().session().srp_username(), Some("alice"));
    mode(&location, 0o644);
    let said = list(&["list", &at], &[], None);
    assert!(
        String::from_utf8_lossy(&said.stderr).contains("chmod 600"),
        "{said:?}"
    );
}

/// The link to the database is TLS, checked as `sslmode` says. Against a cluster that takes
/// TLS only (`hostssl`): a server works over `verify-full` and the database sees its
/// connections encrypted; plaintext, another CA and another name are refused; `verify-ca`
/// checks the chain but not the name, `require` neither. A database off this machine needs
/// `verify-full` (or an explicit `disable`).
#[test]
fn the_database_link_is_tls_checked_as_sslmode_says() {
    let pki = Pki::new();
    let Some(pg) = Postgres::start_with_tls(&pki) else {
        return;
    };
    let port = pg.port;
    let with = |host: &str, mode: &str, root: Option<&str>| {
        let root = root
            .map(|name| format!("&sslrootcert={}", pki.path(name).display()))
            .unwrap_or_default();
        format!("postgres://tlslite:tlslite@{host}:{port}/tlslite?sslmode={mode}{root}")
    };
    // This machine's ~/.postgresql/root.crt, if any, must not count.
    let home = tempfile::tempdir().unwrap();
    let list = |url: &str| {
        run(
            Command::new(TLSDB)
                .args(["list", url])
                .env("HOME", home.path()),
            b"",
        )
    };
    let refused = |url: &str| {
        let out = list(url);
        assert!(!out.status.success(), "{url} was accepted");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };

    let full = with("127.0.0.1", "verify-full", Some("root.pem"));
    let Some(fleet) = Fleet::on(pg, full.clone()) else {
        return;
    };
    succeeded(&tlsdb(&["add", &full, "alice", "pw"]));
    let (_server, server) = fleet.server(&[]);
    get(&srp_client("alice", "pw"), server).unwrap();
    // What the database saw: our connections (the server's pool and its listener), every one
    // of them encrypted.
    let seen = fleet.pg.psql(
        "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl) \
         FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) \
         WHERE a.application_name = 'tlslite'",
    );
    let counts: Vec<u32> = seen.trim().split('|').map(|n| n.parse().unwrap()).collect();
    assert!(counts[0] >= 2 && counts[1] == 0, "encrypted|clear: {seen}");

    let said = refused(&with("127.0.0.1", "disable", None));
    assert!(said.contains("no encryption"), "{said}");
    let said = refused(&with("127.0.0.1", "verify-full", Some("client-ca.pem")));
    assert!(said.contains("UnknownIssuer"), "{said}");
    let said = refused(&with("127.0.0.1", "verify-ca", Some("client-ca.pem")));
    assert!(said.contains("UnknownIssuer"), "{said}");
    succeeded(&list(&with("localhost", "verify-full", Some("root.pem"))));

    // A certificate of the right CA for another name.
    fleet
        .pg
        .use_certificate(&pki.path("other-host.pem"), &pki.path("other-host.key"));
    let said = refused(&full);
    assert!(said.contains("not valid for name"), "{said}");
    succeeded(&list(&with("127.0.0.1", "verify-ca", Some("root.pem"))));
    succeeded(&list(&with("127.0.0.1", "require", None)));

    // Off this machine, refused before anything is sent.
    for url in [
        "postgres://tlslite@db.example/tlslite".to_owned(),
        "postgres://tlslite@192.0.2.1/tlslite?sslmode=require".to_owned(),
    ] {
        let said = refused(&url);
        assert!(said.contains("sslmode=verify-full"), "{said}");
    }
}

/// A link to the database that goes silent (a partition: no FIN, no RST, so TCP notices
/// nothing) stops the verifier cache within about two seconds: a password changed meanwhile is
/// not served from it. Once the link is back, the change reaches the server.
#[test]
fn a_silent_database_link_stops_the_cache_within_two_seconds() {
    let Some(fleet) = Fleet::new() else { return };
    let url = fleet.url.clone();
    succeeded(&tlsdb(&["add", &url, "alice", "old"]));
    let relay = Partition::to(SocketAddr::from(([127, 0, 0, 1], fleet.pg.port)));
    let relayed = url.replace(
        &format!(":{}/", fleet.pg.port),
        &format!(":{}/", relay.addr.port()),
    );
    let (_server, port) = fleet.server_at(&relayed, &[]);
    let login = |password: &str| {
        let config = ClientConfig::builder()
            .srp("alice", password)
            .no_resumption()
            .build()
            .unwrap();
        let socket = TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(3)))
            .unwrap();
        get_over(&config, socket)
    };
    login("old").unwrap();
    login("old").unwrap();

    relay.cut();
    succeeded(&tlsdb(&["passwd", &url, "alice", "new"]));
    std::thread::sleep(Duration::from_millis(2500));
    let attempt = login("old");
    assert!(
        attempt.is_err(),
        "the old password logged in from the cache over a silent link"
    );

    relay.heal();
    let took = within(Duration::from_secs(10), "the new password served", || {
        login("new").is_ok()
    });
    eprintln!("the new password served {took:?} after the link came back");
    assert!(login("old").is_err());
}
