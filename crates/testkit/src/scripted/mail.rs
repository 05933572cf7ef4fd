//! Scripted POP3 and IMAP servers: just enough of each protocol to drive a client, with a
//! record of every command line they saw; TLS servers on `tls_server` to run them on.

use std::io::{self, BufRead, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::Pki;
use tls::{ClientConfig, ServerAuth, ServerConfig};
use tls_server::{PlainConnection, RunningServer, TlsServer};

/// Command lines a server saw, shared with the test.
pub type Seen = Arc<Mutex<Vec<String>>>;

/// An empty record, for one server.
pub fn seen() -> Seen {
    Arc::new(Mutex::new(Vec::new()))
}

/// The command lines recorded so far, in order.
pub fn lines(seen: &Seen) -> Vec<String> {
    seen.lock().unwrap().clone()
}

/// Reads one command line (without its CRLF) and records it; `None` at end of stream.
pub fn command(stream: &mut impl BufRead, seen: &Seen) -> io::Result<Option<String>> {
    let mut line = String::new();
    if stream.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let line = line.trim_end().to_owned();
    seen.lock().unwrap().push(line.clone());
    Ok(Some(line))
}

/// A message as a POP3 server sends it: dot-stuffed, then the `.` line.
pub fn stuffed(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in message.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b".") {
            out.push(b'.');
        }
        out.extend_from_slice(line);
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// A POP3 session after the greeting (and after STLS): CAPA, USER, PASS, STAT, LIST, RETR,
/// QUIT over `mailbox`. Returns at QUIT or end of stream.
pub fn pop3(
    stream: &mut (impl BufRead + Write),
    mailbox: &[Vec<u8>],
    seen: &Seen,
) -> io::Result<()> {
    while let Some(line) = command(stream, seen)? {
        let (verb, arg) = line.split_once(' ').unwrap_or((&line, ""));
        let reply: Vec<u8> = match verb {
            "CAPA" => b"+OK\r\nUSER\r\nUIDL\r\n.\r\n".to_vec(),
            "USER" | "PASS" | "NOOP" => b"+OK\r\n".to_vec(),
            "STAT" => {
                let size: usize = mailbox.iter().map(Vec::len).sum();
                format!("+OK {} {size}\r\n", mailbox.len()).into_bytes()
            }
            "LIST" => {
                let mut r = b"+OK\r\n".to_vec();
                for (n, m) in (1..).zip(mailbox) {
                    r.extend_from_slice(format!("{n} {}\r\n", m.len()).as_bytes());
                }
                r.extend_from_slice(b".\r\n");
                r
            }
            "RETR" => match arg.parse::<usize>().ok().and_then(|n| mailbox.get(n - 1)) {
                Some(m) => [&b"+OK\r\n"[..], &stuffed(m)].concat(),
                None => b"-ERR no such message\r\n".to_vec(),
            },
            "QUIT" => {
                stream.write_all(b"+OK bye\r\n")?;
                return stream.flush();
            }
            _ => b"-ERR unknown command\r\n".to_vec(),
        };
        stream.write_all(&reply)?;
        stream.flush()?;
    }
    Ok(())
}

/// An IMAP session after the greeting: LOGIN/AUTHENTICATE, SELECT (one message), LOGOUT.
pub fn imap(stream: &mut (impl BufRead + Write), seen: &Seen) -> io::Result<()> {
    while let Some(line) = command(stream, seen)? {
        let mut words = line.splitn(3, ' ');
        let (tag, verb) = (words.next().unwrap_or("*"), words.next().unwrap_or(""));
        let reply = match verb.to_ascii_uppercase().as_str() {
            "LOGIN" => format!("{tag} OK LOGIN completed\r\n"),
            "SELECT" => format!(
                "* FLAGS (\\Seen)\r\n* 1 EXISTS\r\n* 0 RECENT\r\n{tag} OK [READ-WRITE] SELECT completed\r\n"
            ),
            "LOGOUT" => {
                stream.write_all(format!("* BYE\r\n{tag} OK LOGOUT completed\r\n").as_bytes())?;
                return stream.flush();
            }
            _ => format!("{tag} BAD unknown\r\n"),
        };
        stream.write_all(reply.as_bytes())?;
        stream.flush()?;
    }
    Ok(())
}

/// A TLS server on 127.0.0.1 with this configuration, each connection served by `handler`.
pub fn tls_server(
    config: ServerConfig,
    handler: impl Fn(&mut tls::TlsStream<tls_server::Socket>) -> io::Result<()> + Send + Sync + 'static,
) -> RunningServer {
    TlsServer::builder(config)
        .handshake_timeout(Duration::from_secs(10))
        .bind("127.0.0.1:0")
        .unwrap()
        .spawn(
            move |tls: &mut tls::TlsStream<tls_server::Socket>, _: &tls_server::ConnectionInfo| {
                handler(tls)
            },
        )
}

/// A plaintext-first server (for STLS/STARTTLS scripts).
pub fn plain_server(
    config: ServerConfig,
    handler: impl Fn(PlainConnection) -> io::Result<()> + Send + Sync + 'static,
) -> RunningServer {
    TlsServer::builder(config)
        .handshake_timeout(Duration::from_secs(10))
        .bind("127.0.0.1:0")
        .unwrap()
        .spawn_plain(handler)
}

/// A server configuration with the test PKI's server certificate.
pub fn x509_server(pki: &Pki) -> ServerConfig {
    ServerConfig::builder()
        .cert_chain(pki.server.chain(), pki.server.key())
        .build()
        .unwrap()
}

/// A client pinned to the server leaf's SHA-256 fingerprint: no CA involved.
pub fn pinned(pki: &Pki) -> ClientConfig {
    let pin = pki.server.fingerprint(tls::FingerprintAlgorithm::Sha256);
    ClientConfig::builder()
        .server_auth(ServerAuth::Fingerprint(pin))
        .build()
        .unwrap()
}

/// A client trusting the test root CA.
pub fn rooted(pki: &Pki) -> ClientConfig {
    ClientConfig::builder()
        .server_auth(ServerAuth::Roots(pki.roots()))
        .build()
        .unwrap()
}

/// A plaintext IMAP server: greets, then answers `a0 STARTTLS` with `reply` on the connection
/// numbered like the index (and upgrades when the reply is OK).
pub fn starttls_server(
    config: ServerConfig,
    greeting: &'static [u8],
    replies: Vec<&'static [u8]>,
) -> (RunningServer, Seen) {
    let seen = seen();
    let log = seen.clone();
    let count = Arc::new(Mutex::new(0usize));
    let server = plain_server(config, move |mut conn| {
        let reply = {
            let mut count = count.lock().unwrap();
            *count += 1;
            replies[(*count - 1).min(replies.len() - 1)]
        };
        conn.write_all(greeting)?;
        match command(&mut conn, &log)? {
            Some(line) if line == "a0 STARTTLS" => conn.write_all(reply)?,
            _ => return Ok(()),
        }
        if !reply.windows(5).any(|w| w == b"a0 OK") {
            return Ok(());
        }
        let mut tls = conn.starttls()?;
        if tls.session().peer_certificate().is_none() {
            return Err(std::io::Error::other("no client certificate"));
        }
        imap(&mut tls, &log)
    });
    (server, seen)
}

/// A server demanding a client certificate under the client CA, and a client presenting one
/// and trusting the server's CA.
pub fn mutual(pki: &Pki) -> (ServerConfig, ClientConfig) {
    let server = ServerConfig::builder()
        .cert_chain(pki.server.chain(), pki.server.key())
        .require_client_cert(pki.client_roots())
        .build()
        .unwrap();
    let client = ClientConfig::builder()
        .server_auth(ServerAuth::Roots(pki.roots()))
        .client_cert(pki.client.chain(), pki.client.key())
        .build()
        .unwrap();
    (server, client)
}

/// Greets over TLS, accepts LOGIN, lets `reply` answer the next command and hangs up
/// without close_notify.
pub fn replying_server(
    pki: &Pki,
    reply: impl Fn(&mut tls::TlsStream<tls_server::Socket>) -> io::Result<()> + Send + Sync + 'static,
) -> RunningServer {
    tls_server(x509_server(pki), move |tls| {
        let log = seen();
        tls.write_all(b"* OK ready\r\n")?;
        // Answered with the client's tag (`a1` from the imap crate, `A0001` from async-imap).
        let login = command(tls, &log)?.unwrap_or_default();
        let tag = login.split(' ').next().unwrap_or("a1");
        tls.write_all(format!("{tag} OK LOGIN completed\r\n").as_bytes())?;
        command(tls, &log)?;
        reply(tls)?;
        tls.flush()?;
        Err(io::Error::other("hanging up"))
    })
}
