//! An RSA certificate for tests that need one (the SRP-RSA suites sign with RSA), made by
//! OpenSSL because rcgen cannot make RSA keys with ring.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{peer, run, succeeded};

/// An RSA-2048 self-signed certificate for localhost, made by OpenSSL (rcgen cannot make RSA keys
/// with ring): (cert path, key path, SHA-256 pin).
pub fn rsa_identity(dir: &Path) -> Option<(PathBuf, PathBuf, tls::Fingerprint)> {
    rsa_identity_for(dir, "localhost")
}

/// The same for another DNS name (files `<name>.pem` and `<name>.key` in `dir`).
pub fn rsa_identity_for(dir: &Path, name: &str) -> Option<(PathBuf, PathBuf, tls::Fingerprint)> {
    let openssl = peer("openssl")?;
    let (cert, key) = (
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}.key")),
    );
    succeeded(&run(
        Command::new(openssl)
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                &format!("/CN={name}"),
            ])
            .args([
                "-addext",
                &format!("subjectAltName=DNS:{name},IP:127.0.0.1"),
                "-addext",
                "basicConstraints=critical,CA:FALSE",
            ])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert),
        b"",
    ));
    let chain = tls::CertificateChain::from_pem_file(&cert).unwrap();
    let pin = tls::Fingerprint::of(
        tls::FingerprintAlgorithm::Sha256,
        chain.certificates()[0].as_ref(),
    );
    Some((cert, key, pin))
}
