//! The tokio driver: our tokio client against our tokio server in every mode, and each against
//! the blocking driver, over loopback TCP.

use std::io::{BufRead, Write};
use std::time::Duration;

use tls::srp::MemoryVerifierDb;
use tls::{
    AlertDescription, Checker, ClientConfig, Error, FingerprintAlgorithm, HandshakeSettings,
    ServerAuth, ServerConfig, Session,
};
use tls_testkit::{Identity, Pki};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const PASSWORD: &str = "correct horse battery staple";

/// Every wait in these tests ends: a hang is a failure, not a stuck CI run.
const LIMIT: Duration = Duration::from_secs(20);

fn x509_server(id: &Identity) -> tls::ServerConfigBuilder {
    ServerConfig::builder().cert_chain(id.chain(), id.key())
}

fn roots_client(pki: &Pki) -> tls::ClientConfigBuilder {
    ClientConfig::builder().server_auth(ServerAuth::Roots(pki.roots()))
}

fn srp_server(settings: HandshakeSettings) -> ServerConfig {
    let db = MemoryVerifierDb::new();
    db.add("alice", PASSWORD, 2048).unwrap();
    ServerConfig::builder()
        .verifier_db(db)
        .settings(settings)
        .build()
        .unwrap()
}

fn srp_client(password: &str) -> ClientConfig {
    ClientConfig::builder()
        .srp("alice", password)
        .build()
        .unwrap()
}

/// A tokio server for one connection: echoes one line, then closes with close_notify.
async fn tokio_echo_server(
    config: ServerConfig,
) -> (
    std::net::SocketAddr,
    tokio::task::JoinHandle<Result<Session, Error>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.map_err(Error::Io)?;
        let mut tls = tls::tokio::accept(&config, tcp).await?;
        let session = tls.session().clone();
        let mut line = String::new();
        BufReader::new(&mut tls).read_line(&mut line).await?;
        tls.write_all(line.as_bytes()).await?;
        tls.shutdown().await?;
        Ok(session)
    });
    (addr, task)
}

/// Our tokio client says hello to `addr` and checks the echo; the client's session.
async fn tokio_hello(config: &ClientConfig, addr: std::net::SocketAddr) -> Result<Session, Error> {
    let tcp = TcpStream::connect(addr).await.map_err(Error::Io)?;
    let mut tls = tls::tokio::connect(config, "localhost", tcp).await?;
    tls.write_all(b"hello\n").await?;
    tls.flush().await?;
    let mut echoed = String::new();
    tls.read_to_string(&mut echoed).await?;
    if echoed != "hello\n" {
        return Err(Error::Io(std::io::Error::other(format!(
            "echo came back as {echoed:?}"
        ))));
    }
    let session = tls.session().clone();
    tls.shutdown().await?;
    Ok(session)
}

/// Client and server sessions (or errors) of one tokio-to-tokio exchange.
async fn pair(
    server: ServerConfig,
    client: &ClientConfig,
) -> (Result<Session, Error>, Result<Session, Error>) {
    let run = async {
        let (addr, served) = tokio_echo_server(server).await;
        let client = tokio_hello(client, addr).await;
        (client, served.await.unwrap())
    };
    tokio::time::timeout(LIMIT, run).await.expect("no hang")
}

fn alert_of(result: &Result<Session, Error>) -> Option<AlertDescription> {
    result.as_ref().err().and_then(Error::alert)
}

#[tokio::test]
async fn x509_with_roots_pins_and_a_mismatch() {
    let pki = Pki::new();
    let server = x509_server(&pki.self_signed).build().unwrap();
    for algorithm in [FingerprintAlgorithm::Sha1, FingerprintAlgorithm::Sha256] {
        let pin = pki.self_signed.fingerprint(algorithm);
        let client = ClientConfig::builder()
            .server_auth(ServerAuth::Fingerprint(pin))
            .build()
            .unwrap();
        let (session, served) = pair(server.clone(), &client).await;
        assert_eq!(
            session.unwrap().peer_certificate(),
            Some(&pki.self_signed.leaf_der[..])
        );
        assert!(served.is_ok());
    }
    let wrong = ClientConfig::builder()
        .server_auth(ServerAuth::Fingerprint(
            pki.server.fingerprint(FingerprintAlgorithm::Sha256),
        ))
        .build()
        .unwrap();
    let (session, _) = pair(server, &wrong).await;
    assert!(
        matches!(session, Err(Error::Authentication(_))),
        "{session:?}"
    );

    let ca_server = x509_server(&pki.server)
        .settings(HandshakeSettings {
            alpn: vec!["h2".into(), "http/1.1".into()],
            ..Default::default()
        })
        .build()
        .unwrap();
    let roots = roots_client(&pki)
        .settings(HandshakeSettings {
            alpn: vec!["http/1.1".into()],
            ..Default::default()
        })
        .build()
        .unwrap();
    let (session, served) = pair(ca_server, &roots).await;
    let session = session.unwrap();
    assert_eq!(session.alpn_protocol(), Some(&b"http/1.1"[..]));
    assert_eq!(session.server_name(), Some("localhost"));
    assert_eq!(served.unwrap().server_name(), Some("localhost"));
}

#[tokio::test]
async fn client_certificates_and_checkers_on_both_sides() {
    let pki = Pki::new();
    let server = x509_server(&pki.server)
        .require_client_cert(pki.client_roots())
        .build()
        .unwrap();
    let client = roots_client(&pki)
        .client_cert(pki.client.chain(), pki.client.key())
        .build()
        .unwrap();
    let (session, served) = pair(server.clone(), &client).await;
    assert!(session.is_ok(), "{session:?}");
    assert_eq!(
        served.unwrap().peer_certificate(),
        Some(&pki.client.leaf_der[..])
    );
    let anonymous = roots_client(&pki).build().unwrap();
    let (_, served) = pair(server, &anonymous).await;
    assert_eq!(
        alert_of(&served),
        Some(AlertDescription::CertificateRequired)
    );

    let veto = |why: &'static str| Checker::new().custom(move |_| Err(why.into()));
    let vetoing_server = x509_server(&pki.server)
        .checker(veto("server says no"))
        .build()
        .unwrap();
    let (_, served) = pair(vetoing_server, &anonymous).await;
    assert!(
        matches!(served, Err(Error::Authentication(_))),
        "{served:?}"
    );
    let vetoing_client = roots_client(&pki)
        .checker(veto("client says no"))
        .build()
        .unwrap();
    let plain_server = x509_server(&pki.server).build().unwrap();
    let (session, _) = pair(plain_server, &vetoing_client).await;
    assert!(
        matches!(&session, Err(Error::Authentication(e)) if e.to_string().contains("client says no")),
        "{session:?}"
    );
}

#[tokio::test]
async fn srp_logs_in_resumes_and_refuses_a_wrong_password() {
    let server = srp_server(HandshakeSettings::default());
    let client = srp_client(PASSWORD);
    let (session, served) = pair(server.clone(), &client).await;
    let session = session.unwrap();
    assert_eq!(session.srp_username(), Some("alice"));
    assert_eq!(session.encrypt_then_mac(), Some(true));
    assert_eq!(served.unwrap().srp_username(), Some("alice"));
    let (again, _) = pair(server.clone(), &client).await;
    assert!(
        again.unwrap().resumed(),
        "second SRP connection did not resume"
    );

    let (session, served) = pair(server, &srp_client("wrong")).await;
    assert_eq!(alert_of(&served), Some(AlertDescription::BadRecordMac));
    assert_eq!(alert_of(&session), Some(AlertDescription::BadRecordMac));
}

#[tokio::test]
async fn x509_resumes_across_connections() {
    let pki = Pki::new();
    let server = x509_server(&pki.server).build().unwrap();
    let client = roots_client(&pki).build().unwrap();
    assert!(!pair(server.clone(), &client).await.0.unwrap().resumed());
    assert!(pair(server, &client).await.0.unwrap().resumed());
}

/// close_notify ends a read cleanly; a transport that just ends is `AbruptClose`, unless the
/// reader said to ignore it.
#[tokio::test]
async fn close_notify_versus_an_abrupt_close() {
    let server = srp_server(HandshakeSettings::default());
    for (send_close_notify, ignore) in [(true, false), (false, false), (false, true)] {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = server.clone();
        let served = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut tls = tls::tokio::accept(&config, tcp).await.unwrap();
            tls.write_all(b"partial").await.unwrap();
            if send_close_notify {
                tls.shutdown().await.unwrap();
            } else {
                tls.flush().await.unwrap();
                drop(tls);
            }
        });
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut tls = tls::tokio::connect(&srp_client(PASSWORD), "localhost", tcp)
            .await
            .unwrap();
        tls.set_ignore_abrupt_close(ignore);
        let mut got = Vec::new();
        let result = tokio::time::timeout(LIMIT, tls.read_to_end(&mut got))
            .await
            .unwrap();
        served.await.unwrap();
        assert_eq!(got, b"partial");
        match (send_close_notify || ignore, result) {
            (true, Ok(_)) => {}
            (false, Err(e)) => assert!(matches!(Error::from(e), Error::AbruptClose)),
            (clean, other) => panic!("close_notify {send_close_notify}, clean {clean}: {other:?}"),
        }
    }
}

/// The drivers mix: a blocking client against a tokio server and a tokio client against a
/// blocking server, with both engines, moving 3 MB each way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_and_tokio_drivers_talk_to_each_other() {
    let pki = Pki::new();
    let x509_server = x509_server(&pki.server).build().unwrap();
    let x509_client = roots_client(&pki).build().unwrap();
    let payload: Vec<u8> = (0..3_000_000u32).map(|i| (i % 253) as u8).collect();
    for (server, client) in [
        (x509_server, x509_client),
        (
            srp_server(HandshakeSettings::default()),
            srp_client(PASSWORD),
        ),
    ] {
        // Blocking client, tokio server.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = server.clone();
        let served = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut tls = tls::tokio::accept(&config, tcp).await.unwrap();
            let mut got = vec![0u8; 3_000_000];
            tls.read_exact(&mut got).await.unwrap();
            tls.write_all(&got).await.unwrap();
            tls.shutdown().await.unwrap();
        });
        let (blocking_client, sent) = (client.clone(), payload.clone());
        let echoed = tokio::task::spawn_blocking(move || {
            let tcp = std::net::TcpStream::connect(addr).unwrap();
            tcp.set_read_timeout(Some(LIMIT)).unwrap();
            let mut tls = blocking_client.connect("localhost", tcp).unwrap();
            tls.write_all(&sent).unwrap();
            tls.flush().unwrap();
            let mut back = Vec::new();
            std::io::Read::read_to_end(&mut tls, &mut back).unwrap();
            back
        });
        let echoed = tokio::time::timeout(LIMIT, echoed).await.unwrap().unwrap();
        served.await.unwrap();
        assert!(echoed == payload, "blocking client got a different echo");

        // Tokio client, blocking server.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let config = server.clone();
        let served = tokio::task::spawn_blocking(move || {
            let (tcp, _) = listener.accept().unwrap();
            tcp.set_read_timeout(Some(LIMIT)).unwrap();
            let mut tls = config.accept(tcp).unwrap();
            let mut line = String::new();
            tls.read_line(&mut line).unwrap();
            tls.write_all(line.as_bytes()).unwrap();
            tls.close().unwrap();
        });
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut tls = tls::tokio::connect(&client, "localhost", tcp)
            .await
            .unwrap();
        tls.write_all(b"from tokio\n").await.unwrap();
        tls.flush().await.unwrap();
        let mut back = String::new();
        tokio::time::timeout(LIMIT, tls.read_to_string(&mut back))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(back, "from tokio\n");
        served.await.unwrap();
    }
}

/// Reads and writes are cancellation-safe: futures dropped again and again before they finish
/// (a `select!` against a short timer) lose and duplicate nothing. Small socket buffers make the
/// writer wait for the reader, so both cancelled reads and cancelled writes happen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_reads_and_writes_lose_and_duplicate_nothing() {
    let payload: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let listening = tokio::net::TcpSocket::new_v4().unwrap();
    listening.set_recv_buffer_size(4096).unwrap();
    listening.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = listening.listen(4).unwrap();
    let addr = listener.local_addr().unwrap();
    let server = srp_server(HandshakeSettings::default());
    let served = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut tls = tls::tokio::accept(&server, tcp).await.unwrap();
        let (mut got, mut buf, mut cancelled) = (Vec::new(), [0u8; 3000], 0u32);
        loop {
            tokio::select! {
                n = tls.read(&mut buf) => match n.unwrap() {
                    0 => break,
                    n => got.extend_from_slice(&buf[..n]),
                },
                _ = tokio::time::sleep(Duration::from_micros(30)) => {
                    cancelled += 1;
                    // A slow reader now and then, so the writer's buffer fills.
                    if cancelled % 16 == 0 {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                }
            }
        }
        (got, cancelled)
    });
    let connecting = tokio::net::TcpSocket::new_v4().unwrap();
    connecting.set_send_buffer_size(4096).unwrap();
    let tcp = connecting.connect(addr).await.unwrap();
    let mut tls = tls::tokio::connect(&srp_client(PASSWORD), "localhost", tcp)
        .await
        .unwrap();
    let (mut sent, mut write_cancelled) = (0, 0u32);
    while sent < payload.len() {
        let end = (sent + 20_000).min(payload.len());
        tokio::select! {
            n = tls.write(&payload[sent..end]) => sent += n.unwrap(),
            _ = tokio::time::sleep(Duration::from_micros(30)) => write_cancelled += 1,
        }
    }
    tokio::time::timeout(LIMIT, tls.shutdown())
        .await
        .unwrap()
        .unwrap();
    let (got, read_cancelled) = tokio::time::timeout(LIMIT, served).await.unwrap().unwrap();
    assert_eq!(got.len(), payload.len());
    assert!(got == payload, "the reader got something else");
    println!("{read_cancelled} reads and {write_cancelled} writes cancelled mid-way");
    assert!(
        read_cancelled > 0 && write_cancelled > 0,
        "nothing was cancelled: nothing proved"
    );
}

/// Reads into buffers that are not yet initialised (as hyper's are) go through the stream's
/// scratch buffer, initialised ones straight in: both must hand over every byte, in order,
/// whatever the buffer's size.
#[tokio::test]
async fn reads_into_uninitialised_and_initialised_buffers_lose_nothing() {
    use std::mem::MaybeUninit;
    use tokio::io::{AsyncRead, ReadBuf};

    let pki = Pki::new();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let sent = data.clone();
    let server = x509_server(&pki.server).build().unwrap();
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut tls = tls::tokio::accept(&server, tcp).await.unwrap();
        tls.write_all(&sent).await.unwrap();
        tls.shutdown().await.unwrap();
    });
    let tcp = TcpStream::connect(addr).await.unwrap();
    let client = roots_client(&pki).build().unwrap();
    let mut tls = tls::tokio::connect(&client, "localhost", tcp)
        .await
        .unwrap();
    let mut got = Vec::new();
    for round in 0.. {
        // Sizes around the scratch buffer's 4 KiB, alternating uninitialised and initialised.
        let size = [1, 700, 4095, 4096, 4097, 16_384, 20_000][round % 7];
        let read = if round % 2 == 0 {
            let mut space = vec![MaybeUninit::<u8>::uninit(); size];
            let mut buf = ReadBuf::uninit(&mut space);
            std::future::poll_fn(|cx| std::pin::Pin::new(&mut tls).poll_read(cx, &mut buf))
                .await
                .unwrap();
            got.extend_from_slice(buf.filled());
            buf.filled().len()
        } else {
            let mut space = vec![0u8; size];
            let n = tls.read(&mut space).await.unwrap();
            got.extend_from_slice(&space[..n]);
            n
        };
        if read == 0 {
            break;
        }
    }
    assert_eq!(got.len(), data.len());
    assert!(got == data, "the bytes differ");
    task.await.unwrap();
}

/// Vectored writes of many small slices (a frame header, then its payload, as h2 writes them)
/// arrive whole and in order, gathered into full records: a few dozen records for 400 slices,
/// as a relay counting them on the wire sees.
#[tokio::test]
async fn vectored_writes_arrive_whole_in_few_records() {
    use std::io::IoSlice;

    let pki = Pki::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let relay = tls_testkit::RecordRelay::to(addr);
    listener.set_nonblocking(true).unwrap();
    let listener = TcpListener::from_std(listener).unwrap();
    // 200 frames: a 9-byte header and a 1,000-byte payload each, every byte numbered.
    let pieces: Vec<Vec<u8>> = (0..400u32)
        .map(|i| {
            let len = if i % 2 == 0 { 9 } else { 1000 };
            (0..len).map(|j| ((i * 7 + j) % 251) as u8).collect()
        })
        .collect();
    let wanted: Vec<u8> = pieces.concat();
    let server = x509_server(&pki.server).build().unwrap();
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut tls = tls::tokio::accept(&server, tcp).await.unwrap();
        let (mut piece, mut offset) = (0, 0);
        while piece < pieces.len() {
            let slices: Vec<IoSlice<'_>> = std::iter::once(&pieces[piece][offset..])
                .chain(pieces[piece + 1..].iter().map(Vec::as_slice))
                .take(64)
                .map(IoSlice::new)
                .collect();
            let mut n = tls.write_vectored(&slices).await.unwrap();
            assert!(n > 0);
            while n > 0 {
                let left = pieces[piece].len() - offset;
                if n >= left {
                    n -= left;
                    piece += 1;
                    offset = 0;
                } else {
                    offset += n;
                    n = 0;
                }
            }
        }
        tls.shutdown().await.unwrap();
    });
    let tcp = TcpStream::connect(relay.addr).await.unwrap();
    let client = roots_client(&pki).build().unwrap();
    let mut tls = tls::tokio::connect(&client, "localhost", tcp)
        .await
        .unwrap();
    let mut got = Vec::new();
    tls.read_to_end(&mut got).await.unwrap();
    assert!(
        got == wanted,
        "the bytes differ ({} of {})",
        got.len(),
        wanted.len()
    );
    task.await.unwrap();
    drop(tls);
    let records = relay.join().server_to_client;
    // 201,800 bytes fill 13 records; the handshake and close_notify add a handful.
    assert!(records < 30, "{records} records for 400 slices");
}
