//! Entry points for `cargo fuzz` (feature `fuzzing`; not a stable API). Each takes arbitrary
//! bytes as what a server sends and must return without panicking, whatever they are.
//!
//! The first byte sets the knobs (how small the pieces the server's bytes arrive in, the line
//! or response cap); the rest is the server's side of a whole session.

use std::io::{self, BufRead, BufReader, Read, Write};

use crate::imap::starttls::{check_greeting, starttls};
use crate::imap::ImapStream;
use crate::line_stream::ready;
use crate::pop3::wire::{Body, Wire, MIN_LINE};
use crate::pop3::{parse, Error};

/// A server whose every byte is scripted: reads hand out `input` in small pieces, and what
/// the client writes goes nowhere.
struct Scripted<'a>(BufReader<&'a [u8]>);

impl<'a> Scripted<'a> {
    /// `input` in pieces of 1 to 8 bytes, as `knobs` says.
    fn new(knobs: u8, input: &'a [u8]) -> Self {
        Self(BufReader::with_capacity(usize::from(knobs & 7) + 1, input))
    }
}

impl Read for Scripted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl BufRead for Scripted<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.0.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.0.consume(amount)
    }
}

impl Write for Scripted<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A POP3 session's replies as the client reads them: the greeting (and its APOP stamp),
/// CAPA, STAT, LIST, UIDL and RETR, through the line reader with a cap of 64 to 512 bytes.
pub fn pop3(data: &[u8]) {
    let Some((&knobs, input)) = data.split_first() else {
        return;
    };
    let mut wire = Wire::new(Scripted::new(knobs, input), MIN_LINE << (knobs >> 6));
    // The scripted stream never waits, so each step finishes in one poll.
    let _ = tls::adapter::ready(session(&mut wire));
}

async fn session(wire: &mut Wire<Scripted<'_>>) {
    let listing = Body::Listing { max_lines: 64 };
    if let Ok(greeting) = wire.status("greeting").await {
        let _ = parse::apop_timestamp(greeting.as_bytes());
    }
    if wire.command("CAPA").await.is_ok() {
        let _ = wire
            .body(listing, |line| entry(Some(parse::words(line)), line))
            .await;
    }
    if let Ok(stat) = wire.command("STAT").await {
        let _ = parse::number_and_size(stat.as_bytes());
    }
    if wire.command("LIST").await.is_ok() {
        let _ = wire
            .body(listing, |line| entry(parse::number_and_size(line), line))
            .await;
    }
    if wire.command("UIDL").await.is_ok() {
        let _ = wire
            .body(listing, |line| entry(parse::number_and_uid(line), line))
            .await;
    }
    if wire.command("RETR 1").await.is_ok() {
        let _ = wire.body(Body::Message, |_| Ok(())).await;
    }
}

/// A listing line as the client takes it: one its parser refuses fails the listing, whose
/// remaining lines the wire still reads.
fn entry<T>(parsed: Option<T>, line: &[u8]) -> Result<(), Error> {
    parsed
        .map(drop)
        .ok_or_else(|| Error::malformed("listing line", line))
}

/// An IMAP server's side: with the top bit of the first byte set, the plaintext greeting and
/// reply to STARTTLS; else a session through the `imap` crate over the response cap (64 bytes
/// to 4 KiB) from greeting to LOGOUT.
pub fn imap(data: &[u8]) {
    let Some((&knobs, input)) = data.split_first() else {
        return;
    };
    let mut server = Scripted::new(knobs, input);
    if knobs & 0x80 != 0 {
        // Greeting, STARTTLS and its tagged reply, as the clients run them.
        let _ = ready(starttls(&mut server));
        return;
    }
    let max_response = 64 << ((knobs >> 3) & 7);
    let mut client = ::imap::Client::new(ImapStream::new(server, max_response));
    let Ok(greeting) = client.read_greeting() else {
        return;
    };
    let _ = check_greeting(&greeting, true);
    let Ok(mut session) = client.login("alice", "secret") else {
        return;
    };
    let _ = session.capabilities();
    let _ = session.select("INBOX");
    if let Ok(fetches) = session.fetch("1:*", "(FLAGS RFC822.SIZE BODY.PEEK[])") {
        for fetch in fetches.iter() {
            let _ = (fetch.message, fetch.flags(), fetch.size, fetch.body());
        }
    }
    let _ = session.uid_search("ALL");
    let _ = session.list(None, Some("*"));
    let _ = session.logout();
}
