//! `tlsdb` and the SRP side of `tls server` / `tls client`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use tls_testkit::{run, succeeded, PeerProcess};

const TLSDB: &str = env!("CARGO_BIN_EXE_tlsdb");
const TLS: &str = env!("CARGO_BIN_EXE_tls");

fn tlsdb(args: &[&str], stdin: &str) -> std::process::Output {
    run(Command::new(TLSDB).args(args), stdin.as_bytes())
}

#[test]
fn tlsdb_manages_users_and_reports_errors_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("users.db");
    let db = db.to_str().unwrap();
    let missing = tlsdb(&["list", db], "");
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no such verifier database"));
    succeeded(&tlsdb(&["create", db], ""));
    assert!(String::from_utf8_lossy(&tlsdb(&["create", db], "").stderr).contains("already exists"));
    succeeded(&tlsdb(&["add", db, "alice"], "from stdin\n"));
    succeeded(&tlsdb(&["add", db, "bob", "pw", "3072"], ""));
    let taken = tlsdb(&["add", db, "bob", "pw"], "");
    assert!(String::from_utf8_lossy(&taken.stderr).contains("already exists"));
    let bad_bits = tlsdb(&["add", db, "carol", "pw", "1000"], "");
    assert!(String::from_utf8_lossy(&bad_bits.stderr).contains("no RFC 5054 group of 1000 bits"));
    assert_eq!(
        succeeded(&tlsdb(&["list", db], "")),
        "alice 2048\nbob 3072\n"
    );
    succeeded(&tlsdb(&["check", db, "alice", "from stdin"], ""));
    assert_eq!(
        tlsdb(&["check", db, "alice", "wrong"], "").status.code(),
        Some(1)
    );
    succeeded(&tlsdb(&["del", db, "bob"], ""));
    assert_eq!(succeeded(&tlsdb(&["list", db], "")), "alice 2048\n");
    assert_eq!(tlsdb(&["frobnicate"], "").status.code(), Some(2));

    // A database whose default group is 3072 bits gives new users that group.
    let big = dir.path().join("big.db");
    let big = big.to_str().unwrap();
    assert!(
        String::from_utf8_lossy(&tlsdb(&["create", big, "1000"], "").stderr)
            .contains("no RFC 5054 group of 1000 bits")
    );
    assert!(
        !std::path::Path::new(big).exists(),
        "a refused create leaves no file"
    );
    succeeded(&tlsdb(&["create", big, "3072"], ""));
    succeeded(&tlsdb(&["add", big, "dave", "pw"], ""));
    assert_eq!(succeeded(&tlsdb(&["list", big], "")), "dave 3072\n");
}

#[test]
fn tls_server_serves_srp_users_to_tls_client() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("users.db");
    let db = db.to_str().unwrap();
    succeeded(&tlsdb(&["create", db], ""));
    succeeded(&tlsdb(&["add", db, "alice", "open sesame"], ""));
    std::fs::write(dir.path().join("note.txt"), "for alice only\n").unwrap();
    let mut server = PeerProcess::spawn(
        Command::new(TLS)
            .args(["server", "-v", db, "-d"])
            .arg(dir.path())
            .arg("127.0.0.1:0")
            .env("TLS_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped()),
    );
    let mut lines = BufReader::new(server.0.stdout.take().unwrap()).lines();
    assert_eq!(
        lines.next().unwrap().unwrap(),
        "Serving TLS-SRP users (TLS 1.2)"
    );
    let serving = lines.next().unwrap().unwrap();
    let port = serving
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    let target = format!("localhost:{port}");

    let ok = run(
        Command::new(TLS).args([
            "client",
            "-u",
            "alice",
            "-p",
            "open sesame",
            "--get",
            "/note.txt",
            &target,
        ]),
        b"",
    );
    let stdout = succeeded(&ok);
    assert!(stdout.contains("SRP username: alice"), "{stdout}");
    assert!(
        stdout.contains("Encrypt-then-MAC: yes") && stdout.contains("Extended master secret: yes"),
        "{stdout}"
    );
    assert!(stdout.ends_with("for alice only\n"), "{stdout}");

    // The database sits inside the served folder, as a careless quickstart would have it:
    // neither it, its SQLite companions nor dotfiles are served or listed.
    std::fs::write(dir.path().join(".env"), "SECRET=1\n").unwrap();
    for path in ["/users.db", "/users.db-wal", "/users.db-shm", "/.env"] {
        let refused = run(
            Command::new(TLS).args([
                "client",
                "-u",
                "alice",
                "-p",
                "open sesame",
                "--get",
                path,
                &target,
            ]),
            b"",
        );
        let status = String::from_utf8_lossy(&refused.stderr);
        assert!(status.contains(" 404 "), "{path}: {status}");
        assert!(
            !String::from_utf8_lossy(&refused.stdout).contains("SQLite"),
            "{path}"
        );
    }
    let listing = run(
        Command::new(TLS).args([
            "client",
            "-u",
            "alice",
            "-p",
            "open sesame",
            "--get",
            "/",
            &target,
        ]),
        b"",
    );
    let listing = succeeded(&listing);
    assert!(
        listing.contains("note.txt") && !listing.contains("users.db"),
        "{listing}"
    );
    assert!(!listing.contains(".env"), "{listing}");

    let wrong = run(
        Command::new(TLS).args(["client", "-u", "alice", "-p", "guess", &target]),
        b"",
    );
    assert_eq!(wrong.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("bad_record_mac"));
}

#[test]
fn tlsdb_imports_and_exports_gnutls_password_files() {
    let Some(srptool) = tls_testkit::peer("srptool") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    succeeded(&run(
        Command::new(&srptool).arg(format!("--create-conf={}", path("tpasswd.conf"))),
        b"",
    ));
    succeeded(&run(
        Command::new(&srptool)
            .arg(format!("--passwd={}", path("tpasswd")))
            .arg(format!("--passwd-conf={}", path("tpasswd.conf")))
            .args(["--index=4", "-u", "gnu"]),
        b"from srptool\n",
    ));
    succeeded(&tlsdb(&["create", &path("users.db")], ""));
    let imported = succeeded(&tlsdb(
        &[
            "import-gnutls",
            &path("users.db"),
            &path("tpasswd"),
            &path("tpasswd.conf"),
        ],
        "",
    ));
    assert_eq!(imported, "imported 1 users\n");
    assert_eq!(
        succeeded(&tlsdb(&["list", &path("users.db")], "")),
        "gnu 3072\n"
    );
    succeeded(&tlsdb(
        &["check", &path("users.db"), "gnu", "from srptool"],
        "",
    ));
    // An import is all or nothing: `fresh` comes first in this file, but `gnu` exists.
    for user in ["fresh", "gnu"] {
        succeeded(&run(
            Command::new(&srptool)
                .arg(format!("--passwd={}", path("more")))
                .arg(format!("--passwd-conf={}", path("tpasswd.conf")))
                .args(["--index=4", "-u", user]),
            b"pw\n",
        ));
    }
    let clash = tlsdb(
        &[
            "import-gnutls",
            &path("users.db"),
            &path("more"),
            &path("tpasswd.conf"),
        ],
        "",
    );
    assert!(String::from_utf8_lossy(&clash.stderr).contains("already exists"));
    assert_eq!(
        succeeded(&tlsdb(&["list", &path("users.db")], "")),
        "gnu 3072\n",
        "half an import applied"
    );
    succeeded(&tlsdb(
        &["add", &path("users.db"), "ours", "pw", "2048"],
        "",
    ));
    succeeded(&tlsdb(
        &[
            "export-gnutls",
            &path("users.db"),
            &path("out"),
            &path("out.conf"),
        ],
        "",
    ));
    let exported = std::fs::read_to_string(path("out")).unwrap();
    assert!(
        exported
            .lines()
            .any(|l| l.starts_with("gnu:") && l.ends_with(":4")),
        "{exported}"
    );
    assert!(
        exported
            .lines()
            .any(|l| l.starts_with("ours:") && l.ends_with(":3")),
        "{exported}"
    );
}

/// Verifier databases and tpasswd exports are created 0600, never over an existing file or
/// through a symbolic link, and `tlsdb` warns about a database others can read.
#[test]
fn verifier_files_are_private_and_never_written_through_links() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    let mode = |name: &str| {
        std::fs::metadata(dir.path().join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    succeeded(&tlsdb(&["create", &path("users.db")], ""));
    succeeded(&tlsdb(&["add", &path("users.db"), "alice", "pw"], ""));
    assert_eq!(mode("users.db"), 0o600);
    for companion in ["users.db-wal", "users.db-shm"] {
        if dir.path().join(companion).exists() {
            assert_eq!(mode(companion), 0o600, "{companion}");
        }
    }
    // A link planted where the database is to go, pointing at a file of the victim's.
    std::fs::write(path("victim"), "keep me").unwrap();
    std::os::unix::fs::symlink(path("victim"), path("linked.db")).unwrap();
    let refused = tlsdb(&["create", &path("linked.db")], "");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("already exists"));
    std::os::unix::fs::symlink(path("nowhere"), path("dangling.db")).unwrap();
    assert!(!tlsdb(&["create", &path("dangling.db")], "")
        .status
        .success());
    assert!(
        !dir.path().join("nowhere").exists(),
        "created through a link"
    );
    assert_eq!(std::fs::read_to_string(path("victim")).unwrap(), "keep me");

    succeeded(&tlsdb(
        &[
            "export-gnutls",
            &path("users.db"),
            &path("tpasswd"),
            &path("tpasswd.conf"),
        ],
        "",
    ));
    assert_eq!(mode("tpasswd"), 0o600);
    assert_eq!(mode("tpasswd.conf"), 0o600);
    std::os::unix::fs::symlink(path("victim"), path("tpasswd2")).unwrap();
    let over = tlsdb(
        &[
            "export-gnutls",
            &path("users.db"),
            &path("tpasswd2"),
            &path("conf2"),
        ],
        "",
    );
    assert!(!over.status.success());
    assert_eq!(std::fs::read_to_string(path("victim")).unwrap(), "keep me");

    std::fs::set_permissions(path("users.db"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let listed = tlsdb(&["list", &path("users.db")], "");
    assert_eq!(String::from_utf8_lossy(&listed.stdout), "alice 2048\n");
    assert!(
        String::from_utf8_lossy(&listed.stderr).contains("readable by other users"),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
}

/// `tls server -v DB -c CERT -k KEY` serves every client on one port: curl over X.509 and
/// `tls client -u -p` over SRP (with `--fingerprint`, over SRP-RSA).
#[test]
fn one_port_serves_curl_and_srp_clients() {
    let dir = tempfile::tempdir().unwrap();
    let Some((cert, key, pin)) = tls_testkit::rsa_identity(dir.path()) else {
        return;
    };
    let db = dir.path().join("users.db");
    let db = db.to_str().unwrap();
    succeeded(&tlsdb(&["create", db], ""));
    succeeded(&tlsdb(&["add", db, "alice", "open sesame"], ""));
    let www = dir.path().join("www");
    std::fs::create_dir(&www).unwrap();
    std::fs::write(www.join("note.txt"), "for everyone\n").unwrap();
    let mut server = PeerProcess::spawn(
        Command::new(TLS)
            .args(["server", "-v", db, "-c"])
            .arg(&cert)
            .arg("-k")
            .arg(&key)
            .arg("-d")
            .arg(&www)
            .arg("127.0.0.1:0")
            .env("TLS_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped()),
    );
    let mut lines = BufReader::new(server.0.stdout.take().unwrap()).lines();
    let printed: Vec<String> = lines.by_ref().take(5).map(Result::unwrap).collect();
    assert_eq!(
        printed[4], "Serving TLS-SRP users (TLS 1.2) and X.509 clients, on one port",
        "{printed:?}"
    );
    let serving = lines.next().unwrap().unwrap();
    let port = serving
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    let target = format!("localhost:{port}");
    if let Some(curl) = tls_testkit::peer("curl") {
        let out = run(
            Command::new(curl)
                .args(["--silent", "--show-error", "--insecure", "--max-time", "10"])
                .arg(format!("https://{target}/note.txt")),
            b"",
        );
        assert_eq!(succeeded(&out), "for everyone\n");
    }
    let srp = |extra: &[&str]| {
        run(
            Command::new(TLS)
                .args([
                    "client",
                    "-u",
                    "alice",
                    "-p",
                    "open sesame",
                    "--get",
                    "/note.txt",
                ])
                .args(extra)
                .arg(&target),
            b"",
        )
    };
    let plain = succeeded(&srp(&[]));
    assert!(
        plain.contains("TLS_SRP_SHA_WITH_AES_128_CBC_SHA"),
        "{plain}"
    );
    assert!(plain.ends_with("for everyone\n"), "{plain}");
    let pinned = succeeded(&srp(&["--fingerprint", &pin.to_string()]));
    assert!(
        pinned.contains("TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA"),
        "{pinned}"
    );
    let wrong = srp(&["--fingerprint", &format!("sha256:{}", "00".repeat(32))]);
    assert_eq!(wrong.status.code(), Some(1));
}
