//! SHA-1 of eight messages at once, one in each 32-bit lane of a vector.
//!
//! SHA-NI hashes one message at about 1.5 GB/s here, and its rounds depend on each other, so
//! that is the ceiling for one stream. Eight independent messages (the records of one write,
//! or the records waiting in a read) can instead share every instruction: each round is a
//! handful of vector operations on eight lanes. With AVX-512 (its rotates and three-input
//! logic on 256-bit vectors) that is about 1.8 times SHA-NI over eight 16 KiB records; with
//! AVX2 alone it is no faster than SHA-NI, so it runs only where AVX-512 is there.
//!
//! The code is plain Rust on `[u32; 8]`; `pulp` compiles it with AVX-512 enabled and calls it
//! only on CPUs that have it (its `V4` token is proof of the check), with no `unsafe` here.

use pulp::{Simd, WithSimd};

/// Messages hashed side by side.
pub(crate) const LANES: usize = 8;
const BLOCK: usize = 64;

/// Proof that this CPU has AVX-512 (never made elsewhere than x86-64).
#[cfg(target_arch = "x86_64")]
pub(crate) type Avx512 = pulp::x86::V4;
/// Proof that this CPU has AVX-512 (never made elsewhere than x86-64).
#[cfg(not(target_arch = "x86_64"))]
#[derive(Clone, Copy)]
pub(crate) enum Avx512 {}

/// The AVX-512 token, when this CPU has it.
pub(crate) fn avx512() -> Option<Avx512> {
    #[cfg(target_arch = "x86_64")]
    return pulp::x86::V4::try_new();
    #[cfg(not(target_arch = "x86_64"))]
    None
}

/// One word of the SHA-1 state (or of a message block) for each lane.
pub(crate) type Lanes = [u32; LANES];

/// Compresses `blocks` whole 64-byte blocks of `data[k]` into lane `k` of `state` (word `i` of
/// lane `k`'s state is `state[i][k]`), for each of the eight lanes; every `data[k]` holds at
/// least that many blocks.
pub(crate) fn compress(simd: Avx512, state: &mut [Lanes; 5], data: [&[u8]; LANES], blocks: usize) {
    let job = Compress {
        state,
        data,
        blocks,
    };
    #[cfg(target_arch = "x86_64")]
    Simd::vectorize(simd, job);
    #[cfg(not(target_arch = "x86_64"))]
    match (simd, job) {}
}

// Kept in this shape on purpose: with the state transposed inside, LLVM split the vectors
// into 128-bit halves and ran at 1.4 GB/s instead of 2.2.
struct Compress<'a> {
    state: &'a mut [Lanes; 5],
    data: [&'a [u8]; LANES],
    blocks: usize,
}

impl WithSimd for Compress<'_> {
    type Output = ();

    // Inlined into pulp's AVX-512 function, so every loop over lanes becomes one instruction.
    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        for i in 0..self.blocks {
            let blocks: [&[u8; BLOCK]; LANES] = std::array::from_fn(|k| {
                self.data[k][BLOCK * i..]
                    .first_chunk::<BLOCK>()
                    .unwrap_or(&[0; BLOCK])
            });
            compress_block(self.state, blocks);
        }
    }
}

#[inline(always)]
fn each(a: Lanes, f: impl Fn(u32) -> u32) -> Lanes {
    let mut out = [0; LANES];
    for k in 0..LANES {
        out[k] = f(a[k]);
    }
    out
}

#[inline(always)]
fn each2(a: Lanes, b: Lanes, f: impl Fn(u32, u32) -> u32) -> Lanes {
    let mut out = [0; LANES];
    for k in 0..LANES {
        out[k] = f(a[k], b[k]);
    }
    out
}

#[inline(always)]
fn each3(a: Lanes, b: Lanes, c: Lanes, f: impl Fn(u32, u32, u32) -> u32) -> Lanes {
    let mut out = [0; LANES];
    for k in 0..LANES {
        out[k] = f(a[k], b[k], c[k]);
    }
    out
}

/// FIPS 180-4 §6.1.2, one block in each lane.
#[inline(always)]
fn compress_block(state: &mut [Lanes; 5], blocks: [&[u8; BLOCK]; LANES]) {
    let mut w = [[0u32; LANES]; 16];
    for (t, word) in w.iter_mut().enumerate() {
        for (lane, block) in word.iter_mut().zip(blocks) {
            *lane = u32::from_be_bytes([
                block[4 * t],
                block[4 * t + 1],
                block[4 * t + 2],
                block[4 * t + 3],
            ]);
        }
    }
    let [mut a, mut b, mut c, mut d, mut e] = *state;
    // One round: the four kinds differ only in f and the constant.
    macro_rules! round {
        ($t:expr, $f:expr, $k:expr) => {{
            let t: usize = $t;
            let word = if t < 16 {
                w[t]
            } else {
                let mixed = each2(
                    each2(w[(t + 13) % 16], w[(t + 8) % 16], |x, y| x ^ y),
                    each2(w[(t + 2) % 16], w[t % 16], |x, y| x ^ y),
                    |x, y| x ^ y,
                );
                w[t % 16] = each(mixed, |x| x.rotate_left(1));
                w[t % 16]
            };
            let f = each3(b, c, d, $f);
            let sum = each2(
                each2(each(a, |x| x.rotate_left(5)), f, u32::wrapping_add),
                each(e, |x| x.wrapping_add($k)),
                u32::wrapping_add,
            );
            e = d;
            d = c;
            c = each(b, |x| x.rotate_left(30));
            b = a;
            a = each2(sum, word, u32::wrapping_add);
        }};
    }
    for t in 0..20 {
        round!(t, |b, c, d| (b & c) | (!b & d), 0x5a82_7999);
    }
    for t in 20..40 {
        round!(t, |b, c, d| b ^ c ^ d, 0x6ed9_eba1);
    }
    for t in 40..60 {
        round!(t, |b, c, d| (b & c) | (b & d) | (c & d), 0x8f1b_bcdc);
    }
    for t in 60..80 {
        round!(t, |b, c, d| b ^ c ^ d, 0xca62_c1d6);
    }
    for (s, v) in state.iter_mut().zip([a, b, c, d, e]) {
        *s = each2(*s, v, u32::wrapping_add);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha1::digest::generic_array::GenericArray;

    #[test]
    fn eight_lanes_agree_with_sha1_one_by_one() {
        let Some(simd) = avx512() else {
            eprintln!(
                "no AVX-512 here: the eight-lane SHA-1 is not used on this CPU, nothing to test"
            );
            return;
        };
        let data: Vec<Vec<u8>> = (0..LANES)
            .map(|k| (0..64 * 5 + k).map(|i| (i * 7 + k * 31) as u8).collect())
            .collect();
        let initial = [
            0x6745_2301,
            0xefcd_ab89,
            0x98ba_dcfe,
            0x1032_5476,
            0xc3d2_e1f0,
        ];
        let mut expected: [[u32; 5]; LANES] =
            std::array::from_fn(|k| initial.map(|w: u32| w ^ k as u32));
        let mut state: [Lanes; 5] =
            std::array::from_fn(|i| std::array::from_fn(|k| expected[k][i]));
        compress(simd, &mut state, std::array::from_fn(|k| &data[k][..]), 5);
        for (k, state) in expected.iter_mut().enumerate() {
            for block in data[k][..5 * 64].chunks(64) {
                sha1::compress(state, &[*GenericArray::from_slice(block)]);
            }
        }
        for (k, expected) in expected.iter().enumerate() {
            assert_eq!(state.map(|word| word[k]), *expected, "lane {k}");
        }
    }

    /// `cargo test -p tls --release --lib -- --ignored eight_lane_speed --nocapture`
    #[test]
    #[ignore = "a speed measurement: run it in release, see the doc comment"]
    fn eight_lane_speed() {
        let simd = avx512().expect("AVX-512");
        let data: Vec<Vec<u8>> = (0..LANES).map(|k| vec![k as u8; 16384]).collect();
        let mut state = [[1u32; LANES]; 5];
        let started = std::time::Instant::now();
        for _ in 0..2000 {
            compress(simd, &mut state, std::array::from_fn(|k| &data[k][..]), 256);
        }
        let rate = (2000 * LANES * 16384) as f64 / started.elapsed().as_secs_f64() / 1e6;
        println!("eight-lane SHA-1: {rate:.0} MB/s in all");
        std::hint::black_box(state);
    }
}
