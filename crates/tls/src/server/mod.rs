//! Server configuration: the server's certificate, client authentication, resumption.

use std::io::{Read, Write};
use std::sync::Arc;

use rustls::server::{NoServerSessionStorage, ServerSessionMemoryCache, WebPkiClientVerifier};

use crate::engine::Engine;
use crate::{
    CertificateChain, Checker, Error, HandshakeSettings, PrivateKey, TlsStream, TrustRoots,
};

/// Whether a server asks clients for certificates.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub enum ClientAuth {
    /// Don't ask. The default.
    #[default]
    None,
    /// Ask; a client may decline, but a certificate it sends must chain to these roots.
    Request(TrustRoots),
    /// Demand a certificate chaining to these roots (`certificate_required` otherwise).
    Require(TrustRoots),
}

/// Sessions a server remembers for resumption by session ID: bounded, thread-safe, shared by
/// every connection accepted with the configuration (and by clones of the cache).
#[derive(Clone, Debug)]
pub struct SessionCache(Arc<ServerSessionMemoryCache>);

impl SessionCache {
    /// Keeps up to `sessions` sessions, evicting the least recently used.
    pub fn new(sessions: usize) -> Self {
        Self(ServerSessionMemoryCache::new(sessions))
    }
}

impl Default for SessionCache {
    fn default() -> Self {
        Self::new(1024)
    }
}

/// Builds a [`ServerConfig`].
#[derive(Clone, Debug)]
pub struct ServerConfigBuilder {
    cert: Option<(CertificateChain, PrivateKey)>,
    client_auth: ClientAuth,
    checker: Option<Checker>,
    settings: HandshakeSettings,
    session_cache: Option<SessionCache>,
    tickets: bool,
}

impl Default for ServerConfigBuilder {
    fn default() -> Self {
        Self {
            cert: None,
            client_auth: ClientAuth::None,
            checker: None,
            settings: HandshakeSettings::default(),
            session_cache: Some(SessionCache::default()),
            tickets: true,
        }
    }
}

impl ServerConfigBuilder {
    /// The server's certificate chain (leaf first) and its private key.
    pub fn cert_chain(mut self, chain: CertificateChain, key: PrivateKey) -> Self {
        self.cert = Some((chain, key));
        self
    }

    /// Ask clients for a certificate; those sent must chain to `roots`.
    pub fn request_client_cert(mut self, roots: TrustRoots) -> Self {
        self.client_auth = ClientAuth::Request(roots);
        self
    }

    /// Demand a client certificate chaining to `roots`.
    pub fn require_client_cert(mut self, roots: TrustRoots) -> Self {
        self.client_auth = ClientAuth::Require(roots);
        self
    }

    /// Checks to run on each client once its handshake completes.
    pub fn checker(mut self, checker: Checker) -> Self {
        self.checker = Some(checker);
        self
    }

    /// Versions, suites, ALPN (in the server's order of preference).
    pub fn settings(mut self, settings: HandshakeSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The session-ID cache; `None` turns stateful resumption off. Default: 1024 sessions.
    pub fn session_cache(mut self, cache: Option<SessionCache>) -> Self {
        self.session_cache = cache;
        self
    }

    /// Whether to issue session tickets (TLS 1.2 RFC 5077, TLS 1.3). Default: yes.
    pub fn tickets(mut self, enabled: bool) -> Self {
        self.tickets = enabled;
        self
    }

    /// Checks the configuration and freezes it.
    pub fn build(self) -> Result<ServerConfig, Error> {
        let (chain, key) = self
            .cert
            .ok_or_else(|| Error::config("a server needs a certificate chain and key"))?;
        let provider = self.settings.crypto_provider()?;
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&self.settings.rustls_versions()?)
            .map_err(Error::from)?;
        let builder = match &self.client_auth {
            ClientAuth::None => builder.with_no_client_auth(),
            ClientAuth::Request(roots) | ClientAuth::Require(roots) => {
                let verifier = WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots.root_store()?),
                    provider.clone(),
                );
                let verifier = match self.client_auth {
                    ClientAuth::Request(_) => verifier.allow_unauthenticated(),
                    _ => verifier,
                };
                let verifier = verifier
                    .build()
                    .map_err(|e| Error::config(format!("client verifier: {e}")))?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder
            .with_single_cert(chain.0, key.0)
            .map_err(|e| Error::config(format!("server certificate and key: {e}")))?;
        config.alpn_protocols = self.settings.alpn_protocols();
        config.session_storage = match self.session_cache {
            Some(cache) => cache.0,
            None => Arc::new(NoServerSessionStorage {}),
        };
        if self.tickets {
            config.ticketer = rustls::crypto::ring::Ticketer::new()
                .map_err(|e| Error::config(format!("session tickets: {e}")))?;
        }
        Ok(ServerConfig {
            rustls: Arc::new(config),
            checker: self.checker,
        })
    }
}

/// A frozen server configuration; cheap to clone and share between threads and connections.
///
/// ```no_run
/// use std::net::TcpListener;
/// let config = tls::ServerConfig::builder()
///     .cert_chain(
///         tls::CertificateChain::from_pem_file("cert.pem")?,
///         tls::PrivateKey::from_pem_file("key.pem")?,
///     )
///     .build()?;
/// let listener = TcpListener::bind("127.0.0.1:4443")?;
/// let (tcp, _) = listener.accept()?;
/// let tls = config.accept(tcp)?;
/// println!("client asked for {:?}", tls.session().server_name());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct ServerConfig {
    rustls: Arc<rustls::ServerConfig>,
    checker: Option<Checker>,
}

impl ServerConfig {
    /// Starts a configuration: no client certificates, session cache and tickets on.
    pub fn builder() -> ServerConfigBuilder {
        ServerConfigBuilder::default()
    }

    /// Runs the server side of the handshake over `sock`.
    ///
    /// Set read and write timeouts on the socket first: a client that says nothing would
    /// otherwise hold the call forever.
    pub fn accept<S: Read + Write>(&self, sock: S) -> Result<TlsStream<S>, Error> {
        let conn = rustls::ServerConnection::new(self.rustls.clone())?;
        let engine: Box<dyn Engine> = Box::new(rustls::Connection::Server(conn));
        TlsStream::handshake(sock, engine, self.checker.as_ref(), None)
    }
}
