//! Entry points for `cargo fuzz` (feature `fuzzing`; not a stable API). Each takes arbitrary
//! bytes and must return without panicking, whatever they are.

use std::io::BufReader;

use std::time::{Duration, UNIX_EPOCH};

use super::encoding::{accepts, CODINGS};
use super::files::{decode_target, parse_range};
use super::listing::SortOrder;
use super::request::read_request;
use super::validators::{evaluate, Validators};

/// File sizes a `Range` header is checked against: empty, one byte, a small file, the largest.
const FILE_LENGTHS: [u64; 4] = [0, 1, 1000, u64::MAX];

/// Request heads as a client sends them on a keep-alive connection, read in pieces of 1 to
/// 256 bytes (the first byte says how many), each parsed as `StaticFiles` would: the framing,
/// keep-alive, the target's path and listing order, any `Range` header, the preconditions and
/// `Accept-Encoding`.
pub fn http_request(data: &[u8]) {
    let Some((&piece, wire)) = data.split_first() else {
        return;
    };
    let mut input = BufReader::with_capacity(usize::from(piece) + 1, wire);
    let validators = Validators {
        etag: Some("\"1-2-3\"".into()),
        modified: Some(UNIX_EPOCH + Duration::from_secs(1_700_000_000)),
        last_modified: None,
    };
    while let Ok(Some(request)) = read_request(&mut input) {
        let _ = (request.keep_alive(), request.has_body());
        let _ = decode_target(request.target());
        let _ = SortOrder::from_target(request.target());
        let _ = evaluate(&request, &validators);
        if let Some(accepted) = request.header("accept-encoding") {
            for (coding, _) in CODINGS {
                let _ = accepts(accepted, coding);
            }
        }
        if let Some(range) = request.header("range") {
            for len in FILE_LENGTHS {
                let _ = parse_range(range, len);
            }
        }
    }
}
