//! One resumable session of our TLS 1.2 engine, and its form in a fleet's shared store.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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
    /// The name the client asked for by SNI when the session was made: it resumes under that
    /// name only (RFC 6066 §3).
    pub(crate) server_name: Option<String>,
    /// When the session was made (whole seconds since the epoch): carried in tickets and
    /// shared rows, so its lifetime counts from there wherever it is opened.
    pub(crate) issued: u64,
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
            server_name: None,
            issued: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            saved: Instant::now(),
        }
    }

    /// Ties the session to the name asked for by SNI (none: no name was asked).
    pub(crate) fn with_server_name(mut self, name: Option<String>) -> Self {
        self.server_name = name;
        self
    }

    /// How long ago the session was made (zero for a clock that went back).
    pub(crate) fn age(&self) -> Duration {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Duration::from_secs(now.saturating_sub(self.issued))
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

    /// The server's state as bytes for a ticket or a shared store: a version (2), the suite,
    /// the EMS flag, the master secret, the verifier digest, the issue time, the SNI name (a
    /// length byte, 0 for none), then the username (the ID is the store's key).
    pub(crate) fn encode(&self) -> zeroize::Zeroizing<Vec<u8>> {
        let name = self.server_name.as_deref().unwrap_or("").as_bytes();
        let mut out =
            zeroize::Zeroizing::new(Vec::with_capacity(93 + name.len() + self.username.len()));
        out.push(2);
        out.extend_from_slice(&self.suite.to_be_bytes());
        out.push(u8::from(self.ems));
        out.extend_from_slice(&self.master);
        out.extend_from_slice(&self.verifier_digest);
        out.extend_from_slice(&self.issued.to_be_bytes());
        // Host names are at most 253 bytes (RFC 1035), so one length byte holds them.
        out.push(name.len().min(255) as u8);
        out.extend_from_slice(&name[..name.len().min(255)]);
        out.extend_from_slice(self.username.as_bytes());
        out
    }

    /// The session [`encode`](Self::encode) wrote, under `id`; `None` for anything else. Its
    /// local clock starts at its issue time, so a cache's lifetime counts from there.
    pub(crate) fn decode(id: &[u8], bytes: &[u8]) -> Option<Self> {
        let (&[2, s0, s1, ems], rest) = bytes.split_first_chunk::<4>()? else {
            return None;
        };
        let (master, rest) = rest.split_first_chunk::<48>()?;
        let (digest, rest) = rest.split_first_chunk::<32>()?;
        let (issued, rest) = rest.split_first_chunk::<8>()?;
        let (&[name_len], rest) = rest.split_first_chunk::<1>()?;
        let (name, user) = rest.split_at_checked(usize::from(name_len))?;
        let server_name = match name.is_empty() {
            true => None,
            false => Some(String::from_utf8(name.to_vec()).ok()?),
        };
        let username = String::from_utf8(user.to_vec()).ok()?;
        let mut session = Self::new(
            id.to_vec(),
            *master,
            u16::from_be_bytes([s0, s1]),
            ems == 1,
            username,
        )
        .with_verifier_digest(*digest)
        .with_server_name(server_name);
        session.issued = u64::from_be_bytes(*issued);
        session.saved = Instant::now()
            .checked_sub(session.age())
            .unwrap_or_else(Instant::now);
        Some(session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_survives_its_encoding() {
        let saved = SavedSession::new(vec![7], [7; 48], 0xc01d, true, "u".into())
            .with_verifier_digest([9; 32])
            .with_server_name(Some("mail.example".into()));
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
        assert_eq!(back.server_name.as_deref(), Some("mail.example"));
        assert_eq!(back.issued, saved.issued);
        let bytes = saved.encode();
        assert!(SavedSession::decode(&[7], &bytes[..91]).is_none(), "short");
        let mut version = bytes.to_vec();
        version[0] = 1;
        assert!(SavedSession::decode(&[7], &version).is_none(), "version");
    }
}
