//! The tokio driver against real peers: our tokio client against OpenSSL's s_server, gnutls-serv
//! and tlslite-ng (SRP), and our tokio server against curl, Python's ssl, gnutls-cli and
//! tlslite-ng's client (SRP). A missing peer skips, or fails under `TLS_PEERS_REQUIRED=1`.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use tls::srp::MemoryVerifierDb;
use tls::{ClientConfig, Error, HandshakeSettings, ServerAuth, ServerConfig, Session};
use tls_testkit::{
    gnutls_serv, peer, rsa_identity, run, srptool_passwd, succeeded, tlslite_srp_server,
    PeerProcess, Pki,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const USER: &str = "alice";
const PASSWORD: &str = "tr0ub4dor&3";
const LIMIT: Duration = Duration::from_secs(30);

/// GET `path` over HTTP/1.0 with our tokio client: the session and the body.
async fn get(config: &ClientConfig, port: u16, path: &str) -> Result<(Session, Vec<u8>), Error> {
    let tcp = TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(Error::Io)?;
    let mut tls = tls::tokio::connect(config, "localhost", tcp).await?;
    // These HTTP/1.0 servers may close without close_notify after answering.
    tls.set_ignore_abrupt_close(true);
    tls.write_all(format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").as_bytes())
        .await?;
    tls.flush().await?;
    let mut response = Vec::new();
    tokio::time::timeout(LIMIT, tls.read_to_end(&mut response))
        .await
        .map_err(|e| Error::Io(e.into()))??;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(0, |i| i + 4);
    Ok((tls.session().clone(), response.split_off(split)))
}

fn srp_client() -> ClientConfig {
    ClientConfig::builder().srp(USER, PASSWORD).build().unwrap()
}

#[tokio::test]
async fn tokio_client_against_openssl_s_server() {
    let Some(openssl) = peer("openssl") else {
        return;
    };
    let pki = Pki::new();
    let (_server, port) = PeerProcess::spawn_printing_port(
        Command::new(openssl)
            .args(["s_server", "-accept", "0", "-www", "-naccept", "4"])
            .arg("-cert")
            .arg(pki.path("server.pem"))
            .arg("-cert_chain")
            .arg(pki.path("server.pem"))
            .arg("-key")
            .arg(pki.path("server.key"))
            .stdin(Stdio::null())
            .stderr(Stdio::null()),
        "ACCEPT",
    );
    let config = ClientConfig::builder()
        .server_auth(ServerAuth::Roots(pki.roots()))
        .build()
        .unwrap();
    let (session, body) = get(&config, port, "/").await.unwrap();
    assert!(!body.is_empty());
    assert_eq!(session.peer_certificate(), Some(&pki.server.leaf_der[..]));
    let (again, _) = get(&config, port, "/").await.unwrap();
    assert!(again.resumed(), "no resumption with s_server");
}

#[tokio::test]
async fn tokio_srp_client_against_gnutls_serv_and_tlslite_ng() {
    let dir = tempfile::tempdir().unwrap();
    if let Some((passwd, conf)) = srptool_passwd(dir.path(), USER, PASSWORD, 3) {
        let priority = "NORMAL:-KX-ALL:+SRP:-VERS-TLS1.3";
        if let Some((_server, port)) = gnutls_serv(&passwd, &conf, priority, &["--http"]) {
            let (session, body) = get(&srp_client(), port, "/").await.unwrap();
            assert_eq!(session.srp_username(), Some(USER));
            assert!(!body.is_empty());
        }
    }
    std::fs::write(dir.path().join("hello.txt"), "hello from tlslite-ng\n").unwrap();
    let Some((_server, port)) = tlslite_srp_server(dir.path(), USER, PASSWORD, None) else {
        return;
    };
    let (session, body) = get(&srp_client(), port, "/hello.txt").await.unwrap();
    assert_eq!(body, b"hello from tlslite-ng\n");
    assert_eq!(session.encrypt_then_mac(), Some(true));
}

/// Our tokio server answering one HTTP request per connection, for `connections` connections;
/// each connection's session (or error).
async fn tokio_http_server(
    config: ServerConfig,
    connections: usize,
) -> (u16, tokio::task::JoinHandle<Vec<Result<Session, Error>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut sessions = Vec::new();
        for _ in 0..connections {
            let (tcp, _) = listener.accept().await.unwrap();
            let served = async {
                let mut tls = tls::tokio::accept(&config, tcp).await?;
                let session = tls.session().clone();
                // The clients check what they receive; some (gnutls-cli, tls.py) only
                // handshake and leave, so the HTTP part may end early.
                let _ = answer_http(&mut tls).await;
                Ok::<_, Error>(session)
            };
            sessions.push(
                tokio::time::timeout(LIMIT, served)
                    .await
                    .unwrap_or_else(|_| Err(Error::Io(std::io::ErrorKind::TimedOut.into()))),
            );
        }
        sessions
    });
    (port, task)
}

/// Reads a request head and answers it, then sends close_notify.
async fn answer_http(tls: &mut tls::tokio::TlsStream<TcpStream>) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && !head.ends_with(b"\n\n") {
        if tls.read(&mut byte).await? == 0 {
            break;
        }
        head.push(byte[0]);
    }
    let body = b"served by tokio\n";
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    tls.write_all(response.as_bytes()).await?;
    tls.write_all(body).await?;
    tls.shutdown().await
}

/// Runs a peer's command off the runtime.
async fn run_peer(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || run(&mut command, b""))
        .await
        .unwrap()
}

fn srp_server() -> ServerConfig {
    let db = MemoryVerifierDb::new();
    db.add(USER, PASSWORD, 2048).unwrap();
    ServerConfig::builder().verifier_db(db).build().unwrap()
}

#[tokio::test]
async fn curl_and_python_ssl_against_our_tokio_server() {
    let pki = Pki::new();
    let config = ServerConfig::builder()
        .cert_chain(pki.server.chain(), pki.server.key())
        .settings(HandshakeSettings {
            alpn: vec!["http/1.1".into()],
            ..Default::default()
        })
        .build()
        .unwrap();
    if let Some(curl) = peer("curl") {
        let (port, server) = tokio_http_server(config.clone(), 1).await;
        let mut command = Command::new(curl);
        command
            .args(["--silent", "--show-error", "--max-time", "10", "--cacert"])
            .arg(pki.path("root.pem"))
            .arg(format!("https://localhost:{port}/"));
        let out = run_peer(command).await;
        assert_eq!(succeeded(&out), "served by tokio\n");
        let session = server.await.unwrap().remove(0).unwrap();
        assert_eq!(session.alpn_protocol(), Some(&b"http/1.1"[..]));
    }
    let Some(python) = peer("python3") else {
        return;
    };
    let (port, server) = tokio_http_server(config, 1).await;
    let script = r#"
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
        print(s.version(), data.split(b"\r\n\r\n", 1)[1].decode(), end="")
"#;
    let mut command = Command::new(python);
    command
        .arg("-c")
        .arg(script)
        .arg(port.to_string())
        .arg(pki.path("root.pem"));
    let out = run_peer(command).await;
    assert_eq!(succeeded(&out), "TLSv1.3 served by tokio\n");
    assert!(server.await.unwrap().remove(0).is_ok());
}

#[tokio::test]
async fn gnutls_cli_and_tlslite_ng_log_in_to_our_tokio_srp_server() {
    if let Some(cli) = peer("gnutls-cli") {
        let (port, server) = tokio_http_server(srp_server(), 1).await;
        let mut command = Command::new(cli);
        command
            .args(["--port", &port.to_string(), "--srpusername", USER])
            .args(["--srppasswd", PASSWORD, "--priority"])
            .args([
                "NORMAL:-KX-ALL:+SRP:-VERS-TLS1.3",
                "--insecure",
                "localhost",
            ]);
        succeeded(&run_peer(command).await);
        let session = server.await.unwrap().remove(0).unwrap();
        assert_eq!(session.srp_username(), Some(USER));
    }
    let Some(tls_py) = peer("tls.py") else { return };
    let (port, server) = tokio_http_server(srp_server(), 1).await;
    let mut command = Command::new(tls_py);
    command.args(["client", "--max-ver", "tls1.2", "-u", USER, "-p", PASSWORD]);
    command.arg(format!("localhost:{port}"));
    let out = run_peer(command).await;
    let stdout = succeeded(&out);
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("Client SRP username") && l.contains(USER)),
        "{stdout}"
    );
    let session = server.await.unwrap().remove(0).unwrap();
    assert_eq!(session.srp_username(), Some(USER));
}

/// SRP-RSA over tokio: a pin given with SRP is checked, both sides ours, with an RSA
/// certificate made by OpenSSL (rcgen cannot make RSA keys with ring).
#[tokio::test]
async fn srp_rsa_with_a_pin_over_tokio() {
    let dir = tempfile::tempdir().unwrap();
    let Some((cert, key, pin)) = rsa_identity(dir.path()) else {
        return;
    };
    let chain = tls::CertificateChain::from_pem_file(&cert).unwrap();
    let db = MemoryVerifierDb::new();
    db.add(USER, PASSWORD, 2048).unwrap();
    let server = ServerConfig::builder()
        .cert_chain(chain, tls::PrivateKey::from_pem_file(&key).unwrap())
        .verifier_db(db)
        .build()
        .unwrap();
    let pinned = |pin: tls::Fingerprint| {
        ClientConfig::builder()
            .srp(USER, PASSWORD)
            .server_auth(ServerAuth::Fingerprint(pin))
            .build()
            .unwrap()
    };
    let (port, served) = tokio_http_server(server.clone(), 1).await;
    let (session, body) = get(&pinned(pin), port, "/").await.unwrap();
    assert_eq!(
        session.cipher_suite(),
        "TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA"
    );
    assert_eq!(body, b"served by tokio\n");
    assert!(served.await.unwrap().remove(0).is_ok());
    let (port, served) = tokio_http_server(server, 1).await;
    let wrong = tls::Fingerprint::of(tls::FingerprintAlgorithm::Sha256, b"another");
    let e = get(&pinned(wrong), port, "/").await.unwrap_err();
    assert!(matches!(e, Error::Authentication(_)), "{e:?}");
    assert!(served.await.unwrap().remove(0).is_err());
}

const PSK_KEY: [u8; 32] = [0x5a; 32];

fn psk_hex() -> String {
    PSK_KEY.iter().map(|b| format!("{b:02x}")).collect()
}

/// The tokio driver over a TLS 1.3 pre-shared key, both ways with OpenSSL: our client fetches
/// from `s_server -psk -www`, and `s_client -psk` talks to our tokio server.
#[tokio::test]
async fn tokio_psk_both_ways_with_openssl() {
    let Some(openssl) = peer("openssl") else {
        return;
    };
    let (_server, port) = PeerProcess::spawn_printing_port(
        Command::new(&openssl)
            .args(["s_server", "-accept", "0", "-www", "-tls1_3", "-nocert"])
            .args(["-psk", &psk_hex(), "-psk_identity", "sensor-7"])
            .stdin(Stdio::null())
            .stderr(Stdio::null()),
        "ACCEPT",
    );
    let psk = tls::psk::ExternalPsk::new("sensor-7", PSK_KEY).unwrap();
    let config = ClientConfig::builder().psk(psk).build().unwrap();
    let (session, body) = get(&config, port, "/").await.unwrap();
    assert!(String::from_utf8_lossy(&body).contains("TLSv1.3"));
    assert_eq!(session.psk_identity(), Some(&b"sensor-7"[..]));

    let keys = tls::psk::MemoryPskStore::new();
    keys.insert(tls::psk::ExternalPsk::new("sensor-7", PSK_KEY).unwrap());
    let server = ServerConfig::builder().psk_store(keys).build().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let serve = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut tls = tls::tokio::accept(&server, tcp).await?;
        let mut line = [0u8; 6];
        tls.read_exact(&mut line).await?;
        tls.write_all(&line.to_ascii_uppercase()).await?;
        tls.shutdown().await?;
        Ok::<_, Error>(tls.session().psk_identity().map(<[u8]>::to_vec))
    });
    let out = tokio::task::spawn_blocking(move || {
        run(
            Command::new(openssl)
                .args([
                    "s_client",
                    "-connect",
                    &format!("127.0.0.1:{port}"),
                    "-tls1_3",
                ])
                .args(["-psk", &psk_hex(), "-psk_identity", "sensor-7", "-quiet"]),
            b"hello\n",
        )
    })
    .await
    .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("HELLO"),
        "{out:?}"
    );
    let identity = tokio::time::timeout(LIMIT, serve)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(identity.as_deref(), Some(&b"sensor-7"[..]));
}
