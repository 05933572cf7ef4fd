//! Client configuration: how to authenticate the server, and connecting.

mod verify;

use std::io::{Read, Write};
use std::sync::Arc;

use rustls::client::{ClientSessionMemoryCache, Resumption, WebPkiServerVerifier};
use rustls::RootCertStore;
use rustls_pki_types::ServerName;

use crate::engine::Engine;
use crate::{
    CertificateChain, Checker, Error, Fingerprint, HandshakeSettings, PrivateKey, Session,
    TlsStream, TrustRoots,
};
use verify::{Accept, KeyHolderVerifier};

/// How a client decides that the server is the one it meant to reach.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub enum ServerAuth {
    /// The Mozilla root set (webpki-roots) and the host name. The default.
    #[default]
    WebPki,
    /// These certificate authorities and the host name.
    Roots(TrustRoots),
    /// The server's leaf certificate must have this fingerprint. No CA or host-name check:
    /// the pin alone names the server. The server must still prove it holds the key.
    Fingerprint(Fingerprint),
}

/// Resumable sessions a client remembers.
///
/// A session resumes only under the configuration that made it (the same server
/// authentication and client certificate): configurations sharing a store keep their sessions
/// apart, so a session made under a pin never lets another configuration skip its own checks.
#[derive(Clone, Debug)]
pub struct SessionStore(Arc<ClientSessionMemoryCache>);

impl SessionStore {
    /// Remembers sessions for up to `servers` servers (least recently used are forgotten).
    pub fn new(servers: usize) -> Self {
        Self(Arc::new(ClientSessionMemoryCache::new(servers)))
    }
}

impl Default for SessionStore {
    fn default() -> Self {
        Self::new(256)
    }
}

/// Builds a [`ClientConfig`].
#[derive(Clone, Debug, Default)]
pub struct ClientConfigBuilder {
    server_auth: ServerAuth,
    client_cert: Option<(CertificateChain, PrivateKey)>,
    checker: Option<Checker>,
    settings: HandshakeSettings,
    session_store: Option<SessionStore>,
    no_resumption: bool,
}

impl ClientConfigBuilder {
    /// How to authenticate the server (default [`ServerAuth::WebPki`]).
    pub fn server_auth(mut self, auth: ServerAuth) -> Self {
        self.server_auth = auth;
        self
    }

    /// A certificate and key to present when the server asks (mutual TLS).
    pub fn client_cert(mut self, chain: CertificateChain, key: PrivateKey) -> Self {
        self.client_cert = Some((chain, key));
        self
    }

    /// Checks to run on the server once the handshake completes.
    pub fn checker(mut self, checker: Checker) -> Self {
        self.checker = Some(checker);
        self
    }

    /// Versions, suites, ALPN, SNI.
    pub fn settings(mut self, settings: HandshakeSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Where to keep sessions for resumption (default: one store per configuration).
    pub fn session_store(mut self, store: SessionStore) -> Self {
        self.session_store = Some(store);
        self
    }

    /// Never resume: every connection makes a full handshake (default: resume when possible).
    pub fn no_resumption(mut self) -> Self {
        self.no_resumption = true;
        self
    }

    /// Checks the configuration and freezes it.
    pub fn build(self) -> Result<ClientConfig, Error> {
        let provider = self.settings.crypto_provider()?;
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&self.settings.rustls_versions()?)
            .map_err(Error::from)?;
        let builder =
            match &self.server_auth {
                ServerAuth::WebPki => {
                    let roots = RootCertStore {
                        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
                    };
                    builder.with_webpki_verifier(webpki_verifier(roots, &provider)?)
                }
                ServerAuth::Roots(roots) => {
                    builder.with_webpki_verifier(webpki_verifier(roots.root_store()?, &provider)?)
                }
                ServerAuth::Fingerprint(pin) => builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(KeyHolderVerifier::new(
                        Accept::Pinned(pin.clone()),
                        provider.clone(),
                    ))),
            };
        let mut config = match self.client_cert {
            Some((chain, key)) => builder
                .with_client_auth_cert(chain.0, key.0)
                .map_err(Error::from)?,
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = self.settings.alpn_protocols();
        config.enable_sni = self.settings.sni;
        if self.no_resumption {
            config.resumption = Resumption::disabled();
        } else if let Some(store) = self.session_store {
            config.resumption = Resumption::store(store.0);
        }
        Ok(ClientConfig {
            rustls: Arc::new(config),
            checker: self.checker,
        })
    }
}

fn webpki_verifier(
    roots: RootCertStore,
    provider: &Arc<rustls::crypto::CryptoProvider>,
) -> Result<Arc<WebPkiServerVerifier>, Error> {
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| Error::config(format!("server verifier: {e}")))
}

/// A frozen client configuration; cheap to clone and share between threads and connections.
///
/// ```no_run
/// use std::net::TcpStream;
/// use std::io::{Read, Write};
/// let pin = "sha256:6b1f00112233445566778899aabbccddeeff00112233445566778899aabbccdd".parse()?;
/// let config = tls::ClientConfig::builder()
///     .server_auth(tls::ServerAuth::Fingerprint(pin))
///     .build()?;
/// let mut tls = config.connect("mail.example.org", TcpStream::connect("mail.example.org:993")?)?;
/// println!("{}", tls.session().cipher_suite());
/// tls.write_all(b"a001 LOGOUT\r\n")?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct ClientConfig {
    rustls: Arc<rustls::ClientConfig>,
    checker: Option<Checker>,
}

impl ClientConfig {
    /// Starts a configuration: WebPki server authentication, default settings.
    pub fn builder() -> ClientConfigBuilder {
        ClientConfigBuilder::default()
    }

    /// Runs the handshake with `host` over `sock` and returns the stream ready for data.
    ///
    /// `host` is a DNS name or an IP address (IPv6 with or without brackets).
    pub fn connect<S: Read + Write>(&self, host: &str, sock: S) -> Result<TlsStream<S>, Error> {
        let name = server_name(host)?;
        let conn = rustls::ClientConnection::new(self.rustls.clone(), name.clone())?;
        let engine: Box<dyn Engine> = Box::new(rustls::Connection::Client(conn));
        let sent_name = name_for_session(&name, self.rustls.enable_sni);
        TlsStream::handshake(sock, engine, self.checker.as_ref(), sent_name)
    }
}

fn server_name(host: &str) -> Result<ServerName<'static>, Error> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(bare.to_owned())
        .map_err(|_| Error::config(format!("{host:?} is neither a DNS name nor an IP address")))
}

fn name_for_session(name: &ServerName<'_>, sni: bool) -> Option<String> {
    match name {
        ServerName::DnsName(dns) if sni => Some(dns.as_ref().to_owned()),
        _ => None,
    }
}

/// Connects without authenticating the server, records its certificate chain and closes
/// with close_notify: no application data is ever sent. This is the trust-on-first-use probe
/// (`tls fingerprint HOST:PORT`): show the fingerprints to a person, then pin one.
///
/// The server must still prove it holds the leaf's private key.
pub fn probe<S: Read + Write>(
    host: &str,
    sock: S,
    settings: &HandshakeSettings,
) -> Result<Session, Error> {
    let provider = settings.crypto_provider()?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&settings.rustls_versions()?)
        .map_err(Error::from)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(KeyHolderVerifier::new(
            Accept::AnyForProbe,
            provider,
        )))
        .with_no_client_auth();
    config.alpn_protocols = settings.alpn_protocols();
    config.enable_sni = settings.sni;
    let name = server_name(host)?;
    let sent_name = name_for_session(&name, settings.sni);
    let conn = rustls::ClientConnection::new(Arc::new(config), name)?;
    let engine = Box::new(rustls::Connection::Client(conn));
    let stream = TlsStream::handshake(sock, engine, None, sent_name)?;
    let session = stream.session().clone();
    stream.close()?;
    Ok(session)
}
