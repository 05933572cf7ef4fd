//! The state both sides of our engine share, whatever the handshake: records in and out,
//! handshake reassembly, the transcript, plaintext, alerts and close.

use std::io;

use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};

use super::failure::Failure;
use super::msgs::deframe::HandshakeJoiner;
use super::msgs::{content, handshake_message, TLS12};
use super::record::{Protection, MAX_BATCH, MAX_CIPHERTEXT, MAX_PLAINTEXT};
use crate::{AlertDescription, Error};

/// Room for two whole records, so a read never has to wait for one to be consumed.
pub(super) const INCOMING_SIZE: usize = 2 * (5 + MAX_CIPHERTEXT);
/// The first read of a connection that was waiting goes to the stack: a request or a few
/// records, before a receive buffer is allocated for them.
const FIRST_READ: usize = 4096;
/// Room for a batch of records opened together, taken once reads keep filling the buffer (a
/// bulk sender) and the records can be opened side by side.
pub(super) const INCOMING_BULK: usize = MAX_BATCH * (5 + MAX_CIPHERTEXT);

/// Received plaintext waiting to be read, from which no more TLS bytes are taken (rustls's
/// default limit too): a caller that never reads cannot make the connection buffer without end.
const PLAINTEXT_LIMIT: usize = 16 * 1024;
/// The refusal of more TLS bytes while the plaintext waiting is over [`PLAINTEXT_LIMIT`], said
/// with what to do.
pub(super) const FULL_PLAINTEXT: &str = "received plaintext buffer full: read the plaintext \
     waiting (read_plaintext until WouldBlock) before reading more TLS bytes";

/// Plaintext queued for sending is accepted up to this many bytes of records not yet written.
pub(super) const OUTGOING_LIMIT: usize = 128 * 1024;
/// Warning alerts (or renegotiation attempts) tolerated in a row before the connection fails.
const MAX_WARNINGS: u32 = 4;

/// IVs the pool holds at once.
const POOL_IVS: usize = 64;

/// Random bytes for IVs, drawn from the system in batches rather than one call per record.
/// Bytes handed out are never handed out again: when the system's generator fails the pool
/// stays empty, and the connection fails rather than send a predictable IV.
struct IvPool {
    bytes: [u8; 16 * POOL_IVS],
    used: usize,
}

impl IvPool {
    /// Whether `count` IVs (at most [`POOL_IVS`]) are ready, refilling from `fill` first if
    /// needed; `false`: the generator failed.
    fn ready_for(&mut self, count: usize, fill: impl FnOnce(&mut [u8]) -> bool) -> bool {
        if self.used + 16 * count <= self.bytes.len() {
            return true;
        }
        if !fill(&mut self.bytes) {
            self.used = self.bytes.len();
            return false;
        }
        self.used = 0;
        true
    }

    /// The next IV; [`ready_for`](Self::ready_for) said there is one.
    fn next(&mut self) -> [u8; 16] {
        let iv = self
            .bytes
            .get(self.used..self.used + 16)
            .and_then(|b| b.try_into().ok())
            .unwrap_or([0; 16]);
        self.used += 16;
        iv
    }
}

/// State both sides share.
pub(crate) struct CommonState {
    rng: SystemRandom,
    /// For the CBC suites' explicit IVs only: boxed when first needed, so that a connection
    /// under an AEAD does not carry it.
    ivs: Option<Box<IvPool>>,
    /// Each direction's record protection, boxed: a TLS 1.3 connection (whose keys live in
    /// `Records13`) carries no room for them.
    pub(crate) read: Option<Box<Protection>>,
    pub(crate) write: Option<Box<Protection>>,
    /// Running hash of every handshake message so far (for Finished and EMS).
    pub(crate) transcript: Sha256,
    /// Received TLS bytes live in `incoming[in_start..in_end]`; empty (unallocated) while the
    /// connection waits with nothing received.
    pub(super) incoming: Vec<u8>,
    pub(super) in_start: usize,
    pub(super) in_end: usize,
    pub(super) joiner: HandshakeJoiner,
    pub(super) outgoing: Vec<u8>,
    pub(super) plaintext: Vec<u8>,
    pub(super) plaintext_pos: usize,
    pub(super) failure: Option<Failure>,
    /// Warning alerts and refused renegotiations since the last application data.
    pub(super) warnings: u32,
    pub(super) peer_closed: bool,
    pub(super) eof: bool,
    pub(super) sent_close: bool,
}

impl CommonState {
    pub(super) fn new() -> Self {
        Self {
            rng: SystemRandom::new(),
            ivs: None,
            read: None,
            write: None,
            transcript: Sha256::new(),
            incoming: Vec::new(),
            in_start: 0,
            in_end: 0,
            joiner: HandshakeJoiner::default(),
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
            if let Protection::Aead(aead) = &mut **write {
                aead.seal_all(content_type, data, &mut self.outgoing);
                return;
            }
            let ivs = self.ivs.get_or_insert_with(|| {
                Box::new(IvPool {
                    bytes: [0; 16 * POOL_IVS],
                    used: 16 * POOL_IVS,
                })
            });
            // At most a pool of IVs' worth of records at a time (one record for empty data).
            let spans = data.chunks(POOL_IVS * MAX_PLAINTEXT);
            for span in spans.chain(data.is_empty().then_some(data)) {
                let records = span.len().div_ceil(MAX_PLAINTEXT).max(1);
                let rng = &self.rng;
                if !ivs.ready_for(records, |buf| rng.fill(buf).is_ok()) {
                    self.failure = Some(Failure::local(
                        AlertDescription::InternalError,
                        "the system's random generator failed: no IV for the next record",
                    ));
                    return;
                }
                write.seal_all(content_type, span, &mut || ivs.next(), &mut self.outgoing);
            }
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
    pub(super) fn count_warning(&mut self) -> Result<(), Failure> {
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

    pub(super) fn send_alert(&mut self, fatal: bool, description: AlertDescription) {
        self.send(
            content::ALERT,
            &[if fatal { 2 } else { 1 }, description.code()],
        );
    }

    pub(super) fn fail(&mut self, failure: Failure) -> Error {
        if let Some(description) = failure.alert_to_send() {
            self.send_alert(true, description);
        }
        self.keep_failure(failure)
    }

    /// Keeps `failure` so every later call reports it; its error.
    pub(super) fn keep_failure(&mut self, failure: Failure) -> Error {
        let error = failure.to_error();
        self.failure = Some(failure);
        error
    }

    /// Takes TLS bytes from `rd` (the `Engine` call); `bulk`: the records can be opened in
    /// batches, so a buffer that keeps filling grows to hold one.
    ///
    /// A connection waiting for its peer holds no buffers: when `rd` has nothing (`WouldBlock`)
    /// and nothing is left to process, the receive buffer (36 KiB, more in bulk) and the
    /// emptied plaintext and record buffers are freed, and the next read looks first into a
    /// small buffer on the stack and keeps only what came: a read that finds nothing allocates
    /// nothing, and a short request takes no 36 KiB buffer.
    pub(super) fn read_tls(&mut self, rd: &mut dyn io::Read, bulk: bool) -> io::Result<usize> {
        if self.eof || self.peer_closed {
            return Ok(0);
        }
        if self.plaintext.len() - self.plaintext_pos >= PLAINTEXT_LIMIT {
            return Err(io::Error::other(FULL_PLAINTEXT));
        }
        if self.in_start == self.in_end && self.incoming.len() < INCOMING_SIZE {
            // Nothing waits to be processed, and no receive buffer is taken yet.
            let mut first = [0u8; FIRST_READ];
            let n = rd.read(&mut first).map_err(|e| self.waiting(e))?;
            if n == 0 {
                self.eof = true;
                return Ok(0);
            }
            // Just what came (a request, a few records): taking the whole receive buffer here
            // cost an allocation and the zeroing of 36 KiB per request.
            self.incoming.clear();
            self.incoming.extend_from_slice(&first[..n]);
            (self.in_start, self.in_end) = (0, n);
            return Ok(n);
        }
        if self.in_end == self.incoming.len() && self.incoming.len() < INCOMING_SIZE {
            // More than the first read: the whole receive buffer.
            self.incoming.resize(INCOMING_SIZE, 0);
        }
        if self.in_end == self.incoming.len() {
            // Full: slide the unprocessed tail to the front (at most one partial record).
            self.incoming.copy_within(self.in_start..self.in_end, 0);
            (self.in_start, self.in_end) = (0, self.in_end - self.in_start);
            if self.in_end == self.incoming.len() {
                return Err(io::Error::other("received records are not being processed"));
            }
        }
        let room = self.incoming.len() - self.in_end;
        let n = rd
            .read(&mut self.incoming[self.in_end..])
            .map_err(|e| self.waiting(e))?;
        self.in_end += n;
        if n == room && bulk && self.incoming.len() < INCOMING_BULK {
            self.incoming.resize(INCOMING_BULK, 0);
        }
        if n == 0 {
            self.eof = true;
        }
        Ok(n)
    }

    /// `e` from a read; when it says the peer has sent nothing more (`WouldBlock`), the
    /// buffers holding nothing are freed while the connection waits.
    fn waiting(&mut self, e: io::Error) -> io::Error {
        if e.kind() == io::ErrorKind::WouldBlock {
            if self.in_start == self.in_end {
                self.incoming = Vec::new();
                (self.in_start, self.in_end) = (0, 0);
            }
            if self.plaintext_pos == self.plaintext.len() {
                self.plaintext = Vec::new();
                self.plaintext_pos = 0;
            }
            if self.outgoing.is_empty() {
                self.outgoing = Vec::new();
            }
        }
        e
    }

    pub(super) fn write_tls(&mut self, wr: &mut dyn io::Write) -> io::Result<usize> {
        let n = wr.write(&self.outgoing)?;
        self.outgoing.drain(..n);
        Ok(n)
    }

    /// No plaintext waiting and the peer has not ended the connection.
    pub(super) fn wants_read(&self) -> bool {
        self.failure.is_none()
            && !self.eof
            && !self.peer_closed
            && self.plaintext_pos == self.plaintext.len()
    }

    /// Decrypted application data received, for the caller.
    pub(super) fn take_plaintext(&mut self, data: &[u8]) {
        if self.plaintext_pos == self.plaintext.len() {
            self.plaintext.clear();
            self.plaintext_pos = 0;
        }
        self.plaintext.extend_from_slice(data);
        // Empty records count as nothing: a peer may not earn more warnings with them.
        if !data.is_empty() {
            self.warnings = 0;
        }
    }

    /// The `Engine` call: application data received, `Ok(0)` after close_notify.
    pub(super) fn read_plaintext(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.plaintext_pos < self.plaintext.len() {
            let available = &self.plaintext[self.plaintext_pos..];
            let n = available.len().min(buf.len());
            buf[..n].copy_from_slice(&available[..n]);
            self.plaintext_pos += n;
            return Ok(n);
        }
        if self.peer_closed {
            return Ok(0);
        }
        if self.eof {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Err(io::ErrorKind::WouldBlock.into())
    }

    /// How much of `len` bytes of application data may be queued now: bounded like rustls's
    /// send buffer (take what fits, the driver drains and offers again).
    pub(super) fn plaintext_room(&self, len: usize, handshaking: bool) -> io::Result<usize> {
        if self.sent_close || self.failure.is_some() || handshaking {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "connection is not open for data",
            ));
        }
        Ok(len.min(OUTGOING_LIMIT.saturating_sub(self.outgoing.len())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gives one chunk per read, then `WouldBlock`: a socket the peer has stopped writing to.
    struct Trickle(Vec<&'static [u8]>);

    impl io::Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let chunk = self.0.remove(0);
            buf[..chunk.len()].copy_from_slice(chunk);
            Ok(chunk.len())
        }
    }

    /// Issue 27: a connection waiting for its peer held a 36 KiB receive buffer (more after
    /// bulk reads) and its emptied plaintext and record buffers. Now it holds none of them,
    /// keeps what a half-received record needs, and reads on as before once bytes come.
    #[test]
    fn a_connection_waiting_for_its_peer_holds_no_buffers() {
        let mut common = CommonState::new();
        assert_eq!(
            common.incoming.capacity(),
            0,
            "nothing before the first read"
        );
        let wait = |common: &mut CommonState, rd: &mut Trickle| {
            let e = common.read_tls(rd, false).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
        };
        let mut rd = Trickle(vec![b"\x17\x03\x03\x00\x05he"]);
        assert_eq!(common.read_tls(&mut rd, false).unwrap(), 7);
        assert_eq!(common.incoming.len(), 7, "the first read takes what came");
        // Half a record waits for the rest: it is kept.
        wait(&mut common, &mut rd);
        assert_eq!(&common.incoming[..7], b"\x17\x03\x03\x00\x05he");
        rd.0.push(b"llo");
        assert_eq!(common.read_tls(&mut rd, false).unwrap(), 3);
        assert_eq!(
            &common.incoming[common.in_start..common.in_end],
            b"\x17\x03\x03\x00\x05hello"
        );
        assert_eq!(
            common.incoming.len(),
            INCOMING_SIZE,
            "then the receive buffer"
        );
        // Processed (as the engine does), the plaintext read, a record sent and written out.
        (common.in_start, common.in_end) = (0, 0);
        common.take_plaintext(b"hello");
        let mut got = [0; 5];
        assert_eq!(common.read_plaintext(&mut got).unwrap(), 5);
        common.send(content::APPLICATION_DATA, b"bye");
        common.write_tls(&mut Vec::new()).unwrap();
        assert!(common.plaintext.capacity() > 0 && common.outgoing.capacity() > 0);
        wait(&mut common, &mut rd);
        assert_eq!(
            (
                common.incoming.capacity(),
                common.plaintext.capacity(),
                common.outgoing.capacity()
            ),
            (0, 0, 0),
            "buffers held while waiting"
        );
        // The next bytes are read as before.
        rd.0.push(b"\x17\x03\x03");
        assert_eq!(common.read_tls(&mut rd, false).unwrap(), 3);
        assert_eq!(
            &common.incoming[common.in_start..common.in_end],
            b"\x17\x03\x03"
        );
    }

    /// Issue 26: a failed generator used to leave the pool's old bytes, rotated, to be sent
    /// again as IVs; now nothing is handed out and the caller fails the connection.
    #[test]
    fn a_failed_generator_hands_out_no_old_iv() {
        let mut pool = IvPool {
            bytes: [0; 16 * POOL_IVS],
            used: 16 * POOL_IVS,
        };
        let mut draws = 0u8;
        let mut fill = |buf: &mut [u8]| {
            draws += 1;
            buf.fill(draws);
            true
        };
        assert!(pool.ready_for(POOL_IVS, &mut fill));
        let mut seen = Vec::new();
        for _ in 0..POOL_IVS {
            seen.push(pool.next());
        }
        assert!(!pool.ready_for(1, |_| false), "the generator failed");
        assert!(
            !pool.ready_for(1, |_| false),
            "and stays failed while it does"
        );
        assert!(pool.ready_for(2, &mut fill));
        let fresh = pool.next();
        assert!(!seen.contains(&fresh), "a new draw after a failure");
    }
}
