//! The wire's building blocks (RFC 5246 §4): bounds-checked readers and writers, record and
//! handshake types, framing, alerts.

use crate::AlertDescription;

/// A message that does not decode; always answered with `decode_error`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct DecodeError(pub(crate) &'static str);

pub(crate) type Decoded<T> = Result<T, DecodeError>;

pub(crate) const TLS12: u16 = 0x0303;
pub(crate) const TLS13: u16 = 0x0304;
/// The end of a TLS 1.3 server's random when it negotiates TLS 1.2 (RFC 8446 §4.1.3): a client
/// that offered TLS 1.3 and sees it knows someone removed TLS 1.3 from its hello.
pub(crate) const DOWNGRADE_TO_TLS12: [u8; 8] = *b"DOWNGRD\x01";

pub(crate) mod content {
    pub(crate) const CHANGE_CIPHER_SPEC: u8 = 20;
    pub(crate) const ALERT: u8 = 21;
    pub(crate) const HANDSHAKE: u8 = 22;
    pub(crate) const APPLICATION_DATA: u8 = 23;
}

pub(crate) mod handshake {
    pub(crate) const HELLO_REQUEST: u8 = 0;
    pub(crate) const CLIENT_HELLO: u8 = 1;
    pub(crate) const SERVER_HELLO: u8 = 2;
    pub(crate) const NEW_SESSION_TICKET: u8 = 4;
    pub(crate) const ENCRYPTED_EXTENSIONS: u8 = 8;
    pub(crate) const CERTIFICATE: u8 = 11;
    pub(crate) const SERVER_KEY_EXCHANGE: u8 = 12;
    pub(crate) const SERVER_HELLO_DONE: u8 = 14;
    pub(crate) const CLIENT_KEY_EXCHANGE: u8 = 16;
    pub(crate) const FINISHED: u8 = 20;
    pub(crate) const KEY_UPDATE: u8 = 24;
    /// Stands in for the first ClientHello in the transcript after a HelloRetryRequest.
    pub(crate) const MESSAGE_HASH: u8 = 254;
}

/// The renegotiation SCSV (RFC 5746) in a cipher suite list.
pub(crate) const EMPTY_RENEGOTIATION_INFO_SCSV: u16 = 0x00ff;

/// Reads big-endian fields off a byte slice; every read is bounds-checked.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    pub(crate) fn take(&mut self, n: usize) -> Decoded<&'a [u8]> {
        if self.bytes.len() < n {
            return Err(DecodeError("message truncated"));
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    pub(crate) fn u8(&mut self) -> Decoded<u8> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn u16(&mut self) -> Decoded<u16> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u24(&mut self) -> Decoded<usize> {
        let b = self.take(3)?;
        Ok(usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]))
    }

    /// A vector with a 1-, 2- or 3-byte length prefix.
    pub(crate) fn vec8(&mut self) -> Decoded<&'a [u8]> {
        let n = self.u8()?;
        self.take(n.into())
    }

    pub(crate) fn vec16(&mut self) -> Decoded<&'a [u8]> {
        let n = self.u16()?;
        self.take(n.into())
    }

    pub(crate) fn vec24(&mut self) -> Decoded<&'a [u8]> {
        let n = self.u24()?;
        self.take(n)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Demands that nothing is left.
    pub(crate) fn end(&self) -> Decoded<()> {
        match self.bytes.is_empty() {
            true => Ok(()),
            false => Err(DecodeError("trailing bytes")),
        }
    }
}

/// Appends big-endian fields; length prefixes are filled in when the vector is closed.
#[derive(Default)]
pub(crate) struct Writer {
    pub(crate) bytes: Vec<u8>,
}

impl Writer {
    pub(crate) fn u8(&mut self, v: u8) -> &mut Self {
        self.bytes.push(v);
        self
    }

    pub(crate) fn u16(&mut self, v: u16) -> &mut Self {
        self.bytes.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub(crate) fn raw(&mut self, v: &[u8]) -> &mut Self {
        self.bytes.extend_from_slice(v);
        self
    }

    /// A vector with a `prefix`-byte length (1, 2 or 3) around what `body` writes.
    pub(crate) fn vec(&mut self, prefix: usize, body: impl FnOnce(&mut Self)) -> &mut Self {
        let at = self.bytes.len();
        self.bytes.extend(std::iter::repeat_n(0, prefix));
        body(self);
        let len = self.bytes.len() - at - prefix;
        let be = (len as u32).to_be_bytes();
        self.bytes[at..at + prefix].copy_from_slice(&be[4 - prefix..]);
        self
    }
}

/// Frames a handshake message: type, 3-byte length, body.
pub(crate) fn handshake_message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + body.len());
    out.push(kind);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(body);
    out
}

/// An alert record's body: level, description.
pub(crate) fn decode_alert(body: &[u8]) -> Decoded<(u8, AlertDescription)> {
    match body {
        [level @ (1 | 2), description] => Ok((*level, AlertDescription::from_code(*description))),
        _ => Err(DecodeError("alert")),
    }
}
