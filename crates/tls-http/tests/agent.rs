//! The agent against our tls-server in every authentication mode, and ureq's own features
//! (pooling, redirects, bodies, timeouts, JSON) running over our TLS.

use std::io::{self, BufRead, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use tls::srp::MemoryVerifierDb;
use tls::{
    AlertDescription, AuthenticationError, Checker, ClientConfig, Error, FingerprintAlgorithm,
    ServerAuth, ServerConfig, TlsStream,
};
use tls_http::{tls_error, HttpTlsConnection};
use tls_server::{ConnectionInfo, PlainConnection, RunningServer, Socket, StaticFiles, TlsServer};
use tls_testkit::Pki;

const USER: &str = "alice";
const PASSWORD: &str = "correct horse";

/// One parsed request of the test site.
struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
    close: bool,
}

/// Reads one HTTP/1.1 request; `None` when the client has gone.
fn read_request(conn: &mut impl BufRead) -> io::Result<Option<Request>> {
    let mut line = String::new();
    if conn.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut words = line.split_whitespace();
    let method = words.next().unwrap_or_default().to_owned();
    let path = words.next().unwrap_or_default().to_owned();
    let (mut length, mut close) = (0, false);
    loop {
        line.clear();
        conn.read_line(&mut line)?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').unwrap_or((header, ""));
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse().map_err(io::Error::other)?;
        } else if name.eq_ignore_ascii_case("connection") {
            close = value.eq_ignore_ascii_case("close");
        }
    }
    let mut body = vec![0; length];
    conn.read_exact(&mut body)?;
    Ok(Some(Request {
        method,
        path,
        body,
        close,
    }))
}

/// A small HTTP/1.1 site: `/echo` returns the request body, `/redirect` points at
/// `/landing`, `/whoami` describes the connection (`who`), `/slow` answers after 2 s.
fn answer(conn: &mut (impl BufRead + Write), who: impl Fn() -> String) -> io::Result<()> {
    while let Some(request) = read_request(conn)? {
        let (status, location, body) = match request.path.as_str() {
            "/echo" => ("200 OK", None, request.body),
            "/redirect" => ("302 Found", Some("/landing"), Vec::new()),
            "/landing" => ("200 OK", None, b"landed".to_vec()),
            "/whoami" => (
                "200 OK",
                None,
                format!("{} {}", request.method, who()).into(),
            ),
            "/slow" => {
                thread::sleep(Duration::from_secs(2));
                ("200 OK", None, b"late".to_vec())
            }
            _ => ("404 Not Found", None, b"no such page".to_vec()),
        };
        let mut head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", body.len());
        if let Some(location) = location {
            head += &format!("Location: {location}\r\n");
        }
        if request.close {
            head += "Connection: close\r\n";
        }
        head += "\r\n";
        conn.write_all(&[head.as_bytes(), &body].concat())?;
        conn.flush()?;
        if request.close {
            break;
        }
    }
    Ok(())
}

fn tls_site(tls: &mut TlsStream<Socket>, conn: &ConnectionInfo) -> io::Result<()> {
    let session = tls.session().clone();
    let port = conn.peer_addr().port();
    answer(tls, || {
        let client = session
            .peer_fingerprint_sha256()
            .map_or("-".into(), |f| f.to_hex());
        let alpn = session
            .alpn_protocol()
            .map_or("-".into(), String::from_utf8_lossy);
        let psk = session
            .psk_identity()
            .map_or("-".into(), String::from_utf8_lossy);
        format!(
            "port={port} resumed={} user={} psk={psk} client={client} alpn={alpn}",
            session.resumed(),
            session.srp_username().unwrap_or("-"),
        )
    })
}

fn plain_site(mut conn: PlainConnection) -> io::Result<()> {
    answer(&mut conn, || "plain".into())
}

/// A served folder with one file of 100 000 bytes, `file.bin`.
struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("file.bin"), Self::content()).unwrap();
        Files { dir }
    }

    fn content() -> Vec<u8> {
        (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect()
    }

    fn root(&self) -> PathBuf {
        self.dir.path().to_owned()
    }
}

fn x509_server(pki: &Pki) -> tls::ServerConfigBuilder {
    ServerConfig::builder().cert_chain(pki.server.chain(), pki.server.key())
}

fn srp_server() -> ServerConfig {
    let db = MemoryVerifierDb::new();
    db.add(USER, PASSWORD, 2048).unwrap();
    ServerConfig::builder().verifier_db(db).build().unwrap()
}

fn spawn(config: ServerConfig, handler: impl tls_server::Handler) -> (RunningServer, String) {
    let server = TlsServer::builder(config)
        .bind("127.0.0.1:0")
        .unwrap()
        .spawn(handler);
    let origin = format!("https://127.0.0.1:{}", server.addr.port());
    (server, origin)
}

fn roots(pki: &Pki) -> ClientConfig {
    tls_http::config()
        .server_auth(ServerAuth::Roots(pki.roots()))
        .build()
        .unwrap()
}

fn get(agent: &ureq::Agent, url: &str) -> Result<Vec<u8>, ureq::Error> {
    agent.get(url).call()?.body_mut().read_to_vec()
}

fn get_text(agent: &ureq::Agent, url: &str) -> String {
    String::from_utf8(get(agent, url).unwrap()).unwrap()
}

/// The error of a request that must have failed in TLS.
fn tls_failure(result: Result<Vec<u8>, ureq::Error>) -> ureq::Error {
    let e = result.expect_err("the request should have failed");
    assert!(tls_error(&e).is_some(), "not a TLS error: {e:?}");
    e
}

/// The alert a TLS failure sent or received.
fn alert_of(e: &ureq::Error) -> Option<AlertDescription> {
    match tls_error(e)? {
        Error::LocalAlert { description, .. } | Error::RemoteAlert { description } => {
            Some(description)
        }
        _ => None,
    }
}

#[test]
fn custom_roots_fetch_a_file_byte_for_byte() {
    let (pki, files) = (Pki::new(), Files::new());
    let (_server, origin) = spawn(
        x509_server(&pki).build().unwrap(),
        StaticFiles::new(files.root()).unwrap(),
    );
    let agent = tls_http::agent(roots(&pki));
    assert_eq!(
        get(&agent, &format!("{origin}/file.bin")).unwrap(),
        Files::content()
    );
}

#[test]
fn pinned_sha1_and_sha256_fingerprints_fetch_a_file() {
    let (pki, files) = (Pki::new(), Files::new());
    let (_server, origin) = spawn(
        x509_server(&pki).build().unwrap(),
        StaticFiles::new(files.root()).unwrap(),
    );
    for algorithm in [FingerprintAlgorithm::Sha1, FingerprintAlgorithm::Sha256] {
        let pin = pki.server.fingerprint(algorithm);
        let config = tls_http::config()
            .server_auth(ServerAuth::Fingerprint(pin))
            .build()
            .unwrap();
        let agent = tls_http::agent(config);
        // The pin replaces the host-name check: `localhost` is not what we connect to here.
        let body = get(&agent, &format!("{origin}/file.bin")).unwrap();
        assert_eq!(body, Files::content(), "{algorithm:?}");
    }
}

#[test]
fn pin_mismatch_is_an_authentication_error() {
    let (pki, files) = (Pki::new(), Files::new());
    let (_server, origin) = spawn(
        x509_server(&pki).build().unwrap(),
        StaticFiles::new(files.root()).unwrap(),
    );
    let wrong = pki.other_host.fingerprint(FingerprintAlgorithm::Sha256);
    let config = tls_http::config()
        .server_auth(ServerAuth::Fingerprint(wrong.clone()))
        .build()
        .unwrap();
    let failure = tls_failure(get(&tls_http::agent(config), &format!("{origin}/file.bin")));
    match tls_error(&failure) {
        Some(Error::Authentication(AuthenticationError::FingerprintMismatch {
            expected,
            actual,
        })) => {
            assert_eq!(expected, wrong);
            assert_eq!(actual, pki.server.fingerprint(FingerprintAlgorithm::Sha256));
        }
        other => panic!("expected a fingerprint mismatch, got {other:?}"),
    }
}

#[test]
fn default_webpki_roots_refuse_a_private_ca() {
    let (pki, files) = (Pki::new(), Files::new());
    let (_server, origin) = spawn(
        x509_server(&pki).build().unwrap(),
        StaticFiles::new(files.root()).unwrap(),
    );
    let agent = tls_http::agent(tls_http::config().build().unwrap());
    let failure = tls_failure(get(&agent, &format!("{origin}/file.bin")));
    assert_eq!(
        alert_of(&failure),
        Some(AlertDescription::UnknownCa),
        "{failure:?}"
    );
}

#[test]
fn srp_fetches_a_file_and_names_the_user() {
    let files = Files::new();
    let (_server, origin) = spawn(srp_server(), StaticFiles::new(files.root()).unwrap());
    let agent = tls_http::agent(tls_http::config().srp(USER, PASSWORD).build().unwrap());
    assert_eq!(
        get(&agent, &format!("{origin}/file.bin")).unwrap(),
        Files::content()
    );

    let (_server, origin) = spawn(srp_server(), tls_site);
    let who = get_text(&agent, &format!("{origin}/whoami"));
    assert!(who.contains("user=alice"), "{who}");
}

fn psk_server() -> ServerConfig {
    let keys = tls::psk::MemoryPskStore::new();
    keys.insert(tls::psk::ExternalPsk::new("sensor-7", [0x5a; 32]).unwrap());
    ServerConfig::builder().psk_store(keys).build().unwrap()
}

/// ureq over a TLS 1.3 pre-shared key, configured like SRP: the file, and the identity the
/// server saw; a wrong key is refused with the server's decrypt_error.
#[test]
fn psk_fetches_a_file_and_names_the_identity() {
    let files = Files::new();
    let (_server, origin) = spawn(psk_server(), StaticFiles::new(files.root()).unwrap());
    let psk = |key: [u8; 32]| tls::psk::ExternalPsk::new("sensor-7", key).unwrap();
    let agent = tls_http::agent(tls_http::config().psk(psk([0x5a; 32])).build().unwrap());
    assert_eq!(
        get(&agent, &format!("{origin}/file.bin")).unwrap(),
        Files::content()
    );
    let (_server, origin) = spawn(psk_server(), tls_site);
    let who = get_text(&agent, &format!("{origin}/whoami"));
    assert!(who.contains("psk=sensor-7"), "{who}");
    let wrong = tls_http::agent(tls_http::config().psk(psk([1; 32])).build().unwrap());
    let failure = tls_failure(get(&wrong, &format!("{origin}/whoami")));
    assert_eq!(
        alert_of(&failure),
        Some(AlertDescription::DecryptError),
        "{failure:?}"
    );
}

#[test]
fn srp_wrong_password_is_bad_record_mac() {
    let (_server, origin) = spawn(srp_server(), tls_site);
    let config = tls_http::config().srp(USER, "wrong").build().unwrap();
    let failure = tls_failure(get(&tls_http::agent(config), &format!("{origin}/whoami")));
    assert_eq!(
        alert_of(&failure),
        Some(AlertDescription::BadRecordMac),
        "{failure:?}"
    );
}

#[test]
fn client_certificate_reaches_the_server_and_is_required() {
    let pki = Pki::new();
    let server = x509_server(&pki)
        .require_client_cert(pki.client_roots())
        .build()
        .unwrap();
    let (_server, origin) = spawn(server, tls_site);
    let with_cert = tls_http::config()
        .server_auth(ServerAuth::Roots(pki.roots()))
        .client_cert(pki.client.chain(), pki.client.key())
        .build()
        .unwrap();
    let who = get_text(&tls_http::agent(with_cert), &format!("{origin}/whoami"));
    let expected = pki
        .client
        .fingerprint(FingerprintAlgorithm::Sha256)
        .to_hex();
    assert!(who.contains(&format!("client={expected}")), "{who}");

    let failure = tls_failure(get(
        &tls_http::agent(roots(&pki)),
        &format!("{origin}/whoami"),
    ));
    assert_eq!(
        alert_of(&failure),
        Some(AlertDescription::CertificateRequired),
        "{failure:?}"
    );
}

#[test]
fn checker_vetoes_or_accepts_the_server() {
    let pki = Pki::new();
    let (_server, origin) = spawn(x509_server(&pki).build().unwrap(), tls_site);
    let url = format!("{origin}/whoami");

    let vetoing = tls_http::config()
        .server_auth(ServerAuth::Roots(pki.roots()))
        .checker(Checker::new().custom(|s| match s.srp_username() {
            Some(_) => Ok(()),
            None => Err("only SRP servers today".into()),
        }))
        .build()
        .unwrap();
    match tls_error(&tls_failure(get(&tls_http::agent(vetoing), &url))) {
        Some(Error::Authentication(AuthenticationError::Rejected(why))) => {
            assert_eq!(why, "only SRP servers today")
        }
        other => panic!("expected the Checker's veto, got {other:?}"),
    }

    let accepting = tls_http::config()
        .server_auth(ServerAuth::Roots(pki.roots()))
        .checker(
            Checker::new().x509_fingerprint(pki.server.fingerprint(FingerprintAlgorithm::Sha1)),
        )
        .build()
        .unwrap();
    assert!(get_text(&tls_http::agent(accepting), &url).starts_with("GET port="));
}

#[test]
fn alpn_http_1_1_is_offered() {
    let pki = Pki::new();
    let server = x509_server(&pki)
        .settings(tls::HandshakeSettings {
            alpn: vec!["h2".into(), "http/1.1".into()],
            ..Default::default()
        })
        .build()
        .unwrap();
    let (_server, origin) = spawn(server, tls_site);
    let who = get_text(&tls_http::agent(roots(&pki)), &format!("{origin}/whoami"));
    assert!(who.ends_with("alpn=http/1.1"), "{who}");
}

#[test]
fn redirects_are_followed() {
    let pki = Pki::new();
    let (_server, origin) = spawn(x509_server(&pki).build().unwrap(), tls_site);
    let agent = tls_http::agent(roots(&pki));
    let mut response = agent.get(format!("{origin}/redirect")).call().unwrap();
    assert_eq!(response.body_mut().read_to_string().unwrap(), "landed");
}

#[test]
fn a_one_mib_post_body_is_echoed_back() {
    let pki = Pki::new();
    let (_server, origin) = spawn(x509_server(&pki).build().unwrap(), tls_site);
    let agent = tls_http::agent(roots(&pki));
    let body: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 253) as u8).collect();
    let echoed = agent
        .post(format!("{origin}/echo"))
        .send(&body[..])
        .unwrap()
        .body_mut()
        .read_to_vec()
        .unwrap();
    assert_eq!(echoed.len(), body.len());
    assert!(echoed == body, "the echoed body differs");
}

#[test]
fn two_requests_reuse_one_pooled_connection() {
    let pki = Pki::new();
    let (_server, origin) = spawn(x509_server(&pki).build().unwrap(), tls_site);
    let agent = tls_http::agent(roots(&pki));
    let url = format!("{origin}/whoami");
    let (first, second) = (get_text(&agent, &url), get_text(&agent, &url));
    let port = |who: &str| who.split_whitespace().nth(1).unwrap().to_owned();
    assert_eq!(port(&first), port(&second), "{first} / {second}");
}

#[test]
fn new_connections_resume_the_agents_session() {
    let pki = Pki::new();
    let (_server, origin) = spawn(x509_server(&pki).build().unwrap(), tls_site);
    let agent = tls_http::agent(roots(&pki));
    let url = format!("{origin}/whoami");
    let who = |agent: &ureq::Agent| {
        let mut response = agent
            .get(&url)
            .header("Connection", "close")
            .call()
            .unwrap();
        response.body_mut().read_to_string().unwrap()
    };
    let (first, second) = (who(&agent), who(&agent));
    assert!(first.contains("resumed=false"), "{first}");
    assert!(second.contains("resumed=true"), "{second}");
}

#[test]
fn a_silent_server_times_out_as_a_ureq_timeout() {
    let pki = Pki::new();
    let (_server, origin) = spawn(x509_server(&pki).build().unwrap(), tls_site);
    let http = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_millis(300)))
        .build();
    let agent = tls_http::agent_with(http, roots(&pki));
    match get(&agent, &format!("{origin}/slow")) {
        Err(ureq::Error::Timeout(_)) => {}
        other => panic!("expected a timeout, got {other:?}"),
    }
}

/// An HTTP CONNECT proxy for one tunnel at a time; counts the tunnels it opened.
fn connect_proxy() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let tunnels = Arc::new(AtomicUsize::new(0));
    let counter = tunnels.clone();
    thread::spawn(move || {
        for client in listener.incoming() {
            let mut client = io::BufReader::new(client.unwrap());
            let mut line = String::new();
            client.read_line(&mut line).unwrap();
            let target = line.split_whitespace().nth(1).unwrap().to_owned();
            while line != "\r\n" {
                line.clear();
                client.read_line(&mut line).unwrap();
            }
            let upstream = TcpStream::connect(&target).unwrap();
            counter.fetch_add(1, Ordering::SeqCst);
            let mut client = client.into_inner();
            client
                .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .unwrap();
            let (mut up_read, mut client_write) =
                (upstream.try_clone().unwrap(), client.try_clone().unwrap());
            thread::spawn(move || io::copy(&mut up_read, &mut client_write));
            let mut upstream = upstream;
            thread::spawn(move || io::copy(&mut client, &mut upstream));
        }
    });
    (addr, tunnels)
}

#[test]
fn https_goes_through_an_http_connect_proxy() {
    let pki = Pki::new();
    let (_server, origin) = spawn(x509_server(&pki).build().unwrap(), tls_site);
    let (proxy, tunnels) = connect_proxy();
    let http = ureq::Agent::config_builder()
        .proxy(Some(ureq::Proxy::new(&format!("http://{proxy}")).unwrap()))
        .build();
    let agent = tls_http::agent_with(http, roots(&pki));
    let who = get_text(&agent, &format!("{origin}/whoami"));
    assert!(who.starts_with("GET port="), "{who}");
    assert_eq!(tunnels.load(Ordering::SeqCst), 1);
}

#[test]
fn plain_http_urls_bypass_tls() {
    let pki = Pki::new();
    let server = TlsServer::builder(x509_server(&pki).build().unwrap())
        .bind("127.0.0.1:0")
        .unwrap()
        .spawn_plain(plain_site);
    let agent = tls_http::agent(roots(&pki));
    let who = get_text(&agent, &format!("http://{}/whoami", server.addr));
    assert_eq!(who, "GET plain");
}

#[test]
fn json_bodies_round_trip() {
    let pki = Pki::new();
    let (_server, origin) = spawn(x509_server(&pki).build().unwrap(), tls_site);
    let agent = tls_http::agent(roots(&pki));
    let sent = serde_json::json!({"user": "alice", "tags": ["a", "b"], "n": 3});
    let back: serde_json::Value = agent
        .post(format!("{origin}/echo"))
        .send_json(&sent)
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    assert_eq!(back, sent);
}

#[test]
fn http_tls_connection_answers_whole_responses() {
    let pki = Pki::new();
    let (server, _) = spawn(x509_server(&pki).build().unwrap(), tls_site);
    let connection = HttpTlsConnection::new("127.0.0.1", server.addr.port(), roots(&pki));

    let missing = connection.request("GET", "/nowhere", &[], b"").unwrap();
    assert_eq!(
        (missing.status, missing.reason.as_str()),
        (404, "Not Found")
    );
    assert_eq!(missing.body, b"no such page");

    let posted = connection
        .request("POST", "/echo", &[("X-Test", "1")], b"some body")
        .unwrap();
    assert_eq!(posted.status, 200);
    assert_eq!(posted.header("content-length"), Some("9"));
    assert_eq!(posted.body, b"some body");

    // One host: a redirect is an answer, not followed.
    let redirect = connection.request("GET", "/redirect", &[], b"").unwrap();
    assert_eq!(redirect.status, 302);
    assert_eq!(redirect.header("Location"), Some("/landing"));

    let limited = HttpTlsConnection::new("127.0.0.1", server.addr.port(), roots(&pki))
        .body_limit(4)
        .request("POST", "/echo", &[], b"longer than four");
    assert!(
        matches!(limited, Err(ureq::Error::BodyExceedsLimit(4))),
        "{limited:?}"
    );
}
