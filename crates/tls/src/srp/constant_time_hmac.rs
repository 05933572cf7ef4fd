//! HMAC-SHA1 over record content whose length is secret, in constant time.
//!
//! In a MAC-then-encrypt CBC record the padding length, and so the content length the MAC
//! covers, is only known after decryption and must not show in timing (Lucky 13). SHA-1 works
//! on 64-byte blocks and appends a 0x80 byte and the bit length, so a shorter message usually
//! costs fewer compression calls. Here every call hashes the same number of blocks for a given
//! record size: all blocks the longest possible content would need are compressed, each one
//! built by masking (bytes past the end become zero, the 0x80 and the length land where the
//! real end puts them), and the state after the block that truly ends the message is kept with
//! a mask, never a branch.

use sha1::digest::generic_array::GenericArray;
use subtle::{ConditionallySelectable, ConstantTimeEq, ConstantTimeLess};

const BLOCK: usize = 64;
const INITIAL: [u32; 5] = [
    0x6745_2301,
    0xefcd_ab89,
    0x98ba_dcfe,
    0x1032_5476,
    0xc3d2_e1f0,
];

/// SHA-1 over public bytes so far: whole blocks compressed, the rest pending.
#[derive(Clone)]
struct Sha1Blocks {
    state: [u32; 5],
    pending: [u8; BLOCK],
    pending_len: usize,
    /// Bytes hashed so far, pending ones included.
    total: u64,
}

impl Sha1Blocks {
    fn new() -> Self {
        Self {
            state: INITIAL,
            pending: [0; BLOCK],
            pending_len: 0,
            total: 0,
        }
    }

    fn compress(state: &mut [u32; 5], block: &[u8; BLOCK]) {
        sha1::compress(state, &[*GenericArray::from_slice(block)]);
    }

    /// Adds bytes whose length is public (their values may be secret: nothing branches on them).
    fn update(&mut self, mut data: &[u8]) {
        self.total += data.len() as u64;
        while !data.is_empty() {
            let take = (BLOCK - self.pending_len).min(data.len());
            self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&data[..take]);
            self.pending_len += take;
            data = &data[take..];
            if self.pending_len == BLOCK {
                Self::compress(&mut self.state, &self.pending);
                self.pending_len = 0;
            }
        }
    }

    /// The digest of everything added, for a public length.
    fn finish(mut self) -> [u8; 20] {
        let bits = self.total * 8;
        self.update(&[0x80]);
        while self.pending_len != BLOCK - 8 {
            self.update(&[0]);
        }
        self.update(&bits.to_be_bytes());
        digest_bytes(&self.state)
    }

    /// The digest of everything added followed by `data[..len]`, where `len` is secret and
    /// `data.len()` public: the same compression calls and memory reads for every `len`.
    fn finish_secret_len(self, data: &[u8], len: usize) -> [u8; 20] {
        let start = self.pending_len;
        // Blocks for the longest message (its 0x80 and 8 length bytes included), and the
        // index of the block that ends the real one.
        let blocks = (start + data.len() + 9).div_ceil(BLOCK);
        let last = (start + len + 8) / BLOCK;
        let bit_len = ((self.total + len as u64) * 8).to_be_bytes();
        let len = len as u64;
        let mut state = self.state;
        let mut result = [0u32; 5];
        let mut block = [0u8; BLOCK];
        for i in 0..blocks {
            for (j, byte) in block.iter_mut().enumerate() {
                let at = i * BLOCK + j;
                *byte = if at < start {
                    self.pending[at]
                } else {
                    // Which byte of `data` this is; past its end there is nothing to read.
                    let index = at - start;
                    let value = data.get(index).copied().unwrap_or(0);
                    let index = index as u64;
                    let inside = index.ct_lt(&len);
                    let end_marker = index.ct_eq(&len);
                    u8::conditional_select(&0, &value, inside)
                        | u8::conditional_select(&0, &0x80, end_marker)
                };
            }
            let is_last = (i as u64).ct_eq(&(last as u64));
            for (byte, length) in block[BLOCK - 8..].iter_mut().zip(bit_len) {
                *byte |= u8::conditional_select(&0, &length, is_last);
            }
            Self::compress(&mut state, &block);
            for (kept, now) in result.iter_mut().zip(state) {
                kept.conditional_assign(&now, is_last);
            }
        }
        digest_bytes(&result)
    }
}

fn digest_bytes(state: &[u32; 5]) -> [u8; 20] {
    let mut out = [0u8; 20];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// HMAC-SHA1 under one key, with the key's inner and outer pads hashed once.
#[derive(Clone)]
pub(crate) struct ConstantTimeHmac {
    inner: Sha1Blocks,
    outer: Sha1Blocks,
}

impl ConstantTimeHmac {
    /// For a key of at most 64 bytes (TLS's MAC keys are 20).
    pub(crate) fn new(key: &[u8]) -> Self {
        let mut padded = [0u8; BLOCK];
        padded[..key.len().min(BLOCK)].copy_from_slice(&key[..key.len().min(BLOCK)]);
        let pad = |byte: u8| {
            let mut hash = Sha1Blocks::new();
            hash.update(&padded.map(|k| k ^ byte));
            hash
        };
        Self {
            inner: pad(0x36),
            outer: pad(0x5c),
        }
    }

    /// The MAC of `header | public | secret[..secret_len]`: only `secret_len` is secret.
    pub(crate) fn mac(
        &self,
        header: &[u8],
        public: &[u8],
        secret: &[u8],
        secret_len: usize,
    ) -> [u8; 20] {
        let mut inner = self.inner.clone();
        inner.update(header);
        inner.update(public);
        let inner = inner.finish_secret_len(secret, secret_len);
        let mut outer = self.outer.clone();
        outer.update(&inner);
        outer.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, Mac};

    #[test]
    fn agrees_with_hmac_for_every_length_split() {
        let key = [0x0bu8; 20];
        let ours = ConstantTimeHmac::new(&key);
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for public in [0, 1, 50, 63, 64, 65, 128] {
            for secret_len in (0..=data.len() - public)
                .step_by(7)
                .chain([data.len() - public])
            {
                let mut reference = <Hmac<sha1::Sha1> as Mac>::new_from_slice(&key).unwrap();
                reference.update(b"header bytes!");
                reference.update(&data[..public + secret_len]);
                let expected: [u8; 20] = reference.finalize().into_bytes().into();
                assert_eq!(
                    ours.mac(
                        b"header bytes!",
                        &data[..public],
                        &data[public..],
                        secret_len
                    ),
                    expected,
                    "public {public}, secret {secret_len}"
                );
            }
        }
    }
}
