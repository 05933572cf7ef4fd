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

/// The facts of `body`, counted with `chunk` as room to work in.
pub(crate) fn facts(body: &[u8], chunk: &mut Vec<u8>) -> BodyFacts {
    let mut lines = Encoder::lines(body);
    let mut size = 0;
    while lines.next_chunk(chunk) {
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
        while !self.rest.is_empty() && buf.len() < CHUNK {
            if std::mem::take(&mut self.after_cr) {
                self.line_start = true;
                buf.push(b'\n');
                if self.rest[0] == b'\n' {
                    self.rest = &self.rest[1..];
                    continue;
                }
                // A bare CR: the LF just pushed completes it, and this byte starts a line.
            }
            if self.data && self.line_start && self.rest[0] == b'.' {
                buf.push(b'.');
            }
            // Copy the run of bytes up to the next CR or LF at once.
            let room = CHUNK.saturating_sub(buf.len()).max(1).min(self.rest.len());
            let run = memchr::memchr2(b'\r', b'\n', &self.rest[..room]).unwrap_or(room);
            if run > 0 {
                buf.extend_from_slice(&self.rest[..run]);
                self.rest = &self.rest[run..];
                self.line_start = false;
                continue;
            }
            if self.rest[0] == b'\r' {
                buf.push(b'\r');
                self.after_cr = true;
                self.line_start = false;
            } else {
                buf.extend_from_slice(b"\r\n");
                self.line_start = true;
            }
            self.rest = &self.rest[1..];
        }
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
        let f = facts(body, &mut Vec::new());
        assert_eq!(f.size, body.len());
        assert!(f.eight_bit);
        assert!(!facts(b"plain\r\n", &mut Vec::new()).eight_bit);
    }

    #[test]
    fn size_counts_crlf_lines_but_not_stuffed_dots_or_the_end_line() {
        // RFC 1870 §3: CRLF line ends count, transparency dots and ".\r\n" do not.
        let body = b".a\n..b\rc";
        assert_eq!(wire(body), b"..a\r\n...b\r\nc\r\n.\r\n");
        assert_eq!(
            facts(body, &mut Vec::new()).size,
            b".a\r\n..b\r\nc\r\n".len()
        );
        assert_eq!(facts(b"", &mut Vec::new()).size, 0);
        assert_eq!(facts(b".", &mut Vec::new()).size, 3);
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

    /// The rules one byte at a time, as RFC 5321 states them: the yardstick for the encoder's
    /// run copying.
    fn byte_by_byte(body: &[u8]) -> Vec<u8> {
        let (mut out, mut line_start, mut after_cr) = (Vec::new(), true, false);
        for &b in body {
            if std::mem::take(&mut after_cr) && b != b'\n' {
                out.push(b'\n');
                line_start = true;
            }
            match b {
                b'\r' => (after_cr, line_start) = (true, false),
                b'\n' if out.last() != Some(&b'\r') => out.push(b'\r'),
                _ => {}
            }
            if b != b'\r' && b != b'\n' {
                if line_start && b == b'.' {
                    out.push(b'.');
                }
                line_start = false;
            }
            out.push(b);
            if b == b'\n' {
                line_start = true;
            }
        }
        if after_cr {
            out.push(b'\n');
        } else if !line_start {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b".\r\n");
        out
    }

    #[test]
    fn runs_and_chunk_edges_match_the_byte_by_byte_rules() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for round in 0..300 {
            let len = if round % 10 == 0 {
                3 * CHUNK + 7
            } else {
                round * 37
            };
            let body: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    // Mostly plain bytes, so that runs reach the chunk edges.
                    match seed % 64 {
                        0 => b'\r',
                        1 | 2 => b'\n',
                        3 | 4 => b'.',
                        _ => b'x',
                    }
                })
                .collect();
            assert_eq!(wire(&body), byte_by_byte(&body), "round {round}");
        }
    }
}
