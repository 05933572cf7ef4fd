//! hyper-util's legacy `Client` over our connector: our one-port server in every mode, nginx
//! (HTTP/2 by ALPN), tlslite-ng's SRP server; failures reported in our words through hyper's.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::{StatusCode, Version};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tls::srp::MemoryVerifierDb;
use tls::{AlertDescription, AuthenticationError, ClientConfig, Error, FingerprintAlgorithm};
use tls::{Checker, ServerAuth, ServerConfig, TrustRoots};
use tls_http::hyper_client::{config, tls_error, HttpsConnector};
use tls_server::{AsyncTlsServer, RunningServer, StaticFiles};
use tls_testkit::{nginx_with, tlslite_srp_server, Pki};

const USER: &str = "alice";
const PASSWORD: &str = "correct horse";

type HttpsClient = Client<HttpsConnector, Empty<Bytes>>;

fn client(config: ClientConfig) -> HttpsClient {
    Client::builder(TokioExecutor::new()).build(HttpsConnector::new(config))
}

/// The body of a GET, with the protocol version that carried it.
async fn get(client: &HttpsClient, url: &str) -> Result<(Version, Vec<u8>), Error> {
    let response = client
        .get(url.parse().unwrap())
        .await
        .map_err(|e| match tls_error(&e) {
            Some(found) => found,
            None => panic!("not a TLS error: {e:?}"),
        })?;
    assert_eq!(response.status(), StatusCode::OK);
    let version = response.version();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Ok((version, body.to_vec()))
}

/// A folder with a 1 KiB file, served by our event-driven server on one port (certificate and
/// verifier database), counting handshakes.
struct Site {
    dir: tempfile::TempDir,
    _server: RunningServer,
    origin: String,
    handshakes: Arc<AtomicUsize>,
}

fn content() -> Vec<u8> {
    (0..1024u32).map(|i| (i * 7 % 251) as u8).collect()
}

fn site(config: ServerConfig) -> Site {
    site_with(config, Duration::from_secs(20))
}

/// The same, each request head due within `head_timeout` (an HTTP/2 connection idle for nine
/// tenths of it gets GOAWAY).
fn site_with(config: ServerConfig, head_timeout: Duration) -> Site {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file.bin"), content()).unwrap();
    let handshakes = Arc::new(AtomicUsize::new(0));
    let counter = handshakes.clone();
    let server = AsyncTlsServer::builder(config)
        .request_head_timeout(head_timeout)
        .handshake_hook(move |_, _| {
            counter.fetch_add(1, Ordering::Relaxed);
            true
        })
        .bind_async("127.0.0.1:0")
        .unwrap()
        .spawn(StaticFiles::new(dir.path()).unwrap());
    let origin = format!("https://localhost:{}", server.addr.port());
    Site {
        dir,
        _server: server,
        origin,
        handshakes,
    }
}

/// A client trusting `pki`'s roots.
fn roots_client(pki: &Pki) -> HttpsClient {
    client(
        config()
            .server_auth(ServerAuth::Roots(pki.roots()))
            .build()
            .unwrap(),
    )
}

/// Our server with `pki`'s certificate, offering h2 then HTTP/1.1.
fn h2_site(pki: &Pki, head_timeout: Duration) -> Site {
    let config = ServerConfig::builder()
        .cert_chain(pki.server.chain(), pki.server.key())
        .settings(tls::HandshakeSettings {
            alpn: vec!["h2".into(), "http/1.1".into()],
            ..Default::default()
        })
        .build()
        .unwrap();
    site_with(config, head_timeout)
}

fn one_port(pki: &Pki) -> tls::ServerConfigBuilder {
    let db = MemoryVerifierDb::new();
    db.add(USER, PASSWORD, 2048).unwrap();
    ServerConfig::builder()
        .cert_chain(pki.server.chain(), pki.server.key())
        .verifier_db(db)
        .settings(tls::HandshakeSettings {
            alpn: vec!["http/1.1".into()],
            ..Default::default()
        })
}

#[tokio::test]
async fn our_one_port_server_in_every_mode_with_pooling() {
    let pki = Pki::new();
    let site = site(one_port(&pki).build().unwrap());
    let url = format!("{}/file.bin", site.origin);
    let pin = pki.server.fingerprint(FingerprintAlgorithm::Sha256);
    let sha1 = pki.server.fingerprint(FingerprintAlgorithm::Sha1);
    let modes = [
        config().server_auth(ServerAuth::Roots(pki.roots())),
        config().server_auth(ServerAuth::Fingerprint(pin.clone())),
        config().server_auth(ServerAuth::Fingerprint(sha1)),
        config().srp(USER, PASSWORD),
        config()
            .server_auth(ServerAuth::Roots(pki.roots()))
            .checker(Checker::new().x509_fingerprint(pin)),
    ];
    for (i, mode) in modes.into_iter().enumerate() {
        let before = site.handshakes.load(Ordering::Relaxed);
        let client = client(mode.build().unwrap());
        for _ in 0..3 {
            let (version, body) = get(&client, &url).await.unwrap();
            assert_eq!((version, body), (Version::HTTP_11, content()), "mode {i}");
        }
        // The pool kept the connection: three requests, one handshake.
        assert_eq!(
            site.handshakes.load(Ordering::Relaxed) - before,
            1,
            "mode {i}"
        );
    }

    let wrong_pin = pki.self_signed.fingerprint(FingerprintAlgorithm::Sha256);
    let e = get(
        &client(
            config()
                .server_auth(ServerAuth::Fingerprint(wrong_pin))
                .build()
                .unwrap(),
        ),
        &url,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Authentication(AuthenticationError::FingerprintMismatch { .. })
        ),
        "{e:?}"
    );
    let e = get(&client(config().srp(USER, "wrong").build().unwrap()), &url)
        .await
        .unwrap_err();
    assert_eq!(e.alert(), Some(AlertDescription::BadRecordMac), "{e:?}");
}

#[tokio::test]
async fn client_certificates_and_plain_http_refused() {
    let pki = Pki::new();
    let site = site(
        ServerConfig::builder()
            .cert_chain(pki.server.chain(), pki.server.key())
            .require_client_cert(pki.client_roots())
            .build()
            .unwrap(),
    );
    let url = format!("{}/file.bin", site.origin);
    let with_cert = config()
        .server_auth(ServerAuth::Roots(pki.roots()))
        .client_cert(pki.client.chain(), pki.client.key())
        .build()
        .unwrap();
    assert_eq!(get(&client(with_cert), &url).await.unwrap().1, content());
    let without = config()
        .server_auth(ServerAuth::Roots(pki.roots()))
        .build()
        .unwrap();
    assert!(get(&client(without.clone()), &url).await.is_err());

    // No plaintext: an http:// URI is refused before anything is sent.
    let plain = site.origin.replace("https://", "http://");
    let e = client(without)
        .get(format!("{plain}/file.bin").parse().unwrap())
        .await
        .unwrap_err();
    assert!(format!("{e:?}").contains("only https://"), "{e:?}");
    // One handshake completed: the client with its certificate (the one without was refused).
    assert_eq!(site.handshakes.load(Ordering::Relaxed), 1);
}

/// A cached file changed between two requests on one HTTP/2 connection: the second gets the
/// new content. The server looks at a cached file once per read from its client (an HTTP/2
/// client sends many requests in one read), so what it saw must not outlive that read.
#[tokio::test]
async fn a_file_changed_between_two_requests_on_one_http2_connection_is_served_new() {
    let pki = Pki::new();
    let site = h2_site(&pki, Duration::from_secs(20));
    // Files are cached once their last change is 2 s old.
    std::thread::sleep(Duration::from_millis(2200));
    let (client, url) = (roots_client(&pki), format!("{}/file.bin", site.origin));
    // Read from disk and cached, then served from the cache.
    for _ in 0..2 {
        assert_eq!(
            get(&client, &url).await.unwrap(),
            (Version::HTTP_2, content())
        );
    }
    // The same length, other bytes: only the times and the content tell.
    let changed: Vec<u8> = content().iter().map(|b| !b).collect();
    std::fs::write(site.dir.path().join("file.bin"), &changed).unwrap();
    let (version, body) = get(&client, &url).await.unwrap();
    assert_eq!(version, Version::HTTP_2);
    assert!(
        body == changed,
        "the file as it was before the change was served"
    );
    assert_eq!(site.handshakes.load(Ordering::Relaxed), 1, "one connection");
}

/// A connection kept busy is not closed as idle: a request every 150 ms for 2.4 s over one
/// HTTP/2 connection, to a server that sends GOAWAY after 0.9 s without one.
#[tokio::test]
async fn a_busy_http2_connection_outlives_the_idle_limit() {
    let pki = Pki::new();
    let site = h2_site(&pki, Duration::from_secs(1));
    let (client, url) = (roots_client(&pki), format!("{}/file.bin", site.origin));
    for _ in 0..16 {
        assert_eq!(get(&client, &url).await.unwrap().0, Version::HTTP_2);
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    assert_eq!(
        site.handshakes.load(Ordering::Relaxed),
        1,
        "the connection was closed while in use"
    );
}

/// A slow client downloading a 1 MiB file over HTTP/2 (a 64 KiB window, 16 KiB taken every
/// 150 ms: about 9.6 s) from a server whose idle GOAWAY comes after 1.8 s, and which drops a
/// connection 5 s after its GOAWAY: the file arrives whole. Handed to h2 in one piece, the
/// response stopped counting as in progress at once and the download was cut at about 6.8 s.
/// Paced, it counts until h2 holds at most about 464 KiB of it (4.4 s at this speed): 2.4 s
/// to spare either way.
#[tokio::test]
async fn a_slow_http2_download_is_not_cut_as_idle() {
    let pki = Pki::new();
    let site = h2_site(&pki, Duration::from_secs(2));
    let big: Vec<u8> = (0..1u32 << 20).map(|i| (i % 251) as u8).collect();
    std::fs::write(site.dir.path().join("big.bin"), &big).unwrap();
    let config = config()
        .server_auth(ServerAuth::Roots(pki.roots()))
        .build()
        .unwrap();
    let slow: HttpsClient = Client::builder(TokioExecutor::new())
        .http2_initial_stream_window_size(65_535)
        .http2_initial_connection_window_size(65_535)
        .build(HttpsConnector::new(config));
    let url = format!("{}/big.bin", site.origin);
    let response = slow.get(url.parse().unwrap()).await.unwrap();
    assert_eq!(response.version(), Version::HTTP_2);
    let mut body = response.into_body();
    let (mut got, mut unpaced) = (Vec::new(), 0);
    while let Some(frame) = body.frame().await {
        let frame = frame.unwrap_or_else(|e| panic!("cut after {} bytes: {e:?}", got.len()));
        if let Ok(data) = frame.into_data() {
            got.extend_from_slice(&data);
            unpaced += data.len();
            while unpaced >= 16 * 1024 {
                unpaced -= 16 * 1024;
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
        }
    }
    assert!(got == big, "{} bytes of {}", got.len(), big.len());
}

#[tokio::test]
async fn nginx_over_http2_with_a_pin_and_with_roots() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file.bin"), content()).unwrap();
    let Some((_nginx, port)) = nginx_with(&pki, dir.path(), dir.path(), "http2") else {
        return;
    };
    let url = format!("https://127.0.0.1:{port}/file.bin");
    let pin = pki.self_signed.fingerprint(FingerprintAlgorithm::Sha256);
    let roots = TrustRoots::from_pem_file(pki.path("self-signed.pem")).unwrap();
    for auth in [ServerAuth::Fingerprint(pin), ServerAuth::Roots(roots)] {
        let client = client(config().server_auth(auth).build().unwrap());
        for _ in 0..2 {
            assert_eq!(
                get(&client, &url).await.unwrap(),
                (Version::HTTP_2, content())
            );
        }
    }
    // Offering only http/1.1 gets HTTP/1.1 from the same server.
    let h1 = tls_http::config()
        .server_auth(ServerAuth::Fingerprint(
            pki.self_signed.fingerprint(FingerprintAlgorithm::Sha256),
        ))
        .build()
        .unwrap();
    assert_eq!(get(&client(h1), &url).await.unwrap().0, Version::HTTP_11);
}

#[tokio::test]
async fn tlslite_ng_srp_https_server() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hello.txt"), "hello from tlslite-ng\n").unwrap();
    let Some((_server, port)) = tlslite_srp_server(dir.path(), USER, PASSWORD, None) else {
        return;
    };
    let url = format!("https://localhost:{port}/hello.txt");
    let srp = client(tls_http::config().srp(USER, PASSWORD).build().unwrap());
    assert_eq!(
        get(&srp, &url).await.unwrap().1,
        b"hello from tlslite-ng\n".to_vec()
    );
    let wrong = client(tls_http::config().srp(USER, "wrong").build().unwrap());
    let e = get(&wrong, &url).await.unwrap_err();
    assert!(e.alert().is_some(), "{e:?}");
}
