//! Sends the text on standard input as one mail with the tokio client, over STARTTLS, to a
//! server pinned by its certificate's SHA-256 fingerprint.
//!
//! ```text
//! SMTP_USER=alice SMTP_PASSWORD=secret \
//!   cargo run -p tls-smtp --features tokio --example smtp_async -- \
//!   HOST:PORT SHA256-FINGERPRINT FROM TO < body.txt
//! ```
//!
//! Logs in when `SMTP_USER` and `SMTP_PASSWORD` are set. Prints the server's reply to the
//! message on stdout; exits 1 with the error on failure, 2 on bad arguments.

use std::io::Read;
use std::process::ExitCode;

use lettre::message::{Body, Mailbox};
use lettre::{AsyncTransport, Message};
use tls::{ClientConfig, ServerAuth};
use tls_smtp::{AsyncSmtpTls, Credentials};

type Failure = Box<dyn std::error::Error>;

async fn send(args: &[String], body: Vec<u8>) -> Result<(), Failure> {
    let [target, pin, from, to] = args else {
        return Err("usage".into());
    };
    let (host, port) = target.rsplit_once(':').ok_or("HOST:PORT wanted")?;
    let tls = ClientConfig::builder()
        .server_auth(ServerAuth::Fingerprint(pin.parse()?))
        .build()?;
    let mut builder = AsyncSmtpTls::builder(host, tls).port(port.parse()?);
    if let (Ok(user), Ok(password)) = (std::env::var("SMTP_USER"), std::env::var("SMTP_PASSWORD")) {
        builder = builder.credentials(Credentials::new(user, password));
    }
    let mailer = builder.build()?;
    let message = Message::builder()
        .from(from.parse::<Mailbox>()?)
        .to(to.parse::<Mailbox>()?)
        .subject("sent by smtp_async")
        .body(Body::new(body))?;
    let reply = mailer.send(message).await?;
    println!(
        "{} {}",
        reply.code(),
        reply.message().collect::<Vec<_>>().join(" ")
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() != 4 {
        eprintln!("usage: smtp_async HOST:PORT SHA256-FINGERPRINT FROM TO  (body on stdin)");
        return ExitCode::from(2);
    }
    let mut body = Vec::new();
    let outcome = std::io::stdin()
        .read_to_end(&mut body)
        .map_err(Failure::from)
        .and_then(|_| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(send(&args, body))
        });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
