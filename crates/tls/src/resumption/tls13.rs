//! TLS 1.3 resumption for our engine's PSK handshakes (RFC 8446 §4.6.1, §2.2): what a server
//! seals into a ticket, who may seal it (a fleet's keys or the server's own), and the tickets a
//! client keeps by host.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use zeroize::Zeroizing;

use super::{Purpose, TicketKeyRing};

/// The first byte of a sealed TLS 1.3 PSK session: tells it from the other sessions sealed
/// under the same keys (our TLS 1.2 sessions start with 1, rustls's with its own encoding).
const TICKET_VERSION: u8 = 0x13;

/// How long a ticket of a server's own keys may be used (a fleet's: one key period).
const OWN_TICKET_LIFETIME: Duration = Duration::from_secs(3600);

/// Who seals a server's tickets.
pub(crate) enum TicketSealer {
    /// The fleet's ring, kept current by its store: every server of it opens the tickets.
    Fleet(Arc<TicketKeyRing>),
    /// This configuration's own ring, keyed here at random as periods start.
    Own(TicketKeyRing),
}

impl TicketSealer {
    pub(crate) fn own() -> Self {
        Self::Own(TicketKeyRing::new(OWN_TICKET_LIFETIME))
    }

    fn ring(&self) -> &TicketKeyRing {
        match self {
            Self::Fleet(ring) => ring,
            Self::Own(ring) => ring,
        }
    }

    /// How long a client may use a ticket (seconds; RFC 8446 caps it at 7 days).
    pub(crate) fn lifetime(&self) -> u32 {
        let secs = self.ring().period().as_secs().min(7 * 24 * 3600);
        u32::try_from(secs).unwrap_or(u32::MAX)
    }

    /// Seals `state`; `None` when no key seals now (a fleet whose store has not provided one).
    pub(crate) fn seal(&self, state: &TicketState) -> Option<Vec<u8>> {
        if let Self::Own(ring) = self {
            ring.keep_own_keys_current();
        }
        self.ring().seal(Purpose::PskTicket, &state.encode())
    }

    /// The state in a ticket this server (or its fleet) sealed, still within its lifetime.
    pub(crate) fn open(&self, ticket: &[u8]) -> Option<TicketState> {
        let plain = Zeroizing::new(self.ring().open(Purpose::PskTicket, ticket)?);
        let state = TicketState::decode(&plain)?;
        let age = unix_now().saturating_sub(state.issued);
        (age <= u64::from(self.lifetime())).then_some(state)
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// What a server's ticket holds: the resumption PSK, its suite, and who it stands for.
pub(crate) struct TicketState {
    pub(crate) suite: u16,
    /// Seconds since the Unix epoch when it was issued.
    pub(crate) issued: u64,
    /// The external identity the first handshake proved: a resumed session keeps it.
    pub(crate) identity: Vec<u8>,
    /// SHA-256 of that identity's key then: a key changed or deleted since ends its tickets.
    pub(crate) key_digest: [u8; 32],
    pub(crate) psk: Zeroizing<Vec<u8>>,
}

impl TicketState {
    pub(crate) fn new(suite: u16, identity: Vec<u8>, key_digest: [u8; 32], psk: &[u8]) -> Self {
        Self {
            suite,
            issued: unix_now(),
            identity,
            key_digest,
            psk: Zeroizing::new(psk.to_vec()),
        }
    }

    fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(
            48 + self.identity.len() + self.psk.len(),
        ));
        out.push(TICKET_VERSION);
        out.extend_from_slice(&self.suite.to_be_bytes());
        out.extend_from_slice(&self.issued.to_be_bytes());
        out.extend_from_slice(&self.key_digest);
        out.push(self.psk.len() as u8);
        out.extend_from_slice(&self.psk);
        out.extend_from_slice(&self.identity);
        out
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let (&[TICKET_VERSION, s0, s1], rest) = bytes.split_first_chunk::<3>()? else {
            return None;
        };
        let (issued, rest) = rest.split_first_chunk::<8>()?;
        let (digest, rest) = rest.split_first_chunk::<32>()?;
        let (&psk_len, rest) = rest.split_first()?;
        if !matches!(psk_len, 32 | 48) || rest.len() <= usize::from(psk_len) {
            return None;
        }
        let (psk, identity) = rest.split_at(usize::from(psk_len));
        Some(Self {
            suite: u16::from_be_bytes([s0, s1]),
            issued: u64::from_be_bytes(*issued),
            identity: identity.to_vec(),
            key_digest: *digest,
            psk: Zeroizing::new(psk.to_vec()),
        })
    }
}

/// A ticket a client holds.
#[derive(Clone)]
pub(crate) struct ClientTicket {
    pub(crate) ticket: Vec<u8>,
    pub(crate) psk: Zeroizing<Vec<u8>>,
    pub(crate) suite: u16,
    /// The external identity of the handshake that earned it.
    pub(crate) identity: Vec<u8>,
    pub(crate) age_add: u32,
    pub(crate) received: Instant,
    pub(crate) lifetime: Duration,
}

impl ClientTicket {
    /// The obfuscated ticket age (RFC 8446 §4.2.11.1).
    pub(crate) fn obfuscated_age(&self) -> u32 {
        let millis = u32::try_from(self.received.elapsed().as_millis()).unwrap_or(u32::MAX);
        millis.wrapping_add(self.age_add)
    }
}

/// A client's tickets by host: the newest few per host, each used once (RFC 8446 §C.4).
pub(crate) struct ClientTickets {
    tickets: Mutex<VecDeque<(String, ClientTicket)>>,
    capacity: usize,
}

/// Tickets kept for one host (servers send two by default; OpenSSL does).
const PER_HOST: usize = 4;

impl ClientTickets {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            tickets: Mutex::new(VecDeque::new()),
            capacity,
        }
    }

    pub(crate) fn put(&self, host: &str, ticket: ClientTicket) {
        if self.capacity == 0 {
            return;
        }
        let mut tickets = self.tickets.lock().unwrap_or_else(|p| p.into_inner());
        let same_host = tickets.iter().filter(|(h, _)| h == host).count();
        if same_host >= PER_HOST {
            if let Some(oldest) = tickets.iter().position(|(h, _)| h == host) {
                tickets.remove(oldest);
            }
        }
        if tickets.len() >= self.capacity {
            tickets.pop_front();
        }
        tickets.push_back((host.to_owned(), ticket));
    }

    /// The newest unexpired ticket for `host`, taken out (a ticket is offered once).
    pub(crate) fn take(&self, host: &str) -> Option<ClientTicket> {
        let mut tickets = self.tickets.lock().unwrap_or_else(|p| p.into_inner());
        tickets.retain(|(_, t)| t.received.elapsed() < t.lifetime);
        let at = tickets.iter().rposition(|(h, _)| h == host)?;
        tickets.remove(at).map(|(_, t)| t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_opens_only_whole_unexpired_and_of_its_kind() {
        let sealer = TicketSealer::own();
        let state = TicketState::new(0x1301, b"sensor".to_vec(), [3; 32], &[9; 32]);
        let ticket = sealer.seal(&state).unwrap();
        let back = sealer.open(&ticket).unwrap();
        assert_eq!(
            (back.suite, &back.identity[..], back.key_digest),
            (0x1301, &b"sensor"[..], [3; 32])
        );
        assert_eq!(&back.psk[..], &[9; 32]);
        // Another server's own keys do not open it.
        assert!(TicketSealer::own().open(&ticket).is_none());
        // Expired: issued longer ago than the lifetime.
        let mut old = TicketState::new(0x1301, b"sensor".to_vec(), [3; 32], &[9; 32]);
        old.issued -= u64::from(sealer.lifetime()) + 1;
        assert!(sealer.open(&sealer.seal(&old).unwrap()).is_none());
        // A TLS 1.2 session sealed under the same keys is not a TLS 1.3 ticket.
        let ring = match &sealer {
            TicketSealer::Own(ring) => ring,
            TicketSealer::Fleet(_) => unreachable!(),
        };
        let srp = crate::resumption::SavedSession::new(vec![1], [1; 48], 0xc01d, true, "u".into());
        assert!(sealer
            .open(&ring.seal(Purpose::SrpTicket, &srp.encode()).unwrap())
            .is_none());
    }
}
