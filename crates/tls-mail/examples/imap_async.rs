//! Lists a mailbox with the tokio IMAP client over IMAPS, pinned by the server certificate's
//! SHA-256 fingerprint: one line per message with its number, size and subject.
//!
//! ```text
//! IMAP_USER=alice IMAP_PASSWORD=secret \
//!   cargo run -p tls-mail --features tokio --example imap_async -- HOST:PORT SHA256-FP [MAILBOX]
//! ```
//!
//! Exits 1 with the error on failure, 2 on bad arguments.

mod support;

use futures_util::TryStreamExt;
use support::{exit, host_port, Failure};
use tls::{ClientConfig, ServerAuth};
use tls_mail::imap::AsyncImapClient;

const USAGE: &str = "usage: IMAP_USER=U IMAP_PASSWORD=P imap_async HOST:PORT SHA256-FP [MAILBOX]";

async fn list(host: &str, port: u16, pin: &str, mailbox: &str) -> Result<(), Failure> {
    let user = std::env::var("IMAP_USER").map_err(|_| "IMAP_USER is not set")?;
    let password = std::env::var("IMAP_PASSWORD").map_err(|_| "IMAP_PASSWORD is not set")?;
    let tls = ClientConfig::builder()
        .server_auth(ServerAuth::Fingerprint(pin.parse()?))
        .build()?;
    let client = AsyncImapClient::builder(tls).connect(host, port).await?;
    let mut imap = client.login(&user, &password).await?;
    let selected = imap.select(mailbox).await?;
    println!("{mailbox}: {} messages", selected.exists);
    if selected.exists > 0 {
        let range = format!("1:{}", selected.exists);
        let query = "(RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT)])";
        let mut fetches: Vec<_> = imap.fetch(range, query).await?.try_collect().await?;
        fetches.sort_by_key(|f| f.message);
        for fetch in fetches {
            let header = String::from_utf8_lossy(fetch.header().unwrap_or_default());
            let subject = header.trim().strip_prefix("Subject:").unwrap_or("").trim();
            let size = fetch.size.unwrap_or(0);
            println!("{} {size} {subject}", fetch.message);
        }
    }
    imap.logout().await?;
    Ok(())
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = match &args[..] {
        [target, pin] => host_port(target).map(|(h, p)| (h, p, pin, "INBOX")),
        [target, pin, mailbox] => host_port(target).map(|(h, p)| (h, p, pin, mailbox.as_str())),
        _ => Err("two or three arguments wanted".into()),
    };
    exit(USAGE, parsed, |(host, port, pin, mailbox)| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(list(&host, port, pin, mailbox))
    })
}
