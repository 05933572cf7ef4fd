//! Server configuration: the server's certificate, client authentication, resumption.

use std::io::{Read, Write};
use std::sync::Arc;

use rustls::server::{NoServerSessionStorage, WebPkiClientVerifier};

mod sni;

use crate::engine::kx::psk::PskServer;
use crate::engine::kx::psk12::Psk12Server;
use crate::engine::kx::srp::SrpServer;
use crate::engine::route::{KnownNames, Routes, RoutingEngine};
use crate::engine::server::{
    Server13Params, ServerHandshake, ServerHandshake13, ServerKx12, ServerParams,
    SigningCertificate,
};
use crate::engine::tls12::Tls12Suite;
use crate::engine::tls13::{Tls13Connection, Tls13Suite};
use crate::engine::{Engine, Tls12Connection};
use crate::psk::PskStore;
use crate::resumption::{
    FleetTicketer, ServerSessions, SessionCache, SharedResumption, TicketSealer,
};
use crate::rustls_config;
use crate::srp::VerifierStore;
use sni::{NamedCertificate, SniResolver};

use crate::{
    CertificateChain, Checker, Connection, Error, Fingerprint, HandshakeSettings, PrivateKey,
    TlsStream, TrustRoots,
};

/// Whether a server asks clients for certificates.
#[derive(Clone, Debug, Default)]
enum ClientAuth {
    /// Don't ask. The default.
    #[default]
    None,
    /// Ask; a client may decline, but a certificate it sends must chain to these roots.
    Request(TrustRoots),
    /// Demand a certificate chaining to these roots (`certificate_required` otherwise).
    Require(TrustRoots),
}

/// Builds a [`ServerConfig`].
#[derive(Clone)]
pub struct ServerConfigBuilder {
    cert: Option<(CertificateChain, PrivateKey)>,
    client_auth: ClientAuth,
    checker: Option<Checker>,
    settings: HandshakeSettings,
    session_cache: Option<SessionCache>,
    tickets: bool,
    verifier_db: Option<Arc<dyn VerifierStore>>,
    psk_store: Option<Arc<dyn PskStore>>,
    psk_identity_hint: Vec<u8>,
    /// Set by [`dangerous::accept_psk_without_forward_secrecy`](crate::dangerous::accept_psk_without_forward_secrecy).
    pub(crate) allow_psk_ke: bool,
    simulate_unknown_users: bool,
    shared_resumption: Option<Arc<dyn SharedResumption>>,
    /// More certificates, by the name a client asks for by SNI.
    sni: Vec<NamedCertificate>,
    strict_sni: bool,
}

impl std::fmt::Debug for ServerConfigBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfigBuilder")
            .field("client_auth", &self.client_auth)
            .field("settings", &self.settings)
            .field("srp", &self.verifier_db.is_some())
            .field("psk", &self.psk_store.is_some())
            .finish_non_exhaustive()
    }
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
            verifier_db: None,
            psk_store: None,
            psk_identity_hint: Vec::new(),
            allow_psk_ke: false,
            simulate_unknown_users: true,
            shared_resumption: None,
            sni: Vec::new(),
            strict_sni: false,
        }
    }
}

impl ServerConfigBuilder {
    /// The server's certificate chain (leaf first) and its private key.
    pub fn cert_chain(mut self, chain: CertificateChain, key: PrivateKey) -> Self {
        self.cert = Some((chain, key));
        self
    }

    /// Another certificate chain and key, for clients asking for `name` by SNI; the
    /// [`cert_chain`](Self::cert_chain) one stays the default for every other name and for
    /// clients that send none. It serves both routes of a one-port server: X.509 clients get
    /// it, and SRP-RSA signs with it when its key is RSA.
    ///
    /// ```no_run
    /// use tls::{CertificateChain, PrivateKey, ServerConfig};
    /// let config = ServerConfig::builder()
    ///     .cert_chain(CertificateChain::from_pem_file("default.pem")?, PrivateKey::from_pem_file("default.key")?)
    ///     .sni_cert("mail.example.org", CertificateChain::from_pem_file("mail.pem")?, PrivateKey::from_pem_file("mail.key")?)
    ///     .build()?;
    /// # Ok::<(), tls::Error>(())
    /// ```
    pub fn sni_cert(
        mut self,
        name: impl Into<String>,
        chain: CertificateChain,
        key: PrivateKey,
    ) -> Self {
        self.sni.push((name.into(), chain, key));
        self
    }

    /// Refuse clients that ask by SNI for a name this server has no certificate for (neither
    /// an [`sni_cert`](Self::sni_cert) name nor one the default certificate is valid for) with
    /// `unrecognized_name`, instead of giving them the default. Off by default.
    pub fn strict_sni(mut self, strict: bool) -> Self {
        self.strict_sni = strict;
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

    /// Serve TLS-SRP (RFC 5054) to users found in `db`: clients log in with a username and
    /// password, no certificates. TLS 1.2 only.
    pub fn verifier_db(mut self, db: impl VerifierStore + 'static) -> Self {
        self.verifier_db = Some(Arc::new(db));
        self
    }

    /// The same, with a database shared with other code.
    pub fn shared_verifier_db(mut self, db: Arc<dyn VerifierStore>) -> Self {
        self.verifier_db = Some(db);
        self
    }

    /// Whether unknown SRP users get a fake but stable salt and verifier, so usernames cannot
    /// be probed (RFC 5054 §2.5.1.3; the default). Off: `unknown_psk_identity`.
    pub fn simulate_unknown_users(mut self, simulate: bool) -> Self {
        self.simulate_unknown_users = simulate;
        self
    }

    /// Resumption across a fleet: tickets sealed under the fleet's rotating keys (every server
    /// of the fleet opens them) and TLS-SRP sessions kept in the fleet's store as well as in
    /// this server's cache. Tickets must be on ([`tickets`](Self::tickets)).
    ///
    /// ```no_run
    /// # #[cfg(not(feature = "postgres"))]
    /// # fn main() {} // PostgresVerifierDb needs the `postgres` feature.
    /// # #[cfg(feature = "postgres")]
    /// # fn main() -> Result<(), tls::Error> {
    /// use std::sync::Arc;
    /// let db = Arc::new(tls::srp::PostgresVerifierDb::open(
    ///     "postgres://tls@db.internal/tls?sslmode=verify-full&sslrootcert=/etc/tlslite/db-ca.pem",
    /// )?);
    /// let config = tls::ServerConfig::builder()
    ///     .shared_verifier_db(db.clone())
    ///     .shared_resumption(db)
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn shared_resumption(mut self, shared: Arc<dyn SharedResumption>) -> Self {
        self.shared_resumption = Some(shared);
        self
    }

    /// Serve clients that hold a pre-shared key in `store` (TLS 1.3 external PSK, `psk_dhe_ke`
    /// only; 0-RTT data is refused). With a certificate or a verifier database too, one port
    /// serves every client: a ClientHello offering an identity the store knows gets the PSK
    /// handshake, any other goes on as it would without PSKs (RFC 8446: unknown identities are
    /// ignored). Without either, a client offering no known identity gets
    /// `unknown_psk_identity`.
    ///
    /// ```
    /// use tls::psk::{ExternalPsk, MemoryPskStore};
    /// let keys = MemoryPskStore::new();
    /// keys.insert(ExternalPsk::new("sensor-7", [0x5a; 32])?);
    /// let config = tls::ServerConfig::builder().psk_store(keys).build()?;
    /// # let _ = config;
    /// # Ok::<(), tls::Error>(())
    /// ```
    pub fn psk_store(self, store: impl PskStore + 'static) -> Self {
        self.shared_psk_store(Arc::new(store))
    }

    /// [`psk_store`](Self::psk_store) with a store shared with other configurations.
    pub fn shared_psk_store(mut self, store: Arc<dyn PskStore>) -> Self {
        self.psk_store = Some(store);
        self
    }

    /// The `psk_identity_hint` a TLS 1.2 PSK server sends (RFC 4279 §5.2; none by default):
    /// some clients pick their identity by it. TLS 1.3 has no hint.
    ///
    /// ```
    /// let keys = tls::psk::MemoryPskStore::new();
    /// keys.insert(tls::psk::ExternalPsk::new("meter-3", [0x5a; 32])?);
    /// let config = tls::ServerConfig::builder()
    ///     .psk_store(keys)
    ///     .psk_identity_hint("meters")
    ///     .build()?;
    /// # let _ = config;
    /// # Ok::<(), tls::Error>(())
    /// ```
    pub fn psk_identity_hint(mut self, hint: impl Into<Vec<u8>>) -> Self {
        self.psk_identity_hint = hint.into();
        self
    }

    /// The PSK handshakes' parameters, TLS 1.3 and TLS 1.2, as the versions and cipher_names
    /// allow; none when PSKs are not served.
    fn psk_params(&self) -> Result<PskParams, Error> {
        let Some(store) = self.psk_store.clone() else {
            if self.allow_psk_ke {
                return Err(Error::config(
                    "accept_psk_without_forward_secrecy is set, but no PSK store (psk_store)",
                ));
            }
            if !self.psk_identity_hint.is_empty() {
                return Err(Error::config(
                    "psk_identity_hint is set, but no PSK store (psk_store)",
                ));
            }
            return Ok(PskParams::default());
        };
        let settings = &self.settings;
        let tls13 = settings.max_version >= crate::ProtocolVersion::Tls13;
        let tls12 = settings.min_version <= crate::ProtocolVersion::Tls12;
        let suites = match tls13 {
            true => Tls13Suite::allowed(&settings.cipher_names),
            false => Vec::new(),
        };
        let suites12 = match tls12 {
            true => Tls12Suite::allowed_psk(&settings.cipher_names),
            false => Vec::new(),
        };
        if suites.is_empty() && suites12.is_empty() {
            return Err(Error::config(
                "no PSK cipher suite left by cipher_names within min_version..=max_version",
            ));
        }
        if !self.psk_identity_hint.is_empty() && suites12.is_empty() {
            return Err(Error::config(
                "psk_identity_hint is sent by TLS 1.2 only, and TLS 1.2 PSK is not served",
            ));
        }
        if u16::try_from(self.psk_identity_hint.len()).is_err() {
            return Err(Error::config(
                "psk_identity_hint is longer than 65,535 bytes",
            ));
        }
        // A PSK client sends no certificate: serving it would skip the one demanded or
        // checked, so the two are refused together (as with SRP).
        if !matches!(self.client_auth, ClientAuth::None) {
            return Err(Error::config(
                "a PSK client proves its key and sends no certificate: request_client_cert and \
                 require_client_cert cannot be combined with psk_store",
            ));
        }
        let tls13 = (!suites.is_empty()).then(|| {
            Arc::new(Server13Params {
                kx: PskServer {
                    store: store.clone(),
                    tickets: self.tls13_tickets(),
                },
                suites,
                alpn: settings.alpn_protocols(),
                allow_psk_ke: self.allow_psk_ke,
            })
        });
        let tls12 = (!suites12.is_empty()).then(|| {
            Arc::new(ServerParams {
                kx: ServerKx12::Psk {
                    kx: Psk12Server {
                        store,
                        hint: self.psk_identity_hint.clone(),
                    },
                    allow_plain: self.allow_psk_ke,
                    downgrade_sentinel: tls13.is_some(),
                },
                suites: suites12,
                // Encrypt-then-MAC is always on for the one CBC suite; there is no legacy mode.
                encrypt_then_mac: true,
                mac_then_encrypt: false,
                sessions: Arc::new(ServerSessions::new(None, None)),
                certificate: None,
                alpn: settings.alpn_protocols(),
                named_certificates: Vec::new(),
            })
        });
        Ok(PskParams { tls13, tls12 })
    }

    /// Who seals TLS 1.3 PSK tickets: the fleet's keys when shared, else this configuration's
    /// own; none with tickets off.
    fn tls13_tickets(&self) -> Option<TicketSealer> {
        match (self.tickets, &self.shared_resumption) {
            (false, _) => None,
            (true, Some(shared)) => Some(TicketSealer::Fleet(shared.ticket_keys())),
            (true, None) => Some(TicketSealer::own()),
        }
    }

    /// Checks the configuration and freezes it.
    pub fn build(mut self) -> Result<ServerConfig, Error> {
        self.check_sni()?;
        // Both engines share through the same keys and cache: refuse here, once, what either
        // would otherwise ignore.
        if self.shared_resumption.is_some() && self.session_cache.is_none() {
            return Err(Error::config(
                "shared_resumption shares sessions, but the session cache is turned off",
            ));
        }
        if self.shared_resumption.is_some() && !self.tickets {
            return Err(Error::config(
                "shared_resumption shares tickets, but tickets are turned off",
            ));
        }
        let psk = self.psk_params()?;
        if let Some(db) = self.verifier_db.clone() {
            return self.build_srp(db, psk);
        }
        if self.cert.is_none() {
            let engine = match psk {
                PskParams {
                    tls13: Some(tls13),
                    tls12: None,
                } => ServerEngine::Psk13(tls13),
                PskParams {
                    tls13: None,
                    tls12: Some(tls12),
                } => ServerEngine::Srp(tls12),
                // Both versions: the ClientHello picks.
                PskParams { tls13, tls12 } => ServerEngine::Routing(Arc::new(Routes {
                    srp: None,
                    psk: tls13,
                    psk12: tls12,
                    x509: None,
                    strict_names: None,
                })),
            };
            return Ok(ServerConfig {
                engine,
                checker: self.checker,
            });
        }
        let config = self.served_rustls_config()?;
        let strict_names = match (self.strict_sni, &self.cert) {
            (true, Some((chain, _))) => {
                Some(KnownNames::new(chain.0.first().cloned(), self.sni_names()))
            }
            _ => None,
        };
        let engine = match (strict_names, psk) {
            (
                None,
                PskParams {
                    tls13: None,
                    tls12: None,
                },
            ) => ServerEngine::Rustls {
                // The hello is read first here too, for the name the client asks by SNI
                // (rustls's caller-buffered handshake does not report it).
                routes: Arc::new(Routes {
                    srp: None,
                    psk: None,
                    psk12: None,
                    x509: Some(config),
                    strict_names: None,
                }),
                source: Arc::new(self.clone()),
            },
            // Strict SNI reads the ClientHello first, to refuse unknown names by their alert;
            // PSKs are found in it too.
            (strict_names, psk) => ServerEngine::Routing(Arc::new(Routes {
                srp: None,
                psk: psk.tls13,
                psk12: psk.tls12,
                x509: Some(config),
                strict_names,
            })),
        };
        Ok(ServerConfig {
            engine,
            checker: self.checker,
        })
    }

    /// The names given certificates of their own (canonical once `check_sni` ran).
    fn sni_names(&self) -> Vec<String> {
        self.sni.iter().map(|(name, _, _)| name.clone()).collect()
    }

    /// SNI names made canonical; certificates for names need a default.
    fn check_sni(&mut self) -> Result<(), Error> {
        if (!self.sni.is_empty() || self.strict_sni) && self.cert.is_none() {
            return Err(Error::config(
                "sni_cert and strict_sni need a default certificate (cert_chain)",
            ));
        }
        for (name, _, _) in &mut self.sni {
            *name = sni::normalise(name)?;
        }
        let mut names: Vec<&String> = self.sni.iter().map(|(name, _, _)| name).collect();
        names.sort();
        if let Some(twice) = names.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(Error::config(format!(
                "two certificates for {:?}",
                twice[0]
            )));
        }
        Ok(())
    }

    /// The rustls configuration this server's own connections run: its handshake hands the
    /// keys over to our records (`engine/rustls_server`), which rustls allows only when asked.
    fn served_rustls_config(&self) -> Result<Arc<rustls::ServerConfig>, Error> {
        let mut config = self.rustls_config(None)?;
        config.enable_secret_extraction = true;
        Ok(Arc::new(config))
    }

    /// The rustls configuration; with `pin`, the client-certificate verifier also demands that
    /// leaf (a Checker's pin run inside the verifier, for [`ServerConfig::to_rustls`]).
    fn rustls_config(&self, pin: Option<Fingerprint>) -> Result<rustls::ServerConfig, Error> {
        if pin.is_some() && matches!(self.client_auth, ClientAuth::None) {
            return Err(Error::config(
                "the Checker pins a client certificate, but the server asks for none \
                 (request_client_cert or require_client_cert)",
            ));
        }
        let (chain, key) = self
            .cert
            .clone()
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
                builder.with_client_cert_verifier(match pin {
                    Some(pin) => rustls_config::pinned_client(verifier, pin),
                    None => verifier,
                })
            }
        };
        let resolver = match self.sni.is_empty() {
            true => None,
            false => Some(Arc::new(SniResolver::new((&chain, &key), &self.sni)?)),
        };
        let mut config = builder
            .with_single_cert(chain.0, key.0)
            .map_err(|e| Error::config(format!("server certificate and key: {e}")))?;
        if let Some(resolver) = resolver {
            config.cert_resolver = resolver;
        }
        config.alpn_protocols = self.settings.alpn_protocols();
        config.session_storage = match &self.session_cache {
            Some(cache) => cache.rustls.clone(),
            None => Arc::new(NoServerSessionStorage {}),
        };
        match (&self.shared_resumption, self.tickets) {
            (_, false) => {}
            (Some(shared), true) => {
                config.ticketer = Arc::new(FleetTicketer(shared.ticket_keys()));
            }
            (None, true) => {
                config.ticketer = rustls::crypto::ring::Ticketer::new()
                    .map_err(|e| Error::config(format!("session tickets: {e}")))?;
            }
        }
        Ok(config)
    }

    fn build_srp(
        self,
        store: Arc<dyn VerifierStore>,
        psk: PskParams,
    ) -> Result<ServerConfig, Error> {
        self.settings.check_srp_record_protection()?;
        if !matches!(self.client_auth, ClientAuth::None) {
            return Err(Error::config(
                "the TLS-SRP suites have no client certificates: the password proves the client",
            ));
        }
        // With a certificate too, one port serves every client (X.509 through rustls), and
        // with an RSA key the SRP-RSA suites are offered as well.
        let certificate = match &self.cert {
            None => None,
            Some((chain, key)) => srp_rsa_certificate(chain, key, None)?,
        };
        let mut named_certificates = Vec::new();
        for (name, chain, key) in &self.sni {
            if let Some(certificate) = srp_rsa_certificate(chain, key, Some(name))? {
                named_certificates.push((name.clone(), certificate));
            }
        }
        // cipher_names may name suites of both engines: each takes its own.
        let (srp_names, x509_names): (Vec<String>, Vec<String>) = self
            .settings
            .cipher_names
            .iter()
            .cloned()
            .partition(|name| Tls12Suite::is_ours(name));
        let restricted = !self.settings.cipher_names.is_empty();
        let suites: Vec<Tls12Suite> = match restricted && srp_names.is_empty() {
            true => Vec::new(),
            false => Tls12Suite::allowed(&srp_names),
        }
        .into_iter()
        .filter(|s| !s.rsa() || certificate.is_some())
        .collect();
        if suites.is_empty() {
            return Err(Error::config(
                "no TLS-SRP cipher suite left by cipher_names",
            ));
        }
        // The store's own secret when it keeps one, so that every server reading it (and this
        // one after a restart) shows an unknown name the same salt.
        let secret = match store.simulation_secret()? {
            Some(secret) => secret,
            None => {
                let mut secret = [0u8; 32];
                ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut secret)
                    .map_err(|_| Error::config("no random bytes"))?;
                secret
            }
        };
        let sessions =
            ServerSessions::new(self.session_cache.as_ref(), self.shared_resumption.clone());
        let params = ServerParams {
            kx: ServerKx12::Srp(SrpServer {
                store,
                simulate_unknown_users: self.simulate_unknown_users,
                secret,
            }),
            suites,
            encrypt_then_mac: self.settings.encrypt_then_mac,
            mac_then_encrypt: self.settings.allow_mac_then_encrypt,
            alpn: self.settings.alpn_protocols(),
            sessions: Arc::new(sessions),
            certificate,
            named_certificates,
        };
        let srp = Arc::new(params);
        let strict_names = match (&self.cert, self.strict_sni) {
            (Some((chain, _)), true) => {
                Some(KnownNames::new(chain.0.first().cloned(), self.sni_names()))
            }
            _ => None,
        };
        // X.509 clients too, unless cipher_names leaves them no suite.
        let x509 = match self.cert.is_some() && (!restricted || !x509_names.is_empty()) {
            true => {
                let mut x509 = self.clone();
                x509.settings.cipher_names = x509_names;
                Some(x509.served_rustls_config()?)
            }
            false => None,
        };
        let engine = match (&x509, &strict_names, &psk) {
            (
                None,
                None,
                PskParams {
                    tls13: None,
                    tls12: None,
                },
            ) => ServerEngine::Srp(srp),
            _ => ServerEngine::Routing(Arc::new(Routes {
                srp: Some(srp),
                psk: psk.tls13,
                psk12: psk.tls12,
                x509,
                strict_names,
            })),
        };
        Ok(ServerConfig {
            engine,
            checker: self.checker,
        })
    }
}

/// A chain and its key as SRP-RSA signs with them, or `None` (said in the log) when the key
/// is not RSA: SRP clients then get plain SRP only, X.509 clients still get the certificate.
fn srp_rsa_certificate(
    chain: &CertificateChain,
    key: &PrivateKey,
    name: Option<&str>,
) -> Result<Option<SigningCertificate>, Error> {
    let signing = rustls::crypto::ring::sign::any_supported_type(&key.0)
        .map_err(|e| Error::config(format!("server key: {e}")))?;
    if signing.algorithm() != rustls::SignatureAlgorithm::RSA {
        let which = name.map_or("the certificate's".to_owned(), |n| format!("{n}'s"));
        log::warn!(
            "{which} key is not RSA: SRP clients get plain SRP only there (the SRP-RSA suites \
             sign with RSA); X.509 clients get the certificate"
        );
        return Ok(None);
    }
    let chain = chain
        .certificates()
        .iter()
        .map(|c| c.as_ref().to_vec())
        .collect();
    Ok(Some((chain, signing)))
}

/// The PSK handshakes a server runs, per version.
#[derive(Default)]
struct PskParams {
    tls13: Option<Arc<Server13Params>>,
    tls12: Option<Arc<ServerParams>>,
}

#[derive(Clone)]
enum ServerEngine {
    /// X.509 alone, through rustls's handshake.
    Rustls {
        routes: Arc<Routes>,
        /// What it was built from, to build the rustls export.
        source: Arc<ServerConfigBuilder>,
    },
    /// Our TLS 1.2 engine alone: SRP, or PSK over TLS 1.2 only.
    Srp(Arc<ServerParams>),
    Psk13(Arc<Server13Params>),
    /// A certificate, a verifier database, PSKs: every client on one port.
    Routing(Arc<Routes>),
}

impl std::fmt::Debug for ServerEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Rustls { .. } => "X.509",
            Self::Srp(_) => "SRP",
            Self::Psk13(_) => "PSK",
            Self::Routing(_) => "one port: X.509, SRP, PSK",
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
    engine: ServerEngine,
    checker: Option<Checker>,
}

impl ServerConfig {
    /// Starts a configuration: no client certificates, session cache and tickets on.
    pub fn builder() -> ServerConfigBuilder {
        ServerConfigBuilder::default()
    }

    /// This configuration as a `rustls::ServerConfig` (X.509 only), for servers built on
    /// tokio-rustls or hyper-rustls: the same certificate, versions, suites, ALPN and client
    /// authentication, and a Checker's client-certificate pin run inside the verifier. A
    /// Checker with custom checks, or any TLS-SRP configuration, is refused with
    /// [`Error::Config`]: rustls has no place for them. The export shares this configuration's
    /// session cache; its ticket keys are its own unless the configuration shares resumption
    /// with a fleet. Its types are rustls 0.23's: use the same rustls minor version.
    pub fn to_rustls(&self) -> Result<Arc<rustls::ServerConfig>, Error> {
        match &self.engine {
            ServerEngine::Srp(_) => Err(rustls_config::srp_refused()),
            ServerEngine::Psk13(_) | ServerEngine::Routing(_) => Err(Error::config(
                "this configuration serves TLS-SRP, pre-shared keys or strict SNI, which rustls \
                 cannot carry",
            )),
            ServerEngine::Rustls { source, .. } => {
                let pin = rustls_config::certificate_pin(self.checker.as_ref())?;
                Ok(Arc::new(source.rustls_config(pin)?))
            }
        }
    }

    /// Runs the server side of the handshake over `sock`.
    ///
    /// Set read and write timeouts on the socket first: a client that says nothing would
    /// otherwise hold the call forever.
    pub fn accept<S: Read + Write>(&self, sock: S) -> Result<TlsStream<S>, Error> {
        TlsStream::handshake(sock, self.connection()?)
    }

    /// A sans-IO connection under this configuration ([`Connection::server`]).
    pub(crate) fn connection(&self) -> Result<Connection, Error> {
        let engine: Box<dyn Engine> = match &self.engine {
            ServerEngine::Rustls { routes, .. } => Box::new(RoutingEngine::new(routes.clone())),
            ServerEngine::Srp(params) => {
                Box::new(Tls12Connection::new(ServerHandshake::new(params.clone()))?)
            }
            ServerEngine::Psk13(params) => Box::new(Tls13Connection::new(ServerHandshake13::new(
                params.clone(),
            ))?),
            ServerEngine::Routing(routes) => Box::new(RoutingEngine::new(routes.clone())),
        };
        Ok(Connection::new(engine, self.checker.clone(), None))
    }
}
