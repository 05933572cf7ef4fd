//! Reading and writing POP3 lines on any [`LineStream`]: the plaintext phase before STLS and
//! the TLS stream after it, blocking or tokio, share this code.
//!
//! The wire also knows whether the stream sits between replies. A reply left half read (a
//! read error, a line over the cap, a listing over its entry cap) would make the next command
//! read the rest of the old reply as its own status, so the wire refuses every later command
//! with [`Error::ConnectionBroken`] instead.

use super::parse::{self, BodyLine};
use super::Error;
use crate::line_stream::LineStream;

/// The smallest line cap: a body line is un-stuffed from its first piece, which must hold at
/// least `..` or `.` CRLF, and status lines need room anyway.
pub(crate) const MIN_LINE: usize = 64;

/// How a multi-line body is read.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Body {
    /// CAPA, LIST, UIDL: whole lines under the line cap, at most `max_lines` of them.
    Listing { max_lines: usize },
    /// RETR, TOP: any line length, handed on in pieces of at most the line cap.
    Message,
}

/// One connection's line discipline: a line-length cap, a reusable line buffer, and whether
/// an earlier reply was left unfinished.
pub(crate) struct Wire<S> {
    pub stream: S,
    max_line: usize,
    line: Vec<u8>,
    broken: bool,
}

impl<S: LineStream> Wire<S> {
    pub fn new(stream: S, max_line: usize) -> Self {
        Self {
            stream,
            max_line: max_line.max(MIN_LINE),
            line: Vec::new(),
            broken: false,
        }
    }

    /// Reads into the line buffer up to and including the next LF, or until it holds
    /// `max_line` bytes. `true` when the line ended.
    async fn read_piece(&mut self) -> Result<bool, Error> {
        self.line.clear();
        loop {
            let buf = self.stream.fill_buf().await.map_err(Error::from_io)?;
            if buf.is_empty() {
                return Err(Error::ConnectionClosed);
            }
            let room = &buf[..buf.len().min(self.max_line - self.line.len())];
            let (take, done) = match memchr::memchr(b'\n', room) {
                Some(i) => (i + 1, true),
                None => (room.len(), false),
            };
            self.line.extend_from_slice(&room[..take]);
            self.stream.consume(take);
            if done || self.line.len() == self.max_line {
                return Ok(done);
            }
        }
    }

    /// The next line, line ending included. Never holds more than `max_line` bytes.
    pub async fn read_line(&mut self) -> Result<&[u8], Error> {
        if self.read_piece().await? {
            Ok(&self.line)
        } else {
            Err(Error::LineTooLong { max: self.max_line })
        }
    }

    /// Sends one command line (CRLF added).
    pub async fn send(&mut self, command: &str) -> Result<(), Error> {
        log::debug!("POP3 C: {}", shown(command));
        let mut line = Vec::with_capacity(command.len() + 2);
        line.extend_from_slice(command.as_bytes());
        line.extend_from_slice(b"\r\n");
        self.stream.send(&line).await.map_err(Error::from_io)
    }

    /// Reads a status line: the text after `+OK`, or `Error::Server` for `-ERR`.
    pub async fn status(&mut self, command: &str) -> Result<String, Error> {
        let line = self.read_line().await?;
        log::debug!("POP3 S: {}", String::from_utf8_lossy(line).trim_end());
        let status = parse::status(line).ok_or_else(|| Error::malformed("status line", line))?;
        let text = String::from_utf8_lossy(status.text).into_owned();
        if status.ok {
            Ok(text)
        } else {
            Err(Error::Server {
                command: command.split(' ').next().unwrap_or_default().to_owned(),
                message: text,
            })
        }
    }

    /// Sends `command` and reads its status line. Refused with [`Error::ConnectionBroken`] when an
    /// earlier reply was left unfinished.
    pub async fn command(&mut self, command: &str) -> Result<String, Error> {
        if self.broken {
            return Err(Error::ConnectionBroken);
        }
        // Until a whole status line has come back, the stream is mid-reply.
        self.broken = true;
        self.send(command).await?;
        let status = self.status(command).await;
        self.broken = !matches!(status, Ok(_) | Err(Error::Server { .. }));
        status
    }

    /// Starts reading a multi-line body: until it is read to its `.` line, the wire is
    /// mid-reply (broken, should the reading stop early).
    pub fn start_body(&mut self, kind: Body) -> BodyState {
        self.broken = true;
        BodyState {
            kind,
            lines: 0,
            line_start: true,
        }
    }

    /// The next un-stuffed line of a multi-line body (or, for a [`Body::Message`], the next
    /// piece of a line); `None` after the `.` line, when the wire is between replies again.
    pub async fn next_piece(&mut self, state: &mut BodyState) -> Result<Option<&[u8]>, Error> {
        let ends = self.read_piece().await?;
        let max_lines = match state.kind {
            Body::Listing { max_lines } => max_lines,
            Body::Message => usize::MAX,
        };
        if !ends && matches!(state.kind, Body::Listing { .. }) {
            return Err(Error::LineTooLong { max: self.max_line });
        }
        let at_line_start = std::mem::replace(&mut state.line_start, ends);
        // Dot-stuffing and the terminating `.` only concern the start of a line.
        if !at_line_start {
            return Ok(Some(&self.line));
        }
        match parse::body_line(&self.line) {
            BodyLine::End => {
                self.broken = false;
                Ok(None)
            }
            BodyLine::Data(data) => {
                state.lines += 1;
                if state.lines > max_lines {
                    return Err(Error::TooManyLines { max: max_lines });
                }
                Ok(Some(data))
            }
        }
    }

    /// Passes each piece of a multi-line body (see [`next_piece`](Self::next_piece)) to
    /// `each` until the `.` line.
    ///
    /// When `each` fails (a listing line we cannot read), the rest of the body is still read
    /// and dropped, so the connection stays usable, and that first error is returned.
    /// Failures of the stream itself leave the wire broken.
    pub async fn body(
        &mut self,
        kind: Body,
        mut each: impl FnMut(&[u8]) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut state = self.start_body(kind);
        let mut failed = None;
        while let Some(data) = self.next_piece(&mut state).await? {
            if failed.is_none() {
                failed = each(data).err();
            }
        }
        failed.map_or(Ok(()), Err)
    }
}

/// Where a multi-line body's reading stands.
pub(crate) struct BodyState {
    kind: Body,
    lines: usize,
    /// The next piece starts a line (where stuffing and the `.` line are looked for).
    line_start: bool,
}

/// A command as logged: what follows PASS, APOP and AUTH stays out of logs.
fn shown(command: &str) -> &str {
    match command.split_once(' ') {
        Some((verb @ ("PASS" | "APOP" | "AUTH"), _)) => verb,
        _ => command,
    }
}
