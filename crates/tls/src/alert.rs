//! TLS alert descriptions under their RFC names.

use core::fmt;

macro_rules! alert_descriptions {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $name:literal; )*) => {
        /// An alert description (RFC 8446 §6, RFC 5246 §7.2, RFC 4279, RFC 7301).
        ///
        /// `Display` prints the RFC name, e.g. `bad_record_mac`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum AlertDescription {
            $( $(#[$doc])* $variant, )*
            /// A code this crate has no name for.
            Unknown(u8),
        }

        impl AlertDescription {
            /// The alert's code on the wire.
            pub fn code(self) -> u8 {
                match self {
                    $( Self::$variant => $code, )*
                    Self::Unknown(code) => code,
                }
            }

            /// The alert for a code on the wire.
            pub fn from_code(code: u8) -> Self {
                match code {
                    $( $code => Self::$variant, )*
                    other => Self::Unknown(other),
                }
            }

            /// The RFC name, such as `handshake_failure`; `unknown` for unnamed codes.
            pub fn name(self) -> &'static str {
                match self {
                    $( Self::$variant => $name, )*
                    Self::Unknown(_) => "unknown",
                }
            }
        }
    };
}

alert_descriptions! {
    /// The sender will send no more data (not an error).
    CloseNotify = 0, "close_notify";
    /// A message arrived that is not valid in this state.
    UnexpectedMessage = 10, "unexpected_message";
    /// A record failed authentication; with SRP, usually a wrong password.
    BadRecordMac = 20, "bad_record_mac";
    /// Historic (TLS 1.0): decryption failed.
    DecryptionFailed = 21, "decryption_failed";
    /// A record was longer than allowed.
    RecordOverflow = 22, "record_overflow";
    /// Historic: decompression failed.
    DecompressionFailure = 30, "decompression_failure";
    /// No acceptable set of security parameters.
    HandshakeFailure = 40, "handshake_failure";
    /// Historic (SSL 3.0): no certificate.
    NoCertificate = 41, "no_certificate";
    /// A certificate was corrupt or did not verify.
    BadCertificate = 42, "bad_certificate";
    /// A certificate of an unsupported type.
    UnsupportedCertificate = 43, "unsupported_certificate";
    /// A certificate was revoked.
    CertificateRevoked = 44, "certificate_revoked";
    /// A certificate has expired or is not yet valid.
    CertificateExpired = 45, "certificate_expired";
    /// Some other certificate problem.
    CertificateUnknown = 46, "certificate_unknown";
    /// A field was out of range or inconsistent.
    IllegalParameter = 47, "illegal_parameter";
    /// The certificate chain does not lead to a trusted root.
    UnknownCa = 48, "unknown_ca";
    /// Authentication succeeded but access was refused.
    AccessDenied = 49, "access_denied";
    /// A message could not be decoded.
    DecodeError = 50, "decode_error";
    /// A cryptographic operation failed, e.g. a signature did not verify.
    DecryptError = 51, "decrypt_error";
    /// Historic: export restriction.
    ExportRestriction = 60, "export_restriction";
    /// The protocol version is not supported.
    ProtocolVersion = 70, "protocol_version";
    /// The peer's parameters are too weak (e.g. an SRP group that is too small).
    InsufficientSecurity = 71, "insufficient_security";
    /// The sender failed for a reason unrelated to the peer.
    InternalError = 80, "internal_error";
    /// A downgrade attempt was detected (RFC 7507).
    InappropriateFallback = 86, "inappropriate_fallback";
    /// The handshake was cancelled.
    UserCanceled = 90, "user_canceled";
    /// Renegotiation was refused.
    NoRenegotiation = 100, "no_renegotiation";
    /// A required extension is missing.
    MissingExtension = 109, "missing_extension";
    /// An extension that was not offered came back.
    UnsupportedExtension = 110, "unsupported_extension";
    /// A certificate could not be fetched.
    CertificateUnobtainable = 111, "certificate_unobtainable";
    /// The server name (SNI) is not known to the server.
    UnrecognizedName = 112, "unrecognized_name";
    /// An invalid OCSP response.
    BadCertificateStatusResponse = 113, "bad_certificate_status_response";
    /// A certificate hash did not match.
    BadCertificateHashValue = 114, "bad_certificate_hash_value";
    /// The PSK or SRP identity is not known to the server.
    UnknownPskIdentity = 115, "unknown_psk_identity";
    /// The server requires a client certificate and none was given.
    CertificateRequired = 116, "certificate_required";
    /// No application protocol (ALPN) in common.
    NoApplicationProtocol = 120, "no_application_protocol";
}

impl fmt::Display for AlertDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown(code) => write!(f, "unknown alert {code}"),
            named => f.write_str(named.name()),
        }
    }
}

impl From<rustls::AlertDescription> for AlertDescription {
    fn from(alert: rustls::AlertDescription) -> Self {
        Self::from_code(u8::from(alert))
    }
}

#[cfg(test)]
mod tests {
    use super::AlertDescription;

    #[test]
    fn codes_round_trip_and_names_follow_the_rfc() {
        for code in 0..=255u8 {
            assert_eq!(AlertDescription::from_code(code).code(), code);
        }
        assert_eq!(
            AlertDescription::from_code(20).to_string(),
            "bad_record_mac"
        );
        assert_eq!(
            AlertDescription::from_code(115).name(),
            "unknown_psk_identity"
        );
        assert_eq!(
            AlertDescription::from_code(7).to_string(),
            "unknown alert 7"
        );
        assert_eq!(
            AlertDescription::from(rustls::AlertDescription::CertificateRequired),
            AlertDescription::CertificateRequired
        );
    }
}
