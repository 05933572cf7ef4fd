//! The certificate `tls server` makes for itself when given none: made once per host name and
//! kept, so that a fingerprint pinned from what the server prints (`tls client --fingerprint`,
//! curl's `--pinnedpubkey`, Chromium's SPKI list) still holds after a restart.
//!
//! Kept in `$XDG_DATA_HOME/tlslite/server/` (else `~/.local/share/tlslite/server/`): the folder
//! 0700, `HOST.key.pem` 0600 and written only as a new file (never through a link), and
//! `HOST.cert.pem` beside it. `--ephemeral` makes a fresh one at every start and keeps nothing.

use std::io::Write;
use std::path::{Path, PathBuf};

use tls::{CertificateChain, PrivateKey};

use crate::args::CliError;

/// The server's certificate and key, and where they are kept (none: ephemeral).
pub(crate) struct ServerIdentity {
    pub(crate) chain: CertificateChain,
    pub(crate) key: PrivateKey,
    pub(crate) kept: Option<Kept>,
}

/// Where an identity is kept, and whether this start made it.
pub(crate) struct Kept {
    pub(crate) key: PathBuf,
    pub(crate) made_now: bool,
}

/// The folder identities are kept in.
fn folder() -> Result<PathBuf, CliError> {
    let data = match std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        Some(data) => PathBuf::from(data),
        None => match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
            Some(home) => PathBuf::from(home).join(".local/share"),
            None => {
                return Err(CliError::Other(
                    "neither XDG_DATA_HOME nor HOME is set: nowhere to keep the server's \
                     certificate (give -c/-k, or --ephemeral)"
                        .into(),
                ))
            }
        },
    };
    Ok(data.join("tlslite").join("server"))
}

/// `host` as a file name: letters, digits and `.-_:` kept, anything else `_`.
fn file_stem(host: &str) -> String {
    host.chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' | '_' | ':' => c,
            _ => '_',
        })
        .collect()
}

/// The identity for `host`: the kept one, or a new one made (and kept unless `ephemeral`).
pub(crate) fn server_identity(host: &str, ephemeral: bool) -> Result<ServerIdentity, CliError> {
    if ephemeral {
        let (chain, key, _) = self_signed(host)?;
        return Ok(ServerIdentity {
            chain,
            key,
            kept: None,
        });
    }
    let folder = folder()?;
    let failed = |path: &Path, e: std::io::Error| {
        CliError::Other(format!(
            "cannot keep the server's certificate in {}: {e}",
            path.display()
        ))
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(&folder).map_err(|e| failed(&folder, e))?;
    let stem = file_stem(host);
    let key_path = folder.join(format!("{stem}.key.pem"));
    let cert_path = folder.join(format!("{stem}.cert.pem"));
    if !key_path.exists() {
        let (chain, key, (cert_pem, key_pem)) = self_signed(host)?;
        // The key first, as a new private file: a second server starting at the same moment
        // finds it there and reads what the first one wrote.
        match tls::srp::write_private(&key_path, key_pem.as_bytes()) {
            Ok(()) => {
                write_new(&cert_path, cert_pem.as_bytes()).map_err(|e| failed(&cert_path, e))?;
                return Ok(ServerIdentity {
                    chain,
                    key,
                    kept: Some(Kept {
                        key: key_path,
                        made_now: true,
                    }),
                });
            }
            Err(_) if key_path.exists() => {}
            Err(e) => return Err(e.into()),
        }
    }
    if tls::srp::readable_by_others(&key_path).map_err(|e| failed(&key_path, e))? {
        return Err(CliError::Other(format!(
            "{} can be read by others than its owner: it is no longer the server's own key \
             (remove it to make a new one, or chmod 600 it if you trust it)",
            key_path.display()
        )));
    }
    let key = PrivateKey::from_pem_file(&key_path)?;
    let chain = CertificateChain::from_pem_file(&cert_path)?;
    Ok(ServerIdentity {
        chain,
        key,
        kept: Some(Kept {
            key: key_path,
            made_now: false,
        }),
    })
}

/// Writes a new file (never over one, never through a link).
fn write_new(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// A fresh self-signed certificate for `host` (and localhost), ECDSA P-256, not a CA; with its
/// PEM forms (certificate, key).
fn self_signed(host: &str) -> Result<(CertificateChain, PrivateKey, (String, String)), CliError> {
    let mut names = vec![host.to_owned()];
    for name in ["localhost", "127.0.0.1", "::1"] {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }
    names.retain(|n| n != "0.0.0.0" && n != "::");
    let generated = rcgen::generate_simple_self_signed(names)
        .map_err(|e| CliError::Other(format!("cannot make a certificate: {e}")))?;
    let chain = CertificateChain::from_der([generated.cert.der().to_vec()])?;
    let key = PrivateKey::from_pkcs8_der(generated.signing_key.serialize_der());
    let pems = (generated.cert.pem(), generated.signing_key.serialize_pem());
    Ok((chain, key, pems))
}
