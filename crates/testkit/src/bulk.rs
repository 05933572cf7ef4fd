//! Bulk data for transfer tests: reproducible payloads, and comparisons that say where two
//! large buffers part instead of printing megabytes.

/// `len` pseudo-random bytes (every value 0–255), the same for the same `seed`; different
/// seeds give unrelated streams, so data sent one way cannot pass for data sent the other.
pub fn payload(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        // xorshift64*
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// As [`payload`], in printable lines of 64 characters and a `\n` (no NUL and no `\r`), for
/// line-based echo servers such as `gnutls-serv --echo`, which echoes a line once it has
/// its `\n`, as a C string, and turns CRLF into LF.
pub fn text_payload(len: usize, seed: u64) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = payload(len, seed);
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = match i % 65 {
            64 => b'\n',
            _ => ALPHABET[usize::from(*byte) % 64],
        };
    }
    if let Some(last) = out.last_mut() {
        *last = b'\n';
    }
    out
}

/// Panics unless `got` equals `want`, naming `what`, both lengths and the first offset where
/// they differ (with a few bytes of each around it) rather than printing them whole.
pub fn assert_same_bytes(got: &[u8], want: &[u8], what: &str) {
    if got == want {
        return;
    }
    let at = got
        .iter()
        .zip(want)
        .position(|(a, b)| a != b)
        .unwrap_or(got.len().min(want.len()));
    let around = |bytes: &[u8]| bytes[at.min(bytes.len())..(at + 16).min(bytes.len())].to_vec();
    panic!(
        "{what}: got {} bytes, want {}; first difference at byte {at}: got {:02x?}, want {:02x?}",
        got.len(),
        want.len(),
        around(got),
        around(want)
    );
}

/// The last `max` bytes of `text` or so (cut at a character boundary): a peer's long log in a
/// failure message.
pub fn tail(text: &str, max: usize) -> &str {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}
