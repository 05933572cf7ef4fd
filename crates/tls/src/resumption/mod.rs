//! Resumption, for both engines in one place.
//!
//! | who keeps it | what | type |
//! |---|---|---|
//! | a client | rustls's sessions (X.509) | [`SessionStore`] |
//! | a server | rustls's and our engine's sessions by ID | [`SessionCache`] |
//! | a fleet of servers | rotating ticket keys, our engine's sessions by ID | [`SharedResumption`], [`TicketKeyRing`] |
//! | our engine | one session (`SavedSession`), a bounded map of them, a server's view of its cache and the fleet | crate-private |
//! | our engine, TLS 1.3 PSK | tickets: the sealed state, who seals it, a client's by host | crate-private |

mod bounded;
mod client;
mod fleet;
mod saved;
mod server;
mod ticket_keys;
mod tls13;

pub(crate) use bounded::BoundedSessions;
pub use client::SessionStore;
pub use fleet::SharedResumption;
pub(crate) use saved::SavedSession;
pub(crate) use server::ServerSessions;
pub use server::SessionCache;
pub use ticket_keys::TicketKeyRing;
pub(crate) use ticket_keys::{FleetTicketer, Purpose};
pub(crate) use tls13::{ClientTicket, ClientTickets, TicketSealer, TicketState};
