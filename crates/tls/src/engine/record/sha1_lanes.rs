//! SHA-1 of eight messages at once, one in each 32-bit lane of a vector.
//!
//! SHA-NI hashes one message at about 1.5 GB/s here, and its rounds depend on each other, so
//! that is the ceiling for one stream. Eight independent messages (the records of one write,
//! or the records waiting in a read) can instead share every instruction: each round is a
//! handful of operations on a 256-bit vector of eight lanes, about 4.6 GB/s over eight 16 KiB
//! records, three times SHA-NI, and still ahead of it with only three lanes in use. It is
//! built on AVX-512's rotate and three-input logic instructions, so it runs only where the
//! CPU has AVX-512.
//!
//! The vector operations are `pulp`'s safe wrappers of the intrinsics, callable only with its
//! `V4` token (proof of the CPU check), so there is no `unsafe` here.

/// Messages hashed side by side.
pub(crate) const LANES: usize = 8;

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
    #[cfg(target_arch = "x86_64")]
    pulp::Simd::vectorize(
        simd,
        x86::Compress {
            simd,
            state,
            data,
            blocks,
        },
    );
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (state, data, blocks);
        match simd {}
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use core::arch::x86_64::__m256i;

    use pulp::bytemuck::cast;
    use pulp::x86::V4;
    use pulp::{Simd, WithSimd};

    use super::{Lanes, LANES};

    const BLOCK: usize = 64;

    /// `compress`'s work, run by pulp inside its AVX-512 function.
    pub(super) struct Compress<'a> {
        pub simd: V4,
        pub state: &'a mut [Lanes; 5],
        pub data: [&'a [u8]; LANES],
        pub blocks: usize,
    }

    impl WithSimd for Compress<'_> {
        type Output = ();

        // Inlined into pulp's AVX-512 function, where the intrinsics become single
        // instructions (`S` goes unused: the rounds need V4's own, in `self.simd`).
        #[inline(always)]
        fn with_simd<S: Simd>(self, _: S) {
            let mut state: [__m256i; 5] = self.state.map(cast);
            for i in 0..self.blocks {
                let blocks: [&[u8; BLOCK]; LANES] = std::array::from_fn(|k| {
                    self.data[k][BLOCK * i..]
                        .first_chunk::<BLOCK>()
                        .unwrap_or(&[0; BLOCK])
                });
                compress_block(self.simd, &mut state, blocks);
            }
            *self.state = state.map(cast);
        }
    }

    /// The sixteen big-endian words of each lane's block, word `t` of every lane in vector
    /// `t`: each half of the eight blocks is byte-swapped, then transposed 8 x 8.
    #[inline(always)]
    fn load(v: V4, blocks: [&[u8; BLOCK]; LANES]) -> [__m256i; 16] {
        let avx2 = v.avx2;
        #[rustfmt::skip]
        let big_endian = v.avx._mm256_setr_epi8(
            3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12,
            3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12,
        );
        let mut out = [cast([0u32; LANES]); 16];
        for half in 0..2 {
            let rows: [__m256i; LANES] = std::array::from_fn(|k| {
                let halves: [__m256i; 2] = cast(*blocks[k]);
                avx2._mm256_shuffle_epi8(halves[half], big_endian)
            });
            let pairs: [__m256i; 8] = std::array::from_fn(|i| {
                let (x, y) = (rows[i / 2 * 2], rows[i / 2 * 2 + 1]);
                match i % 2 {
                    0 => avx2._mm256_unpacklo_epi32(x, y),
                    _ => avx2._mm256_unpackhi_epi32(x, y),
                }
            });
            let quads: [__m256i; 8] = std::array::from_fn(|i| {
                let (x, y) = (pairs[i / 4 * 4 + i % 2], pairs[i / 4 * 4 + i % 2 + 2]);
                match i / 2 % 2 {
                    0 => avx2._mm256_unpacklo_epi64(x, y),
                    _ => avx2._mm256_unpackhi_epi64(x, y),
                }
            });
            for j in 0..4 {
                let (low, high) = (quads[QUAD_OF_WORD[j]], quads[QUAD_OF_WORD[j] + 4]);
                out[8 * half + j] = avx2._mm256_permute2x128_si256::<0x20>(low, high);
                out[8 * half + j + 4] = avx2._mm256_permute2x128_si256::<0x31>(low, high);
            }
        }
        out
    }

    /// `quads[QUAD_OF_WORD[j]]` holds word `j` of blocks 0-3 in its low 128 bits and word `j + 4`
    /// in its high ones; four quads further on, the same for blocks 4-7.
    const QUAD_OF_WORD: [usize; 4] = [0, 2, 1, 3];

    /// FIPS 180-4 §6.1.2, one block in each lane. Unrolled by hand, so that every index into
    /// the sixteen-word schedule is a constant and the schedule lives in registers: looped,
    /// the index arithmetic and register moves held it to half this speed.
    #[inline(always)]
    fn compress_block(v: V4, state: &mut [__m256i; 5], blocks: [&[u8; BLOCK]; LANES]) {
        let mut w = load(v, blocks);
        let mut words = *state;
        // Twenty rounds from `$from`: unrolled, or in debug builds a loop. Unoptimised code
        // keeps every temporary of 80 unrolled rounds in a stack slot of its own, a 138 KB
        // frame that overflowed a server thread's 128 KiB stack. Debug assertions stand for
        // "unoptimised" (no cfg tells the optimisation level): a release build with them on
        // runs the loops, at 1.4 GB/s.
        macro_rules! twenty {
            ($f:literal, $k:literal, $from:literal; $($t:literal)*) => {
                let k = v.avx._mm256_set1_epi32($k as i32);
                #[cfg(debug_assertions)]
                for t in $from..$from + 20 {
                    round::<$f>(v, &mut w, &mut words, t, k);
                }
                #[cfg(not(debug_assertions))]
                {
                    $(
                        round::<$f>(v, &mut w, &mut words, $t, k);
                        round::<$f>(v, &mut w, &mut words, $t + 1, k);
                        round::<$f>(v, &mut w, &mut words, $t + 2, k);
                        round::<$f>(v, &mut w, &mut words, $t + 3, k);
                        round::<$f>(v, &mut w, &mut words, $t + 4, k);
                    )*
                }
            };
        }
        twenty!(0xca, 0x5a82_7999u32, 0; 0 5 10 15);
        twenty!(0x96, 0x6ed9_eba1u32, 20; 20 25 30 35);
        twenty!(0xe8, 0x8f1b_bcdcu32, 40; 40 45 50 55);
        twenty!(0x96, 0xca62_c1d6u32, 60; 60 65 70 75);
        // Eighty rounds name the words in their first order again.
        for (word, round_result) in state.iter_mut().zip(words) {
            *word = v.avx2._mm256_add_epi32(*word, round_result);
        }
    }

    /// Round `t`, its schedule word made in `w` first. The five words are not moved from
    /// round to round: round `t` reads `a` at `words[(5 - t % 5) % 5]` and `b` to `e` after
    /// it, adds into `e` and rotates `b`. `F` is the round function as a three-input truth
    /// table (0xca: b ? c : d; 0x96: b ^ c ^ d; 0xe8: majority).
    #[inline(always)]
    fn round<const F: i32>(
        v: V4,
        w: &mut [__m256i; 16],
        words: &mut [__m256i; 5],
        t: usize,
        k: __m256i,
    ) {
        let (avx2, avx512) = (v.avx2, v.avx512f);
        if t >= 16 {
            let (t3, t8, t14) = (w[(t + 13) % 16], w[(t + 8) % 16], w[(t + 2) % 16]);
            let mixed = avx2._mm256_xor_si256(
                avx512._mm256_ternarylogic_epi32::<0x96>(t3, t8, t14),
                w[t % 16],
            );
            w[t % 16] = avx512._mm256_rol_epi32::<1>(mixed);
        }
        let at = |role: usize| (role + 5 - t % 5) % 5;
        let [a, b, c, d, e] = [0, 1, 2, 3, 4].map(|role| words[at(role)]);
        let sum = avx2._mm256_add_epi32(e, avx2._mm256_add_epi32(w[t % 16], k));
        let sum = avx2._mm256_add_epi32(sum, avx512._mm256_ternarylogic_epi32::<F>(b, c, d));
        words[at(4)] = avx2._mm256_add_epi32(sum, avx512._mm256_rol_epi32::<5>(a));
        words[at(1)] = avx512._mm256_rol_epi32::<30>(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha1::digest::generic_array::GenericArray;

    #[test]
    fn eight_lanes_agree_with_sha1_one_by_one() {
        // On a 64 KiB stack: a debug build once took a 138 KB frame here, and server threads
        // run with 128 KiB.
        std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(eight_lanes_agree)
            .unwrap()
            .join()
            .unwrap();
    }

    fn eight_lanes_agree() {
        // The harness cannot mark a test skipped at run time: it says so in words, and
        // scripts/test.sh prints this line in every run, so a log shows which path was tested.
        let Some(simd) = avx512() else {
            println!(
                "SKIPPED eight-lane SHA-1: no AVX-512 on this CPU, so the path is never used \
                 here and nothing was tested (the one-by-one path is)"
            );
            return;
        };
        println!("TESTED eight-lane SHA-1 (AVX-512) against SHA-1 one by one");
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
