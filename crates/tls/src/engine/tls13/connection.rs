//! Our engine's TLS 1.3 connection: the common state with AEAD record keys, driven by a client
//! or server handshake; KeyUpdate, alerts and close are handled here, once for both sides.

use std::io;

use super::key_schedule::Transcript;
use super::record::{RecordKeys, MAX_CIPHERTEXT13};
use crate::engine::common::CommonState;
use crate::engine::msgs::deframe::record_header;
use crate::engine::msgs::{content, decode_alert, handshake, handshake_message};
use crate::engine::record::MAX_PLAINTEXT;
use crate::engine::{fail, Engine, Failure};
use crate::{AlertDescription, Error, Session};

/// Early data a server refuses is skipped, up to this many bytes (RFC 8446 §4.2.10: records
/// that fail to open under the handshake keys), then it is an attack.
const MAX_SKIPPED_EARLY_DATA: usize = 64 * 1024;

/// One side of a TLS 1.3 handshake.
pub(crate) trait Handshake13: Send + Sync {
    /// Sends the first flight, if this side speaks first.
    fn start(&mut self, records: &mut Records13) -> Result<(), Failure>;
    /// Acts on one whole handshake message (`raw` includes its 4-byte header). After the
    /// handshake, KeyUpdate is handled by the connection; anything else comes here.
    fn message(
        &mut self,
        records: &mut Records13,
        kind: u8,
        body: &[u8],
        raw: &[u8],
    ) -> Result<(), Failure>;
    fn is_handshaking(&self) -> bool;
    fn session(&self) -> Session;
    /// The keys after a KeyUpdate of one direction (RFC 8446 §7.2): from the traffic secret
    /// the current ones came from, unless the handshake keeps that secret itself.
    fn next_keys(&mut self, current: &RecordKeys, _: Direction) -> Result<RecordKeys, Failure> {
        current
            .updated()
            .ok_or_else(|| Failure::local(AlertDescription::InternalError, "no secret to rekey"))
    }
}

/// Which keys a KeyUpdate moves on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// The peer's, after its KeyUpdate.
    Read,
    /// Ours, with the KeyUpdate we send.
    Write,
}

/// The record state a TLS 1.3 handshake works on: the common state and the keys of each
/// direction (none until the ServerHello).
pub(crate) struct Records13 {
    pub(crate) common: CommonState,
    pub(crate) read: Option<RecordKeys>,
    pub(crate) write: Option<RecordKeys>,
    /// A server that refused early data skips records that fail to open, up to this many bytes.
    pub(crate) skip_early_data: usize,
    /// Counts the read keys taken, so a change of keys is seen.
    read_epoch: u64,
}

impl Records13 {
    /// Queues `data` as records of `content_type`: sealed once there are keys.
    pub(crate) fn send(&mut self, content_type: u8, data: &[u8]) {
        match self.write.as_mut() {
            Some(write) => write.seal_all(content_type, data, &mut self.common.outgoing),
            None => self.common.send(content_type, data),
        }
    }

    /// Sends a handshake message and adds it to `transcript`.
    pub(crate) fn send_handshake(&mut self, transcript: &mut Transcript, kind: u8, body: &[u8]) {
        let message = handshake_message(kind, body);
        transcript.add(&message);
        self.send(content::HANDSHAKE, &message);
    }

    /// Opens what comes next with `keys`.
    pub(crate) fn set_read(&mut self, keys: RecordKeys) {
        self.read = Some(keys);
        self.read_epoch += 1;
    }

    /// Starts refusing early data the client sent.
    pub(crate) fn skip_early_data(&mut self) {
        self.skip_early_data = MAX_SKIPPED_EARLY_DATA;
    }

    fn fail(&mut self, failure: Failure) -> Error {
        if let Some(description) = failure.alert_to_send() {
            self.send(content::ALERT, &[2, description.code()]);
        }
        self.common.keep_failure(failure)
    }
}

/// A TLS 1.3 connection of our engine (external PSK today).
pub(crate) struct Tls13Connection<H: Handshake13> {
    records: Records13,
    handshake: H,
    /// We sent a KeyUpdate asking the peer for one and have not yet seen its answer.
    update_requested: bool,
    /// The peer asked for a KeyUpdate: ours goes before our next application data (RFC 8446
    /// §4.6.3). One answers any number of requests, so a peer that keeps asking and never
    /// reads queues nothing.
    update_owed: bool,
}

impl<H: Handshake13> Tls13Connection<H> {
    /// The handshake driving it.
    pub(crate) fn handshake(&self) -> &H {
        &self.handshake
    }

    pub(crate) fn new(handshake: H) -> Result<Self, Error> {
        let mut conn = Self {
            records: Records13 {
                common: CommonState::new(),
                read: None,
                write: None,
                skip_early_data: 0,
                read_epoch: 0,
            },
            handshake,
            update_requested: false,
            update_owed: false,
        };
        if let Err(failure) = conn.handshake.start(&mut conn.records) {
            return Err(conn.records.fail(failure));
        }
        Ok(conn)
    }

    /// Sends a KeyUpdate and moves to the next write keys; `request`: ask the peer to update
    /// its own too.
    #[cfg(test)]
    pub(crate) fn update_keys(&mut self, request: bool) -> Result<(), Error> {
        if self.handshake.is_handshaking() || self.records.common.sent_close {
            return Err(Error::config(
                "keys can be updated only on an open connection after the handshake",
            ));
        }
        self.send_key_update(request)
            .map_err(|failure| self.records.fail(failure))
    }

    fn send_key_update(&mut self, request: bool) -> Result<(), Failure> {
        let Some(write) = &self.records.write else {
            return Ok(());
        };
        let next = self.handshake.next_keys(write, Direction::Write)?;
        let message = handshake_message(handshake::KEY_UPDATE, &[u8::from(request)]);
        self.records.send(content::HANDSHAKE, &message);
        self.records.write = Some(next);
        self.update_requested |= request;
        self.update_owed = false;
        Ok(())
    }

    fn process_records(&mut self) -> Result<(), Failure> {
        let mut incoming = std::mem::take(&mut self.records.common.incoming);
        let (mut start, end) = (self.records.common.in_start, self.records.common.in_end);
        let result = loop {
            if self.records.common.peer_closed {
                // Nothing after close_notify counts (RFC 8446 §6.1).
                start = end;
                break Ok(());
            }
            let available = &incoming[start..end];
            let (content_type, len) = match record_header(available) {
                Ok(Some(header)) => header,
                Ok(None) => break Ok(()),
                Err(failure) => break Err(failure),
            };
            if len > MAX_CIPHERTEXT13 {
                break fail(
                    AlertDescription::RecordOverflow,
                    "record longer than 2^14 + 256 bytes",
                );
            }
            if available.len() < 5 + len {
                break Ok(());
            }
            let header: [u8; 5] = available[..5].try_into().unwrap_or_default();
            let body = &mut incoming[start + 5..start + 5 + len];
            start += 5 + len;
            if let Err(failure) = self.record(content_type, header, body) {
                break Err(failure);
            }
        };
        if start == end {
            (self.records.common.in_start, self.records.common.in_end) = (0, 0);
        } else {
            self.records.common.in_start = start;
        }
        self.records.common.incoming = incoming;
        result
    }

    fn record(&mut self, outer: u8, header: [u8; 5], body: &mut [u8]) -> Result<(), Failure> {
        let unexpected = |why: &str| fail(AlertDescription::UnexpectedMessage, why);
        if outer == content::CHANGE_CIPHER_SPEC {
            // Middlebox compatibility (RFC 8446 §5): one byte 1, during the handshake only.
            if body != [1] || !self.handshake.is_handshaking() {
                return unexpected("ChangeCipherSpec in TLS 1.3");
            }
            return self.records.common.count_warning();
        }
        let (inner, data) = match self.records.read.as_mut() {
            None => match outer {
                content::HANDSHAKE | content::ALERT => (outer, &body[..]),
                content::APPLICATION_DATA if self.records.skip_early_data >= body.len() => {
                    self.records.skip_early_data -= body.len();
                    return Ok(());
                }
                _ => return unexpected("a record before the keys to open it"),
            },
            Some(read) => {
                if outer != content::APPLICATION_DATA {
                    return unexpected("an unprotected record under TLS 1.3 keys");
                }
                let opened = read.open(header, body);
                match opened {
                    Some((inner, len)) => {
                        self.records.skip_early_data = 0;
                        (inner, &body[..len])
                    }
                    None if self.records.skip_early_data >= body.len() => {
                        // Early data refused: under keys we never had, it cannot open. The
                        // record count does not move for it.
                        self.records.skip_early_data -= body.len();
                        read.unwind();
                        return Ok(());
                    }
                    None => {
                        return fail(
                            AlertDescription::BadRecordMac,
                            "record failed authentication",
                        )
                    }
                }
            }
        };
        if data.len() > MAX_PLAINTEXT {
            return fail(
                AlertDescription::RecordOverflow,
                "plaintext longer than 2^14 bytes",
            );
        }
        match inner {
            content::HANDSHAKE => {
                if data.is_empty() {
                    return unexpected("empty handshake record");
                }
                self.records.common.joiner.push(data);
                self.handshake_messages()
            }
            content::ALERT => {
                let (_, description) = decode_alert(data)?;
                match description {
                    AlertDescription::CloseNotify => self.records.common.peer_closed = true,
                    // Every other alert ends a TLS 1.3 connection, whatever its level
                    // (RFC 8446 §6), except user_canceled, which close_notify follows.
                    AlertDescription::UserCanceled => self.records.common.count_warning()?,
                    _ => return Err(Failure::Remote(description)),
                }
                Ok(())
            }
            content::APPLICATION_DATA => {
                if self.handshake.is_handshaking() {
                    return unexpected("application data before the handshake finished");
                }
                self.records.common.take_plaintext(data);
                Ok(())
            }
            _ => unexpected("unknown record type"),
        }
    }

    fn handshake_messages(&mut self) -> Result<(), Failure> {
        while let Some(raw) = self.records.common.joiner.next_message()? {
            let keys_before = self.records.read_epoch;
            if raw[0] == handshake::KEY_UPDATE && !self.handshake.is_handshaking() {
                self.key_update(&raw[4..])?;
            } else {
                self.handshake
                    .message(&mut self.records, raw[0], &raw[4..], &raw)?;
            }
            // A message that changes the keys ends its record (RFC 8446 §5.1).
            if keys_before != self.records.read_epoch && !self.records.common.joiner.is_empty() {
                return fail(
                    AlertDescription::UnexpectedMessage,
                    "handshake data after a key change in the same record",
                );
            }
        }
        Ok(())
    }

    fn key_update(&mut self, body: &[u8]) -> Result<(), Failure> {
        let request = match body {
            [0] => false,
            [1] => true,
            _ => return fail(AlertDescription::DecodeError, "bad KeyUpdate"),
        };
        // A peer may not make us rekey without end: between two of our records it gets one.
        self.records.common.count_warning()?;
        if let Some(read) = &self.records.read {
            let next = self.handshake.next_keys(read, Direction::Read)?;
            self.records.set_read(next);
        }
        if request && !self.update_requested {
            self.update_owed = true;
        }
        self.update_requested = false;
        Ok(())
    }
}

impl<H: Handshake13> Engine for Tls13Connection<H> {
    fn read_tls(&mut self, rd: &mut dyn io::Read) -> io::Result<usize> {
        self.records.common.read_tls(rd, false)
    }

    fn write_tls(&mut self, wr: &mut dyn io::Write) -> io::Result<usize> {
        self.records.common.write_tls(wr)
    }

    fn process_new_packets(&mut self) -> Result<(), Error> {
        if let Some(failure) = &self.records.common.failure {
            return Err(failure.to_error());
        }
        match self.process_records() {
            Ok(()) => Ok(()),
            Err(failure) => Err(self.records.fail(failure)),
        }
    }

    fn is_handshaking(&self) -> bool {
        self.handshake.is_handshaking()
    }

    fn wants_write(&self) -> bool {
        !self.records.common.outgoing.is_empty()
    }

    fn wants_read(&self) -> bool {
        self.records.common.wants_read()
    }

    fn read_plaintext(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.records.common.read_plaintext(buf)
    }

    fn write_plaintext(&mut self, buf: &[u8]) -> io::Result<usize> {
        let take = self
            .records
            .common
            .plaintext_room(buf.len(), self.handshake.is_handshaking())?;
        if take > 0 {
            let worn = self
                .records
                .write
                .as_ref()
                .is_some_and(RecordKeys::wants_update);
            if self.update_owed || worn {
                if let Err(failure) = self.send_key_update(false) {
                    let e = self.records.fail(failure);
                    return Err(io::Error::other(e));
                }
            }
            self.records.send(content::APPLICATION_DATA, &buf[..take]);
            self.records.common.warnings = 0;
        }
        Ok(take)
    }

    fn send_close_notify(&mut self) {
        if !self.records.common.sent_close && self.records.write.is_some() {
            self.records
                .send(content::ALERT, &[1, AlertDescription::CloseNotify.code()]);
            self.records.common.sent_close = true;
        }
    }

    fn session(&self) -> Session {
        self.handshake.session()
    }
}
