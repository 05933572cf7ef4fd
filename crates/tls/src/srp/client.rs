//! The SRP client's handshake (RFC 5054 over RFC 5246).

use std::sync::Arc;

use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use zeroize::Zeroizing;

use super::codec::{
    decode_certificate, decode_signature, handshake, ClientHello, Extension, Extensions,
    KeyExchangeParams, NewSessionTicket, ServerHello, EMPTY_RENEGOTIATION_INFO_SCSV, TLS12,
};
use super::conn::{fail, Core, Failure, Role};
use super::negotiated::Negotiated;

use super::sessions::{SavedSession, SessionMap};
use super::suites::SrpSuite;
use super::{math, SrpGroup};
use crate::{AlertDescription, Session};

/// What an SRP client is configured with (shared by its connections).
pub(crate) struct SrpClientParams {
    pub(crate) username: String,
    pub(crate) password: Zeroizing<String>,
    pub(crate) suites: Vec<SrpSuite>,
    pub(crate) min_bits: u32,
    pub(crate) max_bits: u32,
    pub(crate) encrypt_then_mac: bool,
    /// Whether a server without Encrypt-then-MAC is accepted (legacy opt-in).
    pub(crate) mac_then_encrypt: bool,
    /// ALPN protocols to offer, in order of preference.
    pub(crate) alpn: Vec<Vec<u8>>,
    /// Whether to send the host name by SNI.
    pub(crate) sni: bool,
    /// Sessions by host and username.
    pub(crate) sessions: SessionMap,
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

pub(crate) struct ClientRole {
    params: Arc<SrpClientParams>,
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
    server_params: Option<(KeyExchangeParams, &'static SrpGroup)>,
    peer_certificates: Vec<Vec<u8>>,
}

/// Why a peer without Encrypt-then-MAC is refused.
pub(crate) const MTE_REFUSED: &str = "the peer does not use Encrypt-then-MAC (RFC 7366); \
     MAC-then-encrypt needs HandshakeSettings::allow_mac_then_encrypt";

impl ClientRole {
    pub(crate) fn new(params: Arc<SrpClientParams>, host: &str) -> Self {
        let mut session_key = host.as_bytes().to_vec();
        session_key.push(0);
        session_key.extend_from_slice(params.username.as_bytes());
        let host = crate::adapter::bare_host(host);
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
            server_params: None,
            peer_certificates: Vec::new(),
        }
    }

    fn server_hello(&mut self, core: &mut Core, body: &[u8], raw: &[u8]) -> Result<(), Failure> {
        let hello = ServerHello::decode(body)?;
        if hello.version != TLS12 {
            return fail(
                AlertDescription::ProtocolVersion,
                "the server did not choose TLS 1.2",
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
                Extension::SessionTicket(empty) if empty.is_empty() && self.params.tickets => {
                    self.ticket_promised = true
                }
                Extension::Alpn(chosen) if !self.params.alpn.is_empty() => match &chosen[..] {
                    [one] if self.params.alpn.contains(one) => self.keys.alpn = Some(one.clone()),
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
        if !self.keys.etm && !self.params.mac_then_encrypt {
            return fail(AlertDescription::InsufficientSecurity, MTE_REFUSED);
        }
        core.hash(raw);
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
        self.state = if suite.rsa {
            State::Certificate
        } else {
            State::KeyExchange
        };
        Ok(())
    }

    /// SRP-RSA: the server's chain, judged by the configured server authentication.
    fn certificate(&mut self, core: &mut Core, body: &[u8], raw: &[u8]) -> Result<(), Failure> {
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
        core.hash(raw);
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

    fn key_exchange(&mut self, core: &mut Core, body: &[u8], raw: &[u8]) -> Result<(), Failure> {
        let (params, signed, rest) = KeyExchangeParams::decode(body)?;
        let group = SrpGroup::find(&params.n, &params.g).ok_or_else(|| {
            Failure::local(
                AlertDescription::InsufficientSecurity,
                "the server's SRP group is not one of RFC 5054's",
            )
        })?;
        if group.bits() < self.params.min_bits {
            return fail(
                AlertDescription::InsufficientSecurity,
                format!(
                    "SRP group of {} bits is below the minimum of {}",
                    group.bits(),
                    self.params.min_bits
                ),
            );
        }
        if group.bits() > self.params.max_bits {
            return fail(
                AlertDescription::InsufficientSecurity,
                format!(
                    "SRP group of {} bits is above the maximum of {}",
                    group.bits(),
                    self.params.max_bits
                ),
            );
        }
        if self.keys.suite()?.rsa {
            self.check_signature(signed, rest)?;
        } else if !rest.is_empty() {
            return fail(
                AlertDescription::DecodeError,
                "trailing bytes after the SRP parameters",
            );
        }
        if math::check_public(group.params(), &params.b).is_err() {
            return fail(
                AlertDescription::IllegalParameter,
                "the server's B is 0 mod N",
            );
        }
        core.hash(raw);
        self.server_params = Some((params, group));
        self.state = State::HelloDone;
        Ok(())
    }

    fn hello_done(&mut self, core: &mut Core, body: &[u8], raw: &[u8]) -> Result<(), Failure> {
        if !body.is_empty() {
            return fail(AlertDescription::DecodeError, "ServerHelloDone has a body");
        }
        core.hash(raw);
        let (params, group) = self.server_params.take().ok_or_else(|| {
            Failure::local(
                AlertDescription::UnexpectedMessage,
                "ServerHelloDone before the key exchange",
            )
        })?;
        let group = group.params();
        let mut a = Zeroizing::new([0u8; 32]);
        core.random(&mut a[..])?;
        let a_pub = math::public_value(group, &a);
        let x = Zeroizing::new(math::x(
            &params.salt,
            self.params.username.as_bytes(),
            self.params.password.as_bytes(),
        ));
        let premaster = math::client_premaster(group, &x, &a, &a_pub, &params.b)
            .map(Zeroizing::new)
            .map_err(|_| {
                Failure::local(
                    AlertDescription::IllegalParameter,
                    "the server's B is 0 mod N",
                )
            })?;
        let mut cke = Vec::with_capacity(2 + a_pub.len());
        cke.extend_from_slice(&(a_pub.len() as u16).to_be_bytes());
        cke.extend_from_slice(&a_pub);
        core.send_handshake(handshake::CLIENT_KEY_EXCHANGE, &cke);
        self.keys.derive_master(core, &premaster);
        self.send_finished(core)?;
        self.state = State::ChangeCipherSpec;
        Ok(())
    }

    fn send_finished(&mut self, core: &mut Core) -> Result<(), Failure> {
        self.keys.send_finished(core, true)
    }

    fn finished(&mut self, core: &mut Core, body: &[u8], raw: &[u8]) -> Result<(), Failure> {
        self.keys.check_finished(core, true, body, raw)?;
        if self.keys.resumed {
            self.send_finished(core)?;
        }
        let suite = self.keys.suite()?;
        self.params.sessions.put(
            self.session_key.clone(),
            SavedSession::new(
                self.keys.session_id.clone(),
                self.keys.master,
                suite.id,
                self.keys.ems,
                self.params.username.clone(),
            )
            .with_ticket(self.new_ticket.take().unwrap_or_default()),
        );
        self.state = State::Done;
        Ok(())
    }

    /// RFC 5077 §3.3: the ticket the ServerHello promised, before the server's
    /// ChangeCipherSpec (an empty one: the server keeps no ticket for us after all).
    fn new_session_ticket(
        &mut self,
        core: &mut Core,
        body: &[u8],
        raw: &[u8],
    ) -> Result<(), Failure> {
        let message = NewSessionTicket::decode(body)?;
        core.hash(raw);
        self.new_ticket = Some(message.ticket);
        self.ticket_promised = false;
        Ok(())
    }
}

impl Role for ClientRole {
    fn start(&mut self, core: &mut Core) -> Result<(), Failure> {
        core.random(&mut self.keys.client_random)?;
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
        extensions.push(Extension::Srp(self.params.username.clone()));
        extensions.push(Extension::ExtendedMasterSecret);
        if self.params.suites.iter().any(|s| s.rsa) {
            let schemes = rsa_schemes(&self.params.signature_algorithms);
            extensions.push(Extension::SignatureAlgorithms(schemes));
        }
        if self.params.encrypt_then_mac {
            extensions.push(Extension::EncryptThenMac);
        }
        if !self.params.alpn.is_empty() {
            extensions.push(Extension::Alpn(self.params.alpn.clone()));
        }
        self.offered_id = match &self.offered_session {
            Some(saved) if !saved.ticket.is_empty() => {
                let mut fresh = vec![0u8; 32];
                core.random(&mut fresh)?;
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
        core.send_handshake(handshake::CLIENT_HELLO, &hello.encode());
        Ok(())
    }

    fn handshake(
        &mut self,
        core: &mut Core,
        kind: u8,
        body: &[u8],
        raw: &[u8],
    ) -> Result<(), Failure> {
        match (self.state, kind) {
            (State::ServerHello, handshake::SERVER_HELLO) => self.server_hello(core, body, raw),
            (State::Certificate, handshake::CERTIFICATE) => self.certificate(core, body, raw),
            (State::KeyExchange, handshake::SERVER_KEY_EXCHANGE) => {
                self.key_exchange(core, body, raw)
            }
            (State::HelloDone, handshake::SERVER_HELLO_DONE) => self.hello_done(core, body, raw),
            (State::Finished, handshake::FINISHED) => self.finished(core, body, raw),
            (State::ChangeCipherSpec, handshake::NEW_SESSION_TICKET) if self.ticket_promised => {
                self.new_session_ticket(core, body, raw)
            }
            (_, handshake::HELLO_REQUEST) if self.state == State::Done => Ok(()),
            (state, kind) => fail(
                AlertDescription::UnexpectedMessage,
                format!("handshake message {kind} while expecting {state:?}"),
            ),
        }
    }

    fn change_cipher_spec(&mut self, core: &mut Core) -> Result<(), Failure> {
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
        self.keys.peer_keys_on(core, true)?;
        self.state = State::Finished;
        Ok(())
    }

    fn is_handshaking(&self) -> bool {
        self.state != State::Done
    }

    fn session(&self) -> Session {
        self.keys
            .session(Some(self.params.username.clone()), &self.peer_certificates)
    }
}
