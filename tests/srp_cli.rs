//! `tlsdb` (SRP users and pre-shared keys) and the SRP side of `tls server` / `tls client`.

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
        "alice srp 2048\nbob srp 3072\n"
    );
    succeeded(&tlsdb(&["check", db, "alice", "from stdin"], ""));
    assert_eq!(
        tlsdb(&["check", db, "alice", "wrong"], "").status.code(),
        Some(1)
    );
    succeeded(&tlsdb(&["del", db, "bob"], ""));
    assert_eq!(succeeded(&tlsdb(&["list", db], "")), "alice srp 2048\n");
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
    assert_eq!(succeeded(&tlsdb(&["list", big], "")), "dave srp 3072\n");
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
        "gnu srp 3072\n"
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
        "gnu srp 3072\n",
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
    assert_eq!(String::from_utf8_lossy(&listed.stdout), "alice srp 2048\n");
    assert!(
        String::from_utf8_lossy(&listed.stderr).contains("readable by other users"),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
}

/// Starts `tls server ARGS 127.0.0.1:0`: the process, the first `lines` lines it printed, and
/// the port from the "Serving" line after them.
fn start_server(args: &[std::ffi::OsString], lines: usize) -> (PeerProcess, Vec<String>, String) {
    let mut server = PeerProcess::spawn(
        Command::new(TLS)
            .arg("server")
            .args(args)
            .arg("127.0.0.1:0")
            .env("TLS_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped()),
    );
    let mut output = BufReader::new(server.0.stdout.take().unwrap()).lines();
    let printed: Vec<String> = output.by_ref().take(lines).map(Result::unwrap).collect();
    let serving = output.next().unwrap().unwrap();
    assert!(serving.starts_with("Serving "), "{serving}");
    let port = serving
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    // Keep draining what it prints, so that it never blocks on a full pipe.
    std::thread::spawn(move || output.for_each(drop));
    (server, printed, port)
}

/// curl (when installed) fetches `/note.txt` from `target` over X.509.
fn curl_gets_the_note(target: &str) {
    if let Some(curl) = tls_testkit::peer("curl") {
        let out = run(
            Command::new(curl)
                .args(["--silent", "--show-error", "--insecure", "--max-time", "10"])
                .arg(format!("https://{target}/note.txt")),
            b"",
        );
        assert_eq!(succeeded(&out), "for everyone\n");
    }
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
    let mut args: Vec<std::ffi::OsString> = vec!["-v".into(), db.into(), "-c".into()];
    args.extend([
        cert.into(),
        "-k".into(),
        key.into(),
        "-d".into(),
        www.into(),
    ]);
    let (_server, printed, port) = start_server(&args, 5);
    assert_eq!(
        printed[4], "Serving TLS-SRP users (TLS 1.2) and X.509 clients, on one port",
        "{printed:?}"
    );
    let target = format!("localhost:{port}");
    curl_gets_the_note(&target);
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

/// `tlsdb add-psk / import-psk / export-psk / list / del`: keys beside the users, in a
/// namespace of their own, shown once by `add-psk` and never by anything but an export.
#[test]
fn tlsdb_manages_psks_beside_users() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    let db = &path("users.db");
    let fails = |args: &[&str]| {
        let out = tlsdb(args, "");
        assert!(!out.status.success(), "{args:?} succeeded");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    succeeded(&tlsdb(&["create", db], ""));
    succeeded(&tlsdb(&["add", db, "alice", "pw"], ""));
    let key = succeeded(&tlsdb(&["add-psk", db, "sensor-7"], ""));
    let key = key.strip_suffix('\n').unwrap().to_owned();
    assert_eq!(key.len(), 64, "{key}");
    assert!(key.bytes().all(|b| b.is_ascii_hexdigit()), "{key}");
    let short = succeeded(&tlsdb(&["add-psk", db, "s16", "16"], ""));
    assert_eq!(short.len(), 33, "{short}");
    assert!(fails(&["add-psk", db, "tiny", "15"]).contains("too short"));
    assert!(fails(&["add-psk", db, "sensor-7"]).contains("already"));
    assert!(fails(&["add-psk", db, "a\u{7}b"]).contains("control characters"));
    let listed = || succeeded(&tlsdb(&["list", db], ""));
    let before = listed();
    assert_eq!(
        before,
        "alice srp 2048\ns16 psk sha256\nsensor-7 psk sha256\n"
    );

    // The export holds the key add-psk printed, in a new file only its owner reads.
    let exported = tlsdb(&["export-psk", db, &path("out.psk")], "");
    assert_eq!(succeeded(&exported), "exported 2 PSKs\n");
    assert!(exported.stderr.is_empty(), "{exported:?}");
    let text = std::fs::read_to_string(path("out.psk")).unwrap();
    assert!(text.contains(&format!("sensor-7:{key}\n")), "{text}");
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &str| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path("out.psk")), 0o600);
    assert!(fails(&["export-psk", db, &path("out.psk")]).contains("exists"));
    assert_eq!(std::fs::read_to_string(path("out.psk")).unwrap(), text);
    std::fs::write(path("victim"), "keep me").unwrap();
    std::os::unix::fs::symlink(path("victim"), path("link.psk")).unwrap();
    fails(&["export-psk", db, &path("link.psk")]);
    assert_eq!(std::fs::read_to_string(path("victim")).unwrap(), "keep me");

    // An import is all or nothing: a bad line, or a taken identity, and nothing is added.
    let good = format!("new1:{}", "11".repeat(32));
    std::fs::write(path("bad.psk"), format!("{good}\nnew2:zz\n")).unwrap();
    assert!(fails(&["import-psk", db, &path("bad.psk")]).contains("line 2"));
    std::fs::write(path("taken.psk"), format!("{good}\nsensor-7:{key}\n")).unwrap();
    assert!(fails(&["import-psk", db, &path("taken.psk")]).contains("already"));
    assert_eq!(listed(), before, "half an import applied");
    std::fs::write(
        path("good.psk"),
        format!("# two keys\n{good}\nnew2:{key}\n"),
    )
    .unwrap();
    let imported = succeeded(&tlsdb(&["import-psk", db, &path("good.psk")], ""));
    assert_eq!(imported, "imported 2 PSKs\n");

    // Users and identities are apart: `del` says which it removed, and asks when it is both.
    succeeded(&tlsdb(&["add-psk", db, "alice"], ""));
    let listing = listed();
    assert_eq!(
        listing,
        "alice srp 2048\nalice psk sha256\nnew1 psk sha256\nnew2 psk sha256\n\
         s16 psk sha256\nsensor-7 psk sha256\n"
    );
    assert!(
        !listing.contains(&key) && !listing.contains("1111"),
        "a key listed"
    );
    assert!(fails(&["del", db, "alice"]).contains("both an SRP user and a PSK identity"));
    let del = |args: &[&str]| succeeded(&tlsdb(args, ""));
    assert_eq!(del(&["del", db, "alice", "psk"]), "deleted PSK alice\n");
    assert_eq!(del(&["del", db, "alice"]), "deleted SRP user alice\n");
    assert_eq!(del(&["del", db, "sensor-7"]), "deleted PSK sensor-7\n");
    assert!(fails(&["del", db, "alice"]).contains("no SRP user or PSK \"alice\""));
    assert!(fails(&["del", db, "new1", "srp"]).contains("no user"));
    assert_eq!(
        listed(),
        "new1 psk sha256\nnew2 psk sha256\ns16 psk sha256\n"
    );
}

/// A key file written by GnuTLS's `psktool` imports, and exports back byte for byte.
#[test]
fn tlsdb_imports_psktool_key_files() {
    let Some(psktool) = tls_testkit::peer("psktool") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    // Not an identity with a colon: psktool writes that one as `#` and its hex, a form
    // `parse_key_file` does not read yet (it takes the line for a comment).
    for (user, size) in [("gnu", "32"), ("gnu.16", "16")] {
        succeeded(&run(
            Command::new(&psktool).args(["-u", user, "-s", size, "-p", &path("keys.psk")]),
            b"",
        ));
    }
    succeeded(&tlsdb(&["create", &path("users.db")], ""));
    let imported = succeeded(&tlsdb(
        &["import-psk", &path("users.db"), &path("keys.psk")],
        "",
    ));
    assert_eq!(imported, "imported 2 PSKs\n");
    assert_eq!(
        succeeded(&tlsdb(&["list", &path("users.db")], "")),
        "gnu psk sha256\ngnu.16 psk sha256\n"
    );
    succeeded(&tlsdb(
        &["export-psk", &path("users.db"), &path("out.psk")],
        "",
    ));
    assert_eq!(
        std::fs::read_to_string(path("out.psk")).unwrap(),
        std::fs::read_to_string(path("keys.psk")).unwrap()
    );
}

/// `tls server -v DB --psk-db DB -c CERT -k KEY` serves every kind of client on one port, from
/// one database holding both users and PSKs: curl and Python's `ssl` over X.509, `tls client`
/// over SRP and over a PSK, `openssl s_client -psk` and `gnutls-cli` with a PSK. The database
/// sits in the served folder and is never served.
#[test]
fn one_port_serves_x509_srp_and_psk_clients() {
    let dir = tempfile::tempdir().unwrap();
    let Some((cert, key, _pin)) = tls_testkit::rsa_identity(dir.path()) else {
        return;
    };
    let www = dir.path().join("www");
    std::fs::create_dir(&www).unwrap();
    std::fs::write(www.join("note.txt"), "for everyone\n").unwrap();
    let db = www.join("keys.db");
    let db = db.to_str().unwrap();
    succeeded(&tlsdb(&["create", db], ""));
    succeeded(&tlsdb(&["add", db, "alice", "open sesame"], ""));
    let added = succeeded(&tlsdb(&["add-psk", db, "device-9"], ""));
    let psk = added
        .trim()
        .rsplit(char::is_whitespace)
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(psk.len(), 64, "{added}");
    let mut args: Vec<std::ffi::OsString> = vec!["-v".into(), db.into(), "--psk-db".into()];
    args.extend([
        db.into(),
        "-c".into(),
        cert.clone().into(),
        "-k".into(),
        key.into(),
    ]);
    args.extend(["-d".into(), www.clone().into()]);
    let (_server, printed, port) = start_server(&args, 6);
    assert_eq!(
        printed[5], "Serving pre-shared key identities (TLS 1.3 and TLS 1.2)",
        "{printed:?}"
    );
    let target = format!("localhost:{port}");
    let tls_client = |extra: &[&str], path: &str| {
        run(
            Command::new(TLS)
                .args(["client", "--get", path])
                .args(extra)
                .arg(&target),
            b"",
        )
    };
    let by_psk = ["--psk-identity", "device-9", "--psk-key", psk.as_str()];
    let printed = succeeded(&tls_client(&by_psk, "/note.txt"));
    assert!(printed.contains("PSK identity: device-9"), "{printed}");
    assert!(printed.contains("Version: TLS 1.3"), "{printed}");
    assert!(printed.ends_with("for everyone\n"), "{printed}");
    let database = succeeded(&tls_client(&by_psk, "/keys.db"));
    assert!(
        !database.contains("SQLite"),
        "the database was served: {database}"
    );
    // TLS 1.2 PSK on the same port: a hello with the PSK suites and no TLS 1.3 goes to them.
    let by_psk12 = [
        "--psk-identity",
        "device-9",
        "--psk-key",
        psk.as_str(),
        "--max-ver",
        "tls1.2",
        "--cipher",
        "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256",
    ];
    let printed = succeeded(&tls_client(&by_psk12, "/note.txt"));
    assert!(printed.contains("Version: TLS 1.2"), "{printed}");
    assert!(
        printed.contains("Cipher suite: TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256"),
        "{printed}"
    );
    assert!(printed.contains("PSK identity: device-9"), "{printed}");
    assert!(printed.ends_with("for everyone\n"), "{printed}");
    let mut unknown12 = by_psk12;
    unknown12[1] = "nobody";
    let refused = tls_client(&unknown12, "/note.txt");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("unknown_psk_identity"), "{refused:?}");
    let by_srp = ["-u", "alice", "-p", "open sesame"];
    let printed = succeeded(&tls_client(&by_srp, "/note.txt"));
    assert!(printed.contains("SRP username: alice"), "{printed}");
    let unknown = ["--psk-identity", "nobody", "--psk-key", psk.as_str()];
    let refused = tls_client(&unknown, "/note.txt");
    // An unknown identity goes to the certificate, which this client does not check: the
    // client refuses the server that did not take its key.
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("accepted none of our PSK identities"),
        "{said}"
    );
    curl_gets_the_note(&target);
    if let Some(python) = tls_testkit::peer("python3") {
        let script = "import ssl, socket, sys\n\
            ctx = ssl.create_default_context(cafile=sys.argv[1])\n\
            s = ctx.wrap_socket(socket.create_connection(('localhost', int(sys.argv[2]))), server_hostname='localhost')\n\
            s.sendall(b'GET /note.txt HTTP/1.0\\r\\n\\r\\n')\n\
            print(s.version(), s.recv(4096).split(b'\\r\\n\\r\\n', 1)[1].decode(), end='')\n";
        let out = run(
            Command::new(python)
                .args(["-c", script])
                .arg(&cert)
                .arg(&port),
            b"",
        );
        assert_eq!(succeeded(&out), "TLSv1.3 for everyone\n");
    }
    if let Some(openssl) = tls_testkit::peer("openssl") {
        let s_client = |identity: &str| {
            run(
                Command::new(&openssl)
                    .args([
                        "s_client",
                        "-connect",
                        &format!("127.0.0.1:{port}"),
                        "-tls1_3",
                    ])
                    .args([
                        "-psk_identity",
                        identity,
                        "-psk",
                        &psk,
                        "-brief",
                        "-ign_eof",
                    ]),
                b"GET /note.txt HTTP/1.0\r\n\r\n",
            )
        };
        let out = s_client("device-9");
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(said.ends_with("for everyone\n"), "{out:?}");
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("Peer certificate"),
            "{out:?}"
        );
        let tls12 = run(
            Command::new(&openssl)
                .args([
                    "s_client",
                    "-connect",
                    &format!("127.0.0.1:{port}"),
                    "-tls1_2",
                ])
                .args([
                    "-psk_identity",
                    "device-9",
                    "-psk",
                    &psk,
                    "-brief",
                    "-ign_eof",
                ])
                .args(["-cipher", "ECDHE-PSK-CHACHA20-POLY1305"]),
            b"GET /note.txt HTTP/1.0\r\n\r\n",
        );
        assert!(
            String::from_utf8_lossy(&tls12.stdout).ends_with("for everyone\n"),
            "{tls12:?}"
        );
        let said = String::from_utf8_lossy(&tls12.stderr);
        assert!(
            said.contains("TLSv1.2") && said.contains("ECDHE-PSK-CHACHA20-POLY1305"),
            "{said}"
        );
        // OpenSSL goes on with the certificate when its identity is unknown (RFC 8446).
        let out = s_client("nobody");
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(said.ends_with("for everyone\n"), "{out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("Peer certificate"),
            "{out:?}"
        );
    }
    if let Some(gnutls) = tls_testkit::peer("gnutls-cli") {
        let out = run(
            Command::new(gnutls)
                .args([
                    "--port",
                    &port,
                    "--pskusername",
                    "device-9",
                    "--pskkey",
                    &psk,
                ])
                .args([
                    "--priority",
                    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+ECDHE-PSK:+DHE-PSK:+PSK",
                ])
                .args(["--logfile", "/dev/null", "localhost"]),
            b"GET /note.txt HTTP/1.0\r\n\r\n",
        );
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(said.contains("for everyone"), "{out:?}");
    }
}
