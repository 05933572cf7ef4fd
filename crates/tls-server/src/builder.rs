//! What both servers share: the builder, the settings it makes, what a handler knows about its
//! connection, the handshake's log line and hook, and shutting down.

use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use tls::{ServerConfig, Session};

use crate::async_server::AsyncTlsServer;
use crate::server::TlsServer;
use crate::slots::Slots;

/// What a handler knows about its connection besides the stream.
#[derive(Clone, Debug)]
pub struct ConnectionInfo {
    pub(crate) peer: SocketAddr,
    pub(crate) stopping: Arc<AtomicBool>,
    pub(crate) request_head_timeout: Duration,
}

impl ConnectionInfo {
    /// The client's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// True once the server is shutting down: finish the current exchange and return
    /// (e.g. stop HTTP keep-alive).
    pub fn is_shutting_down(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }

    /// How long a request-response handler should give the client to send each request head,
    /// as a total (see [`TlsServerBuilder::request_head_timeout`]).
    pub fn request_head_timeout(&self) -> Duration {
        self.request_head_timeout
    }
}

/// Decides after the handshake whether to keep a client (tlslite's `handshake()` hook).
type Hook = dyn Fn(&Session, &ConnectionInfo) -> bool + Send + Sync;

/// The settings of a built server, the same for both drivers.
pub(crate) struct Settings {
    pub(crate) tls: ServerConfig,
    pub(crate) handshake_timeout: Duration,
    pub(crate) request_head_timeout: Duration,
    pub(crate) plaintext_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) stack_size: usize,
    hook: Option<Arc<Hook>>,
}

impl Settings {
    /// Logs a finished handshake (one line) and asks the hook whether to keep the client.
    pub(crate) fn admit(&self, session: &Session, info: &ConnectionInfo) -> io::Result<()> {
        let peer = info.peer;
        log::info!(
            "{peer}: {} {} resumed={} sni={} srp={} psk={}",
            session.version(),
            session.cipher_suite(),
            if session.resumed() { "yes" } else { "no" },
            session.server_name().unwrap_or("-"),
            session.srp_username().unwrap_or("-"),
            session
                .psk_identity()
                .map_or("-".into(), String::from_utf8_lossy),
        );
        match &self.hook {
            Some(hook) if !hook(session, info) => {
                log::info!("{peer}: dropped by the handshake hook");
                Err(io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    "refused by hook",
                ))
            }
            _ => Ok(()),
        }
    }

    pub(crate) fn info(&self, peer: SocketAddr, stop: &Stop) -> ConnectionInfo {
        ConnectionInfo {
            peer,
            stopping: stop.flag.clone(),
            request_head_timeout: self.request_head_timeout,
        }
    }
}

/// Builds a [`TlsServer`] (a thread per connection) or an [`AsyncTlsServer`] (tokio tasks):
/// the same settings for both.
pub struct TlsServerBuilder {
    settings: Settings,
    max_connections: usize,
    max_connections_per_ip: usize,
    worker_threads: usize,
}

impl TlsServerBuilder {
    pub(crate) fn new(tls: ServerConfig) -> Self {
        Self {
            settings: Settings {
                tls,
                handshake_timeout: Duration::from_secs(10),
                request_head_timeout: Duration::from_secs(20),
                plaintext_timeout: Duration::from_secs(30),
                idle_timeout: Duration::from_secs(60),
                stack_size: 128 * 1024,
                hook: None,
            },
            max_connections: 4096,
            max_connections_per_ip: 128,
            worker_threads: thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }

    /// Most connections served at once (default 4096); the rest wait in the listen backlog.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n;
        self
    }

    /// Most connections served at once from one client (default 128): an IPv4 address, or
    /// an IPv6 /64. Connections over it are closed at once, before any handshake, and logged,
    /// so one client cannot take every slot of [`max_connections`](Self::max_connections).
    pub fn max_connections_per_ip(mut self, n: usize) -> Self {
        self.max_connections_per_ip = n;
        self
    }

    /// The whole handshake must finish within this (default 10 s).
    pub fn handshake_timeout(mut self, t: Duration) -> Self {
        self.settings.handshake_timeout = t;
        self
    }

    /// Each HTTP request head must arrive whole within this (default 20 s), counted from when
    /// the server starts waiting for it: the end of the handshake, then the end of the
    /// previous response. It is a total, not a per-read timeout, so a client dripping a byte
    /// at a time is cut; it also bounds how long an idle keep-alive connection is kept.
    /// [`StaticFiles`](crate::StaticFiles) obeys it; other handlers read it from
    /// [`ConnectionInfo::request_head_timeout`].
    pub fn request_head_timeout(mut self, t: Duration) -> Self {
        self.settings.request_head_timeout = t;
        self
    }

    /// With `serve_plain`, the plaintext phase, from the accept until `starttls` has finished
    /// its handshake, must end within this in total (default 30 s). A client that never
    /// upgrades is cut then too.
    pub fn plaintext_timeout(mut self, t: Duration) -> Self {
        self.settings.plaintext_timeout = t;
        self
    }

    /// A connection that neither sends nor accepts data for this long is dropped (default 60 s).
    pub fn idle_timeout(mut self, t: Duration) -> Self {
        self.settings.idle_timeout = t;
        self
    }

    /// How many threads serve the connections of an [`AsyncTlsServer`] (default: one per
    /// core), each with an event loop of its own.
    pub fn worker_threads(mut self, n: usize) -> Self {
        self.worker_threads = n.max(1);
        self
    }

    /// Stack size of each connection thread of a [`TlsServer`] (default 128 KiB).
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.settings.stack_size = bytes;
        self
    }

    /// Runs after each handshake, with what it negotiated; returning `false` drops the
    /// connection.
    pub fn handshake_hook(
        mut self,
        hook: impl Fn(&Session, &ConnectionInfo) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.settings.hook = Some(Arc::new(hook));
        self
    }

    /// Binds the listening socket (the first address that works), with a backlog of 1024,
    /// for a [`TlsServer`]: a thread per connection.
    pub fn bind(self, addr: impl ToSocketAddrs) -> io::Result<TlsServer> {
        let listener = listen_any(addr)?;
        let slots = Slots::new(self.max_connections, self.max_connections_per_ip);
        TlsServer::new(listener, self.settings, slots)
    }

    /// Binds the listening socket like [`bind`](Self::bind), for an [`AsyncTlsServer`]: tokio
    /// tasks. May be called outside a runtime; serving needs one.
    pub fn bind_async(self, addr: impl ToSocketAddrs) -> io::Result<AsyncTlsServer> {
        let listener = listen_any(addr)?;
        let slots = Slots::new(self.max_connections, self.max_connections_per_ip);
        AsyncTlsServer::new(
            listener,
            self.settings,
            slots,
            self.max_connections,
            self.worker_threads,
        )
    }
}

/// Room for bursts of connections (std's own `bind` leaves 128).
const BACKLOG: i32 = 1024;

fn listen_any(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
    let mut last = io::Error::new(io::ErrorKind::InvalidInput, "no address to bind");
    for addr in addr.to_socket_addrs()? {
        match listen(addr) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

/// A server's stop switch, shared by its accept loop, its connections and its handles.
pub(crate) struct Stop {
    pub(crate) flag: Arc<AtomicBool>,
    grace: Mutex<Duration>,
    /// Wakes the accept loop so it sees the flag.
    wake: Box<dyn Fn() + Send + Sync>,
    /// How many connections are live.
    count: Box<dyn Fn() -> usize + Send + Sync>,
}

impl Stop {
    pub(crate) fn new(
        wake: impl Fn() + Send + Sync + 'static,
        count: impl Fn() -> usize + Send + Sync + 'static,
    ) -> Self {
        Self {
            flag: Arc::new(AtomicBool::new(false)),
            grace: Mutex::new(Duration::ZERO),
            wake: Box::new(wake),
            count: Box::new(count),
        }
    }

    pub(crate) fn is_set(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    pub(crate) fn grace(&self) -> Duration {
        *self.grace.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Stops a running server from any thread.
#[derive(Clone)]
pub struct ShutdownHandle(pub(crate) Arc<Stop>);

impl ShutdownHandle {
    /// Stops accepting, gives connections in flight `grace` to finish, then cuts them.
    /// Returns at once; `serve` returns when it is done.
    pub fn shutdown(&self, grace: Duration) {
        *self.0.grace.lock().unwrap_or_else(|p| p.into_inner()) = grace;
        self.0.flag.store(true, Ordering::SeqCst);
        (self.0.wake)();
    }

    /// Connections being served right now.
    pub fn connections(&self) -> usize {
        (self.0.count)()
    }
}

/// A server running on a background thread.
pub struct RunningServer {
    /// Where it listens.
    pub addr: SocketAddr,
    pub(crate) stop: ShutdownHandle,
    pub(crate) thread: thread::JoinHandle<io::Result<()>>,
}

impl RunningServer {
    /// A handle that stops it.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.stop.clone()
    }

    /// Connections being served right now.
    pub fn connections(&self) -> usize {
        self.stop.connections()
    }

    /// Shuts down with `grace` for connections in flight, and waits until it has.
    pub fn shutdown(self, grace: Duration) -> io::Result<()> {
        self.stop.shutdown(grace);
        self.thread
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("server thread panicked")))
    }
}
