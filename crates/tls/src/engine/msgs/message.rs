//! The TLS 1.2 handshake messages our engine speaks (RFC 5246, 5054, 5077), decoded into typed
//! values before any state machine looks at them.

use super::codec::{DecodeError, Decoded, Reader, Writer};
use super::extension::{Extensions, Sender};

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ClientHello {
    pub(crate) version: u16,
    pub(crate) random: [u8; 32],
    pub(crate) session_id: Vec<u8>,
    pub(crate) suites: Vec<u16>,
    pub(crate) extensions: Extensions,
}

impl ClientHello {
    pub(crate) fn decode(body: &[u8]) -> Decoded<Self> {
        let mut r = Reader::new(body);
        let version = r.u16()?;
        let random = r.take(32)?.try_into().map_err(|_| DecodeError("random"))?;
        let session_id = r.vec8()?;
        if session_id.len() > 32 {
            return Err(DecodeError("session id longer than 32 bytes"));
        }
        let suite_bytes = r.vec16()?;
        if suite_bytes.len() % 2 != 0 || suite_bytes.is_empty() {
            return Err(DecodeError("cipher suite list"));
        }
        let suites = suite_bytes
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        let compression = r.vec8()?;
        if !compression.contains(&0) {
            return Err(DecodeError("null compression not offered"));
        }
        let extensions = Extensions::read(&mut r, Sender::Client)?;
        r.end()?;
        Ok(Self {
            version,
            random,
            session_id: session_id.to_vec(),
            suites,
            extensions,
        })
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.u16(self.version).raw(&self.random);
        w.vec(1, |w| {
            w.raw(&self.session_id);
        });
        w.vec(2, |w| {
            for s in &self.suites {
                w.u16(*s);
            }
        });
        w.vec(1, |w| {
            w.u8(0);
        });
        self.extensions.write(&mut w);
        w.bytes
    }
}

/// The random of a ServerHello that is a HelloRetryRequest (RFC 8446 §4.1.3: SHA-256 of
/// "HelloRetryRequest").
pub(crate) const HELLO_RETRY_REQUEST: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ServerHello {
    pub(crate) version: u16,
    pub(crate) random: [u8; 32],
    pub(crate) session_id: Vec<u8>,
    pub(crate) suite: u16,
    pub(crate) extensions: Extensions,
}

impl ServerHello {
    /// Whether this is a HelloRetryRequest.
    pub(crate) fn is_retry_request(&self) -> bool {
        self.random == HELLO_RETRY_REQUEST
    }

    pub(crate) fn decode(body: &[u8]) -> Decoded<Self> {
        let mut r = Reader::new(body);
        let version = r.u16()?;
        let random = r.take(32)?.try_into().map_err(|_| DecodeError("random"))?;
        let session_id = r.vec8()?.to_vec();
        if session_id.len() > 32 {
            return Err(DecodeError("session id longer than 32 bytes"));
        }
        let suite = r.u16()?;
        if r.u8()? != 0 {
            return Err(DecodeError("compression must be null"));
        }
        let sender = match random == HELLO_RETRY_REQUEST {
            true => Sender::RetryRequest,
            false => Sender::Server,
        };
        let extensions = Extensions::read(&mut r, sender)?;
        r.end()?;
        Ok(Self {
            version,
            random,
            session_id,
            suite,
            extensions,
        })
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.u16(self.version).raw(&self.random);
        w.vec(1, |w| {
            w.raw(&self.session_id);
        });
        w.u16(self.suite).u8(0);
        self.extensions.write(&mut w);
        w.bytes
    }
}

/// TLS 1.3's NewSessionTicket (RFC 8446 §4.6.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NewSessionTicket13 {
    pub(crate) lifetime: u32,
    pub(crate) age_add: u32,
    pub(crate) nonce: Vec<u8>,
    pub(crate) ticket: Vec<u8>,
    pub(crate) extensions: Extensions,
}

impl NewSessionTicket13 {
    pub(crate) fn decode(body: &[u8]) -> Decoded<Self> {
        let mut r = Reader::new(body);
        let lifetime = r.take(4)?;
        let age_add = r.take(4)?;
        let nonce = r.vec8()?.to_vec();
        let ticket = r.vec16()?.to_vec();
        if ticket.is_empty() {
            return Err(DecodeError("empty ticket"));
        }
        let extensions = Extensions::read(&mut r, Sender::Server)?;
        r.end()?;
        Ok(Self {
            lifetime: u32::from_be_bytes([lifetime[0], lifetime[1], lifetime[2], lifetime[3]]),
            age_add: u32::from_be_bytes([age_add[0], age_add[1], age_add[2], age_add[3]]),
            nonce,
            ticket,
            extensions,
        })
    }
}

/// NewSessionTicket (RFC 5077 §3.3): how long the ticket may be kept, and the ticket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NewSessionTicket {
    pub(crate) lifetime_hint: u32,
    pub(crate) ticket: Vec<u8>,
}

impl NewSessionTicket {
    pub(crate) fn decode(body: &[u8]) -> Decoded<Self> {
        let mut r = Reader::new(body);
        let hint = r.take(4)?;
        let lifetime_hint = u32::from_be_bytes([hint[0], hint[1], hint[2], hint[3]]);
        let ticket = r.vec16()?.to_vec();
        r.end()?;
        Ok(Self {
            lifetime_hint,
            ticket,
        })
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.raw(&self.lifetime_hint.to_be_bytes()).vec(2, |w| {
            w.raw(&self.ticket);
        });
        w.bytes
    }
}

/// ServerKeyExchange for the SRP suites: `N`, `g`, `s`, `B`, and for SRP-RSA a signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct KeyExchangeParams {
    pub(crate) n: Vec<u8>,
    pub(crate) g: Vec<u8>,
    pub(crate) salt: Vec<u8>,
    pub(crate) b: Vec<u8>,
}

impl KeyExchangeParams {
    /// Decodes the params; returns them, their encoding (what a signature covers) and the rest.
    pub(crate) fn decode(body: &[u8]) -> Decoded<(Self, &[u8], &[u8])> {
        let mut r = Reader::new(body);
        let n = r.vec16()?.to_vec();
        let g = r.vec16()?.to_vec();
        let salt = r.vec8()?.to_vec();
        let b = r.vec16()?.to_vec();
        if n.is_empty() || g.is_empty() || b.is_empty() {
            return Err(DecodeError("empty SRP parameter"));
        }
        let params_len = 2 + n.len() + 2 + g.len() + 1 + salt.len() + 2 + b.len();
        let rest = &body[params_len..];
        Ok((Self { n, g, salt, b }, &body[..params_len], rest))
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.vec(2, |w| {
            w.raw(&self.n);
        })
        .vec(2, |w| {
            w.raw(&self.g);
        })
        .vec(1, |w| {
            w.raw(&self.salt);
        })
        .vec(2, |w| {
            w.raw(&self.b);
        });
        w.bytes
    }
}

/// A signature as TLS 1.2 sends it: scheme, then the signature bytes.
pub(crate) fn decode_signature(rest: &[u8]) -> Decoded<(u16, Vec<u8>)> {
    let mut r = Reader::new(rest);
    let scheme = r.u16()?;
    let sig = r.vec16()?.to_vec();
    r.end()?;
    Ok((scheme, sig))
}

/// ClientKeyExchange for SRP: `A`.
pub(crate) fn decode_client_key_exchange(body: &[u8]) -> Decoded<Vec<u8>> {
    let mut r = Reader::new(body);
    let a = r.vec16()?.to_vec();
    r.end()?;
    if a.is_empty() {
        return Err(DecodeError("empty A"));
    }
    Ok(a)
}

/// A Certificate message: the chain, leaf first.
pub(crate) fn decode_certificate(body: &[u8]) -> Decoded<Vec<Vec<u8>>> {
    let mut r = Reader::new(body);
    let mut list = Reader::new(r.vec24()?);
    r.end()?;
    let mut chain = Vec::new();
    while !list.is_empty() {
        chain.push(list.vec24()?.to_vec());
    }
    Ok(chain)
}

pub(crate) fn encode_certificate(chain: &[Vec<u8>]) -> Vec<u8> {
    let mut w = Writer::default();
    w.vec(3, |w| {
        for cert in chain {
            w.vec(3, |w| {
                w.raw(cert);
            });
        }
    });
    w.bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::msgs::{decode_alert, Extension, EMPTY_RENEGOTIATION_INFO_SCSV, TLS12};

    #[test]
    fn new_session_tickets_round_trip_and_refuse_junk() {
        let message = NewSessionTicket {
            lifetime_hint: 21_600,
            ticket: vec![9; 200],
        };
        assert_eq!(
            NewSessionTicket::decode(&message.encode()).unwrap(),
            message
        );
        let bytes = message.encode();
        assert!(NewSessionTicket::decode(&bytes[..bytes.len() - 1]).is_err());
        assert!(NewSessionTicket::decode(&[bytes.as_slice(), &[0]].concat()).is_err());
        assert!(NewSessionTicket::decode(&[0, 0, 1]).is_err());
    }

    #[test]
    fn hellos_round_trip() {
        let hello = ClientHello {
            version: TLS12,
            random: [7; 32],
            session_id: vec![1, 2, 3],
            suites: vec![0xc01d, 0xc020, EMPTY_RENEGOTIATION_INFO_SCSV],
            extensions: vec![Extension::Srp("alice".into()), Extension::EncryptThenMac].into(),
        };
        assert_eq!(ClientHello::decode(&hello.encode()).unwrap(), hello);
        let server = ServerHello {
            version: TLS12,
            random: [9; 32],
            session_id: vec![4; 32],
            suite: 0xc01d,
            extensions: Extensions::default(),
        };
        assert_eq!(ServerHello::decode(&server.encode()).unwrap(), server);
    }

    #[test]
    fn every_truncation_of_a_message_is_a_decode_error() {
        let hello = ClientHello {
            version: TLS12,
            random: [7; 32],
            session_id: vec![],
            suites: vec![0xc01d],
            extensions: vec![Extension::Srp("a".into())].into(),
        }
        .encode();
        // Without its extensions block a ClientHello is still whole (RFC 5246 §7.4.1.2).
        let without_extensions = hello.len() - 8;
        for cut in (0..hello.len()).filter(|c| *c != without_extensions) {
            assert!(ClientHello::decode(&hello[..cut]).is_err(), "cut at {cut}");
        }
        let params = KeyExchangeParams {
            n: vec![0xff; 4],
            g: vec![2],
            salt: vec![1; 16],
            b: vec![3; 4],
        }
        .encode();
        for cut in 0..params.len() {
            assert!(
                KeyExchangeParams::decode(&params[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        assert!(decode_certificate(&[0, 0, 5, 0, 0, 9]).is_err());
        assert!(decode_alert(&[3, 0]).is_err());
    }
}

/// `named_curve` (RFC 8422 §5.4): the only ECParameters form still in use.
const NAMED_CURVE: u8 = 3;

/// ServerKeyExchange for the PSK suites (RFC 4279 §2, RFC 5489 §2): the identity hint, and for
/// ECDHE_PSK the named curve and the server's point. Nothing is signed: the key proves both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PskServerKeyExchange {
    pub(crate) hint: Vec<u8>,
    pub(crate) ecdh: Option<(u16, Vec<u8>)>,
}

impl PskServerKeyExchange {
    /// `ecdh`: the suite is ECDHE_PSK, so a curve and point follow the hint.
    pub(crate) fn decode(body: &[u8], ecdh: bool) -> Decoded<Self> {
        let mut r = Reader::new(body);
        let hint = r.vec16()?.to_vec();
        let ecdh = match ecdh {
            true => {
                if r.u8()? != NAMED_CURVE {
                    return Err(DecodeError("ECDHE parameters that are not a named curve"));
                }
                let group = r.u16()?;
                let point = r.vec8()?.to_vec();
                if point.is_empty() {
                    return Err(DecodeError("an empty ECDHE point"));
                }
                Some((group, point))
            }
            false => None,
        };
        r.end()?;
        Ok(Self { hint, ecdh })
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.vec(2, |w| {
            w.raw(&self.hint);
        });
        if let Some((group, point)) = &self.ecdh {
            w.u8(NAMED_CURVE).u16(*group).vec(1, |w| {
                w.raw(point);
            });
        }
        w.bytes
    }
}

/// ClientKeyExchange for the PSK suites: the identity, and for ECDHE_PSK the client's point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PskClientKeyExchange {
    pub(crate) identity: Vec<u8>,
    pub(crate) point: Option<Vec<u8>>,
}

impl PskClientKeyExchange {
    /// `ecdh`: the suite is ECDHE_PSK, so a point follows the identity.
    pub(crate) fn decode(body: &[u8], ecdh: bool) -> Decoded<Self> {
        let mut r = Reader::new(body);
        let identity = r.vec16()?.to_vec();
        if identity.is_empty() {
            return Err(DecodeError("an empty PSK identity"));
        }
        let point = match ecdh {
            true => Some(r.vec8()?.to_vec()).filter(|p| !p.is_empty()),
            false => None,
        };
        if ecdh && point.is_none() {
            return Err(DecodeError("an empty ECDHE point"));
        }
        r.end()?;
        Ok(Self { identity, point })
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.vec(2, |w| {
            w.raw(&self.identity);
        });
        if let Some(point) = &self.point {
            w.vec(1, |w| {
                w.raw(point);
            });
        }
        w.bytes
    }
}
