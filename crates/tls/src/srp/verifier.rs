//! SRP verifiers and where servers find them.

use std::collections::BTreeMap;
use std::sync::RwLock;

use ring::rand::{SecureRandom, SystemRandom};

use super::{math, SrpGroup};
use crate::Error;

/// What a server stores for a user: the group, a salt and the verifier `v = g^x mod N`.
/// Not the password, and nothing from which a login can be replayed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifierEntry {
    /// The group the verifier belongs to.
    pub group: &'static SrpGroup,
    /// The salt (16 random bytes when made here).
    pub salt: Vec<u8>,
    /// The verifier, big-endian.
    pub verifier: Vec<u8>,
}

/// Longest username accepted (the SRP extension has a one-byte length).
pub const MAX_USERNAME: usize = 255;

/// Length of the salts made here (unknown users are shown salts of the same length).
pub(crate) const SALT_LEN: usize = 16;

/// Makes the entry for `username` and `password` in the `bits`-bit RFC 5054 group, with a
/// fresh 16-byte salt.
///
/// ```
/// let entry = tls::srp::make_verifier("alice", "correct horse", 2048)?;
/// assert_eq!(entry.group.bits(), 2048);
/// assert!(entry.check_password("alice", "correct horse"));
/// # Ok::<(), tls::Error>(())
/// ```
pub fn make_verifier(username: &str, password: &str, bits: u32) -> Result<VerifierEntry, Error> {
    check_username(username)?;
    let group = SrpGroup::by_bits(bits).ok_or_else(|| {
        Error::Config(format!(
            "no RFC 5054 group of {bits} bits (use 1024, 1536, 2048, 3072, 4096, 6144 or 8192)"
        ))
    })?;
    let mut salt = vec![0u8; SALT_LEN];
    // OpenSSL's SRP client reads the salt as a number and loses a first byte of zero (its x
    // would be wrong): draw again. Unknown users' fake salts follow the same rule, so a zero
    // does not tell them apart. Salts imported from srptool may start with zero; they are kept.
    while salt[0] == 0 {
        random_bytes(&mut salt)?;
    }
    Ok(VerifierEntry::with_salt(username, password, group, salt))
}

/// A username fit to store: 1 to 255 bytes of UTF-8, no `:` (it separates the fields of
/// `x = SHA1(s | SHA1(I | ":" | P))` and of tpasswd lines) and no control characters (a line
/// break would forge a tpasswd line).
pub(crate) fn check_username(username: &str) -> Result<(), Error> {
    if username.is_empty() || username.len() > MAX_USERNAME {
        return Err(Error::Config(format!(
            "an SRP username must be 1 to {MAX_USERNAME} bytes of UTF-8"
        )));
    }
    if let Some(c) = username.chars().find(|c| *c == ':' || c.is_control()) {
        return Err(Error::Config(format!(
            "an SRP username may not contain {c:?}"
        )));
    }
    Ok(())
}

impl VerifierEntry {
    /// An entry from stored parts, checked with [`validate`](Self::validate).
    pub fn new(group: &'static SrpGroup, salt: Vec<u8>, verifier: Vec<u8>) -> Result<Self, Error> {
        let entry = Self {
            group,
            salt,
            verifier,
        };
        entry.validate()?;
        Ok(entry)
    }

    /// The entry for a known salt (e.g. imported from elsewhere).
    pub fn with_salt(
        username: &str,
        password: &str,
        group: &'static SrpGroup,
        salt: Vec<u8>,
    ) -> Self {
        let x = math::x(&salt, username.as_bytes(), password.as_bytes());
        let verifier = math::verifier(group.params(), &x);
        Self {
            group,
            salt,
            verifier,
        }
    }

    /// Checks that the entry can be served safely: a salt of 1 to 255 bytes, and a verifier
    /// below N that is neither 0 nor 1 (with such a verifier the server's secret is
    /// predictable and anyone logs in).
    ///
    /// ```
    /// let mut entry = tls::srp::make_verifier("alice", "pw", 2048)?;
    /// entry.validate()?;
    /// entry.verifier = vec![1];
    /// assert!(entry.validate().is_err());
    /// # Ok::<(), tls::Error>(())
    /// ```
    pub fn validate(&self) -> Result<(), Error> {
        if self.salt.is_empty() || self.salt.len() > 255 {
            return Err(Error::Config(format!(
                "an SRP salt must be 1 to 255 bytes, not {}",
                self.salt.len()
            )));
        }
        if !math::is_usable_verifier(self.group.params(), &self.verifier) {
            return Err(Error::Config(
                "an SRP verifier must be below N and neither 0 nor 1".into(),
            ));
        }
        Ok(())
    }

    /// A digest of the whole entry: sessions remember it, so that changing the entry ends
    /// them.
    pub(crate) fn digest(&self) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        hash.update(self.group.bits().to_be_bytes());
        hash.update((self.salt.len() as u32).to_be_bytes());
        hash.update(&self.salt);
        hash.update(&self.verifier);
        hash.finalize().into()
    }

    /// Whether `password` is the one this entry was made from.
    pub fn check_password(&self, username: &str, password: &str) -> bool {
        let candidate = Self::with_salt(username, password, self.group, self.salt.clone());
        subtle::ConstantTimeEq::ct_eq(candidate.verifier.as_slice(), self.verifier.as_slice())
            .into()
    }
}

/// Where a server looks users up. Implement it to serve from your own database.
///
/// The server validates every entry it gets ([`VerifierEntry::validate`]); a bad one fails
/// the handshake with `internal_error`.
pub trait VerifierStore: Send + Sync {
    /// The entry for `username`, or `None` if there is no such user.
    fn lookup(&self, username: &str) -> Result<Option<VerifierEntry>, Error>;

    /// The group unknown users are shown (RFC 5054 §2.5.1.3): the one most users have, so a
    /// fake entry looks like a real one. Default: 2048 bits.
    fn default_group(&self) -> &'static SrpGroup {
        SrpGroup::default_group()
    }

    /// The secret that keys the fake salts and verifiers of unknown users. A store kept across
    /// restarts or shared by several servers returns one it keeps, so that the same unknown
    /// name always gets the same salt from every server. `None` (the default): each server
    /// configuration draws its own.
    fn simulation_secret(&self) -> Result<Option<[u8; 32]>, Error> {
        Ok(None)
    }
}

/// Fills `buf` from the system's random generator.
pub(crate) fn random_bytes(buf: &mut [u8]) -> Result<(), Error> {
    SystemRandom::new()
        .fill(buf)
        .map_err(|_| Error::Config("no random bytes from the system".into()))
}

/// Users kept in memory (tests, or a server that loads users at start).
///
/// Every server sharing one instance shows an unknown name the same fake salt; a new instance
/// (a restart) draws a new simulation secret.
pub struct MemoryVerifierDb {
    users: RwLock<BTreeMap<String, VerifierEntry>>,
    simulation_secret: Option<[u8; 32]>,
}

impl std::fmt::Debug for MemoryVerifierDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryVerifierDb")
            .field("users", &self.usernames())
            .finish_non_exhaustive()
    }
}

impl Default for MemoryVerifierDb {
    fn default() -> Self {
        let mut secret = [0u8; 32];
        Self {
            users: RwLock::default(),
            // Without system randomness each server configuration draws its own (and fails
            // clearly if it cannot).
            simulation_secret: random_bytes(&mut secret).ok().map(|()| secret),
        }
    }
}

impl MemoryVerifierDb {
    /// An empty database.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a user, making the verifier from the password.
    pub fn add(&self, username: &str, password: &str, bits: u32) -> Result<(), Error> {
        let entry = make_verifier(username, password, bits)?;
        self.insert(username, entry)
    }

    /// Adds or replaces a user's entry (checked with [`VerifierEntry::validate`]).
    pub fn insert(&self, username: &str, entry: VerifierEntry) -> Result<(), Error> {
        check_username(username)?;
        entry.validate()?;
        self.users
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(username.to_owned(), entry);
        Ok(())
    }

    /// Removes a user; says whether there was one.
    pub fn remove(&self, username: &str) -> bool {
        self.users
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(username)
            .is_some()
    }

    /// The usernames, sorted.
    pub fn usernames(&self) -> Vec<String> {
        self.users
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect()
    }
}

impl VerifierStore for MemoryVerifierDb {
    fn lookup(&self, username: &str) -> Result<Option<VerifierEntry>, Error> {
        Ok(self
            .users
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(username)
            .cloned())
    }

    fn simulation_secret(&self) -> Result<Option<[u8; 32]>, Error> {
        Ok(self.simulation_secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_with_colons_or_control_characters_are_refused() {
        for name in [
            "a:b",
            "a\nroot:x",
            "tab\t",
            "nul\0",
            "del\u{7f}",
            "c1\u{85}",
            "",
        ] {
            assert!(make_verifier(name, "pw", 2048).is_err(), "made {name:?}");
            let entry = make_verifier("ok", "pw", 2048).unwrap();
            assert!(
                MemoryVerifierDb::new().insert(name, entry).is_err(),
                "{name:?}"
            );
        }
        for name in ["alice", "Zoë", "user@example.org", "with space"] {
            assert!(make_verifier(name, "pw", 2048).is_ok(), "{name:?}");
        }
    }

    #[test]
    fn verifiers_of_zero_one_or_not_below_n_are_refused() {
        let good = make_verifier("alice", "pw", 2048).unwrap();
        let n = good.group.params().n_bytes.clone();
        let mut n_plus_one = n.clone();
        *n_plus_one.last_mut().unwrap() += 1;
        let mut twice_n = n.clone();
        twice_n.insert(0, 0);
        twice_n.push(0);
        let db = MemoryVerifierDb::new();
        for verifier in [
            vec![],
            vec![0],
            vec![0, 0, 1],
            n.clone(),
            n_plus_one,
            twice_n,
        ] {
            let entry = VerifierEntry {
                verifier,
                ..good.clone()
            };
            assert!(db.insert("eve", entry).is_err());
        }
        let no_salt = VerifierEntry {
            salt: vec![],
            ..good.clone()
        };
        assert!(db.insert("eve", no_salt).is_err());
        assert!(db.usernames().is_empty());
        db.insert("alice", good).unwrap();
    }
}
