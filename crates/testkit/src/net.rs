//! Loopback helpers: one-shot TLS servers on ephemeral ports, clients with timeouts.

use std::io::{BufRead, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::Duration;

/// The read/write timeout on every test socket: a hang becomes an error, not a stuck test.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// A server thread that accepted one connection; `join` gives its result.
pub struct ServerThread<T> {
    /// Where it listens.
    pub addr: SocketAddr,
    handle: JoinHandle<T>,
}

impl<T> ServerThread<T> {
    /// Waits for the server's result.
    pub fn join(self) -> T {
        self.handle.join().expect("server thread panicked")
    }
}

/// Listens on 127.0.0.1 (ephemeral port), accepts one connection (timeouts set) and returns
/// what `serve` makes of it.
pub fn serve_once<T: Send + 'static>(
    serve: impl Fn(TcpStream) -> T + Send + 'static,
) -> ServerThread<T> {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let handle = std::thread::spawn(move || {
        let (sock, _) = listener.accept().expect("accept");
        sock.set_read_timeout(Some(TIMEOUT)).expect("timeout");
        sock.set_write_timeout(Some(TIMEOUT)).expect("timeout");
        serve(sock)
    });
    ServerThread { addr, handle }
}

/// A TCP connection to `addr` with the test timeouts.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let sock = TcpStream::connect(addr).expect("connect");
    sock.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    sock.set_write_timeout(Some(TIMEOUT)).expect("timeout");
    sock
}

/// Echoes lines back until the peer closes, then answers with close_notify (best effort: the
/// peer may already be gone). Returns the lines seen.
pub fn echo_lines<S: std::io::Read + Write>(
    mut stream: tls::TlsStream<S>,
) -> Result<Vec<String>, tls::Error> {
    let mut seen = Vec::new();
    loop {
        let mut line = String::new();
        if stream.read_line(&mut line)? == 0 {
            break;
        }
        stream.write_all(line.as_bytes())?;
        seen.push(line);
    }
    let _ = stream.close();
    Ok(seen)
}

/// GET / from an HTTP server on 127.0.0.1:`port` (as `localhost`) with `config`: the session
/// and the response, read to the end (a close without close_notify counts as an end: HTTP/1.0
/// servers such as `openssl s_server -www` and `gnutls-serv --http` may do that).
pub fn http_get(
    config: &tls::ClientConfig,
    port: u16,
) -> Result<(tls::Session, String), tls::Error> {
    let mut tls = config.connect("localhost", connect(([127, 0, 0, 1], port).into()))?;
    tls.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
    tls.set_ignore_abrupt_close(true);
    let mut response = Vec::new();
    std::io::Read::read_to_end(&mut tls, &mut response)?;
    Ok((
        tls.session().clone(),
        String::from_utf8_lossy(&response).into_owned(),
    ))
}

/// Reads once from `stream` (up to 512 bytes) and answers with the same bytes upper-cased, then
/// close_notify. Returns the bytes read.
pub fn answer_upper<S: std::io::Read + Write>(
    mut stream: tls::TlsStream<S>,
) -> Result<Vec<u8>, tls::Error> {
    let mut got = [0u8; 512];
    let n = std::io::Read::read(&mut stream, &mut got)?;
    stream.write_all(&got[..n].to_ascii_uppercase())?;
    stream.close()?;
    Ok(got[..n].to_vec())
}

/// Answers one HTTP/1.1 request with `200 OK` and `body`, then sends close_notify.
/// Returns the request head as received.
pub fn answer_http<S: std::io::Read + Write>(
    mut stream: tls::TlsStream<S>,
    body: &[u8],
) -> Result<String, tls::Error> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if stream.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    stream.close()?;
    Ok(head)
}

/// A hostile HTTP/2 client (`peers/h2_hostile.py`, frames written by hand) against the server
/// on 127.0.0.1:`port`: one attack (`rapid-reset`, `continuation-flood`, `settings-flood`,
/// `ping-flood`, `no-end-stream`, `hpack-bomb`) for at most `seconds`. Its stdout is one line:
/// `cut after S s (GOAWAY code C)`, `cut after S s (no GOAWAY)` or `not cut in S s`. `None`
/// (skipped loudly) without Python.
pub fn h2_hostile(port: u16, mode: &str, seconds: u32) -> Option<std::process::Command> {
    let python = crate::peer("python3")?;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/h2_hostile.py");
    let mut command = std::process::Command::new(python);
    command
        .arg(script)
        .args([port.to_string(), mode.to_owned(), seconds.to_string()]);
    Some(command)
}
