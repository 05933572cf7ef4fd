//! Downloads every message of a POP3 mailbox into a directory with the tokio client, each
//! streamed straight into its file (`1.eml`, `2.eml`, …), over POP3S with a pinned
//! certificate. Leaves the messages on the server.
//!
//! ```text
//! POP3_USER=alice POP3_PASSWORD=secret \
//!   cargo run -p tls-mail --features tokio --example pop3_async -- HOST:PORT SHA256-FP DIR
//! ```
//!
//! Prints how many messages and bytes it saved. Exits 1 with the error on failure, 2 on bad
//! arguments.

mod support;

use std::path::Path;

use support::{exit, host_port, Failure};
use tls::{ClientConfig, ServerAuth};
use tls_mail::pop3::AsyncPop3Client;

const USAGE: &str = "usage: POP3_USER=U POP3_PASSWORD=P pop3_async HOST:PORT SHA256-FP DIR";

async fn download(host: &str, port: u16, pin: &str, dir: &Path) -> Result<(), Failure> {
    let user = std::env::var("POP3_USER").map_err(|_| "POP3_USER is not set")?;
    let password = std::env::var("POP3_PASSWORD").map_err(|_| "POP3_PASSWORD is not set")?;
    let tls = ClientConfig::builder()
        .server_auth(ServerAuth::Fingerprint(pin.parse()?))
        .build()?;
    let mut pop = AsyncPop3Client::builder(tls).connect(host, port).await?;
    pop.login(&user, &password).await?;
    let (mut count, mut bytes) = (0, 0);
    for entry in pop.list().await? {
        let path = dir.join(format!("{}.eml", entry.number));
        let mut file = tokio::fs::File::create(&path).await?;
        bytes += pop.retr_to(entry.number, &mut file).await?;
        count += 1;
    }
    pop.quit().await?;
    println!("saved {count} messages, {bytes} bytes");
    Ok(())
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = match &args[..] {
        [target, pin, dir] => host_port(target).map(|(host, port)| (host, port, pin, dir)),
        _ => Err("three arguments wanted".into()),
    };
    exit(USAGE, parsed, |(host, port, pin, dir)| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(download(&host, port, pin, Path::new(dir)))
    })
}
