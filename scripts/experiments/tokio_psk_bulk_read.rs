//! Bulk reads over `tls::tokio` with a TLS 1.3 PSK (our engine): one thread writes 2 GiB in
//! 256 KiB writes, the other reads and prints MB/s. Copy it into `examples/` to run it (see
//! README.md here).

use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TOTAL: usize = 2 << 30;
const CHUNK: usize = 256 * 1024;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn main() {
    let psk = tls::psk::ExternalPsk::new("bulk", [7u8; 32]).expect("key");
    let store = tls::psk::MemoryPskStore::new();
    store.insert(psk.clone());
    let server = tls::ServerConfig::builder()
        .psk_store(store)
        .build()
        .expect("server");
    let client = tls::ClientConfig::builder()
        .psk(psk)
        .build()
        .expect("client");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        runtime().block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            let (tcp, _) = listener.accept().await.expect("accept");
            let mut tls = tls::tokio::accept(&server, tcp).await.expect("handshake");
            let chunk = vec![1u8; CHUNK];
            for _ in 0..TOTAL / CHUNK {
                tls.write_all(&chunk).await.expect("write");
            }
            tls.shutdown().await.expect("close");
        });
    });
    runtime().block_on(async move {
        let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let mut tls = tls::tokio::connect(&client, "localhost", tcp)
            .await
            .expect("handshake");
        let mut buf = vec![0u8; CHUNK];
        let started = std::time::Instant::now();
        let mut got = 0usize;
        loop {
            let n = tls.read(&mut buf).await.expect("read");
            if n == 0 {
                break;
            }
            got += n;
        }
        let mbs = got as f64 / started.elapsed().as_secs_f64() / 1e6;
        println!(
            "{mbs:.0} MB/s ({got} bytes, {})",
            tls.session().cipher_suite()
        );
    });
}
