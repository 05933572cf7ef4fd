//! PSK peers from real stacks, TLS 1.3 and TLS 1.2: `gnutls-serv --pskpasswd`, tlslite-ng's
//! `tls.py server --psk`, `openssl s_server -psk` and `s_client -psk`, and a GnuTLS client;
//! each with its own folder (key file, log), stopped by PID on drop.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tls::psk::{ExternalPsk, PskHash};

use crate::{free_port, peer, PeerProcess, StdioPeer};

/// GnuTLS's priority string for TLS 1.3 with every PSK key exchange it has (PEERS.md).
pub const GNUTLS_PSK_TLS13: &str = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+ECDHE-PSK:+DHE-PSK:+PSK";

/// GnuTLS's priority string for TLS 1.2 with the ECDHE-PSK and plain PSK key exchanges. The
/// `+SHA256` matters: NORMAL's MACs are SHA-1 and AEAD only, which leaves
/// TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256 out (`gnutls-cli --priority ... -l` lists the suites).
pub const GNUTLS_PSK_TLS12: &str = "NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+ECDHE-PSK:+PSK:+SHA256";

/// A TLS 1.2 PSK suite that OpenSSL 3.0 and GnuTLS 3.7 both have, as each names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Psk12Suite {
    /// The IANA name, as `HandshakeSettings::cipher_names` and `Session::cipher_suite` spell it.
    pub iana: &'static str,
    /// OpenSSL's name, for `-cipher`.
    pub openssl: &'static str,
    /// A GnuTLS priority string that leaves this suite alone, in TLS 1.2.
    pub gnutls: &'static str,
    /// GnuTLS's name (`TLS_` and `gnutls_cipher_suite_get_name`), as [`gnutls_psk_client`]
    /// prints it.
    pub gnutls_name: &'static str,
    /// ECDHE_PSK (forward secret), or plain PSK, which needs the `tls::dangerous` opt-ins.
    pub forward_secret: bool,
}

/// TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256 (0xCCAC, RFC 7905).
pub const PSK12_ECDHE_CHACHA20: Psk12Suite = Psk12Suite {
    iana: "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256",
    openssl: "ECDHE-PSK-CHACHA20-POLY1305",
    gnutls: "NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+ECDHE-PSK:-CIPHER-ALL:+CHACHA20-POLY1305:-MAC-ALL:+AEAD",
    gnutls_name: "TLS_ECDHE_PSK_CHACHA20_POLY1305",
    forward_secret: true,
};

/// TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256 (0xC037, RFC 5489), with Encrypt-then-MAC.
pub const PSK12_ECDHE_AES128_CBC: Psk12Suite = Psk12Suite {
    iana: "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256",
    openssl: "ECDHE-PSK-AES128-CBC-SHA256",
    gnutls:
        "NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+ECDHE-PSK:-CIPHER-ALL:+AES-128-CBC:-MAC-ALL:+SHA256",
    gnutls_name: "TLS_ECDHE_PSK_AES_128_CBC_SHA256",
    forward_secret: true,
};

/// TLS_PSK_WITH_AES_128_GCM_SHA256 (0x00A8, RFC 5487): plain PSK, no forward secrecy.
pub const PSK12_PLAIN_AES128_GCM: Psk12Suite = Psk12Suite {
    iana: "TLS_PSK_WITH_AES_128_GCM_SHA256",
    openssl: "PSK-AES128-GCM-SHA256",
    gnutls: "NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+PSK:-CIPHER-ALL:+AES-128-GCM:-MAC-ALL:+AEAD",
    gnutls_name: "TLS_PSK_AES_128_GCM_SHA256",
    forward_secret: false,
};

/// The three, forward-secret ones first.
pub const PSK12_SUITES: [Psk12Suite; 3] = [
    PSK12_ECDHE_CHACHA20,
    PSK12_ECDHE_AES128_CBC,
    PSK12_PLAIN_AES128_GCM,
];

/// Lower-case hex, as the peers' command lines and key files take keys.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A PSK server peer listening on 127.0.0.1 (or, for gnutls-serv, every address: it has no
/// option to bind one). Killed and reaped when dropped.
pub struct PskServer {
    /// Where it listens.
    pub port: u16,
    process: PeerProcess,
    dir: tempfile::TempDir,
}

impl PskServer {
    /// Starts `command(port)` in `dir` on a free port and waits until it listens; panics with
    /// its log when it exits first.
    fn start(dir: tempfile::TempDir, command: impl Fn(u16) -> Command) -> Self {
        let (process, port) = on_free_port(
            |port| {
                let mut command = command(port);
                let process = spawn_logged(&mut command, dir.path());
                (process, format!("{command:?}"), dir.path().to_owned())
            },
            |process| process,
        );
        Self { port, process, dir }
    }

    /// What the peer printed so far (stdout and stderr).
    pub fn log(&self) -> String {
        read_log(self.dir.path())
    }

    /// Waits up to 5 s for `text` in the log (a peer may log an event just after the client
    /// saw it); the log, found or not.
    pub fn log_with(&self, text: &str) -> String {
        read_log_with(self.dir.path(), text)
    }

    /// The peer's PID.
    pub fn pid(&self) -> u32 {
        self.process.0.id()
    }
}

/// Spawns `command` in `dir` with stdout and stderr in `dir/log` (a file: a pipe nobody reads
/// would block a chatty peer).
pub(crate) fn spawn_logged(command: &mut Command, dir: &Path) -> PeerProcess {
    let log = std::fs::File::create(dir.join("log")).expect("log file");
    PeerProcess::spawn(
        command
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log),
    )
}

/// What a peer started by [`spawn_logged`] in `dir` printed so far.
pub(crate) fn read_log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("log")).unwrap_or_default()
}

/// What a peer started by [`spawn_logged`] in `dir` printed, once `text` is in it or 5 s have
/// passed.
pub(crate) fn read_log_with(dir: &Path, text: &str) -> String {
    let started = Instant::now();
    loop {
        let log = read_log(dir);
        if log.contains(text) || started.elapsed() > Duration::from_secs(5) {
            return log;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until something listens on `port`; an error with `log()` when `process` exits
/// first or after 20 s.
pub(crate) fn wait_until_listening(
    process: &mut PeerProcess,
    port: u16,
    what: &str,
    log: impl Fn() -> String,
) -> Result<(), String> {
    let started = Instant::now();
    while !crate::gnutls::listening(port) {
        if let Some(status) = process.0.try_wait().expect("try_wait") {
            return Err(format!(
                "{what} exited ({status}) before listening on {port}:\n{}",
                log()
            ));
        }
        if started.elapsed() > Duration::from_secs(20) {
            return Err(format!("{what}: nothing listens on {port}:\n{}", log()));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// Runs `spawn(port)` (a peer, a name for it, the folder of its log) on a free port and waits
/// until `process` of it listens there. A port drawn free may be taken by a parallel test before
/// the peer binds it: the peer then exits saying "Address already in use", and another port is
/// tried, up to 5 times. Panics with the peer's log when it fails otherwise.
pub(crate) fn on_free_port<T>(
    mut spawn: impl FnMut(u16) -> (T, String, PathBuf),
    process: impl Fn(&mut T) -> &mut PeerProcess,
) -> (T, u16) {
    for attempt in 1.. {
        let port = free_port();
        let (mut peer, what, dir) = spawn(port);
        match wait_until_listening(process(&mut peer), port, &what, || read_log(&dir)) {
            Ok(()) => return (peer, port),
            Err(why) if attempt < 5 && why.contains("already in use") => {}
            Err(why) => panic!("{why}"),
        }
    }
    unreachable!()
}

/// A private folder for a peer's files.
pub(crate) fn peer_dir(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("temp dir")
}

/// Writes `keys` to `dir/name` as `identity:hexkey` lines ([`tls::psk::format_key_file`], the
/// format of GnuTLS's `--pskpasswd` and mosquitto's `psk_file`) and gives its path.
pub(crate) fn write_key_file(dir: &Path, name: &str, keys: &[ExternalPsk]) -> PathBuf {
    let path = dir.join(name);
    let text = tls::psk::format_key_file(keys).expect("key file");
    std::fs::write(&path, text.as_bytes()).expect("write key file");
    path
}

/// `gnutls-serv --pskpasswd` with `keys` written as `identity:hexkey` lines by
/// [`tls::psk::format_key_file`], `priority` (e.g. [`GNUTLS_PSK_TLS13`]) and `mode`
/// (`--echo` or `--http`). `None` (after a loud skip) when gnutls-serv is missing.
pub fn gnutls_psk_serv(keys: &[ExternalPsk], priority: &str, mode: &str) -> Option<PskServer> {
    let serv = peer("gnutls-serv")?;
    let dir = peer_dir("gnutls-psk");
    let file = write_key_file(dir.path(), "psk.passwd", keys);
    Some(PskServer::start(dir, |port| {
        let mut command = Command::new(&serv);
        command
            .args(["--port", &port.to_string(), "--priority", priority, mode])
            .arg("--pskpasswd")
            .arg(&file);
        command
    }))
}

/// tlslite-ng's `tls.py server --echo` with one PSK (`--psk-sha384` for a SHA-384 one), on
/// `localhost`. `None` (after a loud skip) when tlslite-ng is missing.
pub fn tlslite_psk_server(psk: &ExternalPsk) -> Option<PskServer> {
    let tls_py = peer("tls.py")?;
    Some(PskServer::start(peer_dir("tlslite-psk"), |port| {
        let mut command = Command::new(&tls_py);
        command
            .arg("server")
            .args(tlslite_psk_args(psk))
            .arg("--echo")
            .arg(format!("localhost:{port}"));
        command
    }))
}

/// The `--psk HEX --psk-ident ID [--psk-sha384]` arguments of tlslite-ng's `tls.py`.
pub fn tlslite_psk_args(psk: &ExternalPsk) -> Vec<String> {
    let mut args = vec![
        "--psk".into(),
        hex(psk.key()),
        "--psk-ident".into(),
        psk.identity_lossy(),
    ];
    if psk.hash() == PskHash::Sha384 {
        args.push("--psk-sha384".into());
    }
    args
}

/// The `s_server` arguments for `psk` on 127.0.0.1:`port`, without a certificate.
fn s_server_args(psk: &ExternalPsk, port: u16) -> Vec<String> {
    let mut args = vec![
        "s_server".to_owned(),
        "-accept".to_owned(),
        format!("127.0.0.1:{port}"),
        "-nocert".to_owned(),
    ];
    args.extend(openssl_psk_args(psk));
    args
}

/// The `-psk HEX -psk_identity ID` arguments of `openssl s_server` and `s_client`.
pub fn openssl_psk_args(psk: &ExternalPsk) -> [String; 4] {
    [
        "-psk".into(),
        hex(psk.key()),
        "-psk_identity".into(),
        psk.identity_lossy(),
    ]
}

/// `openssl s_server -accept 127.0.0.1:PORT -nocert -psk HEX -psk_identity ID` and `args`
/// (the version, `-cipher`, a mode such as `-www`), listening when this returns; its output in
/// [`PskServer::log`]. It has one key and takes any identity with it (a client naming another
/// is only warned about: "PSK warning: client identity not what we expected"). `None` (after a
/// loud skip) when openssl is missing.
pub fn openssl_psk_server(psk: &ExternalPsk, args: &[&str]) -> Option<PskServer> {
    let openssl = peer("openssl")?;
    Some(PskServer::start(peer_dir("openssl-psk"), |port| {
        let mut command = Command::new(&openssl);
        command.args(s_server_args(psk, port)).args(args);
        command
    }))
}

/// `openssl s_server` as [`openssl_psk_server`] in data mode, for one connection (`-quiet
/// -naccept 1`): what the client sends lands in [`StdioPeer::stdout`], what
/// [`StdioPeer::feed`] gives goes to the client, and the server exits once the client has
/// closed. `None` (after a loud skip) when openssl is missing.
pub fn openssl_psk_stdio_server(psk: &ExternalPsk, args: &[&str]) -> Option<StdioPeer> {
    let openssl = peer("openssl")?;
    let (mut server, port) = on_free_port(
        |port| {
            let mut command = Command::new(&openssl);
            command
                .args(s_server_args(psk, port))
                .args(["-quiet", "-naccept", "1"])
                .args(args);
            let peer = StdioPeer::spawn(&mut command, peer_dir("openssl-psk"), None);
            let dir = peer.dir().to_owned();
            (peer, format!("{command:?}"), dir)
        },
        StdioPeer::process,
    );
    server.port = port;
    Some(server)
}

/// `openssl s_client -connect 127.0.0.1:PORT -psk HEX -psk_identity ID` and `args` (the
/// version, `-cipher`, `-quiet` for data alone on stdout…), sending `input`. Its stdin ends after
/// `input`: give `-quiet` or `-ign_eof` to keep it reading until the server closes. `None`
/// (after a loud skip) when openssl is missing.
pub fn openssl_psk_client(
    port: u16,
    psk: &ExternalPsk,
    args: &[&str],
    input: &[u8],
) -> Option<StdioPeer> {
    let openssl = peer("openssl")?;
    let mut command = Command::new(openssl);
    command
        .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .args(openssl_psk_args(psk))
        .args(args);
    Some(StdioPeer::spawn(
        &mut command,
        peer_dir("openssl-client"),
        Some(input),
    ))
}

/// A GnuTLS client (the system's libgnutls through `peers/gnutls_psk_client.py`) to `localhost`
/// (127.0.0.1) on `port` with `priority`, sending `input`, then keeping what the server sends in
/// [`StdioPeer::stdout`] until it closes. Its stderr says what was negotiated (`version:
/// TLS1.2`, `suite: TLS_ECDHE_PSK_CHACHA20_POLY1305`, `description: (TLS1.2)-(ECDHE-X25519)-…`)
/// or why it failed (`alert received: Bad record MAC (20)`). gnutls-cli 3.7 itself cannot be the
/// client of TLS 1.2 ECDHE-PSK: it crashes (SIGSEGV in gnutls_psk_server_get_username, called
/// by its session printout) right after the handshake. `None` (after a loud skip) when GnuTLS
/// or python3 is missing.
pub fn gnutls_psk_client(
    port: u16,
    psk: &ExternalPsk,
    priority: &str,
    input: &[u8],
) -> Option<StdioPeer> {
    // The library comes with GnuTLS's tools (libgnutls30 is a dependency of gnutls-bin).
    peer("gnutls-serv")?;
    let python = peer("python3")?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/gnutls_psk_client.py");
    let mut command = Command::new(python);
    command
        .arg(script)
        .args(["localhost", &port.to_string(), priority])
        .arg(psk.identity_lossy())
        .arg(hex(psk.key()));
    Some(StdioPeer::spawn(
        &mut command,
        peer_dir("gnutls-client"),
        Some(input),
    ))
}
