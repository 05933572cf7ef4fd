//! The examples against Dovecot: `pop3_fingerprint` (probe, then pinned login and RETR) and
//! `imap_pinned` (CA file over STARTTLS, pin over IMAPS), and their exit codes on failure.
//!
//! `cargo test -p tls-mail` builds the examples before running this.

mod common;

use std::process::Output;

use common::{crlf, dovecot, seeded, PASSWORD, USER};
use tls::FingerprintAlgorithm;
use tls_testkit::{example, run, succeeded, Pki};

/// Runs `imap_pinned` with these arguments.
fn imap_pinned(args: &[&str]) -> Output {
    run(example("imap_pinned").args(args), b"")
}

fn failed(out: &Output, code: i32) -> String {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn pop3_fingerprint_probes_then_logs_in_with_the_pin() {
    let pki = Pki::new();
    let Some(server) = dovecot(&pki) else { return };
    let sha1 = pki.server.fingerprint(FingerprintAlgorithm::Sha1).to_hex();
    let sha256 = pki
        .server
        .fingerprint(FingerprintAlgorithm::Sha256)
        .to_hex();
    let target = format!("127.0.0.1:{}", server.pop3_port);
    let probed = succeeded(&run(
        example("pop3_fingerprint").args(["--stls", &target]),
        b"",
    ));
    assert_eq!(
        probed,
        format!("Fingerprint SHA-1: {sha1}\nFingerprint SHA-256: {sha256}\n")
    );
    let implicit = format!("localhost:{}", server.pop3s_port);
    let probed = succeeded(&run(example("pop3_fingerprint").arg(&implicit), b""));
    assert_eq!(
        probed,
        format!("Fingerprint SHA-1: {sha1}\nFingerprint SHA-256: {sha256}\n")
    );

    let out = run(
        example("pop3_fingerprint").args([
            "--fingerprint",
            &sha256,
            "--user",
            USER,
            "--password",
            PASSWORD,
            "--retr",
            "1",
            &format!("127.0.0.1:{}", server.pop3s_port),
        ]),
        b"",
    );
    let stdout = succeeded(&out);
    let expected = format!(
        "Fingerprint SHA-1: {sha1}\nFingerprint SHA-256: {sha256}\nMessages: 3\n{}",
        String::from_utf8(crlf(&seeded()[0])).unwrap()
    );
    assert_eq!(stdout, expected);

    let wrong = pki
        .self_signed
        .fingerprint(FingerprintAlgorithm::Sha256)
        .to_hex();
    let out = run(
        example("pop3_fingerprint").args(["--stls", "--fingerprint", &wrong, &target]),
        b"",
    );
    assert!(
        failed(&out, 1).contains("error: POP3 TLS error"),
        "{:?}",
        out
    );
    let out = run(
        example("pop3_fingerprint").args(["--user", USER, &target]),
        b"",
    );
    assert!(failed(&out, 2).contains("usage:"));
    // --retr without a login would be silently ignored: a usage error instead.
    let out = run(
        example("pop3_fingerprint").args(["--fingerprint", &sha256, "--retr", "1", &target]),
        b"",
    );
    assert!(
        failed(&out, 2).contains("--retr needs --user and --password"),
        "{out:?}"
    );
}

#[test]
fn imap_pinned_with_a_ca_file_or_a_pin() {
    let pki = Pki::new();
    let Some(server) = dovecot(&pki) else { return };
    let root = pki.path("root.pem").display().to_string();
    let pin = pki.server.fingerprint(FingerprintAlgorithm::Sha256);
    let pin = pin.to_string();
    let imap = format!("localhost:{}", server.imap_port);
    let imaps = format!("127.0.0.1:{}", server.imaps_port);
    let login = ["--user", USER, "--password", PASSWORD];
    let expected = "Messages: 3\nSubject: Test message 1\n";

    let out = imap_pinned(&[&["--starttls", "--cafile", &root][..], &login, &[&imap]].concat());
    assert_eq!(succeeded(&out), expected);
    let out = imap_pinned(&[&["--fingerprint", &pin][..], &login, &[&imaps]].concat());
    assert_eq!(succeeded(&out), expected);

    let wrong_password = [
        "--fingerprint",
        &pin,
        "--user",
        USER,
        "--password",
        "nope",
        &imaps,
    ];
    let out = imap_pinned(&wrong_password);
    assert!(failed(&out, 1).contains("error: IMAP error"), "{out:?}");
    let both = [
        &["--fingerprint", &pin, "--cafile", &root][..],
        &login,
        &[&imaps],
    ]
    .concat();
    let out = imap_pinned(&both);
    assert!(failed(&out, 2).contains("exactly one of"), "{out:?}");
}

#[test]
fn pop3_async_saves_every_message_byte_for_byte() {
    let pki = Pki::new();
    let Some(server) = dovecot(&pki) else { return };
    let sha256 = pki
        .server
        .fingerprint(FingerprintAlgorithm::Sha256)
        .to_hex();
    let target = format!("127.0.0.1:{}", server.pop3s_port);
    let dir = tempfile::tempdir().unwrap();
    let save = |password: &str| {
        let mut command = example("pop3_async");
        command
            .args([&target, &sha256, dir.path().to_str().unwrap()])
            .env("POP3_USER", USER)
            .env("POP3_PASSWORD", password);
        run(&mut command, b"")
    };
    let wire: Vec<Vec<u8>> = seeded().iter().map(|m| crlf(m)).collect();
    let total: usize = wire.iter().map(Vec::len).sum();
    let saved = succeeded(&save(PASSWORD));
    assert_eq!(saved, format!("saved 3 messages, {total} bytes\n"));
    for (n, expected) in (1..).zip(&wire) {
        let file = std::fs::read(dir.path().join(format!("{n}.eml"))).unwrap();
        assert_eq!(&file, expected, "message {n}");
    }
    let refused = failed(&save("wrong"), 1);
    assert!(refused.contains("PASS"), "{refused}");
    let usage = failed(&run(example("pop3_async").arg(&target), b""), 2);
    assert!(usage.contains("usage"), "{usage}");
}

#[test]
fn imap_async_lists_the_mailbox() {
    let pki = Pki::new();
    let Some(server) = dovecot(&pki) else { return };
    let sha256 = pki
        .server
        .fingerprint(FingerprintAlgorithm::Sha256)
        .to_hex();
    let target = format!("127.0.0.1:{}", server.imaps_port);
    let list = |password: &str| {
        let mut command = example("imap_async");
        command
            .args([&target, &sha256])
            .env("IMAP_USER", USER)
            .env("IMAP_PASSWORD", password);
        run(&mut command, b"")
    };
    let mut expected = String::from("INBOX: 3 messages\n");
    for (n, message) in (1..).zip(seeded()) {
        let size = crlf(&message).len();
        expected += &format!("{n} {size} Test message {n}\n");
    }
    assert_eq!(succeeded(&list(PASSWORD)), expected);
    let refused = failed(&list("wrong"), 1);
    assert!(refused.contains("IMAP error"), "{refused}");
    let usage = failed(&run(example("imap_async").arg(&target), b""), 2);
    assert!(usage.contains("usage"), "{usage}");
}
