//! Entry points for `cargo fuzz` (feature `fuzzing`; not a stable API). Each takes arbitrary
//! bytes and must return without panicking, whatever they are.

use std::io::BufReader;

use super::files::{decode_target, parse_range};
use super::request::read_request;

/// File sizes a `Range` header is checked against: empty, one byte, a small file, the largest.
const FILE_LENGTHS: [u64; 4] = [0, 1, 1000, u64::MAX];

/// Request heads as a client sends them on a keep-alive connection, read in pieces of 1 to
/// 256 bytes (the first byte says how many), each parsed as `StaticFiles` would: the framing,
/// keep-alive, the target's path and any `Range` header.
pub fn http_request(data: &[u8]) {
    let Some((&piece, wire)) = data.split_first() else {
        return;
    };
    let mut input = BufReader::with_capacity(usize::from(piece) + 1, wire);
    while let Ok(Some(request)) = read_request(&mut input) {
        let _ = (request.keep_alive(), request.has_body());
        let _ = decode_target(request.target());
        if let Some(range) = request.header("range") {
            for len in FILE_LENGTHS {
                let _ = parse_range(range, len);
            }
        }
    }
}
