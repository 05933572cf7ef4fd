//! One port for every client (tlslite's `handshakeServer(certChain=…, verifierDB=…)`): the
//! ClientHello is read first, across records and reads, and decides the engine. A client that
//! asks for SRP (the SRP extension and an SRP suite) gets our engine (SRP); any other gets
//! rustls with the certificate. The bytes read while deciding are replayed into the engine
//! chosen, which then runs the handshake as if it had read them itself.

use std::io;
use std::sync::Arc;

use super::msgs::deframe::{FirstMessage, MAX_HANDSHAKE};
use super::msgs::TLS13;
use super::msgs::{handshake, ClientHello};
use super::rustls_server::RustlsServer;
use super::server::{Server13Params, ServerHandshake, ServerHandshake13, ServerParams};
use super::tls12::SUITES;
use super::tls13::Tls13Connection;
use super::{handover, Engine, Failure, Tls12Connection};
use crate::{AlertDescription, Error, Session};

/// Most bytes read before the ClientHello must be whole: the largest handshake message and
/// the headers of the records carrying it (hellos are a few hundred bytes, a couple of
/// kilobytes with post-quantum key shares, 64 KiB with the longest PSK identity).
const MAX_HELLO_BYTES: usize = MAX_HANDSHAKE + 1024;

/// The engines a server can hand a client to, and the names it answers to.
pub(crate) struct Routes {
    pub(crate) srp: Option<Arc<ServerParams>>,
    /// TLS 1.3 external PSKs.
    pub(crate) psk: Option<Arc<Server13Params>>,
    /// The TLS 1.2 PSK suites.
    pub(crate) psk12: Option<Arc<ServerParams>>,
    pub(crate) x509: Option<Arc<rustls::ServerConfig>>,
    /// With strict SNI: the names answered; any other gets `unrecognized_name`.
    pub(crate) strict_names: Option<KnownNames>,
}

/// The names a strict server answers: those given a certificate of their own, and those its
/// default certificate is valid for. Any other name asked by SNI gets `unrecognized_name`.
#[derive(Debug)]
pub(crate) struct KnownNames {
    named: Vec<String>,
    default_leaf: Option<rustls_pki_types::CertificateDer<'static>>,
}

impl KnownNames {
    /// `named` in canonical form (lower case).
    pub(crate) fn new(
        default_leaf: Option<rustls_pki_types::CertificateDer<'static>>,
        named: Vec<String>,
    ) -> Self {
        Self {
            named,
            default_leaf,
        }
    }

    /// Whether a client asking for `name` by SNI is answered.
    pub(crate) fn knows(&self, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        if self.named.contains(&name) {
            return true;
        }
        let Some(leaf) = &self.default_leaf else {
            return false;
        };
        let (Ok(leaf), Ok(asked)) = (
            webpki::EndEntityCert::try_from(leaf),
            rustls_pki_types::ServerName::try_from(name.as_str()),
        ) else {
            return false;
        };
        leaf.verify_is_valid_for_subject_name(&asked).is_ok()
    }
}

/// Where a ClientHello goes.
enum Route<'a> {
    Psk(&'a Arc<Server13Params>),
    /// Our TLS 1.2 engine: SRP, or the TLS 1.2 PSK suites.
    Srp(&'a Arc<ServerParams>),
    X509(&'a Arc<rustls::ServerConfig>),
}

/// An engine that is first a ClientHello reader, then whichever engine the hello chose.
pub(crate) struct RoutingEngine {
    routes: Arc<Routes>,
    /// Everything read before the choice, replayed into the engine chosen.
    first: FirstMessage,
    chosen: Option<Box<dyn Engine>>,
    /// A ClientHello that could not be read, with the alert bytes queued for it.
    failure: Option<(AlertDescription, String)>,
    outgoing: Vec<u8>,
    eof: bool,
}

impl RoutingEngine {
    pub(crate) fn new(routes: Arc<Routes>) -> Self {
        Self {
            routes,
            first: FirstMessage::default(),
            chosen: None,
            failure: None,
            outgoing: Vec::new(),
            eof: false,
        }
    }

    /// Looks at what has been read: once the ClientHello is whole, picks the engine and
    /// replays the bytes into it.
    fn route(&mut self) -> Result<(), Failure> {
        let Some(hello) = self.whole_client_hello()? else {
            if self.first.seen.len() > MAX_HELLO_BYTES {
                return Err(Failure::local(
                    AlertDescription::DecodeError,
                    "no whole ClientHello in the first 73 KiB",
                ));
            }
            return Ok(());
        };
        if let (Some(known), Some(name)) =
            (&self.routes.strict_names, hello.extensions.server_name())
        {
            if !known.knows(name) {
                return Err(Failure::local(
                    AlertDescription::UnrecognizedName,
                    format!("no certificate for {name:?}"),
                ));
            }
        }
        let mut engine: Box<dyn Engine> = match self.choose(&hello)? {
            Route::Psk(psk) => {
                let handshake = ServerHandshake13::new(psk.clone());
                Box::new(Tls13Connection::new(handshake).map_err(internal)?)
            }
            Route::Srp(srp) => {
                let handshake = ServerHandshake::new(srp.clone());
                Box::new(Tls12Connection::new(handshake).map_err(internal)?)
            }
            Route::X509(x509) => {
                let server_name = hello.extensions.server_name().and_then(sni_name);
                Box::new(RustlsServer::new(x509.clone(), server_name).map_err(internal)?)
            }
        };
        // A hello larger than an engine buffers unprocessed (rustls about 18 KB, ours two
        // records) is processed as it is replayed; one that fits waits for the driver's
        // `process_new_packets`, so that heavy work (SRP) runs where the driver puts it.
        let mut replay = &self.first.seen[..];
        while !replay.is_empty() {
            engine
                .read_tls(&mut replay)
                .map_err(|e| internal(Error::Io(e)))?;
            if !replay.is_empty() && engine.process_new_packets().is_err() {
                // The engine keeps its error and the alert queued: the driver's next call
                // reports both.
                break;
            }
        }
        self.first = FirstMessage::default();
        self.chosen = Some(engine);
        Ok(())
    }

    /// Which engine `hello` goes to: PSK when it offers an identity the store knows over
    /// TLS 1.3, SRP when it asks for SRP, else the certificate. With no certificate, a client
    /// asking for neither meets whichever of our handshakes the server has, which refuses it
    /// with its usual alert (`unknown_psk_identity`, `handshake_failure`).
    fn choose(&self, hello: &ClientHello) -> Result<Route<'_>, Failure> {
        let routes = &*self.routes;
        if let (Some(psk), Some(offer)) = (&routes.psk, hello.extensions.psk_offer()) {
            let tls13 = hello
                .extensions
                .supported_versions()
                .is_some_and(|v| v.contains(&TLS13));
            if tls13 && psk.kx.choose(offer, &psk.suites, &hello.suites)?.is_some() {
                return Ok(Route::Psk(psk));
            }
        }
        let wants_srp = hello.extensions.srp_username().is_some()
            && SUITES.iter().any(|s| hello.suites.contains(&s.id));
        // A TLS 1.2 PSK client names its identity only after the hello: offering our PSK suites
        // (which a client without a key leaves out) is what marks it. One that offers TLS 1.3
        // and a PSK goes to TLS 1.3 above, or, its identity unknown there, to the usual
        // alert or certificate below.
        if let Some(psk12) = &routes.psk12 {
            let offers_tls13_psk = routes.psk.is_some()
                && hello.extensions.psk_offer().is_some()
                && hello
                    .extensions
                    .supported_versions()
                    .is_some_and(|v| v.contains(&TLS13));
            if !offers_tls13_psk && psk12.suites.iter().any(|s| hello.suites.contains(&s.id)) {
                return Ok(Route::Srp(psk12));
            }
        }
        Ok(match (&routes.srp, &routes.x509, &routes.psk) {
            (Some(srp), _, _) if wants_srp => Route::Srp(srp),
            (_, Some(x509), _) => Route::X509(x509),
            (Some(srp), None, None) => Route::Srp(srp),
            (_, None, Some(psk)) if hello.extensions.psk_offer().is_some() => Route::Psk(psk),
            (Some(srp), None, Some(_)) => Route::Srp(srp),
            (None, None, Some(psk)) => Route::Psk(psk),
            (None, None, None) => match &routes.psk12 {
                // TLS 1.2 PSK alone, and a client that offers none of its suites.
                Some(psk12) => Route::Srp(psk12),
                None => {
                    return Err(Failure::local(
                        AlertDescription::InternalError,
                        "a server with no engine",
                    ))
                }
            },
        })
    }

    /// The ClientHello, once whole: the records completed since the last read are joined
    /// (handshake records only), and the first message must be a ClientHello.
    fn whole_client_hello(&mut self) -> Result<Option<ClientHello>, Failure> {
        let Some(message) = self.first.whole()? else {
            return Ok(None);
        };
        if message[0] != handshake::CLIENT_HELLO {
            return Err(Failure::local(
                AlertDescription::UnexpectedMessage,
                "the first handshake message is not a ClientHello",
            ));
        }
        Ok(Some(ClientHello::decode(&message[4..])?))
    }

    fn fail(&mut self, failure: Failure) {
        let (description, message) = match failure {
            Failure::Local(description, message) => (description, message),
            other => (
                AlertDescription::InternalError,
                other.to_error().to_string(),
            ),
        };
        // A plaintext fatal alert: no keys exist yet.
        self.outgoing
            .extend_from_slice(&[21, 3, 3, 0, 2, 2, description.code()]);
        self.failure = Some((description, message));
    }
}

/// The name a client asked for by SNI as rustls reports it: a DNS name, in lower case (an IP
/// address or a malformed name counts as none).
fn sni_name(asked: &str) -> Option<String> {
    let name = rustls_pki_types::DnsName::try_from(asked).ok()?;
    Some(name.to_lowercase_owned().as_ref().to_owned())
}

fn internal(e: Error) -> Failure {
    Failure::local(AlertDescription::InternalError, e.to_string())
}

impl Engine for RoutingEngine {
    fn read_tls(&mut self, rd: &mut dyn io::Read) -> io::Result<usize> {
        if let Some(engine) = &mut self.chosen {
            return engine.read_tls(rd);
        }
        if self.eof || self.failure.is_some() {
            return Ok(0);
        }
        let mut buf = [0u8; 4096];
        let n = rd.read(&mut buf)?;
        if n == 0 {
            self.eof = true;
            return Ok(0);
        }
        self.first.seen.extend_from_slice(&buf[..n]);
        // Route as soon as the hello is whole, so that the engine chosen does the processing
        // (and a driver can tell when that processing is heavy).
        if let Err(failure) = self.route() {
            self.fail(failure);
        }
        Ok(n)
    }

    fn write_tls(&mut self, wr: &mut dyn io::Write) -> io::Result<usize> {
        if let Some(engine) = &mut self.chosen {
            return engine.write_tls(wr);
        }
        let n = wr.write(&self.outgoing)?;
        self.outgoing.drain(..n);
        Ok(n)
    }

    fn process_new_packets(&mut self) -> Result<(), Error> {
        if let Some(engine) = &mut self.chosen {
            return engine.process_new_packets();
        }
        match &self.failure {
            Some((description, message)) => Err(Error::local(*description, message)),
            None => Ok(()),
        }
    }

    fn is_handshaking(&self) -> bool {
        self.chosen.as_ref().is_none_or(|e| e.is_handshaking())
    }

    fn wants_write(&self) -> bool {
        match &self.chosen {
            Some(engine) => engine.wants_write(),
            None => !self.outgoing.is_empty(),
        }
    }

    fn wants_read(&self) -> bool {
        match &self.chosen {
            Some(engine) => engine.wants_read(),
            None => !self.eof && self.failure.is_none(),
        }
    }

    fn read_plaintext(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        handover::read_plaintext(&mut self.chosen, self.eof, buf)
    }

    fn write_plaintext(&mut self, buf: &[u8]) -> io::Result<usize> {
        handover::write_plaintext(&mut self.chosen, buf)
    }

    fn send_close_notify(&mut self) {
        if let Some(engine) = &mut self.chosen {
            engine.send_close_notify();
        }
    }

    fn session(&self) -> Session {
        handover::session(&self.chosen)
    }

    fn heavy_handshake(&self) -> bool {
        self.chosen.as_ref().is_some_and(|e| e.heavy_handshake())
    }
}
