//! The handshakes our connections run after rustls: none left to run. Each installs the keys
//! rustls made, reports the session rustls negotiated, and (TLS 1.3) asks rustls for the next
//! keys at a KeyUpdate, since rustls keeps the traffic secrets.

use rustls::kernel::KernelConnection;
use rustls::server::ServerConnectionData;
use rustls::ConnectionTrafficSecrets;

use crate::engine::common::CommonState;
use crate::engine::record::{Aead12, Aead12Kind, Protection};
use crate::engine::tls13::record::RecordKeys;
use crate::engine::tls13::{Direction, Handshake13, Records13};
use crate::engine::{fail, Failure, Handshake};
use crate::{AlertDescription, Session};

/// Keys as rustls hands them over: record number of the next record, and the secrets.
pub(super) type RustlsKeys = (u64, ConnectionTrafficSecrets);

fn no_handshake<T>() -> Result<T, Failure> {
    fail(
        AlertDescription::UnexpectedMessage,
        "a handshake message after the handshake",
    )
}

fn unknown_cipher() -> Failure {
    Failure::local(
        AlertDescription::InternalError,
        "rustls negotiated a cipher our records do not carry",
    )
}

/// rustls's TLS 1.3 keys as ours.
fn keys13((seq, secrets): RustlsKeys) -> Result<RecordKeys, Failure> {
    let (algorithm, key, iv) = match &secrets {
        ConnectionTrafficSecrets::Aes128Gcm { key, iv } => (&ring::aead::AES_128_GCM, key, iv),
        ConnectionTrafficSecrets::Aes256Gcm { key, iv } => (&ring::aead::AES_256_GCM, key, iv),
        ConnectionTrafficSecrets::Chacha20Poly1305 { key, iv } => {
            (&ring::aead::CHACHA20_POLY1305, key, iv)
        }
        _ => return Err(unknown_cipher()),
    };
    let iv: [u8; 12] = iv.as_ref().try_into().map_err(|_| unknown_cipher())?;
    RecordKeys::from_key(algorithm, key.as_ref(), iv, seq).ok_or_else(unknown_cipher)
}

/// rustls's TLS 1.2 keys as ours.
pub(super) fn protection12((seq, secrets): RustlsKeys) -> Result<Protection, Failure> {
    let (kind, key, iv) = match &secrets {
        ConnectionTrafficSecrets::Aes128Gcm { key, iv } => (Aead12Kind::Aes128Gcm, key, iv),
        ConnectionTrafficSecrets::Aes256Gcm { key, iv } => (Aead12Kind::Aes256Gcm, key, iv),
        ConnectionTrafficSecrets::Chacha20Poly1305 { key, iv } => {
            (Aead12Kind::Chacha20Poly1305, key, iv)
        }
        _ => return Err(unknown_cipher()),
    };
    let iv: [u8; 12] = iv.as_ref().try_into().map_err(|_| unknown_cipher())?;
    let aead = Aead12::from_key(kind, key.as_ref(), iv, seq).ok_or_else(unknown_cipher)?;
    Ok(Protection::Aead(aead))
}

/// A TLS 1.3 connection whose handshake rustls ran.
pub(super) struct AfterRustls13 {
    pub(super) session: Session,
    /// Computes the next traffic keys at a KeyUpdate.
    pub(super) rustls: KernelConnection<ServerConnectionData>,
    /// The keys rustls made (read, write), until `start` installs them.
    pub(super) keys: Option<(RustlsKeys, RustlsKeys)>,
}

impl Handshake13 for AfterRustls13 {
    fn start(&mut self, records: &mut Records13) -> Result<(), Failure> {
        let (read, write) = self.keys.take().ok_or_else(unknown_cipher)?;
        records.set_read(keys13(read)?);
        records.write = Some(keys13(write)?);
        Ok(())
    }

    fn message(&mut self, _: &mut Records13, _: u8, _: &[u8], _: &[u8]) -> Result<(), Failure> {
        // A client sends nothing but KeyUpdate after the handshake (no post-handshake
        // authentication was asked for).
        no_handshake()
    }

    fn is_handshaking(&self) -> bool {
        false
    }

    fn session(&self) -> Session {
        self.session.clone()
    }

    fn next_keys(&mut self, _: &RecordKeys, direction: Direction) -> Result<RecordKeys, Failure> {
        let next = match direction {
            Direction::Read => self.rustls.update_rx_secret(),
            Direction::Write => self.rustls.update_tx_secret(),
        };
        let next =
            next.map_err(|e| Failure::local(AlertDescription::InternalError, e.to_string()))?;
        keys13(next)
    }
}

/// A TLS 1.2 connection whose handshake rustls ran.
pub(super) struct AfterRustls12 {
    pub(super) session: Session,
    /// The record protection rustls's keys make (read, write), until `start` installs it.
    pub(super) protection: Option<(Protection, Protection)>,
}

impl Handshake for AfterRustls12 {
    fn start(&mut self, common: &mut CommonState) -> Result<(), Failure> {
        let (read, write) = self.protection.take().ok_or_else(unknown_cipher)?;
        common.read = Some(Box::new(read));
        common.write = Some(Box::new(write));
        Ok(())
    }

    fn message(&mut self, _: &mut CommonState, _: u8, _: &[u8], _: &[u8]) -> Result<(), Failure> {
        // Never called: the connection refuses renegotiation once the handshake is done.
        no_handshake()
    }

    fn change_cipher_spec(&mut self, _: &mut CommonState) -> Result<(), Failure> {
        fail(
            AlertDescription::UnexpectedMessage,
            "ChangeCipherSpec after the handshake",
        )
    }

    fn is_handshaking(&self) -> bool {
        false
    }

    fn session(&self) -> Session {
        self.session.clone()
    }

    fn heavy(&self) -> bool {
        false
    }
}
