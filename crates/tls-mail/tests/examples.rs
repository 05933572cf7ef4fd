//! The examples against Dovecot: `pop3_fingerprint` (probe, then pinned login and RETR) and
//! `imap_pinned` (CA file over STARTTLS, pin over IMAPS), and their exit codes on failure.
//!
//! `cargo test -p tls-mail` builds the examples before running this.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

use common::{crlf, dovecot, seeded, PASSWORD, USER};
use tls::FingerprintAlgorithm;
use tls_testkit::{run, succeeded, Pki};

fn example(name: &str) -> Command {
    // target/debug/deps/examples-HASH → target/debug/examples/NAME
    let exe = std::env::current_exe().expect("test binary");
    let path: PathBuf = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir")
        .join("examples")
        .join(name);
    assert!(
        path.is_file(),
        "{} is not built: run `cargo test -p tls-mail` (it builds the examples)",
        path.display()
    );
    Command::new(path)
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
}

#[test]
fn imap_pinned_with_a_ca_file_or_a_pin() {
    let pki = Pki::new();
    let Some(server) = dovecot(&pki) else { return };
    let root = pki.path("root.pem");
    let out = run(
        example("imap_pinned")
            .args(["--starttls", "--cafile"])
            .arg(&root)
            .args([
                "--user",
                USER,
                "--password",
                PASSWORD,
                &format!("localhost:{}", server.imap_port),
            ]),
        b"",
    );
    assert_eq!(succeeded(&out), "Messages: 3\nSubject: Test message 1\n");

    let pin = pki
        .server
        .fingerprint(FingerprintAlgorithm::Sha256)
        .to_string();
    let imaps = format!("127.0.0.1:{}", server.imaps_port);
    let out = run(
        example("imap_pinned").args([
            "--fingerprint",
            &pin,
            "--user",
            USER,
            "--password",
            PASSWORD,
            &imaps,
        ]),
        b"",
    );
    assert_eq!(succeeded(&out), "Messages: 3\nSubject: Test message 1\n");

    let out = run(
        example("imap_pinned").args([
            "--fingerprint",
            &pin,
            "--user",
            USER,
            "--password",
            "nope",
            &imaps,
        ]),
        b"",
    );
    assert!(failed(&out, 1).contains("error: IMAP error"), "{out:?}");
    let out = run(
        example("imap_pinned")
            .args(["--fingerprint", &pin, "--cafile"])
            .arg(&root)
            .args(["--user", USER, "--password", PASSWORD, &imaps]),
        b"",
    );
    assert!(failed(&out, 2).contains("exactly one of"), "{out:?}");
}
