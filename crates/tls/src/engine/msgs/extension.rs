//! Hello extensions as typed values (RFC 5246 §7.4.1.4 and the RFCs each one comes from),
//! decoded once, strictly, before a state machine sees them.

use super::codec::{DecodeError, Decoded, Reader, Writer};

/// The extension types our engine knows.
pub(crate) mod kind {
    pub(crate) const SERVER_NAME: u16 = 0;
    pub(crate) const SRP: u16 = 12;
    pub(crate) const SIGNATURE_ALGORITHMS: u16 = 13;
    pub(crate) const ALPN: u16 = 16;
    pub(crate) const ENCRYPT_THEN_MAC: u16 = 22;
    pub(crate) const EXTENDED_MASTER_SECRET: u16 = 23;
    pub(crate) const SESSION_TICKET: u16 = 35;
    pub(crate) const RENEGOTIATION_INFO: u16 = 0xff01;
}

/// One extension of a ClientHello or ServerHello.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Extension {
    /// RFC 6066: the host name a client asks for; `None` is a server's empty acknowledgement.
    ServerName(Option<String>),
    /// RFC 5054: the SRP username.
    Srp(String),
    /// RFC 5246: the signature schemes a client accepts.
    SignatureAlgorithms(Vec<u16>),
    /// RFC 7301: the protocols a client offers, or the one a server chose.
    Alpn(Vec<Vec<u8>>),
    /// RFC 7366.
    EncryptThenMac,
    /// RFC 7627.
    ExtendedMasterSecret,
    /// RFC 5077: a client's ticket (empty: it would like one), or a server's empty promise to
    /// send one.
    SessionTicket(Vec<u8>),
    /// RFC 5746: the previous Finished messages; empty on a first handshake.
    RenegotiationInfo(Vec<u8>),
    /// Anything else, kept so that it can be refused by type.
    Unknown(u16, Vec<u8>),
}

impl Extension {
    /// Its type on the wire.
    pub(crate) fn kind(&self) -> u16 {
        match self {
            Self::ServerName(_) => kind::SERVER_NAME,
            Self::Srp(_) => kind::SRP,
            Self::SignatureAlgorithms(_) => kind::SIGNATURE_ALGORITHMS,
            Self::Alpn(_) => kind::ALPN,
            Self::EncryptThenMac => kind::ENCRYPT_THEN_MAC,
            Self::ExtendedMasterSecret => kind::EXTENDED_MASTER_SECRET,
            Self::SessionTicket(_) => kind::SESSION_TICKET,
            Self::RenegotiationInfo(_) => kind::RENEGOTIATION_INFO,
            Self::Unknown(kind, _) => *kind,
        }
    }

    fn decode(kind: u16, body: &[u8]) -> Decoded<Self> {
        let mut r = Reader::new(body);
        let extension = match kind {
            kind::SERVER_NAME if body.is_empty() => Self::ServerName(None),
            kind::SERVER_NAME => Self::ServerName(Some(host_name(r.vec16()?)?)),
            kind::SRP => {
                let name = r.vec8()?;
                let name = String::from_utf8(name.to_vec())
                    .map_err(|_| DecodeError("SRP username is not UTF-8"))?;
                Self::Srp(name)
            }
            kind::SIGNATURE_ALGORITHMS => Self::SignatureAlgorithms(u16_list(r.vec16()?)?),
            kind::ALPN => {
                let mut list = Reader::new(r.vec16()?);
                let mut protocols = Vec::new();
                while !list.is_empty() {
                    let name = list.vec8()?;
                    if name.is_empty() {
                        return Err(DecodeError("empty ALPN protocol name"));
                    }
                    protocols.push(name.to_vec());
                }
                if protocols.is_empty() {
                    return Err(DecodeError("empty ALPN list"));
                }
                Self::Alpn(protocols)
            }
            kind::ENCRYPT_THEN_MAC => Self::EncryptThenMac,
            kind::EXTENDED_MASTER_SECRET => Self::ExtendedMasterSecret,
            kind::RENEGOTIATION_INFO => Self::RenegotiationInfo(r.vec8()?.to_vec()),
            // The body is the ticket itself, opaque, without a length of its own.
            kind::SESSION_TICKET => return Ok(Self::SessionTicket(body.to_vec())),
            other => return Ok(Self::Unknown(other, body.to_vec())),
        };
        r.end()?;
        Ok(extension)
    }

    fn encode_body(&self, w: &mut Writer) {
        match self {
            Self::ServerName(None) | Self::EncryptThenMac | Self::ExtendedMasterSecret => {}
            Self::ServerName(Some(name)) => {
                w.vec(2, |w| {
                    w.u8(0).vec(2, |w| {
                        w.raw(name.as_bytes());
                    });
                });
            }
            Self::Srp(name) => {
                w.vec(1, |w| {
                    w.raw(name.as_bytes());
                });
            }
            Self::SignatureAlgorithms(schemes) => {
                w.vec(2, |w| {
                    for scheme in schemes {
                        w.u16(*scheme);
                    }
                });
            }
            Self::Alpn(protocols) => {
                w.vec(2, |w| {
                    for protocol in protocols {
                        w.vec(1, |w| {
                            w.raw(protocol);
                        });
                    }
                });
            }
            Self::RenegotiationInfo(finished) => {
                w.vec(1, |w| {
                    w.raw(finished);
                });
            }
            Self::Unknown(_, body) | Self::SessionTicket(body) => {
                w.raw(body);
            }
        }
    }
}

/// The first `host_name` entry of a server_name list (RFC 6066 §3): ASCII, not empty.
fn host_name(list: &[u8]) -> Decoded<String> {
    let mut list = Reader::new(list);
    let mut found = None;
    while !list.is_empty() {
        let name_type = list.u8()?;
        let name = list.vec16()?;
        if name_type == 0 && found.is_none() {
            if name.is_empty() || !name.is_ascii() {
                return Err(DecodeError("server name"));
            }
            found = Some(String::from_utf8_lossy(name).into_owned());
        }
    }
    found.ok_or(DecodeError("no host name in server_name"))
}

fn u16_list(bytes: &[u8]) -> Decoded<Vec<u16>> {
    if !bytes.len().is_multiple_of(2) {
        return Err(DecodeError("odd-length list of 16-bit values"));
    }
    Ok(bytes
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect())
}

/// A hello's extensions, in the order received; no type twice.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Extensions(pub(crate) Vec<Extension>);

impl Extensions {
    /// Reads the optional extensions block at the end of a hello.
    pub(crate) fn read(r: &mut Reader<'_>) -> Decoded<Self> {
        let mut out = Vec::new();
        if r.is_empty() {
            return Ok(Self(out));
        }
        let mut list = Reader::new(r.vec16()?);
        // One bit per extension type: duplicates are found in linear time however many arrive.
        let mut seen = vec![0u64; 1 << 10];
        while !list.is_empty() {
            let kind = list.u16()?;
            let body = list.vec16()?;
            let (word, bit) = (usize::from(kind >> 6), 1u64 << (kind & 63));
            if seen[word] & bit != 0 {
                return Err(DecodeError("duplicate extension"));
            }
            seen[word] |= bit;
            out.push(Extension::decode(kind, body)?);
        }
        Ok(Self(out))
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        if self.0.is_empty() {
            return;
        }
        w.vec(2, |w| {
            for extension in &self.0 {
                w.u16(extension.kind()).vec(2, |w| extension.encode_body(w));
            }
        });
    }

    pub(crate) fn push(&mut self, extension: Extension) {
        self.0.push(extension);
    }

    pub(crate) fn iter(&self) -> std::slice::Iter<'_, Extension> {
        self.0.iter()
    }

    /// The first extension `pick` accepts.
    fn find<'a, T>(&'a self, pick: impl Fn(&'a Extension) -> Option<T>) -> Option<T> {
        self.0.iter().find_map(pick)
    }

    pub(crate) fn srp_username(&self) -> Option<&str> {
        self.find(|e| match e {
            Extension::Srp(name) => Some(name.as_str()),
            _ => None,
        })
    }

    pub(crate) fn server_name(&self) -> Option<&str> {
        self.find(|e| match e {
            Extension::ServerName(Some(name)) => Some(name.as_str()),
            _ => None,
        })
    }

    pub(crate) fn signature_algorithms(&self) -> Option<&[u16]> {
        self.find(|e| match e {
            Extension::SignatureAlgorithms(schemes) => Some(schemes.as_slice()),
            _ => None,
        })
    }

    pub(crate) fn alpn(&self) -> Option<&[Vec<u8>]> {
        self.find(|e| match e {
            Extension::Alpn(protocols) => Some(protocols.as_slice()),
            _ => None,
        })
    }

    pub(crate) fn renegotiation_info(&self) -> Option<&[u8]> {
        self.find(|e| match e {
            Extension::RenegotiationInfo(finished) => Some(finished.as_slice()),
            _ => None,
        })
    }

    pub(crate) fn session_ticket(&self) -> Option<&[u8]> {
        self.find(|e| match e {
            Extension::SessionTicket(ticket) => Some(ticket.as_slice()),
            _ => None,
        })
    }

    pub(crate) fn has(&self, wanted: &Extension) -> bool {
        self.0.contains(wanted)
    }
}

impl From<Vec<Extension>> for Extensions {
    fn from(list: Vec<Extension>) -> Self {
        Self(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_extension_round_trips_and_bad_bodies_are_decode_errors() {
        let all = Extensions(vec![
            Extension::ServerName(Some("example.org".into())),
            Extension::Srp("alice".into()),
            Extension::SignatureAlgorithms(vec![0x0401, 0x0804]),
            Extension::Alpn(vec![b"h2".to_vec(), b"http/1.1".to_vec()]),
            Extension::EncryptThenMac,
            Extension::ExtendedMasterSecret,
            Extension::RenegotiationInfo(vec![]),
            Extension::SessionTicket(vec![]),
            Extension::Unknown(0x1234, vec![1, 2, 3]),
        ]);
        let ticket = Extensions(vec![Extension::SessionTicket(vec![7; 300])]);
        let mut w = Writer::default();
        ticket.write(&mut w);
        assert_eq!(
            Extensions::read(&mut Reader::new(&w.bytes)).unwrap(),
            ticket
        );
        let mut w = Writer::default();
        all.write(&mut w);
        assert_eq!(Extensions::read(&mut Reader::new(&w.bytes)).unwrap(), all);
        let ack = Extensions(vec![Extension::ServerName(None)]);
        let mut w = Writer::default();
        ack.write(&mut w);
        assert_eq!(Extensions::read(&mut Reader::new(&w.bytes)).unwrap(), ack);
        for (kind, body) in [
            (kind::ENCRYPT_THEN_MAC, vec![0]),
            (kind::EXTENDED_MASTER_SECRET, vec![1, 2]),
            (kind::RENEGOTIATION_INFO, vec![]),
            (kind::RENEGOTIATION_INFO, vec![2, 0]),
            (kind::ALPN, vec![0, 0]),
            (kind::ALPN, vec![0, 1, 0]),
            (kind::SRP, vec![2, b'a']),
            (kind::SRP, vec![1, 0xff]),
            (kind::SIGNATURE_ALGORITHMS, vec![0, 1, 4]),
            (kind::SERVER_NAME, vec![0, 3, 1, 0, 0]),
            (kind::SERVER_NAME, vec![0, 4, 0, 0, 1, 0xe9]),
        ] {
            assert!(Extension::decode(kind, &body).is_err(), "{kind} {body:?}");
        }
    }
}
