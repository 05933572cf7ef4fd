//! Building and sending responses: one write for the head and a small body.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fs::File;
use std::io::{self, Read, Write};
use std::ops::Range;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::cache::CachedFile;

/// Bodies up to this size go out in the same write as the head.
const INLINE_BODY: u64 = 64 * 1024;

pub(crate) enum Body {
    Empty,
    Bytes(Vec<u8>),
    /// `len` bytes of an open file, from its current position.
    File(File, u64),
    /// `len` bytes of a file in memory, from `start`.
    Shared(Arc<CachedFile>, usize, usize),
}

impl Body {
    /// How many bytes it holds, the `Content-Length` of any framing.
    pub(crate) fn len(&self) -> u64 {
        match self {
            Body::Empty => 0,
            Body::Bytes(b) => b.len() as u64,
            Body::File(_, len) => *len,
            Body::Shared(_, _, len) => *len as u64,
        }
    }
}

pub(crate) struct Response {
    status: u16,
    headers: Vec<(&'static str, Cow<'static, str>)>,
    body: Body,
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        301 => "Moved Permanently",
        304 => "Not Modified",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        416 => "Range Not Satisfiable",
        431 => "Request Header Fields Too Large",
        _ => "Internal Server Error",
    }
}

impl Response {
    pub(crate) fn new(status: u16, body: Body) -> Self {
        Self {
            status,
            // Room for the fields a file's answer carries, without growing.
            headers: Vec::with_capacity(8),
            body,
        }
    }

    /// A short plain-text error page.
    pub(crate) fn error(status: u16, why: &str) -> Self {
        let text = format!("{status} {}: {why}\n", reason(status));
        Self::new(status, Body::Bytes(text.into_bytes()))
            .header("Content-Type", "text/plain; charset=utf-8")
    }

    pub(crate) fn header(
        mut self,
        name: &'static str,
        value: impl Into<Cow<'static, str>>,
    ) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Status, fields and body, for another framing (HTTP/2).
    pub(crate) fn into_parts(self) -> (u16, Vec<(&'static str, Cow<'static, str>)>, Body) {
        (self.status, self.headers, self.body)
    }

    /// Whether the connection stays usable after this answer (errors in the head close it).
    pub(crate) fn reusable(&self) -> bool {
        !matches!(self.status, 400 | 413 | 414 | 431)
    }

    /// The response as bytes: the head with the body when it is small (one write, one TLS
    /// record for most answers), and the rest of a large file to stream after it.
    /// `head_only` for HEAD (and 304), keeping Content-Length.
    fn into_bytes(self, head_only: bool, keep_alive: bool) -> io::Result<Prepared> {
        let len = self.body.len();
        let mut buf = Vec::with_capacity(
            256 + if head_only {
                0
            } else {
                len.min(INLINE_BODY) as usize
            },
        );
        write!(buf, "HTTP/1.1 {} {}", self.status, reason(self.status))?;
        buf.extend_from_slice(b"\r\nServer: tlslite-rs\r\nDate: ");
        with_date_now(|date| buf.extend_from_slice(date.as_bytes()));
        for (name, value) in &self.headers {
            for part in [b"\r\n", name.as_bytes(), b": ", value.as_bytes()] {
                buf.extend_from_slice(part);
            }
        }
        if self.status != 304 {
            write!(buf, "\r\nContent-Length: {len}")?;
        }
        buf.extend_from_slice(match keep_alive {
            true => b"\r\nConnection: keep-alive\r\n\r\n",
            false => b"\r\nConnection: close\r\n\r\n",
        });
        let head_only = head_only || self.status == 304;
        let rest = match self.body {
            _ if head_only => None,
            Body::Empty => None,
            Body::Bytes(bytes) => {
                buf.extend_from_slice(&bytes);
                None
            }
            Body::Shared(file, start, len) if len as u64 <= INLINE_BODY => {
                buf.extend_from_slice(&file.content[start..start + len]);
                None
            }
            Body::Shared(file, start, len) => Some(Rest::Memory {
                file,
                range: start..start + len,
                done: false,
            }),
            Body::File(file, len) if len <= INLINE_BODY => {
                let start = buf.len();
                file.take(len).read_to_end(&mut buf)?;
                check_length(buf.len() - start, len)?;
                None
            }
            Body::File(file, len) => Some(Rest::File {
                file: file.take(len),
                len,
                sent: 0,
            }),
        };
        Ok(Prepared { first: buf, rest })
    }

    /// Writes the response; `head_only` for HEAD (and 304), keeping Content-Length.
    pub(crate) fn send(
        self,
        out: &mut impl Write,
        head_only: bool,
        keep_alive: bool,
    ) -> io::Result<()> {
        let Prepared { first, rest } = self.into_bytes(head_only, keep_alive)?;
        out.write_all(&first)?;
        if let Some(mut rest) = rest {
            let mut chunk = Vec::new();
            while let Some(part) = rest.next(&mut chunk)? {
                out.write_all(part)?;
            }
        }
        out.flush()
    }

    /// [`send`](Self::send) on a tokio stream. The file is read with blocking calls, as nginx
    /// does without `aio`: pages of a served folder are normally in the page cache, where a
    /// read costs less than a hop to the blocking pool.
    pub(crate) async fn send_async<W: AsyncWrite + Unpin>(
        self,
        out: &mut W,
        head_only: bool,
        keep_alive: bool,
    ) -> io::Result<()> {
        let Prepared { first, rest } = self.into_bytes(head_only, keep_alive)?;
        out.write_all(&first).await?;
        drop(first);
        if let Some(mut rest) = rest {
            let mut chunk = Vec::new();
            while let Some(part) = rest.next(&mut chunk)? {
                out.write_all(part).await?;
            }
        }
        out.flush().await
    }
}

/// Calls `f` with the current HTTP date, formatted once a second per thread.
pub(crate) fn with_date_now<T>(f: impl FnOnce(&str) -> T) -> T {
    thread_local! {
        static DATE: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
    }
    let now = SystemTime::now();
    let second = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    DATE.with_borrow_mut(|(at, text)| {
        if *at != second {
            *at = second;
            *text = httpdate::fmt_http_date(now);
        }
        f(text)
    })
}

/// A response ready to go: bytes for one write, then maybe a large body.
struct Prepared {
    first: Vec<u8>,
    rest: Option<Rest>,
}

/// A large body, sent after the head.
enum Rest {
    /// Streamed from disk in 64 KiB steps: a large file never sits in memory.
    File {
        file: io::Take<File>,
        len: u64,
        sent: u64,
    },
    /// A cached file: one write, straight from the cache.
    Memory {
        file: Arc<CachedFile>,
        range: Range<usize>,
        done: bool,
    },
}

impl Rest {
    /// The next piece (read into `chunk` for a file), or `None` at the end; an error if the
    /// file turned out shorter.
    fn next<'a>(&'a mut self, chunk: &'a mut Vec<u8>) -> io::Result<Option<&'a [u8]>> {
        match self {
            Rest::File { file, len, sent } => {
                chunk.resize(INLINE_BODY as usize, 0);
                // Reads from FUSE or network filesystems can be cut short by a signal.
                let n = loop {
                    match file.read(chunk) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        read => break read?,
                    }
                };
                if n == 0 {
                    check_length(*sent as usize, *len)?;
                    return Ok(None);
                }
                *sent += n as u64;
                Ok(Some(&chunk[..n]))
            }
            Rest::Memory { done: true, .. } => Ok(None),
            Rest::Memory { file, range, done } => {
                *done = true;
                Ok(Some(&file.content[range.clone()]))
            }
        }
    }
}

/// A file that shrank while being sent leaves the response short: end the connection.
fn check_length(sent: usize, promised: u64) -> io::Result<()> {
    if sent as u64 != promised {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "file changed while being sent",
        ));
    }
    Ok(())
}
