//! Reading SMTP replies (RFC 5321 §4.2): `250-first`, `250-more`, `250 last`.

use lettre::transport::smtp::response::Response;

use super::Wire;
use crate::Error;

/// Longest reply line we take (RFC 5321 allows 512; be lenient, but not endless).
const MAX_LINE: u64 = 4096;
/// Most lines in one reply (EHLO lists are the longest, a few dozen lines at most).
const MAX_LINES: usize = 256;

/// Reads one complete reply, however many lines it has.
pub(crate) async fn read_reply(wire: &mut impl Wire) -> Result<Response, Error> {
    let mut text = String::new();
    let mut line = Vec::new();
    for _ in 0..MAX_LINES {
        line.clear();
        let n = wire.read_line(&mut line, MAX_LINE).await?;
        if n == 0 {
            return Err(Error::Protocol(
                "server closed the connection instead of replying".into(),
            ));
        }
        if line.last() != Some(&b'\n') {
            return Err(Error::Protocol(if n as u64 >= MAX_LINE {
                format!("reply line longer than {MAX_LINE} bytes")
            } else {
                "server closed the connection in the middle of a reply".into()
            }));
        }
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches('\n').trim_end_matches('\r');
        let (code, rest) = line.split_at_checked(3).unwrap_or((line, ""));
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::Protocol(format!("malformed reply line {line:?}")));
        }
        // A bare "250" ends a reply like "250 " does; lettre's parser wants the space.
        let (last, rest) = match rest.as_bytes().first() {
            None => (true, ""),
            Some(b' ') => (true, &rest[1..]),
            Some(b'-') => (false, &rest[1..]),
            Some(_) => return Err(Error::Protocol(format!("malformed reply line {line:?}"))),
        };
        text.push_str(code);
        text.push(if last { ' ' } else { '-' });
        text.push_str(rest);
        text.push_str("\r\n");
        if last {
            return text
                .parse()
                .map_err(|e| Error::Protocol(format!("bad reply {text:?}: {e}")));
        }
    }
    Err(Error::Protocol(format!(
        "reply longer than {MAX_LINES} lines"
    )))
}

/// The reply code as a number.
pub(crate) fn code(reply: &Response) -> u16 {
    // Code's Display is exactly its three digits.
    reply.code().to_string().parse().unwrap_or(0)
}

/// The reply text, lines joined with spaces.
pub(crate) fn text(reply: &Response) -> String {
    reply.message().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::blocking::{ready, Replay};

    fn parse(bytes: &[u8]) -> Result<Response, Error> {
        ready(read_reply(&mut Replay(bytes)))
    }

    #[test]
    fn multi_line_replies_are_collected() {
        let r =
            parse(b"250-mail.example greets you\r\n250-SIZE 1000\r\n250 8BITMIME\r\nrest").unwrap();
        assert_eq!(code(&r), 250);
        assert_eq!(
            r.message().collect::<Vec<_>>(),
            ["mail.example greets you", "SIZE 1000", "8BITMIME"]
        );
        assert_eq!(text(&r), "mail.example greets you SIZE 1000 8BITMIME");
    }

    #[test]
    fn bare_codes_and_bare_newlines_are_taken() {
        let r = parse(b"354\n").unwrap();
        assert_eq!(code(&r), 354);
        assert_eq!(text(&r), "");
    }

    #[test]
    fn garbage_is_a_protocol_error_not_a_panic() {
        for bad in [
            &b""[..],
            b"25",
            b"abc hello\r\n",
            b"250-unfinished\r\n",
            b"250-a\r\n550 b\r\n",
            b"250x\r\n",
            b"\xff\xfe\xfd\r\n",
            b"2\xc3\xa9 x\r\n",
        ] {
            assert!(
                matches!(parse(bad), Err(Error::Protocol(_))),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let long = [b"250-".as_slice(), &[b'x'; 5000], b"\r\n"].concat();
        assert!(matches!(parse(&long), Err(Error::Protocol(m)) if m.contains("longer")));
        let endless = b"250-x\r\n".repeat(300);
        assert!(matches!(parse(&endless), Err(Error::Protocol(m)) if m.contains("lines")));
    }
}
