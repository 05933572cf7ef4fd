//! Certificate fingerprints: parsing the forms people paste, computing, and comparing.

use core::fmt;
use core::str::FromStr;

use ring::digest;
use subtle::ConstantTimeEq;

/// A certificate fingerprint: a digest of the DER encoding of the whole certificate.
///
/// Parses tlslite's 40-hex-digit SHA-1 form and 64-hex-digit SHA-256, case-insensitive, with
/// or without colons, with an optional `sha1:`/`sha256:` prefix, and as OpenSSL prints it
/// (`sha256 Fingerprint=90:60:…`). `Display` prints `sha1:…` or `sha256:…` in lowercase hex,
/// which parses back.
///
/// ```
/// let fp: tls::Fingerprint = "SHA256 Fingerprint=6B:1F:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD"
///     .parse()
///     .unwrap();
/// assert_eq!(fp.algorithm(), tls::FingerprintAlgorithm::Sha256);
/// assert!(fp.to_string().starts_with("sha256:6b1f0011"));
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fingerprint {
    /// SHA-1 of the certificate (tlslite's `x509Fingerprint`).
    Sha1([u8; 20]),
    /// SHA-256 of the certificate.
    Sha256([u8; 32]),
}

/// The digest a [`Fingerprint`] uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FingerprintAlgorithm {
    /// SHA-1, 20 bytes.
    Sha1,
    /// SHA-256, 32 bytes.
    Sha256,
}

/// The public-key pin curl (`--pinnedpubkey sha256//<pin>`) and Chromium
/// (`--ignore-certificate-errors-spki-list=<pin>`) take: the base64 of the SHA-256 of the
/// certificate's SubjectPublicKeyInfo. Unlike a [`Fingerprint`], it survives renewing the
/// certificate with the same key.
///
/// ```
/// # let pki = tls_testkit::Pki::new();
/// # let leaf_der = &pki.server.leaf_der;
/// let pin = tls::spki_sha256_base64(leaf_der)?;
/// println!("curl --pinnedpubkey sha256//{pin} …");
/// # assert_eq!(format!("sha256//{pin}"), pki.server.curl_pin());
/// # Ok::<(), tls::Error>(())
/// ```
pub fn spki_sha256_base64(cert_der: &[u8]) -> Result<String, crate::Error> {
    use base64::Engine as _;
    let der = rustls_pki_types::CertificateDer::from(cert_der);
    let cert = webpki::EndEntityCert::try_from(&der)
        .map_err(|e| crate::Error::config(format!("not a certificate: {e}")))?;
    let spki = cert.subject_public_key_info();
    let hash = digest::digest(&digest::SHA256, spki.as_ref());
    Ok(base64::engine::general_purpose::STANDARD.encode(hash.as_ref()))
}

impl Fingerprint {
    /// Computes the fingerprint of a DER-encoded certificate.
    pub fn of(algorithm: FingerprintAlgorithm, cert_der: &[u8]) -> Self {
        match algorithm {
            FingerprintAlgorithm::Sha1 => {
                let d = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, cert_der);
                let mut out = [0; 20];
                out.copy_from_slice(d.as_ref());
                Self::Sha1(out)
            }
            FingerprintAlgorithm::Sha256 => {
                let d = digest::digest(&digest::SHA256, cert_der);
                let mut out = [0; 32];
                out.copy_from_slice(d.as_ref());
                Self::Sha256(out)
            }
        }
    }

    /// The digest algorithm.
    pub fn algorithm(&self) -> FingerprintAlgorithm {
        match self {
            Self::Sha1(_) => FingerprintAlgorithm::Sha1,
            Self::Sha256(_) => FingerprintAlgorithm::Sha256,
        }
    }

    /// The digest bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Sha1(d) => d,
            Self::Sha256(d) => d,
        }
    }

    /// The digest in lowercase hex without separators (tlslite's form).
    pub fn to_hex(&self) -> String {
        self.as_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Whether `cert_der` has this fingerprint; the comparison takes constant time.
    pub fn matches(&self, cert_der: &[u8]) -> bool {
        let actual = Self::of(self.algorithm(), cert_der);
        bool::from(self.as_bytes().ct_eq(actual.as_bytes()))
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = match self.algorithm() {
            FingerprintAlgorithm::Sha1 => "sha1",
            FingerprintAlgorithm::Sha256 => "sha256",
        };
        write!(f, "{prefix}:{}", self.to_hex())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Why a fingerprint did not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FingerprintParseError(String);

impl fmt::Display for FingerprintParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid fingerprint: {}", self.0)
    }
}

impl std::error::Error for FingerprintParseError {}

impl FromStr for Fingerprint {
    type Err = FingerprintParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fail = |why: &str| Err(FingerprintParseError(why.to_owned()));
        let text = text.trim();
        // OpenSSL prints "sha256 Fingerprint=AB:CD:…"; the label before '=' names the digest.
        let (label, digits) = match text.split_once('=') {
            Some((label, digits)) => (Some(label.trim()), digits),
            None => match text.split_once(':') {
                Some((label, digits)) if label.len() < 8 && label.starts_with(['s', 'S']) => {
                    (Some(label), digits)
                }
                _ => (None, text),
            },
        };
        let declared = match label.map(|l| l.to_ascii_lowercase()) {
            None => None,
            Some(l) => match l.trim_end_matches("fingerprint").trim() {
                "sha1" | "sha-1" => Some(FingerprintAlgorithm::Sha1),
                "sha256" | "sha-256" => Some(FingerprintAlgorithm::Sha256),
                _ => return fail("unknown digest name (use sha1 or sha256)"),
            },
        };
        let hex: Vec<u8> = digits.bytes().filter(|b| *b != b':').collect();
        if let Some(bad) = hex.iter().find(|b| !b.is_ascii_hexdigit()) {
            return fail(&format!("unexpected character {:?}", *bad as char));
        }
        let mut bytes = vec![0u8; hex.len() / 2];
        for (i, pair) in hex.chunks(2).enumerate().take(bytes.len()) {
            let digit = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
            bytes[i] = digit(pair[0]) << 4 | digit(pair[1]);
        }
        let parsed = match (hex.len(), declared) {
            (40, None | Some(FingerprintAlgorithm::Sha1)) => Self::Sha1(
                bytes
                    .try_into()
                    .map_err(|_| FingerprintParseError(String::new()))?,
            ),
            (64, None | Some(FingerprintAlgorithm::Sha256)) => Self::Sha256(
                bytes
                    .try_into()
                    .map_err(|_| FingerprintParseError(String::new()))?,
            ),
            (n, Some(alg)) => {
                return fail(&format!("{n} hex digits do not make a {alg:?} digest"));
            }
            (n, None) => {
                return fail(&format!(
                    "{n} hex digits; expected 40 (SHA-1) or 64 (SHA-256)"
                ))
            }
        };
        Ok(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &[u8] = b"not really a certificate, but any bytes have a digest";

    #[test]
    fn parses_every_pasted_form() {
        let sha256 = Fingerprint::of(FingerprintAlgorithm::Sha256, CERT);
        let hex = sha256.to_hex();
        let upper_colons = hex
            .as_bytes()
            .chunks(2)
            .map(|p| std::str::from_utf8(p).unwrap().to_ascii_uppercase())
            .collect::<Vec<_>>()
            .join(":");
        for form in [
            hex.clone(),
            format!("sha256:{hex}"),
            format!("SHA256:{}", hex.to_uppercase()),
            upper_colons.clone(),
            format!("sha256 Fingerprint={upper_colons}"),
            format!("  {hex}\n"),
            sha256.to_string(),
        ] {
            let parsed: Fingerprint = form.parse().unwrap_or_else(|e| panic!("{form}: {e}"));
            assert_eq!(parsed, sha256, "{form}");
        }
        let sha1 = Fingerprint::of(FingerprintAlgorithm::Sha1, CERT);
        assert_eq!(sha1.to_hex().parse::<Fingerprint>().unwrap(), sha1);
        assert_eq!(
            format!("SHA1 Fingerprint={}", sha1.to_hex())
                .parse::<Fingerprint>()
                .unwrap(),
            sha1
        );
        assert_eq!(sha1.to_string().parse::<Fingerprint>().unwrap(), sha1);
    }

    #[test]
    fn rejects_bad_forms() {
        let sha1_hex = Fingerprint::of(FingerprintAlgorithm::Sha1, CERT).to_hex();
        for bad in [
            "",
            "abc",
            &format!("sha256:{sha1_hex}"),
            &format!("md5:{sha1_hex}"),
            &format!("{}zz", &sha1_hex[..38]),
            &format!("{sha1_hex}0"),
        ] {
            assert!(bad.parse::<Fingerprint>().is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn matches_only_the_same_certificate() {
        for alg in [FingerprintAlgorithm::Sha1, FingerprintAlgorithm::Sha256] {
            let fp = Fingerprint::of(alg, CERT);
            assert!(fp.matches(CERT));
            assert!(!fp.matches(b"another certificate"));
        }
    }
}
