//! The client's TLS 1.3 handshake with an external PSK (RFC 8446 §2.2, §4.1–4.4): ClientHello
//! with key share and binders, HelloRetryRequest, ServerHello, EncryptedExtensions, Finished.

use std::sync::Arc;

use subtle::ConstantTimeEq;

use crate::engine::client::{ClientHandshake, ClientParams};
use crate::engine::kx::ecdhe::{KeyShare, GROUPS};
use crate::engine::kx::psk::{fill_binders, OfferedKey, PskClient, PSK_DHE_KE, PSK_KE};
use crate::engine::msgs::message::NewSessionTicket13;
use crate::engine::msgs::PskOffer;
use crate::engine::msgs::Sender;
use crate::engine::msgs::{
    handshake, handshake_message, ClientHello, Extension, Extensions, KeyShareEntry, ServerHello,
    EMPTY_RENEGOTIATION_INFO_SCSV, TLS12, TLS13,
};
use crate::engine::tls13::key_schedule::{finished_value, resumption_psk};
use crate::engine::tls13::record::RecordKeys;
use crate::engine::tls13::{
    psk_session, Handshake13, KeySchedule, Records13, Secret, Tls13Suite, Transcript,
};
use crate::engine::{fail, Failure};
use crate::resumption::{ClientTicket, ClientTickets};
use crate::{AlertDescription, Session};

/// ECDSA P-256/P-384, RSA-PSS, Ed25519 and RSA PKCS#1 with SHA-256 (RFC 8446 §4.2.3).
const SIGNATURE_SCHEMES: [u16; 6] = [0x0403, 0x0503, 0x0804, 0x0805, 0x0807, 0x0401];

/// What a TLS 1.3 PSK client is configured with (shared by its connections).
pub(crate) struct Client13Params {
    pub(crate) kx: PskClient,
    /// The suites allowed, in order of preference (those of the keys' hashes).
    pub(crate) suites: Vec<Tls13Suite>,
    pub(crate) alpn: Vec<Vec<u8>>,
    pub(crate) sni: bool,
    /// Tickets by host, for resumption (none kept with resumption off).
    pub(crate) tickets: ClientTickets,
    /// Offer `psk_ke` alone: no key share, no forward secrecy.
    pub(crate) without_dhe: bool,
    /// The TLS 1.2 PSK suites offered in the same hello, and how that handshake goes on if
    /// the server chooses TLS 1.2.
    pub(crate) tls12: Option<Arc<ClientParams>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    ServerHello,
    EncryptedExtensions,
    Finished,
    Done,
}

/// A client's TLS 1.3 external-PSK handshake.
pub(crate) struct ClientHandshake13 {
    params: Arc<Client13Params>,
    host: Option<String>,
    /// Where this server's tickets are kept: the host as given (an address too).
    ticket_host: String,
    state: State,
    transcript: Transcript,
    /// The first ClientHello, kept to send again after a HelloRetryRequest.
    hello: ClientHello,
    share: Option<KeyShare>,
    retried: bool,
    suite: Option<Tls13Suite>,
    schedule: Option<KeySchedule>,
    client_secret: Option<Secret>,
    server_secret: Option<Secret>,
    identity: Option<Vec<u8>>,
    alpn: Option<Vec<u8>>,
    /// What was offered, made once (a HelloRetryRequest sends it again with new binders).
    offer: Option<(PskOffer, Vec<OfferedKey>)>,
    resumed: bool,
    resumption_master: Option<Secret>,
    /// The first ClientHello as sent, for a TLS 1.2 handshake that goes on from it.
    first_hello: Vec<u8>,
}

impl ClientHandshake13 {
    pub(crate) fn new(params: Arc<Client13Params>, host: &str) -> Self {
        let host = crate::host::bare_host(host);
        // SNI carries DNS names only, never addresses (RFC 6066 §3).
        let dns = host.parse::<std::net::IpAddr>().is_err() && params.sni;
        Self {
            host: dns.then(|| host.to_owned()),
            ticket_host: host.to_owned(),
            params,
            state: State::ServerHello,
            transcript: Transcript::default(),
            hello: ClientHello {
                version: TLS12,
                random: [0; 32],
                session_id: Vec::new(),
                suites: Vec::new(),
                extensions: Extensions::default(),
            },
            share: None,
            retried: false,
            suite: None,
            schedule: None,
            client_secret: None,
            server_secret: None,
            identity: None,
            alpn: None,
            offer: None,
            resumed: false,
            resumption_master: None,
            first_hello: Vec::new(),
        }
    }

    /// The first ClientHello (whole message) and its random.
    pub(crate) fn first_hello(&self) -> (&[u8], [u8; 32]) {
        (&self.first_hello, self.hello.random)
    }

    /// Builds and sends a ClientHello with a key share on `group` (and the cookie of a
    /// HelloRetryRequest), its binders computed over what precedes it.
    fn send_hello(
        &mut self,
        records: &mut Records13,
        group: u16,
        cookie: Option<Vec<u8>>,
    ) -> Result<(), Failure> {
        let share = match self.params.without_dhe {
            true => None,
            false => Some(KeyShare::new(group)?),
        };
        let mut extensions = Vec::new();
        if let Some(host) = &self.host {
            extensions.push(Extension::ServerName(Some(host.clone())));
        }
        extensions.push(Extension::SupportedVersions(match &self.params.tls12 {
            Some(_) => vec![TLS13, TLS12],
            None => vec![TLS13],
        }));
        // Never used by a PSK handshake, but a server that knows none of our identities goes
        // on towards a certificate (RFC 8446 §4.2.11) and needs them to get that far: its
        // ServerHello then says plainly that no key was taken, rather than an alert for a
        // missing extension.
        extensions.push(Extension::SignatureAlgorithms(SIGNATURE_SCHEMES.to_vec()));
        if let Some(share) = &share {
            extensions.push(Extension::SupportedGroups(GROUPS.to_vec()));
            extensions.push(Extension::KeyShares(vec![KeyShareEntry {
                group,
                public: share.public.clone(),
            }]));
        }
        if !self.params.alpn.is_empty() {
            extensions.push(Extension::Alpn(self.params.alpn.clone()));
        }
        if let Some(cookie) = cookie {
            extensions.push(Extension::Cookie(cookie));
        }
        if let Some(tls12) = &self.params.tls12 {
            for extension in ClientHandshake::psk_extensions(&tls12.suites) {
                if !extensions.iter().any(|e| e.kind() == extension.kind()) {
                    extensions.push(extension);
                }
            }
        }
        extensions.push(Extension::PskModes(vec![match self.params.without_dhe {
            true => PSK_KE,
            false => PSK_DHE_KE,
        }]));
        if self.offer.is_none() {
            let ticket = self.params.tickets.take(&self.ticket_host);
            self.offer = Some(self.params.kx.offer(ticket.as_ref()));
        }
        let Some((offer, keys)) = &self.offer else {
            return fail(AlertDescription::InternalError, "no PSK offer");
        };
        extensions.push(Extension::PreSharedKey(offer.clone()));
        if self.hello.random == [0; 32] {
            records.common.random(&mut self.hello.random)?;
        }
        self.hello.suites = self.params.suites.iter().map(|s| s.id).collect();
        if let Some(tls12) = &self.params.tls12 {
            self.hello.suites.extend(tls12.suites.iter().map(|s| s.id));
            self.hello.suites.push(EMPTY_RENEGOTIATION_INFO_SCSV);
        }
        self.hello.extensions = Extensions::from(extensions);
        let mut message = handshake_message(handshake::CLIENT_HELLO, &self.hello.encode());
        fill_binders(&mut message, &self.transcript, offer, keys);
        self.transcript.add(&message);
        if self.first_hello.is_empty() && self.params.tls12.is_some() {
            self.first_hello = message.clone();
        }
        records.send(crate::engine::msgs::content::HANDSHAKE, &message);
        self.share = share;
        Ok(())
    }

    fn server_hello(
        &mut self,
        records: &mut Records13,
        body: &[u8],
        raw: &[u8],
    ) -> Result<(), Failure> {
        let hello = ServerHello::decode(body)?;
        let illegal = |why: &str| fail(AlertDescription::IllegalParameter, why);
        match hello.extensions.selected_version() {
            Some(TLS13) => {}
            Some(_) => return illegal("the server chose a version we did not offer"),
            None => {
                return fail(
                    AlertDescription::ProtocolVersion,
                    "the server does not speak TLS 1.3, which external PSKs need here",
                )
            }
        }
        if hello.version != TLS12 || hello.session_id != self.hello.session_id {
            return illegal("ServerHello legacy fields");
        }
        let Some(suite) = self
            .params
            .suites
            .iter()
            .find(|s| s.id == hello.suite)
            .copied()
        else {
            return illegal("the server chose a suite we did not offer");
        };
        if self.suite.is_some_and(|s| s != suite) {
            return illegal("the suite changed after the HelloRetryRequest");
        }
        for extension in hello.extensions.iter() {
            let expected = matches!(
                extension,
                Extension::SelectedVersion(_)
                    | Extension::KeyShare(_)
                    | Extension::KeyShareRetry(_)
                    | Extension::SelectedPsk(_)
                    | Extension::Cookie(_)
            );
            if !expected {
                return fail(
                    AlertDescription::UnsupportedExtension,
                    "the server sent an extension we did not offer",
                );
            }
        }
        if hello.is_retry_request() {
            return self.retry(records, suite, &hello, raw);
        }
        let Some(index) = hello.extensions.selected_psk() else {
            return fail(
                AlertDescription::HandshakeFailure,
                "the server accepted none of our PSK identities (it went on without a PSK)",
            );
        };
        let Some((_, keys)) = &self.offer else {
            return fail(AlertDescription::InternalError, "no PSK offer");
        };
        let Some(psk) = keys.get(usize::from(index)) else {
            return illegal("the server chose a PSK identity we did not offer");
        };
        if psk.hash != suite.hash {
            return illegal("the suite's hash is not the chosen PSK's");
        }
        let shared = match (self.share.take(), hello.extensions.key_share()) {
            (Some(share), Some(server_share)) if server_share.group == share.group => {
                share.agree(&server_share.public)?
            }
            (Some(_), Some(_)) => {
                return illegal("the server's key share is on a group we did not share")
            }
            (Some(_), None) => {
                return fail(
                    AlertDescription::MissingExtension,
                    "no key share from the server (psk_dhe_ke)",
                )
            }
            // psk_ke: zeros in place of the (EC)DHE secret.
            (None, None) => vec![0; suite.hash.len()],
            (None, Some(_)) => return illegal("a key share we did not ask for (psk_ke)"),
        };
        self.transcript.start(suite.hash);
        self.transcript.add(raw);
        let mut schedule = KeySchedule::early(suite.hash, &psk.key);
        schedule.enter_handshake(&shared);
        let hash = self.transcript.current();
        let client = schedule.derive(b"c hs traffic", &hash);
        let server = schedule.derive(b"s hs traffic", &hash);
        records.set_read(RecordKeys::new(&suite, server.clone()));
        records.write = Some(RecordKeys::new(&suite, client.clone()));
        self.client_secret = Some(client);
        self.server_secret = Some(server);
        self.schedule = Some(schedule);
        self.suite = Some(suite);
        self.identity = Some(psk.identity.clone());
        self.resumed = psk.resumption;
        self.state = State::EncryptedExtensions;
        Ok(())
    }

    fn retry(
        &mut self,
        records: &mut Records13,
        suite: Tls13Suite,
        hello: &ServerHello,
        raw: &[u8],
    ) -> Result<(), Failure> {
        let illegal = |why: &str| fail(AlertDescription::IllegalParameter, why);
        if self.retried {
            return fail(
                AlertDescription::UnexpectedMessage,
                "a second HelloRetryRequest",
            );
        }
        if self.params.without_dhe {
            return illegal("a HelloRetryRequest to a client offering psk_ke alone");
        }
        let Some(group) = hello.extensions.key_share_retry() else {
            return illegal("a HelloRetryRequest that changes nothing");
        };
        if !GROUPS.contains(&group) || self.share.as_ref().is_some_and(|s| s.group == group) {
            return illegal("a HelloRetryRequest for a group we did not offer, or already shared");
        }
        self.retried = true;
        self.suite = Some(suite);
        self.transcript.start(suite.hash);
        self.transcript.replace_with_message_hash(suite.hash);
        self.transcript.add(raw);
        self.send_hello(
            records,
            group,
            hello.extensions.cookie().map(<[u8]>::to_vec),
        )
    }

    fn encrypted_extensions(&mut self, body: &[u8]) -> Result<(), Failure> {
        let mut r = crate::engine::msgs::codec::Reader::new(body);
        let extensions = Extensions::read(&mut r, Sender::Server)?;
        r.end()?;
        for extension in extensions.iter() {
            match extension {
                Extension::Alpn(chosen) => {
                    let [protocol] = chosen.as_slice() else {
                        return fail(AlertDescription::IllegalParameter, "ALPN: not one protocol");
                    };
                    if !self.params.alpn.contains(protocol) {
                        return fail(
                            AlertDescription::IllegalParameter,
                            "ALPN: a protocol we did not offer",
                        );
                    }
                    self.alpn = Some(protocol.clone());
                }
                Extension::ServerName(None) | Extension::SupportedGroups(_) => {}
                Extension::EarlyData => {
                    return fail(
                        AlertDescription::UnsupportedExtension,
                        "the server accepted early data we never offered",
                    )
                }
                Extension::Unknown(..) => {
                    return fail(
                        AlertDescription::UnsupportedExtension,
                        "an extension we did not offer",
                    )
                }
                _ => {
                    return fail(
                        AlertDescription::IllegalParameter,
                        "an extension that does not belong in EncryptedExtensions",
                    )
                }
            }
        }
        self.state = State::Finished;
        Ok(())
    }

    fn finished(
        &mut self,
        records: &mut Records13,
        body: &[u8],
        raw: &[u8],
    ) -> Result<(), Failure> {
        let (Some(suite), Some(schedule), Some(server), Some(client)) = (
            self.suite,
            self.schedule.as_mut(),
            self.server_secret.take(),
            self.client_secret.take(),
        ) else {
            return fail(AlertDescription::InternalError, "Finished before the keys");
        };
        let expected = finished_value(suite.hash, &server, &self.transcript.current());
        if !bool::from(expected.ct_eq(body)) {
            return fail(
                AlertDescription::DecryptError,
                "the server's Finished is wrong",
            );
        }
        self.transcript.add(raw);
        schedule.enter_master();
        let hash = self.transcript.current();
        let client_app = schedule.derive(b"c ap traffic", &hash);
        let server_app = schedule.derive(b"s ap traffic", &hash);
        let verify = finished_value(suite.hash, &client, &hash);
        records.send_handshake(&mut self.transcript, handshake::FINISHED, &verify);
        self.resumption_master = Some(schedule.derive(b"res master", &self.transcript.current()));
        records.write = Some(RecordKeys::new(&suite, client_app));
        records.set_read(RecordKeys::new(&suite, server_app));
        self.state = State::Done;
        Ok(())
    }
}

impl ClientHandshake13 {
    /// Keeps a ticket for resuming with this server (RFC 8446 §4.6.1).
    fn new_session_ticket(&mut self, body: &[u8]) -> Result<(), Failure> {
        let ticket = NewSessionTicket13::decode(body)?;
        let (Some(suite), Some(master), Some(identity)) =
            (self.suite, &self.resumption_master, &self.identity)
        else {
            return fail(AlertDescription::InternalError, "a ticket before the keys");
        };
        // RFC 8446 §4.6.1: at most 7 days; 0 means do not keep it.
        if ticket.lifetime > 7 * 24 * 3600 {
            return fail(
                AlertDescription::IllegalParameter,
                "a ticket lifetime over 7 days",
            );
        }
        if ticket.lifetime == 0 {
            return Ok(());
        }
        self.params.tickets.put(
            &self.ticket_host,
            ClientTicket {
                psk: resumption_psk(suite.hash, master, &ticket.nonce),
                ticket: ticket.ticket,
                suite: suite.id,
                identity: identity.clone(),
                age_add: ticket.age_add,
                received: std::time::Instant::now(),
                lifetime: std::time::Duration::from_secs(ticket.lifetime.into()),
            },
        );
        Ok(())
    }
}

impl Handshake13 for ClientHandshake13 {
    fn start(&mut self, records: &mut Records13) -> Result<(), Failure> {
        self.send_hello(records, GROUPS[0], None)
    }

    fn message(
        &mut self,
        records: &mut Records13,
        kind: u8,
        body: &[u8],
        raw: &[u8],
    ) -> Result<(), Failure> {
        match (self.state, kind) {
            (State::ServerHello, handshake::SERVER_HELLO) => self.server_hello(records, body, raw),
            (State::EncryptedExtensions, handshake::ENCRYPTED_EXTENSIONS) => {
                self.encrypted_extensions(body)?;
                self.transcript.add(raw);
                Ok(())
            }
            (State::Finished, handshake::FINISHED) => self.finished(records, body, raw),
            (State::Done, handshake::NEW_SESSION_TICKET) => self.new_session_ticket(body),
            _ => fail(
                AlertDescription::UnexpectedMessage,
                format!("handshake message {kind} out of place (TLS 1.3 PSK client)"),
            ),
        }
    }

    fn is_handshaking(&self) -> bool {
        self.state != State::Done
    }

    fn session(&self) -> Session {
        psk_session(
            self.suite,
            self.identity.clone(),
            self.alpn.clone(),
            self.host.clone(),
            self.resumed,
        )
    }
}
