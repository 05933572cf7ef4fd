//! Against real peers: OpenSSL's s_server and s_client, curl, and Python's ssl module.
//! A missing peer skips with a message, or fails under `TLS_PEERS_REQUIRED=1`.

use std::io::{BufRead, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use tls::{
    AlertDescription, ClientConfig, Error, FingerprintAlgorithm, HandshakeSettings,
    ProtocolVersion, ServerAuth, ServerConfig,
};
use tls_testkit::{answer_http, connect, peer, run, serve_once, succeeded, PeerProcess, Pki};

/// `openssl s_server -www` on an ephemeral port with the test server chain.
fn s_server(openssl: &Path, pki: &Pki, extra: &[&str]) -> (PeerProcess, std::net::SocketAddr) {
    let mut cmd = Command::new(openssl);
    cmd.args(["s_server", "-accept", "0", "-www", "-naccept", "10"])
        .arg("-cert")
        .arg(pki.path("server.pem"))
        .arg("-cert_chain")
        .arg(pki.path("server.pem"))
        .arg("-key")
        .arg(pki.path("server.key"))
        .args(extra)
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    let (process, port) = PeerProcess::spawn_printing_port(&mut cmd, "ACCEPT");
    (process, ([127, 0, 0, 1], port).into())
}

/// GET / from s_server; returns the session and the status line.
fn get(config: &ClientConfig, addr: std::net::SocketAddr) -> Result<(tls::Session, String), Error> {
    let mut tls = config.connect("localhost", connect(addr))?;
    tls.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
    let mut status = String::new();
    tls.read_line(&mut status)?;
    let mut rest = Vec::new();
    // s_server -www ends with close_notify; an abrupt end would be an error here.
    tls.read_to_end(&mut rest)?;
    Ok((tls.session().clone(), status))
}

fn roots_client(pki: &Pki, settings: HandshakeSettings) -> tls::ClientConfigBuilder {
    ClientConfig::builder()
        .server_auth(ServerAuth::Roots(pki.roots()))
        .settings(settings)
}

#[test]
fn our_client_against_openssl_s_server_tls12_and_tls13_with_resumption() {
    let Some(openssl) = peer("openssl") else {
        return;
    };
    let pki = Pki::new();
    let (_server, addr) = s_server(&openssl, &pki, &[]);
    for version in [ProtocolVersion::Tls12, ProtocolVersion::Tls13] {
        let settings = HandshakeSettings {
            min_version: version,
            max_version: version,
            ..Default::default()
        };
        let config = roots_client(&pki, settings).build().unwrap();
        let (first, status) = get(&config, addr).unwrap();
        assert!(status.starts_with("HTTP/1.0 200"), "{status}");
        assert_eq!(first.version(), version);
        assert!(!first.resumed());
        assert_eq!(
            first.peer_fingerprint_sha256(),
            Some(pki.server.fingerprint(FingerprintAlgorithm::Sha256))
        );
        let (second, _) = get(&config, addr).unwrap();
        assert!(second.resumed(), "{version}: no resumption with s_server");
    }
}

#[test]
fn our_client_pins_openssl_s_server() {
    let Some(openssl) = peer("openssl") else {
        return;
    };
    let pki = Pki::new();
    let (_server, addr) = s_server(&openssl, &pki, &[]);
    let pinned = |fp| {
        ClientConfig::builder()
            .server_auth(ServerAuth::Fingerprint(fp))
            .build()
            .unwrap()
    };
    let right = pinned(pki.server.fingerprint(FingerprintAlgorithm::Sha1));
    get(&right, addr).unwrap();
    let wrong = pinned(pki.self_signed.fingerprint(FingerprintAlgorithm::Sha1));
    assert!(matches!(get(&wrong, addr), Err(Error::Authentication(_))));
}

#[test]
fn our_client_certificate_with_openssl_s_server_requiring_one() {
    let Some(openssl) = peer("openssl") else {
        return;
    };
    let pki = Pki::new();
    let ca = pki.path("client-ca.pem");
    let ca = ca.to_str().unwrap();
    let (_server, addr) = s_server(
        &openssl,
        &pki,
        &["-Verify", "1", "-CAfile", ca, "-verify_return_error"],
    );
    for version in [ProtocolVersion::Tls12, ProtocolVersion::Tls13] {
        let settings = HandshakeSettings {
            max_version: version,
            ..Default::default()
        };
        let with_cert = roots_client(&pki, settings.clone())
            .client_cert(pki.client.chain(), pki.client.key())
            .build()
            .unwrap();
        let (_, status) = get(&with_cert, addr).unwrap();
        assert!(status.starts_with("HTTP/1.0 200"), "{status}");
        let without = roots_client(&pki, settings).build().unwrap();
        let e = get(&without, addr).unwrap_err();
        let alert = e.alert();
        assert!(
            matches!(
                alert,
                Some(AlertDescription::CertificateRequired | AlertDescription::HandshakeFailure)
            ),
            "{version}: {e:?}"
        );
    }
}

/// Runs our server for one connection: echoes a line, then closes with close_notify.
fn echo_once(config: ServerConfig) -> tls_testkit::ServerThread<Result<String, Error>> {
    serve_once(move |tcp| {
        let mut tls = config.accept(tcp)?;
        let mut line = String::new();
        tls.read_line(&mut line)?;
        tls.write_all(line.as_bytes())?;
        tls.close()?;
        Ok(line)
    })
}

#[test]
fn openssl_s_client_against_our_server() {
    let Some(openssl) = peer("openssl") else {
        return;
    };
    let pki = Pki::new();
    for (flag, name) in [("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")] {
        let server = ServerConfig::builder()
            .cert_chain(pki.server.chain(), pki.server.key())
            .build()
            .unwrap();
        let thread = echo_once(server);
        let out = run(
            Command::new(&openssl)
                .args(["s_client", "-connect", &thread.addr.to_string(), flag])
                .args([
                    "-servername",
                    "localhost",
                    "-verify_return_error",
                    "-ign_eof",
                    "-CAfile",
                ])
                .arg(pki.path("root.pem")),
            b"hello from s_client\n",
        );
        let stdout = succeeded(&out);
        assert!(stdout.contains("Verify return code: 0 (ok)"), "{stdout}");
        assert!(
            stdout.contains(&format!("Protocol  : {name}"))
                || stdout.contains(&format!("New, {name}")),
            "{stdout}"
        );
        assert!(stdout.contains("hello from s_client"), "{stdout}");
        assert_eq!(thread.join().unwrap(), "hello from s_client\n");
    }
}

/// OpenSSL's client asks for KeyUpdates over TLS 1.3 (`K`: ours too, `k`: its own only), then
/// sends a line: our server opens it under the client's new keys and echoes it under its own,
/// both computed by rustls, which ran the handshake, for the records our engine carries.
#[test]
fn openssl_s_client_key_updates_reach_our_server() {
    let Some(openssl) = peer("openssl") else {
        return;
    };
    let pki = Pki::new();
    let server = ServerConfig::builder()
        .cert_chain(pki.server.chain(), pki.server.key())
        .build()
        .unwrap();
    let thread = echo_once(server);
    let mut client = Command::new(&openssl)
        .args(["s_client", "-connect", &thread.addr.to_string(), "-tls1_3"])
        .args([
            "-servername",
            "localhost",
            "-verify_return_error",
            "-CAfile",
        ])
        .arg(pki.path("root.pem"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = client.stdin.take().unwrap();
    let (lines, seen) = std::sync::mpsc::channel();
    let stdout = std::io::BufReader::new(client.stdout.take().unwrap());
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let wait_for = |what: &str| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match seen.recv_timeout(left) {
                Ok(line) if line.contains(what) => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
    };
    assert!(wait_for("Verify return code: 0 (ok)"), "no handshake");
    let line = "hello after two key updates\n";
    for command in ["K\n", "k\n", line] {
        stdin.write_all(command.as_bytes()).unwrap();
        stdin.flush().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let echoed = wait_for(line.trim_end());
    drop(stdin);
    let _ = client.kill();
    let output = client.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.matches("KEYUPDATE").count(),
        2,
        "s_client sent two KeyUpdates: {stderr}"
    );
    assert_eq!(thread.join().unwrap(), line, "{stderr}");
    assert!(echoed, "the echo did not reach s_client: {stderr}");
}

#[test]
fn curl_with_cacert_and_with_a_pinned_public_key() {
    let Some(curl) = peer("curl") else { return };
    let pki = Pki::new();
    let body = b"served by tlslite-rs\n";
    let cases: [(&tls_testkit::Identity, Vec<String>, bool); 3] = [
        (
            &pki.server,
            vec![
                "--cacert".into(),
                pki.path("root.pem").display().to_string(),
            ],
            true,
        ),
        // curl checks a pin on top of CA validation; --insecure leaves the pin alone in charge.
        (
            &pki.self_signed,
            vec![
                "--insecure".into(),
                "--pinnedpubkey".into(),
                pki.self_signed.curl_pin(),
            ],
            true,
        ),
        (
            &pki.self_signed,
            vec![
                "--insecure".into(),
                "--pinnedpubkey".into(),
                pki.server.curl_pin(),
            ],
            false,
        ),
    ];
    for (identity, args, should_pass) in cases {
        let server = ServerConfig::builder()
            .cert_chain(identity.chain(), identity.key())
            .build()
            .unwrap();
        let thread = serve_once(move |tcp| answer_http(server.accept(tcp)?, body));
        let url = format!("https://localhost:{}/hello", thread.addr.port());
        let out = run(
            Command::new(&curl)
                .args(["--silent", "--show-error", "--max-time", "10"])
                .args(&args)
                .arg(&url),
            b"",
        );
        let served = thread.join();
        if should_pass {
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(out.stdout, body);
            assert!(served.unwrap().starts_with("GET /hello HTTP/1.1\r\n"));
        } else {
            // curl exit 90: "SSL: public key does not match pinned public key".
            assert_eq!(
                out.status.code(),
                Some(90),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            // curl checks the pin after its handshake, so the request must never arrive.
            let request = served.unwrap_or_default();
            assert!(!request.contains("GET"), "{request}");
        }
    }
}

#[test]
fn python_ssl_client_with_mutual_tls_against_our_server() {
    let Some(python) = peer("python3") else {
        return;
    };
    let pki = Pki::new();
    let server = ServerConfig::builder()
        .cert_chain(pki.server.chain(), pki.server.key())
        .require_client_cert(pki.client_roots())
        .build()
        .unwrap();
    let thread = serve_once(move |tcp| {
        let tls = server.accept(tcp)?;
        let client_fp = tls.session().peer_fingerprint_sha256();
        answer_http(tls, b"hello python")?;
        Ok::<_, Error>(client_fp)
    });
    let script = r#"
import socket, ssl, sys
port, root, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=root)
ctx.load_cert_chain(cert, key)
with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        print(s.version(), s.cipher()[0])
        print(data.split(b"\r\n\r\n", 1)[1].decode())
"#;
    let out = run(
        Command::new(&python)
            .arg("-c")
            .arg(script)
            .arg(thread.addr.port().to_string())
            .arg(pki.path("root.pem"))
            .arg(pki.path("client.pem"))
            .arg(pki.path("client.key")),
        b"",
    );
    let stdout = succeeded(&out);
    assert!(stdout.starts_with("TLSv1.3 TLS_"), "{stdout}");
    assert!(stdout.contains("hello python"), "{stdout}");
    assert_eq!(
        thread.join().unwrap(),
        Some(pki.client.fingerprint(FingerprintAlgorithm::Sha256))
    );
}
