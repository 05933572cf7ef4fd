//! From bytes to messages, before any state machine: record headers read and bounded, and
//! handshake messages joined across records (RFC 5246 §6.2.1, §7.4).

use crate::engine::record::MAX_CIPHERTEXT;
use crate::engine::{fail, Failure};
use crate::AlertDescription;

/// Largest handshake message accepted: a certificate chain fits easily, and so does a
/// ClientHello with one PSK identity of the longest kind (65,535 bytes, RFC 8446).
pub(crate) const MAX_HANDSHAKE: usize = 72 * 1024;

/// The header at the front of `bytes`: the content type and the body's length, `None` until
/// five bytes are there. Anything but a TLS record, or a body over 2^14 + 2048 bytes, is fatal.
pub(crate) fn record_header(bytes: &[u8]) -> Result<Option<(u8, usize)>, Failure> {
    let [content_type, major, _minor, high, low, ..] = *bytes else {
        return Ok(None);
    };
    if major != 3 {
        return fail(AlertDescription::DecodeError, "not a TLS record");
    }
    let len = usize::from(u16::from_be_bytes([high, low]));
    if len > MAX_CIPHERTEXT {
        return fail(
            AlertDescription::RecordOverflow,
            "record longer than 2^14 + 2048 bytes",
        );
    }
    Ok(Some((content_type, len)))
}

/// Handshake bytes from successive records, handed out one whole message at a time.
#[derive(Default)]
pub(crate) struct HandshakeJoiner {
    pending: Vec<u8>,
}

impl HandshakeJoiner {
    pub(crate) fn push(&mut self, data: &[u8]) {
        self.pending.extend_from_slice(data);
    }

    /// Whether part of a message is waiting (a ChangeCipherSpec may not cut into one).
    pub(crate) fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// The next whole message (its 4-byte header included), if one has arrived.
    pub(crate) fn next_message(&mut self) -> Result<Option<Vec<u8>>, Failure> {
        let [_, a, b, c, ..] = self.pending[..] else {
            return Ok(None);
        };
        let len = usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c);
        if len > MAX_HANDSHAKE {
            return fail(
                AlertDescription::IllegalParameter,
                "handshake message too large",
            );
        }
        if self.pending.len() < 4 + len {
            return Ok(None);
        }
        Ok(Some(self.pending.drain(..4 + len).collect()))
    }
}

/// A peer's first handshake message, read before an engine is chosen for it: every byte read
/// is kept in `seen`, to be replayed into the engine chosen, and each is looked at once however
/// finely the message arrives.
#[derive(Default)]
pub(crate) struct FirstMessage {
    pub(crate) seen: Vec<u8>,
    /// How much of `seen` is whole records already handed to `joiner`.
    joined: usize,
    joiner: HandshakeJoiner,
}

impl FirstMessage {
    /// The first handshake message (its header included) once whole. A first record of any
    /// other type is `unexpected_message`.
    pub(crate) fn whole(&mut self) -> Result<Option<Vec<u8>>, Failure> {
        while let Some((content_type, len)) = record_header(&self.seen[self.joined..])? {
            let start = self.joined + 5;
            let Some(body) = self.seen.get(start..start + len) else {
                return Ok(None);
            };
            if content_type != 22 {
                return fail(
                    AlertDescription::UnexpectedMessage,
                    "the first record is not a handshake",
                );
            }
            self.joiner.push(body);
            self.joined = start + len;
            if let Some(message) = self.joiner.next_message()? {
                return Ok(Some(message));
            }
        }
        Ok(None)
    }
}
