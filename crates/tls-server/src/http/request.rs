//! Reading and parsing one request head (httparse), with limits.

use std::future::poll_fn;
use std::io::{self, BufRead};
use std::ops::Range;
use std::pin::Pin;
use std::task::{ready, Poll};

use tokio::io::{AsyncRead, ReadBuf};

/// Longest request head accepted (request line and headers).
const MAX_HEAD: usize = 16 * 1024;
/// Longest request line accepted.
const MAX_REQUEST_LINE: usize = 8 * 1024;
/// Most header fields accepted.
const MAX_HEADERS: usize = 64;

/// A parsed request head: the bytes as received, and where its parts lie in them (no copy
/// of each part: a request costs two allocations, whatever its number of fields).
#[derive(Debug)]
pub(crate) struct Request {
    head: Vec<u8>,
    method: Range<usize>,
    target: Range<usize>,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub(crate) minor_version: u8,
    /// Name and value of each field.
    headers: Vec<(Range<usize>, Range<usize>)>,
    /// What follows the head.
    pub(crate) body: Body,
}

/// The body after a head, as its framing headers say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Body {
    /// None (no framing header, or `Content-Length: 0`).
    Empty,
    /// `Content-Length` bytes.
    Length(u64),
    /// `Transfer-Encoding`: ends where its coding says.
    Coded,
}

impl Request {
    fn text(&self, range: &Range<usize>) -> &str {
        // Method and target were checked as ASCII tokens by httparse; a field value that is
        // not UTF-8 reads as absent.
        std::str::from_utf8(&self.head[range.clone()]).unwrap_or("")
    }

    /// The method, e.g. `GET`.
    pub(crate) fn method(&self) -> &str {
        self.text(&self.method)
    }

    /// The request target as sent, e.g. `/docs/a%20b.txt?x=1`.
    pub(crate) fn target(&self) -> &str {
        self.text(&self.target)
    }

    /// The first header with this name (case-insensitive) whose value is UTF-8.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        let (_, value) = self
            .headers
            .iter()
            .find(|(n, _)| self.head[n.clone()].eq_ignore_ascii_case(name.as_bytes()))?;
        std::str::from_utf8(&self.head[value.clone()]).ok()
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
        self.body != Body::Empty
    }
}

/// The body framing of a head, refusing every ambiguity a proxy in front might resolve
/// differently (request smuggling, RFC 9112 §6.3 and §11.2): several `Content-Length` fields
/// (even equal ones), a list, anything but decimal digits, or `Content-Length` together with
/// `Transfer-Encoding`.
fn body_framing(headers: &[httparse::Header<'_>]) -> Result<Body, RequestError> {
    let named = |name: &'static str| {
        headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
    };
    let coded = named("transfer-encoding").next().is_some();
    let mut lengths = named("content-length");
    let length = match (lengths.next(), lengths.next()) {
        (None, _) => None,
        (Some(_), Some(_)) => return Err(RequestError::Bad(400, "several Content-Length fields")),
        (Some(field), None) => {
            Some(decimal(field.value).ok_or(RequestError::Bad(400, "bad Content-Length"))?)
        }
    };
    match (length, coded) {
        (Some(_), true) => Err(RequestError::Bad(
            400,
            "Content-Length together with Transfer-Encoding",
        )),
        (None, true) => Ok(Body::Coded),
        (Some(0) | None, false) => Ok(Body::Empty),
        (Some(n), false) => Ok(Body::Length(n)),
    }
}

/// A `Content-Length` value: decimal digits only, within u64.
fn decimal(value: &[u8]) -> Option<u64> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(value).ok()?.parse().ok()
}

pub(crate) enum RequestError {
    /// The connection failed or ended mid-head.
    Io(io::Error),
    /// The head is malformed or too large: answer with this status and close.
    Bad(u16, &'static str),
}

/// Gathers one request head from bytes as they arrive, whatever the transport.
#[derive(Default)]
pub(crate) struct HeadReader {
    head: Vec<u8>,
}

impl HeadReader {
    /// Whether nothing of a head has arrived yet.
    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_empty()
    }

    /// Takes what belongs to the head from `available`; returns how much it took and, once the
    /// head is whole, the request. What follows the head is left for the caller.
    pub(crate) fn feed(
        &mut self,
        available: &[u8],
    ) -> Result<(usize, Option<Request>), RequestError> {
        let head = &mut self.head;
        // Take up to the end of the head if it is in sight, else everything available.
        let searched_from = head.len().saturating_sub(3);
        let take = available.len().min(MAX_HEAD + 1 - head.len());
        head.extend_from_slice(&available[..take]);
        if let Some(end) = find_head_end(&head[searched_from..]).map(|i| searched_from + i) {
            let consumed = take - (head.len() - end);
            head.truncate(end);
            return Ok((consumed, Some(parse(std::mem::take(head))?)));
        }
        if !head.contains(&b'\n') && head.len() > MAX_REQUEST_LINE {
            return Err(RequestError::Bad(414, "request line too long"));
        }
        if head.len() > MAX_HEAD {
            return Err(RequestError::Bad(431, "request header fields too large"));
        }
        Ok((take, None))
    }

    /// What a transport's end means here: no request if nothing had arrived, else a cut head.
    pub(crate) fn at_end(&self) -> Result<Option<Request>, RequestError> {
        match self.is_empty() {
            true => Ok(None),
            false => Err(RequestError::Io(io::ErrorKind::UnexpectedEof.into())),
        }
    }
}

/// Reads one request head. `Ok(None)` when the client closed cleanly before a new request.
pub(crate) fn read_request(input: &mut impl BufRead) -> Result<Option<Request>, RequestError> {
    let mut reader = HeadReader::default();
    loop {
        let available = match input.fill_buf() {
            // A signal handled in the process cuts a read with a timeout short: read again.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => other.map_err(RequestError::Io)?,
        };
        if available.is_empty() {
            return reader.at_end();
        }
        let (used, request) = reader.feed(available)?;
        input.consume(used);
        if request.is_some() {
            return Ok(request);
        }
    }
}

/// Reads one request head from a tokio stream, like [`read_request`]. `leftover` holds bytes
/// read past the previous head (pipelined requests) and gets those past this one. Nothing is
/// buffered while the client is silent: an idle keep-alive connection costs no read buffer.
pub(crate) async fn read_request_async<R: AsyncRead + Unpin>(
    input: &mut R,
    leftover: &mut Vec<u8>,
) -> Result<Option<Request>, RequestError> {
    let mut reader = HeadReader::default();
    if !leftover.is_empty() {
        let (used, request) = reader.feed(leftover)?;
        leftover.drain(..used);
        if request.is_some() {
            return Ok(request);
        }
    }
    poll_fn(|cx| loop {
        // On the stack of this poll only, not in the waiting future.
        let mut chunk = [0u8; READ_CHUNK];
        let mut buf = ReadBuf::new(&mut chunk);
        ready!(Pin::new(&mut *input).poll_read(cx, &mut buf)).map_err(RequestError::Io)?;
        let got = buf.filled();
        if got.is_empty() {
            return Poll::Ready(reader.at_end());
        }
        let (used, request) = reader.feed(got)?;
        if request.is_some() {
            leftover.extend_from_slice(&got[used..]);
            return Poll::Ready(Ok(request));
        }
    })
    .await
}

/// How much [`read_request_async`] reads at a time.
const READ_CHUNK: usize = 1024;

/// Index just past the blank line ending a head (`\r\n\r\n`, or a bare `\n\n`).
fn find_head_end(bytes: &[u8]) -> Option<usize> {
    // Only a line feed can end a head: look at those alone.
    let mut from = 0;
    while let Some(i) = bytes[from..].iter().position(|b| *b == b'\n') {
        let i = from + i;
        if i >= 3 && &bytes[i - 3..i] == b"\r\n\r" {
            return Some(i + 1);
        }
        if bytes.get(i + 1) == Some(&b'\n') {
            return Some(i + 2);
        }
        from = i + 1;
    }
    None
}

fn parse(head: Vec<u8>) -> Result<Request, RequestError> {
    let line_end = head.iter().position(|b| *b == b'\n').unwrap_or(head.len());
    if line_end > MAX_REQUEST_LINE {
        return Err(RequestError::Bad(414, "request line too long"));
    }
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut fields);
    match parsed.parse(&head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(RequestError::Bad(400, "incomplete request")),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(RequestError::Bad(431, "too many header fields"))
        }
        Err(_) => return Err(RequestError::Bad(400, "malformed request")),
    }
    let body = body_framing(parsed.headers)?;
    // httparse hands out slices of `head`: keep where they lie.
    let start = head.as_ptr() as usize;
    let place = |part: &[u8]| {
        let from = (part.as_ptr() as usize).wrapping_sub(start).min(head.len());
        from..(from + part.len()).min(head.len())
    };
    let headers = parsed
        .headers
        .iter()
        .map(|h| (place(h.name.as_bytes()), place(h.value)))
        .collect();
    let method = place(parsed.method.unwrap_or_default().as_bytes());
    let target = place(parsed.path.unwrap_or_default().as_bytes());
    let minor_version = parsed.version.unwrap_or(1);
    Ok(Request {
        head,
        method,
        target,
        minor_version,
        headers,
        body,
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

    /// Every other read fails with EINTR, as a socket read with a timeout does when a signal
    /// handler runs in the process.
    struct Interrupting<'a> {
        bytes: &'a [u8],
        interrupt: bool,
    }

    impl io::Read for Interrupting<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.interrupt = !self.interrupt;
            match self.interrupt {
                true => Err(io::ErrorKind::Interrupted.into()),
                false => self.bytes.read(buf),
            }
        }
    }

    #[test]
    fn interrupted_reads_are_read_again() {
        let bytes = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
        let input = Interrupting {
            bytes,
            interrupt: false,
        };
        let request = read_request(&mut io::BufReader::with_capacity(4, input));
        assert_eq!(request.ok().flatten().unwrap().target(), "/a");
    }

    #[test]
    fn parses_pipelined_requests_one_at_a_time() {
        let two =
            b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
        let mut input = io::BufReader::with_capacity(5, &two[..]);
        let first = read_request(&mut input).ok().flatten().unwrap();
        assert_eq!((first.method(), first.target()), ("GET", "/a"));
        assert!(first.keep_alive());
        let second = read_request(&mut input).ok().flatten().unwrap();
        assert_eq!((second.method(), second.minor_version), ("HEAD", 0));
        assert!(second.keep_alive());
        assert!(read_request(&mut input).ok().unwrap().is_none());
    }

    #[test]
    fn fields_are_found_by_name_in_any_case() {
        let head = b"GET /x?y HTTP/1.1\r\nHost: a\r\nRANGE: bytes=1-2\r\nX-Bin: \xff\r\n\r\n";
        let request = read(head).ok().flatten().unwrap();
        assert_eq!((request.method(), request.target()), ("GET", "/x?y"));
        assert_eq!(request.header("range"), Some("bytes=1-2"));
        assert_eq!(request.header("host"), Some("a"));
        assert_eq!(
            request.header("x-bin"),
            None,
            "a value that is not UTF-8 reads as absent"
        );
        assert_eq!(request.header("missing"), None);
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
    fn ambiguous_body_framing_is_refused() {
        for smuggled in [
            "Content-Length: 5\r\nContent-Length: 5\r\n",
            "Content-Length: 5\r\nContent-Length: 50\r\n",
            "Content-Length: 5, 5\r\n",
            "Content-Length: +5\r\n",
            "Content-Length: -1\r\n",
            "Content-Length: 0x10\r\n",
            "Content-Length: \r\n",
            "Content-Length: 99999999999999999999999\r\n",
            "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
            "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n",
        ] {
            let head = format!("POST / HTTP/1.1\r\nHost: x\r\n{smuggled}\r\n");
            assert_eq!(status(read(head.as_bytes())), 400, "{smuggled:?}");
        }
    }

    #[test]
    fn body_lengths_are_read() {
        let body = |extra: &str| {
            let head = format!("POST / HTTP/1.1\r\n{extra}\r\n");
            read(head.as_bytes()).ok().flatten().unwrap().has_body()
        };
        assert!(!body(""));
        assert!(!body("Content-Length: 0\r\n"));
        assert!(!body("Content-Length: 000\r\n"));
        assert!(body("Content-Length: 12\r\n"));
        assert!(body("Transfer-Encoding: chunked\r\n"));
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
