//! A storm of TLS-SRP handshakes must not stall the runtime: the big-number work runs off the
//! reactor, so a ticker task on the same 2-worker runtime keeps waking on time.

use std::time::{Duration, Instant};

use tls::srp::MemoryVerifierDb;
use tls::{ClientConfig, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const HANDSHAKES: usize = 500;
const TICK: Duration = Duration::from_millis(5);

#[test]
fn five_hundred_srp_handshakes_leave_the_runtime_responsive() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let db = MemoryVerifierDb::new();
        db.add("alice", "pw", 2048).unwrap();
        let server = ServerConfig::builder().verifier_db(db).build().unwrap();
        let client = ClientConfig::builder()
            .srp("alice", "pw")
            .no_resumption()
            .build()
            .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
                let server = server.clone();
                tokio::spawn(async move {
                    let mut tls = tls::tokio::accept(&server, tcp).await?;
                    let mut byte = [0u8; 1];
                    tls.read_exact(&mut byte).await?;
                    tls.write_all(&byte).await?;
                    tls.shutdown().await
                });
            }
        });

        // The ticker: how late does it wake, each time, while the handshakes run?
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let ticker = tokio::spawn(async move {
            let mut delays = Vec::new();
            loop {
                let asked = Instant::now();
                tokio::select! {
                    _ = tokio::time::sleep(TICK) => delays.push(asked.elapsed() - TICK),
                    _ = &mut stopped => return delays,
                }
            }
        });

        let started = Instant::now();
        let clients: Vec<_> = (0..HANDSHAKES)
            .map(|_| {
                let client = client.clone();
                tokio::spawn(async move {
                    let tcp = TcpStream::connect(addr).await?;
                    let mut tls = tls::tokio::connect(&client, "localhost", tcp).await?;
                    tls.write_all(b"x").await?;
                    let mut byte = [0u8; 1];
                    tls.read_exact(&mut byte).await?;
                    Ok::<_, std::io::Error>(())
                })
            })
            .collect();
        let mut failures = 0;
        for client in clients {
            let done = tokio::time::timeout(Duration::from_secs(120), client)
                .await
                .expect("handshakes finish");
            if !matches!(done, Ok(Ok(()))) {
                failures += 1;
            }
        }
        let elapsed = started.elapsed();
        stop.send(()).unwrap();
        let mut delays = ticker.await.unwrap();
        delays.sort();
        let p99 = delays[delays.len() * 99 / 100];
        let worst = delays[delays.len() - 1];
        println!(
            "{HANDSHAKES} concurrent SRP-2048 handshakes in {elapsed:.2?} on 2 workers; \
             ticker ({TICK:?}) woke late by p99 {p99:.2?}, worst {worst:.2?} over {} ticks",
            delays.len()
        );
        assert_eq!(failures, 0, "handshakes failed");
        assert!(
            delays.len() >= 10,
            "the ticker barely ran: {} ticks",
            delays.len()
        );
        assert!(p99 < Duration::from_millis(50), "p99 wake-up delay {p99:?}");
    });
}
