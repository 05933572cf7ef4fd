//! The sessions a client keeps.

use std::sync::Arc;

use rustls::client::ClientSessionMemoryCache;

/// Resumable sessions a client remembers.
///
/// A session resumes only under the configuration that made it (the same server
/// authentication and client certificate): configurations sharing a store keep their sessions
/// apart, so a session made under a pin never lets another configuration skip its own checks.
#[derive(Clone, Debug)]
pub struct SessionStore(pub(crate) Arc<ClientSessionMemoryCache>);

impl SessionStore {
    /// Remembers sessions for up to `servers` servers (least recently used are forgotten).
    pub fn new(servers: usize) -> Self {
        Self(Arc::new(ClientSessionMemoryCache::new(servers)))
    }
}

impl Default for SessionStore {
    fn default() -> Self {
        Self::new(256)
    }
}
