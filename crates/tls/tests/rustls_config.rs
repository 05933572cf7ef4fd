//! Our configurations exported to rustls (`to_rustls`), used by tokio-rustls as a reqwest or
//! hyper-rustls user would: pins and a Checker's pin work without our stream, against our
//! server and against nginx; what rustls cannot carry is refused.

use std::sync::Arc;

use rustls_pki_types::ServerName;
use tls::{
    AuthenticationError, Checker, ClientConfig, Error, FingerprintAlgorithm, ServerAuth,
    ServerConfig,
};
use tls_testkit::{nginx, Pki};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// GET / with tokio-rustls under `config`: the status line, or rustls's error.
async fn rustls_get(config: Arc<rustls::ClientConfig>, port: u16) -> std::io::Result<String> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
    let name = ServerName::try_from("localhost").unwrap();
    let mut tls = TlsConnector::from(config).connect(name, tcp).await?;
    tls.write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .await?;
    let mut response = Vec::new();
    let _ = tls.read_to_end(&mut response).await;
    let response = String::from_utf8_lossy(&response);
    Ok(response.lines().next().unwrap_or_default().to_owned())
}

/// Our tokio server answering one connection with a fixed HTTP response.
async fn our_server(config: ServerConfig) -> (u16, tokio::task::JoinHandle<Result<(), Error>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.map_err(Error::Io)?;
        let mut tls = tls::tokio::accept(&config, tcp).await?;
        let mut head = [0u8; 64];
        let _ = tls.read(&mut head).await?;
        tls.write_all(b"HTTP/1.0 200 OK\r\n\r\nours").await?;
        tls.shutdown().await?;
        Ok(())
    });
    (port, task)
}

/// tokio-rustls's error, turned back into ours: the pin mismatch in our words.
fn assert_pin_refused(e: std::io::Error) {
    let ours = Error::from(e);
    assert!(
        matches!(ours, Error::Authentication(_)) && ours.to_string().contains("does not match"),
        "{ours:?}"
    );
}

fn pinned(pin: tls::Fingerprint) -> Arc<rustls::ClientConfig> {
    ClientConfig::builder()
        .server_auth(ServerAuth::Fingerprint(pin))
        .build()
        .unwrap()
        .to_rustls()
        .unwrap()
}

#[tokio::test]
async fn tokio_rustls_with_our_pin_against_our_server_and_nginx() {
    let pki = Pki::new();
    let server = ServerConfig::builder()
        .cert_chain(pki.self_signed.chain(), pki.self_signed.key())
        .build()
        .unwrap();
    for algorithm in [FingerprintAlgorithm::Sha1, FingerprintAlgorithm::Sha256] {
        let (port, served) = our_server(server.clone()).await;
        let status = rustls_get(pinned(pki.self_signed.fingerprint(algorithm)), port)
            .await
            .unwrap();
        assert_eq!(status, "HTTP/1.0 200 OK");
        served.await.unwrap().unwrap();
    }
    // A wrong pin: refused by the verifier, with our error's words inside rustls's.
    let (port, served) = our_server(server).await;
    let wrong = pki.server.fingerprint(FingerprintAlgorithm::Sha256);
    let e = rustls_get(pinned(wrong.clone()), port).await.unwrap_err();
    assert_pin_refused(e);
    assert!(served.await.unwrap().is_err(), "the server saw a refusal");

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "from nginx").unwrap();
    let Some((_nginx, port)) = nginx(&pki, dir.path(), dir.path()) else {
        return;
    };
    let pin = pki.self_signed.fingerprint(FingerprintAlgorithm::Sha256);
    assert_eq!(
        rustls_get(pinned(pin), port).await.unwrap(),
        "HTTP/1.1 200 OK"
    );
    let e = rustls_get(pinned(wrong), port).await.unwrap_err();
    assert_pin_refused(e);
    // Custom roots carry over too: the self-signed certificate is its own root here.
    let roots = ClientConfig::builder()
        .server_auth(ServerAuth::Roots(pki.roots()))
        .build()
        .unwrap()
        .to_rustls()
        .unwrap();
    assert!(
        rustls_get(roots, port).await.is_err(),
        "nginx's leaf is not under our CA"
    );
}

/// reqwest (0.13, on rustls 0.23) with our exported configuration.
fn reqwest_client(config: Arc<rustls::ClientConfig>) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_backend_preconfigured((*config).clone())
        .no_proxy()
        .build()
        .unwrap()
}

/// Issue 28's case: a pin mismatch inside reqwest arrives as a bare `rustls::Error` deep in
/// reqwest's chain (reqwest → hyper-util → io::Error → rustls::Error); `Error::find` gives it
/// back as our `Authentication` error naming both fingerprints.
#[tokio::test]
async fn reqwest_with_our_pin_and_a_mismatch_found_in_its_error_chain() {
    let pki = Pki::new();
    let server = ServerConfig::builder()
        .cert_chain(pki.self_signed.chain(), pki.self_signed.key())
        .build()
        .unwrap();
    let right = pki.self_signed.fingerprint(FingerprintAlgorithm::Sha256);
    let (port, served) = our_server(server.clone()).await;
    let response = reqwest_client(pinned(right.clone()))
        .get(format!("https://localhost:{port}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "ours");
    served.await.unwrap().unwrap();

    let (port, served) = our_server(server).await;
    let wrong = pki.server.fingerprint(FingerprintAlgorithm::Sha256);
    let e = reqwest_client(pinned(wrong.clone()))
        .get(format!("https://localhost:{port}/"))
        .send()
        .await
        .unwrap_err();
    match Error::find(&e) {
        Some(Error::Authentication(AuthenticationError::FingerprintMismatch {
            expected,
            actual,
        })) => {
            assert_eq!(expected, wrong);
            assert_eq!(actual, right);
        }
        other => panic!("{other:?} found in {e:?}"),
    }
    let words = Error::find(&e).unwrap().to_string();
    assert!(
        words.contains(&wrong.to_string()) && words.contains(&right.to_string()),
        "{words}"
    );
    assert!(served.await.unwrap().is_err(), "the server saw a refusal");
}

/// A Checker's certificate pin runs inside the exported verifier; checks of the whole session
/// and SRP cannot be exported and say so.
#[tokio::test]
async fn checkers_pins_run_in_the_verifier_and_the_rest_is_refused() {
    let pki = Pki::new();
    let server = ServerConfig::builder()
        .cert_chain(pki.server.chain(), pki.server.key())
        .build()
        .unwrap();
    let with_checker = |fingerprint| {
        ClientConfig::builder()
            .server_auth(ServerAuth::Roots(pki.roots()))
            .checker(Checker::new().x509_fingerprint(fingerprint))
            .build()
            .unwrap()
            .to_rustls()
            .unwrap()
    };
    let (port, served) = our_server(server.clone()).await;
    let right = pki.server.fingerprint(FingerprintAlgorithm::Sha1);
    assert_eq!(
        rustls_get(with_checker(right), port).await.unwrap(),
        "HTTP/1.0 200 OK"
    );
    served.await.unwrap().unwrap();
    let (port, _served) = our_server(server).await;
    let other = pki.other_host.fingerprint(FingerprintAlgorithm::Sha1);
    let e = rustls_get(with_checker(other), port).await.unwrap_err();
    assert_pin_refused(e);

    let custom = ClientConfig::builder()
        .checker(Checker::new().custom(|_| Ok(())))
        .build()
        .unwrap();
    assert!(matches!(custom.to_rustls(), Err(Error::Config(_))));
    let srp = ClientConfig::builder().srp("alice", "pw").build().unwrap();
    assert!(matches!(srp.to_rustls(), Err(Error::Config(_))));
}

/// The server side: a tokio-rustls acceptor from our config, with a client-certificate pin
/// from the Checker, against our tokio client with and without the pinned certificate.
#[tokio::test]
async fn tokio_rustls_acceptor_from_our_server_config() {
    let pki = Pki::new();
    let exported = ServerConfig::builder()
        .cert_chain(pki.server.chain(), pki.server.key())
        .require_client_cert(pki.client_roots())
        .checker(
            Checker::new().x509_fingerprint(pki.client.fingerprint(FingerprintAlgorithm::Sha256)),
        )
        .build()
        .unwrap()
        .to_rustls()
        .unwrap();
    let acceptor = TlsAcceptor::from(exported);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let served = tokio::spawn(async move {
        let mut results = Vec::new();
        for _ in 0..2 {
            let (tcp, _) = listener.accept().await.unwrap();
            results.push(match acceptor.accept(tcp).await {
                Ok(mut tls) => {
                    let _ = tls.write_all(b"welcome").await;
                    let _ = tls.shutdown().await;
                    Ok(())
                }
                Err(e) => Err(e.to_string()),
            });
        }
        results
    });
    for (identity, expect_ok) in [(&pki.client, true), (&pki.stranger, false)] {
        let client = ClientConfig::builder()
            .server_auth(ServerAuth::Roots(pki.roots()))
            .client_cert(identity.chain(), identity.key())
            .build()
            .unwrap();
        let tcp = TcpStream::connect(addr).await.unwrap();
        let outcome = async {
            let mut tls = tls::tokio::connect(&client, "localhost", tcp).await?;
            let mut got = Vec::new();
            tls.read_to_end(&mut got).await?;
            Ok::<_, Error>(got)
        }
        .await;
        assert_eq!(outcome.is_ok(), expect_ok, "{outcome:?}");
    }
    let results = served.await.unwrap();
    assert!(results[0].is_ok(), "{results:?}");
    assert!(results[1].is_err(), "{results:?}");
}
