//! The SRP server's handshake (RFC 5054 over RFC 5246).

use std::sync::Arc;

use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockEncrypt, KeyInit};
use aes::Aes128;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::client::MTE_REFUSED;
use super::codec::{
    decode_client_key_exchange, encode_certificate, handshake, ClientHello, Extension, Extensions,
    KeyExchangeParams, NewSessionTicket, ServerHello, EMPTY_RENEGOTIATION_INFO_SCSV, TLS12,
};
use super::conn::{fail, Core, Failure, Role};
use super::negotiated::Negotiated;

use super::math;
use super::sessions::{SavedSession, ServerSessions};
use super::suites::SrpSuite;
use super::verifier::{VerifierEntry, VerifierStore, SALT_LEN};
use crate::{AlertDescription, Session};

/// An SRP-RSA server's chain (DER, leaf first) and RSA signing key.
pub(crate) type SrpCertificate = (Vec<Vec<u8>>, Arc<dyn rustls::sign::SigningKey>);

/// What an SRP server is configured with (shared by its connections).
pub(crate) struct SrpServerParams {
    pub(crate) store: Arc<dyn VerifierStore>,
    pub(crate) suites: Vec<SrpSuite>,
    pub(crate) encrypt_then_mac: bool,
    /// Whether a client without Encrypt-then-MAC is accepted (legacy opt-in).
    pub(crate) mac_then_encrypt: bool,
    /// Answer unknown users with a fake but stable salt and verifier (RFC 5054 §2.5.1.3).
    pub(crate) simulate_unknown_users: bool,
    /// Keys the fake salts; random per configuration.
    pub(crate) secret: [u8; 32],
    pub(crate) sessions: Arc<ServerSessions>,
    /// For the SRP-RSA suites: the chain and its RSA signing key.
    pub(crate) certificate: Option<SrpCertificate>,
    /// ALPN protocols in order of preference; empty: none negotiated.
    pub(crate) alpn: Vec<Vec<u8>>,
    /// SRP-RSA chains for the names clients ask for by SNI (`certificate` for any other).
    pub(crate) named_certificates: Vec<(String, SrpCertificate)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    ClientHello,
    ClientKeyExchange,
    ChangeCipherSpec,
    Finished,
    Done,
}

pub(crate) struct ServerRole {
    params: Arc<SrpServerParams>,
    state: State,
    keys: Negotiated,
    username: Option<String>,
    /// The user's entry and our secret `b` with `B`, between hello and key exchange.
    exchange: Option<(VerifierEntry, Zeroizing<[u8; 32]>, Vec<u8>)>,
    /// What the session's user's entry looked like, so a later change ends resumption.
    verifier_digest: [u8; 32],
    /// Whether this full handshake ends with a NewSessionTicket (the client asked for tickets
    /// and the server issues them).
    issue_ticket: bool,
}

impl ServerRole {
    pub(crate) fn new(params: Arc<SrpServerParams>) -> Self {
        Self {
            params,
            keys: Negotiated::default(),
            state: State::ClientHello,
            username: None,
            exchange: None,
            verifier_digest: [0; 32],
            issue_ticket: false,
        }
    }

    /// The entry for an unknown user when simulating, made to be indistinguishable from a real
    /// one, in content and in cost. The same salt every time for the same name (keyed by the
    /// store's secret, so every server of the store agrees), shaped like `make_verifier`'s
    /// salts, in the store's default group. The verifier is keyed output one byte shorter
    /// than N, so already below it: no exponentiation and no reduction, where computing
    /// `g^x` would make unknown names slower to answer. Its distribution does not matter: the
    /// client only sees it masked in `B = k·v + g^b`.
    fn fake_entry(&self, username: &str) -> VerifierEntry {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.params.secret)
            .expect("HMAC takes any key length");
        mac.update(b"unknown SRP user");
        mac.update(username.as_bytes());
        let user_key = Zeroizing::new(<[u8; 32]>::from(mac.finalize().into_bytes()));
        // AES-128 in counter mode under the per-name key: one HMAC, then a few AES blocks.
        let aes = Aes128::new(GenericArray::from_slice(&user_key[..16]));
        let block = |counter: u64| {
            let mut block = GenericArray::from([0u8; 16]);
            block[8..].copy_from_slice(&counter.to_be_bytes());
            aes.encrypt_block(&mut block);
            block
        };
        // Real salts are drawn again until their first byte is not zero: do the same.
        let salt = (0..256)
            .map(|counter| block(counter)[..SALT_LEN].to_vec())
            .find(|salt| salt[0] != 0)
            .unwrap_or_else(|| vec![1; SALT_LEN]);
        let group = self.params.store.default_group();
        let verifier: Vec<u8> = (1 << 32..)
            .flat_map(block)
            .take(group.params().len() - 1)
            .collect();
        VerifierEntry {
            group,
            salt,
            verifier,
        }
    }

    /// ALPN (RFC 7301): our first protocol the client offers; none in common is fatal. A server
    /// without a list, or a client that offers none, negotiates nothing.
    fn choose_protocol(&self, offered: Option<&[Vec<u8>]>) -> Result<Option<Vec<u8>>, Failure> {
        let (Some(offered), false) = (offered, self.params.alpn.is_empty()) else {
            return Ok(None);
        };
        match self.params.alpn.iter().find(|p| offered.contains(p)) {
            Some(protocol) => Ok(Some(protocol.clone())),
            None => fail(
                AlertDescription::NoApplicationProtocol,
                "no ALPN protocol in common",
            ),
        }
    }

    /// The stored entry for `username`, checked: a store's bad entry fails the handshake
    /// rather than letting anyone in.
    fn stored_entry(&self, username: &str) -> Result<Option<VerifierEntry>, Failure> {
        let internal = |e: crate::Error| {
            Failure::local(
                AlertDescription::InternalError,
                format!("verifier lookup failed: {e}"),
            )
        };
        let entry = self.params.store.lookup(username).map_err(internal)?;
        if let Some(entry) = &entry {
            entry.validate().map_err(internal)?;
        }
        Ok(entry)
    }

    /// Whether a cached session may resume: its user still exists with the same verifier
    /// (a deleted user, or a changed password, ends every session made before).
    fn still_valid(&self, saved: &SavedSession) -> bool {
        matches!(
            self.params.store.lookup(&saved.username),
            Ok(Some(entry)) if entry.digest() == saved.verifier_digest
        )
    }

    fn client_hello(&mut self, core: &mut Core, body: &[u8], raw: &[u8]) -> Result<(), Failure> {
        let hello = ClientHello::decode(body)?;
        if hello.version < TLS12 {
            return fail(
                AlertDescription::ProtocolVersion,
                "the client does not offer TLS 1.2",
            );
        }
        let Some(username) = hello.extensions.srp_username().map(str::to_owned) else {
            return fail(
                AlertDescription::HandshakeFailure,
                "the client sent no SRP username",
            );
        };
        if username.is_empty() {
            return fail(AlertDescription::IllegalParameter, "empty SRP username");
        }
        let suite = self
            .params
            .suites
            .iter()
            .copied()
            .filter(|s| !s.rsa || self.params.certificate.is_some())
            .find(|s| hello.suites.contains(&s.id))
            .ok_or_else(|| {
                Failure::local(
                    AlertDescription::HandshakeFailure,
                    "no SRP cipher suite in common",
                )
            })?;
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
        self.keys.etm =
            self.params.encrypt_then_mac && hello.extensions.has(&Extension::EncryptThenMac);
        if !self.keys.etm && !self.params.mac_then_encrypt {
            return fail(AlertDescription::InsufficientSecurity, MTE_REFUSED);
        }
        self.keys.ems = hello.extensions.has(&Extension::ExtendedMasterSecret);
        self.keys.server_name = hello.extensions.server_name().map(str::to_owned);
        self.keys.alpn = self.choose_protocol(hello.extensions.alpn())?;
        self.keys.client_random = hello.random;
        core.random(&mut self.keys.server_random)?;
        core.hash(raw);
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
            .filter(|s| self.still_valid(s));
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
            core.send_handshake(handshake::SERVER_HELLO, &server_hello.encode());
            self.send_finished(core)?;
            self.state = State::ChangeCipherSpec;
            return Ok(());
        }

        let entry = match self.stored_entry(&username)? {
            Some(entry) => entry,
            None if self.params.simulate_unknown_users => self.fake_entry(&username),
            None => {
                return fail(
                    AlertDescription::UnknownPskIdentity,
                    format!("unknown SRP user {username:?}"),
                )
            }
        };
        let mut b = Zeroizing::new([0u8; 32]);
        core.random(&mut b[..])?;
        let group = entry.group.params();
        let b_pub = math::server_public(group, &entry.verifier, &b);
        let mut session_id = vec![0u8; 32];
        core.random(&mut session_id)?;
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
        core.send_handshake(handshake::SERVER_HELLO, &server_hello.encode());
        let params = KeyExchangeParams {
            n: group.n_bytes.clone(),
            g: group.g_bytes.clone(),
            salt: entry.salt.clone(),
            b: b_pub.clone(),
        };
        let mut key_exchange = params.encode();
        if suite.rsa {
            self.sign_key_exchange(core, &hello, &mut key_exchange)?;
        }
        core.send_handshake(handshake::SERVER_KEY_EXCHANGE, &key_exchange);
        core.send_handshake(handshake::SERVER_HELLO_DONE, &[]);
        self.exchange = Some((entry, b, b_pub));
        self.state = State::ClientKeyExchange;
        Ok(())
    }

    /// SRP-RSA: sends the Certificate, and appends to `params` a signature over
    /// `client_random | server_random | params` with a scheme the client offered.
    fn sign_key_exchange(
        &self,
        core: &mut Core,
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
        core.send_handshake(handshake::CERTIFICATE, &encode_certificate(chain));
        Ok(())
    }

    fn client_key_exchange(
        &mut self,
        core: &mut Core,
        body: &[u8],
        raw: &[u8],
    ) -> Result<(), Failure> {
        let a_pub = decode_client_key_exchange(body)?;
        core.hash(raw);
        let (entry, b, b_pub) = self.exchange.take().ok_or_else(|| {
            Failure::local(
                AlertDescription::UnexpectedMessage,
                "no key exchange in progress",
            )
        })?;
        self.verifier_digest = entry.digest();
        let premaster =
            math::server_premaster(entry.group.params(), &entry.verifier, &b, &a_pub, &b_pub)
                .map(Zeroizing::new)
                .map_err(|_| {
                    Failure::local(
                        AlertDescription::IllegalParameter,
                        "the client's A is 0 mod N",
                    )
                })?;
        self.keys.derive_master(core, &premaster);
        self.state = State::ChangeCipherSpec;
        Ok(())
    }

    fn send_finished(&mut self, core: &mut Core) -> Result<(), Failure> {
        self.keys.send_finished(core, false)
    }

    fn finished(&mut self, core: &mut Core, body: &[u8], raw: &[u8]) -> Result<(), Failure> {
        self.keys.check_finished(core, false, body, raw)?;
        if !self.keys.resumed {
            let suite = self.keys.suite()?;
            let username = self.username.clone().unwrap_or_default();
            let session = SavedSession::new(
                self.keys.session_id.clone(),
                self.keys.master,
                suite.id,
                self.keys.ems,
                username,
            )
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
                core.send_handshake(handshake::NEW_SESSION_TICKET, &ticket.encode());
            }
            self.send_finished(core)?;
            self.params.sessions.put(session, !self.issue_ticket);
        }
        self.state = State::Done;
        Ok(())
    }
}

impl Role for ServerRole {
    fn start(&mut self, _core: &mut Core) -> Result<(), Failure> {
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
            (State::ClientHello, handshake::CLIENT_HELLO) => self.client_hello(core, body, raw),
            (State::ClientKeyExchange, handshake::CLIENT_KEY_EXCHANGE) => {
                self.client_key_exchange(core, body, raw)
            }
            (State::Finished, handshake::FINISHED) => self.finished(core, body, raw),
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
        self.keys.peer_keys_on(core, false)?;
        self.state = State::Finished;
        Ok(())
    }

    fn is_handshaking(&self) -> bool {
        self.state != State::Done
    }

    fn session(&self) -> Session {
        self.keys.session(self.username.clone(), &[])
    }
}
