//! TLS 1.2 AEAD records: AES-GCM with an explicit nonce (RFC 5288 §3) and ChaCha20-Poly1305
//! with the TLS 1.3-style nonce (RFC 7905 §2). Both nonces come out as the fixed IV XOR the
//! sequence number: GCM's fixed part is a 4-byte salt followed by zeros, and its explicit part
//! on the wire is that sequence number.

use ring::aead;

use super::{BadRecord, MAX_PLAINTEXT};
use crate::engine::msgs::TLS12;

/// Bytes of GCM's explicit nonce at the front of each record body.
const EXPLICIT_NONCE: usize = 8;

/// Which AEAD a suite protects its records with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Aead12Kind {
    Aes128Gcm,
    Chacha20Poly1305,
}

impl Aead12Kind {
    fn algorithm(self) -> &'static aead::Algorithm {
        match self {
            Self::Aes128Gcm => &aead::AES_128_GCM,
            Self::Chacha20Poly1305 => &aead::CHACHA20_POLY1305,
        }
    }

    /// The implicit IV drawn from the key block: GCM's salt, ChaCha's whole nonce.
    pub(crate) fn fixed_iv_len(self) -> usize {
        match self {
            Self::Aes128Gcm => 4,
            Self::Chacha20Poly1305 => 12,
        }
    }

    fn explicit_len(self) -> usize {
        match self {
            Self::Aes128Gcm => EXPLICIT_NONCE,
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
        let unbound = aead::UnboundKey::new(kind.algorithm(), key)
            .unwrap_or_else(|_| unreachable!("a key of the AEAD's own length"));
        let mut iv = [0u8; 12];
        iv[..fixed_iv.len()].copy_from_slice(fixed_iv);
        Self {
            key: aead::LessSafeKey::new(unbound),
            iv,
            explicit: kind.explicit_len(),
            seq: 0,
        }
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
        let chunks = data.chunks(MAX_PLAINTEXT);
        for chunk in chunks.chain(data.is_empty().then_some(data)) {
            // 2^64 records would reuse a nonce: stop sealing (opening refuses the same).
            let Some(next) = self.seq.checked_add(1) else {
                return;
            };
            let seq = std::mem::replace(&mut self.seq, next);
            let tag_len = aead::MAX_TAG_LEN;
            let body_len = self.explicit + chunk.len() + tag_len;
            out.reserve(5 + body_len);
            out.push(content_type);
            out.extend_from_slice(&TLS12.to_be_bytes());
            out.extend_from_slice(&(body_len as u16).to_be_bytes());
            // GCM's explicit nonce is the sequence number: unique, and what OpenSSL sends.
            out.extend_from_slice(&seq.to_be_bytes()[..self.explicit]);
            let start = out.len();
            out.extend_from_slice(chunk);
            let aad = additional_data(seq, content_type, chunk.len());
            let nonce = aead::Nonce::assume_unique_for_key(self.nonce(seq));
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
