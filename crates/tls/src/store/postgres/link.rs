//! The link to the database, secured as libpq's `sslmode` and `sslrootcert` say, over rustls.
//!
//! Verifiers, the simulation secret and every ticket key cross this link, so a database off
//! this machine is reached only over a link whose certificate is checked for its name
//! (`verify-full`), unless the URL turns TLS off in so many words (`sslmode=disable`).

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use postgres::config::{Host, SslMode as WireMode};
use rustls::client::danger::{ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::{CertificateError, RootCertStore};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::password::Env;
use crate::client::{Accept, KeyHolderVerifier};
use crate::rustls_config::signatures_checked_by;
use crate::{Error, TrustRoots};

/// libpq's `sslmode` values that we honour (`allow` is refused: it tries plaintext first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SslMode {
    /// No TLS.
    Disable,
    /// TLS when the server offers it, its certificate unchecked; plaintext otherwise.
    Prefer,
    /// TLS; the certificate unchecked unless a root certificate is at hand (then as `VerifyCa`).
    Require,
    /// TLS, the certificate leading to a trusted root, whatever name it carries.
    VerifyCa,
    /// TLS, the certificate leading to a trusted root and naming the host.
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<Self, Error> {
        Ok(match value {
            "disable" => Self::Disable,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            "allow" => {
                return Err(Error::config(
                    "sslmode=allow tries plaintext before TLS: use prefer, require, verify-ca or \
                     verify-full (or disable)",
                ))
            }
            other => {
                return Err(Error::Config(format!(
                    "sslmode={other}: expected disable, prefer, require, verify-ca or verify-full"
                )))
            }
        })
    }

    fn name(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyCa => "verify-ca",
            Self::VerifyFull => "verify-full",
        }
    }
}

/// Where a checked link's trusted roots come from.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Roots {
    /// A PEM file (`sslrootcert=FILE`, or libpq's default `~/.postgresql/root.crt`).
    File(PathBuf),
    /// The Mozilla roots (`sslrootcert=system`).
    System,
}

/// How the link to the database is secured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct LinkSecurity {
    mode: SslMode,
    /// Whether the URL (or `PGSSLMODE`) named the mode, rather than the default `prefer`.
    explicit: bool,
    /// The roots the certificate must lead to; `None`: it is not checked.
    roots: Option<Roots>,
}

impl LinkSecurity {
    /// Takes `sslmode` and `sslrootcert` out of the URL's query (the driver knows neither
    /// `verify-*` nor root files), falling back to `PGSSLMODE` and `PGSSLROOTCERT` as libpq
    /// does. Returns the URL without them.
    pub(super) fn take_from_url(url: &str, env: Env<'_>) -> Result<(String, Self), Error> {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut mode = None;
        let mut root_cert = None;
        let mut rest = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "sslmode" => mode = Some(percent_decode(value)?),
                "sslrootcert" => root_cert = Some(percent_decode(value)?),
                _ => rest.push(pair),
            }
        }
        let mode = mode.or_else(|| env("PGSSLMODE").filter(|m| !m.is_empty()));
        let root_cert = root_cert.or_else(|| env("PGSSLROOTCERT").filter(|r| !r.is_empty()));
        let explicit = mode.is_some();
        let mode = match mode {
            Some(mode) => SslMode::parse(&mode)?,
            None => SslMode::Prefer,
        };
        let default_file = || {
            env("HOME")
                .map(|home| PathBuf::from(home).join(".postgresql/root.crt"))
                .filter(|file| file.exists())
        };
        let roots = match (mode, root_cert) {
            (SslMode::Disable | SslMode::Prefer, _) => None,
            (_, Some(root)) if root == "system" => Some(Roots::System),
            (_, Some(file)) => Some(Roots::File(PathBuf::from(file))),
            // As libpq: require checks the chain when the default root file exists.
            (SslMode::Require, None) => default_file().map(Roots::File),
            (_, None) => Some(Roots::File(default_file().ok_or_else(|| {
                Error::Config(format!(
                    "sslmode={} needs the database's CA: give sslrootcert=FILE (or \
                     sslrootcert=system for the Mozilla roots); ~/.postgresql/root.crt does not \
                     exist",
                    mode.name()
                ))
            })?)),
        };
        let url = match rest.is_empty() {
            true => base.to_owned(),
            false => format!("{base}?{}", rest.join("&")),
        };
        Ok((
            url,
            Self {
                mode,
                explicit,
                roots,
            },
        ))
    }

    /// Refuses a link weaker than `verify-full` to a database off this machine, unless TLS
    /// was turned off explicitly, and TLS over a Unix socket (the server offers none there).
    /// `hosts` are where the driver connects: `hostaddr` when given, else `host`.
    pub(super) fn check(&self, hosts: &[Host], addresses: &[IpAddr]) -> Result<(), Error> {
        for (i, host) in hosts.iter().enumerate() {
            let local = match (addresses.get(i), host) {
                (_, Host::Unix(_)) => {
                    if matches!(
                        self.mode,
                        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull
                    ) {
                        return Err(Error::Config(format!(
                            "sslmode={}: a Unix socket carries no TLS (the socket's permissions \
                             protect it); use sslmode=prefer or disable there",
                            self.mode.name()
                        )));
                    }
                    true
                }
                (Some(address), _) => address.is_loopback(),
                (None, Host::Tcp(name)) => is_loopback_name(name),
            };
            let strong = self.mode == SslMode::VerifyFull
                || (self.mode == SslMode::Disable && self.explicit);
            if !local && !strong {
                let name = match host {
                    Host::Tcp(name) => name.clone(),
                    Host::Unix(path) => path.display().to_string(),
                };
                let mode = match self.explicit {
                    true => format!("sslmode={}", self.mode.name()),
                    false => "sslmode=prefer (the default)".to_owned(),
                };
                return Err(Error::Config(format!(
                    "database host {name} is not this machine, and {mode} would let whoever is \
                     on the path read the verifiers and ticket keys or pose as the database: \
                     use sslmode=verify-full with sslrootcert=CA.pem (or sslrootcert=system), \
                     or say sslmode=disable to send everything in clear knowingly"
                )));
            }
        }
        Ok(())
    }

    /// The driver's setting: whether to ask for TLS, and whether to insist.
    pub(super) fn wire_mode(&self) -> WireMode {
        match self.mode {
            SslMode::Disable => WireMode::Disable,
            SslMode::Prefer => WireMode::Prefer,
            _ => WireMode::Require,
        }
    }

    /// The TLS connector, checking the certificate as the mode says.
    pub(super) fn connector(&self) -> Result<MakeRustlsConnect, Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier: Arc<dyn ServerCertVerifier> = match &self.roots {
            None => Arc::new(KeyHolderVerifier::new(Accept::Any, provider.clone())),
            Some(roots) => {
                let store = Arc::new(root_store(roots)?);
                let webpki = WebPkiServerVerifier::builder_with_provider(store, provider.clone())
                    .build()
                    .map_err(|e| Error::Config(format!("database trust roots: {e}")))?;
                match self.mode {
                    SslMode::VerifyFull => webpki,
                    _ => Arc::new(ChainOnly { webpki }),
                }
            }
        };
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Config(format!("database TLS: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(MakeRustlsConnect::new(config))
    }
}

/// `localhost` and loopback addresses: other names could resolve anywhere.
fn is_loopback_name(name: &str) -> bool {
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn root_store(roots: &Roots) -> Result<RootCertStore, Error> {
    match roots {
        Roots::System => Ok(RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        }),
        Roots::File(file) => TrustRoots::from_pem_file(file)
            .and_then(|roots| roots.root_store())
            .map_err(|e| Error::Config(format!("sslrootcert {}: {e}", file.display()))),
    }
}

/// `%XX` escapes of a URL query value.
fn percent_decode(value: &str) -> Result<String, Error> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let byte = value
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .ok_or_else(|| Error::config("malformed PostgreSQL URL: a bad % escape"))?;
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| Error::config("malformed PostgreSQL URL: not UTF-8"))
}

/// `verify-ca`: the chain must lead to a trusted root; the name in the certificate is not
/// compared with the host (rustls's verifier checks the chain before the name, so a name
/// error means the chain passed).
#[derive(Debug)]
struct ChainOnly {
    webpki: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    signatures_checked_by!(webpki);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(url: &str, env: &[(&str, &str)]) -> Result<(String, LinkSecurity), Error> {
        let env = |name: &str| {
            env.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        };
        LinkSecurity::take_from_url(url, &env)
    }

    fn check(url: &str, env: &[(&str, &str)]) -> Result<LinkSecurity, Error> {
        let (rest, link) = take(url, env)?;
        let config: postgres::Config = rest.parse().expect("driver parses the rest");
        link.check(config.get_hosts(), config.get_hostaddrs())?;
        Ok(link)
    }

    #[test]
    fn the_driver_gets_the_url_without_our_options() {
        let (rest, link) = take(
            "postgres://u@h/db?connect_timeout=5&sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem",
            &[],
        )
        .unwrap();
        assert_eq!(rest, "postgres://u@h/db?connect_timeout=5");
        assert_eq!(link.mode, SslMode::VerifyFull);
        assert_eq!(link.roots, Some(Roots::File("/etc/ca.pem".into())));
        assert_eq!(link.wire_mode(), WireMode::Require);
        let (rest, link) = take("postgres://u@h/db", &[]).unwrap();
        assert_eq!(rest, "postgres://u@h/db");
        assert_eq!((link.mode, link.explicit), (SslMode::Prefer, false));
        let (_, link) = take(
            "postgres://u@h/db",
            &[("PGSSLMODE", "verify-ca"), ("PGSSLROOTCERT", "system")],
        )
        .unwrap();
        assert_eq!(
            (link.mode, link.roots),
            (SslMode::VerifyCa, Some(Roots::System))
        );
    }

    #[test]
    fn a_database_off_this_machine_needs_verify_full_or_an_explicit_disable() {
        let remote = "postgres://u@db.example/db";
        for weak in ["", "?sslmode=prefer", "?sslmode=require"] {
            let e = check(&format!("{remote}{weak}"), &[])
                .unwrap_err()
                .to_string();
            assert!(e.contains("verify-full") && e.contains("db.example"), "{e}");
        }
        let e = check(
            &format!("{remote}?sslmode=verify-ca&sslrootcert=ca.pem"),
            &[],
        );
        assert!(e.is_err(), "verify-ca does not check the name");
        check(&format!("{remote}?sslmode=disable"), &[]).unwrap();
        check(
            &format!("{remote}?sslmode=verify-full&sslrootcert=system"),
            &[],
        )
        .unwrap();
        // hostaddr is where the driver connects: a loopback name with a remote address counts
        // as remote, and the other way round.
        let e = check("postgres://u@localhost/db?hostaddr=192.0.2.1", &[]);
        assert!(e.is_err());
        check("postgres://u@db.example/db?hostaddr=127.0.0.1", &[]).unwrap();
        for local in ["127.0.0.1", "localhost", "[::1]", "127.1.2.3"] {
            check(&format!("postgres://u@{local}/db"), &[]).unwrap();
            check(&format!("postgres://u@{local}/db?sslmode=require"), &[]).unwrap();
        }
        // Every host of a list counts.
        let e = check("postgres://u@localhost,db.example/db", &[]);
        assert!(e.is_err());
    }

    #[test]
    fn bad_settings_are_named() {
        let e = take("postgres://u@h/db?sslmode=allow", &[]).unwrap_err();
        assert!(e.to_string().contains("plaintext"), "{e}");
        let e = take("postgres://u@h/db?sslmode=verify_full", &[]).unwrap_err();
        assert!(e.to_string().contains("verify-full"), "{e}");
        let e = take(
            "postgres://u@h/db?sslmode=verify-full",
            &[("HOME", "/nonexistent")],
        )
        .unwrap_err();
        assert!(e.to_string().contains("sslrootcert"), "{e}");
        let (_, link) = take(
            "postgres://u@h/db?sslmode=verify-full&sslrootcert=/nonexistent.pem",
            &[],
        )
        .unwrap();
        let e = link.connector().err().expect("missing root file");
        assert!(e.to_string().contains("/nonexistent.pem"), "{e}");
        let e = check("postgres://u@%2Ftmp/db?sslmode=require", &[]).unwrap_err();
        assert!(e.to_string().contains("Unix socket"), "{e}");
        check("postgres://u@%2Ftmp/db", &[]).unwrap();
    }
}
