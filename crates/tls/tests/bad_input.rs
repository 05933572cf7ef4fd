//! Misbehaving peers: each gives a clear error within a bounded time, never a panic or a hang.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tls::{AlertDescription, ClientConfig, Error, ServerAuth, ServerConfig};
use tls_testkit::{connect, serve_once, Pki};

/// Bounds every scenario here: an error must come well before the sockets' own timeouts.
const PROMPT: Duration = Duration::from_secs(5);

fn server(pki: &Pki) -> ServerConfig {
    ServerConfig::builder()
        .cert_chain(pki.server.chain(), pki.server.key())
        .build()
        .unwrap()
}

fn client(pki: &Pki) -> ClientConfig {
    ClientConfig::builder()
        .server_auth(ServerAuth::Roots(pki.roots()))
        .build()
        .unwrap()
}

/// Sends `bytes` to our server (then half-closes if asked) and returns what `accept` said.
fn server_sees(bytes: &[u8], then_close: bool) -> Error {
    let pki = Pki::new();
    let config = server(&pki);
    let thread = serve_once(move |tcp| {
        let started = Instant::now();
        let result = config.accept(tcp).map(drop);
        (result, started.elapsed())
    });
    let mut tcp = connect(thread.addr);
    tcp.write_all(bytes).unwrap();
    if then_close {
        tcp.shutdown(Shutdown::Write).unwrap();
    }
    let (result, took) = thread.join();
    assert!(took < PROMPT, "took {took:?}");
    result.expect_err("the server accepted nonsense")
}

fn client_hello() -> Vec<u8> {
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    let mut conn =
        rustls::ClientConnection::new(Arc::new(config), "localhost".try_into().unwrap()).unwrap();
    let mut hello = Vec::new();
    conn.write_tls(&mut hello).unwrap();
    hello
}

#[test]
fn garbage_instead_of_a_client_hello() {
    let e = server_sees(&[0x42; 64], false);
    assert!(matches!(e, Error::LocalAlert { .. }), "{e:?}");
}

#[test]
fn http_request_instead_of_a_client_hello() {
    let e = server_sees(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", false);
    assert!(matches!(e, Error::LocalAlert { .. }), "{e:?}");
}

#[test]
fn truncated_client_hello_then_close() {
    let hello = client_hello();
    let e = server_sees(&hello[..hello.len() / 2], true);
    assert!(matches!(e, Error::AbruptClose), "{e:?}");
}

#[test]
fn client_vanishes_before_saying_anything() {
    let e = server_sees(b"", true);
    assert!(matches!(e, Error::AbruptClose), "{e:?}");
}

#[test]
fn oversized_record_is_refused() {
    // A handshake record header announcing 2^14 + 2049 bytes: more than any TLS version allows.
    let len: u16 = (1 << 14) + 2049;
    let mut record = vec![0x16, 0x03, 0x03];
    record.extend_from_slice(&len.to_be_bytes());
    record.extend(std::iter::repeat_n(0u8, 100));
    // The ClientHello is read by our router before rustls sees it: record_overflow (RFC 8446
    // §5.1); we report the alert actually sent.
    match server_sees(&record, false) {
        Error::LocalAlert {
            description: AlertDescription::RecordOverflow,
            message,
        } => assert!(message.contains("2^14 + 2048"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_silent_client_is_a_timeout_not_a_hang() {
    let pki = Pki::new();
    let config = server(&pki);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let _silent = TcpStream::connect(addr).unwrap();
    let (tcp, _) = listener.accept().unwrap();
    tcp.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let started = Instant::now();
    let e = config.accept(tcp).unwrap_err();
    assert!(started.elapsed() < PROMPT);
    match e {
        Error::Io(io) => assert!(
            matches!(
                io.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "{io:?}"
        ),
        other => panic!("{other:?}"),
    }
}

/// A fake server: reads the ClientHello, then does `answer` with the socket.
fn client_sees(answer: impl Fn(TcpStream) + Send + 'static) -> Error {
    let pki = Pki::new();
    let thread = serve_once(move |mut tcp| {
        let mut hello = [0u8; 512];
        let _ = tcp.read(&mut hello);
        answer(tcp);
    });
    let tcp = connect(thread.addr);
    tcp.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let started = Instant::now();
    let e = client(&pki).connect("localhost", tcp).unwrap_err();
    assert!(started.elapsed() < PROMPT);
    thread.join();
    e
}

#[test]
fn server_answers_with_garbage() {
    let e = client_sees(|mut tcp| {
        let _ = tcp.write_all(b"220 smtp.example.org ESMTP ready\r\n");
    });
    assert!(matches!(e, Error::LocalAlert { .. }), "{e:?}");
}

#[test]
fn server_closes_mid_handshake() {
    let e = client_sees(drop);
    assert!(matches!(e, Error::AbruptClose), "{e:?}");
}

#[test]
fn server_goes_silent_mid_handshake() {
    let e = client_sees(|_tcp| std::thread::sleep(Duration::from_millis(1500)));
    assert!(matches!(e, Error::Io(_)), "{e:?}");
}

/// Flips a bit in what it writes once `armed`, as a corrupting network would.
struct Corrupting {
    inner: TcpStream,
    armed: Arc<AtomicBool>,
}

impl Read for Corrupting {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf)
    }
}

impl Write for Corrupting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.armed.swap(false, Ordering::SeqCst) {
            let mut copy = buf.to_vec();
            if let Some(last) = copy.last_mut() {
                *last ^= 1;
            }
            return self.inner.write_all(&copy).map(|_| buf.len());
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[test]
fn a_corrupted_record_is_a_bad_record_mac() {
    let pki = Pki::new();
    let config = server(&pki);
    let thread = serve_once(move |tcp| {
        let mut tls = config.accept(tcp)?;
        let mut buf = [0u8; 64];
        tls.read(&mut buf).map_err(Error::from)
    });
    let armed = Arc::new(AtomicBool::new(false));
    let sock = Corrupting {
        inner: connect(thread.addr),
        armed: armed.clone(),
    };
    let mut tls = client(&pki).connect("localhost", sock).unwrap();
    armed.store(true, Ordering::SeqCst);
    tls.write_all(b"this record will not survive the trip")
        .unwrap();
    let e = thread.join().unwrap_err();
    assert_eq!(e.alert(), Some(AlertDescription::BadRecordMac), "{e:?}");
    // And the client hears about it.
    let mut buf = [0u8; 8];
    let e = Error::from(tls.read(&mut buf).unwrap_err());
    assert!(
        matches!(
            e,
            Error::RemoteAlert {
                description: AlertDescription::BadRecordMac
            }
        ),
        "{e:?}"
    );
}
