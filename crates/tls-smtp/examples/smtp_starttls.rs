//! Sends the text on standard input as a mail, over STARTTLS (or implicit TLS).
//!
//! ```text
//! cargo run --example smtp_starttls -- [--implicit-tls] [--fingerprint FP] [--cafile PEM]
//!     [--srp USER:PASS] [--auth-user U --auth-password P]
//!     --from ADDR --to ADDR [--to ADDR]... [--subject S] HOST:PORT < body.txt
//! ```
//!
//! Prints the TLS session on stderr and the server's final reply on stdout; exits 1 with the
//! error on failure, 2 on bad arguments.

use std::io::Read;
use std::process::ExitCode;

use lettre::message::{Body, Mailbox};
use lettre::Message;
use tls::{ClientConfig, ServerAuth, TrustRoots};
use tls_smtp::{Credentials, Security, SmtpTls};

#[derive(Default)]
struct Args {
    implicit: bool,
    fingerprint: Option<String>,
    cafile: Option<String>,
    srp: Option<String>,
    user: Option<String>,
    password: Option<String>,
    from: Option<String>,
    to: Vec<String>,
    subject: String,
    target: Option<String>,
}

const USAGE: &str = "usage: smtp_starttls [--implicit-tls] [--fingerprint FP] [--cafile PEM] \
[--srp USER:PASS] [--auth-user U --auth-password P] --from ADDR --to ADDR [--to ADDR]... \
[--subject S] HOST:PORT  (body on stdin)";

fn parse_args() -> Result<Args, String> {
    let mut args = Args::default();
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--implicit-tls" => args.implicit = true,
            "--fingerprint" => args.fingerprint = Some(value()?),
            "--cafile" => args.cafile = Some(value()?),
            "--srp" => args.srp = Some(value()?),
            "--auth-user" => args.user = Some(value()?),
            "--auth-password" => args.password = Some(value()?),
            "--from" => args.from = Some(value()?),
            "--to" => args.to.push(value()?),
            "--subject" => args.subject = value()?,
            "-h" | "--help" => return Err(USAGE.into()),
            other if other.starts_with('-') => return Err(format!("unknown option {other}")),
            _ if args.target.is_some() => return Err("only one HOST:PORT".into()),
            _ => args.target = Some(arg),
        }
    }
    Ok(args)
}

fn tls_config(args: &Args) -> Result<ClientConfig, Box<dyn std::error::Error>> {
    let mut builder = ClientConfig::builder();
    if args.fingerprint.is_some() && args.cafile.is_some() {
        return Err("--fingerprint and --cafile exclude each other".into());
    }
    if let Some(fp) = &args.fingerprint {
        builder = builder.server_auth(ServerAuth::Fingerprint(fp.parse()?));
    } else if let Some(path) = &args.cafile {
        builder = builder.server_auth(ServerAuth::Roots(TrustRoots::from_pem_file(path)?));
    }
    if let Some(srp) = &args.srp {
        let (user, pass) = srp.split_once(':').ok_or("--srp wants USER:PASS")?;
        builder = builder.srp(user, pass);
    }
    Ok(builder.build()?)
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let target = args.target.as_deref().ok_or("HOST:PORT missing")?;
    let (host, port) = target.rsplit_once(':').ok_or("HOST:PORT wanted")?;
    let security = if args.implicit {
        Security::Implicit
    } else {
        Security::StartTls
    };
    let mut smtp = SmtpTls::builder(host, tls_config(&args)?)
        .port(port.parse()?)
        .security(security);
    match (&args.user, &args.password) {
        (Some(u), Some(p)) => smtp = smtp.credentials(Credentials::new(u.clone(), p.clone())),
        (None, None) => {}
        _ => return Err("--auth-user and --auth-password go together".into()),
    }
    let mut message = Message::builder()
        .from(
            args.from
                .as_deref()
                .ok_or("--from missing")?
                .parse::<Mailbox>()?,
        )
        .subject(args.subject);
    if args.to.is_empty() {
        return Err("--to missing".into());
    }
    for to in &args.to {
        message = message.to(to.parse::<Mailbox>()?);
    }
    let mut body = Vec::new();
    std::io::stdin().read_to_end(&mut body)?;
    let message = message.body(Body::new(body))?;

    let mut conn = smtp.build()?.connect()?;
    let s = conn.tls_session();
    eprintln!("TLS: {} {}", s.version(), s.cipher_suite());
    if let Some(fp) = s.peer_fingerprint_sha256() {
        eprintln!("server certificate sha256 {fp}");
    }
    if let Some(user) = s.srp_username() {
        eprintln!("SRP user {user}");
    }
    let delivery = conn.send(message.envelope(), &message.formatted())?;
    let reply = delivery.response;
    println!(
        "{} {}",
        reply.code(),
        reply.message().collect::<Vec<_>>().join(" ")
    );
    // The message is accepted: a failing QUIT changes nothing about that, so no exit 1.
    if let Err(e) = conn.quit() {
        eprintln!("QUIT failed after the message was accepted: {e}");
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("{e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
