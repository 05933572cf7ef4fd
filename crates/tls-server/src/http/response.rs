//! Building and sending responses: one write for the head and a small body.

use std::fs::File;
use std::io::{self, Read, Write};
use std::time::SystemTime;

/// Bodies up to this size go out in the same write as the head.
const INLINE_BODY: u64 = 64 * 1024;

pub(crate) enum Body {
    Empty,
    Bytes(Vec<u8>),
    /// `len` bytes of an open file, from its current position.
    File(File, u64),
}

pub(crate) struct Response {
    status: u16,
    headers: Vec<(&'static str, String)>,
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
            headers: Vec::new(),
            body,
        }
    }

    /// A short plain-text error page.
    pub(crate) fn error(status: u16, why: &str) -> Self {
        let text = format!("{status} {}: {why}\n", reason(status));
        Self::new(status, Body::Bytes(text.into_bytes()))
            .header("Content-Type", "text/plain; charset=utf-8")
    }

    pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Whether the connection stays usable after this answer (errors in the head close it).
    pub(crate) fn reusable(&self) -> bool {
        !matches!(self.status, 400 | 413 | 414 | 431)
    }

    fn body_len(&self) -> u64 {
        match &self.body {
            Body::Empty => 0,
            Body::Bytes(b) => b.len() as u64,
            Body::File(_, len) => *len,
        }
    }

    /// Writes the response; `head_only` for HEAD (and 304), keeping Content-Length.
    pub(crate) fn send(
        self,
        out: &mut impl Write,
        head_only: bool,
        keep_alive: bool,
    ) -> io::Result<()> {
        let len = self.body_len();
        let mut buf = Vec::with_capacity(
            256 + if head_only {
                0
            } else {
                len.min(INLINE_BODY) as usize
            },
        );
        write!(
            buf,
            "HTTP/1.1 {} {}\r\nServer: tlslite-rs\r\nDate: {}\r\n",
            self.status,
            reason(self.status),
            httpdate::fmt_http_date(SystemTime::now())
        )?;
        for (name, value) in &self.headers {
            write!(buf, "{name}: {value}\r\n")?;
        }
        if self.status != 304 {
            write!(buf, "Content-Length: {len}\r\n")?;
        }
        let connection = if keep_alive { "keep-alive" } else { "close" };
        write!(buf, "Connection: {connection}\r\n\r\n")?;
        let head_only = head_only || self.status == 304;
        match self.body {
            _ if head_only => out.write_all(&buf)?,
            Body::Empty => out.write_all(&buf)?,
            Body::Bytes(bytes) => {
                buf.extend_from_slice(&bytes);
                out.write_all(&buf)?;
            }
            Body::File(file, len) if len <= INLINE_BODY => {
                let start = buf.len();
                file.take(len).read_to_end(&mut buf)?;
                check_length(buf.len() - start, len)?;
                out.write_all(&buf)?;
            }
            Body::File(file, len) => {
                out.write_all(&buf)?;
                // Streamed from disk in 64 KiB steps: a large file never sits in memory.
                let mut chunk = vec![0u8; INLINE_BODY as usize];
                let mut file = file.take(len);
                let mut sent = 0u64;
                loop {
                    let n = file.read(&mut chunk)?;
                    if n == 0 {
                        break;
                    }
                    out.write_all(&chunk[..n])?;
                    sent += n as u64;
                }
                check_length(sent as usize, len)?;
            }
        }
        out.flush()
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
