//! Entry points for `cargo fuzz` (feature `fuzzing`; not a stable API). Each takes arbitrary
//! bytes and must return without panicking, whatever they are.

use std::io::BufReader;

use crate::wire::blocking::{ready, Replay};
use crate::wire::{code, read_reply, text};

/// A server's replies, one after another as a session reads them, in pieces of 1 to 256
/// bytes (the first byte says how many): each through the reply reader, then its code and
/// text as the session looks at them.
pub fn smtp_reply(data: &[u8]) {
    let Some((&piece, wire)) = data.split_first() else {
        return;
    };
    let mut input = Replay(BufReader::with_capacity(usize::from(piece) + 1, wire));
    while let Ok(reply) = ready(read_reply(&mut input)) {
        let _ = (code(&reply), text(&reply));
    }
}
