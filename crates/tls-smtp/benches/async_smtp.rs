//! Async SMTP: messages per second on one connection, our `AsyncSmtpConnection` against
//! lettre's own tokio connection with rustls (its config, trusting the same root), to the same
//! server (the tests' scripted SMTP server on `TlsServer`, ECDSA P-256, TLS 1.3), in the same
//! run, alternating so drift hits both alike. Both clients use STARTTLS, log in with AUTH
//! PLAIN, and get a socket with `TCP_NODELAY` (ours sets it; lettre's is handed one): with
//! Nagle on, lettre's separate write of the final `.` waits for the server's delayed ACK,
//! which would measure the kernel, not the clients. lettre as shipped (`connect_tokio1`, no
//! `TCP_NODELAY`) is reported on its own line.
//!
//! `cargo bench -p tls-smtp --features tokio --bench async_smtp` — `BENCH_MESSAGES` (default
//! 1000) messages per run and client, `BENCH_RUNS` (default 3) runs whose median is reported,
//! `BENCH_BYTES` (default 4096) the message size. Without `--bench` (as `cargo test
//! --all-targets` runs it) it is a smoke run of 50 messages. It runs itself on one CPU (see
//! `tls_testkit::bench::ran_on_one_cpu`).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Mechanism;
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use tls_smtp::{AsyncSmtpTls, Credentials, Security};
use tls_testkit::bench::{env_or, median};
use tls_testkit::Pki;

use common::{envelope, mailer};
use tls_testkit::scripted::smtp::{Options, SmtpServer, PASSWORD, USER};
use tls_testkit::scripted::{rooted as roots, x509_server as cert_server};

/// A message of about `size` bytes: headers, then 76-character lines.
fn message(size: usize) -> Vec<u8> {
    let mut m = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: bench\r\n\r\n".to_vec();
    while m.len() < size {
        m.extend_from_slice(&[b'x'; 76]);
        m.extend_from_slice(b"\r\n");
    }
    m
}

fn lettre_tls(pki: &Pki) -> TlsParameters {
    TlsParameters::builder("127.0.0.1".into())
        .add_root_certificate(Certificate::from_pem(pki.root_pem.as_bytes()).unwrap())
        .build_rustls()
        .unwrap()
}

async fn lettre_login(conn: &mut AsyncSmtpConnection) {
    let credentials = Credentials::new(USER.into(), PASSWORD.into());
    conn.auth(&[Mechanism::Plain], &credentials).await.unwrap();
}

/// lettre over a socket we connected, with `TCP_NODELAY`, then its own STARTTLS.
async fn lettre_connect(pki: &Pki, port: u16) -> AsyncSmtpConnection {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    tcp.set_nodelay(true).unwrap();
    let hello = ClientId::default();
    let mut conn = AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello)
        .await
        .unwrap();
    conn.starttls(lettre_tls(pki), &hello).await.unwrap();
    lettre_login(&mut conn).await;
    conn
}

/// lettre as shipped: its own socket (no `TCP_NODELAY`), implicit TLS.
async fn lettre_as_shipped(pki: &Pki, port: u16) -> AsyncSmtpConnection {
    let mut conn = AsyncSmtpConnection::connect_tokio1(
        ("127.0.0.1", port),
        Some(Duration::from_secs(30)),
        &ClientId::default(),
        Some(lettre_tls(pki)),
        None,
    )
    .await
    .unwrap();
    lettre_login(&mut conn).await;
    conn
}

async fn time_lettre(conn: &mut AsyncSmtpConnection, to: &Envelope, body: &[u8], n: u64) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        assert!(conn.send(to, body).await.unwrap().is_positive());
    }
    n as f64 / start.elapsed().as_secs_f64()
}

async fn time_ours(mailer: &AsyncSmtpTls, to: &Envelope, body: &[u8], n: u64) -> f64 {
    let mut conn = mailer.connect().await.unwrap();
    let start = Instant::now();
    for _ in 0..n {
        assert!(conn.send(to, body).await.unwrap().response.is_positive());
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    conn.quit().await.unwrap();
    rate
}

fn main() {
    if tls_testkit::bench::ran_on_one_cpu() {
        return;
    }
    let smoke = !std::env::args().any(|a| a == "--bench");
    let n = if smoke {
        50
    } else {
        env_or("BENCH_MESSAGES", 1000)
    };
    let runs = if smoke { 1 } else { env_or("BENCH_RUNS", 3) };
    let body = message(env_or("BENCH_BYTES", 4096) as usize);
    let to = envelope("a@example.org", &["b@example.org"]);

    let pki = Pki::new();
    let server = SmtpServer::starttls(cert_server(&pki), Options::default());
    let implicit = SmtpServer::implicit(cert_server(&pki), Options::default());
    let ours = AsyncSmtpTls::from(mailer(roots(&pki), server.port(), Security::StartTls));
    let rt = tls_testkit::runtime();

    let (mut ours_rates, mut lettre_rates, mut shipped_rates) = (vec![], vec![], vec![]);
    rt.block_on(async {
        for run in 0..runs {
            let mut lettre = lettre_connect(&pki, server.port()).await;
            let mut measure_lettre = async || {
                let rate = time_lettre(&mut lettre, &to, &body, n).await;
                lettre_rates.push(rate);
            };
            if run % 2 == 0 {
                ours_rates.push(time_ours(&ours, &to, &body, n).await);
                measure_lettre().await;
            } else {
                measure_lettre().await;
                ours_rates.push(time_ours(&ours, &to, &body, n).await);
            }
            lettre.quit().await.unwrap();
            let mut shipped = lettre_as_shipped(&pki, implicit.port()).await;
            shipped_rates.push(time_lettre(&mut shipped, &to, &body, n.min(200)).await);
            shipped.quit().await.unwrap();
        }
    });
    let stored = server.received().messages;
    assert_eq!(stored.len() as u64, 2 * n * runs, "every message stored");
    // lettre ends DATA with CRLF . CRLF after the body, so a body ending in CRLF arrives with
    // an extra empty line; ours arrive byte for byte.
    let lettre_form = [&body[..], b"\r\n"].concat();
    let exact = stored.iter().filter(|m| m.data == body).count() as u64;
    assert!(stored
        .iter()
        .all(|m| m.data == body || m.data == lettre_form));
    assert_eq!(exact, n * runs, "ours stored byte for byte");

    let (ours, lettre) = (median(ours_rates), median(lettre_rates));
    println!(
        "async SMTP, {n} messages of {} bytes on one connection, median of {runs}:",
        body.len()
    );
    println!("  ours (AsyncSmtpTls)              {ours:9.0} messages/s");
    println!("  lettre tokio + rustls, nodelay   {lettre:9.0} messages/s");
    println!("  ratio ours/lettre                {:9.3}", ours / lettre);
    println!(
        "  lettre as shipped (no nodelay)   {:9.0} messages/s",
        median(shipped_rates)
    );
}
