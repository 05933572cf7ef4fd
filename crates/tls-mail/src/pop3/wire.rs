//! Reading and writing POP3 lines on any `BufRead + Write`: the plaintext phase before STLS
//! and the TLS stream after it share this code.
//!
//! The wire also knows whether the stream sits between replies. A reply left half read (a
//! read error, a line over the cap, a listing over its entry cap) would make the next command
//! read the rest of the old reply as its own status, so the wire refuses every later command
//! with [`Error::Broken`] instead.

use std::io::{BufRead, Write};

use super::parse::{self, BodyLine};
use super::Error;

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

impl<S: BufRead + Write> Wire<S> {
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
    fn read_piece(&mut self) -> Result<bool, Error> {
        self.line.clear();
        loop {
            let buf = self.stream.fill_buf().map_err(Error::from_io)?;
            if buf.is_empty() {
                return Err(Error::ConnectionClosed);
            }
            let room = &buf[..buf.len().min(self.max_line - self.line.len())];
            let (take, done) = match room.iter().position(|&b| b == b'\n') {
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
    pub fn read_line(&mut self) -> Result<&[u8], Error> {
        if self.read_piece()? {
            Ok(&self.line)
        } else {
            Err(Error::LineTooLong { max: self.max_line })
        }
    }

    /// Sends one command line (CRLF added).
    pub fn send(&mut self, command: &str) -> Result<(), Error> {
        log::debug!("POP3 C: {}", shown(command));
        let mut line = Vec::with_capacity(command.len() + 2);
        line.extend_from_slice(command.as_bytes());
        line.extend_from_slice(b"\r\n");
        self.stream.write_all(&line).map_err(Error::from_io)?;
        self.stream.flush().map_err(Error::from_io)
    }

    /// Reads a status line: the text after `+OK`, or `Error::Server` for `-ERR`.
    pub fn status(&mut self, command: &str) -> Result<String, Error> {
        let line = self.read_line()?;
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

    /// Sends `command` and reads its status line. Refused with [`Error::Broken`] when an
    /// earlier reply was left unfinished.
    pub fn command(&mut self, command: &str) -> Result<String, Error> {
        if self.broken {
            return Err(Error::Broken);
        }
        // Until a whole status line has come back, the stream is mid-reply.
        self.broken = true;
        self.send(command)?;
        let status = self.status(command);
        self.broken = !matches!(status, Ok(_) | Err(Error::Server { .. }));
        status
    }

    /// Passes each un-stuffed line (or, for a [`Body::Message`], each piece of a line) of a
    /// multi-line body to `each` until the `.` line.
    ///
    /// When `each` fails (a writer that stopped taking bytes, a listing line we cannot read),
    /// the rest of the body is still read and dropped, so the connection stays usable, and
    /// that first error is returned. Failures of the stream itself leave the wire broken.
    pub fn body(
        &mut self,
        kind: Body,
        mut each: impl FnMut(&[u8]) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let max_lines = match kind {
            Body::Listing { max_lines } => max_lines,
            Body::Message => usize::MAX,
        };
        self.broken = true;
        let mut failed = None;
        let mut lines = 0usize;
        let mut line_start = true;
        loop {
            let ends = self.read_piece()?;
            if !ends && matches!(kind, Body::Listing { .. }) {
                return Err(Error::LineTooLong { max: self.max_line });
            }
            // Dot-stuffing and the terminating `.` only concern the start of a line.
            let data = if line_start {
                match parse::body_line(&self.line) {
                    BodyLine::End => break,
                    BodyLine::Data(data) => {
                        lines += 1;
                        if lines > max_lines {
                            return Err(Error::TooManyLines { max: max_lines });
                        }
                        data
                    }
                }
            } else {
                &self.line[..]
            };
            if failed.is_none() {
                failed = each(data).err();
            }
            line_start = ends;
        }
        self.broken = false;
        failed.map_or(Ok(()), Err)
    }
}

/// A command as logged: what follows PASS, APOP and AUTH stays out of logs.
fn shown(command: &str) -> &str {
    match command.split_once(' ') {
        Some((verb @ ("PASS" | "APOP" | "AUTH"), _)) => verb,
        _ => command,
    }
}
