//! HMAC-SHA1 for the record layer, keyed once per connection: fed piece by piece (so sealing
//! can hash each record while the next blocks are being encrypted), and, for MAC-then-encrypt,
//! over content whose length is secret, in constant time.
//!
//! SHA-1 runs on the `sha1` crate's block function (SHA-NI where the CPU has it) or, for
//! several records at once, in the vector lanes of [`sha1_lanes`].
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

use super::sha1_lanes::{self, Avx512};
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
pub(crate) struct Sha1Blocks {
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
        sha1::compress(state, std::slice::from_ref(GenericArray::from_slice(block)));
    }

    /// Adds bytes whose length is public (their values may be secret: nothing branches on them).
    pub(crate) fn update(&mut self, mut data: &[u8]) {
        self.total += data.len() as u64;
        if self.pending_len > 0 {
            let take = (BLOCK - self.pending_len).min(data.len());
            self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&data[..take]);
            self.pending_len += take;
            data = &data[take..];
            if self.pending_len < BLOCK {
                return;
            }
            Self::compress(&mut self.state, &self.pending);
            self.pending_len = 0;
        }
        // Whole blocks straight from `data`.
        let (blocks, rest) = data.as_chunks::<BLOCK>();
        for block in blocks {
            Self::compress(&mut self.state, block);
        }
        self.pending[..rest.len()].copy_from_slice(rest);
        self.pending_len = rest.len();
    }

    /// Adds as much of `data` as ends on a block boundary (nothing when that is none of it)
    /// and says how much: the rest waits for more. Fed this way, blocks are hashed where they
    /// lie, never copied.
    pub(crate) fn update_blocks(&mut self, data: &[u8]) -> usize {
        let start = (BLOCK - self.pending_len) % BLOCK;
        if data.len() < start {
            return 0;
        }
        let whole = start + (data.len() - start) / BLOCK * BLOCK;
        self.update(&data[..whole]);
        whole
    }

    /// Adds the start of `data` that completes the block in progress (none when there is no
    /// block in progress, less when `data` is short) and says how much.
    pub(crate) fn complete_block(&mut self, data: &[u8]) -> usize {
        let take = match self.pending_len {
            0 => 0,
            pending => (BLOCK - pending).min(data.len()),
        };
        self.update(&data[..take]);
        take
    }

    /// The digest of everything added, for a public length.
    pub(crate) fn finish(mut self) -> [u8; 20] {
        let bits = self.total * 8;
        let mut tail = [0u8; 2 * BLOCK];
        tail[..self.pending_len].copy_from_slice(&self.pending[..self.pending_len]);
        tail[self.pending_len] = 0x80;
        // The length goes in the last 8 bytes of this block, or of the next when it does not fit.
        let len = if self.pending_len < BLOCK - 8 {
            BLOCK
        } else {
            2 * BLOCK
        };
        tail[len - 8..len].copy_from_slice(&bits.to_be_bytes());
        for block in tail[..len].as_chunks::<BLOCK>().0 {
            Self::compress(&mut self.state, block);
        }
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

/// Adds the whole blocks that every `data[k]` has (as many for each) to `hashes[k]`, up to
/// eight at once with [`sha1_lanes`]; each hash must be on a block boundary
/// ([`Sha1Blocks::complete_block`]). Returns how many bytes of each it took.
pub(crate) fn update_side_by_side(
    simd: Avx512,
    hashes: &mut [Sha1Blocks],
    data: &[&[u8]],
) -> usize {
    let n = hashes.len().min(data.len()).min(sha1_lanes::LANES);
    if n == 0 || hashes[..n].iter().any(|h| h.pending_len != 0) {
        return 0;
    }
    let blocks = data[..n].iter().map(|d| d.len() / BLOCK).min().unwrap_or(0);
    // Lanes without a message of their own repeat the first one; their results are dropped.
    let mut state: [sha1_lanes::Lanes; 5] = [[0; sha1_lanes::LANES]; 5];
    let mut lanes = [data[0]; sha1_lanes::LANES];
    for (k, (hash, data)) in hashes[..n].iter().zip(data).enumerate() {
        for (word, value) in state.iter_mut().zip(hash.state) {
            word[k] = value;
        }
        lanes[k] = data;
    }
    sha1_lanes::compress(simd, &mut state, lanes, blocks);
    for (k, hash) in hashes[..n].iter_mut().enumerate() {
        hash.state = state.map(|word| word[k]);
        hash.total += (blocks * BLOCK) as u64;
    }
    blocks * BLOCK
}

/// HMAC-SHA1 under one key, with the key's inner and outer pads hashed once.
#[derive(Clone)]
pub(crate) struct HmacSha1 {
    inner: Sha1Blocks,
    outer: Sha1Blocks,
}

/// The keyed pad states are as good as the MAC key: wiped when the cipher state goes.
impl Drop for HmacSha1 {
    fn drop(&mut self) {
        for state in [&mut self.inner, &mut self.outer] {
            zeroize::Zeroize::zeroize(&mut state.state);
            zeroize::Zeroize::zeroize(&mut state.pending);
        }
    }
}

impl HmacSha1 {
    /// For a key of at most 64 bytes (TLS's MAC keys are 20).
    pub(crate) fn new(key: &[u8]) -> Self {
        let mut padded = [0u8; BLOCK];
        padded[..key.len().min(BLOCK)].copy_from_slice(&key[..key.len().min(BLOCK)]);
        let pad = |byte: u8| {
            let mut hash = Sha1Blocks::new();
            let mut block = padded.map(|k| k ^ byte);
            hash.update(&block);
            zeroize::Zeroize::zeroize(&mut block);
            hash
        };
        let mac = Self {
            inner: pad(0x36),
            outer: pad(0x5c),
        };
        zeroize::Zeroize::zeroize(&mut padded);
        mac
    }

    /// A MAC to feed piece by piece with [`Sha1Blocks::update`] and end with
    /// [`finish`](Self::finish).
    pub(crate) fn start(&self) -> Sha1Blocks {
        self.inner.clone()
    }

    /// The MAC of what `inner` (from [`start`](Self::start)) was fed.
    pub(crate) fn finish(&self, inner: Sha1Blocks) -> [u8; 20] {
        let mut outer = self.outer.clone();
        outer.update(&inner.finish());
        outer.finish()
    }

    /// The MAC of `parts`, one after another.
    pub(crate) fn mac(&self, parts: &[&[u8]]) -> [u8; 20] {
        let mut inner = self.start();
        for part in parts {
            inner.update(part);
        }
        self.finish(inner)
    }

    /// The MAC of `header | public | secret[..secret_len]` in constant time: only
    /// `secret_len` is secret.
    pub(crate) fn mac_secret_len(
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
        let ours = HmacSha1::new(&key);
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
                    ours.mac_secret_len(
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

    #[test]
    fn pieces_of_any_size_give_the_hmac_of_the_whole() {
        let key = [0x2au8; 20];
        let ours = HmacSha1::new(&key);
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 13 + 1) as u8).collect();
        for len in [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 500, 1000] {
            let mut reference = <Hmac<sha1::Sha1> as Mac>::new_from_slice(&key).unwrap();
            reference.update(&data[..len]);
            let expected: [u8; 20] = reference.finalize().into_bytes().into();
            assert_eq!(ours.mac(&[&data[..len]]), expected, "one piece of {len}");
            for piece in [1, 7, 13, 64, 100] {
                let mut mac = ours.start();
                for chunk in data[..len].chunks(piece) {
                    mac.update(chunk);
                }
                assert_eq!(ours.finish(mac), expected, "{len} in pieces of {piece}");
                // Whole blocks only, the rest kept back until the end.
                let mut mac = ours.start();
                mac.update(&data[..len.min(29)]);
                let mut hashed = len.min(29);
                for end in (hashed..len).step_by(piece).chain([len]) {
                    let took = mac.update_blocks(&data[hashed..end]);
                    if took > 0 {
                        assert_eq!((hashed + took) % 64, 0, "{len}: ends on a block boundary");
                    }
                    hashed += took;
                }
                mac.update(&data[hashed..len]);
                assert_eq!(
                    ours.finish(mac),
                    expected,
                    "{len} in whole blocks of {piece}"
                );
            }
        }
    }
}
