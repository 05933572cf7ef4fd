//! The `https_get` example as a user runs it: body on stdout, status line on stderr, and a
//! clear failure with a non-zero exit.

use tls::FingerprintAlgorithm;
use tls_testkit::{example, run, Pki};

#[path = "../benches/site/serve.rs"]
mod site;

#[test]
fn https_get_prints_the_body_or_a_clear_error() {
    let pki = Pki::new();
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("hello.txt"), "hello over tls\n").unwrap();
    let server = site::serve(&pki, root.path());
    let url = format!("https://127.0.0.1:{}/hello.txt", server.addr.port());

    let ok = run(
        example("https_get")
            .arg("--cafile")
            .arg(pki.path("root.pem"))
            .arg(&url),
        b"",
    );
    assert!(ok.status.success(), "{ok:?}");
    assert_eq!(ok.stdout, b"hello over tls\n");
    assert_eq!(String::from_utf8_lossy(&ok.stderr), "HTTP/1.1 200 OK\n");

    let pin = pki
        .server
        .fingerprint(FingerprintAlgorithm::Sha256)
        .to_hex();
    let missing = run(
        example("https_get")
            .args(["--fingerprint", &pin])
            .arg(url.replace("hello", "nothing")),
        b"",
    );
    assert_eq!(missing.status.code(), Some(1), "{missing:?}");
    assert!(String::from_utf8_lossy(&missing.stderr).starts_with("HTTP/1.1 404"));

    let wrong = pki
        .stranger
        .fingerprint(FingerprintAlgorithm::Sha256)
        .to_hex();
    let refused = run(
        example("https_get").args(["--fingerprint", &wrong, &url]),
        b"",
    );
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("does not match"), "{stderr}");
    assert!(refused.stdout.is_empty());
}

#[cfg(feature = "hyper")]
#[test]
fn https_async_fetches_urls_concurrently_or_fails_clearly() {
    let pki = Pki::new();
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("a.txt"), "first\n").unwrap();
    std::fs::write(root.path().join("b.txt"), vec![b'b'; 5000]).unwrap();
    let server = site::serve(&pki, root.path());
    let url = |name: &str| format!("https://localhost:{}/{name}", server.addr.port());
    let pin = pki
        .server
        .fingerprint(FingerprintAlgorithm::Sha256)
        .to_hex();
    let (a, b) = (url("a.txt"), url("b.txt"));
    let ok = run(example("https_async").args([&pin, &a, &b, &a]), b"");
    assert!(ok.status.success(), "{ok:?}");
    assert_eq!(
        String::from_utf8_lossy(&ok.stdout),
        format!("200 HTTP/1.1 6 {a}\n200 HTTP/1.1 5000 {b}\n200 HTTP/1.1 6 {a}\n")
    );

    let wrong = pki
        .stranger
        .fingerprint(FingerprintAlgorithm::Sha256)
        .to_hex();
    let refused = run(example("https_async").args([&wrong, &a]), b"");
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("does not match"), "{stderr}");
    let usage = run(example("https_async").arg(&pin), b"");
    assert_eq!(usage.status.code(), Some(2), "{usage:?}");
}
