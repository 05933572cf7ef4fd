//! GET a URL over HTTPS with any of our authentication modes; the body goes to stdout, the
//! status line to stderr.
//!
//! ```text
//! cargo run --example https_get -- [--fingerprint FP] [--cafile PEM] [--srp USER:PASS]
//!     [-c CERT -k KEY] URL
//! ```
//!
//! Without `--fingerprint`, `--cafile` or `--srp` the server must have a certificate from a
//! public CA (the webpki roots). Exits with 1 and the reason (an alert's name, a pin mismatch)
//! when the request fails, and with 1 after printing when the status is 400 or more.

use std::io::Write;
use std::process::ExitCode;

use tls::{CertificateChain, PrivateKey, ServerAuth, TrustRoots};

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("https_get: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<ExitCode, Box<dyn std::error::Error>> {
    use lexopt::prelude::*;

    let mut config = tls_http::config();
    let (mut url, mut cert, mut key) = (None, None, None);
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        match arg {
            Long("fingerprint") => {
                let pin = parser.value()?.string()?.parse()?;
                config = config.server_auth(ServerAuth::Fingerprint(pin));
            }
            Long("cafile") => {
                let roots = TrustRoots::from_pem_file(parser.value()?)?;
                config = config.server_auth(ServerAuth::Roots(roots));
            }
            Long("srp") => {
                let credentials = parser.value()?.string()?;
                let (user, password) = credentials
                    .split_once(':')
                    .ok_or("--srp takes USER:PASSWORD")?;
                config = config.srp(user, password);
            }
            Short('c') => cert = Some(CertificateChain::from_pem_file(parser.value()?)?),
            Short('k') => key = Some(PrivateKey::from_pem_file(parser.value()?)?),
            Value(value) if url.is_none() => url = Some(value.string()?),
            Long("help") | Short('h') => {
                println!(
                    "usage: https_get [--fingerprint FP] [--cafile PEM] [--srp USER:PASS] \
                     [-c CERT -k KEY] URL"
                );
                return Ok(ExitCode::SUCCESS);
            }
            _ => return Err(arg.unexpected().into()),
        }
    }
    match (cert, key) {
        (Some(cert), Some(key)) => config = config.client_cert(cert, key),
        (None, None) => {}
        _ => return Err("-c and -k go together".into()),
    }
    let url = url.ok_or("missing URL (see --help)")?;

    let http = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build();
    let agent = tls_http::agent_with(http, config.build()?);
    let mut response = agent.get(&url).call().map_err(describe)?;
    let status = response.status();
    eprintln!(
        "{:?} {} {}",
        response.version(),
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    let mut stdout = std::io::stdout().lock();
    std::io::copy(&mut response.body_mut().as_reader(), &mut stdout)?;
    stdout.flush()?;
    Ok(if status.as_u16() >= 400 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Puts the TLS failure, when that is what happened, in front of ureq's wording.
fn describe(e: ureq::Error) -> Box<dyn std::error::Error> {
    match tls_http::tls_error(&e) {
        Some(tls) => format!("TLS failed: {tls}").into(),
        None => e.into(),
    }
}
