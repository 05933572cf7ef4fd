//! The server's TLS 1.2 handshake (RFC 5246), with SRP (RFC 5054) or a pre-shared key
//! (RFC 4279, RFC 5489) as its key exchange.

use std::sync::Arc;

use crate::engine::kx::psk12::{choose_group, Psk12Server, PskExchange};
use crate::engine::kx::srp::{ServerExchange, SrpServer};
use crate::engine::msgs::extension::kind;
use crate::engine::msgs::{
    encode_certificate, handshake, ClientHello, Extension, Extensions, NewSessionTicket,
    ServerHello, DOWNGRADE_TO_TLS12, EMPTY_RENEGOTIATION_INFO_SCSV, TLS12,
};
use crate::engine::tls12::{Bulk, Kx12, Negotiated, Tls12Suite, MTE_REFUSED};
use crate::engine::{fail, CommonState, Failure, Handshake};
use crate::resumption::ServerSessions;
use crate::{AlertDescription, Session};

/// An SRP-RSA server's chain (DER, leaf first) and RSA signing key.
pub(crate) type SigningCertificate = (Vec<Vec<u8>>, Arc<dyn rustls::sign::SigningKey>);

/// The key exchange a TLS 1.2 server of ours runs.
pub(crate) enum ServerKx12 {
    Srp(SrpServer),
    Psk {
        kx: Psk12Server,
        /// Plain PSK (no forward secrecy) is taken when a client offers nothing better.
        allow_plain: bool,
        /// This server speaks TLS 1.3 too: its random says so when it answers with TLS 1.2.
        downgrade_sentinel: bool,
    },
}

/// Why a client offering only plain PSK is refused.
const PLAIN_PSK_REFUSED: &str = "the client offers only plain PSK (TLS_PSK_WITH_AES_128_GCM_SHA256): \
     no forward secrecy, so it is refused unless tls::dangerous::accept_psk_without_forward_secrecy \
     allows it";

/// What a server of our engine is configured with (shared by its connections).
pub(crate) struct ServerParams {
    pub(crate) kx: ServerKx12,
    pub(crate) suites: Vec<Tls12Suite>,
    pub(crate) encrypt_then_mac: bool,
    /// Whether a client without Encrypt-then-MAC is accepted (legacy opt-in).
    pub(crate) mac_then_encrypt: bool,
    pub(crate) sessions: Arc<ServerSessions>,
    /// For the SRP-RSA suites: the chain and its RSA signing key.
    pub(crate) certificate: Option<SigningCertificate>,
    /// ALPN protocols in order of preference; empty: none negotiated.
    pub(crate) alpn: Vec<Vec<u8>>,
    /// SRP-RSA chains for the names clients ask for by SNI (`certificate` for any other).
    pub(crate) named_certificates: Vec<(String, SigningCertificate)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    ClientHello,
    ClientKeyExchange,
    ChangeCipherSpec,
    Finished,
    Done,
}

/// A server's TLS 1.2 handshake, from the ClientHello to the client's Finished.
pub(crate) struct ServerHandshake {
    params: Arc<ServerParams>,
    state: State,
    keys: Negotiated,
    username: Option<String>,
    /// The key exchange under way, between hello and ClientKeyExchange.
    exchange: Option<ServerExchange>,
    psk_exchange: Option<PskExchange>,
    /// The identity whose key the client proved.
    psk_identity: Option<Vec<u8>>,
    /// What the session's user's entry looked like, so a later change ends resumption.
    verifier_digest: [u8; 32],
    /// Whether this full handshake ends with a NewSessionTicket (the client asked for tickets
    /// and the server issues them).
    issue_ticket: bool,
}

impl ServerHandshake {
    pub(crate) fn new(params: Arc<ServerParams>) -> Self {
        Self {
            params,
            keys: Negotiated::default(),
            state: State::ClientHello,
            username: None,
            exchange: None,
            psk_exchange: None,
            psk_identity: None,
            verifier_digest: [0; 32],
            issue_ticket: false,
        }
    }

    /// ALPN (RFC 7301): our first protocol the client offers that may run over `suite` (h2
    /// only over the suites RFC 9113 allows it); none is fatal. A server without a list, or a
    /// client that offers none, negotiates nothing.
    fn choose_protocol(
        &self,
        offered: Option<&[Vec<u8>]>,
        suite: &Tls12Suite,
    ) -> Result<Option<Vec<u8>>, Failure> {
        let (Some(offered), false) = (offered, self.params.alpn.is_empty()) else {
            return Ok(None);
        };
        let is_h2 = |p: &Vec<u8>| p.as_slice() == b"h2";
        let runs = |p: &&Vec<u8>| !is_h2(p) || suite.carries_h2();
        match self.params.alpn.iter().filter(runs).find(|p| offered.contains(p)) {
            Some(protocol) => Ok(Some(protocol.clone())),
            None if offered.iter().any(is_h2) && self.params.alpn.iter().any(is_h2) => fail(
                AlertDescription::NoApplicationProtocol,
                "h2 is the only ALPN protocol in common, and RFC 9113 forbids it over this cipher suite (CBC, or no ephemeral key exchange)",
            ),
            None => fail(
                AlertDescription::NoApplicationProtocol,
                "no ALPN protocol in common",
            ),
        }
    }

    fn client_hello(
        &mut self,
        common: &mut CommonState,
        body: &[u8],
        raw: &[u8],
    ) -> Result<(), Failure> {
        let hello = ClientHello::decode(body)?;
        if hello.version < TLS12 {
            return fail(
                AlertDescription::ProtocolVersion,
                "the client does not offer TLS 1.2",
            );
        }
        let username = match &self.params.kx {
            ServerKx12::Srp(_) => Some(SrpServer::username(&hello)?),
            ServerKx12::Psk { .. } => None,
        };
        let (suite, group) = self.choose_suite(&hello)?;
        let secure_renegotiation = hello.suites.contains(&EMPTY_RENEGOTIATION_INFO_SCSV)
            || match hello.extensions.renegotiation_info() {
                Some([]) => true,
                Some(_) => {
                    return fail(
                        AlertDescription::HandshakeFailure,
                        "renegotiation_info must be empty",
                    )
                }
                None => false,
            };
        self.keys.etm = suite.is_cbc()
            && self.params.encrypt_then_mac
            && hello.extensions.has(&Extension::EncryptThenMac);
        if suite.bulk == Bulk::CbcSha1 && !self.keys.etm && !self.params.mac_then_encrypt {
            return fail(AlertDescription::InsufficientSecurity, MTE_REFUSED);
        }
        self.keys.ems = hello.extensions.has(&Extension::ExtendedMasterSecret);
        self.keys.server_name = hello.extensions.server_name().map(str::to_owned);
        self.keys.alpn = self.choose_protocol(hello.extensions.alpn(), &suite)?;
        self.keys.client_random = hello.random;
        common.random(&mut self.keys.server_random)?;
        if let ServerKx12::Psk {
            downgrade_sentinel: true,
            ..
        } = self.params.kx
        {
            self.keys.server_random[24..].copy_from_slice(&DOWNGRADE_TO_TLS12);
        }
        common.hash(raw);
        self.keys.suite = Some(suite);

        let mut extensions = Extensions::default();
        if secure_renegotiation {
            extensions.push(Extension::RenegotiationInfo(Vec::new()));
        }
        if self.keys.etm {
            extensions.push(Extension::EncryptThenMac);
        }
        if self.keys.ems {
            extensions.push(Extension::ExtendedMasterSecret);
        }
        if let Some(protocol) = &self.keys.alpn {
            extensions.push(Extension::Alpn(vec![protocol.clone()]));
        }
        let params = self.params.clone();
        if let ServerKx12::Psk { kx: psk, .. } = &params.kx {
            if group.is_some() && hello.extensions.has_kind(kind::EC_POINT_FORMATS) {
                extensions.push(Extension::EcPointFormats(vec![0]));
            }
            return self.psk_hello(common, psk, suite, group, extensions);
        }
        let Some(username) = username else {
            return fail(AlertDescription::InternalError, "SRP without a username");
        };
        // A ticket first (RFC 5077 §3.4: it comes with a session ID we echo to accept it),
        // then the session ID.
        let offered_ticket = hello.extensions.session_ticket();
        let from_ticket = offered_ticket
            .filter(|ticket| !ticket.is_empty())
            .and_then(|ticket| self.params.sessions.open_ticket(&hello.session_id, ticket))
            .filter(|_| !hello.session_id.is_empty());
        let resumable = from_ticket
            .or_else(|| {
                (!hello.session_id.is_empty())
                    .then(|| self.params.sessions.get(&hello.session_id))
                    .flatten()
            })
            .filter(|s| s.username == username && s.suite == suite.id && s.ems == self.keys.ems)
            // RFC 6066 §3: a session resumes only under the name it was made for.
            .filter(|s| s.server_name == self.keys.server_name)
            .filter(|s| match &self.params.kx {
                ServerKx12::Srp(srp) => srp.still_valid(s),
                ServerKx12::Psk { .. } => false,
            });
        self.username = Some(username.clone());
        if let Some(saved) = resumable {
            self.keys.session_id = saved.id.clone();
            self.keys.master = saved.master;
            self.keys.resumed = true;
            let server_hello = ServerHello {
                version: TLS12,
                random: self.keys.server_random,
                session_id: saved.id.clone(),
                suite: suite.id,
                extensions,
            };
            common.send_handshake(handshake::SERVER_HELLO, &server_hello.encode());
            self.send_finished(common)?;
            self.state = State::ChangeCipherSpec;
            return Ok(());
        }

        let ServerKx12::Srp(srp) = &self.params.kx else {
            return fail(
                AlertDescription::InternalError,
                "SRP without its parameters",
            );
        };
        let (mut key_exchange, exchange) = srp.server_key_exchange(common, &username)?;
        let mut random = [0u8; 32];
        common.random(&mut random)?;
        let session_id = self.params.sessions.new_session_id(random);
        self.keys.session_id = session_id.clone();
        // RFC 6066 §3: the name was used; a resumed session must not say so again.
        if self.keys.server_name.is_some() {
            extensions.push(Extension::ServerName(None));
        }
        self.issue_ticket = offered_ticket.is_some() && self.params.sessions.issues_tickets();
        if self.issue_ticket {
            extensions.push(Extension::SessionTicket(Vec::new()));
        }
        let server_hello = ServerHello {
            version: TLS12,
            random: self.keys.server_random,
            session_id,
            suite: suite.id,
            extensions,
        };
        common.send_handshake(handshake::SERVER_HELLO, &server_hello.encode());
        if suite.rsa() {
            self.sign_key_exchange(common, &hello, &mut key_exchange)?;
        }
        common.send_handshake(handshake::SERVER_KEY_EXCHANGE, &key_exchange);
        common.send_handshake(handshake::SERVER_HELLO_DONE, &[]);
        self.exchange = Some(exchange);
        self.state = State::ClientKeyExchange;
        Ok(())
    }

    /// Our first suite the client offers that can run: SRP-RSA only with a certificate; for
    /// PSK, ECDHE_PSK with a curve in common, CBC only with Encrypt-then-MAC, plain PSK only
    /// when allowed. With ECDHE_PSK, the curve.
    fn choose_suite(&self, hello: &ClientHello) -> Result<(Tls12Suite, Option<u16>), Failure> {
        let client_etm = hello.extensions.has(&Extension::EncryptThenMac);
        let group = choose_group(hello.extensions.supported_groups());
        let allow_plain = match &self.params.kx {
            ServerKx12::Psk { allow_plain, .. } => *allow_plain,
            ServerKx12::Srp(_) => false,
        };
        let offered = || {
            self.params
                .suites
                .iter()
                .copied()
                .filter(|s| hello.suites.contains(&s.id))
        };
        let usable = offered().find(|s| match s.kx {
            Kx12::Srp => true,
            Kx12::SrpRsa => self.params.certificate.is_some(),
            Kx12::EcdhePsk => group.is_some() && (s.bulk != Bulk::CbcSha256 || client_etm),
            Kx12::Psk => allow_plain,
        });
        match usable {
            Some(suite) => Ok((suite, group.filter(|_| suite.kx == Kx12::EcdhePsk))),
            None if offered().any(|s| s.kx == Kx12::Psk) && !allow_plain => {
                fail(AlertDescription::HandshakeFailure, PLAIN_PSK_REFUSED)
            }
            None => fail(
                AlertDescription::HandshakeFailure,
                match &self.params.kx {
                    ServerKx12::Srp(_) => "no SRP cipher suite in common",
                    ServerKx12::Psk { .. } => {
                        "no PSK cipher suite in common (ECDHE_PSK needs a curve in common, \
                         and its CBC suite Encrypt-then-MAC)"
                    }
                },
            ),
        }
    }

    /// The rest of a PSK server's first flight: no session to resume or issue (a PSK handshake
    /// costs no more than resuming), the key exchange if it has anything to say, and done.
    fn psk_hello(
        &mut self,
        common: &mut CommonState,
        psk: &Psk12Server,
        suite: Tls12Suite,
        group: Option<u16>,
        mut extensions: Extensions,
    ) -> Result<(), Failure> {
        if self.keys.server_name.is_some() {
            extensions.push(Extension::ServerName(None));
        }
        let server_hello = ServerHello {
            version: TLS12,
            random: self.keys.server_random,
            session_id: Vec::new(),
            suite: suite.id,
            extensions,
        };
        common.send_handshake(handshake::SERVER_HELLO, &server_hello.encode());
        let (key_exchange, exchange) = psk.server_key_exchange(suite.kx, group)?;
        if let Some(key_exchange) = key_exchange {
            common.send_handshake(handshake::SERVER_KEY_EXCHANGE, &key_exchange);
        }
        common.send_handshake(handshake::SERVER_HELLO_DONE, &[]);
        self.psk_exchange = Some(exchange);
        self.state = State::ClientKeyExchange;
        Ok(())
    }

    /// SRP-RSA: sends the Certificate, and appends to `params` a signature over
    /// `client_random | server_random | params` with a scheme the client offered.
    fn sign_key_exchange(
        &self,
        common: &mut CommonState,
        hello: &ClientHello,
        params: &mut Vec<u8>,
    ) -> Result<(), Failure> {
        let named = self.keys.server_name.as_ref().and_then(|asked| {
            let asked = asked.to_ascii_lowercase();
            self.params
                .named_certificates
                .iter()
                .find(|(name, _)| *name == asked)
                .map(|(_, certificate)| certificate)
        });
        let (chain, key) = named.or(self.params.certificate.as_ref()).ok_or_else(|| {
            Failure::local(
                AlertDescription::InternalError,
                "SRP-RSA chosen without a certificate",
            )
        })?;
        // RFC 5246 §7.4.1.4.1: a client without the extension takes RSA with SHA-1.
        let offered: Vec<rustls::SignatureScheme> = match hello.extensions.signature_algorithms() {
            Some(schemes) => schemes
                .iter()
                .map(|s| rustls::SignatureScheme::from(*s))
                .collect(),
            None => vec![rustls::SignatureScheme::RSA_PKCS1_SHA1],
        };
        let signer = key.choose_scheme(&offered).ok_or_else(|| {
            Failure::local(
                AlertDescription::HandshakeFailure,
                "no signature scheme in common",
            )
        })?;
        let mut message = Vec::with_capacity(64 + params.len());
        message.extend_from_slice(&self.keys.client_random);
        message.extend_from_slice(&self.keys.server_random);
        message.extend_from_slice(params);
        let signature = signer
            .sign(&message)
            .map_err(|e| Failure::local(AlertDescription::InternalError, e.to_string()))?;
        params.extend_from_slice(&u16::from(signer.scheme()).to_be_bytes());
        params.extend_from_slice(&(signature.len() as u16).to_be_bytes());
        params.extend_from_slice(&signature);
        // The Certificate goes between ServerHello and ServerKeyExchange.
        common.send_handshake(handshake::CERTIFICATE, &encode_certificate(chain));
        Ok(())
    }

    fn client_key_exchange(
        &mut self,
        common: &mut CommonState,
        body: &[u8],
        raw: &[u8],
    ) -> Result<(), Failure> {
        common.hash(raw);
        let missing = || {
            Failure::local(
                AlertDescription::UnexpectedMessage,
                "no key exchange in progress",
            )
        };
        let premaster = match &self.params.kx {
            ServerKx12::Srp(_) => {
                let exchange = self.exchange.take().ok_or_else(missing)?;
                let (premaster, verifier_digest) = SrpServer::client_key_exchange(exchange, body)?;
                self.verifier_digest = verifier_digest;
                premaster
            }
            ServerKx12::Psk { kx, .. } => {
                let exchange = self.psk_exchange.take().ok_or_else(missing)?;
                let (premaster, identity) = kx.client_key_exchange(exchange, body)?;
                self.psk_identity = Some(identity);
                premaster
            }
        };
        self.keys.derive_master(common, &premaster);
        self.state = State::ChangeCipherSpec;
        Ok(())
    }

    fn send_finished(&mut self, common: &mut CommonState) -> Result<(), Failure> {
        self.keys.send_finished(common, false)
    }

    fn finished(
        &mut self,
        common: &mut CommonState,
        body: &[u8],
        raw: &[u8],
    ) -> Result<(), Failure> {
        self.keys.check_finished(common, false, body, raw)?;
        if self.psk_identity.is_some() {
            self.send_finished(common)?;
        } else if !self.keys.resumed {
            let username = self.username.clone().unwrap_or_default();
            let session = self
                .keys
                .saved_session(username)?
                .with_verifier_digest(self.verifier_digest);
            if self.issue_ticket {
                // Promised in the ServerHello; an empty ticket when no key is at hand.
                let ticket = NewSessionTicket {
                    lifetime_hint: self.params.sessions.ticket_lifetime(),
                    ticket: self
                        .params
                        .sessions
                        .seal_ticket(&session)
                        .unwrap_or_default(),
                };
                common.send_handshake(handshake::NEW_SESSION_TICKET, &ticket.encode());
            }
            self.send_finished(common)?;
            self.params.sessions.put(session, !self.issue_ticket);
        }
        self.state = State::Done;
        Ok(())
    }
}

impl Handshake for ServerHandshake {
    fn start(&mut self, _common: &mut CommonState) -> Result<(), Failure> {
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
            (State::ClientHello, handshake::CLIENT_HELLO) => self.client_hello(common, body, raw),
            (State::ClientKeyExchange, handshake::CLIENT_KEY_EXCHANGE) => {
                self.client_key_exchange(common, body, raw)
            }
            (State::Finished, handshake::FINISHED) => self.finished(common, body, raw),
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
        self.keys.peer_keys_on(common, false)?;
        self.state = State::Finished;
        Ok(())
    }

    fn is_handshaking(&self) -> bool {
        self.state != State::Done
    }

    fn session(&self) -> Session {
        let mut session = self.keys.session(self.username.clone(), &[]);
        session.psk_identity = self.psk_identity.clone();
        session
    }

    fn heavy(&self) -> bool {
        matches!(self.params.kx, ServerKx12::Srp(_))
    }
}
