//! The client's TLS 1.2 handshake (RFC 5246), with SRP (RFC 5054) as its key exchange and an
//! RSA signature over it for the SRP-RSA suites, or a pre-shared key (RFC 4279, RFC 5489).

use std::sync::Arc;

use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use crate::engine::kx::ecdhe::GROUPS;
use crate::engine::kx::psk12::Psk12Client;
use crate::engine::kx::srp::{ServerOffer, SrpClient};
use crate::engine::msgs::{
    decode_certificate, decode_signature, handshake, ClientHello, Extension, Extensions,
    NewSessionTicket, PskServerKeyExchange, ServerHello, DOWNGRADE_TO_TLS12,
    EMPTY_RENEGOTIATION_INFO_SCSV, TLS12,
};
use crate::engine::tls12::{Bulk, Kx12, Negotiated, Tls12Suite, CBC_SHA256_NEEDS_ETM, MTE_REFUSED};
use crate::engine::{fail, CommonState, Failure, Handshake};
use crate::resumption::{BoundedSessions, SavedSession};
use crate::{AlertDescription, Session};

/// The key exchange a TLS 1.2 client of ours runs.
pub(crate) enum ClientKx12 {
    Srp(SrpClient),
    Psk(Psk12Client),
}

impl ClientKx12 {
    pub(crate) fn username(&self) -> Option<&str> {
        match self {
            Self::Srp(srp) => Some(&srp.username),
            Self::Psk(_) => None,
        }
    }
}

/// What a client of our engine is configured with (shared by its connections).
pub(crate) struct ClientParams {
    pub(crate) kx: ClientKx12,
    pub(crate) suites: Vec<Tls12Suite>,
    pub(crate) encrypt_then_mac: bool,
    /// Whether a server without Encrypt-then-MAC is accepted (legacy opt-in).
    pub(crate) mac_then_encrypt: bool,
    /// ALPN protocols to offer, in order of preference.
    pub(crate) alpn: Vec<Vec<u8>>,
    /// Whether to send the host name by SNI.
    pub(crate) sni: bool,
    /// Sessions by host and username.
    pub(crate) sessions: BoundedSessions,
    /// Whether to ask for RFC 5077 tickets (when resumption is on).
    pub(crate) tickets: bool,
    /// For the SRP-RSA suites: how to judge the server's certificate.
    pub(crate) cert_verifier: Option<Arc<dyn rustls::client::danger::ServerCertVerifier>>,
    /// Signature verification algorithms by TLS scheme.
    pub(crate) signature_algorithms: rustls::crypto::WebPkiSupportedAlgorithms,
}

/// The RSA schemes offered and accepted for an SRP-RSA ServerKeyExchange.
pub(crate) fn rsa_schemes(algorithms: &rustls::crypto::WebPkiSupportedAlgorithms) -> Vec<u16> {
    algorithms
        .mapping
        .iter()
        .map(|(scheme, _)| u16::from(*scheme))
        .filter(|s| matches!(s, 0x0401 | 0x0501 | 0x0601 | 0x0804 | 0x0805 | 0x0806))
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    ServerHello,
    Certificate,
    KeyExchange,
    HelloDone,
    ChangeCipherSpec,
    Finished,
    Done,
}

/// A client's TLS 1.2 handshake, from its ClientHello to the server's Finished.
pub(crate) struct ClientHandshake {
    params: Arc<ClientParams>,
    host: String,
    session_key: Vec<u8>,
    state: State,
    keys: Negotiated,
    offered_session: Option<SavedSession>,
    /// The session ID the ClientHello carried: the saved one, or with a ticket a fresh one
    /// the server echoes to accept the ticket (RFC 5077 §3.4).
    offered_id: Vec<u8>,
    /// The server promised a NewSessionTicket; what it sent, once it has.
    ticket_promised: bool,
    new_ticket: Option<Vec<u8>>,
    server_offer: Option<ServerOffer>,
    psk_offer: Option<PskServerKeyExchange>,
    peer_certificates: Vec<Vec<u8>>,
    /// The ClientHello a TLS 1.3 attempt already sent (it offered both versions and the
    /// server chose TLS 1.2): the transcript starts with it and nothing is sent again.
    sent_hello: Option<Vec<u8>>,
    /// Our hello offered TLS 1.3, so a server random saying "downgraded" is an attack.
    offered_tls13: bool,
}

impl ClientHandshake {
    pub(crate) fn new(params: Arc<ClientParams>, host: &str) -> Self {
        let mut session_key = host.as_bytes().to_vec();
        session_key.push(0);
        session_key.extend_from_slice(params.kx.username().unwrap_or_default().as_bytes());
        let host = crate::host::bare_host(host);
        // SNI carries DNS names only (RFC 6066 §3), never addresses.
        let sni = params.sni && matches!(ServerName::try_from(host), Ok(ServerName::DnsName(_)));
        let mut keys = Negotiated::default();
        keys.server_name = sni.then(|| host.to_owned());
        Self {
            params,
            host: host.to_owned(),
            session_key,
            keys,
            state: State::ServerHello,
            offered_session: None,
            offered_id: Vec::new(),
            ticket_promised: false,
            new_ticket: None,
            server_offer: None,
            psk_offer: None,
            peer_certificates: Vec::new(),
            sent_hello: None,
            offered_tls13: false,
        }
    }

    /// Goes on from a ClientHello that offered TLS 1.3 and TLS 1.2 (`raw`, whole message, with
    /// `random`), to which the server answered with TLS 1.2.
    pub(crate) fn after_hello(
        params: Arc<ClientParams>,
        host: &str,
        raw: Vec<u8>,
        random: [u8; 32],
    ) -> Self {
        let mut handshake = Self::new(params, host);
        handshake.keys.client_random = random;
        handshake.sent_hello = Some(raw);
        handshake.offered_tls13 = true;
        handshake
    }

    /// What a ClientHello adds for the PSK suites of `suites`: EtM for CBC, the curves and
    /// point format for ECDHE_PSK.
    pub(crate) fn psk_extensions(suites: &[Tls12Suite]) -> Vec<Extension> {
        let mut extensions = vec![Extension::ExtendedMasterSecret];
        if suites.iter().any(Tls12Suite::is_cbc) {
            extensions.push(Extension::EncryptThenMac);
        }
        if suites.iter().any(|s| s.kx == Kx12::EcdhePsk) {
            extensions.push(Extension::SupportedGroups(GROUPS.to_vec()));
            extensions.push(Extension::EcPointFormats(vec![0]));
        }
        extensions
    }

    fn server_hello(
        &mut self,
        common: &mut CommonState,
        body: &[u8],
        raw: &[u8],
    ) -> Result<(), Failure> {
        let hello = ServerHello::decode(body)?;
        if hello.version != TLS12 {
            return fail(
                AlertDescription::ProtocolVersion,
                "the server did not choose TLS 1.2",
            );
        }
        if self.offered_tls13 && hello.random[24..] == DOWNGRADE_TO_TLS12 {
            return fail(
                AlertDescription::IllegalParameter,
                "the server speaks TLS 1.3 but answered with TLS 1.2 and says so in its random: \
                 TLS 1.3 was removed from our hello on the way (a downgrade attack)",
            );
        }
        let suite = self
            .params
            .suites
            .iter()
            .copied()
            .find(|s| s.id == hello.suite)
            .ok_or_else(|| {
                Failure::local(
                    AlertDescription::IllegalParameter,
                    "the server chose a suite we did not offer",
                )
            })?;
        for extension in hello.extensions.iter() {
            match extension {
                Extension::EncryptThenMac if self.params.encrypt_then_mac => self.keys.etm = true,
                Extension::ExtendedMasterSecret => self.keys.ems = true,
                Extension::RenegotiationInfo(finished) if finished.is_empty() => {}
                Extension::RenegotiationInfo(_) => {
                    return fail(
                        AlertDescription::HandshakeFailure,
                        "renegotiation_info must be empty",
                    )
                }
                Extension::ServerName(None) if self.keys.server_name.is_some() => {}
                Extension::EcPointFormats(formats) if suite.kx == Kx12::EcdhePsk => {
                    if !formats.contains(&0) {
                        return fail(
                            AlertDescription::IllegalParameter,
                            "the server does not take uncompressed points",
                        );
                    }
                }
                Extension::SessionTicket(empty) if empty.is_empty() && self.params.tickets => {
                    self.ticket_promised = true
                }
                Extension::Alpn(chosen) if !self.params.alpn.is_empty() => match &chosen[..] {
                    // RFC 9113 §9.2.2: a client may refuse h2 over such a suite; ours does.
                    [one] if self.params.alpn.contains(one) && (one != b"h2" || suite.carries_h2()) => {
                        self.keys.alpn = Some(one.clone())
                    }
                    [h2] if h2 == b"h2" && self.params.alpn.contains(h2) => {
                        return fail(
                            AlertDescription::InsufficientSecurity,
                            "the server chose h2 over a cipher suite RFC 9113 forbids it on (CBC, or no ephemeral key exchange)",
                        )
                    }
                    _ => {
                        return fail(
                            AlertDescription::IllegalParameter,
                            "the server chose an ALPN protocol we did not offer",
                        )
                    }
                },
                other => {
                    return fail(
                        AlertDescription::UnsupportedExtension,
                        format!("unrequested extension {}", other.kind()),
                    )
                }
            }
        }
        match suite.bulk {
            Bulk::CbcSha256 if !self.keys.etm => {
                return fail(AlertDescription::InsufficientSecurity, CBC_SHA256_NEEDS_ETM)
            }
            Bulk::CbcSha1 if !self.keys.etm && !self.params.mac_then_encrypt => {
                return fail(AlertDescription::InsufficientSecurity, MTE_REFUSED)
            }
            _ => {}
        }
        common.hash(raw);
        self.keys.server_random = hello.random;
        self.keys.suite = Some(suite);
        self.keys.session_id = hello.session_id.clone();
        let offered_id = std::mem::take(&mut self.offered_id);
        if let Some(saved) = self
            .offered_session
            .take()
            .filter(|_| !offered_id.is_empty() && offered_id == hello.session_id)
        {
            if saved.suite != suite.id || saved.ems != self.keys.ems {
                return fail(
                    AlertDescription::HandshakeFailure,
                    "resumed session differs from the one offered",
                );
            }
            self.keys.master = saved.master;
            self.keys.resumed = true;
            // Resumed without a new ticket: the one that worked stays good.
            self.new_ticket = Some(saved.ticket.clone());
            self.state = State::ChangeCipherSpec;
            return Ok(());
        }
        self.state = if suite.rsa() {
            State::Certificate
        } else {
            State::KeyExchange
        };
        Ok(())
    }

    /// SRP-RSA: the server's chain, judged by the configured server authentication.
    fn certificate(
        &mut self,
        common: &mut CommonState,
        body: &[u8],
        raw: &[u8],
    ) -> Result<(), Failure> {
        let chain = decode_certificate(body)?;
        let verifier = self.params.cert_verifier.as_ref().ok_or_else(|| {
            Failure::local(
                AlertDescription::UnexpectedMessage,
                "certificate for a suite not offered",
            )
        })?;
        let certs: Vec<CertificateDer<'static>> = chain
            .iter()
            .map(|c| CertificateDer::from(c.clone()))
            .collect();
        let Some((leaf, intermediates)) = certs.split_first() else {
            return fail(AlertDescription::DecodeError, "empty certificate chain");
        };
        let name = ServerName::try_from(self.host.clone()).map_err(|_| {
            Failure::local(
                AlertDescription::InternalError,
                "host is not a DNS name or IP address",
            )
        })?;
        verifier
            .verify_server_cert(leaf, intermediates, &name, &[], UnixTime::now())
            .map_err(Failure::from_rustls)?;
        self.peer_certificates = chain;
        common.hash(raw);
        self.state = State::KeyExchange;
        Ok(())
    }

    /// SRP-RSA: the server signed `client_random | server_random | params` with its key.
    fn check_signature(&self, signed: &[u8], rest: &[u8]) -> Result<(), Failure> {
        let (scheme, signature) = decode_signature(rest)?;
        if !rsa_schemes(&self.params.signature_algorithms).contains(&scheme) {
            return fail(
                AlertDescription::IllegalParameter,
                format!("signature scheme {scheme:#06x} not offered"),
            );
        }
        let leaf =
            CertificateDer::from(self.peer_certificates.first().cloned().unwrap_or_default());
        let ee = webpki::EndEntityCert::try_from(&leaf)
            .map_err(|e| Failure::local(AlertDescription::BadCertificate, e.to_string()))?;
        let mut message = Vec::with_capacity(64 + signed.len());
        message.extend_from_slice(&self.keys.client_random);
        message.extend_from_slice(&self.keys.server_random);
        message.extend_from_slice(signed);
        let verified = self
            .params
            .signature_algorithms
            .mapping
            .iter()
            .filter(|(s, _)| u16::from(*s) == scheme)
            .flat_map(|(_, algs)| algs.iter())
            .any(|alg| ee.verify_signature(*alg, &message, &signature).is_ok());
        match verified {
            true => Ok(()),
            false => fail(
                AlertDescription::DecryptError,
                "the server's signature does not verify",
            ),
        }
    }

    fn key_exchange(
        &mut self,
        common: &mut CommonState,
        body: &[u8],
        raw: &[u8],
    ) -> Result<(), Failure> {
        let suite = self.keys.suite()?;
        match &self.params.kx {
            ClientKx12::Srp(srp) => {
                let offer = srp.server_key_exchange(body, |signed, rest| match suite.rsa() {
                    true => self.check_signature(signed, rest),
                    false if rest.is_empty() => Ok(()),
                    false => fail(
                        AlertDescription::DecodeError,
                        "trailing bytes after the SRP parameters",
                    ),
                })?;
                self.server_offer = Some(offer);
            }
            ClientKx12::Psk(_) => {
                self.psk_offer = Some(Psk12Client::server_key_exchange(suite.kx, body)?);
            }
        }
        common.hash(raw);
        self.state = State::HelloDone;
        Ok(())
    }

    fn hello_done(
        &mut self,
        common: &mut CommonState,
        body: &[u8],
        raw: &[u8],
    ) -> Result<(), Failure> {
        if !body.is_empty() {
            return fail(AlertDescription::DecodeError, "ServerHelloDone has a body");
        }
        common.hash(raw);
        let (cke, premaster) = match &self.params.kx {
            ClientKx12::Srp(srp) => {
                let offer = self.server_offer.take().ok_or_else(|| {
                    Failure::local(
                        AlertDescription::UnexpectedMessage,
                        "ServerHelloDone before the key exchange",
                    )
                })?;
                srp.client_key_exchange(common, offer)?
            }
            ClientKx12::Psk(psk) => {
                psk.client_key_exchange(self.keys.suite()?.kx, self.psk_offer.take())?
            }
        };
        common.send_handshake(handshake::CLIENT_KEY_EXCHANGE, &cke);
        self.keys.derive_master(common, &premaster);
        self.send_finished(common)?;
        self.state = State::ChangeCipherSpec;
        Ok(())
    }

    fn send_finished(&mut self, common: &mut CommonState) -> Result<(), Failure> {
        self.keys.send_finished(common, true)
    }

    fn finished(
        &mut self,
        common: &mut CommonState,
        body: &[u8],
        raw: &[u8],
    ) -> Result<(), Failure> {
        self.keys.check_finished(common, true, body, raw)?;
        if self.keys.resumed {
            self.send_finished(common)?;
        }
        // Sessions are SRP's: a PSK handshake is as cheap as resuming one.
        if let Some(username) = self.params.kx.username() {
            let saved = self.keys.saved_session(username.to_owned())?;
            let ticket = self.new_ticket.take().unwrap_or_default();
            self.params
                .sessions
                .put(self.session_key.clone(), saved.with_ticket(ticket));
        }
        self.state = State::Done;
        Ok(())
    }

    /// RFC 5077 §3.3: the ticket the ServerHello promised, before the server's
    /// ChangeCipherSpec (an empty one: the server keeps no ticket for us after all).
    fn new_session_ticket(
        &mut self,
        common: &mut CommonState,
        body: &[u8],
        raw: &[u8],
    ) -> Result<(), Failure> {
        let message = NewSessionTicket::decode(body)?;
        common.hash(raw);
        self.new_ticket = Some(message.ticket);
        self.ticket_promised = false;
        Ok(())
    }
}

impl Handshake for ClientHandshake {
    fn start(&mut self, common: &mut CommonState) -> Result<(), Failure> {
        if let Some(sent) = self.sent_hello.take() {
            common.hash(&sent);
            return Ok(());
        }
        common.random(&mut self.keys.client_random)?;
        self.offered_session = self
            .params
            .sessions
            .get(&self.session_key)
            .filter(|s| self.params.suites.iter().any(|suite| suite.id == s.suite));
        let mut suites: Vec<u16> = self.params.suites.iter().map(|s| s.id).collect();
        suites.push(EMPTY_RENEGOTIATION_INFO_SCSV);
        let mut extensions = Extensions::default();
        if let Some(name) = &self.keys.server_name {
            extensions.push(Extension::ServerName(Some(name.clone())));
        }
        match &self.params.kx {
            ClientKx12::Srp(srp) => {
                extensions.push(srp.hello_extension());
                extensions.push(Extension::ExtendedMasterSecret);
                if self.params.suites.iter().any(|s| s.rsa()) {
                    let schemes = rsa_schemes(&self.params.signature_algorithms);
                    extensions.push(Extension::SignatureAlgorithms(schemes));
                }
                if self.params.encrypt_then_mac {
                    extensions.push(Extension::EncryptThenMac);
                }
            }
            ClientKx12::Psk(_) => {
                for extension in Self::psk_extensions(&self.params.suites) {
                    extensions.push(extension);
                }
            }
        }
        if !self.params.alpn.is_empty() {
            extensions.push(Extension::Alpn(self.params.alpn.clone()));
        }
        self.offered_id = match &self.offered_session {
            Some(saved) if !saved.ticket.is_empty() => {
                let mut fresh = vec![0u8; 32];
                common.random(&mut fresh)?;
                fresh
            }
            Some(saved) => saved.id.clone(),
            None => Vec::new(),
        };
        if self.params.tickets {
            let ticket = self.offered_session.as_ref().map(|s| s.ticket.clone());
            extensions.push(Extension::SessionTicket(ticket.unwrap_or_default()));
        }
        let hello = ClientHello {
            version: TLS12,
            random: self.keys.client_random,
            session_id: self.offered_id.clone(),
            suites,
            extensions,
        };
        common.send_handshake(handshake::CLIENT_HELLO, &hello.encode());
        Ok(())
    }

    fn message(
        &mut self,
        common: &mut CommonState,
        kind: u8,
        body: &[u8],
        raw: &[u8],
    ) -> Result<(), Failure> {
        match (self.state, kind) {
            (State::ServerHello, handshake::SERVER_HELLO) => self.server_hello(common, body, raw),
            (State::Certificate, handshake::CERTIFICATE) => self.certificate(common, body, raw),
            (State::KeyExchange, handshake::SERVER_KEY_EXCHANGE) => {
                self.key_exchange(common, body, raw)
            }
            (State::HelloDone, handshake::SERVER_HELLO_DONE) => self.hello_done(common, body, raw),
            // Plain PSK sends a ServerKeyExchange only for a hint.
            (State::KeyExchange, handshake::SERVER_HELLO_DONE)
                if self.keys.suite.is_some_and(|s| s.kx == Kx12::Psk) =>
            {
                self.hello_done(common, body, raw)
            }
            (State::Finished, handshake::FINISHED) => self.finished(common, body, raw),
            (State::ChangeCipherSpec, handshake::NEW_SESSION_TICKET) if self.ticket_promised => {
                self.new_session_ticket(common, body, raw)
            }
            (_, handshake::HELLO_REQUEST) if self.state == State::Done => Ok(()),
            (state, kind) => fail(
                AlertDescription::UnexpectedMessage,
                format!("handshake message {kind} while expecting {state:?}"),
            ),
        }
    }

    fn change_cipher_spec(&mut self, common: &mut CommonState) -> Result<(), Failure> {
        if self.state != State::ChangeCipherSpec {
            return fail(
                AlertDescription::UnexpectedMessage,
                "ChangeCipherSpec out of order",
            );
        }
        if self.ticket_promised {
            return fail(
                AlertDescription::UnexpectedMessage,
                "the server promised a session ticket and sent none",
            );
        }
        self.keys.peer_keys_on(common, true)?;
        self.state = State::Finished;
        Ok(())
    }

    fn is_handshaking(&self) -> bool {
        self.state != State::Done
    }

    fn session(&self) -> Session {
        let mut session = self.keys.session(
            self.params.kx.username().map(str::to_owned),
            &self.peer_certificates,
        );
        if let ClientKx12::Psk(psk) = &self.params.kx {
            session.psk_identity = Some(psk.psk.identity().to_vec());
        }
        session
    }

    fn heavy(&self) -> bool {
        matches!(self.params.kx, ClientKx12::Srp(_))
    }
}
