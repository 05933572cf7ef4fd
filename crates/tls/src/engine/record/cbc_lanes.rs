//! CBC encryption of several records at once.
//!
//! CBC encryption is serial within a message: each block waits for the one before it, so a
//! single stream runs at the latency of AES rounds, far below what the AES unit can do. Since
//! TLS 1.1 every record has its own explicit IV, so records are independent chains: this
//! encrypts up to [`LANES`] of them side by side, block `i` of each in one call to the
//! cipher's multi-block path (pipelined AES-NI), as OpenSSL's multi-block TLS writes do.
//! Decryption needs none of this: CBC decryption is parallel within a record.
//!
//! Encrypt-then-MAC hashes each record's ciphertext. Hashing after encrypting leaves the AES
//! unit idle while SHA-1 runs and the other way round; the hash of a lane is instead fed as its
//! blocks come out (a `follow` call for each lane every fourth step, staggered across lanes),
//! so the CPU's out-of-order core runs AES and SHA-1 instructions side by side, as OpenSSL's
//! stitched AES-CBC-HMAC-SHA1 does by hand.

use aes::cipher::consts::U16;
use aes::cipher::generic_array::GenericArray;
use aes::cipher::BlockEncrypt;

/// Records encrypted side by side (the AES-NI backends pipeline 8 blocks).
pub(crate) const LANES: usize = 8;
const BLOCK: usize = 16;

/// One message to encrypt: its IV and its data (whole blocks), encrypted in place.
#[derive(Default)]
pub(crate) struct Lane<'a> {
    pub(crate) iv: [u8; BLOCK],
    pub(crate) data: &'a mut [u8],
}

/// Below this many lanes, blocks go one by one: the pipelined path costs about as much as
/// three serial blocks whatever the number of lanes filled.
const PIPELINE_FROM: usize = 3;

/// Steps (blocks of every lane) between two `follow` calls for the same lane: four blocks are
/// one SHA-1 block.
const FOLLOW_EVERY: usize = 4;

/// CBC-encrypts up to [`LANES`] messages in place, each under its own IV, side by side.
/// `follow(k, done)` is called with message `k`'s ciphertext so far about every
/// [`FOLLOW_EVERY`] blocks; the last bytes of a message may come after the last call.
pub(crate) fn encrypt<C: BlockEncrypt<BlockSize = U16>>(
    cipher: &C,
    group: &mut [Lane<'_>],
    follow: &mut dyn FnMut(usize, &[u8]),
) {
    assert!(group.len() <= LANES, "at most {LANES} lanes");
    let mut chain = [0u128; LANES];
    for (chain, lane) in chain.iter_mut().zip(group.iter()) {
        debug_assert_eq!(lane.data.len() % BLOCK, 0, "whole blocks");
        *chain = load(&lane.iv);
    }
    let longest = group.iter().map(|l| l.data.len()).max().unwrap_or(0);
    let shortest = group.iter().map(|l| l.data.len()).min().unwrap_or(0);
    // The cipher pipelines only a whole batch of LANES blocks: shorter batches are padded
    // with blocks whose output is dropped.
    let mut blocks = [GenericArray::<u8, U16>::default(); LANES];
    let mut at = 0;
    // Every lane still has blocks (all of them but a last, shorter record's): no checks.
    let n = group.len();
    let batch = if n >= PIPELINE_FROM { LANES } else { n };
    while at < shortest {
        for ((block, lane), chain) in blocks.iter_mut().zip(group.iter()).zip(&chain) {
            *block = (load(&lane.data[at..at + BLOCK]) ^ chain)
                .to_ne_bytes()
                .into();
        }
        cipher.encrypt_blocks(&mut blocks[..batch]);
        for ((block, lane), chain) in blocks.iter().zip(group.iter_mut()).zip(&mut chain) {
            lane.data[at..at + BLOCK].copy_from_slice(block);
            *chain = load(block);
        }
        at += BLOCK;
        follow_some(group, at, follow);
    }
    // Then the lanes that are longer.
    let mut owner = [0usize; LANES];
    while at < longest {
        let mut n = 0;
        for (k, lane) in group.iter().enumerate() {
            if let Some(plain) = lane.data.get(at..at + BLOCK) {
                blocks[n] = (load(plain) ^ chain[k]).to_ne_bytes().into();
                owner[n] = k;
                n += 1;
            }
        }
        let batch = if n >= PIPELINE_FROM { LANES } else { n };
        cipher.encrypt_blocks(&mut blocks[..batch]);
        for (block, &k) in blocks[..n].iter().zip(&owner[..n]) {
            group[k].data[at..at + BLOCK].copy_from_slice(block);
            chain[k] = load(block);
        }
        at += BLOCK;
        follow_some(group, at, follow);
    }
}

/// The `follow` calls due once `at` bytes of every lane (or all of a shorter one) are done.
fn follow_some(group: &[Lane<'_>], at: usize, follow: &mut dyn FnMut(usize, &[u8])) {
    let step = at / BLOCK;
    for (k, lane) in group.iter().enumerate() {
        if (step + k).is_multiple_of(FOLLOW_EVERY) {
            follow(k, &lane.data[..at.min(lane.data.len())]);
        }
    }
}

/// A block as one number, for XOR.
fn load(block: &[u8]) -> u128 {
    u128::from_ne_bytes(block.try_into().unwrap_or([0; BLOCK]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes::cipher::block_padding::NoPadding;
    use aes::cipher::{BlockEncryptMut, KeyInit, KeyIvInit};
    use aes::{Aes128, Aes256};

    /// The reference: the `cbc` crate, one message at a time.
    fn one_by_one<C>(key: &[u8], iv: [u8; 16], data: &[u8]) -> Vec<u8>
    where
        C: BlockEncrypt<BlockSize = U16> + KeyInit + aes::cipher::BlockCipher,
    {
        let mut out = data.to_vec();
        let len = out.len();
        cbc::Encryptor::<C>::new_from_slices(key, &iv)
            .unwrap()
            .encrypt_padded_mut::<NoPadding>(&mut out, len)
            .unwrap();
        out
    }

    fn matches_cbc<C>(key: &[u8])
    where
        C: BlockEncrypt<BlockSize = U16> + KeyInit + aes::cipher::BlockCipher,
    {
        let cipher = C::new_from_slice(key).unwrap();
        // Uneven lengths, more messages than lanes, an empty one.
        let lengths = [16384 + 16, 48, 16, 0, 160, 16384 + 16, 32, 16, 64, 4096, 16];
        let plain: Vec<Vec<u8>> = lengths
            .iter()
            .enumerate()
            .map(|(m, &len)| (0..len).map(|i| (i * 7 + m * 13) as u8).collect())
            .collect();
        let expected: Vec<Vec<u8>> = plain
            .iter()
            .enumerate()
            .map(|(m, plain)| one_by_one::<C>(key, [m as u8 + 1; 16], plain))
            .collect();
        let mut work = plain.clone();
        let mut lanes: Vec<Lane<'_>> = work
            .iter_mut()
            .enumerate()
            .map(|(m, data)| Lane {
                iv: [m as u8 + 1; 16],
                data,
            })
            .collect();
        for (g, group) in lanes.chunks_mut(LANES).enumerate() {
            let mut followed = [0usize; LANES];
            encrypt(&cipher, group, &mut |k, done| {
                // Only finished ciphertext is shown, and it only grows.
                let m = g * LANES + k;
                assert_eq!(done, &expected[m][..done.len()], "message {m}");
                assert!(done.len() >= followed[k], "message {m}");
                followed[k] = done.len();
            });
            // Every lane was followed to within one SHA-1 block of its end.
            for (k, lane) in group.iter().enumerate() {
                assert!(
                    lane.data.len() - followed[k] <= FOLLOW_EVERY * BLOCK,
                    "message {}: followed {} of {}",
                    g * LANES + k,
                    followed[k],
                    lane.data.len()
                );
            }
        }
        drop(lanes);
        for (m, (got, expected)) in work.iter().zip(&expected).enumerate() {
            assert_eq!(got, expected, "message {m}");
        }
    }

    #[test]
    fn side_by_side_is_plain_cbc_for_each_message() {
        matches_cbc::<Aes128>(&[3; 16]);
        matches_cbc::<Aes256>(&[5; 32]);
    }
}
