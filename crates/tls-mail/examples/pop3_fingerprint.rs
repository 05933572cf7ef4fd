//! Shows a POP3 server's certificate fingerprints (trust on first use), and with a pinned
//! fingerprint logs in, counts the messages and can print one.
//!
//! ```text
//! cargo run --example pop3_fingerprint -- [--stls] HOST:PORT
//! cargo run --example pop3_fingerprint -- [--stls] --fingerprint FP --user U --password P
//!     [--retr K] HOST:PORT
//! ```
//!
//! Without `--fingerprint` nothing is trusted: the certificate is only recorded and shown.
//! Exits 1 with the error on failure, 2 on bad arguments.

mod support;

use std::process::ExitCode;

use support::{host_port, Failure};
use tls::{ClientConfig, Fingerprint, ServerAuth, Session};
use tls_mail::pop3::Pop3Client;
use tls_mail::Security;

const USAGE: &str = "usage: pop3_fingerprint [--stls] [--fingerprint FP --user U --password P \
[--retr K]] HOST:PORT";

#[derive(Default)]
struct Args {
    stls: bool,
    fingerprint: Option<Fingerprint>,
    user: Option<String>,
    password: Option<String>,
    retr: Option<u32>,
    host: String,
    port: u16,
}

fn parse_args() -> Result<Args, Failure> {
    use lexopt::prelude::*;
    let mut args = Args::default();
    let mut target = None;
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        match arg {
            Long("stls") => args.stls = true,
            Long("fingerprint") => args.fingerprint = Some(parser.value()?.parse()?),
            Long("user") => args.user = Some(parser.value()?.string()?),
            Long("password") => args.password = Some(parser.value()?.string()?),
            Long("retr") => args.retr = Some(parser.value()?.parse()?),
            Value(v) if target.is_none() => target = Some(v.string()?),
            _ => return Err(arg.unexpected().into()),
        }
    }
    (args.host, args.port) = host_port(&target.ok_or("HOST:PORT missing")?)?;
    let login = (args.user.is_some(), args.password.is_some());
    if login.0 != login.1 {
        return Err("--user and --password go together".into());
    }
    if args.retr.is_some() && !login.0 {
        return Err("--retr needs --user and --password".into());
    }
    if login.0 && args.fingerprint.is_none() {
        return Err("logging in needs --fingerprint (run without it first to see it)".into());
    }
    Ok(args)
}

fn print_fingerprints(session: &Session) -> Result<(), String> {
    let sha1 = session.peer_fingerprint_sha1();
    let sha256 = session.peer_fingerprint_sha256();
    match sha1.zip(sha256) {
        Some((sha1, sha256)) => {
            println!("Fingerprint SHA-1: {}", sha1.to_hex());
            println!("Fingerprint SHA-256: {}", sha256.to_hex());
            Ok(())
        }
        None => Err("the server sent no certificate".into()),
    }
}

fn run(args: Args) -> Result<(), Failure> {
    let security = if args.stls {
        Security::StartTls
    } else {
        Security::Implicit
    };
    let Some(pin) = args.fingerprint else {
        // The probe ignores the configuration's server authentication: it trusts nothing.
        let probe = Pop3Client::builder(ClientConfig::builder().build()?).security(security);
        print_fingerprints(&probe.probe(&args.host, args.port)?)?;
        return Ok(());
    };
    let config = ClientConfig::builder()
        .server_auth(ServerAuth::Fingerprint(pin))
        .build()?;
    let mut pop = Pop3Client::builder(config)
        .security(security)
        .connect(&args.host, args.port)?;
    print_fingerprints(pop.tls_session())?;
    if let (Some(user), Some(password)) = (&args.user, &args.password) {
        pop.login(user, password)?;
        println!("Messages: {}", pop.stat()?.count);
        if let Some(k) = args.retr {
            pop.retr_to(k, &mut std::io::stdout().lock())?;
        }
    }
    pop.quit()?;
    Ok(())
}

fn main() -> ExitCode {
    support::exit(USAGE, parse_args(), run)
}
