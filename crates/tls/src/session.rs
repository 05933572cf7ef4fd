//! What a finished handshake negotiated and who the peer is.

use rustls_pki_types::CertificateDer;

use crate::{Fingerprint, FingerprintAlgorithm, ProtocolVersion};

/// A snapshot of the negotiated connection, taken when the handshake completes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub(crate) version: ProtocolVersion,
    pub(crate) cipher_suite: String,
    pub(crate) peer_certificates: Vec<CertificateDer<'static>>,
    pub(crate) resumed: bool,
    pub(crate) alpn: Option<Vec<u8>>,
    pub(crate) server_name: Option<String>,
    pub(crate) srp_username: Option<String>,
    pub(crate) psk_identity: Option<Vec<u8>>,
    pub(crate) encrypt_then_mac: Option<bool>,
    pub(crate) extended_master_secret: Option<bool>,
}

impl Session {
    /// The negotiated protocol version.
    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    /// The IANA name of the negotiated suite, e.g. `TLS_AES_128_GCM_SHA256`.
    pub fn cipher_suite(&self) -> &str {
        &self.cipher_suite
    }

    /// The peer's certificate chain in DER, leaf first; empty if it sent none.
    pub fn peer_certificates(&self) -> &[CertificateDer<'static>] {
        &self.peer_certificates
    }

    /// The peer's leaf certificate in DER.
    pub fn peer_certificate(&self) -> Option<&[u8]> {
        self.peer_certificates.first().map(|c| c.as_ref())
    }

    /// The fingerprint of the peer's leaf certificate.
    pub fn peer_fingerprint(&self, algorithm: FingerprintAlgorithm) -> Option<Fingerprint> {
        self.peer_certificate()
            .map(|der| Fingerprint::of(algorithm, der))
    }

    /// SHA-1 fingerprint of the peer's leaf certificate (tlslite's form).
    pub fn peer_fingerprint_sha1(&self) -> Option<Fingerprint> {
        self.peer_fingerprint(FingerprintAlgorithm::Sha1)
    }

    /// SHA-256 fingerprint of the peer's leaf certificate.
    pub fn peer_fingerprint_sha256(&self) -> Option<Fingerprint> {
        self.peer_fingerprint(FingerprintAlgorithm::Sha256)
    }

    /// Whether this connection resumed an earlier session (abbreviated handshake).
    pub fn resumed(&self) -> bool {
        self.resumed
    }

    /// The application protocol agreed by ALPN, if any.
    pub fn alpn_protocol(&self) -> Option<&[u8]> {
        self.alpn.as_deref()
    }

    /// The SRP username (TLS-SRP connections only). [`peer_identity`](Self::peer_identity)
    /// says the same with every other way a peer can prove itself.
    pub fn srp_username(&self) -> Option<&str> {
        self.srp_username.as_deref()
    }

    /// The pre-shared key identity the handshake proved (TLS 1.3 external PSK connections
    /// only): on a server, the client's; on a client, the one the server accepted.
    pub fn psk_identity(&self) -> Option<&[u8]> {
        self.psk_identity.as_deref()
    }

    /// Who the peer proved to be, by the mechanism that proved it.
    ///
    /// ```
    /// # fn show(session: &tls::Session) {
    /// match session.peer_identity() {
    ///     tls::PeerIdentity::Certificate(chain) => println!("{} certificates", chain.len()),
    ///     tls::PeerIdentity::Srp { username, .. } => println!("SRP user {username}"),
    ///     tls::PeerIdentity::Psk(identity) => println!("PSK {}", String::from_utf8_lossy(identity)),
    ///     tls::PeerIdentity::Anonymous => println!("no proof asked for"),
    ///     _ => println!("another mechanism"),
    /// }
    /// # }
    /// ```
    pub fn peer_identity(&self) -> PeerIdentity<'_> {
        if let Some(identity) = &self.psk_identity {
            return PeerIdentity::Psk(identity);
        }
        match (&self.srp_username, &self.peer_certificates[..]) {
            (Some(username), certificates) => PeerIdentity::Srp {
                username,
                certificates,
            },
            (None, []) => PeerIdentity::Anonymous,
            (None, chain) => PeerIdentity::Certificate(chain),
        }
    }

    /// Whether Encrypt-then-MAC (RFC 7366) is on. `None` where it does not apply (the AEAD
    /// suites of TLS 1.3 and rustls's TLS 1.2).
    pub fn encrypt_then_mac(&self) -> Option<bool> {
        self.encrypt_then_mac
    }

    /// Whether the Extended Master Secret (RFC 7627) was used. `None` where rustls does not
    /// say (its TLS 1.2) or it does not apply (TLS 1.3).
    pub fn extended_master_secret(&self) -> Option<bool> {
        self.extended_master_secret
    }

    /// On a server, the host name the client asked for by SNI; on a client, the name it sent.
    pub fn server_name(&self) -> Option<&str> {
        self.server_name.as_deref()
    }
}

/// Who a finished handshake proved the peer to be ([`Session::peer_identity`]). New ways to
/// authenticate become new variants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeerIdentity<'a> {
    /// Nothing was proven: a client that sent no certificate to a server that let it (and the
    /// stand-in session of a connection still handshaking).
    Anonymous,
    /// An X.509 certificate chain, leaf first, judged by the configured roots, pin or Checker.
    Certificate(&'a [CertificateDer<'static>]),
    /// TLS-SRP: the username whose password (seen by a server) or verifier (seen by a client)
    /// the handshake proved, and with the SRP-RSA suites the server's chain as well.
    Srp {
        /// The SRP username.
        username: &'a str,
        /// As a client sees it: the server's chain with SRP-RSA, leaf first; empty otherwise,
        /// and always on the server side.
        certificates: &'a [CertificateDer<'static>],
    },
    /// A pre-shared key: the identity whose key the handshake proved both sides hold (TLS 1.3
    /// external PSK). Identities are opaque bytes; `tlsdb` writes printable UTF-8.
    Psk(&'a [u8]),
}

/// Stands in where a session is asked for before any exists; a `TlsStream` never shows it.
pub(crate) static NO_SESSION: Session = Session {
    version: ProtocolVersion::Tls12,
    cipher_suite: String::new(),
    peer_certificates: Vec::new(),
    resumed: false,
    alpn: None,
    server_name: None,
    srp_username: None,
    psk_identity: None,
    encrypt_then_mac: None,
    extended_master_secret: None,
};
