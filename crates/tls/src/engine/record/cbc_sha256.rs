//! AES-128-CBC with HMAC-SHA256 for TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256 (RFC 5489), always
//! Encrypt-then-MAC (RFC 7366): the MAC is checked before anything is decrypted, so there is
//! no padding oracle to guard in constant time. MAC-then-encrypt is not offered for it.

use aes::cipher::KeyInit;
use aes::Aes128;
use ring::hmac;

use super::cbc_lanes::{self, Lane};
use super::{cbc_decrypt, unpad, BadRecord, BLOCK, MAX_PLAINTEXT};
use crate::engine::msgs::TLS12;

pub(crate) const MAC_LEN: usize = 32;

/// One direction's AES key, HMAC key and sequence number.
pub(crate) struct CbcSha256 {
    aes: Aes128,
    mac: hmac::Key,
    seq: u64,
}

impl CbcSha256 {
    pub(crate) fn new(key: &[u8], mac_key: &[u8]) -> Self {
        Self {
            aes: Aes128::new_from_slice(key).unwrap_or_else(|_| unreachable!("a 16-byte key")),
            mac: hmac::Key::new(hmac::HMAC_SHA256, mac_key),
            seq: 0,
        }
    }

    /// The MAC over the record's header fields (its length: IV and ciphertext) and `sealed`.
    fn tag(&self, seq: u64, content_type: u8, sealed: &[u8]) -> hmac::Tag {
        let mut context = hmac::Context::with_key(&self.mac);
        context.update(&seq.to_be_bytes());
        context.update(&[content_type]);
        context.update(&TLS12.to_be_bytes());
        context.update(&(sealed.len() as u16).to_be_bytes());
        context.update(sealed);
        context.sign()
    }

    /// Appends `data` to `out` as records of at most 2^14 bytes, each with a fresh IV.
    pub(crate) fn seal_all(
        &mut self,
        content_type: u8,
        data: &[u8],
        iv: &mut dyn FnMut() -> [u8; BLOCK],
        out: &mut Vec<u8>,
    ) {
        let chunks = data.chunks(MAX_PLAINTEXT);
        for chunk in chunks.chain(data.is_empty().then_some(data)) {
            let Some(next) = self.seq.checked_add(1) else {
                return;
            };
            let seq = std::mem::replace(&mut self.seq, next);
            let pad = BLOCK - chunk.len() % BLOCK; // 1..=16 bytes, each holding pad - 1
            let sealed_len = BLOCK + chunk.len() + pad;
            out.reserve(5 + sealed_len + MAC_LEN);
            out.push(content_type);
            out.extend_from_slice(&TLS12.to_be_bytes());
            out.extend_from_slice(&((sealed_len + MAC_LEN) as u16).to_be_bytes());
            let start = out.len();
            let record_iv = iv();
            out.extend_from_slice(&record_iv);
            out.extend_from_slice(chunk);
            out.extend(std::iter::repeat_n((pad - 1) as u8, pad));
            let mut lane = [Lane {
                iv: record_iv,
                data: &mut out[start + BLOCK..],
            }];
            cbc_lanes::encrypt(&self.aes, &mut lane, &mut |_, _| {});
            let tag = self.tag(seq, content_type, &out[start..]);
            out.extend_from_slice(tag.as_ref());
        }
    }

    /// Checks the MAC, then decrypts in place; the plaintext's range in `body`.
    pub(crate) fn open(
        &mut self,
        content_type: u8,
        body: &mut [u8],
    ) -> Result<std::ops::Range<usize>, BadRecord> {
        if body.len() < BLOCK + BLOCK + MAC_LEN || !(body.len() - MAC_LEN).is_multiple_of(BLOCK) {
            return Err(BadRecord);
        }
        let (sealed, tag) = body.split_at_mut(body.len() - MAC_LEN);
        let expected = self.tag(self.seq, content_type, sealed);
        if !bool::from(subtle::ConstantTimeEq::ct_eq(expected.as_ref(), &*tag)) {
            return Err(BadRecord);
        }
        let (iv, data) = sealed.split_at_mut(BLOCK);
        let iv: &[u8; BLOCK] = (&*iv).try_into().map_err(|_| BadRecord)?;
        cbc_decrypt(&self.aes, iv, data, None);
        let range = unpad(data)?;
        self.seq = self.seq.checked_add(1).ok_or(BadRecord)?;
        Ok(range)
    }
}
