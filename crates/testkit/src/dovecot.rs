//! Dovecot 2.3 as a real IMAP and POP3 peer: its own config and Maildirs in a short temp dir,
//! IMAP (STARTTLS), IMAPS, POP3 (STLS) and POP3S on free loopback ports, stopped by PID on drop.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{free_port, peer, succeeded, wait_listening, Identity};

/// Mail processes may not run as root; 65534 is nobody/nogroup on Debian.
const MAIL_ID: u32 = 65534;

/// A message to put into a user's INBOX before Dovecot starts.
#[derive(Clone, Debug)]
pub struct SeedMessage {
    /// Whose INBOX.
    pub user: String,
    /// The file's bytes, as written to the Maildir (Dovecot serves LF as CRLF).
    pub content: Vec<u8>,
}

/// A running Dovecot instance; SIGTERM and a wait when dropped.
pub struct Dovecot {
    /// IMAP with STARTTLS.
    pub imap_port: u16,
    /// IMAP over implicit TLS.
    pub imaps_port: u16,
    /// POP3 with STLS.
    pub pop3_port: u16,
    /// POP3 over implicit TLS.
    pub pop3s_port: u16,
    users: Vec<String>,
    pid: u32,
    dir: tempfile::TempDir,
}

impl Dovecot {
    /// Starts Dovecot with `identity` as its certificate, these users (name, password) and
    /// messages. `None` (after a loud skip message) when Dovecot is not installed; panics under
    /// `TLS_PEERS_REQUIRED=1` then, and whenever Dovecot fails to start.
    pub fn start(
        identity: &Identity,
        users: &[(&str, &str)],
        seed: &[SeedMessage],
    ) -> Option<Self> {
        let dovecot = peer("dovecot")?;
        // Unix socket paths are short (108 bytes) and the mail uid must traverse the folder.
        let dir = tempfile::Builder::new()
            .prefix("dc")
            .tempdir_in("/tmp")
            .expect("temp dir");
        let d = dir.path().to_path_buf();
        assert!(d.as_os_str().len() <= 75, "{d:?} too long for sockets");
        chmod(&d, "755");
        for sub in ["run", "state", "log", "tls"] {
            std::fs::create_dir_all(d.join(sub)).expect("mkdir");
        }
        std::fs::write(d.join("tls/cert.pem"), &identity.chain_pem).expect("cert");
        std::fs::write(d.join("tls/key.pem"), &identity.key_pem).expect("key");
        chmod(&d.join("tls/key.pem"), "600");
        let passwd: String = users
            .iter()
            .map(|(name, pw)| format!("{name}:{{PLAIN}}{pw}\n"))
            .collect();
        std::fs::write(d.join("users.passwd"), passwd).expect("passwd");
        chmod(&d.join("users.passwd"), "644"); // read by the auth process (user dovecot)
        for (name, _) in users {
            for sub in ["cur", "new", "tmp"] {
                std::fs::create_dir_all(maildir(&d, name).join(sub)).expect("maildir");
            }
        }
        for (n, message) in seed.iter().enumerate() {
            // Dovecot assigns UIDs in the order of the leading timestamps.
            let name = format!("{}.M{n}P1.testkit", 1_700_000_000 + n);
            std::fs::write(
                maildir(&d, &message.user).join("new").join(name),
                &message.content,
            )
            .expect("seed message");
        }
        succeeded(&crate::run(
            Command::new("chown")
                .arg("-R")
                .arg(format!("{MAIL_ID}:{MAIL_ID}"))
                .arg(d.join("mail")),
            b"",
        ));
        let mut server = Dovecot {
            imap_port: free_port(),
            imaps_port: free_port(),
            pop3_port: free_port(),
            pop3s_port: free_port(),
            users: users.iter().map(|(name, _)| name.to_string()).collect(),
            pid: 0,
            dir,
        };
        let conf = d.join("dovecot.conf");
        // Free ports are free when picked, not when Dovecot binds them: tests running in
        // parallel can race for one. A taken port makes dovecot exit; pick new ones and retry.
        for attempt in 1.. {
            std::fs::write(&conf, server.config()).expect("config");
            // dovecot binds every listener, then daemonizes; the master writes its PID a
            // moment later. Its output goes to a file: the daemon inherits the descriptors, so
            // a pipe would never reach end of file.
            let stderr = std::fs::File::create(d.join("log/start.err")).expect("log file");
            let status = Command::new(&dovecot)
                .arg("-c")
                .arg(&conf)
                .stdin(Stdio::null())
                .stdout(stderr.try_clone().expect("log file"))
                .stderr(stderr)
                .status()
                .expect("run dovecot");
            if status.success() {
                break;
            }
            let said = std::fs::read_to_string(d.join("log/start.err")).unwrap_or_default();
            let log = server.log();
            let port_taken =
                said.contains("Address already in use") || log.contains("Address already in use");
            // A taken port is retried quietly; anything else once more, loudly (a start once
            // failed in a full run and could not be reproduced: its reason is printed here).
            assert!(
                attempt < if port_taken { 5 } else { 2 },
                "dovecot failed to start: {said}\n{log}"
            );
            if !port_taken {
                eprintln!("dovecot failed to start, trying again: {said}\n{log}");
            }
            [
                server.imap_port,
                server.imaps_port,
                server.pop3_port,
                server.pop3s_port,
            ] = [free_port(), free_port(), free_port(), free_port()];
        }
        server.pid = crate::peers::read_pid_file(&d.join("run/master.pid"), || server.log());
        for port in server.ports() {
            wait_listening(port);
        }
        Some(server)
    }

    /// The four ports: IMAP, IMAPS, POP3, POP3S.
    pub fn ports(&self) -> [u16; 4] {
        [
            self.imap_port,
            self.imaps_port,
            self.pop3_port,
            self.pop3s_port,
        ]
    }

    /// A user's Maildir (with `cur`, `new` and `tmp`).
    pub fn maildir(&self, user: &str) -> PathBuf {
        maildir(self.dir.path(), user)
    }

    /// The users it was started with.
    pub fn users(&self) -> &[String] {
        &self.users
    }

    /// The folder holding every user's Maildir (`<this>/<user>/Maildir`), owned by the mail
    /// uid, as a delivery agent needs it.
    pub fn mail_root(&self) -> PathBuf {
        self.dir.path().join("mail")
    }

    /// The SASL authentication socket an SMTP server (Postfix) checks passwords through.
    pub fn auth_socket(&self) -> PathBuf {
        self.dir.path().join("run/auth-smtp")
    }

    /// Dovecot's log so far (for assertion messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log/dovecot.log")).unwrap_or_default()
    }

    /// The master's PID from its PID file, or else the process started with our config file
    /// (its path is in this instance's own temp dir, so no other Dovecot matches).
    fn find_master(&self) -> Option<u32> {
        let d = self.dir.path();
        if let Some(pid) = std::fs::read_to_string(d.join("run/master.pid"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            return Some(pid);
        }
        let conf = d.join("dovecot.conf");
        std::fs::read_dir("/proc")
            .ok()?
            .flatten()
            .find_map(|entry| {
                let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
                let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
                cmdline
                    .split(|&b| b == 0)
                    .any(|arg| arg == conf.as_os_str().as_encoded_bytes())
                    .then_some(pid)
            })
    }

    fn config(&self) -> String {
        let d = self.dir.path().display();
        let [imap, imaps, pop3, pop3s] = self.ports();
        // Listener names must be exactly imap/imaps/pop3/pop3s to replace the standard ports.
        // The anvil penalty is off so failed logins do not slow every later login.
        format!(
            "protocols = imap pop3
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
instance_name = testkit
log_path = {d}/log/dovecot.log
info_log_path = {d}/log/dovecot.log
ssl = required
ssl_cert = <{d}/tls/cert.pem
ssl_key = <{d}/tls/key.pem
ssl_min_protocol = TLSv1.2
auth_mechanisms = plain login apop
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {d}/users.passwd
}}
userdb {{
  driver = static
  args = uid={MAIL_ID} gid={MAIL_ID} home={d}/mail/%n
}}
mail_location = maildir:~/Maildir
protocol imap {{
  mail_max_userip_connections = 1000
}}
protocol pop3 {{
  mail_max_userip_connections = 1000
}}
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = {pop3s}
    ssl = yes
  }}
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service auth {{
  unix_listener auth-smtp {{
    mode = 0666
  }}
}}
"
        )
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        // When start() panicked before it read the PID file, the daemon may run all the same.
        let pid = match self.pid {
            0 => match self.find_master() {
                Some(pid) => pid,
                None => return,
            },
            pid => pid,
        };
        crate::peers::stop_by_pid(pid);
    }
}

fn maildir(dir: &Path, user: &str) -> PathBuf {
    dir.join("mail").join(user).join("Maildir")
}

fn chmod(path: &Path, mode: &str) {
    succeeded(&crate::run(Command::new("chmod").arg(mode).arg(path), b""));
}
