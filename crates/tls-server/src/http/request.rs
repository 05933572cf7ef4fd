//! Reading and parsing one request head (httparse), with limits.

use std::io::{self, BufRead};

/// Longest request head accepted (request line and headers).
const MAX_HEAD: usize = 16 * 1024;
/// Longest request line accepted.
const MAX_REQUEST_LINE: usize = 8 * 1024;
/// Most header fields accepted.
const MAX_HEADERS: usize = 64;

/// A parsed request head.
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) method: String,
    /// The request target as sent, e.g. `/docs/a%20b.txt?x=1`.
    pub(crate) target: String,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub(crate) minor_version: u8,
    pub(crate) headers: Vec<(String, String)>,
}

impl Request {
    /// The first header with this name (case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn connection_has(&self, token: &str) -> bool {
        self.header("connection")
            .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    }

    /// HTTP/1.1 keeps the connection unless told `close`; HTTP/1.0 only with `keep-alive`.
    pub(crate) fn keep_alive(&self) -> bool {
        match self.minor_version {
            0 => self.connection_has("keep-alive"),
            _ => !self.connection_has("close"),
        }
    }

    /// Whether a body follows the head.
    pub(crate) fn has_body(&self) -> bool {
        self.header("transfer-encoding").is_some()
            || self
                .header("content-length")
                .is_some_and(|v| v.trim() != "0")
    }
}

pub(crate) enum RequestError {
    /// The connection failed or ended mid-head.
    Io(io::Error),
    /// The head is malformed or too large: answer with this status and close.
    Bad(u16, &'static str),
}

/// Reads one request head. `Ok(None)` when the client closed cleanly before a new request.
pub(crate) fn read_request(input: &mut impl BufRead) -> Result<Option<Request>, RequestError> {
    let mut head = Vec::with_capacity(512);
    loop {
        let available = input.fill_buf().map_err(RequestError::Io)?;
        if available.is_empty() {
            return match head.is_empty() {
                true => Ok(None),
                false => Err(RequestError::Io(io::ErrorKind::UnexpectedEof.into())),
            };
        }
        // Take up to the end of the head if it is in sight, else everything available.
        let searched_from = head.len().saturating_sub(3);
        let take = available.len().min(MAX_HEAD + 1 - head.len());
        head.extend_from_slice(&available[..take]);
        let end = find_head_end(&head[searched_from..]).map(|i| searched_from + i);
        let consumed = match end {
            Some(end) => take - (head.len() - end),
            None => take,
        };
        input.consume(consumed);
        if let Some(end) = end {
            head.truncate(end);
            return parse(&head).map(Some);
        }
        if !head.contains(&b'\n') && head.len() > MAX_REQUEST_LINE {
            return Err(RequestError::Bad(414, "request line too long"));
        }
        if head.len() > MAX_HEAD {
            return Err(RequestError::Bad(431, "request header fields too large"));
        }
    }
}

/// Index just past the blank line ending a head (`\r\n\r\n`, or a bare `\n\n`).
fn find_head_end(bytes: &[u8]) -> Option<usize> {
    (0..bytes.len()).find_map(|i| {
        if bytes[i..].starts_with(b"\r\n\r\n") {
            Some(i + 4)
        } else if bytes[i..].starts_with(b"\n\n") {
            Some(i + 2)
        } else {
            None
        }
    })
}

fn parse(head: &[u8]) -> Result<Request, RequestError> {
    let line_end = head.iter().position(|b| *b == b'\n').unwrap_or(head.len());
    if line_end > MAX_REQUEST_LINE {
        return Err(RequestError::Bad(414, "request line too long"));
    }
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut fields);
    match parsed.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(RequestError::Bad(400, "incomplete request")),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(RequestError::Bad(431, "too many header fields"))
        }
        Err(_) => return Err(RequestError::Bad(400, "malformed request")),
    }
    let headers = parsed
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_owned(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    Ok(Request {
        method: parsed.method.unwrap_or_default().to_owned(),
        target: parsed.path.unwrap_or_default().to_owned(),
        minor_version: parsed.version.unwrap_or(1),
        headers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> Result<Option<Request>, RequestError> {
        read_request(&mut io::BufReader::with_capacity(7, bytes))
    }

    fn status(result: Result<Option<Request>, RequestError>) -> u16 {
        match result {
            Err(RequestError::Bad(status, _)) => status,
            Err(RequestError::Io(e)) => panic!("io {e}"),
            Ok(r) => panic!("parsed {r:?}"),
        }
    }

    #[test]
    fn parses_pipelined_requests_one_at_a_time() {
        let two =
            b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
        let mut input = io::BufReader::with_capacity(5, &two[..]);
        let first = read_request(&mut input).ok().flatten().unwrap();
        assert_eq!(
            (first.method.as_str(), first.target.as_str()),
            ("GET", "/a")
        );
        assert!(first.keep_alive());
        let second = read_request(&mut input).ok().flatten().unwrap();
        assert_eq!((second.method.as_str(), second.minor_version), ("HEAD", 0));
        assert!(second.keep_alive());
        assert!(read_request(&mut input).ok().unwrap().is_none());
    }

    #[test]
    fn refuses_oversized_and_malformed_heads() {
        let long_line = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(MAX_REQUEST_LINE));
        assert_eq!(status(read(long_line.as_bytes())), 414);
        let big = format!(
            "GET / HTTP/1.1\r\n{}\r\n",
            "X-Filler: yyyyyyyyyyyyyyyyyyyyyyyy\r\n".repeat(600)
        );
        assert_eq!(status(read(big.as_bytes())), 431);
        let many = format!(
            "GET / HTTP/1.1\r\n{}\r\n",
            "A: b\r\n".repeat(MAX_HEADERS + 1)
        );
        assert_eq!(status(read(many.as_bytes())), 431);
        assert_eq!(status(read(b"\x16\x03\x01\x02\x00garbage\r\n\r\n")), 400);
        assert!(matches!(
            read(b"GET / HTTP/1.1\r\nHost"),
            Err(RequestError::Io(_))
        ));
    }

    #[test]
    fn connection_close_and_bodies_are_seen() {
        let r = read(b"GET / HTTP/1.1\r\nConnection: Close\r\nContent-Length: 5\r\n\r\n")
            .ok()
            .flatten()
            .unwrap();
        assert!(!r.keep_alive());
        assert!(r.has_body());
    }
}
