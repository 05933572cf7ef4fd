//! aiosmtpd (Python) as a real SMTP peer: a STARTTLS-required submission port and an
//! implicit-TLS port, AUTH PLAIN/LOGIN, every accepted message kept byte for byte.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{peers_required, Identity, PeerProcess};

/// The server script. Argument: its folder.
///
/// In the folder it reads `cert.pem`, `key.pem` and `users` (`name<TAB>password` lines), listens
/// on two ephemeral ports of 127.0.0.1 and writes `ready` (`STARTTLS-port implicit-port`) once
/// both listen, and for message number N writes `N.eml` (the DATA bytes,
/// dots unstuffed, CRLF kept) and then `N.envelope` (`key value` lines).
const SCRIPT: &str = r#"
import asyncio, os, signal, ssl, sys
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

folder = sys.argv[1]

def users():
    with open(os.path.join(folder, "users"), encoding="utf-8") as f:
        return dict(line.rstrip("\n").split("\t", 1) for line in f if "\t" in line)

def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and users().get(
        auth_data.login.decode("utf-8", "replace")) == auth_data.password.decode("utf-8", "replace")
    # handled=False makes aiosmtpd answer 535 itself; with True it answers nothing at all.
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

def publish(name, data):
    tmp = os.path.join(folder, name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, os.path.join(folder, name))

class Store:
    count = 0

    async def handle_DATA(self, server, session, envelope):
        Store.count += 1
        name = "%06d" % Store.count
        publish(name + ".eml", envelope.original_content)
        lines = ["mail_from " + envelope.mail_from]
        lines += ["rcpt_to " + r for r in envelope.rcpt_tos]
        lines += ["mail_option " + o for o in envelope.mail_options]
        if session.auth_data is not None:
            lines.append("auth_login " + session.auth_data.login.decode("utf-8", "replace"))
        tls = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        lines.append("tls " + ("yes" if tls else "no"))
        publish(name + ".envelope", ("\n".join(lines) + "\n").encode("utf-8"))
        return "250 2.0.0 stored as " + name

def context():
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem"))
    return ctx

async def main():
    loop = asyncio.get_running_loop()
    store = Store()
    options = dict(hostname="localhost", authenticator=authenticator, auth_required=True,
                   enable_SMTPUTF8=True)
    plain = await loop.create_server(
        lambda: SMTP(store, tls_context=context(), require_starttls=True, **options),
        "127.0.0.1", 0)
    # aiosmtpd counts only STARTTLS as TLS for AUTH: on the implicit port, lift that rule.
    implicit = await loop.create_server(
        lambda: SMTP(store, auth_require_tls=False, **options),
        "127.0.0.1", 0, ssl=context())
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    port = lambda server: server.sockets[0].getsockname()[1]
    publish("ready", b"%d %d\n" % (port(plain), port(implicit)))
    await stop.wait()
    plain.close()
    implicit.close()

import warnings
warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
asyncio.run(main())
"#;

/// A message aiosmtpd accepted: the envelope and the bytes as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SmtpDelivery {
    /// `MAIL FROM` address.
    pub mail_from: String,
    /// `RCPT TO` addresses, in order.
    pub rcpt_to: Vec<String>,
    /// `MAIL FROM` parameters (`BODY=8BITMIME`, `SIZE=…`).
    pub mail_options: Vec<String>,
    /// The user that logged in with AUTH.
    pub auth_login: Option<String>,
    /// Whether the message came over TLS.
    pub tls: bool,
    /// The message, byte for byte (dots unstuffed, CRLF line ends as sent).
    pub data: Vec<u8>,
}

/// A running aiosmtpd, stopped when dropped.
pub struct Aiosmtpd {
    /// Plaintext port that requires STARTTLS before anything but EHLO/NOOP/QUIT.
    pub starttls_port: u16,
    /// Implicit-TLS port (port 465 style).
    pub implicit_port: u16,
    /// Killed and reaped when dropped (before the folder goes).
    _process: PeerProcess,
    dir: tempfile::TempDir,
}

/// The project's peers venv, where `scripts/install-peers.sh` puts aiosmtpd.
fn venv_python() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.peers/venv/bin/python")
}

/// The venv's Python if it can import aiosmtpd; otherwise `None` after saying why (or a panic
/// under `TLS_PEERS_REQUIRED=1`).
fn aiosmtpd_python() -> Option<PathBuf> {
    let python = venv_python();
    let works = python.is_file()
        && Command::new(&python)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if works {
        return Some(python);
    }
    let why = format!(
        "peer aiosmtpd is not installed in {} (scripts/install-peers.sh)",
        python.display()
    );
    if peers_required() {
        panic!("{why} and TLS_PEERS_REQUIRED=1");
    }
    eprintln!("SKIPPED: {why} (set TLS_PEERS_REQUIRED=1 to fail instead)");
    None
}

impl Aiosmtpd {
    /// Starts aiosmtpd with `identity` as its certificate and these users for AUTH, on two
    /// ephemeral ports of 127.0.0.1 that it binds itself (so parallel tests cannot race for
    /// them); both listen when this returns. `None` when aiosmtpd is missing.
    pub fn start(identity: &Identity, users: &[(&str, &str)]) -> Option<Self> {
        let python = aiosmtpd_python()?;
        let dir = tempfile::Builder::new()
            .prefix("aiosmtpd")
            .tempdir_in("/tmp")
            .expect("temp dir");
        let write = |name: &str, text: &str| {
            std::fs::write(dir.path().join(name), text).expect("write aiosmtpd file")
        };
        write("smtpd.py", SCRIPT);
        write("cert.pem", &identity.chain_pem);
        write("key.pem", &identity.key_pem);
        let list: String = users.iter().map(|(u, p)| format!("{u}\t{p}\n")).collect();
        write("users", &list);
        let mut process = PeerProcess::spawn(
            Command::new(python)
                .arg(dir.path().join("smtpd.py"))
                .arg(dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::from(
                    std::fs::File::create(dir.path().join("stderr")).expect("stderr file"),
                )),
        );
        let started = Instant::now();
        while !dir.path().join("ready").exists() {
            if let Ok(Some(status)) = process.0.try_wait() {
                let stderr = std::fs::read_to_string(dir.path().join("stderr")).unwrap_or_default();
                panic!("aiosmtpd exited with {status} before it was ready:\n{stderr}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "aiosmtpd not ready after 20 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let ready = std::fs::read_to_string(dir.path().join("ready")).expect("read ready");
        let ports: Vec<u16> = ready
            .split_whitespace()
            .map(|p| p.parse().expect("port in ready"))
            .collect();
        let [starttls_port, implicit_port] = ports[..] else {
            panic!("aiosmtpd wrote {ready:?} as its ports");
        };
        Some(Self {
            starttls_port,
            implicit_port,
            _process: process,
            dir,
        })
    }

    /// The messages accepted so far, in order.
    pub fn deliveries(&self) -> Vec<SmtpDelivery> {
        let mut envelopes: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("read aiosmtpd folder")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "envelope"))
            .collect();
        envelopes.sort();
        envelopes.iter().map(|p| read_delivery(p)).collect()
    }

    /// What the server wrote to stderr (its log).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr")).unwrap_or_default()
    }
}

/// Reads `N.envelope` and its `N.eml`.
fn read_delivery(envelope: &Path) -> SmtpDelivery {
    let mut d = SmtpDelivery {
        data: std::fs::read(envelope.with_extension("eml")).expect("stored message"),
        ..SmtpDelivery::default()
    };
    let text = std::fs::read_to_string(envelope).expect("envelope");
    for line in text.lines() {
        let (key, value) = line.split_once(' ').unwrap_or((line, ""));
        let value = value.to_owned();
        match key {
            "mail_from" => d.mail_from = value,
            "rcpt_to" => d.rcpt_to.push(value),
            "mail_option" => d.mail_options.push(value),
            "auth_login" => d.auth_login = Some(value),
            "tls" => d.tls = value == "yes",
            _ => {}
        }
    }
    d
}
