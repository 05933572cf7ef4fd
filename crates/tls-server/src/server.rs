//! `TlsServer`: accept, a thread per connection, handshake, hook, handler: the blocking
//! mix-in.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use tls::{ServerConfig, TlsStream};

use crate::builder::{Settings, Stop};
use crate::slots::Slots;
use crate::{ConnectionInfo, RunningServer, ShutdownHandle, Socket, TlsServerBuilder};

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

/// The threaded server's state, shared by its accept loop and connection threads.
struct Shared {
    settings: Settings,
    slots: Arc<Slots>,
    stop: Arc<Stop>,
}

impl Shared {
    /// Runs the TLS handshake on `sock` with the deadline (or the one already in force, if
    /// sooner), logs it, and applies the hook.
    fn handshake(&self, mut sock: Socket, info: &ConnectionInfo) -> io::Result<TlsStream<Socket>> {
        let peer = info.peer;
        let deadline = Instant::now() + self.settings.handshake_timeout;
        sock.set_deadline(Some(sock.deadline().map_or(deadline, |d| d.min(deadline))))?;
        let mut tls = self.settings.tls.accept(sock).inspect_err(|e| {
            log::warn!("{peer}: handshake failed: {e}");
        })?;
        tls.get_mut().set_deadline(None)?;
        self.settings.admit(tls.session(), info)?;
        Ok(tls)
    }
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
    local_addr: SocketAddr,
    shared: Arc<Shared>,
}

impl TlsServer {
    /// Starts a server: 4096 connections at most, 128 per client address, 10 s handshakes,
    /// 20 s request heads, 30 s plaintext phases before STARTTLS, 60 s idle timeout.
    pub fn builder(tls: ServerConfig) -> TlsServerBuilder {
        TlsServerBuilder::new(tls)
    }

    pub(crate) fn new(listener: TcpListener, settings: Settings, slots: Slots) -> io::Result<Self> {
        let local_addr = listener.local_addr()?;
        let slots = Arc::new(slots);
        let (woken, counted) = (slots.clone(), slots.clone());
        let stop = Stop::new(
            move || {
                woken.wake();
                // Wake the accept call with a connection of our own.
                let _ = TcpStream::connect_timeout(&local_addr, Duration::from_secs(1));
            },
            move || counted.count(),
        );
        Ok(Self {
            listener,
            local_addr,
            shared: Arc::new(Shared {
                settings,
                slots,
                stop: Arc::new(stop),
            }),
        })
    }

    /// Where it listens (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// A handle that stops the server.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle(self.shared.stop.clone())
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
            sock.set_deadline(Some(Instant::now() + shared.settings.plaintext_timeout))?;
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
            shared.slots.wait_for_room(&shared.stop.flag);
            if shared.stop.is_set() {
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
            if shared.stop.is_set() {
                break;
            }
            let Some(id) = shared.slots.take_or_refuse(peer, || tcp.try_clone()) else {
                continue;
            };
            let (shared2, serve) = (shared.clone(), serve.clone());
            let spawned = thread::Builder::new()
                .name(format!("tls {peer}"))
                .stack_size(shared.settings.stack_size)
                .spawn(move || {
                    let _slot = SlotGuard(&shared2, id);
                    let info = shared2.settings.info(peer, &shared2.stop);
                    let result = Socket::new(tcp, shared2.settings.idle_timeout)
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
        let grace = shared.stop.grace();
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
        let socket = tls::adapter::unbuffered(self.reader)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        self.shared.handshake(socket, &self.info)
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
