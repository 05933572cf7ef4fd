//! The server's TLS 1.3 handshake with an external PSK (RFC 8446 §2.2, §4.1–4.4): it picks an
//! identity the store knows, checks its binder, asks for another key share when needed
//! (HelloRetryRequest), refuses early data, and proves the key with its Finished.

use std::sync::Arc;

use subtle::ConstantTimeEq;

use crate::engine::kx::ecdhe::{KeyShare, GROUPS};
use crate::engine::kx::psk::{ChosenPsk, PskServer, PSK_DHE_KE, PSK_KE};
use crate::engine::msgs::{
    content, handshake, ClientHello, Extension, Extensions, KeyShareEntry, ServerHello,
    HELLO_RETRY_REQUEST, TLS12, TLS13,
};
use crate::engine::tls13::key_schedule::{finished_value, resumption_psk};
use crate::engine::tls13::record::RecordKeys;
use crate::engine::tls13::{
    psk_session, Handshake13, KeySchedule, Records13, Secret, Tls13Suite, Transcript,
};
use crate::engine::{fail, Failure};
use crate::resumption::TicketState;
use crate::{AlertDescription, Session};

/// What a TLS 1.3 PSK server is configured with (shared by its connections).
pub(crate) struct Server13Params {
    pub(crate) kx: PskServer,
    /// The suites allowed, in our order of preference.
    pub(crate) suites: Vec<Tls13Suite>,
    pub(crate) alpn: Vec<Vec<u8>>,
    /// `psk_ke` (no forward secrecy) is taken from a client that offers nothing else.
    pub(crate) allow_psk_ke: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    ClientHello,
    /// After a HelloRetryRequest: the second ClientHello must share a key on `group`.
    RetriedHello {
        group: u16,
    },
    Finished,
    Done,
}

/// A server's TLS 1.3 external-PSK handshake.
pub(crate) struct ServerHandshake13 {
    params: Arc<Server13Params>,
    state: State,
    transcript: Transcript,
    suite: Option<Tls13Suite>,
    sent_change_cipher_spec: bool,
    /// The client's Finished, computed as soon as our own is sent.
    expected_finished: Vec<u8>,
    client_app: Option<Secret>,
    identity: Option<Vec<u8>>,
    key_digest: [u8; 32],
    resumed: bool,
    server_name: Option<String>,
    alpn: Option<Vec<u8>>,
}

impl ServerHandshake13 {
    pub(crate) fn new(params: Arc<Server13Params>) -> Self {
        Self {
            params,
            state: State::ClientHello,
            transcript: Transcript::default(),
            suite: None,
            sent_change_cipher_spec: false,
            expected_finished: Vec::new(),
            client_app: None,
            identity: None,
            key_digest: [0; 32],
            resumed: false,
            server_name: None,
            alpn: None,
        }
    }

    fn client_hello(
        &mut self,
        records: &mut Records13,
        body: &[u8],
        raw: &[u8],
    ) -> Result<(), Failure> {
        let hello = ClientHello::decode(body)?;
        let retried_group = match self.state {
            State::RetriedHello { group } => Some(group),
            _ => None,
        };
        if !hello
            .extensions
            .supported_versions()
            .is_some_and(|v| v.contains(&TLS13))
        {
            return fail(
                AlertDescription::ProtocolVersion,
                "this server takes pre-shared keys over TLS 1.3, which the client does not offer",
            );
        }
        let Some(offer) = hello.extensions.psk_offer() else {
            return fail(
                AlertDescription::HandshakeFailure,
                "this server authenticates clients by pre-shared key, and none was offered",
            );
        };
        if !matches!(hello.extensions.0.last(), Some(Extension::PreSharedKey(_))) {
            return fail(
                AlertDescription::IllegalParameter,
                "pre_shared_key is not the last extension",
            );
        }
        // psk_dhe_ke whenever offered; psk_ke only when allowed and nothing else is.
        let without_dhe = match hello.extensions.psk_modes() {
            None => {
                return fail(
                    AlertDescription::MissingExtension,
                    "pre_shared_key without psk_key_exchange_modes",
                )
            }
            Some(modes) if modes.contains(&PSK_DHE_KE) => false,
            Some(modes) if modes.contains(&PSK_KE) && self.params.allow_psk_ke => true,
            Some(_) => {
                return fail(
                    AlertDescription::HandshakeFailure,
                    "the client offers only psk_ke, which has no forward secrecy (a server \
                     takes it only through tls::dangerous::accept_psk_without_forward_secrecy)",
                )
            }
        };
        if hello.extensions.has(&Extension::EarlyData) {
            if retried_group.is_some() {
                return fail(
                    AlertDescription::IllegalParameter,
                    "early data offered after a HelloRetryRequest",
                );
            }
            // 0-RTT is never accepted: the early records are skipped (RFC 8446 §4.2.10).
            records.skip_early_data();
        }
        let Some(chosen) = self
            .params
            .kx
            .choose(offer, &self.params.suites, &hello.suites)?
        else {
            return fail(
                AlertDescription::UnknownPskIdentity,
                "none of the client's PSK identities is known here",
            );
        };
        if self.suite.is_some_and(|s| s != chosen.suite) {
            return fail(
                AlertDescription::IllegalParameter,
                "the second ClientHello does not allow the suite chosen",
            );
        }
        PskServer::check_binder(&chosen, offer, raw, &self.transcript)?;
        if self.server_name.is_none() {
            self.server_name = hello.extensions.server_name().map(str::to_owned);
        }
        self.alpn = self.choose_alpn(&hello)?;
        if without_dhe {
            return self.accept(records, &hello, chosen, None, raw);
        }
        let shares = hello.extensions.key_shares().unwrap_or(&[]);
        let groups = hello.extensions.supported_groups().unwrap_or(&[]);
        if shares.iter().any(|share| !groups.contains(&share.group)) {
            return fail(
                AlertDescription::IllegalParameter,
                "a key share on a group the client does not list in supported_groups",
            );
        }
        let share = GROUPS
            .iter()
            .find_map(|group| shares.iter().find(|s| s.group == *group));
        let share = match (share, retried_group) {
            (Some(share), Some(group)) if share.group != group => {
                return fail(
                    AlertDescription::IllegalParameter,
                    "the second ClientHello shares a key on another group than asked",
                )
            }
            (Some(share), _) => share,
            (None, Some(_)) => {
                return fail(
                    AlertDescription::IllegalParameter,
                    "the second ClientHello has no key share on the group asked for",
                )
            }
            (None, None) => return self.retry(records, &hello, chosen.suite, raw),
        };
        self.accept(records, &hello, chosen, Some(share), raw)
    }

    fn choose_alpn(&self, hello: &ClientHello) -> Result<Option<Vec<u8>>, Failure> {
        let Some(offered) = hello.extensions.alpn() else {
            return Ok(None);
        };
        if self.params.alpn.is_empty() {
            return Ok(None);
        }
        match self.params.alpn.iter().find(|p| offered.contains(p)) {
            Some(protocol) => Ok(Some(protocol.clone())),
            None => fail(
                AlertDescription::NoApplicationProtocol,
                "no application protocol in common (ALPN)",
            ),
        }
    }

    /// No key share we can use: ask for one on a group both sides support.
    fn retry(
        &mut self,
        records: &mut Records13,
        hello: &ClientHello,
        suite: Tls13Suite,
        raw: &[u8],
    ) -> Result<(), Failure> {
        let groups = hello.extensions.supported_groups().unwrap_or(&[]);
        let Some(group) = GROUPS.iter().find(|g| groups.contains(g)).copied() else {
            return fail(
                AlertDescription::HandshakeFailure,
                "no key exchange group in common (X25519, secp256r1)",
            );
        };
        self.transcript.start(suite.hash);
        self.transcript.add(raw);
        self.transcript.replace_with_message_hash(suite.hash);
        let retry = ServerHello {
            version: TLS12,
            random: HELLO_RETRY_REQUEST,
            session_id: hello.session_id.clone(),
            suite: suite.id,
            extensions: Extensions::from(vec![
                Extension::SelectedVersion(TLS13),
                Extension::KeyShareRetry(group),
            ]),
        };
        records.send_handshake(
            &mut self.transcript,
            handshake::SERVER_HELLO,
            &retry.encode(),
        );
        self.compatibility_change_cipher_spec(records, hello);
        self.suite = Some(suite);
        self.state = State::RetriedHello { group };
        Ok(())
    }

    /// A client in middlebox compatibility mode (a legacy session ID) expects a
    /// ChangeCipherSpec after our first hello (RFC 8446 §D.4).
    fn compatibility_change_cipher_spec(&mut self, records: &mut Records13, hello: &ClientHello) {
        if !hello.session_id.is_empty() && !self.sent_change_cipher_spec {
            records.send(content::CHANGE_CIPHER_SPEC, &[1]);
            self.sent_change_cipher_spec = true;
        }
    }

    fn accept(
        &mut self,
        records: &mut Records13,
        hello: &ClientHello,
        chosen: ChosenPsk,
        client_share: Option<&KeyShareEntry>,
        raw: &[u8],
    ) -> Result<(), Failure> {
        let suite = chosen.suite;
        let mut extensions = vec![Extension::SelectedVersion(TLS13)];
        // psk_ke: no share, and zeros in place of the (EC)DHE secret (RFC 8446 §7.1).
        let shared = match client_share {
            Some(client_share) => {
                let share = KeyShare::new(client_share.group)?;
                extensions.push(Extension::KeyShare(KeyShareEntry {
                    group: client_share.group,
                    public: share.public.clone(),
                }));
                share.agree(&client_share.public)?
            }
            None => vec![0; suite.hash.len()],
        };
        extensions.push(Extension::SelectedPsk(chosen.index));
        let mut random = [0u8; 32];
        records.common.random(&mut random)?;
        let server_hello = ServerHello {
            version: TLS12,
            random,
            session_id: hello.session_id.clone(),
            suite: suite.id,
            extensions: Extensions::from(extensions),
        };
        self.transcript.start(suite.hash);
        self.transcript.add(raw);
        records.send_handshake(
            &mut self.transcript,
            handshake::SERVER_HELLO,
            &server_hello.encode(),
        );
        self.compatibility_change_cipher_spec(records, hello);
        let mut schedule = KeySchedule::early(suite.hash, &chosen.key);
        schedule.enter_handshake(&shared);
        let hash = self.transcript.current();
        let client = schedule.derive(b"c hs traffic", &hash);
        let server = schedule.derive(b"s hs traffic", &hash);
        records.write = Some(RecordKeys::new(&suite, server.clone()));
        records.set_read(RecordKeys::new(&suite, client.clone()));
        let mut extensions = Vec::new();
        if let Some(protocol) = &self.alpn {
            extensions.push(Extension::Alpn(vec![protocol.clone()]));
        }
        let mut w = crate::engine::msgs::codec::Writer::default();
        Extensions::from(extensions).write_block(&mut w);
        records.send_handshake(
            &mut self.transcript,
            handshake::ENCRYPTED_EXTENSIONS,
            &w.bytes,
        );
        let verify = finished_value(suite.hash, &server, &self.transcript.current());
        records.send_handshake(&mut self.transcript, handshake::FINISHED, &verify);
        schedule.enter_master();
        let hash = self.transcript.current();
        let client_app = schedule.derive(b"c ap traffic", &hash);
        let server_app = schedule.derive(b"s ap traffic", &hash);
        records.write = Some(RecordKeys::new(&suite, server_app));
        // The client's Finished can only be one value: known now, it lets the ticket go out
        // in this flight, read by the client during its handshake. Sent after the client's
        // Finished instead, a ticket would sit unread at a client that only writes, and its
        // close would reset the connection under data not yet read here.
        let client_finished = finished_value(suite.hash, &client, &hash);
        let mut transcript = self.transcript.clone();
        transcript.add(&crate::engine::msgs::handshake_message(
            handshake::FINISHED,
            &client_finished,
        ));
        self.expected_finished = client_finished;
        self.client_app = Some(client_app);
        self.suite = Some(suite);
        self.identity = Some(chosen.identity);
        self.key_digest = chosen.key_digest;
        self.resumed = chosen.resumed;
        self.state = State::Finished;
        self.issue_ticket(records, suite, &schedule, &transcript)
    }

    fn finished(
        &mut self,
        records: &mut Records13,
        body: &[u8],
        raw: &[u8],
    ) -> Result<(), Failure> {
        let (Some(suite), Some(client_app)) = (self.suite, self.client_app.take()) else {
            return fail(AlertDescription::InternalError, "Finished before the keys");
        };
        if !bool::from(self.expected_finished.ct_eq(body)) {
            return fail(
                AlertDescription::DecryptError,
                "the client's Finished is wrong",
            );
        }
        self.transcript.add(raw);
        records.set_read(RecordKeys::new(&suite, client_app));
        records.skip_early_data = 0;
        self.state = State::Done;
        Ok(())
    }

    /// One NewSessionTicket when tickets are on: the resumption PSK and the identity sealed
    /// under the ticket keys, so that any server holding them resumes (RFC 8446 §4.6.1).
    /// `transcript`: through the client's Finished.
    fn issue_ticket(
        &self,
        records: &mut Records13,
        suite: Tls13Suite,
        schedule: &KeySchedule,
        transcript: &Transcript,
    ) -> Result<(), Failure> {
        let (Some(sealer), Some(identity)) =
            (self.params.kx.tickets.as_ref(), self.identity.clone())
        else {
            return Ok(());
        };
        let master = schedule.derive(b"res master", &transcript.current());
        let nonce = [0u8];
        let psk = resumption_psk(suite.hash, &master, &nonce);
        let state = TicketState::new(suite.id, identity, self.key_digest, &psk);
        let Some(ticket) = sealer.seal(&state) else {
            log::warn!("no ticket key for now: no TLS 1.3 ticket issued");
            return Ok(());
        };
        let mut age_add = [0u8; 4];
        records.common.random(&mut age_add)?;
        let mut w = crate::engine::msgs::codec::Writer::default();
        w.raw(&sealer.lifetime().to_be_bytes()).raw(&age_add);
        w.vec(1, |w| {
            w.raw(&nonce);
        });
        w.vec(2, |w| {
            w.raw(&ticket);
        });
        w.u16(0);
        records.send(
            content::HANDSHAKE,
            &crate::engine::msgs::handshake_message(handshake::NEW_SESSION_TICKET, &w.bytes),
        );
        Ok(())
    }
}

impl Handshake13 for ServerHandshake13 {
    fn start(&mut self, _records: &mut Records13) -> Result<(), Failure> {
        Ok(())
    }

    fn message(
        &mut self,
        records: &mut Records13,
        kind: u8,
        body: &[u8],
        raw: &[u8],
    ) -> Result<(), Failure> {
        match (self.state, kind) {
            (State::ClientHello | State::RetriedHello { .. }, handshake::CLIENT_HELLO) => {
                self.client_hello(records, body, raw)
            }
            (State::Finished, handshake::FINISHED) => self.finished(records, body, raw),
            _ => fail(
                AlertDescription::UnexpectedMessage,
                format!("handshake message {kind} out of place (TLS 1.3 PSK server)"),
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
            self.server_name.clone(),
            self.resumed,
        )
    }
}
