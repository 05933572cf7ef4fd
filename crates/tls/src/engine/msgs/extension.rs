//! Hello extensions as typed values (RFC 5246 §7.4.1.4 and the RFCs each one comes from),
//! decoded once, strictly, before a state machine sees them.

use super::codec::{DecodeError, Decoded, Reader, Writer};

/// The extension types our engine knows.
pub(crate) mod kind {
    pub(crate) const SERVER_NAME: u16 = 0;
    pub(crate) const SUPPORTED_GROUPS: u16 = 10;
    pub(crate) const EC_POINT_FORMATS: u16 = 11;
    pub(crate) const SRP: u16 = 12;
    pub(crate) const SIGNATURE_ALGORITHMS: u16 = 13;
    pub(crate) const ALPN: u16 = 16;
    pub(crate) const ENCRYPT_THEN_MAC: u16 = 22;
    pub(crate) const EXTENDED_MASTER_SECRET: u16 = 23;
    pub(crate) const SESSION_TICKET: u16 = 35;
    pub(crate) const PRE_SHARED_KEY: u16 = 41;
    pub(crate) const EARLY_DATA: u16 = 42;
    pub(crate) const SUPPORTED_VERSIONS: u16 = 43;
    pub(crate) const COOKIE: u16 = 44;
    pub(crate) const PSK_KEY_EXCHANGE_MODES: u16 = 45;
    pub(crate) const KEY_SHARE: u16 = 51;
    pub(crate) const RENEGOTIATION_INFO: u16 = 0xff01;
}

/// Who sent the extensions being read: TLS 1.3 gives a few extensions a different body in a
/// ClientHello, a ServerHello and a HelloRetryRequest (RFC 8446 §4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sender {
    Client,
    Server,
    RetryRequest,
}

/// A key share: the group and the public value (RFC 8446 §4.2.8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct KeyShareEntry {
    pub(crate) group: u16,
    pub(crate) public: Vec<u8>,
}

/// A client's `pre_shared_key` (RFC 8446 §4.2.11): identities with their obfuscated ticket
/// ages, and one binder per identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PskOffer {
    pub(crate) identities: Vec<(Vec<u8>, u32)>,
    pub(crate) binders: Vec<Vec<u8>>,
}

impl PskOffer {
    /// The bytes the binders take at the end of the ClientHello (their list's length included):
    /// what is cut off to get the truncated hello they are computed over.
    pub(crate) fn binders_len(&self) -> usize {
        2 + self.binders.iter().map(|b| 1 + b.len()).sum::<usize>()
    }
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
    /// RFC 8446 §4.2.7: the groups a client can do key exchange with.
    SupportedGroups(Vec<u16>),
    /// RFC 8422 §5.1.2: the point formats a side parses (uncompressed, 0, is the one left).
    EcPointFormats(Vec<u8>),
    /// RFC 8446 §4.2.1: a client's versions.
    SupportedVersions(Vec<u16>),
    /// A server's chosen version.
    SelectedVersion(u16),
    /// RFC 8446 §4.2.8: a client's key shares.
    KeyShares(Vec<KeyShareEntry>),
    /// A server's key share.
    KeyShare(KeyShareEntry),
    /// A HelloRetryRequest's group: send a share for this one.
    KeyShareRetry(u16),
    /// RFC 8446 §4.2.9: `psk_ke` (0), `psk_dhe_ke` (1).
    PskModes(Vec<u8>),
    /// RFC 8446 §4.2.11: a client's PSK offer (always the last extension).
    PreSharedKey(PskOffer),
    /// The index of the identity a server accepted.
    SelectedPsk(u16),
    /// RFC 8446 §4.2.10: early data offered (ClientHello) or accepted (EncryptedExtensions).
    EarlyData,
    /// RFC 8446 §4.2.2: a HelloRetryRequest's cookie, echoed by the client.
    Cookie(Vec<u8>),
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
            Self::SupportedGroups(_) => kind::SUPPORTED_GROUPS,
            Self::EcPointFormats(_) => kind::EC_POINT_FORMATS,
            Self::SupportedVersions(_) | Self::SelectedVersion(_) => kind::SUPPORTED_VERSIONS,
            Self::KeyShares(_) | Self::KeyShare(_) | Self::KeyShareRetry(_) => kind::KEY_SHARE,
            Self::PskModes(_) => kind::PSK_KEY_EXCHANGE_MODES,
            Self::PreSharedKey(_) | Self::SelectedPsk(_) => kind::PRE_SHARED_KEY,
            Self::EarlyData => kind::EARLY_DATA,
            Self::Cookie(_) => kind::COOKIE,
            Self::Unknown(kind, _) => *kind,
        }
    }

    fn decode(kind: u16, body: &[u8], sender: Sender) -> Decoded<Self> {
        let mut r = Reader::new(body);
        let extension = match (kind, sender) {
            (kind::SUPPORTED_GROUPS, _) => Self::SupportedGroups(non_empty(u16_list(r.vec16()?)?)?),
            (kind::SUPPORTED_VERSIONS, Sender::Client) => {
                Self::SupportedVersions(non_empty(u16_list(r.vec8()?)?)?)
            }
            (kind::SUPPORTED_VERSIONS, _) => Self::SelectedVersion(r.u16()?),
            (kind::KEY_SHARE, Sender::Client) => {
                let mut list = Reader::new(r.vec16()?);
                let mut shares: Vec<KeyShareEntry> = Vec::new();
                while !list.is_empty() {
                    let share = key_share(&mut list)?;
                    if shares.iter().any(|s| s.group == share.group) {
                        return Err(DecodeError("two key shares for one group"));
                    }
                    shares.push(share);
                }
                Self::KeyShares(shares)
            }
            (kind::KEY_SHARE, Sender::Server) => Self::KeyShare(key_share(&mut r)?),
            (kind::KEY_SHARE, Sender::RetryRequest) => Self::KeyShareRetry(r.u16()?),
            (kind::PSK_KEY_EXCHANGE_MODES, _) => Self::PskModes(non_empty(r.vec8()?.to_vec())?),
            (kind::PRE_SHARED_KEY, Sender::Client) => {
                let mut list = Reader::new(r.vec16()?);
                let mut identities = Vec::new();
                while !list.is_empty() {
                    let identity = list.vec16()?;
                    if identity.is_empty() {
                        return Err(DecodeError("empty PSK identity"));
                    }
                    let age = list.take(4)?;
                    identities.push((
                        identity.to_vec(),
                        u32::from_be_bytes([age[0], age[1], age[2], age[3]]),
                    ));
                }
                let mut list = Reader::new(r.vec16()?);
                let mut binders = Vec::new();
                while !list.is_empty() {
                    let binder = list.vec8()?;
                    if binder.len() < 32 {
                        return Err(DecodeError("PSK binder shorter than 32 bytes"));
                    }
                    binders.push(binder.to_vec());
                }
                if identities.is_empty() || identities.len() != binders.len() {
                    return Err(DecodeError("pre_shared_key needs one binder per identity"));
                }
                Self::PreSharedKey(PskOffer {
                    identities,
                    binders,
                })
            }
            (kind::PRE_SHARED_KEY, _) => Self::SelectedPsk(r.u16()?),
            (kind::EARLY_DATA, _) => Self::EarlyData,
            (kind::COOKIE, _) => Self::Cookie(non_empty(r.vec16()?.to_vec())?),
            _ => Self::decode12(kind, body, &mut r)?,
        };
        r.end()?;
        Ok(extension)
    }

    /// The extensions TLS 1.2 knows (the same body whoever sends them).
    fn decode12(kind: u16, body: &[u8], r: &mut Reader<'_>) -> Decoded<Self> {
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
            kind::EC_POINT_FORMATS => Self::EcPointFormats(non_empty(r.vec8()?.to_vec())?),
            kind::ENCRYPT_THEN_MAC => Self::EncryptThenMac,
            kind::EXTENDED_MASTER_SECRET => Self::ExtendedMasterSecret,
            kind::RENEGOTIATION_INFO => Self::RenegotiationInfo(r.vec8()?.to_vec()),
            // The body is the ticket itself, opaque, without a length of its own.
            kind::SESSION_TICKET => {
                r.take(body.len())?;
                Self::SessionTicket(body.to_vec())
            }
            other => {
                r.take(body.len())?;
                Self::Unknown(other, body.to_vec())
            }
        };
        Ok(extension)
    }

    fn encode_body(&self, w: &mut Writer) {
        match self {
            Self::ServerName(None)
            | Self::EncryptThenMac
            | Self::ExtendedMasterSecret
            | Self::EarlyData => {}
            Self::SupportedGroups(values) => {
                w.vec(2, |w| {
                    for v in values {
                        w.u16(*v);
                    }
                });
            }
            Self::SupportedVersions(values) => {
                w.vec(1, |w| {
                    for v in values {
                        w.u16(*v);
                    }
                });
            }
            Self::SelectedVersion(v) | Self::KeyShareRetry(v) | Self::SelectedPsk(v) => {
                w.u16(*v);
            }
            Self::KeyShares(shares) => {
                w.vec(2, |w| {
                    for share in shares {
                        w.u16(share.group).vec(2, |w| {
                            w.raw(&share.public);
                        });
                    }
                });
            }
            Self::KeyShare(share) => {
                w.u16(share.group).vec(2, |w| {
                    w.raw(&share.public);
                });
            }
            Self::PskModes(modes) => {
                w.vec(1, |w| {
                    w.raw(modes);
                });
            }
            Self::PreSharedKey(offer) => {
                w.vec(2, |w| {
                    for (identity, age) in &offer.identities {
                        w.vec(2, |w| {
                            w.raw(identity);
                        })
                        .raw(&age.to_be_bytes());
                    }
                });
                w.vec(2, |w| {
                    for binder in &offer.binders {
                        w.vec(1, |w| {
                            w.raw(binder);
                        });
                    }
                });
            }
            Self::Cookie(cookie) => {
                w.vec(2, |w| {
                    w.raw(cookie);
                });
            }
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
            Self::EcPointFormats(formats) => {
                w.vec(1, |w| {
                    w.raw(formats);
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

fn key_share(r: &mut Reader<'_>) -> Decoded<KeyShareEntry> {
    let group = r.u16()?;
    let public = r.vec16()?;
    if public.is_empty() {
        return Err(DecodeError("empty key share"));
    }
    Ok(KeyShareEntry {
        group,
        public: public.to_vec(),
    })
}

fn non_empty<T>(list: Vec<T>) -> Decoded<Vec<T>> {
    match list.is_empty() {
        true => Err(DecodeError("empty list")),
        false => Ok(list),
    }
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
    /// Reads the optional extensions block at the end of a hello (or the whole body of an
    /// EncryptedExtensions, `Sender::Server`).
    pub(crate) fn read(r: &mut Reader<'_>, sender: Sender) -> Decoded<Self> {
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
            out.push(Extension::decode(kind, body, sender)?);
        }
        Ok(Self(out))
    }

    /// Writes the extensions block; none at all when empty (a hello may end without one).
    pub(crate) fn write(&self, w: &mut Writer) {
        if self.0.is_empty() {
            return;
        }
        self.write_block(w);
    }

    /// Writes the extensions with their length, even when empty (EncryptedExtensions).
    pub(crate) fn write_block(&self, w: &mut Writer) {
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

    pub(crate) fn supported_versions(&self) -> Option<&[u16]> {
        self.find(|e| match e {
            Extension::SupportedVersions(v) => Some(v.as_slice()),
            _ => None,
        })
    }

    pub(crate) fn selected_version(&self) -> Option<u16> {
        self.find(|e| match e {
            Extension::SelectedVersion(v) => Some(*v),
            _ => None,
        })
    }

    pub(crate) fn supported_groups(&self) -> Option<&[u16]> {
        self.find(|e| match e {
            Extension::SupportedGroups(v) => Some(v.as_slice()),
            _ => None,
        })
    }

    pub(crate) fn key_shares(&self) -> Option<&[KeyShareEntry]> {
        self.find(|e| match e {
            Extension::KeyShares(v) => Some(v.as_slice()),
            _ => None,
        })
    }

    pub(crate) fn key_share(&self) -> Option<&KeyShareEntry> {
        self.find(|e| match e {
            Extension::KeyShare(share) => Some(share),
            _ => None,
        })
    }

    pub(crate) fn key_share_retry(&self) -> Option<u16> {
        self.find(|e| match e {
            Extension::KeyShareRetry(group) => Some(*group),
            _ => None,
        })
    }

    pub(crate) fn psk_modes(&self) -> Option<&[u8]> {
        self.find(|e| match e {
            Extension::PskModes(v) => Some(v.as_slice()),
            _ => None,
        })
    }

    pub(crate) fn psk_offer(&self) -> Option<&PskOffer> {
        self.find(|e| match e {
            Extension::PreSharedKey(offer) => Some(offer),
            _ => None,
        })
    }

    pub(crate) fn selected_psk(&self) -> Option<u16> {
        self.find(|e| match e {
            Extension::SelectedPsk(index) => Some(*index),
            _ => None,
        })
    }

    pub(crate) fn cookie(&self) -> Option<&[u8]> {
        self.find(|e| match e {
            Extension::Cookie(v) => Some(v.as_slice()),
            _ => None,
        })
    }

    pub(crate) fn has(&self, wanted: &Extension) -> bool {
        self.0.contains(wanted)
    }

    /// Whether an extension of this type is present, whatever its body.
    pub(crate) fn has_kind(&self, wanted: u16) -> bool {
        self.0.iter().any(|e| e.kind() == wanted)
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
        let round_trip = |extensions: &Extensions, sender: Sender| {
            let mut w = Writer::default();
            extensions.write(&mut w);
            assert_eq!(
                &Extensions::read(&mut Reader::new(&w.bytes), sender).unwrap(),
                extensions
            );
        };
        round_trip(&ticket, Sender::Client);
        round_trip(&all, Sender::Client);
        round_trip(
            &Extensions(vec![Extension::ServerName(None)]),
            Sender::Server,
        );
        let share = KeyShareEntry {
            group: 29,
            public: vec![9; 32],
        };
        let client13 = Extensions(vec![
            Extension::SupportedGroups(vec![29, 23]),
            Extension::SupportedVersions(vec![0x0304]),
            Extension::KeyShares(vec![share.clone()]),
            Extension::PskModes(vec![1]),
            Extension::EarlyData,
            Extension::Cookie(vec![1, 2]),
            Extension::PreSharedKey(PskOffer {
                identities: vec![(b"id".to_vec(), 0)],
                binders: vec![vec![7; 32]],
            }),
        ]);
        round_trip(&client13, Sender::Client);
        let server13 = Extensions(vec![
            Extension::SelectedVersion(0x0304),
            Extension::KeyShare(share),
            Extension::SelectedPsk(0),
        ]);
        round_trip(&server13, Sender::Server);
        let retry = Extensions(vec![
            Extension::SelectedVersion(0x0304),
            Extension::KeyShareRetry(23),
        ]);
        round_trip(&retry, Sender::RetryRequest);
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
            (kind::SUPPORTED_VERSIONS, vec![0]),
            (kind::KEY_SHARE, vec![0, 4, 0, 29, 0, 0]),
            (kind::KEY_SHARE, vec![0, 10, 0, 29, 0, 1, 1, 0, 29, 0, 1, 2]),
            (kind::PSK_KEY_EXCHANGE_MODES, vec![0]),
            // An identity of 0 bytes; then one identity with no binder.
            (kind::PRE_SHARED_KEY, vec![0, 6, 0, 0, 0, 0, 0, 0, 0, 0]),
            (
                kind::PRE_SHARED_KEY,
                vec![0, 7, 0, 1, b'a', 0, 0, 0, 0, 0, 0],
            ),
            (kind::EARLY_DATA, vec![0]),
        ] {
            assert!(
                Extension::decode(kind, &body, Sender::Client).is_err(),
                "{kind} {body:?}"
            );
        }
    }
}
