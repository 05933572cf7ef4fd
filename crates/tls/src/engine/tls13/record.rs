//! TLS 1.3 record protection (RFC 8446 §5.2–5.3): each record is sealed with the suite's AEAD
//! under a per-record nonce (the IV XOR the sequence number), with the real content type inside
//! and the record header as additional data.

use ring::aead;

use super::key_schedule::{expand_label_with, keyed, next_traffic_secret, HashAlg, Secret};
use super::suites::Tls13Suite;
use crate::engine::msgs::{content, TLS12};
use crate::engine::record::MAX_PLAINTEXT;

/// Largest TLS 1.3 ciphertext body (RFC 8446 §5.2: 2^14 + 256).
pub(crate) const MAX_CIPHERTEXT13: usize = MAX_PLAINTEXT + 256;

/// One direction's keys: the AEAD key, the IV, the record count, and the traffic secret they
/// came from (for KeyUpdate; none when the handshake that made them keeps it, as rustls does).
pub(crate) struct RecordKeys {
    key: aead::LessSafeKey,
    iv: [u8; 12],
    seq: u64,
    secret: Option<(HashAlg, Secret)>,
    aead: &'static aead::Algorithm,
}

impl RecordKeys {
    pub(crate) fn new(suite: &Tls13Suite, secret: Secret) -> Self {
        Self::derive(suite.hash, suite.aead, secret)
    }

    fn derive(hash: HashAlg, algorithm: &'static aead::Algorithm, secret: Secret) -> Self {
        let prk = keyed(hash, &secret);
        let key = expand_label_with(&prk, b"key", &[], algorithm.key_len());
        let iv = expand_label_with(&prk, b"iv", &[], 12);
        let mut iv_bytes = [0u8; 12];
        iv_bytes.copy_from_slice(&iv);
        // The key length is the algorithm's own: UnboundKey::new cannot refuse it.
        let mut keys = Self::from_key(algorithm, &key, iv_bytes, 0)
            .unwrap_or_else(|| unreachable!("a key of the AEAD's own length"));
        keys.secret = Some((hash, secret));
        keys
    }

    /// Keys made elsewhere (rustls's handshake), with the number of the next record; `None`
    /// when `key` is not of `algorithm`'s length. Their KeyUpdate comes from whoever made them.
    pub(crate) fn from_key(
        algorithm: &'static aead::Algorithm,
        key: &[u8],
        iv: [u8; 12],
        seq: u64,
    ) -> Option<Self> {
        let unbound = aead::UnboundKey::new(algorithm, key).ok()?;
        Some(Self {
            key: aead::LessSafeKey::new(unbound),
            iv,
            seq,
            secret: None,
            aead: algorithm,
        })
    }

    /// The keys after a KeyUpdate (RFC 8446 §7.2); `None` for keys made without their secret.
    pub(crate) fn updated(&self) -> Option<Self> {
        let (hash, secret) = self.secret.as_ref()?;
        Some(Self::derive(
            *hash,
            self.aead,
            next_traffic_secret(*hash, secret),
        ))
    }

    /// Takes back the record number of a record that was skipped (refused early data).
    pub(crate) fn unwind(&mut self) {
        self.seq = self.seq.saturating_sub(1);
    }

    fn nonce(&mut self) -> Option<aead::Nonce> {
        // A connection may not wrap its sequence number (RFC 8446 §5.3); rekeying is long due.
        let seq = self.seq;
        self.seq = self.seq.checked_add(1)?;
        let mut nonce = self.iv;
        for (n, s) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
            *n ^= s;
        }
        Some(aead::Nonce::assume_unique_for_key(nonce))
    }

    /// Whether enough records went under these keys that the writer should update them (far
    /// under AES-GCM's limit of 2^24.5 full records, RFC 8446 §5.5).
    pub(crate) fn wants_update(&self) -> bool {
        self.seq >= 1 << 23
    }

    /// Appends `data` to `out` as sealed records of `content_type`, up to 2^14 bytes each.
    pub(crate) fn seal_all(&mut self, content_type: u8, data: &[u8], out: &mut Vec<u8>) {
        let tag_len = self.aead.tag_len();
        // Room for every record at once: growing as they come copied the records sealed so far
        // and, for a large write, faulted in fresh pages each time.
        let records = data.len().div_ceil(MAX_PLAINTEXT).max(1);
        out.reserve(data.len() + records * (5 + 1 + tag_len));
        let chunks = data.chunks(MAX_PLAINTEXT);
        for chunk in chunks.chain(data.is_empty().then_some(data)) {
            let body_len = chunk.len() + 1 + tag_len;
            let start = out.len();
            out.push(content::APPLICATION_DATA);
            out.extend_from_slice(&TLS12.to_be_bytes());
            out.extend_from_slice(&(body_len as u16).to_be_bytes());
            out.extend_from_slice(chunk);
            out.push(content_type);
            let header: [u8; 5] = out[start..start + 5].try_into().unwrap_or_default();
            let Some(nonce) = self.nonce() else {
                out.truncate(start);
                return;
            };
            let sealed = self.key.seal_in_place_separate_tag(
                nonce,
                aead::Aad::from(header),
                &mut out[start + 5..],
            );
            match sealed {
                Ok(tag) => out.extend_from_slice(tag.as_ref()),
                Err(_) => out.truncate(start),
            }
        }
    }

    /// Opens one record's `body` in place (its `header` is the additional data): the inner
    /// content type and the plaintext's length at the front of `body`. `None`: it failed
    /// authentication, or held no content type.
    pub(crate) fn open(&mut self, header: [u8; 5], body: &mut [u8]) -> Option<(u8, usize)> {
        let nonce = self.nonce()?;
        let plain = self
            .key
            .open_in_place(nonce, aead::Aad::from(header), body)
            .ok()?;
        // The content type is the last non-zero byte; zeros after it are padding.
        let end = plain.iter().rposition(|&b| b != 0)?;
        Some((plain[end], end))
    }
}
