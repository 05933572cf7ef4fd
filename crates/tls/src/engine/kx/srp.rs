//! SRP as a TLS 1.2 key exchange (RFC 5054 §2.6–2.7): the username in the ClientHello, the
//! group, salt and `B` in the ServerKeyExchange, `A` in the ClientKeyExchange, and `S` as the
//! premaster secret.

use std::sync::Arc;

use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockEncrypt, KeyInit};
use aes::Aes128;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::engine::msgs::{decode_client_key_exchange, ClientHello, Extension, KeyExchangeParams};
use crate::engine::{fail, CommonState, Failure};
use crate::resumption::SavedSession;
use crate::srp::{math, SrpGroup, VerifierEntry, VerifierStore, SALT_LEN};
use crate::AlertDescription;

/// The client's side: who logs in, with what, and which groups it accepts.
pub(crate) struct SrpClient {
    pub(crate) username: String,
    pub(crate) password: Zeroizing<String>,
    pub(crate) min_bits: u32,
    pub(crate) max_bits: u32,
}

/// The server's parameters, checked, until the ServerHelloDone.
pub(crate) struct ServerOffer {
    params: KeyExchangeParams,
    group: &'static SrpGroup,
}

impl SrpClient {
    /// The ClientHello extension naming the user.
    pub(crate) fn hello_extension(&self) -> Extension {
        Extension::Srp(self.username.clone())
    }

    /// Reads the ServerKeyExchange: an RFC 5054 group within our limits, then what
    /// `check_rest` says of the signed parameters and the bytes after them (a signature for
    /// SRP-RSA), then `B`.
    pub(crate) fn server_key_exchange(
        &self,
        body: &[u8],
        check_rest: impl FnOnce(&[u8], &[u8]) -> Result<(), Failure>,
    ) -> Result<ServerOffer, Failure> {
        let (params, signed, rest) = KeyExchangeParams::decode(body)?;
        let group = SrpGroup::find(&params.n, &params.g).ok_or_else(|| {
            Failure::local(
                AlertDescription::InsufficientSecurity,
                "the server's SRP group is not one of RFC 5054's",
            )
        })?;
        if group.bits() < self.min_bits {
            return fail(
                AlertDescription::InsufficientSecurity,
                format!(
                    "SRP group of {} bits is below the minimum of {}",
                    group.bits(),
                    self.min_bits
                ),
            );
        }
        if group.bits() > self.max_bits {
            return fail(
                AlertDescription::InsufficientSecurity,
                format!(
                    "SRP group of {} bits is above the maximum of {}",
                    group.bits(),
                    self.max_bits
                ),
            );
        }
        check_rest(signed, rest)?;
        if math::check_public(group.params(), &params.b).is_err() {
            return fail(
                AlertDescription::IllegalParameter,
                "the server's B is 0 mod N",
            );
        }
        Ok(ServerOffer { params, group })
    }

    /// The ClientKeyExchange body (`A`) and the premaster secret.
    pub(crate) fn client_key_exchange(
        &self,
        common: &CommonState,
        offer: ServerOffer,
    ) -> Result<(Vec<u8>, Zeroizing<Vec<u8>>), Failure> {
        let ServerOffer { params, group } = offer;
        let group = group.params();
        let mut a = Zeroizing::new([0u8; 32]);
        common.random(&mut a[..])?;
        let a_pub = math::public_value(group, &a);
        let x = Zeroizing::new(math::x(
            &params.salt,
            self.username.as_bytes(),
            self.password.as_bytes(),
        ));
        let premaster = math::client_premaster(group, &x, &a, &a_pub, &params.b)
            .map(Zeroizing::new)
            .map_err(|_| {
                Failure::local(
                    AlertDescription::IllegalParameter,
                    "the server's B is 0 mod N",
                )
            })?;
        let mut body = Vec::with_capacity(2 + a_pub.len());
        body.extend_from_slice(&(a_pub.len() as u16).to_be_bytes());
        body.extend_from_slice(&a_pub);
        Ok((body, premaster))
    }
}

/// The server's side: where users are looked up, and how unknown ones are answered.
pub(crate) struct SrpServer {
    pub(crate) store: Arc<dyn VerifierStore>,
    /// Answer unknown users with a fake but stable salt and verifier (RFC 5054 §2.5.1.3).
    pub(crate) simulate_unknown_users: bool,
    /// Keys the fake salts; the store's own, or random per configuration.
    pub(crate) secret: [u8; 32],
}

impl Drop for SrpServer {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.secret);
    }
}

/// The user's entry and our secret `b` with `B`, between ServerKeyExchange and
/// ClientKeyExchange.
pub(crate) struct ServerExchange {
    entry: VerifierEntry,
    b: Zeroizing<[u8; 32]>,
    b_pub: Vec<u8>,
}

impl SrpServer {
    /// The username the ClientHello carries.
    pub(crate) fn username(hello: &ClientHello) -> Result<String, Failure> {
        let Some(username) = hello.extensions.srp_username().map(str::to_owned) else {
            return fail(
                AlertDescription::HandshakeFailure,
                "the client sent no SRP username",
            );
        };
        if username.is_empty() {
            return fail(AlertDescription::IllegalParameter, "empty SRP username");
        }
        Ok(username)
    }

    /// Whether a cached session may resume: its user still exists with the same verifier
    /// (a deleted user, or a changed password, ends every session made before).
    pub(crate) fn still_valid(&self, saved: &SavedSession) -> bool {
        matches!(
            self.store.lookup(&saved.username),
            Ok(Some(entry)) if entry.digest() == saved.verifier_digest
        )
    }

    /// The ServerKeyExchange parameters for `username` (unsigned), and what the
    /// ClientKeyExchange needs; an unknown user is simulated or refused.
    pub(crate) fn server_key_exchange(
        &self,
        common: &CommonState,
        username: &str,
    ) -> Result<(Vec<u8>, ServerExchange), Failure> {
        let entry = match self.stored_entry(username)? {
            Some(entry) => entry,
            None if self.simulate_unknown_users => self.fake_entry(username),
            None => {
                return fail(
                    AlertDescription::UnknownPskIdentity,
                    format!("unknown SRP user {username:?}"),
                )
            }
        };
        let mut b = Zeroizing::new([0u8; 32]);
        common.random(&mut b[..])?;
        let group = entry.group.params();
        let b_pub = math::server_public(group, &entry.verifier, &b);
        let params = KeyExchangeParams {
            n: group.n_bytes.clone(),
            g: group.g_bytes.clone(),
            salt: entry.salt.clone(),
            b: b_pub.clone(),
        };
        Ok((params.encode(), ServerExchange { entry, b, b_pub }))
    }

    /// Reads the ClientKeyExchange (`A`): the premaster secret, and the digest of the user's
    /// entry that the session is tied to.
    pub(crate) fn client_key_exchange(
        exchange: ServerExchange,
        body: &[u8],
    ) -> Result<(Zeroizing<Vec<u8>>, [u8; 32]), Failure> {
        let a_pub = decode_client_key_exchange(body)?;
        let ServerExchange { entry, b, b_pub } = exchange;
        let premaster =
            math::server_premaster(entry.group.params(), &entry.verifier, &b, &a_pub, &b_pub)
                .map(Zeroizing::new)
                .map_err(|_| {
                    Failure::local(
                        AlertDescription::IllegalParameter,
                        "the client's A is 0 mod N",
                    )
                })?;
        Ok((premaster, entry.digest()))
    }

    /// The entry for an unknown user when simulating, made to be indistinguishable from a real
    /// one, in content and in cost. The same salt every time for the same name (keyed by the
    /// store's secret, so every server of the store agrees), shaped like `make_verifier`'s
    /// salts, in the store's default group. The verifier is keyed output one byte shorter
    /// than N, so already below it: no exponentiation and no reduction, where computing
    /// `g^x` would make unknown names slower to answer. Its distribution does not matter: the
    /// client only sees it masked in `B = k·v + g^b`.
    fn fake_entry(&self, username: &str) -> VerifierEntry {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.secret).expect("HMAC takes any key length");
        mac.update(b"unknown SRP user");
        mac.update(username.as_bytes());
        let user_key = Zeroizing::new(<[u8; 32]>::from(mac.finalize().into_bytes()));
        // AES-128 in counter mode under the per-name key: one HMAC, then a few AES blocks.
        let aes = Aes128::new(GenericArray::from_slice(&user_key[..16]));
        let block = |counter: u64| {
            let mut block = GenericArray::from([0u8; 16]);
            block[8..].copy_from_slice(&counter.to_be_bytes());
            aes.encrypt_block(&mut block);
            block
        };
        // Real salts are drawn again until their first byte is not zero: do the same.
        let salt = (0..256)
            .map(|counter| block(counter)[..SALT_LEN].to_vec())
            .find(|salt| salt[0] != 0)
            .unwrap_or_else(|| vec![1; SALT_LEN]);
        let group = self.store.default_group();
        let verifier: Vec<u8> = (1 << 32..)
            .flat_map(block)
            .take(group.params().len() - 1)
            .collect();
        VerifierEntry {
            group,
            salt,
            verifier,
        }
    }

    /// The stored entry for `username`, checked: a store's bad entry fails the handshake
    /// rather than letting anyone in.
    fn stored_entry(&self, username: &str) -> Result<Option<VerifierEntry>, Failure> {
        let internal = |e: crate::Error| {
            Failure::local(
                AlertDescription::InternalError,
                format!("verifier lookup failed: {e}"),
            )
        };
        let entry = self.store.lookup(username).map_err(internal)?;
        if let Some(entry) = &entry {
            entry.validate().map_err(internal)?;
        }
        Ok(entry)
    }
}
