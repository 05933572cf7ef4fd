//! The DATA body on the wire (RFC 5321 §4.5.2): CRLF line ends, a dot doubled at the start
//! of a line, and `.` alone on the last line.

/// Output produced per [`Encoder::next_chunk`].
const CHUNK: usize = 16 * 1024;

/// What the message looks like to the server's SIZE check and to 8BITMIME.
pub(crate) struct BodyFacts {
    /// The size RFC 1870 §3 wants in `SIZE=`: the message with CRLF line ends, not counting
    /// the dots doubled for transparency nor the final `.` line.
    pub size: usize,
    /// Any byte above 127.
    pub eight_bit: bool,
}

pub(crate) fn facts(body: &[u8]) -> BodyFacts {
    let mut lines = Encoder::lines(body);
    let mut chunk = Vec::new();
    let mut size = 0;
    while lines.next_chunk(&mut chunk) {
        size += chunk.len();
    }
    BodyFacts {
        size,
        eight_bit: !body.is_ascii(),
    }
}

/// Turns a message into its wire form piece by piece, so blocking and async senders write
/// the same bytes without holding a second copy of a large message.
///
/// Bare LF and bare CR become CRLF (RFC 5321 forbids them alone), so a message with CRLF line
/// ends that does not hold them arrives byte for byte; a missing final line end is added.
pub(crate) struct Encoder<'a> {
    rest: &'a [u8],
    /// Doubles a dot at the start of a line and ends with the `.` line (DATA form).
    data: bool,
    line_start: bool,
    after_cr: bool,
    finished: bool,
}

impl<'a> Encoder<'a> {
    /// The DATA form: dots doubled, ending with the terminating `.` line.
    pub(crate) fn data(body: &'a [u8]) -> Self {
        Self::new(body, true)
    }

    /// CRLF line ends only (what SIZE counts).
    fn lines(body: &'a [u8]) -> Self {
        Self::new(body, false)
    }

    fn new(rest: &'a [u8], data: bool) -> Self {
        Self {
            rest,
            data,
            line_start: true,
            after_cr: false,
            finished: false,
        }
    }

    /// Replaces `buf`'s contents with the next piece (about 16 KiB); false once all is out.
    pub(crate) fn next_chunk(&mut self, buf: &mut Vec<u8>) -> bool {
        buf.clear();
        if self.finished {
            return false;
        }
        let mut taken = 0;
        for &b in self.rest {
            if buf.len() >= CHUNK {
                break;
            }
            taken += 1;
            let was_cr = std::mem::take(&mut self.after_cr);
            if was_cr && b != b'\n' {
                buf.push(b'\n');
                self.line_start = true;
            }
            match b {
                b'\r' => {
                    buf.push(b'\r');
                    self.after_cr = true;
                    self.line_start = false;
                }
                b'\n' => {
                    if !was_cr {
                        buf.push(b'\r');
                    }
                    buf.push(b'\n');
                    self.line_start = true;
                }
                _ => {
                    if self.data && self.line_start && b == b'.' {
                        buf.push(b'.');
                    }
                    buf.push(b);
                    self.line_start = false;
                }
            }
        }
        self.rest = &self.rest[taken..];
        if self.rest.is_empty() {
            if self.after_cr {
                buf.push(b'\n');
            } else if !self.line_start {
                buf.extend_from_slice(b"\r\n");
            }
            if self.data {
                buf.extend_from_slice(b".\r\n");
            }
            self.finished = true;
        }
        !buf.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(body: &[u8]) -> Vec<u8> {
        let mut encoder = Encoder::data(body);
        let (mut out, mut chunk) = (Vec::new(), Vec::new());
        while encoder.next_chunk(&mut chunk) {
            assert!(chunk.len() <= CHUNK + 8, "pieces stay bounded");
            out.extend_from_slice(&chunk);
        }
        out
    }

    #[test]
    fn dots_at_line_starts_are_doubled() {
        assert_eq!(
            wire(b".hidden\r\nmid.dle\r\n.\r\n..\r\nend"),
            b"..hidden\r\nmid.dle\r\n..\r\n...\r\nend\r\n.\r\n"
        );
        assert_eq!(wire(b""), b".\r\n");
        assert_eq!(wire(b"."), b"..\r\n.\r\n");
    }

    #[test]
    fn bare_line_ends_become_crlf() {
        assert_eq!(wire(b"a\nb\rc\r\n"), b"a\r\nb\r\nc\r\n.\r\n");
        assert_eq!(wire(b"a\r\r\n.x\n"), b"a\r\n\r\n..x\r\n.\r\n");
        assert_eq!(wire(b"a\r"), b"a\r\n.\r\n");
        assert_eq!(wire(b"\r.x"), b"\r\n..x\r\n.\r\n");
    }

    #[test]
    fn crlf_bodies_pass_unchanged_but_for_dots() {
        let body = "Subject: hé\r\n\r\nline one\r\n".as_bytes();
        assert_eq!(wire(body), [body, b".\r\n"].concat());
        let f = facts(body);
        assert_eq!(f.size, body.len());
        assert!(f.eight_bit);
        assert!(!facts(b"plain\r\n").eight_bit);
    }

    #[test]
    fn size_counts_crlf_lines_but_not_stuffed_dots_or_the_end_line() {
        // RFC 1870 §3: CRLF line ends count, transparency dots and ".\r\n" do not.
        let body = b".a\n..b\rc";
        assert_eq!(wire(body), b"..a\r\n...b\r\nc\r\n.\r\n");
        assert_eq!(facts(body).size, b".a\r\n..b\r\nc\r\n".len());
        assert_eq!(facts(b"").size, 0);
        assert_eq!(facts(b".").size, 3);
    }

    #[test]
    fn a_crlf_across_a_chunk_boundary_stays_one_line_end() {
        let mut body = vec![b'x'; CHUNK - 1];
        body.extend_from_slice(b"\r\n.dot\r\n");
        let out = wire(&body);
        let expected = [&body[..CHUNK + 1], b"..dot\r\n.\r\n"].concat();
        assert_eq!(out, expected);
        let big = b"line\n.dot\n".repeat(10_000);
        assert_eq!(
            wire(&big),
            [b"line\r\n..dot\r\n".repeat(10_000), b".\r\n".to_vec()].concat()
        );
    }
}
