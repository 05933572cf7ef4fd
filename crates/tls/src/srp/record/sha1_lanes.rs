//! SHA-1 of eight messages at once, one in each 32-bit lane of a vector.
//!
//! SHA-NI hashes one message at about 1.5 GB/s here, and its rounds depend on each other, so
//! that is the ceiling for one stream. Eight independent messages (the records of one write,
//! or the records waiting in a read) can instead share every instruction: each round is a
//! handful of operations on a 256-bit vector of eight lanes. With AVX-512's rotates and
//! three-input logic that is about 4.7 GB/s over eight 16 KiB records, three times SHA-NI,
//! and still ahead of it with three records in the eight lanes; with AVX2 alone (no rotate,
//! no three-input logic) it would not beat SHA-NI, so it runs only where AVX-512 is there.
//!
//! The vector operations are `pulp`'s safe wrappers of the intrinsics, callable only with its
//! `V4` token (proof of the CPU check), so there is no `unsafe` here.

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

    use super::{Lanes, BLOCK, LANES};

    pub(super) struct Compress<'a> {
        pub simd: V4,
        pub state: &'a mut [Lanes; 5],
        pub data: [&'a [u8]; LANES],
        pub blocks: usize,
    }

    impl WithSimd for Compress<'_> {
        type Output = ();

        // Inlined into pulp's AVX-512 function, where the intrinsics become single
        // instructions.
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
                let (low, high) = (quads[TRANSPOSED[j]], quads[TRANSPOSED[j] + 4]);
                out[8 * half + j] = avx2._mm256_permute2x128_si256::<0x20>(low, high);
                out[8 * half + j + 4] = avx2._mm256_permute2x128_si256::<0x31>(low, high);
            }
        }
        out
    }

    /// Which of the four 64-bit interleavings holds words 0-3 of a 128-bit half, in order.
    const TRANSPOSED: [usize; 4] = [0, 2, 1, 3];

    /// FIPS 180-4 §6.1.2, one block in each lane. Unrolled by hand, so that every index into
    /// the sixteen-word schedule is a constant and the schedule lives in registers: looped,
    /// the index arithmetic and register moves held it to half this speed.
    #[inline(always)]
    fn compress_block(v: V4, state: &mut [__m256i; 5], blocks: [&[u8; BLOCK]; LANES]) {
        let avx512 = v.avx512f;
        let add = |x, y| v.avx2._mm256_add_epi32(x, y);
        let mut w = load(v, blocks);
        let [mut a, mut b, mut c, mut d, mut e] = *state;
        // A round adds into `e` and rotates `b`; the next one names the five words one place
        // further on, instead of moving them. `$f` is the round function as a three-input
        // truth table (0xca: b ? c : d; 0x96: b ^ c ^ d; 0xe8: majority).
        macro_rules! round {
            ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:literal, $k:expr, $t:literal) => {{
                if $t >= 16 {
                    let mixed = avx512._mm256_ternarylogic_epi32::<0x96>(
                        w[($t + 13) % 16],
                        w[($t + 8) % 16],
                        w[($t + 2) % 16],
                    );
                    let mixed = v.avx2._mm256_xor_si256(mixed, w[$t % 16]);
                    w[$t % 16] = avx512._mm256_rol_epi32::<1>(mixed);
                }
                let sum = add($e, add(w[$t % 16], $k));
                let sum = add(sum, avx512._mm256_ternarylogic_epi32::<$f>($b, $c, $d));
                $e = add(sum, avx512._mm256_rol_epi32::<5>($a));
                $b = avx512._mm256_rol_epi32::<30>($b);
            }};
        }
        macro_rules! twenty {
            ($f:literal, $k:literal; $($t:literal $t1:literal $t2:literal $t3:literal $t4:literal)*) => {
                let k = v.avx._mm256_set1_epi32($k as i32);
                $(
                    round!(a, b, c, d, e, $f, k, $t);
                    round!(e, a, b, c, d, $f, k, $t1);
                    round!(d, e, a, b, c, $f, k, $t2);
                    round!(c, d, e, a, b, $f, k, $t3);
                    round!(b, c, d, e, a, $f, k, $t4);
                )*
            };
        }
        twenty!(0xca, 0x5a82_7999u32; 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19);
        twenty!(0x96, 0x6ed9_eba1u32; 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39);
        twenty!(0xe8, 0x8f1b_bcdcu32; 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59);
        twenty!(0x96, 0xca62_c1d6u32; 60 61 62 63 64 65 66 67 68 69 70 71 72 73 74 75 76 77 78 79);
        for (word, round_result) in state.iter_mut().zip([a, b, c, d, e]) {
            *word = add(*word, round_result);
        }
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
