//! Client configuration: how to authenticate the server, and connecting.

mod verify;

use std::io::{Read, Write};
use std::sync::Arc;

use rustls::client::danger::ServerCertVerifier;
use rustls::client::{Resumption, WebPkiServerVerifier};
use rustls::RootCertStore;
use rustls_pki_types::ServerName;

use crate::engine::client::{
    Client13Params, ClientHandshake, ClientHandshake13, ClientKx12, ClientParams, VersionChoice,
};
use crate::engine::kx::psk::PskClient;
use crate::engine::kx::psk12::Psk12Client;
use crate::engine::kx::srp::SrpClient;
use crate::engine::tls12::{Kx12, Tls12Suite};
use crate::engine::tls13::{HashAlg, Tls13Connection, Tls13Suite};
use crate::engine::{Engine, Tls12Connection};
use crate::psk::ExternalPsk;
use crate::resumption::{BoundedSessions, ClientTickets, SessionStore};
use crate::{
    CertificateChain, Checker, Connection, Error, Fingerprint, HandshakeSettings, PrivateKey,
    Session, TlsStream, TrustRoots,
};
pub(crate) use verify::{Accept, KeyHolderVerifier};

/// Room for PSK identities and binders in a ClientHello's extensions (65,535 bytes in all;
/// the other extensions take well under 1 KiB).
const MAX_PSK_OFFER: usize = 64_000;

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

/// Builds a [`ClientConfig`].
#[derive(Clone, Debug, Default)]
pub struct ClientConfigBuilder {
    /// `None` until `server_auth` is called: WebPKI for X.509, no certificate for SRP (an SRP
    /// client given one offers only SRP-RSA).
    server_auth: Option<ServerAuth>,
    client_cert: Option<(CertificateChain, PrivateKey)>,
    checker: Option<Checker>,
    settings: HandshakeSettings,
    session_store: Option<SessionStore>,
    no_resumption: bool,
    srp: Option<(String, String)>,
    psks: Vec<ExternalPsk>,
    /// Set by [`dangerous::psk_without_forward_secrecy`](crate::dangerous::psk_without_forward_secrecy).
    pub(crate) psk_without_dhe: bool,
}

impl ClientConfigBuilder {
    /// Authenticate with TLS-SRP (RFC 5054): the username and password prove the client to
    /// the server and the server to the client, with no certificates. TLS 1.2 only.
    ///
    /// Alone, it offers the plain SRP suites. Together with [`server_auth`](Self::server_auth)
    /// it offers only the SRP-RSA suites, in which the server must also prove a certificate
    /// judged by that setting: a server answering with plain SRP is refused
    /// (`illegal_parameter`), so a pin given with SRP is never skipped.
    pub fn srp(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.srp = Some((username.into(), password.into()));
        self
    }

    /// Authenticate with a pre-shared key: holding the key proves each side to the other, with
    /// no certificates. Call it again to offer more identities, in order of preference.
    ///
    /// With the default versions one ClientHello offers TLS 1.3 (external PSK, RFC 8446
    /// §4.2.11) and TLS 1.2 (RFC 5489), and the server's answer picks: TLS 1.3 from a server
    /// that has it, TLS 1.2 from one that does not (a TLS 1.3 server whose random says the
    /// hello was stripped of TLS 1.3 on the way is refused, RFC 8446 §4.1.3). `max_version`
    /// or `min_version` in [`settings`](Self::settings) keeps one version.
    ///
    /// - TLS 1.3: the server takes the first identity it knows. The key exchange is
    ///   `psk_dhe_ke` (the PSK with an X25519 or secp256r1 share, so a key found later does
    ///   not open recorded sessions). The suites are those of the keys' hashes (SHA-256:
    ///   AES-128-GCM, ChaCha20-Poly1305; SHA-384: AES-256-GCM).
    /// - TLS 1.2 names one identity, the first key's, and offers the ECDHE_PSK suites
    ///   (`TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256`, and
    ///   `TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256` with Encrypt-then-MAC). Plain PSK
    ///   (`TLS_PSK_WITH_AES_128_GCM_SHA256`, no forward secrecy) only through
    ///   [`dangerous::psk_without_forward_secrecy`](crate::dangerous::psk_without_forward_secrecy).
    ///
    /// A PSK client checks no certificate: it cannot be combined with `server_auth`,
    /// `client_cert` or SRP.
    ///
    /// ```no_run
    /// use std::io::Write;
    /// let psk = tls::psk::ExternalPsk::new("sensor-7", tls::psk::decode_hex(
    ///     "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a")?)?;
    /// let config = tls::ClientConfig::builder().psk(psk).build()?;
    /// let tcp = std::net::TcpStream::connect("broker.example.org:8883")?;
    /// let mut tls = config.connect("broker.example.org", tcp)?;
    /// assert_eq!(tls.session().psk_identity(), Some(&b"sensor-7"[..]));
    /// tls.write_all(b"hello")?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn psk(mut self, psk: ExternalPsk) -> Self {
        self.psks.push(psk);
        self
    }

    /// How to authenticate the server (default [`ServerAuth::WebPki`]).
    ///
    /// With [`srp`](Self::srp), setting it means SRP-RSA: only the SRP-RSA suites are
    /// offered, and the server's certificate is judged by this as well as its knowledge of
    /// the verifier. Without it an SRP client offers plain SRP and checks no certificate.
    pub fn server_auth(mut self, auth: ServerAuth) -> Self {
        self.server_auth = Some(auth);
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
    pub fn build(mut self) -> Result<ClientConfig, Error> {
        if !self.psks.is_empty() {
            return self.build_psk();
        }
        if self.psk_without_dhe {
            return Err(Error::config(
                "psk_without_forward_secrecy is set, but no PSK is given (psk)",
            ));
        }
        if let Some((username, password)) = self.srp.take() {
            return self.build_srp(username, password);
        }
        let provider = self.settings.crypto_provider()?;
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&self.settings.rustls_versions()?)
            .map_err(Error::from)?;
        let verifier = self.certificate_verifier(&provider)?;
        let builder = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier.clone());
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
            engine: ClientEngine::Rustls {
                config: Arc::new(config),
                verifier,
            },
            checker: self.checker,
        })
    }

    /// The verifier for `server_auth` (WebPKI when none was given).
    fn certificate_verifier(
        &self,
        provider: &Arc<rustls::crypto::CryptoProvider>,
    ) -> Result<Arc<dyn ServerCertVerifier>, Error> {
        Ok(
            match self.server_auth.as_ref().unwrap_or(&ServerAuth::WebPki) {
                ServerAuth::WebPki => {
                    let roots = RootCertStore {
                        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
                    };
                    webpki_verifier(roots, provider)?
                }
                ServerAuth::Roots(roots) => webpki_verifier(roots.root_store()?, provider)?,
                ServerAuth::Fingerprint(pin) => Arc::new(KeyHolderVerifier::new(
                    Accept::Pinned(pin.clone()),
                    provider.clone(),
                )),
            },
        )
    }

    fn build_psk(self) -> Result<ClientConfig, Error> {
        // What a PSK handshake cannot do is refused rather than dropped.
        let refuse = |what: &str| {
            Err(Error::config(format!(
                "a PSK client checks no certificate and sends none: {what} cannot be used with psk"
            )))
        };
        if self.srp.is_some() {
            return refuse("srp");
        }
        if self.server_auth.is_some() {
            return refuse("server_auth");
        }
        if self.client_cert.is_some() {
            return refuse("client_cert");
        }
        if self.session_store.is_some() {
            return refuse("session_store (X.509 sessions)");
        }
        let settings = &self.settings;
        if settings.min_version > settings.max_version {
            return Err(Error::config(format!(
                "min_version {} is above max_version {}",
                settings.min_version, settings.max_version
            )));
        }
        let mut identities: Vec<&[u8]> = self.psks.iter().map(ExternalPsk::identity).collect();
        identities.sort();
        if identities.windows(2).any(|pair| pair[0] == pair[1]) {
            return Err(Error::config("the same PSK identity is given twice"));
        }
        // The offer shares one 65,535-byte extension block with the rest of the hello.
        let offer_len: usize = self
            .psks
            .iter()
            .map(|p| 2 + p.identity().len() + 4 + 1 + HashAlg::from(p.hash()).len())
            .sum();
        if offer_len > MAX_PSK_OFFER {
            return Err(Error::config(format!(
                "the PSK identities and binders take {offer_len} bytes: more than the \
                 {MAX_PSK_OFFER} a ClientHello has room for"
            )));
        }
        let Some(first) = self.psks.first().cloned() else {
            return Err(Error::config("no pre-shared key given"));
        };
        // TLS 1.2: the ECDHE_PSK suites, or plain PSK alone when forward secrecy was given up.
        let suites12: Vec<Tls12Suite> = match settings.min_version <= crate::ProtocolVersion::Tls12
        {
            true => Tls12Suite::allowed_psk(&settings.cipher_names)
                .into_iter()
                .filter(|s| (s.kx == Kx12::Psk) == self.psk_without_dhe)
                .collect(),
            false => Vec::new(),
        };
        let hashes: Vec<HashAlg> = self.psks.iter().map(|p| p.hash().into()).collect();
        let suites: Vec<Tls13Suite> = match settings.max_version >= crate::ProtocolVersion::Tls13 {
            true => Tls13Suite::allowed(&settings.cipher_names),
            false => Vec::new(),
        };
        // cipher_names that name TLS 1.2 suites only leave TLS 1.3 out, and the reverse.
        let tls13 = !suites.is_empty();
        let suites: Vec<Tls13Suite> = suites
            .into_iter()
            .filter(|s| hashes.contains(&s.hash))
            .collect();
        if let Some(psk) = self
            .psks
            .iter()
            .find(|p| tls13 && !suites.iter().any(|s| s.hash == HashAlg::from(p.hash())))
        {
            return Err(Error::config(format!(
                "no TLS 1.3 suite left by cipher_names for the {} key {:?}",
                psk.hash(),
                psk.identity_lossy()
            )));
        }
        if !tls13 && suites12.is_empty() {
            return Err(Error::config(match self.psk_without_dhe {
                true => {
                    "no plain PSK suite (TLS_PSK_WITH_AES_128_GCM_SHA256) left by cipher_names \
                     within min_version..=max_version"
                }
                false => {
                    "no PSK cipher suite left by cipher_names within \
                     min_version..=max_version (plain PSK, TLS_PSK_WITH_AES_128_GCM_SHA256, \
                     needs tls::dangerous::psk_without_forward_secrecy)"
                }
            }));
        }
        let tls12 = (!suites12.is_empty()).then(|| {
            Arc::new(ClientParams {
                kx: ClientKx12::Psk(Psk12Client { psk: first }),
                suites: suites12,
                encrypt_then_mac: true,
                mac_then_encrypt: false,
                alpn: settings.alpn_protocols(),
                sni: settings.sni,
                sessions: BoundedSessions::new(1, std::time::Duration::ZERO),
                tickets: false,
                cert_verifier: None,
                signature_algorithms: rustls::crypto::ring::default_provider()
                    .signature_verification_algorithms,
            })
        });
        if !tls13 {
            return Ok(ClientConfig {
                engine: ClientEngine::Psk12(tls12.unwrap_or_else(|| unreachable!("checked above"))),
                checker: self.checker,
            });
        }
        let params = Client13Params {
            kx: PskClient { psks: self.psks },
            suites,
            alpn: settings.alpn_protocols(),
            sni: settings.sni,
            without_dhe: self.psk_without_dhe,
            tickets: ClientTickets::new(match self.no_resumption {
                true => 0,
                false => 256,
            }),
            tls12,
        };
        Ok(ClientConfig {
            engine: ClientEngine::Psk13(Arc::new(params)),
            checker: self.checker,
        })
    }

    fn build_srp(self, username: String, password: String) -> Result<ClientConfig, Error> {
        crate::srp::check_username(&username)?;
        let settings = &self.settings;
        if settings.max_version < crate::ProtocolVersion::Tls12
            || settings.min_version > crate::ProtocolVersion::Tls12
        {
            return Err(Error::config(
                "TLS-SRP needs TLS 1.2 within min_version..=max_version",
            ));
        }
        settings.check_srp_record_protection()?;
        // What the SRP suites cannot do is refused rather than dropped.
        if self.client_cert.is_some() {
            return Err(Error::config(
                "the TLS-SRP suites have no client certificates: the password proves the client",
            ));
        }
        if self.session_store.is_some() {
            return Err(Error::config(
                "session_store holds X.509 sessions; an SRP configuration keeps its own \
                 (no_resumption turns them off)",
            ));
        }
        let provider = rustls::crypto::ring::default_provider();
        let cert_verifier = match self.server_auth {
            Some(_) => Some(self.certificate_verifier(&Arc::new(provider.clone()))?),
            None => None,
        };
        // A server judged by `server_auth` must prove its certificate: offering plain SRP too
        // would let it skip the check, so only the SRP-RSA suites go out.
        let suites: Vec<Tls12Suite> = Tls12Suite::allowed(&settings.cipher_names)
            .into_iter()
            .filter(|s| s.rsa() == cert_verifier.is_some())
            .collect();
        if suites.is_empty() {
            return Err(Error::config(match cert_verifier {
                Some(_) => {
                    "server_auth with SRP needs an SRP-RSA suite, and cipher_names leaves none"
                }
                None => "no TLS-SRP cipher suite left by cipher_names",
            }));
        }
        let sessions = match self.no_resumption {
            true => BoundedSessions::new(1, std::time::Duration::ZERO),
            false => BoundedSessions::new(256, std::time::Duration::from_secs(24 * 3600)),
        };
        let params = ClientParams {
            kx: ClientKx12::Srp(SrpClient {
                username,
                password: zeroize::Zeroizing::new(password),
                min_bits: settings.min_srp_bits,
                max_bits: settings.max_srp_bits,
            }),
            suites,
            encrypt_then_mac: settings.encrypt_then_mac,
            mac_then_encrypt: settings.allow_mac_then_encrypt,
            alpn: settings.alpn_protocols(),
            sni: settings.sni,
            sessions,
            tickets: !self.no_resumption,
            cert_verifier,
            signature_algorithms: provider.signature_verification_algorithms,
        };
        Ok(ClientConfig {
            engine: ClientEngine::Srp(Arc::new(params)),
            checker: self.checker,
        })
    }
}

#[derive(Clone)]
enum ClientEngine {
    Rustls {
        config: Arc<rustls::ClientConfig>,
        /// How the server is judged, kept for the rustls export.
        verifier: Arc<dyn ServerCertVerifier>,
    },
    Srp(Arc<ClientParams>),
    /// TLS 1.3 PSK, with the TLS 1.2 PSK suites in the same hello when `tls12` is set.
    Psk13(Arc<Client13Params>),
    /// TLS 1.2 PSK alone.
    Psk12(Arc<ClientParams>),
}

impl std::fmt::Debug for ClientEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Rustls { .. } => f.write_str("X.509"),
            Self::Srp(p) => write!(f, "SRP as {:?}", p.kx.username()),
            Self::Psk13(p) => write!(f, "PSK, {} identities", p.kx.psks.len()),
            Self::Psk12(_) => f.write_str("PSK over TLS 1.2"),
        }
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
    engine: ClientEngine,
    checker: Option<Checker>,
}

impl ClientConfig {
    /// Starts a configuration: WebPki server authentication, default settings.
    pub fn builder() -> ClientConfigBuilder {
        ClientConfigBuilder::default()
    }

    /// This configuration as a `rustls::ClientConfig` (X.509 only), so that tokio-rustls,
    /// hyper-rustls or reqwest (`tls_backend_preconfigured`) users get the same server
    /// authentication without our stream: WebPKI, custom roots, or a SHA-1/SHA-256 pin with the
    /// key-possession check, plus client certificates, ALPN and SNI, and a Checker's
    /// certificate pin run inside the verifier. A Checker with custom checks, or an SRP
    /// configuration, is refused with [`Error::Config`]: rustls has no place for them. The
    /// export keeps its own resumable sessions. Its types are rustls 0.23's: use the same
    /// rustls minor version.
    ///
    /// ```
    /// let pin = "sha256:0781f77ab8d0afd9bf08604ba579471d0e6cf2bd60a9323a050e69f7e93e9dbd".parse()?;
    /// let ours = tls::ClientConfig::builder()
    ///     .server_auth(tls::ServerAuth::Fingerprint(pin))
    ///     .build()?;
    /// let for_rustls: std::sync::Arc<rustls::ClientConfig> = ours.to_rustls()?;
    /// # let _ = for_rustls;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_rustls(&self) -> Result<Arc<rustls::ClientConfig>, Error> {
        match &self.engine {
            ClientEngine::Srp(_) => Err(crate::rustls_config::srp_refused()),
            ClientEngine::Psk13(_) | ClientEngine::Psk12(_) => Err(Error::config(
                "rustls has no external pre-shared keys: a PSK configuration cannot be exported",
            )),
            ClientEngine::Rustls { config, verifier } => {
                crate::rustls_config::client(config, verifier, self.checker.as_ref())
            }
        }
    }

    /// Runs the handshake with `host` over `sock` and returns the stream ready for data.
    ///
    /// `host` is a DNS name or an IP address (IPv6 with or without brackets).
    pub fn connect<S: Read + Write>(&self, host: &str, sock: S) -> Result<TlsStream<S>, Error> {
        TlsStream::handshake(sock, self.connection(host)?)
    }

    /// A sans-IO connection to `host` under this configuration ([`Connection::client`]).
    pub(crate) fn connection(&self, host: &str) -> Result<Connection, Error> {
        let (engine, sent_name): (Box<dyn Engine>, _) = match &self.engine {
            ClientEngine::Rustls { config, .. } => {
                let name = server_name(host)?;
                let conn = rustls::ClientConnection::new(config.clone(), name.clone())?;
                let sent_name = name_for_session(&name, config.enable_sni);
                (Box::new(rustls::Connection::Client(conn)), sent_name)
            }
            ClientEngine::Srp(params) => {
                let handshake = ClientHandshake::new(params.clone(), host);
                (Box::new(Tls12Connection::new(handshake)?), None)
            }
            ClientEngine::Psk13(params) if params.tls12.is_some() => {
                (Box::new(VersionChoice::new(params.clone(), host)?), None)
            }
            ClientEngine::Psk13(params) => {
                let handshake = ClientHandshake13::new(params.clone(), host);
                (Box::new(Tls13Connection::new(handshake)?), None)
            }
            ClientEngine::Psk12(params) => {
                let handshake = ClientHandshake::new(params.clone(), host);
                (Box::new(Tls12Connection::new(handshake)?), None)
            }
        };
        Ok(Connection::new(engine, self.checker.clone(), sent_name))
    }
}

fn server_name(host: &str) -> Result<ServerName<'static>, Error> {
    let bare = crate::adapter::bare_host(host);
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
        .with_custom_certificate_verifier(Arc::new(KeyHolderVerifier::new(Accept::Any, provider)))
        .with_no_client_auth();
    config.alpn_protocols = settings.alpn_protocols();
    config.enable_sni = settings.sni;
    let name = server_name(host)?;
    let sent_name = name_for_session(&name, settings.sni);
    let conn = rustls::ClientConnection::new(Arc::new(config), name)?;
    let engine = Box::new(rustls::Connection::Client(conn));
    let stream = TlsStream::handshake(sock, Connection::new(engine, None, sent_name))?;
    let session = stream.session().clone();
    stream.close()?;
    Ok(session)
}
