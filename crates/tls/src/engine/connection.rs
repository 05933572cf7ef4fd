//! Our engine's TLS 1.2 connection: the common state driven by one side's handshake, and the
//! `Engine` calls a [`Connection`](crate::Connection) makes.

use std::io;

use super::common::CommonState;
use super::failure::Failure;
use super::msgs::deframe::record_header;
use super::msgs::{content, decode_alert};
use super::record::{Protection, MAX_BATCH, MAX_PLAINTEXT};
use super::Engine;
use crate::{AlertDescription, Error, Session};

/// One side of the handshake (client or server).
pub(crate) trait Handshake: Send + Sync {
    /// Sends the first flight, if this side speaks first.
    fn start(&mut self, common: &mut CommonState) -> Result<(), Failure>;
    /// Acts on one whole handshake message (`raw` includes its 4-byte header).
    fn message(
        &mut self,
        common: &mut CommonState,
        kind: u8,
        body: &[u8],
        raw: &[u8],
    ) -> Result<(), Failure>;
    /// The peer's ChangeCipherSpec: switch reading to the new keys.
    fn change_cipher_spec(&mut self, common: &mut CommonState) -> Result<(), Failure>;
    /// Whether the handshake has yet to finish.
    fn is_handshaking(&self) -> bool;
    /// What the handshake negotiated and who the peer proved to be.
    fn session(&self) -> Session;
    /// Whether its messages can take milliseconds to process (SRP's big numbers).
    fn heavy(&self) -> bool {
        true
    }
}

/// A TLS 1.2 connection of our engine: the common state driven by a client or server handshake
/// (whose key exchange is SRP today).
pub(crate) struct Tls12Connection<H: Handshake> {
    common: CommonState,
    handshake: H,
}

impl<H: Handshake> Tls12Connection<H> {
    pub(crate) fn new(handshake: H) -> Result<Self, Error> {
        let mut conn = Self {
            common: CommonState::new(),
            handshake,
        };
        if let Err(failure) = conn.handshake.start(&mut conn.common) {
            return Err(conn.common.fail(failure));
        }
        Ok(conn)
    }

    fn process_records(&mut self) -> Result<(), Failure> {
        let mut incoming = std::mem::take(&mut self.common.incoming);
        let (mut start, end) = (self.common.in_start, self.common.in_end);
        let result = loop {
            // Application data under keys: the whole records waiting are opened together.
            let batch = self
                .common
                .read
                .as_deref()
                .map_or(1, Protection::open_batch);
            if batch > 1 {
                match self.open_application_data(&mut incoming[start..end], batch) {
                    Ok(0) => {}
                    Ok(taken) => {
                        start += taken;
                        continue;
                    }
                    Err(failure) => break Err(failure),
                }
            }
            let available = &incoming[start..end];
            let (content_type, len) = match record_header(available) {
                Ok(Some(header)) => header,
                Ok(None) => break Ok(()),
                Err(failure) => break Err(failure),
            };
            if available.len() < 5 + len {
                break Ok(());
            }
            let body = &mut incoming[start + 5..start + 5 + len];
            start += 5 + len;
            let range = match self.common.read.as_mut() {
                Some(read) => match read.open(content_type, body) {
                    Ok(range) => range,
                    Err(_) => {
                        break Err(Failure::local(
                            AlertDescription::BadRecordMac,
                            "record failed authentication",
                        ))
                    }
                },
                None => 0..body.len(),
            };
            if range.len() > MAX_PLAINTEXT {
                break Err(Failure::local(
                    AlertDescription::RecordOverflow,
                    "plaintext longer than 2^14 bytes",
                ));
            }
            if let Err(f) = self.record(content_type, &body[range]) {
                break Err(f);
            }
        };
        if start == end {
            (self.common.in_start, self.common.in_end) = (0, 0);
        } else {
            self.common.in_start = start;
        }
        self.common.incoming = incoming;
        result
    }

    /// Opens the whole application-data records at the front of `bytes` (two up to `batch`)
    /// together and acts on each; returns how many bytes they took (0: fewer than two there).
    fn open_application_data(&mut self, bytes: &mut [u8], batch: usize) -> Result<usize, Failure> {
        let mut lengths = [0usize; MAX_BATCH];
        let (mut n, mut taken) = (0, 0);
        while n < batch.min(MAX_BATCH) {
            match record_header(&bytes[taken..]) {
                Ok(Some((content::APPLICATION_DATA, len))) if bytes.len() - taken >= 5 + len => {
                    lengths[n] = len;
                    taken += 5 + len;
                    n += 1;
                }
                // Anything else (a partial record, another type, a bad header) goes one by one.
                _ => break,
            }
        }
        if n < 2 {
            return Ok(0);
        }
        let mut bodies: [&mut [u8]; MAX_BATCH] = Default::default();
        let mut rest = &mut bytes[..taken];
        for (body, &len) in bodies.iter_mut().zip(&lengths[..n]) {
            let (record, tail) = rest.split_at_mut(5 + len);
            *body = &mut record[5..];
            rest = tail;
        }
        let mut ranges: [std::ops::Range<usize>; MAX_BATCH] = Default::default();
        let read = self.common.read.as_mut().ok_or_else(|| {
            Failure::local(AlertDescription::InternalError, "no keys to open records")
        })?;
        let outcome = read.open_many(content::APPLICATION_DATA, &mut bodies[..n], &mut ranges);
        let opened = outcome.err().unwrap_or(n);
        for (body, range) in bodies.iter().zip(&ranges).take(opened) {
            if range.len() > MAX_PLAINTEXT {
                return Err(Failure::local(
                    AlertDescription::RecordOverflow,
                    "plaintext longer than 2^14 bytes",
                ));
            }
            self.record(content::APPLICATION_DATA, &body[range.clone()])?;
        }
        if opened < n {
            return Err(Failure::local(
                AlertDescription::BadRecordMac,
                "record failed authentication",
            ));
        }
        Ok(taken)
    }

    fn record(&mut self, content_type: u8, data: &[u8]) -> Result<(), Failure> {
        let unexpected = |why: &str| Err(Failure::local(AlertDescription::UnexpectedMessage, why));
        match content_type {
            content::HANDSHAKE => {
                if data.is_empty() {
                    return unexpected("empty handshake record");
                }
                self.common.joiner.push(data);
                self.handshake_messages()
            }
            content::CHANGE_CIPHER_SPEC => {
                if data != [1] {
                    return Err(Failure::local(
                        AlertDescription::DecodeError,
                        "bad ChangeCipherSpec",
                    ));
                }
                if !self.common.joiner.is_empty() {
                    return unexpected("ChangeCipherSpec inside a handshake message");
                }
                self.handshake.change_cipher_spec(&mut self.common)
            }
            content::ALERT => {
                let (level, description) = decode_alert(data)?;
                match description {
                    AlertDescription::CloseNotify => self.common.peer_closed = true,
                    _ if level == 2 => return Err(Failure::Remote(description)),
                    // Warnings (user_canceled, no_renegotiation) change nothing, but a peer
                    // may not keep us busy with them.
                    _ => self.common.count_warning()?,
                }
                Ok(())
            }
            content::APPLICATION_DATA => {
                if self.handshake.is_handshaking() || self.common.read.is_none() {
                    return unexpected("application data before the handshake finished");
                }
                self.common.take_plaintext(data);
                Ok(())
            }
            _ => unexpected("unknown record type"),
        }
    }

    fn handshake_messages(&mut self) -> Result<(), Failure> {
        while let Some(raw) = self.common.joiner.next_message()? {
            if !self.handshake.is_handshaking() {
                // Renegotiation is refused (RFC 5746 allows a warning instead of a fatal alert).
                self.common.count_warning()?;
                self.common
                    .send_alert(false, AlertDescription::NoRenegotiation);
                continue;
            }
            self.handshake
                .message(&mut self.common, raw[0], &raw[4..], &raw)?;
        }
        Ok(())
    }
}

impl<H: Handshake> Engine for Tls12Connection<H> {
    fn read_tls(&mut self, rd: &mut dyn io::Read) -> io::Result<usize> {
        let bulk = self
            .common
            .read
            .as_ref()
            .is_some_and(|read| read.open_batch() > 1);
        self.common.read_tls(rd, bulk)
    }

    fn write_tls(&mut self, wr: &mut dyn io::Write) -> io::Result<usize> {
        self.common.write_tls(wr)
    }

    fn process_new_packets(&mut self) -> Result<(), Error> {
        if let Some(failure) = &self.common.failure {
            return Err(failure.to_error());
        }
        match self.process_records() {
            Ok(()) => Ok(()),
            Err(failure) => Err(self.common.fail(failure)),
        }
    }

    fn is_handshaking(&self) -> bool {
        self.handshake.is_handshaking()
    }

    fn wants_write(&self) -> bool {
        !self.common.outgoing.is_empty()
    }

    fn wants_read(&self) -> bool {
        self.common.wants_read()
    }

    fn read_plaintext(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.common.read_plaintext(buf)
    }

    fn write_plaintext(&mut self, buf: &[u8]) -> io::Result<usize> {
        let take = self
            .common
            .plaintext_room(buf.len(), self.handshake.is_handshaking())?;
        // The records this takes, and one for close_notify after them.
        let records = take.div_ceil(MAX_PLAINTEXT) as u64 + 1;
        if self
            .common
            .write
            .as_ref()
            .is_some_and(|w| w.records_left() < records)
        {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the connection has sent the most records AES-GCM allows under one key \
                 (2^24), and TLS 1.2 cannot change keys: open a new connection",
            ));
        }
        if take > 0 {
            self.common.send(content::APPLICATION_DATA, &buf[..take]);
        }
        Ok(take)
    }

    fn send_close_notify(&mut self) {
        if !self.common.sent_close && self.common.write.is_some() {
            self.common.send_alert(false, AlertDescription::CloseNotify);
            self.common.sent_close = true;
        }
    }

    fn session(&self) -> Session {
        self.handshake.session()
    }

    fn heavy_handshake(&self) -> bool {
        self.handshake.heavy()
    }
}
