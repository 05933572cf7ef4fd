//! Certificates by SNI name, with a default, on both routes of a server: checked by
//! fingerprint through our client, `openssl s_client -servername` and curl `--resolve`; strict
//! mode refuses unknown names with `unrecognized_name`; SRP-RSA signs with the name's chain.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::Command;

use tls::srp::MemoryVerifierDb;
use tls::{AlertDescription, ClientConfig, Error, FingerprintAlgorithm, ServerAuth, ServerConfig};
use tls_testkit::{connect, peer, rsa_identity_for, run, serve_once, Pki};

/// Serves `count` handshakes, each answering one request with the name the client asked for.
fn serve(config: ServerConfig, count: usize) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for _ in 0..count {
            let Ok((tcp, _)) = listener.accept() else {
                return;
            };
            tcp.set_read_timeout(Some(std::time::Duration::from_secs(10)))
                .unwrap();
            let Ok(mut tls) = config.accept(tcp) else {
                continue;
            };
            let mut request = [0u8; 512];
            if matches!(tls.read(&mut request), Ok(n) if n > 0) {
                let name = tls.session().server_name().unwrap_or("-").to_owned();
                let _ = write!(
                    tls,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{name}",
                    name.len()
                );
            }
            let _ = tls.close();
        }
    });
    addr
}

fn pinned(pin: tls::Fingerprint) -> ClientConfig {
    ClientConfig::builder()
        .server_auth(ServerAuth::Fingerprint(pin))
        .build()
        .unwrap()
}

#[test]
fn each_name_gets_its_certificate_and_others_the_default() {
    let pki = Pki::new();
    let sha256 = |id: &tls_testkit::Identity| id.fingerprint(FingerprintAlgorithm::Sha256);
    let builder = || {
        ServerConfig::builder()
            .cert_chain(pki.self_signed.chain(), pki.self_signed.key())
            .sni_cert(
                "Other.Example",
                pki.other_host.chain(),
                pki.other_host.key(),
            )
    };
    let lenient = builder().build().unwrap();
    let strict = builder().strict_sni(true).build().unwrap();
    let addr = serve(lenient, 6);
    for (host, expected) in [
        ("other.example", &pki.other_host),
        ("localhost", &pki.self_signed),
        ("unknown.example", &pki.self_signed),
        ("127.0.0.1", &pki.self_signed),
    ] {
        let tls = pinned(sha256(expected)).connect(host, connect(addr));
        assert!(tls.is_ok(), "{host}: {tls:?}");
    }
    // The other certificate's pin fails for a name that gets the default.
    let e = pinned(sha256(&pki.other_host))
        .connect("localhost", connect(addr))
        .unwrap_err();
    assert!(matches!(e, Error::Authentication(_)), "{e:?}");

    let addr = serve(strict, 3);
    assert!(pinned(sha256(&pki.other_host))
        .connect("other.example", connect(addr))
        .is_ok());
    assert!(pinned(sha256(&pki.self_signed))
        .connect("localhost", connect(addr))
        .is_ok());
    let e = pinned(sha256(&pki.self_signed))
        .connect("unknown.example", connect(addr))
        .unwrap_err();
    assert_eq!(e.alert(), Some(AlertDescription::UnrecognizedName), "{e:?}");

    let nameless = ServerConfig::builder()
        .sni_cert(
            "other.example",
            pki.other_host.chain(),
            pki.other_host.key(),
        )
        .build();
    assert!(
        matches!(nameless, Err(Error::Config(_))),
        "no default certificate"
    );
    let bad_name = builder()
        .sni_cert("not a name", pki.server.chain(), pki.server.key())
        .build();
    assert!(matches!(bad_name, Err(Error::Config(_))));
}

#[test]
fn openssl_and_curl_see_the_certificate_for_the_name_they_ask() {
    let pki = Pki::new();
    let config = ServerConfig::builder()
        .cert_chain(pki.self_signed.chain(), pki.self_signed.key())
        .sni_cert(
            "other.example",
            pki.other_host.chain(),
            pki.other_host.key(),
        )
        .build()
        .unwrap();
    if let Some(openssl) = peer("openssl") {
        let addr = serve(config.clone(), 2);
        for (name, subject) in [
            ("other.example", "CN = other.example"),
            ("unknown.example", "CN = localhost"),
        ] {
            let out = run(
                Command::new(&openssl).args([
                    "s_client",
                    "-connect",
                    &addr.to_string(),
                    "-servername",
                    name,
                ]),
                b"",
            );
            let text = String::from_utf8_lossy(&out.stdout);
            let line = text
                .lines()
                .find(|l| l.starts_with("subject="))
                .unwrap_or_default();
            assert!(line.contains(subject), "{name}: {line:?}");
        }
    }
    let Some(curl) = peer("curl") else { return };
    let addr = serve(config, 2);
    for (pin, should_pass) in [
        (pki.other_host.curl_pin(), true),
        (pki.self_signed.curl_pin(), false),
    ] {
        let out = run(
            Command::new(&curl)
                .args(["--silent", "--show-error", "--insecure", "--max-time", "10"])
                .args(["--pinnedpubkey", &pin, "--resolve"])
                .arg(format!("other.example:{}:127.0.0.1", addr.port()))
                .arg(format!("https://other.example:{}/", addr.port())),
            b"",
        );
        match should_pass {
            true => assert_eq!(String::from_utf8_lossy(&out.stdout), "other.example"),
            false => assert_eq!(out.status.code(), Some(90)),
        }
    }
}

/// On a one-port server, SRP-RSA signs with the chain for the name asked: a client pinned to
/// that name's certificate logs in, over SRP, by SNI.
#[test]
fn srp_rsa_signs_with_the_chain_for_the_name() {
    let dir = tempfile::tempdir().unwrap();
    let (Some((cert, key, default_pin)), Some((named_cert, named_key, named_pin))) = (
        rsa_identity_for(dir.path(), "localhost"),
        rsa_identity_for(dir.path(), "srp.example"),
    ) else {
        return;
    };
    let users = MemoryVerifierDb::new();
    users.add("alice", "pw", 2048).unwrap();
    let config = ServerConfig::builder()
        .cert_chain(
            tls::CertificateChain::from_pem_file(&cert).unwrap(),
            tls::PrivateKey::from_pem_file(&key).unwrap(),
        )
        .sni_cert(
            "srp.example",
            tls::CertificateChain::from_pem_file(&named_cert).unwrap(),
            tls::PrivateKey::from_pem_file(&named_key).unwrap(),
        )
        .verifier_db(users)
        .build()
        .unwrap();
    let srp_rsa = |pin: tls::Fingerprint| {
        ClientConfig::builder()
            .srp("alice", "pw")
            .server_auth(ServerAuth::Fingerprint(pin))
            .build()
            .unwrap()
    };
    for (host, pin, ok) in [
        ("srp.example", named_pin.clone(), true),
        ("localhost", default_pin, true),
        ("localhost", named_pin, false),
    ] {
        let server = config.clone();
        let thread = serve_once(move |tcp| server.accept(tcp).map(|t| t.session().clone()));
        let session = srp_rsa(pin).connect(host, connect(thread.addr));
        let served = thread.join();
        assert_eq!(session.is_ok(), ok, "{host}: {session:?}");
        if ok {
            let served = served.unwrap();
            assert_eq!(
                served.cipher_suite(),
                "TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA"
            );
            assert_eq!(served.server_name(), Some(host));
        }
    }
}
