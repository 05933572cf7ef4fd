//! Key exchanges: what differs between the suites of one protocol version is a few handshake
//! messages and the premaster secret. Each exchange is a part the handshakes call: it names
//! what goes into the hello, reads and writes the key-exchange messages, and hands back the
//! premaster secret; records, Finished, resumption and alerts stay the handshake's.

pub(crate) mod ecdhe;
pub(crate) mod psk;
pub(crate) mod psk12;
pub(crate) mod srp;
