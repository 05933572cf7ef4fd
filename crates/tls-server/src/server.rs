//! `TlsServer`: accept, a thread per connection, handshake, hook, handler.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use tls::{ServerConfig, TlsStream};

use crate::slots::{Refused, Slots};
use crate::Socket;

/// What a handler knows about its connection besides the stream.
#[derive(Clone, Debug)]
pub struct ConnectionInfo {
    peer: SocketAddr,
    stopping: Arc<AtomicBool>,
    request_head_timeout: Duration,
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

/// Serves one connection after its TLS handshake. Returning `Ok` sends close_notify.
///
/// Closures `Fn(&mut TlsStream<Socket>, &ConnectionInfo) -> io::Result<()>` are handlers.
pub trait Handler: Send + Sync + 'static {
    /// Talks to the client until done.
    fn handle(&self, tls: &mut TlsStream<Socket>, conn: &ConnectionInfo) -> io::Result<()>;
}

impl<F> Handler for F
where
    F: Fn(&mut TlsStream<Socket>, &ConnectionInfo) -> io::Result<()> + Send + Sync + 'static,
{
    fn handle(&self, tls: &mut TlsStream<Socket>, conn: &ConnectionInfo) -> io::Result<()> {
        self(tls, conn)
    }
}

/// Serves a connection that starts in plaintext and may upgrade with STARTTLS
/// (SMTP, POP3, IMAP). Closures `Fn(PlainConnection) -> io::Result<()>` are plain handlers.
pub trait PlainHandler: Send + Sync + 'static {
    /// Talks to the client until done.
    fn handle(&self, conn: PlainConnection) -> io::Result<()>;
}

impl<F> PlainHandler for F
where
    F: Fn(PlainConnection) -> io::Result<()> + Send + Sync + 'static,
{
    fn handle(&self, conn: PlainConnection) -> io::Result<()> {
        self(conn)
    }
}

/// Decides after the handshake whether to keep a client (tlslite's `handshake()` hook).
type Hook = dyn Fn(&mut TlsStream<Socket>, &ConnectionInfo) -> bool + Send + Sync;

struct Shared {
    tls: ServerConfig,
    handshake_timeout: Duration,
    request_head_timeout: Duration,
    plaintext_timeout: Duration,
    idle_timeout: Duration,
    stack_size: usize,
    hook: Option<Arc<Hook>>,
    slots: Slots,
    stopping: Arc<AtomicBool>,
    grace: Mutex<Duration>,
    local_addr: SocketAddr,
}

impl Shared {
    /// Runs the TLS handshake on `sock` with the deadline (or the one already in force, if
    /// sooner), logs it, and applies the hook.
    fn handshake(&self, mut sock: Socket, info: &ConnectionInfo) -> io::Result<TlsStream<Socket>> {
        let peer = info.peer;
        let deadline = Instant::now() + self.handshake_timeout;
        sock.set_deadline(Some(sock.deadline().map_or(deadline, |d| d.min(deadline))))?;
        let mut tls = self.tls.accept(sock).inspect_err(|e| {
            log::warn!("{peer}: handshake failed: {e}");
        })?;
        tls.get_mut().set_deadline(None)?;
        let s = tls.session();
        log::info!(
            "{peer}: {} {} resumed={} sni={} srp={}",
            s.version(),
            s.cipher_suite(),
            if s.resumed() { "yes" } else { "no" },
            s.server_name().unwrap_or("-"),
            s.srp_username().unwrap_or("-"),
        );
        if let Some(hook) = &self.hook {
            if !hook(&mut tls, info) {
                log::info!("{peer}: dropped by the handshake hook");
                return Err(io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    "refused by hook",
                ));
            }
        }
        Ok(tls)
    }
}

/// Builds a [`TlsServer`].
pub struct TlsServerBuilder {
    tls: ServerConfig,
    max_connections: usize,
    max_connections_per_ip: usize,
    handshake_timeout: Duration,
    request_head_timeout: Duration,
    plaintext_timeout: Duration,
    idle_timeout: Duration,
    stack_size: usize,
    hook: Option<Arc<Hook>>,
}

impl TlsServerBuilder {
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
        self.handshake_timeout = t;
        self
    }

    /// Each HTTP request head must arrive whole within this (default 20 s), counted from when
    /// the server starts waiting for it: the end of the handshake, then the end of the
    /// previous response. It is a total, not a per-read timeout, so a client dripping a byte
    /// at a time is cut; it also bounds how long an idle keep-alive connection is kept.
    /// [`StaticFiles`](crate::StaticFiles) obeys it; other handlers read it from
    /// [`ConnectionInfo::request_head_timeout`].
    pub fn request_head_timeout(mut self, t: Duration) -> Self {
        self.request_head_timeout = t;
        self
    }

    /// With [`TlsServer::serve_plain`], the plaintext phase, from the accept until
    /// [`PlainConnection::starttls`] has finished its handshake, must end within this in
    /// total (default 30 s). A client that never upgrades is cut then too.
    pub fn plaintext_timeout(mut self, t: Duration) -> Self {
        self.plaintext_timeout = t;
        self
    }

    /// A connection that neither sends nor accepts data for this long is dropped (default 60 s).
    pub fn idle_timeout(mut self, t: Duration) -> Self {
        self.idle_timeout = t;
        self
    }

    /// Stack size of each connection thread (default 128 KiB).
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = bytes;
        self
    }

    /// Runs after each handshake; returning `false` drops the connection.
    pub fn handshake_hook(
        mut self,
        hook: impl Fn(&mut TlsStream<Socket>, &ConnectionInfo) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// Binds the listening socket (the first address that works), with a backlog of 1024.
    pub fn bind(self, addr: impl ToSocketAddrs) -> io::Result<TlsServer> {
        let mut last = io::Error::new(io::ErrorKind::InvalidInput, "no address to bind");
        let mut bound = None;
        for addr in addr.to_socket_addrs()? {
            match listen(addr) {
                Ok(listener) => {
                    bound = Some(listener);
                    break;
                }
                Err(e) => last = e,
            }
        }
        let listener = bound.ok_or(last)?;
        let local_addr = listener.local_addr()?;
        Ok(TlsServer {
            listener,
            shared: Arc::new(Shared {
                tls: self.tls,
                handshake_timeout: self.handshake_timeout,
                request_head_timeout: self.request_head_timeout,
                plaintext_timeout: self.plaintext_timeout,
                idle_timeout: self.idle_timeout,
                stack_size: self.stack_size,
                hook: self.hook,
                slots: Slots::new(self.max_connections, self.max_connections_per_ip),
                stopping: Arc::new(AtomicBool::new(false)),
                grace: Mutex::new(Duration::ZERO),
                local_addr,
            }),
        })
    }
}

/// Room for bursts of connections while threads start (std's own `bind` leaves 128).
const BACKLOG: i32 = 1024;

fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

/// A threaded TLS server: tlslite's `TLSSocketServerMixIn` with `ThreadingMixIn`.
///
/// ```no_run
/// use std::io::Write;
/// # let config: tls::ServerConfig = unimplemented!();
/// let server = tls_server::TlsServer::builder(config).bind("127.0.0.1:4443")?;
/// let stop = server.shutdown_handle();
/// server.serve(|tls: &mut tls::TlsStream<tls_server::Socket>, _: &tls_server::ConnectionInfo| {
///     tls.write_all(b"hello\n")
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct TlsServer {
    listener: TcpListener,
    shared: Arc<Shared>,
}

/// Stops a running [`TlsServer`] from any thread.
#[derive(Clone)]
pub struct ShutdownHandle(Arc<Shared>);

impl ShutdownHandle {
    /// Stops accepting, gives connections in flight `grace` to finish, then cuts them.
    /// Returns at once; `serve` returns when it is done.
    pub fn shutdown(&self, grace: Duration) {
        *self.0.grace.lock().unwrap_or_else(|p| p.into_inner()) = grace;
        self.0.stopping.store(true, Ordering::SeqCst);
        self.0.slots.wake();
        // Wake the accept call with a connection of our own.
        let _ = TcpStream::connect_timeout(&self.0.local_addr, Duration::from_secs(1));
    }
}

impl TlsServer {
    /// Starts a server: 4096 connections at most, 128 per client address, 10 s handshakes,
    /// 20 s request heads, 30 s plaintext phases before STARTTLS, 60 s idle timeout.
    pub fn builder(tls: ServerConfig) -> TlsServerBuilder {
        TlsServerBuilder {
            tls,
            max_connections: 4096,
            max_connections_per_ip: 128,
            handshake_timeout: Duration::from_secs(10),
            request_head_timeout: Duration::from_secs(20),
            plaintext_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            stack_size: 128 * 1024,
            hook: None,
        }
    }

    /// Where it listens (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local_addr
    }

    /// A handle that stops the server.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle(self.shared.clone())
    }

    /// Connections being served right now.
    pub fn connections(&self) -> usize {
        self.shared.slots.count()
    }

    /// Serves TLS connections with `handler` until shut down.
    pub fn serve(self, handler: impl Handler) -> io::Result<()> {
        let handler = Arc::new(handler);
        self.run(move |shared, sock, info| {
            let mut tls = shared.handshake(sock, &info)?;
            handler.handle(&mut tls, &info)?;
            tls.close()?;
            Ok(())
        })
    }

    /// Serves connections that start in plaintext (STARTTLS protocols) until shut down.
    pub fn serve_plain(self, handler: impl PlainHandler) -> io::Result<()> {
        let handler = Arc::new(handler);
        self.run(move |shared, mut sock, info| {
            sock.set_deadline(Some(Instant::now() + shared.plaintext_timeout))?;
            handler.handle(PlainConnection {
                reader: BufReader::new(sock),
                shared,
                info,
            })
        })
    }

    fn run(
        self,
        serve: impl Fn(Arc<Shared>, Socket, ConnectionInfo) -> io::Result<()> + Send + Sync + 'static,
    ) -> io::Result<()> {
        let serve = Arc::new(serve);
        let shared = &self.shared;
        loop {
            shared.slots.wait_for_room(&shared.stopping);
            if shared.stopping.load(Ordering::SeqCst) {
                break;
            }
            let (tcp, peer) = match self.listener.accept() {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    log::error!("accept failed: {e}");
                    thread::sleep(Duration::from_millis(20));
                    continue;
                }
            };
            if shared.stopping.load(Ordering::SeqCst) {
                break;
            }
            let id = match shared.slots.take(&tcp, peer.ip()) {
                Ok(id) => id,
                Err(Refused::PerClientCap(n)) => {
                    log::warn!("{peer}: refused, its address is at its cap of {n} connections");
                    continue;
                }
                Err(Refused::Io(e)) => {
                    log::error!("{peer}: refused: {e}");
                    continue;
                }
            };
            let (shared2, serve) = (shared.clone(), serve.clone());
            let spawned = thread::Builder::new()
                .name(format!("tls {peer}"))
                .stack_size(shared.stack_size)
                .spawn(move || {
                    let _slot = SlotGuard(&shared2, id);
                    let info = ConnectionInfo {
                        peer,
                        stopping: shared2.stopping.clone(),
                        request_head_timeout: shared2.request_head_timeout,
                    };
                    let result = Socket::new(tcp, shared2.idle_timeout)
                        .and_then(|sock| serve(shared2.clone(), sock, info));
                    if let Err(e) = result {
                        log::debug!("{peer}: {e}");
                    }
                });
            if let Err(e) = spawned {
                log::error!("{peer}: cannot start a thread: {e}");
                shared.slots.release(id);
            }
        }
        let grace = *shared.grace.lock().unwrap_or_else(|p| p.into_inner());
        let cut = shared.slots.drain(grace);
        if cut > 0 {
            log::info!("shutdown: cut {cut} connections still open after {grace:?}");
        }
        shared.slots.wait_empty(Duration::from_secs(5));
        Ok(())
    }

    /// Serves on a background thread; the returned handle stops it and waits.
    pub fn spawn(self, handler: impl Handler) -> RunningServer {
        let addr = self.local_addr();
        let stop = self.shutdown_handle();
        let thread = thread::spawn(move || self.serve(handler));
        RunningServer { addr, stop, thread }
    }

    /// Like [`spawn`](Self::spawn), for plaintext-first protocols.
    pub fn spawn_plain(self, handler: impl PlainHandler) -> RunningServer {
        let addr = self.local_addr();
        let stop = self.shutdown_handle();
        let thread = thread::spawn(move || self.serve_plain(handler));
        RunningServer { addr, stop, thread }
    }
}

/// Releases a connection slot even if the handler panics.
struct SlotGuard<'a>(&'a Shared, u64);

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        self.0.slots.release(self.1);
    }
}

/// A server running on a background thread.
pub struct RunningServer {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: ShutdownHandle,
    thread: thread::JoinHandle<io::Result<()>>,
}

impl RunningServer {
    /// A handle that stops it.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.stop.clone()
    }

    /// Connections being served right now.
    pub fn connections(&self) -> usize {
        self.stop.0.slots.count()
    }

    /// Shuts down with `grace` for connections in flight, and waits until it has.
    pub fn shutdown(self, grace: Duration) -> io::Result<()> {
        self.stop.shutdown(grace);
        self.thread
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("server thread panicked")))
    }
}

/// A connection in plaintext, before STARTTLS. Reads are buffered by line. Every read and
/// write fails once the plaintext phase's deadline has passed
/// ([`plaintext_timeout`](TlsServerBuilder::plaintext_timeout)).
pub struct PlainConnection {
    reader: BufReader<Socket>,
    shared: Arc<Shared>,
    info: ConnectionInfo,
}

impl PlainConnection {
    /// The client's address and the server's state.
    pub fn info(&self) -> &ConnectionInfo {
        &self.info
    }

    /// Upgrades to TLS with the server's configuration (and its handshake hook). The handshake
    /// must also end within the plaintext phase's deadline
    /// ([`plaintext_timeout`](TlsServerBuilder::plaintext_timeout)); after it, only the idle
    /// timeout applies.
    ///
    /// Fails if the client sent anything after the command that asked for TLS: those bytes
    /// were sent in the clear and must not be taken as if they came over TLS (the STARTTLS
    /// command-injection attack, CVE-2011-0411).
    pub fn starttls(self) -> io::Result<TlsStream<Socket>> {
        if !self.reader.buffer().is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "client sent plaintext after asking for TLS",
            ));
        }
        self.shared.handshake(self.reader.into_inner(), &self.info)
    }
}

impl Read for PlainConnection {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reader.read(buf)
    }
}

impl BufRead for PlainConnection {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.reader.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.reader.consume(amount)
    }
}

impl Write for PlainConnection {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.reader.get_mut().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.reader.get_mut().flush()
    }
}
