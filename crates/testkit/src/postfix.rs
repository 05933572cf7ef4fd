//! Postfix 3.7 as a real SMTP server in front of a testkit [`Dovecot`]: STARTTLS (required)
//! and implicit-TLS listeners on free loopback ports, AUTH checked through Dovecot's SASL
//! socket, and delivery into Dovecot's Maildirs, so that what a client sends can be read back
//! over IMAP and POP3. Its own config, queue and log in a temp dir; stopped by PID on drop.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::{free_port, peer, succeeded, wait_listening, Dovecot, Identity};

/// The mail domain: `USER@example.test` lands in Dovecot user USER's INBOX.
pub const MAIL_DOMAIN: &str = "example.test";

/// Mail processes may not run as root; Dovecot's Maildirs belong to 65534 (nobody).
const MAIL_ID: u32 = 65534;

/// A running Postfix; SIGTERM and a wait when dropped.
pub struct Postfix {
    /// SMTP with STARTTLS required before anything else (and AUTH only under TLS).
    pub smtp_port: u16,
    /// SMTP over implicit TLS.
    pub smtps_port: u16,
    pid: u32,
    dir: tempfile::TempDir,
}

impl Postfix {
    /// Starts Postfix with `identity` as its certificate, in front of `dovecot` (whose users
    /// log in with their Dovecot passwords and receive mail at `USER@example.test`). `None`
    /// (after a loud skip message) when Postfix is not installed; panics under
    /// `TLS_PEERS_REQUIRED=1` then, and whenever Postfix fails to start.
    pub fn start(identity: &Identity, dovecot: &Dovecot) -> Option<Self> {
        let postfix = peer("postfix")?;
        let dir = tempfile::Builder::new()
            .prefix("pf")
            .tempdir_in("/tmp")
            .expect("temp dir");
        let d = dir.path();
        // Postfix's daemons run as user postfix and must reach the queue below.
        run(Command::new("chmod").arg("755").arg(d));
        for sub in ["etc", "spool", "data", "log", "tls"] {
            std::fs::create_dir_all(d.join(sub)).expect("mkdir");
        }
        run(Command::new("chown").arg("postfix").arg(d.join("data")));
        std::fs::write(d.join("tls/cert.pem"), &identity.chain_pem).expect("cert");
        std::fs::write(d.join("tls/key.pem"), &identity.key_pem).expect("key");
        run(Command::new("chmod").arg("600").arg(d.join("tls/key.pem")));
        let mut server = Self {
            smtp_port: 0,
            smtps_port: 0,
            pid: 0,
            dir,
        };
        // Free ports are free when picked, not when Postfix binds them; retry on a clash.
        for attempt in 1.. {
            (server.smtp_port, server.smtps_port) = (free_port(), free_port());
            server.write_config(dovecot);
            let etc = server.dir.path().join("etc");
            let started = Command::new(&postfix)
                .arg("-c")
                .arg(&etc)
                .arg("start")
                .output()
                .expect("run postfix");
            if started.status.success() {
                break;
            }
            let log = server.log();
            assert!(
                attempt < 5 && log.contains("Address already in use"),
                "postfix failed to start: {}{}\n{log}",
                String::from_utf8_lossy(&started.stdout),
                String::from_utf8_lossy(&started.stderr),
            );
        }
        let pid_file = server.dir.path().join("spool/pid/master.pid");
        server.pid = crate::peers::read_pid_file(&pid_file, || server.log());
        wait_listening(server.smtp_port);
        wait_listening(server.smtps_port);
        Some(server)
    }

    /// Postfix's log so far (for assertion messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log/postfix.log")).unwrap_or_default()
    }

    /// Waits until the queue is empty: every accepted message delivered (or bounced).
    pub fn wait_for_empty_queue(&self) {
        let spool = self.dir.path().join("spool");
        let started = Instant::now();
        while ["incoming", "active", "deferred", "maildrop"]
            .iter()
            .any(|q| holds_files(&spool.join(q)))
        {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "postfix still holds mail\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn write_config(&self, dovecot: &Dovecot) {
        let d = self.dir.path().display();
        let mail = dovecot.mail_root();
        let mail = mail.display();
        let sasl = dovecot.auth_socket();
        let sasl = sasl.display();
        let mailboxes: Vec<String> = dovecot
            .users()
            .iter()
            .map(|user| format!("{user}@{MAIL_DOMAIN}={user}/Maildir/"))
            .collect();
        let mailboxes = mailboxes.join(", ");
        // Nothing ever leaves this machine: mail is accepted for the Dovecot users only, after
        // AUTH, and every other transport is an error.
        let main = format!(
            "compatibility_level = 3.6
queue_directory = {d}/spool
data_directory = {d}/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = {d}/log/postfix.log
maillog_file_prefixes = {d}/log
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = localhost
mydomain = localdomain
myorigin = localhost
mydestination =
mynetworks = 127.0.0.0/8
relayhost =
alias_maps =
alias_database =
biff = no
smtpd_banner = $myhostname ESMTP testkit
smtpd_tls_cert_file = {d}/tls/cert.pem
smtpd_tls_key_file = {d}/tls/key.pem
smtpd_tls_security_level = encrypt
smtpd_tls_auth_only = yes
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = {sasl}
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = permit_sasl_authenticated, reject
default_transport = error:no delivery off this machine
relay_transport = error:no delivery off this machine
smtp_dns_support_level = disabled
virtual_mailbox_domains = {MAIL_DOMAIN}
virtual_mailbox_base = {mail}
virtual_mailbox_maps = inline:{{ {mailboxes} }}
virtual_uid_maps = static:{MAIL_ID}
virtual_gid_maps = static:{MAIL_ID}
"
        );
        // Debian's services without chroot, and our two listeners.
        let master = format!(
            "127.0.0.1:{smtp} inet n - n - - smtpd
127.0.0.1:{smtps} inet n - n - - smtpd -o smtpd_tls_wrappermode=yes
pickup    unix  n - n 60    1 pickup
cleanup   unix  n - n -     0 cleanup
qmgr      unix  n - n 300   1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n -     - trivial-rewrite
bounce    unix  - - n -     0 bounce
defer     unix  - - n -     0 bounce
trace     unix  - - n -     0 bounce
verify    unix  - - n -     1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -     - proxymap
proxywrite unix - - n -     1 proxymap
smtp      unix  - - n -     - smtp
relay     unix  - - n -     - smtp
showq     unix  n - n -     - showq
error     unix  - - n -     - error
retry     unix  - - n -     - error
discard   unix  - - n -     - discard
local     unix  - n n -     - local
virtual   unix  - n n -     - virtual
lmtp      unix  - - n -     - lmtp
anvil     unix  - - n -     1 anvil
scache    unix  - - n -     1 scache
postlog   unix-dgram n - n - 1 postlogd
",
            smtp = self.smtp_port,
            smtps = self.smtps_port,
        );
        let etc = self.dir.path().join("etc");
        std::fs::write(etc.join("main.cf"), main).expect("main.cf");
        std::fs::write(etc.join("master.cf"), master).expect("master.cf");
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        if self.pid != 0 {
            crate::peers::stop_by_pid(self.pid);
        }
    }
}

fn run(command: &mut Command) {
    succeeded(&crate::run(command, b""));
}

fn holds_files(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let path = e.path();
            path.is_file() || (path.is_dir() && holds_files(&path))
        })
    })
}
