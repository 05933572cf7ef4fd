//! What the SRP client and server share: records in and out, handshake reassembly, alerts,
//! application data, and the `Engine` calls `TlsStream` drives.

use std::io;

use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};

use super::codec::{content, decode_alert, handshake_message, DecodeError, TLS12};
use super::deframe::{record_header, HandshakeJoiner};
use super::record::{CipherState, MAX_BATCH, MAX_CIPHERTEXT, MAX_PLAINTEXT};
use crate::engine::Engine;
use crate::{AlertDescription, Error, Session};

/// Room for two whole records, so a read never has to wait for one to be consumed.
const INCOMING_SIZE: usize = 2 * (5 + MAX_CIPHERTEXT);
/// Room for a batch of records opened together, taken once reads keep filling the buffer (a
/// bulk sender) and the records can be opened side by side.
const INCOMING_BULK: usize = MAX_BATCH * (5 + MAX_CIPHERTEXT);

/// Plaintext queued for sending is accepted up to this many bytes of records not yet written.
const OUTGOING_LIMIT: usize = 128 * 1024;
/// Warning alerts (or renegotiation attempts) tolerated in a row before the connection fails.
const MAX_WARNINGS: u32 = 4;

/// A failure, kept so every later call reports the same thing.
#[derive(Clone, Debug)]
pub(crate) enum Failure {
    Local(AlertDescription, String),
    Remote(AlertDescription),
    /// The server's certificate is not the one demanded (pin, roots, name).
    Authentication(crate::AuthenticationError),
}

/// Fails the handshake with a fatal alert of ours and why.
pub(crate) fn fail<T>(description: AlertDescription, why: impl Into<String>) -> Result<T, Failure> {
    Err(Failure::local(description, why))
}

impl Failure {
    pub(crate) fn local(description: AlertDescription, message: impl Into<String>) -> Self {
        Self::Local(description, message.into())
    }

    /// A rustls verifier's verdict on a certificate, as our failure.
    pub(crate) fn from_rustls(e: rustls::Error) -> Self {
        match Error::from(e) {
            Error::Authentication(a) => Self::Authentication(a),
            Error::LocalAlert {
                description,
                message,
            } => Self::Local(description, message),
            other => Self::local(AlertDescription::BadCertificate, other.to_string()),
        }
    }

    pub(crate) fn to_error(&self) -> Error {
        match self {
            Self::Authentication(a) => Error::Authentication(a.clone()),
            Self::Local(description, message) => Error::LocalAlert {
                description: *description,
                message: message.clone(),
            },
            Self::Remote(description) => Error::RemoteAlert {
                description: *description,
            },
        }
    }
}

impl From<DecodeError> for Failure {
    fn from(e: DecodeError) -> Self {
        Self::local(AlertDescription::DecodeError, e.0)
    }
}

/// One side of the handshake (client or server).
pub(crate) trait Role: Send + Sync {
    /// Sends the first flight, if this side speaks first.
    fn start(&mut self, core: &mut Core) -> Result<(), Failure>;
    /// Acts on one whole handshake message (`raw` includes its 4-byte header).
    fn handshake(
        &mut self,
        core: &mut Core,
        kind: u8,
        body: &[u8],
        raw: &[u8],
    ) -> Result<(), Failure>;
    /// The peer's ChangeCipherSpec: switch reading to the new keys.
    fn change_cipher_spec(&mut self, core: &mut Core) -> Result<(), Failure>;
    fn is_handshaking(&self) -> bool;
    fn session(&self) -> Session;
}

/// Random bytes for IVs, drawn from the system in batches rather than one call per record.
struct IvPool {
    bytes: [u8; 1024],
    used: usize,
}

impl IvPool {
    fn next(&mut self, rng: &SystemRandom) -> [u8; 16] {
        if self.used + 16 > self.bytes.len() {
            // An IV only needs to be unpredictable; on the (never seen) failure of the system
            // generator, keep the old pool moving rather than repeat it exactly.
            if rng.fill(&mut self.bytes).is_err() {
                self.bytes.rotate_left(7);
            }
            self.used = 0;
        }
        let iv = self.bytes[self.used..self.used + 16]
            .try_into()
            .unwrap_or([0; 16]);
        self.used += 16;
        iv
    }
}

/// State shared by both roles.
pub(crate) struct Core {
    rng: SystemRandom,
    ivs: IvPool,
    pub(crate) read: Option<CipherState>,
    pub(crate) write: Option<CipherState>,
    /// Running hash of every handshake message so far (for Finished and EMS).
    pub(crate) transcript: Sha256,
    /// Received TLS bytes live in `incoming[in_start..in_end]`; the buffer is zeroed once.
    incoming: Vec<u8>,
    in_start: usize,
    in_end: usize,
    handshake: HandshakeJoiner,
    outgoing: Vec<u8>,
    plaintext: Vec<u8>,
    plaintext_pos: usize,
    failure: Option<Failure>,
    /// Warning alerts and refused renegotiations since the last application data.
    warnings: u32,
    peer_closed: bool,
    eof: bool,
    sent_close: bool,
}

impl Core {
    fn new() -> Self {
        Self {
            rng: SystemRandom::new(),
            ivs: IvPool {
                bytes: [0; 1024],
                used: 1024,
            },
            read: None,
            write: None,
            transcript: Sha256::new(),
            incoming: vec![0; INCOMING_SIZE],
            in_start: 0,
            in_end: 0,
            handshake: HandshakeJoiner::default(),
            outgoing: Vec::new(),
            plaintext: Vec::new(),
            plaintext_pos: 0,
            failure: None,
            warnings: 0,
            peer_closed: false,
            eof: false,
            sent_close: false,
        }
    }

    /// Fills `buf` from the system's CSPRNG.
    pub(crate) fn random(&self, buf: &mut [u8]) -> Result<(), Failure> {
        self.rng
            .fill(buf)
            .map_err(|_| Failure::local(AlertDescription::InternalError, "no random bytes"))
    }

    /// Queues `data` as records of `content_type`, encrypted once keys are on.
    pub(crate) fn send(&mut self, content_type: u8, data: &[u8]) {
        if let Some(write) = self.write.as_mut() {
            let (ivs, rng) = (&mut self.ivs, &self.rng);
            write.seal_all(
                content_type,
                data,
                &mut || ivs.next(rng),
                &mut self.outgoing,
            );
            return;
        }
        // At least one record, even for empty data; at most 2^14 bytes in each.
        let chunks = data.chunks(MAX_PLAINTEXT);
        for chunk in chunks.chain(data.is_empty().then_some(data)) {
            self.outgoing.push(content_type);
            self.outgoing.extend_from_slice(&TLS12.to_be_bytes());
            self.outgoing
                .extend_from_slice(&(chunk.len() as u16).to_be_bytes());
            self.outgoing.extend_from_slice(chunk);
        }
    }

    /// Sends a handshake message and adds it to the transcript.
    pub(crate) fn send_handshake(&mut self, kind: u8, body: &[u8]) {
        let message = handshake_message(kind, body);
        self.transcript.update(&message);
        self.send(content::HANDSHAKE, &message);
    }

    pub(crate) fn send_change_cipher_spec(&mut self) {
        self.send(content::CHANGE_CIPHER_SPEC, &[1]);
    }

    /// Adds a received handshake message to the transcript.
    pub(crate) fn hash(&mut self, raw: &[u8]) {
        self.transcript.update(raw);
    }

    /// The transcript hash so far.
    pub(crate) fn transcript_hash(&self) -> [u8; 32] {
        self.transcript.clone().finalize().into()
    }

    /// Counts a warning alert or refused renegotiation; too many in a row is fatal.
    fn count_warning(&mut self) -> Result<(), Failure> {
        self.warnings += 1;
        if self.warnings > MAX_WARNINGS {
            return Err(Failure::local(
                AlertDescription::UnexpectedMessage,
                format!(
                    "more than {MAX_WARNINGS} warning alerts or renegotiation attempts in a row"
                ),
            ));
        }
        Ok(())
    }

    fn send_alert(&mut self, fatal: bool, description: AlertDescription) {
        self.send(
            content::ALERT,
            &[if fatal { 2 } else { 1 }, description.code()],
        );
    }

    fn fail(&mut self, failure: Failure) -> Error {
        match &failure {
            Failure::Local(description, _) => self.send_alert(true, *description),
            Failure::Authentication(_) => self.send_alert(true, AlertDescription::BadCertificate),
            Failure::Remote(_) => {}
        }
        let error = failure.to_error();
        self.failure = Some(failure);
        error
    }
}

/// An SRP connection: the shared core plus a client or server role.
pub(crate) struct SrpConnection<R: Role> {
    core: Core,
    role: R,
}

impl<R: Role> SrpConnection<R> {
    pub(crate) fn new(role: R) -> Result<Self, Error> {
        let mut conn = Self {
            core: Core::new(),
            role,
        };
        if let Err(failure) = conn.role.start(&mut conn.core) {
            return Err(conn.core.fail(failure));
        }
        Ok(conn)
    }

    fn process_records(&mut self) -> Result<(), Failure> {
        let mut incoming = std::mem::take(&mut self.core.incoming);
        let (mut start, end) = (self.core.in_start, self.core.in_end);
        let result = loop {
            // Application data under keys: the whole records waiting are opened together.
            let batch = self.core.read.as_ref().map_or(1, CipherState::open_batch);
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
            let range = match self.core.read.as_mut() {
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
            (self.core.in_start, self.core.in_end) = (0, 0);
        } else {
            self.core.in_start = start;
        }
        self.core.incoming = incoming;
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
        let read = self.core.read.as_mut().ok_or_else(|| {
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
                self.core.handshake.push(data);
                self.handshake_messages()
            }
            content::CHANGE_CIPHER_SPEC => {
                if data != [1] {
                    return Err(Failure::local(
                        AlertDescription::DecodeError,
                        "bad ChangeCipherSpec",
                    ));
                }
                if !self.core.handshake.is_empty() {
                    return unexpected("ChangeCipherSpec inside a handshake message");
                }
                self.role.change_cipher_spec(&mut self.core)
            }
            content::ALERT => {
                let (level, description) = decode_alert(data)?;
                match description {
                    AlertDescription::CloseNotify => self.core.peer_closed = true,
                    _ if level == 2 => return Err(Failure::Remote(description)),
                    // Warnings (user_canceled, no_renegotiation) change nothing, but a peer
                    // may not keep us busy with them.
                    _ => self.core.count_warning()?,
                }
                Ok(())
            }
            content::APPLICATION_DATA => {
                if self.role.is_handshaking() || self.core.read.is_none() {
                    return unexpected("application data before the handshake finished");
                }
                if self.core.plaintext_pos == self.core.plaintext.len() {
                    self.core.plaintext.clear();
                    self.core.plaintext_pos = 0;
                }
                self.core.plaintext.extend_from_slice(data);
                self.core.warnings = 0;
                Ok(())
            }
            _ => unexpected("unknown record type"),
        }
    }

    fn handshake_messages(&mut self) -> Result<(), Failure> {
        while let Some(raw) = self.core.handshake.next_message()? {
            if !self.role.is_handshaking() {
                // Renegotiation is refused (RFC 5746 allows a warning instead of a fatal alert).
                self.core.count_warning()?;
                self.core
                    .send_alert(false, AlertDescription::NoRenegotiation);
                continue;
            }
            self.role
                .handshake(&mut self.core, raw[0], &raw[4..], &raw)?;
        }
        Ok(())
    }
}

impl<R: Role> Engine for SrpConnection<R> {
    fn read_tls(&mut self, rd: &mut dyn io::Read) -> io::Result<usize> {
        let core = &mut self.core;
        if core.eof || core.peer_closed {
            return Ok(0);
        }
        if core.in_end == core.incoming.len() {
            // Full: slide the unprocessed tail to the front (at most one partial record).
            core.incoming.copy_within(core.in_start..core.in_end, 0);
            (core.in_start, core.in_end) = (0, core.in_end - core.in_start);
            if core.in_end == core.incoming.len() {
                return Err(io::Error::other("received records are not being processed"));
            }
        }
        let room = core.incoming.len() - core.in_end;
        let n = rd.read(&mut core.incoming[core.in_end..])?;
        core.in_end += n;
        if n == room
            && core.incoming.len() < INCOMING_BULK
            && core.read.as_ref().is_some_and(|read| read.open_batch() > 1)
        {
            core.incoming.resize(INCOMING_BULK, 0);
        }
        if n == 0 {
            core.eof = true;
        }
        Ok(n)
    }

    fn write_tls(&mut self, wr: &mut dyn io::Write) -> io::Result<usize> {
        let n = wr.write(&self.core.outgoing)?;
        self.core.outgoing.drain(..n);
        Ok(n)
    }

    fn process_new_packets(&mut self) -> Result<(), Error> {
        if let Some(failure) = &self.core.failure {
            return Err(failure.to_error());
        }
        match self.process_records() {
            Ok(()) => Ok(()),
            Err(failure) => Err(self.core.fail(failure)),
        }
    }

    fn is_handshaking(&self) -> bool {
        self.role.is_handshaking()
    }

    fn wants_write(&self) -> bool {
        !self.core.outgoing.is_empty()
    }

    fn wants_read(&self) -> bool {
        let core = &self.core;
        core.failure.is_none()
            && !core.eof
            && !core.peer_closed
            && core.plaintext_pos == core.plaintext.len()
    }

    fn read_plaintext(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let core = &mut self.core;
        if core.plaintext_pos < core.plaintext.len() {
            let available = &core.plaintext[core.plaintext_pos..];
            let n = available.len().min(buf.len());
            buf[..n].copy_from_slice(&available[..n]);
            core.plaintext_pos += n;
            return Ok(n);
        }
        if core.peer_closed {
            return Ok(0);
        }
        if core.eof {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Err(io::ErrorKind::WouldBlock.into())
    }

    fn write_plaintext(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.core.sent_close || self.core.failure.is_some() || self.role.is_handshaking() {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "connection is not open for data",
            ));
        }
        // Bounded like rustls's send buffer: take what fits, the driver drains and offers again.
        let room = OUTGOING_LIMIT.saturating_sub(self.core.outgoing.len());
        let take = buf.len().min(room);
        if take > 0 {
            self.core.send(content::APPLICATION_DATA, &buf[..take]);
        }
        Ok(take)
    }

    fn send_close_notify(&mut self) {
        if !self.core.sent_close && self.core.write.is_some() {
            self.core.send_alert(false, AlertDescription::CloseNotify);
            self.core.sent_close = true;
        }
    }

    fn session(&self) -> Session {
        self.role.session()
    }

    fn heavy_handshake(&self) -> bool {
        true
    }
}
