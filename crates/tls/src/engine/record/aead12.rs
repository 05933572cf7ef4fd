//! TLS 1.2 AEAD records: AES-GCM with an explicit nonce (RFC 5288 §3) and ChaCha20-Poly1305
//! with the TLS 1.3-style nonce (RFC 7905 §2). Both nonces come out as the fixed IV XOR the
//! sequence number: under our keys GCM's fixed part is a 4-byte salt followed by zeros, and its
//! explicit part on the wire is that sequence number; under keys from rustls's handshake the
//! zeros are rustls's 8 bytes, as rustls itself sends.

use ring::aead;

use super::{BadRecord, MAX_PLAINTEXT};
use crate::engine::msgs::TLS12;

/// Bytes of GCM's explicit nonce at the front of each record body.
const EXPLICIT_NONCE: usize = 8;

/// Which AEAD a suite protects its records with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Aead12Kind {
    Aes128Gcm,
    /// Not among our PSK suites: for traffic after rustls's TLS 1.2 handshakes.
    Aes256Gcm,
    Chacha20Poly1305,
}

impl Aead12Kind {
    fn algorithm(self) -> &'static aead::Algorithm {
        match self {
            Self::Aes128Gcm => &aead::AES_128_GCM,
            Self::Aes256Gcm => &aead::AES_256_GCM,
            Self::Chacha20Poly1305 => &aead::CHACHA20_POLY1305,
        }
    }

    /// The implicit IV drawn from the key block: GCM's salt, ChaCha's whole nonce.
    pub(crate) fn fixed_iv_len(self) -> usize {
        match self {
            Self::Aes128Gcm | Self::Aes256Gcm => 4,
            Self::Chacha20Poly1305 => 12,
        }
    }

    /// Most records sealed under one key: AES-GCM's confidentiality limit (RFC 9325 §4.4, and
    /// rustls's figure, which our records inherit after its handshake); TLS 1.2 cannot change
    /// keys, so the connection ends there.
    fn max_records(self) -> u64 {
        match self {
            Self::Aes128Gcm | Self::Aes256Gcm => 1 << 24,
            Self::Chacha20Poly1305 => u64::MAX,
        }
    }

    fn explicit_len(self) -> usize {
        match self {
            Self::Aes128Gcm | Self::Aes256Gcm => EXPLICIT_NONCE,
            Self::Chacha20Poly1305 => 0,
        }
    }
}

/// One direction's AEAD key, fixed IV and sequence number.
pub(crate) struct Aead12 {
    key: aead::LessSafeKey,
    iv: [u8; 12],
    explicit: usize,
    seq: u64,
    max_records: u64,
}

/// What the AEAD authenticates beside the ciphertext (RFC 5246 §6.2.3.3).
fn additional_data(seq: u64, content_type: u8, len: usize) -> [u8; 13] {
    let mut aad = [0u8; 13];
    aad[..8].copy_from_slice(&seq.to_be_bytes());
    aad[8] = content_type;
    aad[9..11].copy_from_slice(&TLS12.to_be_bytes());
    aad[11..].copy_from_slice(&(len as u16).to_be_bytes());
    aad
}

impl Aead12 {
    /// `key` and `fixed_iv` of the lengths `kind` names (the key block is cut to them).
    pub(crate) fn new(kind: Aead12Kind, key: &[u8], fixed_iv: &[u8]) -> Self {
        let mut iv = [0u8; 12];
        iv[..fixed_iv.len()].copy_from_slice(fixed_iv);
        Self::from_key(kind, key, iv, 0)
            .unwrap_or_else(|| unreachable!("a key of the AEAD's own length"))
    }

    /// Keys made elsewhere (rustls's handshake): the whole 12-byte IV (GCM's salt and the
    /// start of its explicit nonces, RFC 5288 §3) and the number of the next record; `None`
    /// when `key` is not of `kind`'s length.
    pub(crate) fn from_key(kind: Aead12Kind, key: &[u8], iv: [u8; 12], seq: u64) -> Option<Self> {
        let unbound = aead::UnboundKey::new(kind.algorithm(), key).ok()?;
        Some(Self {
            key: aead::LessSafeKey::new(unbound),
            iv,
            explicit: kind.explicit_len(),
            seq,
            max_records: kind.max_records(),
        })
    }

    /// How many more records may be sealed under this key.
    pub(crate) fn records_left(&self) -> u64 {
        self.max_records.saturating_sub(self.seq)
    }

    /// The nonce of record `seq`: the fixed IV XOR the sequence number in its last 8 bytes.
    fn nonce(&self, seq: u64) -> [u8; 12] {
        let mut nonce = self.iv;
        for (n, s) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
            *n ^= s;
        }
        nonce
    }

    /// Appends `data` to `out` as sealed records of `content_type`, up to 2^14 bytes each (one
    /// empty record for empty data).
    pub(crate) fn seal_all(&mut self, content_type: u8, data: &[u8], out: &mut Vec<u8>) {
        // Room for every record at once, rather than growing (and copying) record by record.
        let records = data.len().div_ceil(MAX_PLAINTEXT).max(1);
        out.reserve(data.len() + records * (5 + self.explicit + aead::MAX_TAG_LEN));
        let chunks = data.chunks(MAX_PLAINTEXT);
        for chunk in chunks.chain(data.is_empty().then_some(data)) {
            // 2^64 records would reuse a nonce: stop sealing (opening refuses the same).
            let Some(next) = self.seq.checked_add(1) else {
                return;
            };
            let seq = std::mem::replace(&mut self.seq, next);
            let tag_len = aead::MAX_TAG_LEN;
            let body_len = self.explicit + chunk.len() + tag_len;
            out.push(content_type);
            out.extend_from_slice(&TLS12.to_be_bytes());
            out.extend_from_slice(&(body_len as u16).to_be_bytes());
            // GCM's explicit nonce is the last 8 bytes of the nonce: the sequence number under
            // our keys (what OpenSSL sends), XOR rustls's IV under keys from its handshake.
            let nonce = self.nonce(seq);
            out.extend_from_slice(&nonce[12 - self.explicit..]);
            let start = out.len();
            out.extend_from_slice(chunk);
            let aad = additional_data(seq, content_type, chunk.len());
            let nonce = aead::Nonce::assume_unique_for_key(nonce);
            match self.key.seal_in_place_separate_tag(
                nonce,
                aead::Aad::from(aad),
                &mut out[start..],
            ) {
                Ok(tag) => out.extend_from_slice(tag.as_ref()),
                // ring refuses only inputs far over 2^14 bytes: drop the record, never send
                // plaintext.
                Err(_) => out.truncate(start - 5 - self.explicit),
            }
        }
    }

    /// Opens a record body in place; the plaintext's range in `body`.
    pub(crate) fn open(
        &mut self,
        content_type: u8,
        body: &mut [u8],
    ) -> Result<std::ops::Range<usize>, BadRecord> {
        let overhead = self.explicit + aead::MAX_TAG_LEN;
        if body.len() < overhead {
            return Err(BadRecord);
        }
        let mut nonce = self.nonce(self.seq);
        if self.explicit > 0 {
            // RFC 5288 §3: the salt, then the 8 bytes the sender put in front of the record.
            nonce[4..].copy_from_slice(&body[..EXPLICIT_NONCE]);
        }
        let plain_len = body.len() - overhead;
        let aad = additional_data(self.seq, content_type, plain_len);
        let (_, sealed) = body.split_at_mut(self.explicit);
        self.key
            .open_in_place(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(aad),
                sealed,
            )
            .map_err(|_| BadRecord)?;
        self.seq = self.seq.checked_add(1).ok_or(BadRecord)?;
        Ok(self.explicit..self.explicit + plain_len)
    }
}
