//! RFC 8446 §7.1: HKDF-Extract and HKDF-Expand-Label over the early, handshake and master
//! secrets, the transcript hash, Finished values, traffic keys and their updates.

use ring::{digest, hkdf, hmac};
use zeroize::Zeroizing;

/// The hash a suite (and a PSK) is tied to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HashAlg {
    Sha256,
    Sha384,
}

impl HashAlg {
    pub(crate) fn len(self) -> usize {
        self.digest().output_len()
    }

    fn digest(self) -> &'static digest::Algorithm {
        match self {
            Self::Sha256 => &digest::SHA256,
            Self::Sha384 => &digest::SHA384,
        }
    }

    fn hkdf(self) -> hkdf::Algorithm {
        match self {
            Self::Sha256 => hkdf::HKDF_SHA256,
            Self::Sha384 => hkdf::HKDF_SHA384,
        }
    }

    fn hmac(self) -> hmac::Algorithm {
        match self {
            Self::Sha256 => hmac::HMAC_SHA256,
            Self::Sha384 => hmac::HMAC_SHA384,
        }
    }

    pub(crate) fn hash(self, data: &[u8]) -> Vec<u8> {
        digest::digest(self.digest(), data).as_ref().to_vec()
    }

    /// The hash of nothing, the context of "derived" and the binder keys: a constant, rather
    /// than a hash computed at every step of every handshake.
    fn empty_hash(self) -> &'static [u8] {
        match self {
            Self::Sha256 => &EMPTY_SHA256,
            Self::Sha384 => &EMPTY_SHA384,
        }
    }
}

impl From<crate::psk::PskHash> for HashAlg {
    fn from(hash: crate::psk::PskHash) -> Self {
        match hash {
            crate::psk::PskHash::Sha384 => Self::Sha384,
            _ => Self::Sha256,
        }
    }
}

/// SHA-256 of the empty string.
const EMPTY_SHA256: [u8; 32] = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];
/// SHA-384 of the empty string.
const EMPTY_SHA384: [u8; 48] = [
    0x38, 0xb0, 0x60, 0xa7, 0x51, 0xac, 0x96, 0x38, 0x4c, 0xd9, 0x32, 0x7e, 0xb1, 0xb1, 0xe3, 0x6a,
    0x21, 0xfd, 0xb7, 0x11, 0x14, 0xbe, 0x07, 0x43, 0x4c, 0x0c, 0xc7, 0xbf, 0x63, 0xf6, 0xe1, 0xda,
    0x27, 0x4e, 0xde, 0xbf, 0xe7, 0x6f, 0x65, 0xfb, 0xd5, 0x1a, 0xd2, 0xf1, 0x48, 0x98, 0xb9, 0x5b,
];

/// A secret of the schedule (a hash's length), wiped when dropped.
pub(crate) type Secret = Zeroizing<Vec<u8>>;

/// An output length for ring's HKDF-Expand.
struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-Expand-Label(secret, label, context, length), with the "tls13 " prefix.
pub(crate) fn expand_label(
    hash: HashAlg,
    secret: &[u8],
    label: &[u8],
    context: &[u8],
    len: usize,
) -> Secret {
    expand_label_with(
        &hkdf::Prk::new_less_safe(hash.hkdf(), secret),
        label,
        context,
        len,
    )
}

/// The same from a secret already keyed (several values from one secret key it once).
pub(crate) fn expand_label_with(
    prk: &hkdf::Prk,
    label: &[u8],
    context: &[u8],
    len: usize,
) -> Secret {
    let full_len = 6 + label.len();
    let info_parts: [&[u8]; 6] = [
        &(len as u16).to_be_bytes(),
        &[full_len as u8],
        b"tls13 ",
        label,
        &[context.len() as u8],
        context,
    ];
    let mut out = Zeroizing::new(vec![0u8; len]);
    // Lengths here are a hash's or a key's, far under HKDF's 255 blocks: expand cannot fail.
    if let Ok(okm) = prk.expand(&info_parts, Len(len)) {
        let _ = okm.fill(&mut out);
    }
    out
}

/// `secret` keyed once for several expansions.
pub(crate) fn keyed(hash: HashAlg, secret: &[u8]) -> hkdf::Prk {
    hkdf::Prk::new_less_safe(hash.hkdf(), secret)
}

/// HMAC(key, data) with the schedule's hash.
pub(crate) fn hmac(hash: HashAlg, key: &[u8], data: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hash.hmac(), key), data)
        .as_ref()
        .to_vec()
}

/// The running hash of the handshake messages. Until the suite is known (before the server's
/// hello) the messages are kept as bytes, since the hash is not yet chosen.
#[derive(Clone)]
pub(crate) enum Transcript {
    Buffered(Vec<u8>),
    Hashing(digest::Context),
}

impl Default for Transcript {
    fn default() -> Self {
        Self::Buffered(Vec::new())
    }
}

impl Transcript {
    pub(crate) fn add(&mut self, message: &[u8]) {
        match self {
            Self::Buffered(bytes) => bytes.extend_from_slice(message),
            Self::Hashing(context) => context.update(message),
        }
    }

    /// Starts hashing with `hash` what was buffered.
    pub(crate) fn start(&mut self, hash: HashAlg) {
        if let Self::Buffered(bytes) = self {
            let mut context = digest::Context::new(hash.digest());
            context.update(bytes);
            *self = Self::Hashing(context);
        }
    }

    /// The hash so far, under `hash` (what a binder is computed with before the suite is
    /// known).
    pub(crate) fn hash_with(&self, hash: HashAlg, extra: &[u8]) -> Vec<u8> {
        match self {
            Self::Buffered(bytes) => {
                let mut context = digest::Context::new(hash.digest());
                context.update(bytes);
                context.update(extra);
                context.finish().as_ref().to_vec()
            }
            Self::Hashing(context) => {
                let mut context = context.clone();
                context.update(extra);
                context.finish().as_ref().to_vec()
            }
        }
    }

    /// The hash so far (the suite's).
    pub(crate) fn current(&self) -> Vec<u8> {
        match self {
            Self::Buffered(bytes) => HashAlg::Sha256.hash(bytes),
            Self::Hashing(context) => context.clone().finish().as_ref().to_vec(),
        }
    }

    /// After a HelloRetryRequest, the first ClientHello (all there is so far) is replaced by a
    /// `message_hash` message holding its hash (RFC 8446 §4.4.1).
    pub(crate) fn replace_with_message_hash(&mut self, hash: HashAlg) {
        let digest = self.hash_with(hash, &[]);
        let mut message = vec![
            super::super::msgs::handshake::MESSAGE_HASH,
            0,
            0,
            digest.len() as u8,
        ];
        message.extend_from_slice(&digest);
        let mut context = digest::Context::new(hash.digest());
        context.update(&message);
        *self = Self::Hashing(context);
    }
}

/// The secrets of one handshake, from the PSK to the application traffic secrets.
pub(crate) struct KeySchedule {
    pub(crate) hash: HashAlg,
    /// The current stage's secret: early, then handshake, then master.
    secret: Secret,
}

impl KeySchedule {
    /// The early secret from a PSK.
    pub(crate) fn early(hash: HashAlg, psk: &[u8]) -> Self {
        Self {
            hash,
            secret: extract(hash, &vec![0; hash.len()], psk),
        }
    }

    /// Derive-Secret(current, label, transcript hash).
    pub(crate) fn derive(&self, label: &[u8], transcript_hash: &[u8]) -> Secret {
        expand_label(
            self.hash,
            &self.secret,
            label,
            transcript_hash,
            self.hash.len(),
        )
    }

    /// The binder over `transcript_hash` (the truncated ClientHello and what came before
    /// it) of an external PSK ("ext binder") or a ticket's resumption PSK ("res binder"):
    /// mixing the two labels up is the classic bug.
    pub(crate) fn binder(&self, resumption: bool, transcript_hash: &[u8]) -> Vec<u8> {
        let label: &[u8] = match resumption {
            true => b"res binder",
            false => b"ext binder",
        };
        let binder_key = self.derive(label, self.hash.empty_hash());
        finished_value(self.hash, &binder_key, transcript_hash)
    }

    /// Moves to the next stage with `ikm` (the (EC)DHE secret, or zeros).
    fn next(&mut self, ikm: &[u8]) {
        let salt = self.derive(b"derived", self.hash.empty_hash());
        self.secret = extract(self.hash, &salt, ikm);
    }

    /// Early → handshake secret, with the key exchange's shared secret.
    pub(crate) fn enter_handshake(&mut self, shared: &[u8]) {
        self.next(shared);
    }

    /// Handshake → master secret.
    pub(crate) fn enter_master(&mut self) {
        let zeros = vec![0; self.hash.len()];
        self.next(&zeros);
    }
}

fn extract(hash: HashAlg, salt: &[u8], ikm: &[u8]) -> Secret {
    // ring keeps the PRK opaque; HMAC(salt, ikm) is HKDF-Extract (RFC 5869 §2.2).
    Zeroizing::new(hmac(hash, salt, ikm))
}

/// A Finished (or binder) value: HMAC(finished_key of `base`, transcript hash).
pub(crate) fn finished_value(hash: HashAlg, base: &[u8], transcript_hash: &[u8]) -> Vec<u8> {
    let key = expand_label(hash, base, b"finished", &[], hash.len());
    hmac(hash, &key, transcript_hash)
}

/// The PSK a NewSessionTicket stands for (RFC 8446 §4.6.1).
pub(crate) fn resumption_psk(hash: HashAlg, resumption_master: &[u8], nonce: &[u8]) -> Secret {
    expand_label(hash, resumption_master, b"resumption", nonce, hash.len())
}

/// The next traffic secret after a KeyUpdate.
pub(crate) fn next_traffic_secret(hash: HashAlg, secret: &[u8]) -> Secret {
    expand_label(hash, secret, b"traffic upd", &[], hash.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        crate::psk::decode_hex(&s.split_whitespace().collect::<String>()).unwrap()
    }

    /// RFC 8448 §3 (a full handshake, no PSK): the early secret of a zero PSK, the
    /// handshake secret from its X25519 secret, and the client's handshake traffic secret.
    #[test]
    fn rfc8448_simple_handshake_secrets() {
        let mut schedule = KeySchedule::early(HashAlg::Sha256, &[0; 32]);
        assert_eq!(
            *schedule.secret,
            hex("33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a")
        );
        schedule.enter_handshake(&hex(
            "8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d",
        ));
        assert_eq!(
            *schedule.secret,
            hex("1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac")
        );
        let hello_hash = hex("860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8");
        assert_eq!(
            *schedule.derive(b"c hs traffic", &hello_hash),
            hex("b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21")
        );
        let key = expand_label(
            HashAlg::Sha256,
            &hex("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38"),
            b"key",
            &[],
            16,
        );
        assert_eq!(*key, hex("3fce516009c21727d0f2e4e86ee403bc"));
        for hash in [HashAlg::Sha256, HashAlg::Sha384] {
            assert_eq!(hash.empty_hash(), hash.hash(&[]));
        }
    }
}
