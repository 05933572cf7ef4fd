//! `tls client`: handshake, print the session, optionally fetch a path.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use lexopt::Arg::{Long, Short, Value};
use lexopt::ValueExt;
use tls::{CertificateChain, ClientConfig, HandshakeSettings, PrivateKey, ServerAuth, TrustRoots};

use crate::args::{parse_timeout, print_session, CliError, Target, DEFAULT_TIMEOUT};
use crate::http_get::{http_get, Handshakes};

pub fn run(mut args: lexopt::Parser) -> Result<(), CliError> {
    // Unset means the default: WebPki for X.509, plain SRP (no certificate) with -u/-p.
    let mut server_auth = None;
    let (mut cert, mut key) = (None, None);
    let mut settings = HandshakeSettings::default();
    let mut target = None;
    let mut get = None;
    let mut psk_ke = false;
    let mut resume = false;
    let mut resume_at = None;
    let mut timeout = DEFAULT_TIMEOUT;
    let (mut user, mut pass) = (None, None);
    let (mut psk_identity, mut psk_key, mut psk_hash) = (None, None, tls::psk::PskHash::Sha256);
    let mut psks = Vec::new();
    while let Some(arg) = args.next()? {
        match arg {
            Long("fingerprint") => {
                let text = args.value()?.string()?;
                let fp = text
                    .parse()
                    .map_err(|e| CliError::Usage(format!("--fingerprint: {e}")))?;
                server_auth = Some(ServerAuth::Fingerprint(fp));
            }
            Long("cafile") => {
                server_auth = Some(ServerAuth::Roots(TrustRoots::from_pem_file(args.value()?)?))
            }
            Short('c') | Long("cert") => {
                cert = Some(CertificateChain::from_pem_file(args.value()?)?)
            }
            Short('k') | Long("key") => key = Some(PrivateKey::from_pem_file(args.value()?)?),
            Long("alpn") => settings.alpn.push(args.value()?.string()?),
            Long("cipher") => settings.cipher_names.push(args.value()?.string()?),
            Long("min-ver") => settings.min_version = args.value()?.string()?.parse()?,
            Long("max-ver") => settings.max_version = args.value()?.string()?.parse()?,
            Long("no-sni") => settings.sni = false,
            Long("get") => get = Some(args.value()?.string()?),
            Long("resume") => resume = true,
            Long("psk-without-forward-secrecy") => psk_ke = true,
            Long("resume-at") => resume_at = Some(Target::parse(&args.value()?.string()?)?),
            Short('u') | Long("user") => user = Some(args.value()?.string()?),
            Short('p') | Long("password") => pass = Some(args.value()?.string()?),
            Long("psk-identity") => psk_identity = Some(args.value()?.string()?),
            Long("psk-key") => {
                let hex = args.value()?.string()?;
                let key = tls::psk::decode_hex(&hex)
                    .map_err(|e| CliError::Usage(format!("--psk-key: {e}")))?;
                psk_key = Some(zeroize::Zeroizing::new(key));
            }
            Long("psk-hash") => psk_hash = args.value()?.string()?.parse()?,
            Long("psk-file") => {
                let path = PathBuf::from(args.value()?);
                let text =
                    zeroize::Zeroizing::new(std::fs::read_to_string(&path).map_err(|e| {
                        CliError::Usage(format!("--psk-file {}: {e}", path.display()))
                    })?);
                let keys = tls::psk::parse_key_file(&text)
                    .map_err(|e| CliError::Usage(format!("--psk-file {}: {e}", path.display())))?;
                if keys.is_empty() {
                    return Err(CliError::Usage(format!(
                        "--psk-file {}: no identity:hexkey line",
                        path.display()
                    )));
                }
                psks.extend(keys);
            }
            Long("timeout") => timeout = parse_timeout(args.value()?)?,
            Value(v) if target.is_none() => target = Some(Target::parse(&v.string()?)?),
            _ => return Err(arg.unexpected().into()),
        }
    }
    let target = target.ok_or_else(|| CliError::Usage("missing HOST:PORT".into()))?;
    let mut builder = ClientConfig::builder().settings(settings);
    if let Some(auth) = server_auth {
        builder = builder.server_auth(auth);
    }
    match (user, pass) {
        (Some(user), Some(pass)) => builder = builder.srp(user, pass),
        (None, None) => {}
        _ => {
            return Err(CliError::Usage(
                "-u USER and -p PASSWORD go together".into(),
            ))
        }
    }
    match (psk_identity, psk_key) {
        (Some(identity), Some(key)) => {
            psks.insert(
                0,
                tls::psk::ExternalPsk::new(identity, &*key)?.with_hash(psk_hash),
            );
        }
        (None, None) => {}
        _ => {
            return Err(CliError::Usage(
                "--psk-identity and --psk-key go together".into(),
            ))
        }
    }
    for psk in psks {
        builder = builder.psk(psk.with_hash(psk_hash));
    }
    if psk_ke {
        builder = tls::dangerous::psk_without_forward_secrecy(builder);
    }
    match (cert, key) {
        (Some(cert), Some(key)) => builder = builder.client_cert(cert, key),
        (None, None) => {}
        _ => return Err(CliError::Usage("-c CERT and -k KEY go together".into())),
    }
    let handshakes = Handshakes::default();
    if get.is_some() {
        builder = handshakes.record(builder);
    }
    let config = builder.build()?;
    let session = |address: &Target| match get.as_deref() {
        Some(path) => http_get(&config, &handshakes, &target, address, path, timeout),
        None => handshake(&config, &target, address, timeout),
    };
    session(&target)?;
    // Again with the session just made: at the same address, or at another server of the
    // same name (a fleet behind one name shares its sessions).
    let again = match (resume, &resume_at) {
        (_, Some(other)) => Some(other),
        (true, None) => Some(&target),
        (false, None) => None,
    };
    if let Some(address) = again {
        writeln!(std::io::stdout()).map_err(CliError::Output)?;
        session(address)?;
    }
    Ok(())
}

/// One connection to `address`, verifying and naming the server as `target.host`.
fn handshake(
    config: &ClientConfig,
    target: &Target,
    address: &Target,
    timeout: Duration,
) -> Result<(), CliError> {
    let tls = config.connect(&target.host, address.connect(timeout)?)?;
    print_session(tls.session())?;
    // A server may already have closed; the session was printed, so that is no failure.
    let _ = tls.close();
    Ok(())
}
