//! The SMTP dialogue, written once for the blocking and the tokio clients: the opening dance
//! (greeting, EHLO, STARTTLS, EHLO again), AUTH, and mail transactions.

use std::fmt::Display;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::commands::{Auth, Data, Ehlo, Mail, Noop, Quit, Rcpt, Rset, Starttls};
use lettre::transport::smtp::extension::{
    ClientId, Extension, MailBodyParameter, MailParameter, ServerInfo,
};
use lettre::transport::smtp::response::Response;
use lettre::Address;

use crate::data::{self, Encoder};
use crate::wire::{code, read_reply, send_command, text, Wire};
use crate::{Error, RefusedRecipient, SmtpTls};

/// What the server said about one message.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// The server's reply to the end of the message (250 and usually a queue id).
    pub response: Response,
    /// Recipients refused (only with partial delivery; otherwise refusals are an error).
    pub refused: Vec<RefusedRecipient>,
}

/// What EHLO told us.
#[derive(Clone, Debug)]
pub(crate) struct Capabilities {
    pub(crate) info: ServerInfo,
    /// `Some` when SIZE is offered; the inner limit is `None` for "no limit given".
    pub(crate) size: Option<Option<usize>>,
}

impl Capabilities {
    fn from_reply(reply: &Response) -> Result<Self, Error> {
        let info = ServerInfo::from_response(reply)
            .map_err(|e| Error::Protocol(format!("bad EHLO reply: {e}")))?;
        // lettre's ServerInfo does not keep SIZE (RFC 1870), so read it here.
        let size = reply.message().skip(1).find_map(|line| {
            let mut words = line.split_whitespace();
            if !words.next()?.eq_ignore_ascii_case("SIZE") {
                return None;
            }
            let limit = words.next().and_then(|n| n.parse::<usize>().ok());
            Some(limit.filter(|&n| n > 0))
        });
        Ok(Self { info, size })
    }
}

/// A TLS-protected (and, with credentials, logged-in) SMTP session over a [`Wire`].
///
/// After an [`Error::Io`], [`Error::Tls`] or [`Error::Protocol`] from a command the session
/// is broken: every later command fails with [`Error::ConnectionBroken`] without writing
/// anything, since a late reply to the failed command could otherwise be taken as the answer
/// to the next one.
pub(crate) struct Dialogue<W> {
    wire: W,
    pub(crate) session: tls::Session,
    pub(crate) greeting: Response,
    pub(crate) caps: Capabilities,
    partial_delivery: bool,
    broken: bool,
    /// Room for the message's wire form, piece by piece, kept from message to message.
    chunk: Vec<u8>,
}

/// Sends one command line and reads the reply, whatever it is.
async fn exchange(wire: &mut impl Wire, command: impl Display) -> Result<Response, Error> {
    send_command(wire, command).await?;
    read_reply(wire).await
}

/// Like [`exchange`], but only a 2xx reply is a success (see [`positive`]).
async fn expect(
    wire: &mut impl Wire,
    name: &'static str,
    command: impl Display,
) -> Result<Response, Error> {
    positive(name, exchange(wire, command).await?)
}

/// 2xx is a success and 4xx/5xx a refusal ([`Error::Reply`]). A 3xx ("go on, send more")
/// is a success only where we asked for it (354 to DATA, 334 in AUTH, checked there); to
/// any other command it means the server's state is not ours, a [`Error::Protocol`].
fn positive(name: &'static str, reply: Response) -> Result<Response, Error> {
    match code(&reply) / 100 {
        2 => Ok(reply),
        4 | 5 => Err(Error::Reply {
            command: name,
            code: code(&reply),
            text: text(&reply),
        }),
        _ => Err(Error::Protocol(format!(
            "unexpected reply to {name}: {} {}",
            code(&reply),
            text(&reply)
        ))),
    }
}

/// True for errors after which the stream is in an unknown state: a write may have been cut
/// short, a reply may still be on its way. Nothing more can be sent on such a connection.
fn breaks_connection(e: &Error) -> bool {
    matches!(e, Error::Io(_) | Error::Tls(_) | Error::Protocol(_))
}

async fn ehlo(wire: &mut impl Wire, hello: &ClientId) -> Result<Capabilities, Error> {
    let reply = expect(wire, "EHLO", Ehlo::new(hello.clone())).await?;
    Capabilities::from_reply(&reply)
}

/// The greeting (a 220) and what EHLO tells.
async fn greet(wire: &mut impl Wire, hello: &ClientId) -> Result<(Response, Capabilities), Error> {
    let greeting = read_reply(wire).await?;
    if code(&greeting) != 220 {
        return Err(Error::Reply {
            command: "greeting",
            code: code(&greeting),
            text: text(&greeting),
        });
    }
    Ok((greeting, ehlo(wire, hello).await?))
}

/// STARTTLS, if EHLO offered it, up to the server's 220; QUIT on any other answer.
async fn ask_for_tls(wire: &mut impl Wire, caps: &Capabilities) -> Result<(), Error> {
    if !caps.info.supports_feature(Extension::StartTls) {
        let _ = exchange(wire, Quit).await;
        return Err(Error::StartTlsNotOffered);
    }
    let reply = exchange(wire, Starttls).await?;
    if code(&reply) != 220 {
        let _ = exchange(wire, Quit).await;
        return Err(Error::StartTlsRefused {
            code: code(&reply),
            text: text(&reply),
        });
    }
    Ok(())
}

/// The plaintext part of a STARTTLS connection, up to the server's go-ahead (for the trust on
/// first use probe, which then runs its own handshake).
pub(crate) async fn until_starttls(wire: &mut impl Wire, config: &SmtpTls) -> Result<(), Error> {
    let (_, caps) = greet(wire, &config.hello).await?;
    ask_for_tls(wire, &caps).await
}

impl<W: Wire> Dialogue<W> {
    /// Runs the opening over a connected `wire` (already TLS for implicit TLS).
    pub(crate) async fn open(mut wire: W, config: &SmtpTls) -> Result<Self, Error> {
        let (greeting, mut caps) = greet(&mut wire, &config.hello).await?;
        if config.security.starts_in_plaintext() {
            ask_for_tls(&mut wire, &caps).await?;
            wire.start_tls(&config.tls, &config.host).await?;
            // RFC 3207 §4.2: forget everything learnt in plaintext and ask again.
            caps = ehlo(&mut wire, &config.hello).await?;
        }
        let Some(session) = wire.session().cloned() else {
            return Err(Error::Protocol("no TLS session after the handshake".into()));
        };
        log::debug!(
            "SMTP over {} {} with {}",
            session.version(),
            session.cipher_suite(),
            caps.info
        );
        let mut conn = Self {
            wire,
            session,
            greeting,
            caps,
            partial_delivery: config.partial_delivery,
            broken: false,
            chunk: Vec::new(),
        };
        if let Some(credentials) = &config.credentials {
            conn.authenticate(credentials).await?;
        }
        Ok(conn)
    }

    /// AUTH PLAIN (one round) or LOGIN (user name, then password).
    async fn authenticate(&mut self, credentials: &Credentials) -> Result<(), Error> {
        // The wire is TLS by construction; this guards the invariant all the same.
        if self.wire.session().is_none() {
            return Err(Error::Protocol(
                "refusing to send credentials without TLS".into(),
            ));
        }
        let mechanism = self
            .caps
            .info
            .get_auth_mechanism(&[Mechanism::Plain, Mechanism::Login])
            .ok_or(Error::NoAuthMechanism)?;
        let lettre_error = |e: lettre::transport::smtp::Error| Error::Protocol(e.to_string());
        let first = Auth::new(mechanism, credentials.clone(), None).map_err(lettre_error)?;
        let mut reply = exchange(&mut self.wire, first).await?;
        // PLAIN needs no challenge, LOGIN two; a server asking for more is broken.
        for _ in 0..3 {
            match code(&reply) {
                235 => return Ok(()),
                334 => {
                    let next = Auth::new_from_response(mechanism, credentials.clone(), &reply)
                        .map_err(lettre_error)?;
                    reply = exchange(&mut self.wire, next).await?;
                }
                _ => break,
            }
        }
        Err(Error::AuthenticationFailed {
            code: code(&reply),
            text: text(&reply),
        })
    }

    /// Sends one message (documented on `SmtpConnection::send`).
    pub(crate) async fn send(
        &mut self,
        envelope: &Envelope,
        body: &[u8],
    ) -> Result<Delivery, Error> {
        self.usable()?;
        let recipients = envelope.to();
        if recipients.is_empty() {
            return Err(Error::NoRecipients);
        }
        let parameters = self.mail_parameters(envelope, body)?;
        let mail = Mail::new(envelope.from().cloned(), parameters);
        // From the first write until the last reply is read the connection is mid-command: an
        // async send dropped in between (a timeout around it) must leave it broken.
        self.broken = true;
        let mail = expect(&mut self.wire, "MAIL", mail).await;
        self.settle(&mail);
        mail?;
        self.broken = true;
        let result = self.transaction(recipients, body).await;
        match &result {
            Ok(_) => self.broken = false,
            Err(Error::Reply { .. } | Error::RecipientsRefused(_)) => {
                // A refusal: the server is in step with us, so leave it ready for another
                // message (best effort, but a failing RSET does break the connection).
                let reset = exchange(&mut self.wire, Rset).await;
                self.settle(&reset);
            }
            Err(_) => {}
        }
        result
    }

    /// Fails with [`Error::ConnectionBroken`] once the connection is broken.
    fn usable(&self) -> Result<(), Error> {
        if self.broken {
            return Err(Error::ConnectionBroken);
        }
        Ok(())
    }

    /// Marks the connection broken if `result` is an error that leaves the stream in an
    /// unknown state, usable otherwise (a command's whole reply was read).
    fn settle<T>(&mut self, result: &Result<T, Error>) {
        self.broken = result.as_ref().is_err_and(breaks_connection);
    }

    /// True once an I/O, TLS or protocol error has left the connection unusable.
    pub(crate) fn is_broken(&self) -> bool {
        self.broken
    }

    fn mail_parameters(
        &mut self,
        envelope: &Envelope,
        body: &[u8],
    ) -> Result<Vec<MailParameter>, Error> {
        let facts = data::facts(body, &mut self.chunk);
        let mut parameters = Vec::new();
        if let Some(limit) = self.caps.size {
            if let Some(limit) = limit.filter(|&l| facts.size > l) {
                return Err(Error::MessageTooLarge {
                    size: facts.size,
                    limit,
                });
            }
            parameters.push(MailParameter::Size(facts.size));
        }
        if facts.eight_bit {
            if !self.caps.info.supports_feature(Extension::EightBitMime) {
                return Err(Error::EightBitNotSupported);
            }
            parameters.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        let international = |a: &Address| !AsRef::<str>::as_ref(a).is_ascii();
        if envelope.from().is_some_and(international) || envelope.to().iter().any(international) {
            if !self.caps.info.supports_feature(Extension::SmtpUtfEight) {
                return Err(Error::SmtpUtf8NotSupported);
            }
            parameters.push(MailParameter::SmtpUtfEight);
        }
        Ok(parameters)
    }

    /// RCPT TO for each recipient, then DATA; MAIL FROM was accepted.
    async fn transaction(
        &mut self,
        recipients: &[Address],
        body: &[u8],
    ) -> Result<Delivery, Error> {
        let mut refused = Vec::new();
        for address in recipients {
            let rcpt = Rcpt::new(address.clone(), Vec::new());
            let reply = exchange(&mut self.wire, rcpt).await?;
            match positive("RCPT", reply) {
                Ok(_) => {}
                Err(Error::Reply { code, text, .. }) => refused.push(RefusedRecipient {
                    address: address.clone(),
                    code,
                    text,
                }),
                Err(e) => return Err(e),
            }
        }
        if refused.len() == recipients.len() || (!refused.is_empty() && !self.partial_delivery) {
            return Err(Error::RecipientsRefused(refused));
        }
        let go_ahead = exchange(&mut self.wire, Data).await?;
        if code(&go_ahead) != 354 {
            // 4xx/5xx is a refusal; a 2xx or another 3xx leaves us unsure what the server
            // expects next, a protocol error.
            let reply = positive("DATA", go_ahead)?;
            return Err(Error::Protocol(format!(
                "DATA answered {} instead of 354",
                code(&reply)
            )));
        }
        let mut encoder = Encoder::data(body);
        while encoder.next_chunk(&mut self.chunk) {
            self.wire.write_all(&self.chunk).await?;
        }
        self.wire.flush().await?;
        let response = positive("message", read_reply(&mut self.wire).await?)?;
        Ok(Delivery { response, refused })
    }

    /// RSET: abandons a transaction in progress.
    pub(crate) async fn rset(&mut self) -> Result<Response, Error> {
        self.command("RSET", Rset).await
    }

    /// NOOP: checks the server is still there (and resets its idle timer).
    pub(crate) async fn noop(&mut self) -> Result<Response, Error> {
        self.command("NOOP", Noop).await
    }

    /// One command and its reply, broken in between (see [`send`](Self::send)).
    async fn command(
        &mut self,
        name: &'static str,
        command: impl Display,
    ) -> Result<Response, Error> {
        self.usable()?;
        self.broken = true;
        let reply = expect(&mut self.wire, name, command).await;
        self.settle(&reply);
        reply
    }

    /// QUIT, then close_notify. On a broken connection it sends nothing and returns
    /// [`Error::ConnectionBroken`]; dropping the dialogue closes the socket.
    pub(crate) async fn quit(mut self) -> Result<Response, Error> {
        self.usable()?;
        let reply = expect(&mut self.wire, "QUIT", Quit).await;
        self.wire.close().await;
        reply
    }
}

/// What both connection types tell about their session, read from their `dialogue` field.
macro_rules! session_accessors {
    () => {
        /// True once an I/O, TLS or protocol error has left the connection unusable; every
        /// command then fails with [`Error::ConnectionBroken`].
        pub fn is_broken(&self) -> bool {
            self.dialogue.is_broken()
        }

        /// The TLS session: version, cipher suite, the server's certificate fingerprints, the
        /// SRP user name.
        pub fn tls_session(&self) -> &tls::Session {
            &self.dialogue.session
        }

        /// The server's greeting (the 220 line it sent first).
        pub fn greeting(&self) -> &Response {
            &self.dialogue.greeting
        }

        /// What the server offered in its EHLO reply under TLS.
        pub fn server_info(&self) -> &lettre::transport::smtp::extension::ServerInfo {
            &self.dialogue.caps.info
        }

        /// The SIZE limit the server announced, if any.
        pub fn size_limit(&self) -> Option<usize> {
            self.dialogue.caps.size.flatten()
        }
    };
}
pub(crate) use session_accessors;

impl<W> std::fmt::Debug for Dialogue<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConnection")
            .field("server", &self.caps.info)
            .field("tls", &self.session.cipher_suite())
            .finish_non_exhaustive()
    }
}
