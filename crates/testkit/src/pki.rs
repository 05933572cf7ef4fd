//! A throwaway PKI: root CA → intermediate CA → server leaf, a client CA with a client leaf,
//! and a self-signed leaf, written to a temporary folder as PEM for external peers.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PublicKeyData,
};

/// A certificate chain (leaf first) with its key, in PEM and as the `tls` crate's types.
pub struct Identity {
    /// The chain, leaf first, as PEM.
    pub chain_pem: String,
    /// The leaf's private key, PKCS#8 PEM.
    pub key_pem: String,
    /// The leaf in DER.
    pub leaf_der: Vec<u8>,
    /// The leaf's SubjectPublicKeyInfo in DER (what curl's `--pinnedpubkey` hashes).
    pub spki_der: Vec<u8>,
}

impl Identity {
    /// The chain for a `tls` config.
    pub fn chain(&self) -> tls::CertificateChain {
        tls::CertificateChain::from_pem(self.chain_pem.as_bytes()).expect("test chain")
    }

    /// The key for a `tls` config.
    pub fn key(&self) -> tls::PrivateKey {
        tls::PrivateKey::from_pem(self.key_pem.as_bytes()).expect("test key")
    }

    /// The leaf's fingerprint.
    pub fn fingerprint(&self, algorithm: tls::FingerprintAlgorithm) -> tls::Fingerprint {
        tls::Fingerprint::of(algorithm, &self.leaf_der)
    }

    /// `sha256//BASE64` of the public key, as curl's `--pinnedpubkey` wants it.
    pub fn curl_pin(&self) -> String {
        let hash = tls::Fingerprint::of(tls::FingerprintAlgorithm::Sha256, &self.spki_der);
        format!("sha256//{}", base64(hash.as_bytes()))
    }
}

/// Every certificate the tests need, and their PEM files.
pub struct Pki {
    /// Root CA that signed the intermediate (PEM).
    pub root_pem: String,
    /// Server chain: leaf for `localhost` and `127.0.0.1`, then the intermediate.
    pub server: Identity,
    /// A leaf for `other.example` only, same CA: for host-name mismatches.
    pub other_host: Identity,
    /// A self-signed leaf for `localhost` (not a CA), as a pinned-only server would have.
    pub self_signed: Identity,
    /// The CA that issues client certificates (PEM).
    pub client_ca_pem: String,
    /// A client certificate issued by the client CA.
    pub client: Identity,
    /// A client certificate from a CA nobody trusts.
    pub stranger: Identity,
    dir: tempfile::TempDir,
}

struct Ca {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

fn ca(name: &str, parent: Option<&Ca>) -> Ca {
    let key = KeyPair::generate().expect("CA key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let cert = match parent {
        Some(parent) => params.signed_by(&key, &parent.issuer),
        None => params.self_signed(&key),
    }
    .expect("CA certificate");
    Ca {
        pem: cert.pem(),
        issuer: Issuer::new(params, key),
    }
}

fn leaf(names: &[&str], usage: ExtendedKeyUsagePurpose, issuer: Option<&Ca>) -> Identity {
    let key = KeyPair::generate().expect("leaf key");
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .expect("leaf params");
    params.distinguished_name.push(DnType::CommonName, names[0]);
    params.extended_key_usages = vec![usage];
    params.is_ca = IsCa::ExplicitNoCa;
    let cert = match issuer {
        Some(ca) => params.signed_by(&key, &ca.issuer),
        None => params.self_signed(&key),
    }
    .expect("leaf certificate");
    let mut chain_pem = cert.pem();
    if let Some(ca) = issuer {
        chain_pem.push_str(&ca.pem);
    }
    Identity {
        chain_pem,
        key_pem: key.serialize_pem(),
        leaf_der: cert.der().to_vec(),
        spki_der: key.subject_public_key_info(),
    }
}

impl Pki {
    /// Generates everything (ECDSA P-256) and writes the PEM files.
    pub fn new() -> Self {
        let root = ca("tlslite test root", None);
        let intermediate = ca("tlslite test intermediate", Some(&root));
        let client_ca = ca("tlslite test client CA", None);
        let stranger_ca = ca("nobody trusts this CA", None);
        let server_auth = ExtendedKeyUsagePurpose::ServerAuth;
        let client_auth = ExtendedKeyUsagePurpose::ClientAuth;
        let pki = Pki {
            root_pem: root.pem.clone(),
            server: leaf(
                &["localhost", "127.0.0.1"],
                server_auth.clone(),
                Some(&intermediate),
            ),
            other_host: leaf(&["other.example"], server_auth.clone(), Some(&intermediate)),
            self_signed: leaf(&["localhost", "127.0.0.1"], server_auth, None),
            client_ca_pem: client_ca.pem.clone(),
            client: leaf(&["test client"], client_auth.clone(), Some(&client_ca)),
            stranger: leaf(&["stranger"], client_auth, Some(&stranger_ca)),
            dir: tempfile::tempdir().expect("temp dir"),
        };
        pki.write_files();
        pki
    }

    fn write_files(&self) {
        let files = [
            ("root.pem", &self.root_pem),
            ("client-ca.pem", &self.client_ca_pem),
            ("server.pem", &self.server.chain_pem),
            ("server.key", &self.server.key_pem),
            ("other-host.pem", &self.other_host.chain_pem),
            ("other-host.key", &self.other_host.key_pem),
            ("self-signed.pem", &self.self_signed.chain_pem),
            ("self-signed.key", &self.self_signed.key_pem),
            ("client.pem", &self.client.chain_pem),
            ("client.key", &self.client.key_pem),
        ];
        for (name, pem) in files {
            std::fs::write(self.dir.path().join(name), pem).expect("write PEM");
        }
    }

    /// The folder holding `root.pem`, `client-ca.pem`, `server.pem`/`.key`,
    /// `other-host.pem`/`.key`, `self-signed.pem`/`.key` and `client.pem`/`.key`.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A file in [`dir`](Self::dir).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The root CA as trust roots.
    pub fn roots(&self) -> tls::TrustRoots {
        tls::TrustRoots::from_pem(self.root_pem.as_bytes()).expect("root")
    }

    /// The client CA as trust roots.
    pub fn client_roots(&self) -> tls::TrustRoots {
        tls::TrustRoots::from_pem(self.client_ca_pem.as_bytes()).expect("client CA")
    }
}

impl Default for Pki {
    fn default() -> Self {
        Self::new()
    }
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(super::base64(plain.as_bytes()), encoded);
        }
    }
}
