//! One resumable session of our TLS 1.2 engine, and its form in a fleet's shared store.

use std::time::Instant;

use zeroize::Zeroize;

/// What resuming needs (RFC 5246 §7.3 session state, plus the RFC 7627 flag).
#[derive(Clone)]
pub(crate) struct SavedSession {
    pub(crate) id: Vec<u8>,
    pub(crate) master: [u8; 48],
    pub(crate) suite: u16,
    pub(crate) ems: bool,
    pub(crate) username: String,
    /// Server side: the user's verifier entry when the session was made
    /// ([`VerifierEntry::digest`](crate::srp::VerifierEntry)); all zeros on the client.
    pub(crate) verifier_digest: [u8; 32],
    /// Client side: the server's RFC 5077 ticket for this session (empty: none).
    pub(crate) ticket: Vec<u8>,
    pub(super) saved: Instant,
}

impl Drop for SavedSession {
    fn drop(&mut self) {
        self.master.zeroize();
    }
}

impl SavedSession {
    pub(crate) fn new(
        id: Vec<u8>,
        master: [u8; 48],
        suite: u16,
        ems: bool,
        username: String,
    ) -> Self {
        Self {
            id,
            master,
            suite,
            ems,
            username,
            verifier_digest: [0; 32],
            ticket: Vec::new(),
            saved: Instant::now(),
        }
    }

    /// Ties the session to the user's entry as it is now.
    pub(crate) fn with_verifier_digest(mut self, digest: [u8; 32]) -> Self {
        self.verifier_digest = digest;
        self
    }

    /// Keeps the server's ticket with the session (client side).
    pub(crate) fn with_ticket(mut self, ticket: Vec<u8>) -> Self {
        self.ticket = ticket;
        self
    }

    /// The server's state as bytes for a shared store: a version, the suite, the EMS flag, the
    /// master secret, the verifier digest, then the username (the ID is the store's key).
    pub(crate) fn encode(&self) -> zeroize::Zeroizing<Vec<u8>> {
        let mut out = zeroize::Zeroizing::new(Vec::with_capacity(84 + self.username.len()));
        out.push(1);
        out.extend_from_slice(&self.suite.to_be_bytes());
        out.push(u8::from(self.ems));
        out.extend_from_slice(&self.master);
        out.extend_from_slice(&self.verifier_digest);
        out.extend_from_slice(self.username.as_bytes());
        out
    }

    /// The session [`encode`](Self::encode) wrote, under `id`; `None` for anything else.
    pub(crate) fn decode(id: &[u8], bytes: &[u8]) -> Option<Self> {
        let (&[1, s0, s1, ems], rest) = bytes.split_first_chunk::<4>()? else {
            return None;
        };
        let (master, rest) = rest.split_first_chunk::<48>()?;
        let (digest, name) = rest.split_first_chunk::<32>()?;
        let username = String::from_utf8(name.to_vec()).ok()?;
        let session = Self::new(
            id.to_vec(),
            *master,
            u16::from_be_bytes([s0, s1]),
            ems == 1,
            username,
        );
        Some(session.with_verifier_digest(*digest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_survives_its_encoding() {
        let saved = SavedSession::new(vec![7], [7; 48], 0xc01d, true, "u".into())
            .with_verifier_digest([9; 32]);
        let back = SavedSession::decode(&[7], &saved.encode()).unwrap();
        assert_eq!(
            (
                back.id.clone(),
                back.master,
                back.suite,
                back.ems,
                back.username.clone(),
                back.verifier_digest
            ),
            (vec![7], [7; 48], 0xc01d, true, "u".to_owned(), [9; 32])
        );
        let bytes = saved.encode();
        assert!(SavedSession::decode(&[7], &bytes[..83]).is_none(), "short");
        let mut version = bytes.to_vec();
        version[0] = 2;
        assert!(SavedSession::decode(&[7], &version).is_none(), "version");
    }
}
