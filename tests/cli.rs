//! The `tls` command line against `openssl s_server` and our own server.

use std::process::{Command, Output, Stdio};

use tls::FingerprintAlgorithm;
use tls_testkit::{peer, PeerProcess, Pki};

fn tls_cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tls"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run tls")
}

fn s_server(pki: &Pki, cert: &str, key: &str) -> Option<(PeerProcess, String)> {
    let openssl = peer("openssl")?;
    let mut cmd = Command::new(openssl);
    cmd.args(["s_server", "-accept", "0", "-www", "-alpn", "http/1.1"])
        .arg("-cert")
        .arg(pki.path(cert))
        .arg("-cert_chain")
        .arg(pki.path(cert))
        .arg("-key")
        .arg(pki.path(key))
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    let (process, port) = PeerProcess::spawn_printing_port(&mut cmd, "ACCEPT");
    Some((process, format!("localhost:{port}")))
}

fn field<'a>(stdout: &'a str, name: &str) -> &'a str {
    stdout
        .lines()
        .find_map(|l| {
            l.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix(": "))
        })
        .unwrap_or_else(|| panic!("no {name:?} line in:\n{stdout}"))
}

#[test]
fn client_prints_the_session_and_fetches_a_path() {
    let pki = Pki::new();
    let Some((_server, target)) = s_server(&pki, "server.pem", "server.key") else {
        return;
    };
    let cafile = pki.path("root.pem");
    let out = tls_cli(&[
        "client",
        "--cafile",
        cafile.to_str().unwrap(),
        "--alpn",
        "http/1.1",
        "--max-ver",
        "tls1.2",
        "--resume",
        "--get",
        "/",
        &target,
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(field(&stdout, "Version"), "TLS 1.2");
    assert!(
        field(&stdout, "Cipher suite").starts_with("TLS_ECDHE_ECDSA_WITH_"),
        "{stdout}"
    );
    assert_eq!(field(&stdout, "ALPN"), "http/1.1");
    assert_eq!(
        field(&stdout, "Peer fingerprint SHA-256"),
        pki.server
            .fingerprint(FingerprintAlgorithm::Sha256)
            .to_hex()
    );
    assert_eq!(
        field(&stdout, "Peer fingerprint SHA-1"),
        pki.server.fingerprint(FingerprintAlgorithm::Sha1).to_hex()
    );
    let resumed: Vec<_> = stdout
        .lines()
        .filter(|l| l.starts_with("Resumed: "))
        .collect();
    assert_eq!(resumed, ["Resumed: no", "Resumed: yes"], "{stdout}");
    assert!(
        stdout.contains("s_server"),
        "the body of GET / is s_server's status page:\n{stdout}"
    );
}

#[test]
fn fingerprint_probe_then_pinned_client() {
    let pki = Pki::new();
    let Some((_server, target)) = s_server(&pki, "self-signed.pem", "self-signed.key") else {
        return;
    };
    let out = tls_cli(&["fingerprint", &target]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sha256 = field(&stdout, "Fingerprint SHA-256").to_owned();
    assert_eq!(
        sha256,
        pki.self_signed
            .fingerprint(FingerprintAlgorithm::Sha256)
            .to_hex()
    );
    assert_eq!(
        field(&stdout, "Fingerprint SHA-1"),
        pki.self_signed
            .fingerprint(FingerprintAlgorithm::Sha1)
            .to_hex()
    );

    // Pin what the probe printed, in OpenSSL's own spelling too.
    let openssl_form = format!(
        "sha256 Fingerprint={}",
        sha256
            .as_bytes()
            .chunks(2)
            .map(|p| std::str::from_utf8(p).unwrap().to_uppercase())
            .collect::<Vec<_>>()
            .join(":")
    );
    for pin in [sha256.as_str(), openssl_form.as_str()] {
        let out = tls_cli(&["client", "--fingerprint", pin, &target]);
        assert!(
            out.status.success(),
            "{pin}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn failures_exit_non_zero_with_the_alert_name() {
    let pki = Pki::new();
    let Some((_server, target)) = s_server(&pki, "self-signed.pem", "self-signed.key") else {
        return;
    };
    // Default WebPki roots do not know a self-signed certificate.
    let out = tls_cli(&["client", &target]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unknown_ca"),
        "{out:?}"
    );

    let wrong = pki.server.fingerprint(FingerprintAlgorithm::Sha1).to_hex();
    let out = tls_cli(&["client", "--fingerprint", &wrong, &target]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("authentication failed") && stderr.contains(&wrong),
        "{stderr}"
    );

    let out = tls_cli(&["client", "--fingerprint", "nonsense", &target]);
    assert_eq!(out.status.code(), Some(2), "usage errors exit 2");
    let out = tls_cli(&["client", "localhost"]);
    assert_eq!(out.status.code(), Some(2));
}
