//! mosquitto 2.0 as a real MQTT broker over TLS-PSK: a private instance from a generated config
//! (one listener on 127.0.0.1, a free port, `psk_file`, identities as usernames, no anonymous
//! clients, no persistence), its log in its own folder, stopped by PID on drop.

use std::process::Command;

use tls::psk::ExternalPsk;

use crate::psk_peers::{peer_dir, read_log, spawn_logged, wait_until_listening, write_key_file};
use crate::{free_port, peer, PeerProcess};

/// The `psk_hint` the broker sends (TLS 1.2 only; TLS 1.3 has no hints).
pub const MOSQUITTO_PSK_HINT: &str = "tls-testkit";

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

    /// As [`start`](Self::start), with `extra` lines for the listener (e.g. `tls_version tlsv1.2`).
    pub fn start_with(keys: &[ExternalPsk], extra: &[&str]) -> Option<Self> {
        let mosquitto = peer("mosquitto")?;
        let dir = peer_dir("mosquitto");
        let psk_file = write_key_file(dir.path(), "psk", keys);
        // A free port may be taken by a parallel test before the broker binds it: it then
        // exits saying so, and we try another.
        for attempt in 1.. {
            let port = free_port();
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
            let mut process =
                spawn_logged(Command::new(&mosquitto).arg("-c").arg(&conf), dir.path());
            match wait_until_listening(&mut process, port, "mosquitto", || read_log(dir.path())) {
                Ok(()) => return Some(Self { port, process, dir }),
                Err(why) if attempt < 5 && why.contains("Address already in use") => {}
                Err(why) => panic!("{why}"),
            }
        }
        unreachable!()
    }

    /// What the broker logged so far (every log type).
    pub fn log(&self) -> String {
        read_log(self.dir.path())
    }

    /// Waits up to 5 s for `text` in the log (the broker may log an event just after the
    /// client saw it); the log, found or not.
    pub fn log_with(&self, text: &str) -> String {
        let started = std::time::Instant::now();
        loop {
            let log = self.log();
            if log.contains(text) || started.elapsed() > std::time::Duration::from_secs(5) {
                return log;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// The broker's PID.
    pub fn pid(&self) -> u32 {
        self.process.0.id()
    }
}
