//! The DATA body on the wire (RFC 5321 §4.5.2): CRLF line ends, a dot doubled at the start
//! of a line, and `.` alone on the last line.

use std::io::{self, Write};

/// Bytes handed to the stream at once.
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
    let mut counter = Counter(0);
    // Writing to a counter cannot fail.
    let _ = write_lines(body, &mut counter, false);
    BodyFacts {
        size: counter.0,
        eight_bit: !body.is_ascii(),
    }
}

/// Writes `body` in DATA form, ending with the terminating `.` line.
///
/// Bare LF and bare CR become CRLF (RFC 5321 forbids them alone), so a message with CRLF line
/// ends that does not hold them arrives byte for byte; a missing final line end is added.
pub(crate) fn encode(body: &[u8], out: &mut impl Write) -> io::Result<()> {
    write_lines(body, out, true)?;
    out.write_all(b".\r\n")
}

/// Writes `body` with CRLF line ends and a final line end, doubling a dot at the start of a
/// line if `stuff_dots`.
fn write_lines(body: &[u8], out: &mut impl Write, stuff_dots: bool) -> io::Result<()> {
    let mut buf = Vec::with_capacity(CHUNK + 8);
    let mut line_start = true;
    let mut after_cr = false;
    for &b in body {
        let was_cr = std::mem::take(&mut after_cr);
        if was_cr && b != b'\n' {
            buf.push(b'\n');
            line_start = true;
        }
        match b {
            b'\r' => {
                buf.push(b'\r');
                after_cr = true;
                line_start = false;
            }
            b'\n' => {
                if !was_cr {
                    buf.push(b'\r');
                }
                buf.push(b'\n');
                line_start = true;
            }
            _ => {
                if stuff_dots && line_start && b == b'.' {
                    buf.push(b'.');
                }
                buf.push(b);
                line_start = false;
            }
        }
        if buf.len() >= CHUNK {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    if after_cr {
        buf.push(b'\n');
    } else if !line_start {
        buf.extend_from_slice(b"\r\n");
    }
    out.write_all(&buf)
}

struct Counter(usize);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode(body, &mut out).unwrap();
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
