//! mosquitto 2.0 as a real MQTT broker over TLS-PSK: a private instance from a generated config
//! (one listener on 127.0.0.1, a free port, `psk_file`, identities as usernames, no anonymous
//! clients, no persistence), its log in its own folder, stopped by PID on drop.

use std::process::Command;

use tls::psk::ExternalPsk;

use crate::psk_peers::{
    on_free_port, peer_dir, read_log, read_log_with, spawn_logged, write_key_file,
};
use crate::{hex, peer, run, PeerProcess};

/// The `psk_hint` the broker sends (TLS 1.2 only; TLS 1.3 has no hints).
pub const MOSQUITTO_PSK_HINT: &str = "tls-testkit";

/// An OpenSSL configuration capping every TLS context of a process at TLS 1.2.
const OPENSSL_MAX_TLS12: &str = "openssl_conf = default_conf\n\
    [default_conf]\nssl_conf = ssl_sect\n\
    [ssl_sect]\nsystem_default = system_default_sect\n\
    [system_default_sect]\nMaxProtocol = TLSv1.2\n";

/// A running private mosquitto broker.
pub struct Mosquitto {
    /// Its MQTT-over-TLS-PSK listener on 127.0.0.1.
    pub port: u16,
    process: PeerProcess,
    dir: tempfile::TempDir,
}

impl Mosquitto {
    /// Starts a broker that knows `keys` (written as `identity:hexkey` lines by
    /// [`tls::psk::format_key_file`]). `None` (after a loud skip) when mosquitto is missing;
    /// panics under `TLS_PEERS_REQUIRED=1` then, and whenever the broker fails to start.
    pub fn start(keys: &[ExternalPsk]) -> Option<Self> {
        Self::start_with(keys, &[])
    }

    /// As [`start`](Self::start), with `extra` lines for the listener. Note that
    /// `tls_version tlsv1.2` sets the *lowest* version in mosquitto 2.0: TLS 1.3 is still
    /// served ([`start_tls12_only`](Self::start_tls12_only) caps it).
    pub fn start_with(keys: &[ExternalPsk], extra: &[&str]) -> Option<Self> {
        Self::start_inner(keys, extra, false)
    }

    /// A broker that speaks TLS 1.2 and nothing newer, as brokers pinned to 1.2 for their PSK
    /// listeners do: `tls_version tlsv1.2`, and (since mosquitto has no setting for the highest
    /// version) an OpenSSL configuration with `MaxProtocol = TLSv1.2` given by `OPENSSL_CONF`.
    pub fn start_tls12_only(keys: &[ExternalPsk]) -> Option<Self> {
        Self::start_inner(keys, &["tls_version tlsv1.2"], true)
    }

    fn start_inner(keys: &[ExternalPsk], extra: &[&str], max_tls12: bool) -> Option<Self> {
        let mosquitto = peer("mosquitto")?;
        let dir = peer_dir("mosquitto");
        let psk_file = write_key_file(dir.path(), "psk", keys);
        let openssl_conf = dir.path().join("openssl.cnf");
        if max_tls12 {
            std::fs::write(&openssl_conf, OPENSSL_MAX_TLS12).expect("write OpenSSL config");
        }
        let (process, port) = on_free_port(
            |port| {
                let mut config = format!(
                    "per_listener_settings false\nallow_anonymous false\npersistence false\n\
                     log_dest stderr\nlog_type all\n\
                     listener {port} 127.0.0.1\npsk_hint {MOSQUITTO_PSK_HINT}\npsk_file {}\n\
                     use_identity_as_username true\n",
                    psk_file.display()
                );
                for line in extra {
                    config.push_str(line);
                    config.push('\n');
                }
                let conf = dir.path().join("mosquitto.conf");
                std::fs::write(&conf, config).expect("write config");
                let mut command = Command::new(&mosquitto);
                command.arg("-c").arg(&conf);
                if max_tls12 {
                    command.env("OPENSSL_CONF", &openssl_conf);
                }
                let process = spawn_logged(&mut command, dir.path());
                (process, "mosquitto".to_owned(), dir.path().to_owned())
            },
            |process| process,
        );
        Some(Self { port, process, dir })
    }

    /// What the broker logged so far (every log type).
    pub fn log(&self) -> String {
        read_log(self.dir.path())
    }

    /// Waits up to 5 s for `text` in the log (the broker may log an event just after the
    /// client saw it); the log, found or not.
    pub fn log_with(&self, text: &str) -> String {
        read_log_with(self.dir.path(), text)
    }

    /// Publishes `message` on `topic` at QoS 0 with `mosquitto_pub`, over PSK as `psk` (the
    /// broker's own TLS versions). `None` (after a loud skip) when mosquitto_pub is missing;
    /// panics with its output and the broker's log when it fails.
    pub fn publish(&self, psk: &ExternalPsk, topic: &str, message: &str) -> Option<()> {
        let mosquitto_pub = peer("mosquitto_pub")?;
        let out = run(
            Command::new(mosquitto_pub)
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
                .args(["--psk", &hex(psk.key()), "--psk-identity"])
                .arg(psk.identity_lossy())
                .args(["-t", topic, "-m", message]),
            b"",
        );
        assert!(
            out.status.success(),
            "mosquitto_pub: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        Some(())
    }

    /// The broker's PID.
    pub fn pid(&self) -> u32 {
        self.process.0.id()
    }
}
