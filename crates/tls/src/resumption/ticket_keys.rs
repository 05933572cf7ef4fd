//! Ticket keys that rotate by period, and rustls's ticket producer over them: one ring seals
//! the tickets of both engines.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroize;

/// Ticket keys by period: the key of period `e` seals during `[e·P, (e+1)·P)` and opens until
/// the end of period `e + 1` (one period of grace), so a ticket lives at least one period. A
/// ticket sealed under a retired key opens no more: its client gets a full handshake. Every
/// blob it seals names what it is (a rustls ticket, an SRP ticket, a session row, a TLS 1.3 PSK
/// ticket) in its authenticated data, so none opens as another. A [`SharedResumption`] store
/// keeps one current for a fleet.
///
/// ```
/// use std::time::Duration;
/// let ring = tls::TicketKeyRing::new(Duration::from_secs(3600));
/// let now = ring.period_of(std::time::SystemTime::now());
/// ring.set_keys(vec![(now, [7; 32]), (now + 1, [8; 32])]);
/// assert_eq!(ring.periods(), vec![now, now + 1]);
/// assert_eq!(ring.period(), Duration::from_secs(3600));
/// ```
///
/// [`SharedResumption`]: crate::SharedResumption
pub struct TicketKeyRing {
    /// Seconds; a fleet's ring takes the database's period at every rotation.
    period: AtomicU64,
    keys: RwLock<Vec<(u64, LessSafeKey)>>,
}

impl std::fmt::Debug for TicketKeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The keys stay out of logs; their periods say enough.
        let periods: Vec<u64> = self.read().iter().map(|(e, _)| *e).collect();
        f.debug_struct("TicketKeyRing")
            .field("period", &self.period())
            .field("keys", &periods)
            .finish()
    }
}

/// What a sealed blob is for, authenticated with it: one key ring seals several formats, and a
/// blob made for one is never opened as another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// rustls's TLS 1.2 and 1.3 tickets (X.509 clients).
    RustlsTicket,
    /// Our engine's RFC 5077 tickets (SRP).
    SrpTicket,
    /// SRP sessions kept in the fleet's table.
    SessionRow,
    /// Our TLS 1.3 PSK resumption tickets.
    PskTicket,
    /// The tag that makes a session ID one of the fleet's own.
    SessionId,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Self::RustlsTicket => b"tlslite rustls ticket",
            Self::SrpTicket => b"tlslite srp ticket",
            Self::SessionRow => b"tlslite srp session row",
            Self::PskTicket => b"tlslite tls13 psk ticket",
            Self::SessionId => b"tlslite session id",
        }
    }

    /// The additional data: the key's period, then the label.
    fn aad(self, period: u64) -> Vec<u8> {
        let mut aad = period.to_be_bytes().to_vec();
        aad.extend_from_slice(self.label());
        aad
    }
}

/// Bytes before the sealed data: the key's period, then the nonce.
const HEADER: usize = 8 + NONCE_LEN;

impl TicketKeyRing {
    /// An empty ring rotating every `period` (at least one second).
    pub fn new(period: Duration) -> Self {
        Self {
            period: AtomicU64::new(period.as_secs().max(1)),
            keys: RwLock::default(),
        }
    }

    /// How long each key seals.
    pub fn period(&self) -> Duration {
        Duration::from_secs(self.period.load(Ordering::Acquire))
    }

    /// The number of the period `time` falls in.
    pub fn period_of(&self, time: SystemTime) -> u64 {
        Self::number(time, self.period())
    }

    /// The number of the period of length `period` that `time` falls in.
    pub(crate) fn number(time: SystemTime, period: Duration) -> u64 {
        let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
        since.as_secs() / period.as_secs().max(1)
    }

    /// Replaces the period and the keys numbered by it, together: every server of a fleet
    /// numbers keys by the database's period, whatever it was when the server started.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn set_period_and_keys(&self, period: Duration, keys: Vec<(u64, [u8; 32])>) {
        let mut held = self.keys.write().unwrap_or_else(|p| p.into_inner());
        self.period
            .store(period.as_secs().max(1), Ordering::Release);
        *held = Self::unbound(keys);
    }

    /// Replaces the keys: `(period, 256-bit key)` pairs.
    pub fn set_keys(&self, keys: Vec<(u64, [u8; 32])>) {
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = Self::unbound(keys);
    }

    fn unbound(keys: Vec<(u64, [u8; 32])>) -> Vec<(u64, LessSafeKey)> {
        keys.into_iter()
            .map(|(epoch, mut raw)| {
                let key = UnboundKey::new(&AES_256_GCM, &raw).expect("AES-256 takes 32 bytes");
                raw.zeroize();
                (epoch, LessSafeKey::new(key))
            })
            .collect()
    }

    /// For a ring no store keeps: a random key for the current period when it has none, with
    /// the previous period's kept for its grace and older ones dropped.
    pub(crate) fn keep_own_keys_current(&self) {
        let now = self.period_of(SystemTime::now());
        if self.read().iter().any(|(e, _)| *e == now) {
            return;
        }
        let mut key = [0u8; 32];
        if SystemRandom::new().fill(&mut key).is_err() {
            return;
        }
        let unbound = UnboundKey::new(&AES_256_GCM, &key).expect("AES-256 takes 32 bytes");
        key.zeroize();
        let mut keys = self.keys.write().unwrap_or_else(|p| p.into_inner());
        if keys.iter().any(|(e, _)| *e == now) {
            return;
        }
        keys.retain(|(e, _)| *e + 1 >= now);
        keys.push((now, LessSafeKey::new(unbound)));
    }

    /// The periods whose keys the ring holds.
    pub fn periods(&self) -> Vec<u64> {
        self.read().iter().map(|(e, _)| *e).collect()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<(u64, LessSafeKey)>> {
        self.keys.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Seals `plain` for `purpose` under the current period's key (AES-256-GCM, random nonce,
    /// the period and the purpose authenticated); `None` when the ring has no key for now.
    pub(crate) fn seal(&self, purpose: Purpose, plain: &[u8]) -> Option<Vec<u8>> {
        let now = self.period_of(SystemTime::now());
        let keys = self.read();
        let (_, key) = keys.iter().find(|(e, _)| *e == now)?;
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).ok()?;
        let mut out = Vec::with_capacity(HEADER + plain.len() + AES_256_GCM.tag_len());
        out.extend_from_slice(&now.to_be_bytes());
        out.extend_from_slice(&nonce);
        let mut body = plain.to_vec();
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(purpose.aad(now)),
            &mut body,
        )
        .ok()?;
        out.extend_from_slice(&body);
        Some(out)
    }

    /// Opens what [`seal`](Self::seal) made for `purpose`, if its key is still in the ring and
    /// within its grace (the current or the previous period; the next one too, for clocks a
    /// little ahead).
    pub(crate) fn open(&self, purpose: Purpose, sealed: &[u8]) -> Option<Vec<u8>> {
        let header = sealed.get(..HEADER)?;
        let epoch = u64::from_be_bytes(header[..8].try_into().ok()?);
        let now = self.period_of(SystemTime::now());
        if epoch + 1 < now || epoch > now + 1 {
            return None;
        }
        let nonce = Nonce::try_assume_unique_for_key(&header[8..]).ok()?;
        let keys = self.read();
        let (_, key) = keys.iter().find(|(e, _)| *e == epoch)?;
        let mut body = sealed[HEADER..].to_vec();
        let plain = key
            .open_in_place(nonce, Aad::from(purpose.aad(epoch)), &mut body)
            .ok()?;
        Some(plain.to_vec())
    }
}

impl TicketKeyRing {
    /// A session ID the fleet can tell from a stranger's without asking its database: 16
    /// random bytes, then a 16-byte tag of them under the current key (AES-GCM over nothing,
    /// the random bytes as additional data and, their first 12, as nonce). `None`: no key yet.
    pub(crate) fn session_id(&self, random: [u8; 16]) -> Option<Vec<u8>> {
        let now = self.period_of(SystemTime::now());
        let keys = self.read();
        let (_, key) = keys.iter().find(|(e, _)| *e == now)?;
        let mut id = random.to_vec();
        id.extend_from_slice(&session_id_tag(key, &random)?);
        Some(id)
    }

    /// Whether `id` is a session ID this fleet issued under a key still in its grace: a random
    /// one from a stranger's ClientHello costs no round trip to the database.
    pub(crate) fn issued(&self, id: &[u8]) -> bool {
        let Some((random, tag)) = id.split_first_chunk::<16>() else {
            return false;
        };
        let now = self.period_of(SystemTime::now());
        self.read()
            .iter()
            .filter(|(e, _)| e + 1 >= now && *e <= now + 1)
            .filter_map(|(_, key)| session_id_tag(key, random))
            .any(|expected| bool::from(subtle::ConstantTimeEq::ct_eq(&expected[..], tag)))
    }
}

fn session_id_tag(key: &LessSafeKey, random: &[u8; 16]) -> Option<[u8; 16]> {
    let nonce = Nonce::try_assume_unique_for_key(&random[..NONCE_LEN]).ok()?;
    let mut aad = Purpose::SessionId.label().to_vec();
    aad.extend_from_slice(random);
    let tag = key
        .seal_in_place_separate_tag(nonce, Aad::from(aad), &mut [])
        .ok()?;
    tag.as_ref().try_into().ok()
}

/// rustls's ticket producer over a shared ring.
#[derive(Debug)]
pub(crate) struct FleetTicketer(pub(crate) Arc<TicketKeyRing>);

impl rustls::server::ProducesTickets for FleetTicketer {
    fn enabled(&self) -> bool {
        true
    }

    fn lifetime(&self) -> u32 {
        u32::try_from(self.0.period().as_secs()).unwrap_or(u32::MAX)
    }

    fn encrypt(&self, plain: &[u8]) -> Option<Vec<u8>> {
        self.0.seal(Purpose::RustlsTicket, plain)
    }

    fn decrypt(&self, cipher: &[u8]) -> Option<Vec<u8>> {
        self.0.open(Purpose::RustlsTicket, cipher)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_opens_under_its_key_and_grace_only() {
        const P: Purpose = Purpose::SrpTicket;
        let ring = TicketKeyRing::new(Duration::from_secs(60));
        assert!(ring.seal(P, b"x").is_none(), "no key, no ticket");
        let now = ring.period_of(SystemTime::now());
        ring.set_keys(vec![(now - 1, [1; 32]), (now, [2; 32]), (now + 1, [3; 32])]);
        let sealed = ring.seal(P, b"state").unwrap();
        assert_eq!(&sealed[..8], &now.to_be_bytes());
        assert_eq!(ring.open(P, &sealed).unwrap(), b"state");
        // Another ring with the same keys (another server) opens it; a different key does not.
        let other = TicketKeyRing::new(Duration::from_secs(60));
        other.set_keys(vec![(now, [2; 32])]);
        assert_eq!(other.open(P, &sealed).unwrap(), b"state");
        other.set_keys(vec![(now, [9; 32])]);
        assert!(other.open(P, &sealed).is_none());
        // Tampering with the period, the nonce or the body fails.
        for at in [7, 8, HEADER, sealed.len() - 1] {
            let mut bad = sealed.clone();
            bad[at] ^= 1;
            assert!(ring.open(P, &bad).is_none(), "byte {at}");
        }
        assert!(ring.open(P, &sealed[..HEADER]).is_none());
        // A key two periods old is past its grace even while still in the ring.
        let mut old = sealed.clone();
        old[..8].copy_from_slice(&(now - 2).to_be_bytes());
        ring.set_keys(vec![(now - 2, [2; 32])]);
        assert!(ring.open(P, &old).is_none());
    }

    /// Issue 26, item 5: one ring seals rustls tickets, SRP tickets, shared session rows and
    /// TLS 1.3 PSK tickets; each opens only as what it was sealed for.
    #[test]
    fn a_blob_sealed_for_one_purpose_opens_as_no_other() {
        let ring = TicketKeyRing::new(Duration::from_secs(60));
        ring.set_keys(vec![(ring.period_of(SystemTime::now()), [4; 32])]);
        let all = [
            Purpose::RustlsTicket,
            Purpose::SrpTicket,
            Purpose::SessionRow,
            Purpose::PskTicket,
        ];
        for sealed_for in all {
            let sealed = ring.seal(sealed_for, b"state").unwrap();
            for opened_as in all {
                assert_eq!(
                    ring.open(opened_as, &sealed).is_some(),
                    sealed_for == opened_as,
                    "{sealed_for:?} opened as {opened_as:?}"
                );
            }
        }
    }
}
