//! nom parsers for single POP3 lines (RFC 1939): status lines, the lines of a dot-stuffed
//! multi-line body, and the numbers in scan listings and unique-id listings.
//!
//! Every parser takes exactly one line, CRLF (or a bare LF) included, so the reader decides
//! how much to hold in memory and bodies stream line by line.

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while1, take_while_m_n};
use nom::character::complete::{line_ending, not_line_ending, space0, space1, u32, u64};
use nom::combinator::{all_consuming, opt, rest, value};
use nom::sequence::{preceded, separated_pair, terminated};
use nom::{IResult, Parser};

/// A status line: `+OK` or `-ERR` and the text after it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Status<'a> {
    pub ok: bool,
    pub text: &'a [u8],
}

/// `+OK text` / `-ERR text`. RFC 2449 adds bracketed response codes to the text; they stay in it.
pub(crate) fn status(line: &[u8]) -> Option<Status<'_>> {
    let indicator = alt((value(true, tag("+OK")), value(false, tag("-ERR"))));
    let text = opt(preceded(tag(" "), not_line_ending));
    let mut parser = all_consuming(terminated((indicator, text), line_ending));
    let (_, (ok, text)): (_, (bool, Option<&[u8]>)) = finish(parser.parse(line))?;
    Some(Status {
        ok,
        text: text.unwrap_or_default(),
    })
}

/// One line of a multi-line response.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BodyLine<'a> {
    /// The terminating `.` line.
    End,
    /// Content with the stuffed dot removed, line ending included.
    Data(&'a [u8]),
}

/// Un-stuffs one line: `.` CRLF ends the body, a leading `..` loses one dot (RFC 1939 §3).
pub(crate) fn body_line(line: &[u8]) -> BodyLine<'_> {
    let mut end = all_consuming(terminated(
        tag::<_, _, nom::error::Error<&[u8]>>("."),
        line_ending,
    ));
    if end.parse(line).is_ok() {
        return BodyLine::End;
    }
    let stuffed: IResult<&[u8], &[u8]> = preceded(tag("."), rest).parse(line);
    match stuffed {
        Ok((_, data)) => BodyLine::Data(data),
        Err(_) => BodyLine::Data(line),
    }
}

/// `count size`, as in a STAT reply and each line of a LIST listing: extra text is allowed
/// after a space, nothing else after the size (`2 320x` is not 320 octets).
pub(crate) fn number_and_size(text: &[u8]) -> Option<(u32, u64)> {
    let after = alt((value((), (space1, rest)), value((), opt(line_ending))));
    let mut parser = all_consuming(terminated(separated_pair(u32, space1, u64), after));
    finish(parser.parse(text)).map(|(_, pair)| pair)
}

/// `number unique-id` from UIDL: the id is 1 to 70 printable characters (RFC 1939 §7).
pub(crate) fn number_and_uid(text: &[u8]) -> Option<(u32, &[u8])> {
    let uid = take_while_m_n(1, 70, |b: u8| (0x21..=0x7e).contains(&b));
    let mut parser = all_consuming(terminated(
        separated_pair(u32, space1, uid),
        (space0, opt(line_ending)),
    ));
    finish(parser.parse(text)).map(|(_, pair)| pair)
}

/// The words of one CAPA line (`SASL PLAIN LOGIN` → both), line ending dropped.
pub(crate) fn words(line: &[u8]) -> Vec<&[u8]> {
    let mut word = preceded(
        space0,
        take_while1::<_, _, nom::error::Error<&[u8]>>(|b: u8| !b.is_ascii_whitespace()),
    );
    let mut out = Vec::new();
    let mut input = line;
    while let Ok((tail, w)) = word.parse(input) {
        out.push(w);
        input = tail;
    }
    out
}

/// The APOP timestamp `<...>` in a greeting, brackets included (RFC 1939 §7).
pub(crate) fn apop_timestamp(greeting: &[u8]) -> Option<&[u8]> {
    let start = greeting.iter().position(|&b| b == b'<')?;
    let len = greeting[start..].iter().position(|&b| b == b'>')?;
    let stamp = &greeting[start..=start + len];
    stamp.contains(&b'@').then_some(stamp)
}

fn finish<I, O>(result: IResult<I, O>) -> Option<(I, O)> {
    result.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        assert_eq!(
            status(b"+OK 2 messages\r\n"),
            Some(Status {
                ok: true,
                text: b"2 messages"
            })
        );
        assert_eq!(
            status(b"+OK\r\n"),
            Some(Status {
                ok: true,
                text: b""
            })
        );
        assert_eq!(
            status(b"-ERR [AUTH] no\n"),
            Some(Status {
                ok: false,
                text: b"[AUTH] no"
            })
        );
        for bad in [
            &b"OK fine\r\n"[..],
            b"+OKAY\r\n",
            b"+OK no line end",
            b"* OK imap\r\n",
            b"",
        ] {
            assert_eq!(status(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn dot_stuffing() {
        assert_eq!(body_line(b".\r\n"), BodyLine::End);
        assert_eq!(body_line(b".\n"), BodyLine::End);
        assert_eq!(body_line(b"..\r\n"), BodyLine::Data(b".\r\n"));
        assert_eq!(body_line(b"..foo\r\n"), BodyLine::Data(b".foo\r\n"));
        assert_eq!(body_line(b"foo.\r\n"), BodyLine::Data(b"foo.\r\n"));
        assert_eq!(body_line(b"\r\n"), BodyLine::Data(b"\r\n"));
        // A lone dot followed by text is stuffed text, not the end.
        assert_eq!(body_line(b".x\r\n"), BodyLine::Data(b"x\r\n"));
    }

    #[test]
    fn listings() {
        assert_eq!(number_and_size(b"2 320"), Some((2, 320)));
        assert_eq!(number_and_size(b"1 120\r\n"), Some((1, 120)));
        assert_eq!(number_and_size(b"3 99 extra words"), Some((3, 99)));
        assert_eq!(number_and_size(b"x 1"), None);
        assert_eq!(number_and_size(b"1"), None);
        assert_eq!(number_and_size(b"99999999999 1"), None);
        assert_eq!(number_and_size(b"2 320 \r\n"), Some((2, 320)));
        for bad in [&b"2 320x"[..], b"2 320x\r\n", b"2 320\r\nmore", b"2 -1"] {
            assert_eq!(
                number_and_size(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(
            number_and_uid(b"1 whqtswO00WBw418f9t5JxYwZ\r\n"),
            Some((1, &b"whqtswO00WBw418f9t5JxYwZ"[..]))
        );
        assert_eq!(number_and_uid(b"1 a b"), None);
        assert_eq!(
            number_and_uid(&[b"1 ".as_slice(), &[b'a'; 71]].concat()),
            None
        );
    }

    #[test]
    fn capa_words_and_apop_stamp() {
        assert_eq!(
            words(b"SASL PLAIN LOGIN\r\n"),
            vec![&b"SASL"[..], b"PLAIN", b"LOGIN"]
        );
        assert!(words(b"\r\n").is_empty());
        assert_eq!(
            apop_timestamp(b"POP3 ready <1896.697170952@dbc.mtview.ca.us>"),
            Some(&b"<1896.697170952@dbc.mtview.ca.us>"[..])
        );
        assert_eq!(apop_timestamp(b"Dovecot ready."), None);
    }
}
