//! Logs in to an IMAP server authenticated by a pinned fingerprint, a CA file or TLS-SRP,
//! selects INBOX and prints the message count and the first message's subject.
//!
//! ```text
//! cargo run --example imap_pinned -- [--starttls] (--fingerprint FP | --cafile PEM |
//!     --srp USER:PASS) --user U --password P HOST:PORT
//! ```
//!
//! Exits 1 with the error on failure, 2 on bad arguments.

mod support;

use std::process::ExitCode;

use support::{host_port, Failure};
use tls::{ClientConfig, ServerAuth, TrustRoots};
use tls_mail::imap::ImapClient;
use tls_mail::Security;

const USAGE: &str = "usage: imap_pinned [--starttls] (--fingerprint FP | --cafile PEM | \
--srp USER:PASS) --user U --password P HOST:PORT";

struct Args {
    security: Security,
    tls: ClientConfig,
    user: String,
    password: String,
    host: String,
    port: u16,
}

fn parse_args() -> Result<Args, Failure> {
    use lexopt::prelude::*;
    let (mut starttls, mut auth, mut user, mut password, mut target) =
        (false, Vec::new(), None, None, None);
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        match arg {
            Long("starttls") => starttls = true,
            Long(name @ ("fingerprint" | "cafile" | "srp")) => {
                let name = name.to_owned();
                auth.push((name, parser.value()?.string()?));
            }
            Long("user") => user = Some(parser.value()?.string()?),
            Long("password") => password = Some(parser.value()?.string()?),
            Value(v) if target.is_none() => target = Some(v.string()?),
            _ => return Err(arg.unexpected().into()),
        }
    }
    let [(how, value)] =
        <[_; 1]>::try_from(auth).map_err(|_| "exactly one of --fingerprint, --cafile, --srp")?;
    let builder = ClientConfig::builder();
    let tls = match how.as_str() {
        "fingerprint" => builder.server_auth(ServerAuth::Fingerprint(value.parse()?)),
        "cafile" => builder.server_auth(ServerAuth::Roots(TrustRoots::from_pem_file(&value)?)),
        _ => {
            let (u, p) = value.split_once(':').ok_or("--srp wants USER:PASS")?;
            builder.srp(u, p)
        }
    }
    .build()?;
    let (host, port) = host_port(&target.ok_or("HOST:PORT missing")?)?;
    Ok(Args {
        security: if starttls {
            Security::StartTls
        } else {
            Security::Implicit
        },
        tls,
        user: user.ok_or("--user missing")?,
        password: password.ok_or("--password missing")?,
        host,
        port,
    })
}

/// The Subject header's value from a header block, continuation lines unfolded.
fn subject(header: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(header);
    let mut value: Option<String> = None;
    for line in text.split("\r\n") {
        match &mut value {
            Some(v) if line.starts_with([' ', '\t']) => v.push_str(line),
            Some(_) => break,
            None => {
                if let Some((name, rest)) = line.split_once(':') {
                    if name.eq_ignore_ascii_case("subject") {
                        value = Some(rest.trim_start().to_owned());
                    }
                }
            }
        }
    }
    value
}

fn run(args: Args) -> Result<(), Failure> {
    let client = ImapClient::builder(args.tls)
        .security(args.security)
        .connect(&args.host, args.port)?;
    let mut imap = client.login(&args.user, &args.password)?;
    let inbox = imap.select("INBOX")?;
    println!("Messages: {}", inbox.exists);
    if inbox.exists > 0 {
        let fetches = imap.fetch("1", "BODY.PEEK[HEADER]")?;
        let header = fetches
            .iter()
            .next()
            .and_then(|f| f.header())
            .unwrap_or_default();
        println!("Subject: {}", subject(header).unwrap_or_default());
    }
    imap.logout()?;
    Ok(())
}

fn main() -> ExitCode {
    support::exit(USAGE, parse_args(), run)
}
