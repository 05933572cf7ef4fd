//! `tls server`: serve a folder over HTTPS.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lexopt::Arg::{Long, Short, Value};
use lexopt::ValueExt;
use tls::{
    CertificateChain, HandshakeSettings, PrivateKey, ProtocolVersion, ServerConfig, TrustRoots,
};
use tls_server::{AsyncTlsServer, StaticFiles, TlsServer};

use crate::args::{CliError, Target};
use crate::identity::server_identity;

/// How long connections in flight get to finish after Ctrl-C.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

pub fn run(mut args: lexopt::Parser) -> Result<(), CliError> {
    let (mut cert, mut key) = (None, None);
    let mut dir = PathBuf::from(".");
    let (mut reqcert, mut cafile) = (false, None);
    let mut settings = HandshakeSettings::default();
    let mut max_connections = None;
    let mut max_connections_per_ip = None;
    let mut target = None;
    let mut verifier_db = None;
    // The fleet's database opened for -v, shared with --psk-db when it names the same one.
    let mut fleet_db: Option<(String, Arc<tls::srp::PostgresVerifierDb>)> = None;
    let mut psk_location = None;
    let mut accept_psk_ke = false;
    let mut ephemeral = false;
    let mut kept_identity = None;
    let mut shared_resumption = None;
    // Secrets named on the command line: never served, whatever folder is shared.
    let mut secrets: Vec<PathBuf> = Vec::new();
    let mut hidden = false;
    let mut index_html = true;
    let mut precompressed = true;
    let mut sni = Vec::new();
    let mut strict_sni = false;
    let mut threaded = false;
    let mut idle_timeout = None;
    while let Some(arg) = args.next()? {
        match arg {
            Long("sni") => {
                let text = args.value()?.string()?;
                let mut parts = text.splitn(3, ':');
                let (Some(name), Some(cert), Some(key)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    return Err(CliError::Usage(format!(
                        "--sni {text:?}: expected NAME:CERT:KEY"
                    )));
                };
                sni.push((
                    name.to_owned(),
                    CertificateChain::from_pem_file(cert)?,
                    PrivateKey::from_pem_file(key)?,
                ));
                secrets.extend([PathBuf::from(cert), PathBuf::from(key)]);
            }
            Long("strict-sni") => strict_sni = true,
            Long("threaded") => threaded = true,
            Long("ephemeral") => ephemeral = true,
            Long("idle-timeout") => {
                let secs: u64 = args.value()?.parse()?;
                idle_timeout = Some(Duration::from_secs(secs));
            }
            Short('c') | Long("cert") => {
                let path = PathBuf::from(args.value()?);
                cert = Some(CertificateChain::from_pem_file(&path)?);
                secrets.push(path);
            }
            Short('k') | Long("key") => {
                let path = PathBuf::from(args.value()?);
                key = Some(PrivateKey::from_pem_file(&path)?);
                secrets.push(path);
            }
            Short('d') | Long("dir") => dir = args.value()?.into(),
            Long("reqcert") => reqcert = true,
            Long("hidden") => hidden = true,
            Long("no-index") => index_html = false,
            Long("no-precompressed") => precompressed = false,
            Short('v') | Long("verifier-db") => {
                let location = tls::srp::location_from_argument(&args.value()?.string()?)?;
                if tls::srp::is_postgres_url(&location) {
                    // A fleet's store: users, ticket keys and SRP sessions shared.
                    let db = Arc::new(tls::srp::PostgresVerifierDb::open(&location)?);
                    fleet_db = Some((location.clone(), db.clone()));
                    shared_resumption = Some(db.clone() as Arc<dyn tls::SharedResumption>);
                    verifier_db = Some(db as Arc<dyn tls::srp::VerifierStore>);
                } else {
                    let db = tls::srp::SqliteVerifierDb::open(&location)?;
                    verifier_db = Some(Arc::new(db));
                    secrets.extend(tls::srp::SqliteVerifierDb::files(&location));
                }
            }
            Long("psk-db") => {
                psk_location = Some(tls::srp::location_from_argument(&args.value()?.string()?)?)
            }
            Long("accept-psk-without-forward-secrecy") => accept_psk_ke = true,
            Long("cafile") => cafile = Some(TrustRoots::from_pem_file(args.value()?)?),
            Long("alpn") => settings.alpn.push(args.value()?.string()?),
            Long("cipher") => settings.cipher_names.push(args.value()?.string()?),
            Long("min-ver") => settings.min_version = args.value()?.string()?.parse()?,
            Long("max-ver") => settings.max_version = args.value()?.string()?.parse()?,
            Long("max-connections") => max_connections = Some(args.value()?.parse()?),
            Long("max-connections-per-ip") => max_connections_per_ip = Some(args.value()?.parse()?),
            Value(v) if target.is_none() => target = Some(Target::parse(&v.string()?)?),
            _ => return Err(arg.unexpected().into()),
        }
    }
    let target = target.ok_or_else(|| CliError::Usage("missing HOST:PORT".into()))?;
    let psk_store: Option<Arc<dyn tls::psk::PskStore>> = match &psk_location {
        None => None,
        Some(location) if tls::srp::is_postgres_url(location) => match &fleet_db {
            Some((same, db)) if same == location => Some(db.clone()),
            _ => Some(Arc::new(tls::srp::PostgresVerifierDb::open(location)?)),
        },
        Some(location) => {
            secrets.extend(tls::srp::SqliteVerifierDb::files(location));
            Some(Arc::new(tls::srp::SqliteVerifierDb::open(location)?))
        }
    };
    if settings.alpn.is_empty() {
        // HTTP/2 is served by the event-driven server only.
        if !threaded {
            settings.alpn.push("h2".into());
        }
        settings.alpn.push("http/1.1".into());
    } else if threaded && settings.alpn.iter().any(|p| p == "h2") {
        return Err(CliError::Usage(
            "--alpn h2: HTTP/2 is served by the event-driven server only (drop --threaded)".into(),
        ));
    }
    let mut out = std::io::stdout().lock();
    let versions = (settings.min_version, settings.max_version);
    let mut builder = ServerConfig::builder().settings(settings);
    let certificate = match (cert, key) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) if verifier_db.is_none() && psk_store.is_none() => {
            let identity = server_identity(&target.host, ephemeral)?;
            if let Some(kept) = &identity.kept {
                // Never served, even when -d is the folder it is kept in.
                secrets.push(kept.key.clone());
            }
            kept_identity = identity.kept;
            Some((identity.chain, identity.key))
        }
        (None, None) => None,
        _ => return Err(CliError::Usage("-c CERT and -k KEY go together".into())),
    };
    let certificate_given = certificate.is_some();
    if let Some((chain, key)) = certificate {
        print_fingerprints(&mut out, chain.certificates()[0].as_ref())?;
        if let Some(kept) = &kept_identity {
            let made = if kept.made_now {
                "made now and kept"
            } else {
                "kept"
            };
            writeln!(
                out,
                "Certificate {made} in {} (the same at every start; --ephemeral for a new one)",
                kept.key.parent().unwrap_or(&kept.key).display()
            )
            .map_err(CliError::Output)?;
        }
        builder = builder.cert_chain(chain, key).strict_sni(strict_sni);
    }
    for (name, chain, key) in sni {
        let fp = tls::Fingerprint::of(
            tls::FingerprintAlgorithm::Sha256,
            chain.certificates()[0].as_ref(),
        );
        writeln!(out, "SNI {name}: Fingerprint SHA-256: {}", fp.to_hex())
            .map_err(CliError::Output)?;
        builder = builder.sni_cert(name, chain, key);
    }
    if let Some(db) = verifier_db {
        // TLS-SRP: the password database authenticates both sides. With -c/-k one port serves
        // every client: SRP (and SRP-RSA with an RSA key) and X.509.
        builder = builder.shared_verifier_db(db);
        let others = match certificate_given {
            true => " and X.509 clients, on one port",
            false => "",
        };
        writeln!(out, "Serving TLS-SRP users (TLS 1.2){others}").map_err(CliError::Output)?;
    }
    if let Some(store) = psk_store {
        // Pre-shared keys: a ClientHello offering a known identity gets the PSK handshake,
        // any other the certificate or SRP as without them.
        builder = builder.shared_psk_store(store);
        let versions = match versions {
            (ProtocolVersion::Tls13, _) => "TLS 1.3",
            (_, ProtocolVersion::Tls12) => "TLS 1.2",
            _ => "TLS 1.3 and TLS 1.2",
        };
        writeln!(out, "Serving pre-shared key identities ({versions})")
            .map_err(CliError::Output)?;
        if accept_psk_ke {
            builder = tls::dangerous::accept_psk_without_forward_secrecy(builder);
            writeln!(
                out,
                "Accepting PSK clients without forward secrecy (psk_ke, plain PSK)"
            )
            .map_err(CliError::Output)?;
        }
    }
    if let Some(shared) = shared_resumption {
        builder = builder.shared_resumption(shared);
        writeln!(out, "Sharing users, tickets and sessions with the fleet")
            .map_err(CliError::Output)?;
    }
    match (reqcert, cafile) {
        (true, Some(roots)) => builder = builder.require_client_cert(roots),
        (false, None) => {}
        _ => {
            return Err(CliError::Usage(
                "--reqcert and --cafile PEM go together".into(),
            ))
        }
    }
    let cannot_serve =
        |e: std::io::Error| CliError::Other(format!("cannot serve {}: {e}", dir.display()));
    let mut files = StaticFiles::new(&dir)
        .map_err(cannot_serve)?
        .hidden(hidden)
        .index_html(index_html)
        .precompressed(precompressed);
    for secret in &secrets {
        files = files.exclude(secret).map_err(cannot_serve)?;
    }
    let mut server = TlsServer::builder(builder.build()?);
    if let Some(n) = max_connections {
        server = server.max_connections(n);
    }
    if let Some(n) = max_connections_per_ip {
        server = server.max_connections_per_ip(n);
    }
    if let Some(t) = idle_timeout {
        // Waiting for the next request is what idling means for a file server.
        server = server.idle_timeout(t).request_head_timeout(t);
    }
    let cannot_listen = |e: std::io::Error| {
        CliError::Other(format!(
            "cannot listen on {}:{}: {e}",
            target.host, target.port
        ))
    };
    let address = (target.host.as_str(), target.port);
    let server = match threaded {
        true => Server::Threaded(server.bind(address).map_err(cannot_listen)?),
        false => Server::Async(server.bind_async(address).map_err(cannot_listen)?),
    };
    let addr = server.local_addr();
    let host = if addr.is_ipv6() {
        format!("[{}]", target.host)
    } else {
        target.host.clone()
    };
    writeln!(
        out,
        "Serving {} on https://{host}:{}/",
        files.root().display(),
        addr.port()
    )
    .and_then(|_| out.flush())
    .map_err(CliError::Output)?;
    drop(out);
    let stop = server.shutdown_handle();
    ctrlc::set_handler(move || {
        log::info!("shutting down (up to {SHUTDOWN_GRACE:?} for connections in flight)");
        stop.shutdown(SHUTDOWN_GRACE);
    })
    .map_err(|e| CliError::Other(format!("cannot handle Ctrl-C: {e}")))?;
    server.serve(files)?;
    Ok(())
}

/// The server `tls server` runs: event-driven by default, or `--threaded`.
enum Server {
    Async(AsyncTlsServer),
    Threaded(TlsServer),
}

impl Server {
    fn local_addr(&self) -> std::net::SocketAddr {
        match self {
            Server::Async(server) => server.local_addr(),
            Server::Threaded(server) => server.local_addr(),
        }
    }

    fn shutdown_handle(&self) -> tls_server::ShutdownHandle {
        match self {
            Server::Async(server) => server.shutdown_handle(),
            Server::Threaded(server) => server.shutdown_handle(),
        }
    }

    fn serve(self, files: StaticFiles) -> std::io::Result<()> {
        match self {
            // The accept loop; the server's own workers serve the connections.
            Server::Async(server) => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?
                .block_on(server.serve(files)),
            Server::Threaded(server) => server.serve(files),
        }
    }
}

fn print_fingerprints(out: &mut impl Write, leaf: &[u8]) -> Result<(), CliError> {
    use tls::FingerprintAlgorithm::{Sha1, Sha256};
    for (label, algorithm) in [("SHA-1", Sha1), ("SHA-256", Sha256)] {
        let fp = tls::Fingerprint::of(algorithm, leaf).to_hex();
        writeln!(out, "Fingerprint {label}: {fp}").map_err(CliError::Output)?;
    }
    // Ready to paste into real clients, which pin the public key rather than the certificate.
    let spki = tls::spki_sha256_base64(leaf)?;
    writeln!(out, "curl pin: --pinnedpubkey sha256//{spki}").map_err(CliError::Output)?;
    writeln!(
        out,
        "Chromium pin: --ignore-certificate-errors-spki-list={spki}"
    )
    .map_err(CliError::Output)?;
    Ok(())
}
