//! GnuTLS's SRP tools as test peers: password files from `srptool`, servers from `gnutls-serv`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{peer, run, succeeded, PeerProcess};

/// Makes `tpasswd` and `tpasswd.conf` in `dir` with `user` in group `index` of srptool's
/// numbering (3 = 2048 bits). `None` (after saying so) when srptool is missing.
pub fn srptool_passwd(
    dir: &Path,
    user: &str,
    password: &str,
    index: u32,
) -> Option<(PathBuf, PathBuf)> {
    let srptool = peer("srptool")?;
    let conf = dir.join("tpasswd.conf");
    let passwd = dir.join("tpasswd");
    succeeded(&run(
        Command::new(&srptool).arg(format!("--create-conf={}", conf.display())),
        b"",
    ));
    succeeded(&run(
        Command::new(&srptool)
            .arg(format!("--passwd={}", passwd.display()))
            .arg(format!("--passwd-conf={}", conf.display()))
            .arg(format!("--index={index}"))
            .args(["-u", user]),
        format!("{password}\n").as_bytes(),
    ));
    Some((passwd, conf))
}

/// A port nothing listens on yet.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("ephemeral port")
        .port()
}

/// Whether a socket is in the LISTEN state on `port` (IPv4 or IPv6), from `/proc/net/tcp*`.
/// A port that is bound but not yet listening (Python's socketserver binds, then listens)
/// would reset a connection made in between, so being bound is not enough.
pub(crate) fn listening(port: u16) -> bool {
    let wanted = format!(":{port:04X}");
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|table| {
        std::fs::read_to_string(table)
            .unwrap_or_default()
            .lines()
            .skip(1)
            .any(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                fields.len() > 3 && fields[1].ends_with(&wanted) && fields[3] == "0A"
            })
    })
}

/// Waits until something listens on `port`.
pub fn wait_listening(port: u16) {
    let started = Instant::now();
    while !listening(port) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "nothing listens on {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `gnutls-serv` serving SRP from these files with `priority` (plus `extra` arguments),
/// listening when this returns. `None` when gnutls-serv is missing.
pub fn gnutls_serv(
    passwd: &Path,
    conf: &Path,
    priority: &str,
    extra: &[&str],
) -> Option<(PeerProcess, u16)> {
    let serv = peer("gnutls-serv")?;
    let port = free_port();
    let process = PeerProcess::spawn(
        Command::new(serv)
            .args(["--port", &port.to_string(), "--priority", priority])
            .args(extra)
            .arg("--srppasswd")
            .arg(passwd)
            .arg("--srppasswdconf")
            .arg(conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    wait_listening(port);
    Some((process, port))
}
