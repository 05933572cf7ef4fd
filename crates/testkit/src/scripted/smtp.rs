//! A scripted SMTP server on `tls_server`: STARTTLS (or implicit TLS), AUTH PLAIN/LOGIN, and
//! a record of every line and message it received, byte for byte.
//!
//! It is deliberately permissive: it advertises AUTH and takes AUTH and MAIL even in
//! plaintext, so a test can prove that the *client* never sent them. It also misbehaves on
//! request ([`StartTls`], [`AfterData`], [`Options`]) for the downgrade and broken-connection
//! tests.

use std::io::{self, BufRead, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use tls::ServerConfig;
use tls_server::{PlainConnection, RunningServer, TlsServer};

use crate::TIMEOUT;

/// The one user the server knows.
pub const USER: &str = "alice";
/// Its password (with spaces, as AUTH PLAIN must carry them).
pub const PASSWORD: &str = "s3cret with spaces";

/// How the server answers STARTTLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartTls {
    /// Offers it and goes ahead.
    Offer,
    /// Does not list it in EHLO (and answers 502 if asked anyway).
    NotOffered,
    /// Lists it but answers 454.
    Refuse,
    /// Answers 220 and pipelines a forged reply right behind it, in plaintext.
    ///
    /// Both lines go out in one write, so in practice they arrive in one segment and the
    /// client's first read holds both: that is what lets the client see the forged bytes
    /// before its handshake. Had they come in a later read, the client would take them for
    /// the start of the TLS handshake and fail there instead (not detected as injection).
    Inject,
}

/// What the server does once it has read a whole message (up to the final dot).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterData {
    /// Stores it and answers 250.
    Accept,
    /// Stores it and answers with this line instead (a 3xx, say).
    Answer(&'static str),
    /// Stores it, waits this long, then answers 250: a late reply.
    Late(Duration),
    /// Stores it and closes the connection without a reply.
    HangUp,
}

/// How the scripted SMTP server behaves; `Default` is a well-behaved server offering STARTTLS.
#[derive(Clone, Debug)]
pub struct Options {
    /// Whether STARTTLS is offered, refused or followed by injected plaintext.
    pub starttls: StartTls,
    /// The SIZE limit the EHLO reply announces (`None`: no SIZE line).
    pub size: Option<usize>,
    /// Whether the EHLO reply announces 8BITMIME.
    pub eight_bit_mime: bool,
    /// Whether the EHLO reply announces SMTPUTF8.
    pub smtputf8: bool,
    /// What follows `AUTH` in the EHLO reply.
    pub auth: &'static str,
    /// Recipients answered with 550.
    pub refuse: Vec<String>,
    /// When set, every RCPT gets this reply line (before `refuse` is looked at).
    pub rcpt_reply: Option<&'static str>,
    /// What the server does with the message after DATA.
    pub after_data: AfterData,
    /// Closes the connection on QUIT without answering.
    pub hang_up_on_quit: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            starttls: StartTls::Offer,
            size: Some(1_000_000),
            eight_bit_mime: true,
            smtputf8: true,
            auth: "PLAIN LOGIN",
            refuse: Vec::new(),
            rcpt_reply: None,
            after_data: AfterData::Accept,
            hang_up_on_quit: false,
        }
    }
}

/// A command line the server read, and whether it came over TLS.
#[derive(Clone, Debug)]
pub struct Line {
    /// Whether the line came over TLS.
    pub tls: bool,
    /// The line, without its CRLF.
    pub text: String,
}

/// A message as stored: envelope, the DATA bytes with dots unstuffed, and who sent it.
#[derive(Clone, Debug)]
pub struct Stored {
    /// The MAIL FROM address.
    pub mail_from: String,
    /// The RCPT TO addresses the server accepted.
    pub rcpt_to: Vec<String>,
    /// The DATA bytes, dots unstuffed, without the final `.` line.
    pub data: Vec<u8>,
    /// The user AUTH logged in, if any.
    pub auth_user: Option<String>,
    /// The TLS-SRP username of the connection, if SRP was used.
    pub srp_user: Option<String>,
    /// Whether the client presented a certificate.
    pub client_cert: bool,
}

/// Everything the scripted SMTP server has seen.
#[derive(Clone, Debug, Default)]
pub struct Received {
    /// Every command line, in order.
    pub lines: Vec<Line>,
    /// Every message stored, in order.
    pub messages: Vec<Stored>,
    /// Connections the server is done with.
    pub sessions_ended: usize,
}

impl Received {
    /// The command verbs, in order (`EHLO`, `STARTTLS`, …).
    pub fn verbs(&self) -> Vec<String> {
        self.lines
            .iter()
            .map(|l| {
                l.text
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_ascii_uppercase()
            })
            .collect()
    }
}

/// A scripted SMTP server on a loopback port, recording what clients send.
pub struct SmtpServer {
    /// Where it listens.
    pub addr: SocketAddr,
    received: Arc<Mutex<Received>>,
    running: Option<RunningServer>,
}

impl SmtpServer {
    /// Plaintext first, STARTTLS as `options` say.
    pub fn starttls(config: ServerConfig, options: Options) -> Self {
        let received = Arc::new(Mutex::new(Received::default()));
        let shared = (Arc::new(options), received.clone());
        let running = TlsServer::builder(config)
            .bind("127.0.0.1:0")
            .expect("bind")
            .spawn_plain(move |mut conn: PlainConnection| {
                let mut session = Session::new(&shared.0, &shared.1);
                let result = (|| {
                    if let Next::Upgrade = session.serve(&mut conn, true)? {
                        let mut tls = conn.starttls()?;
                        session.secured(&tls);
                        session.serve(&mut tls, false)?;
                        tls.close()?;
                    }
                    Ok(())
                })();
                session.ended();
                result
            });
        Self::new(running, received)
    }

    /// TLS from the first byte (port 465 style).
    pub fn implicit(config: ServerConfig, options: Options) -> Self {
        let received = Arc::new(Mutex::new(Received::default()));
        let shared = (Arc::new(options), received.clone());
        let running = TlsServer::builder(config)
            .bind("127.0.0.1:0")
            .expect("bind")
            .spawn(
                move |tls: &mut tls::TlsStream<tls_server::Socket>,
                      _: &tls_server::ConnectionInfo| {
                    let mut session = Session::new(&shared.0, &shared.1);
                    session.secured(tls);
                    let result = session.serve(tls, true).map(drop);
                    session.ended();
                    result
                },
            );
        Self::new(running, received)
    }

    fn new(running: RunningServer, received: Arc<Mutex<Received>>) -> Self {
        Self {
            addr: running.addr,
            received,
            running: Some(running),
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Everything received so far.
    pub fn received(&self) -> Received {
        self.received.lock().unwrap().clone()
    }

    /// What was received once `sessions` connections have ended (panics after a while).
    pub fn received_after(&self, sessions: usize) -> Received {
        let deadline = std::time::Instant::now() + TIMEOUT;
        loop {
            let received = self.received();
            if received.sessions_ended >= sessions {
                return received;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "only {} sessions ended",
                received.sessions_ended
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = running.shutdown(Duration::from_millis(200));
        }
    }
}

enum Next {
    Upgrade,
    Done,
}

/// One client's state.
struct Session<'a> {
    options: &'a Options,
    received: &'a Mutex<Received>,
    tls: bool,
    srp_user: Option<String>,
    client_cert: bool,
    auth_user: Option<String>,
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
}

/// One line with its line end, `None` at the end of the stream.
fn read_line(s: &mut impl BufRead) -> io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    if s.read_until(b'\n', &mut line)? == 0 {
        return Ok(None);
    }
    Ok(Some(line))
}

impl<'a> Session<'a> {
    fn new(options: &'a Options, received: &'a Mutex<Received>) -> Self {
        Self {
            options,
            received,
            tls: false,
            srp_user: None,
            client_cert: false,
            auth_user: None,
            mail_from: None,
            rcpt_to: Vec::new(),
        }
    }

    /// TLS is up: note who the client is and forget the plaintext state (RFC 3207).
    fn secured<S: io::Read + Write>(&mut self, tls: &tls::TlsStream<S>) {
        self.tls = true;
        self.srp_user = tls.session().srp_username().map(str::to_owned);
        self.client_cert = tls.session().peer_certificate().is_some();
        self.auth_user = None;
        self.mail_from = None;
        self.rcpt_to.clear();
    }

    fn ended(&self) {
        self.received.lock().unwrap().sessions_ended += 1;
    }

    /// Reads a command line and records it.
    fn command(&self, s: &mut impl BufRead) -> io::Result<Option<String>> {
        let Some(line) = read_line(s)? else {
            return Ok(None);
        };
        let text = String::from_utf8_lossy(&line).trim_end().to_owned();
        self.received.lock().unwrap().lines.push(Line {
            tls: self.tls,
            text: text.clone(),
        });
        Ok(Some(text))
    }

    fn serve<S: BufRead + Write>(&mut self, s: &mut S, greet: bool) -> io::Result<Next> {
        // Greet on a fresh connection only: after STARTTLS the client speaks first.
        if greet {
            s.write_all(b"220 localhost ESMTP test server\r\n")?;
        }
        while let Some(line) = self.command(s)? {
            let (verb, arg) = line.split_once(' ').unwrap_or((&line, ""));
            let reply = match verb.to_ascii_uppercase().as_str() {
                "EHLO" => self.ehlo(),
                "STARTTLS" => match (self.tls, self.options.starttls) {
                    (true, _) => "503 already under TLS".into(),
                    (false, StartTls::Offer) => {
                        s.write_all(b"220 2.0.0 go ahead\r\n")?;
                        return Ok(Next::Upgrade);
                    }
                    (false, StartTls::Inject) => {
                        s.write_all(b"220 2.0.0 go ahead\r\n250 forged\r\n")?;
                        return Ok(Next::Upgrade);
                    }
                    (false, StartTls::Refuse) => "454 4.7.0 TLS not available now".into(),
                    (false, StartTls::NotOffered) => "502 5.5.1 not implemented".into(),
                },
                "AUTH" => self.auth(s, arg)?,
                "MAIL" => {
                    self.mail_from = Some(arg.to_owned());
                    "250 2.1.0 ok".into()
                }
                "RCPT" => self.rcpt(arg),
                "DATA" => match self.data(s)? {
                    Some(reply) => reply,
                    None => return Ok(Next::Done),
                },
                "RSET" => {
                    self.mail_from = None;
                    self.rcpt_to.clear();
                    "250 2.0.0 reset".into()
                }
                "NOOP" => "250 2.0.0 ok".into(),
                "QUIT" if self.options.hang_up_on_quit => return Ok(Next::Done),
                "QUIT" => {
                    s.write_all(b"221 2.0.0 bye\r\n")?;
                    s.flush()?;
                    return Ok(Next::Done);
                }
                _ => "500 5.5.2 what?".into(),
            };
            s.write_all(format!("{reply}\r\n").as_bytes())?;
            s.flush()?;
        }
        Ok(Next::Done)
    }

    fn ehlo(&self) -> String {
        let mut lines = vec!["localhost greets you".to_owned()];
        if !self.tls && self.options.starttls != StartTls::NotOffered {
            lines.push("STARTTLS".into());
        }
        lines.push(format!("AUTH {}", self.options.auth));
        if let Some(size) = self.options.size {
            lines.push(format!("SIZE {size}"));
        }
        if self.options.eight_bit_mime {
            lines.push("8BITMIME".into());
        }
        if self.options.smtputf8 {
            lines.push("SMTPUTF8".into());
        }
        let last = lines.len() - 1;
        lines
            .iter()
            .enumerate()
            .map(|(i, l)| format!("250{}{l}", if i == last { ' ' } else { '-' }))
            .collect::<Vec<_>>()
            .join("\r\n")
    }

    /// Reads one base64 line of an AUTH exchange.
    fn auth_line(&self, s: &mut impl BufRead) -> io::Result<Vec<u8>> {
        let line = self.command(s)?.unwrap_or_default();
        Ok(B64.decode(line.trim()).unwrap_or_default())
    }

    fn auth<S: BufRead + Write>(&mut self, s: &mut S, arg: &str) -> io::Result<String> {
        let (mechanism, initial) = arg.split_once(' ').unwrap_or((arg, ""));
        let (user, password) = match mechanism.to_ascii_uppercase().as_str() {
            "PLAIN" => {
                let response = if initial.is_empty() {
                    s.write_all(b"334 \r\n")?;
                    s.flush()?;
                    self.auth_line(s)?
                } else {
                    B64.decode(initial).unwrap_or_default()
                };
                let mut parts = response.split(|&b| b == 0).skip(1);
                (
                    parts.next().unwrap_or_default().to_vec(),
                    parts.next().unwrap_or_default().to_vec(),
                )
            }
            "LOGIN" => {
                s.write_all(b"334 VXNlcm5hbWU6\r\n")?;
                s.flush()?;
                let user = self.auth_line(s)?;
                s.write_all(b"334 UGFzc3dvcmQ6\r\n")?;
                s.flush()?;
                (user, self.auth_line(s)?)
            }
            _ => return Ok("504 5.5.4 unknown mechanism".into()),
        };
        if user == USER.as_bytes() && password == PASSWORD.as_bytes() {
            self.auth_user = Some(USER.into());
            Ok("235 2.7.0 authenticated".into())
        } else {
            Ok("535 5.7.8 bad credentials".into())
        }
    }

    fn rcpt(&mut self, arg: &str) -> String {
        let address = arg
            .split_once('<')
            .and_then(|(_, rest)| rest.split_once('>'))
            .map_or("", |(a, _)| a);
        if let Some(reply) = self.options.rcpt_reply {
            return reply.into();
        }
        if self.options.refuse.iter().any(|r| r == address) {
            return "550 5.1.1 no such user".into();
        }
        self.rcpt_to.push(address.to_owned());
        "250 2.1.5 ok".into()
    }

    /// Takes a message; the reply to send, or `None` to hang up.
    fn data<S: BufRead + Write>(&mut self, s: &mut S) -> io::Result<Option<String>> {
        let Some(mail_from) = self.mail_from.take() else {
            return Ok(Some("503 5.5.1 MAIL first".into()));
        };
        if self.rcpt_to.is_empty() {
            return Ok(Some("554 5.5.1 no valid recipients".into()));
        }
        s.write_all(b"354 go on\r\n")?;
        s.flush()?;
        let mut data = Vec::new();
        loop {
            let Some(line) = read_line(s)? else {
                return Err(io::ErrorKind::UnexpectedEof.into());
            };
            if line == b".\r\n" {
                break;
            }
            data.extend_from_slice(line.strip_prefix(b".").unwrap_or(&line));
        }
        let mut received = self.received.lock().unwrap();
        received.messages.push(Stored {
            mail_from,
            rcpt_to: std::mem::take(&mut self.rcpt_to),
            data,
            auth_user: self.auth_user.clone(),
            srp_user: self.srp_user.clone(),
            client_cert: self.client_cert,
        });
        let queued = format!("250 2.0.0 queued as {}", received.messages.len());
        drop(received);
        Ok(match self.options.after_data {
            AfterData::Accept => Some(queued),
            AfterData::Answer(reply) => Some(reply.into()),
            AfterData::Late(delay) => {
                std::thread::sleep(delay);
                Some(queued)
            }
            AfterData::HangUp => None,
        })
    }
}
