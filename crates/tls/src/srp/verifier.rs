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
    let mut salt = vec![0u8; 16];
    // A first byte of zero would not survive GnuTLS's tpasswd encoding; draw again.
    while salt[0] == 0 {
        SystemRandom::new()
            .fill(&mut salt)
            .map_err(|_| Error::Config("no random bytes for the salt".into()))?;
    }
    Ok(VerifierEntry::with_salt(username, password, group, salt))
}

pub(crate) fn check_username(username: &str) -> Result<(), Error> {
    if username.is_empty() || username.len() > MAX_USERNAME {
        return Err(Error::Config(format!(
            "an SRP username must be 1 to {MAX_USERNAME} bytes of UTF-8"
        )));
    }
    Ok(())
}

impl VerifierEntry {
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

    /// Whether `password` is the one this entry was made from.
    pub fn check_password(&self, username: &str, password: &str) -> bool {
        let candidate = Self::with_salt(username, password, self.group, self.salt.clone());
        subtle::ConstantTimeEq::ct_eq(candidate.verifier.as_slice(), self.verifier.as_slice())
            .into()
    }
}

/// Where a server looks users up. Implement it to serve from your own database.
pub trait VerifierStore: Send + Sync {
    /// The entry for `username`, or `None` if there is no such user.
    fn lookup(&self, username: &str) -> Result<Option<VerifierEntry>, Error>;
}

/// Users kept in memory (tests, or a server that loads users at start).
#[derive(Debug, Default)]
pub struct MemoryVerifierDb {
    users: RwLock<BTreeMap<String, VerifierEntry>>,
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

    /// Adds or replaces a user's entry.
    pub fn insert(&self, username: &str, entry: VerifierEntry) -> Result<(), Error> {
        check_username(username)?;
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
}
