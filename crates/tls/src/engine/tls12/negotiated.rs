//! What both sides of a TLS 1.2 handshake agree on, and the steps that use it the same way:
//! keys, Finished messages, and the session it becomes.

use subtle::ConstantTimeEq;

use super::prf::{master_secret, verify_data};
use super::suites::Tls12Suite;
use crate::engine::msgs::handshake;
use crate::engine::{CommonState, Failure};
use crate::resumption::SavedSession;
use crate::{AlertDescription, ProtocolVersion, Session};

pub(crate) struct Negotiated {
    pub(crate) client_random: [u8; 32],
    pub(crate) server_random: [u8; 32],
    pub(crate) suite: Option<Tls12Suite>,
    pub(crate) etm: bool,
    pub(crate) ems: bool,
    pub(crate) resumed: bool,
    pub(crate) master: [u8; 48],
    pub(crate) session_id: Vec<u8>,
    /// The ALPN protocol agreed, if any.
    pub(crate) alpn: Option<Vec<u8>>,
    /// The name the client asked for by SNI (a server's view) or sent (a client's).
    pub(crate) server_name: Option<String>,
}

impl Default for Negotiated {
    fn default() -> Self {
        Self {
            client_random: [0; 32],
            server_random: [0; 32],
            suite: None,
            etm: false,
            ems: false,
            resumed: false,
            master: [0; 48],
            session_id: Vec::new(),
            alpn: None,
            server_name: None,
        }
    }
}

impl Drop for Negotiated {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.master);
    }
}

impl Negotiated {
    pub(crate) fn suite(&self) -> Result<Tls12Suite, Failure> {
        self.suite
            .ok_or_else(|| Failure::local(AlertDescription::UnexpectedMessage, "no suite yet"))
    }

    /// The master secret from the premaster, classic or extended (hash of the transcript so far).
    pub(crate) fn derive_master(&mut self, common: &CommonState, premaster: &[u8]) {
        let session_hash = common.transcript_hash();
        self.master = master_secret(
            premaster,
            &self.client_random,
            &self.server_random,
            self.ems.then_some(&session_hash[..]),
        );
    }

    /// The keys the client (`true`) or the server writes with.
    fn keys(&self, client_writes: bool) -> Result<crate::engine::record::Protection, Failure> {
        let (client, server) = self.suite()?.keys(
            &self.master,
            &self.client_random,
            &self.server_random,
            self.etm,
        );
        Ok(if client_writes { client } else { server })
    }

    /// ChangeCipherSpec, our keys on, and our Finished.
    pub(crate) fn send_finished(
        &self,
        common: &mut CommonState,
        we_are_client: bool,
    ) -> Result<(), Failure> {
        let keys = self.keys(we_are_client)?;
        common.send_change_cipher_spec();
        common.write = Some(Box::new(keys));
        let verify = verify_data(&self.master, we_are_client, &common.transcript_hash());
        common.send_handshake(handshake::FINISHED, &verify);
        Ok(())
    }

    /// The peer's ChangeCipherSpec: read with its keys from now on.
    pub(crate) fn peer_keys_on(
        &self,
        common: &mut CommonState,
        we_are_client: bool,
    ) -> Result<(), Failure> {
        common.read = Some(Box::new(self.keys(!we_are_client)?));
        Ok(())
    }

    /// Checks the peer's Finished (constant time) and adds it to the transcript.
    pub(crate) fn check_finished(
        &self,
        common: &mut CommonState,
        we_are_client: bool,
        body: &[u8],
        raw: &[u8],
    ) -> Result<(), Failure> {
        let expected = verify_data(&self.master, !we_are_client, &common.transcript_hash());
        if !bool::from(expected.ct_eq(body)) {
            let peer = if we_are_client { "server" } else { "client" };
            return Err(Failure::local(
                AlertDescription::DecryptError,
                format!("the {peer}'s Finished does not verify"),
            ));
        }
        common.hash(raw);
        Ok(())
    }

    /// What resuming this session needs, for `username`.
    pub(crate) fn saved_session(&self, username: String) -> Result<SavedSession, Failure> {
        Ok(SavedSession::new(
            self.session_id.clone(),
            self.master,
            self.suite()?.id,
            self.ems,
            username,
        )
        .with_server_name(self.server_name.clone()))
    }

    pub(crate) fn session(
        &self,
        username: Option<String>,
        peer_certificates: &[Vec<u8>],
    ) -> Session {
        Session {
            version: ProtocolVersion::Tls12,
            cipher_suite: self.suite.map(|s| s.name).unwrap_or_default().to_owned(),
            peer_certificates: peer_certificates.iter().map(|c| c.clone().into()).collect(),
            resumed: self.resumed,
            alpn: self.alpn.clone(),
            server_name: self.server_name.clone(),
            srp_username: username,
            psk_identity: None,
            encrypt_then_mac: Some(self.etm),
            extended_master_secret: Some(self.ems),
        }
    }
}
