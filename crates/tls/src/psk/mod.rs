//! Pre-shared keys (TLS Lite's "shared keys"): an identity and a secret both sides hold,
//! proved by TLS 1.3's external PSK handshake (RFC 8446 §4.2.11, guidance in RFC 9257).
//!
//! A client is given one or more [`ExternalPsk`]s; a server looks identities up in a
//! [`PskStore`] ([`MemoryPskStore`] here; SQLite and PostgreSQL beside the verifier stores).
//! Key files use the `identity:hexkey` lines of GnuTLS's `psktool` and mosquitto's `psk_file`
//! ([`parse_key_file`], [`format_key_file`]).
//!
//! ```
//! let psk = tls::psk::ExternalPsk::new("sensor-7", [0x5a; 32])?;
//! assert_eq!(psk.identity(), b"sensor-7");
//! # Ok::<(), tls::Error>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::RwLock;

use zeroize::Zeroizing;

use crate::Error;

/// Keys shorter than this are refused unless asked for by name (RFC 9257 §4: a PSK must be
/// high-entropy; `psktool` draws 32 bytes).
pub const MIN_KEY_LEN: usize = 16;
/// Longest identity on the wire (RFC 8446 §4.2.11: `opaque identity<1..2^16-1>`).
pub const MAX_IDENTITY_LEN: usize = 65_535;
/// Longest key accepted (a key is a secret, not a document; 64 bytes is already 512 bits).
pub const MAX_KEY_LEN: usize = 1024;

/// The hash a PSK is tied to (RFC 8446 §4.2.11): it picks the suites it can be used with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PskHash {
    /// SHA-256: `TLS_AES_128_GCM_SHA256` and `TLS_CHACHA20_POLY1305_SHA256`. The default, and
    /// the only one OpenSSL's and GnuTLS's tools use.
    #[default]
    Sha256,
    /// SHA-384: `TLS_AES_256_GCM_SHA384`.
    Sha384,
}

impl fmt::Display for PskHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
        })
    }
}

impl std::str::FromStr for PskHash {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.to_ascii_lowercase().replace('-', "").as_str() {
            "sha256" => Ok(Self::Sha256),
            "sha384" => Ok(Self::Sha384),
            _ => Err(Error::config(format!(
                "unknown PSK hash {s:?} (sha256 or sha384)"
            ))),
        }
    }
}

/// One external pre-shared key: an identity (opaque bytes, not secret), the key, and its hash.
/// The key is wiped from memory when dropped and never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct ExternalPsk {
    identity: Vec<u8>,
    key: Zeroizing<Vec<u8>>,
    hash: PskHash,
}

impl fmt::Debug for ExternalPsk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExternalPsk")
            .field("identity", &String::from_utf8_lossy(&self.identity))
            .field("key", &format_args!("<{} bytes>", self.key.len()))
            .field("hash", &self.hash)
            .finish()
    }
}

impl ExternalPsk {
    /// A SHA-256 PSK. Refuses an empty or over-long identity, and a key shorter than
    /// [`MIN_KEY_LEN`] bytes ([`dangerous::low_entropy_psk`](crate::dangerous::low_entropy_psk)
    /// takes one, for a legacy device that has nothing better).
    pub fn new(identity: impl Into<Vec<u8>>, key: impl AsRef<[u8]>) -> Result<Self, Error> {
        let psk = Self::unchecked_length(identity.into(), key.as_ref())?;
        if psk.key.len() < MIN_KEY_LEN {
            return Err(Error::config(format!(
                "a PSK of {} bytes is too short to be secure: at least {MIN_KEY_LEN} random \
                 bytes (RFC 9257); tlsdb add-psk draws 32",
                psk.key.len()
            )));
        }
        Ok(psk)
    }

    /// Without the minimum key length (still not empty).
    pub(crate) fn unchecked_length(identity: Vec<u8>, key: &[u8]) -> Result<Self, Error> {
        check_identity(&identity)?;
        if key.is_empty() || key.len() > MAX_KEY_LEN {
            return Err(Error::config(format!(
                "a PSK must have 1 to {MAX_KEY_LEN} bytes, not {}",
                key.len()
            )));
        }
        Ok(Self {
            identity,
            key: Zeroizing::new(key.to_vec()),
            hash: PskHash::Sha256,
        })
    }

    /// Ties the key to another hash (default SHA-256).
    pub fn with_hash(mut self, hash: PskHash) -> Self {
        self.hash = hash;
        self
    }

    /// The identity, as sent in the clear.
    pub fn identity(&self) -> &[u8] {
        &self.identity
    }

    /// The identity as text when it is UTF-8, escaped otherwise (for logs and printouts).
    pub fn identity_lossy(&self) -> String {
        String::from_utf8_lossy(&self.identity).into_owned()
    }

    /// The secret key.
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    /// The hash the key is tied to.
    pub fn hash(&self) -> PskHash {
        self.hash
    }
}

/// A PSK whose key may be shorter than [`MIN_KEY_LEN`] bytes (still not empty). A short or
/// guessable key can be found offline from one recorded handshake: use it only for a legacy
/// device that cannot be given a better one.
pub fn low_entropy_psk(
    identity: impl Into<Vec<u8>>,
    key: impl AsRef<[u8]>,
) -> Result<ExternalPsk, Error> {
    ExternalPsk::unchecked_length(identity.into(), key.as_ref())
}

/// An identity is 1 to 65,535 bytes (RFC 8446).
pub(crate) fn check_identity(identity: &[u8]) -> Result<(), Error> {
    if identity.is_empty() || identity.len() > MAX_IDENTITY_LEN {
        return Err(Error::config(format!(
            "a PSK identity must have 1 to {MAX_IDENTITY_LEN} bytes, not {}",
            identity.len()
        )));
    }
    Ok(())
}

/// Where a server looks up the key of an identity a client offers.
pub trait PskStore: Send + Sync {
    /// The key for `identity`, or `None` if there is none (the client's offer is then ignored,
    /// as RFC 8446 says: a server with a certificate goes on with it).
    fn lookup(&self, identity: &[u8]) -> Result<Option<ExternalPsk>, Error>;
}

/// PSKs kept in memory (tests, or a server that loads its keys at start).
#[derive(Default)]
pub struct MemoryPskStore {
    keys: RwLock<BTreeMap<Vec<u8>, ExternalPsk>>,
}

impl fmt::Debug for MemoryPskStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryPskStore")
            .field("identities", &self.identities().len())
            .finish()
    }
}

impl MemoryPskStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces the key of `psk`'s identity.
    pub fn insert(&self, psk: ExternalPsk) {
        self.keys
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(psk.identity.clone(), psk);
    }

    /// Removes an identity; says whether there was one.
    pub fn remove(&self, identity: &[u8]) -> bool {
        self.keys
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(identity)
            .is_some()
    }

    /// The identities, sorted.
    pub fn identities(&self) -> Vec<Vec<u8>> {
        self.keys
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect()
    }
}

impl PskStore for MemoryPskStore {
    fn lookup(&self, identity: &[u8]) -> Result<Option<ExternalPsk>, Error> {
        Ok(self
            .keys
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(identity)
            .cloned())
    }
}

impl<T: PskStore + ?Sized> PskStore for std::sync::Arc<T> {
    fn lookup(&self, identity: &[u8]) -> Result<Option<ExternalPsk>, Error> {
        (**self).lookup(identity)
    }
}

/// Reads `identity:hexkey` lines (GnuTLS `psktool`, mosquitto `psk_file`): all or nothing, so
/// one bad line is an error naming it. Identities are the text before the last `:` (they may
/// hold colons); one written `#` and hex is that identity in hex (psktool's form for identities
/// that are not plain text). Other lines starting with `#` are comments, as are blank lines.
/// Keys are hex, SHA-256 and at least [`MIN_KEY_LEN`] bytes.
pub fn parse_key_file(text: &str) -> Result<Vec<ExternalPsk>, Error> {
    let mut keys: Vec<ExternalPsk> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        let at = |why: String| Error::config(format!("line {}: {why}", number + 1));
        let identity = match (line.strip_prefix('#'), line.rsplit_once(':')) {
            _ if line.trim().is_empty() => continue,
            (Some(hex_form), Some(_)) => match hex_form.rsplit_once(':') {
                Some((hex, _)) if !hex.is_empty() => match decode_hex(hex) {
                    Ok(identity) => identity,
                    Err(_) => continue,
                },
                _ => continue,
            },
            (Some(_), None) => continue,
            (None, Some((identity, _))) => identity.as_bytes().to_vec(),
            (None, None) => return Err(at("not identity:hexkey".into())),
        };
        let (_, hex) = line.rsplit_once(':').unwrap_or_default();
        let key = Zeroizing::new(decode_hex(hex.trim()).map_err(at)?);
        let psk = ExternalPsk::new(identity, &*key).map_err(|e| at(e.to_string()))?;
        if keys.iter().any(|k| k.identity == psk.identity) {
            return Err(at(format!("{:?} appears twice", psk.identity_lossy())));
        }
        keys.push(psk);
    }
    Ok(keys)
}

/// Writes `identity:hexkey` lines; an identity that is not printable text without `:` at its
/// start and no `#` first is written `#` and hex, as psktool does.
pub fn format_key_file(keys: &[ExternalPsk]) -> Result<Zeroizing<String>, Error> {
    let mut out = Zeroizing::new(String::new());
    for psk in keys {
        match std::str::from_utf8(&psk.identity) {
            Ok(text) if !text.chars().any(char::is_control) && !text.starts_with('#') => {
                out.push_str(text);
            }
            _ => {
                out.push('#');
                out.push_str(&encode_hex(&psk.identity));
            }
        }
        out.push(':');
        out.push_str(&encode_hex(&psk.key));
        out.push('\n');
    }
    Ok(out)
}

/// Lower-case hex.
pub(crate) fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex, either case, an even number of digits.
pub fn decode_hex(hex: &str) -> Result<Vec<u8>, String> {
    if !hex.len().is_multiple_of(2) {
        return Err("a hex key needs an even number of digits".into());
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| format!("{:?} is not hex", hex))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_keys_empty_identities_and_bad_files_are_refused() {
        assert!(ExternalPsk::new("a", [1; 15]).is_err());
        assert!(ExternalPsk::new("", [1; 32]).is_err());
        assert!(ExternalPsk::new(vec![b'x'; 65_536], [1; 32]).is_err());
        assert!(ExternalPsk::new(vec![b'x'; 65_535], [1; 32]).is_ok());
        let psk = ExternalPsk::new("a:b", [0xab; 16]).unwrap();
        assert!(!format!("{psk:?}").contains("ab, ab"));
        let odd = ExternalPsk::new(b"#x\n\xff".to_vec(), [0xcd; 16]).unwrap();
        let text = format_key_file(&[psk.clone(), odd.clone()]).unwrap();
        let key = |b: &str| b.repeat(16);
        assert_eq!(
            &*text,
            &format!("a:b:{}\n#23780aff:{}\n", key("ab"), key("cd"))
        );
        assert_eq!(parse_key_file(&text).unwrap(), vec![psk, odd]);
        // A comment is no key, even one with a colon.
        assert!(parse_key_file("# keys: below\n#\n").unwrap().is_empty());
        for bad in [
            "nocolon",
            "a:abc",
            "a:zz",
            "a:0011",
            "a:00\nb:",
            "x:00112233445566778899aabbccddeeff\nx:00112233445566778899aabbccddeeff",
        ] {
            assert!(parse_key_file(bad).is_err(), "{bad:?}");
        }
    }
}
