//! Reading and writing POP3 lines on any `BufRead + Write`: the plaintext phase before STLS
//! and the TLS stream after it share this code.

use std::io::{BufRead, Write};

use super::parse::{self, BodyLine};
use super::Error;

/// One connection's line discipline: a line-length cap and a reusable line buffer.
pub(crate) struct Wire<S> {
    pub stream: S,
    max_line: usize,
    line: Vec<u8>,
}

impl<S: BufRead + Write> Wire<S> {
    pub fn new(stream: S, max_line: usize) -> Self {
        Self {
            stream,
            max_line,
            line: Vec::new(),
        }
    }

    /// The next line, line ending included. Never holds more than `max_line` bytes.
    pub fn read_line(&mut self) -> Result<&[u8], Error> {
        self.line.clear();
        loop {
            let buf = self.stream.fill_buf().map_err(Error::from_io)?;
            if buf.is_empty() {
                return Err(Error::ConnectionClosed);
            }
            let (take, done) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            if self.line.len() + take > self.max_line {
                return Err(Error::LineTooLong { max: self.max_line });
            }
            self.line.extend_from_slice(&buf[..take]);
            self.stream.consume(take);
            if done {
                return Ok(&self.line);
            }
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

    /// Sends `command` and reads its status line.
    pub fn command(&mut self, command: &str) -> Result<String, Error> {
        self.send(command)?;
        self.status(command)
    }

    /// Passes each un-stuffed line of a multi-line body to `each` until the `.` line.
    pub fn body(&mut self, mut each: impl FnMut(&[u8]) -> Result<(), Error>) -> Result<(), Error> {
        loop {
            match parse::body_line(self.read_line()?) {
                BodyLine::End => return Ok(()),
                BodyLine::Data(data) => each(data)?,
            }
        }
    }
}

/// A command as logged: what follows PASS, APOP and AUTH stays out of logs.
fn shown(command: &str) -> &str {
    match command.split_once(' ') {
        Some((verb @ ("PASS" | "APOP" | "AUTH"), _)) => verb,
        _ => command,
    }
}
