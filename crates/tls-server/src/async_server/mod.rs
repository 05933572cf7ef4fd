//! `AsyncTlsServer`: the event-driven server. An accept loop on the caller's runtime, one
//! tokio task per connection on a worker per core, with the threaded server's settings and
//! rules.

mod plain;
mod socket;
mod workers;

use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use tokio::sync::{watch, Notify, Semaphore};

use crate::builder::{Settings, Stop};
use crate::slots::Slots;
use crate::{ConnectionInfo, RunningServer, ShutdownHandle, TlsServerBuilder};
pub use plain::AsyncPlainConnection;
pub use socket::AsyncSocket;
use workers::Workers;

/// The TLS stream a handler of an [`AsyncTlsServer`] talks through.
pub type AsyncTlsStream = tls::tokio::TlsStream<AsyncSocket>;

/// Serves one connection of an [`AsyncTlsServer`] after its TLS handshake. Returning `Ok`
/// sends close_notify.
///
/// ```
/// use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
/// use tls_server::{AsyncHandler, AsyncTlsStream, ConnectionInfo};
///
/// /// Answers one line with the same line.
/// struct Echo;
///
/// impl AsyncHandler for Echo {
///     async fn handle(&self, tls: &mut AsyncTlsStream, _: &ConnectionInfo) -> std::io::Result<()> {
///         let mut line = String::new();
///         let mut reader = BufReader::new(&mut *tls);
///         reader.read_line(&mut line).await?;
///         tls.write_all(line.as_bytes()).await
///     }
/// }
/// ```
pub trait AsyncHandler: Send + Sync + 'static {
    /// Talks to the client until done.
    fn handle(
        &self,
        tls: &mut AsyncTlsStream,
        conn: &ConnectionInfo,
    ) -> impl Future<Output = io::Result<()>> + Send;
}

/// Serves a connection of an [`AsyncTlsServer`] that starts in plaintext and may upgrade
/// with STARTTLS (SMTP, POP3, IMAP).
pub trait AsyncPlainHandler: Send + Sync + 'static {
    /// Talks to the client until done.
    fn handle(&self, conn: AsyncPlainConnection) -> impl Future<Output = io::Result<()>> + Send;
}

/// An event-driven TLS server on tokio: a task per connection, every core busy, the same
/// settings as [`TlsServer`](crate::TlsServer) (caps, deadlines, hook, STARTTLS, graceful
/// shutdown) from the same [`TlsServerBuilder`].
///
/// `serve` accepts on the runtime it is awaited on; connections are served by worker threads
/// of the server's own, one per core unless
/// [`worker_threads`](TlsServerBuilder::worker_threads) says otherwise, each with a
/// single-threaded runtime: a connection never migrates between threads.
///
/// ```no_run
/// # async fn run(config: tls::ServerConfig) -> std::io::Result<()> {
/// let server = tls_server::AsyncTlsServer::builder(config).bind_async("127.0.0.1:4443")?;
/// let stop = server.shutdown_handle();
/// server.serve(tls_server::StaticFiles::new("public")?).await
/// # }
/// ```
pub struct AsyncTlsServer {
    listener: TcpListener,
    local_addr: SocketAddr,
    max_connections: usize,
    worker_threads: usize,
    shared: Arc<Shared>,
}

/// The tokio server's state, shared by its accept loop and connection tasks.
pub(crate) struct Shared {
    pub(crate) settings: Settings,
    slots: Arc<Slots<()>>,
    stop: Arc<Stop>,
    woken: Arc<Notify>,
}

impl Shared {
    /// Runs the TLS handshake on `sock`, ending by the handshake deadline (or the one already
    /// in force, if sooner), logs it, and applies the hook.
    pub(crate) async fn handshake(
        &self,
        mut sock: AsyncSocket,
        info: &ConnectionInfo,
    ) -> io::Result<AsyncTlsStream> {
        let peer = info.peer;
        let deadline = tokio::time::Instant::now() + self.settings.handshake_timeout;
        let deadline = sock.deadline().map_or(deadline, |d| d.min(deadline));
        sock.set_deadline(Some(deadline));
        // The deadline bounds the SRP arithmetic too, not only the waits on the socket.
        let accepted =
            tokio::time::timeout_at(deadline, tls::tokio::accept(&self.settings.tls, sock))
                .await
                .unwrap_or_else(|_| {
                    Err(io::Error::new(io::ErrorKind::TimedOut, "handshake deadline").into())
                });
        let mut tls = accepted.map_err(|e| {
            log::warn!("{peer}: handshake failed: {e}");
            io::Error::from(e)
        })?;
        tls.get_mut().set_deadline(None);
        self.settings.admit(tls.session(), info)?;
        Ok(tls)
    }
}

impl AsyncTlsServer {
    /// The builder, shared with [`TlsServer`](crate::TlsServer); finish it with
    /// [`bind_async`](TlsServerBuilder::bind_async).
    pub fn builder(tls: tls::ServerConfig) -> TlsServerBuilder {
        TlsServerBuilder::new(tls)
    }

    pub(crate) fn new(
        listener: TcpListener,
        settings: Settings,
        slots: Slots<()>,
        max_connections: usize,
        worker_threads: usize,
    ) -> io::Result<Self> {
        listener.set_nonblocking(true)?;
        let local_addr = listener.local_addr()?;
        let slots = Arc::new(slots);
        let woken = Arc::new(Notify::new());
        let (wake, counted) = (woken.clone(), slots.clone());
        // `notify_one` keeps a permit, so a shutdown before the loop waits is not lost.
        let stop = Stop::new(move || wake.notify_one(), move || counted.count());
        Ok(Self {
            listener,
            local_addr,
            max_connections: max_connections.max(1),
            worker_threads,
            shared: Arc::new(Shared {
                settings,
                slots,
                stop: Arc::new(stop),
                woken,
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

    /// Serves TLS connections with `handler` until shut down. Must run inside a tokio runtime
    /// with the `time` and `net` drivers enabled.
    pub async fn serve(self, handler: impl AsyncHandler) -> io::Result<()> {
        let handler = Arc::new(handler);
        self.run(move |shared, sock, info| {
            let handler = handler.clone();
            async move {
                // Boxed: its state is large and needed only until the handshake ends, while
                // the task's own state stays allocated as long as the connection lives.
                let mut tls = Box::pin(shared.handshake(sock, &info)).await?;
                handler.handle(&mut tls, &info).await?;
                tokio::io::AsyncWriteExt::shutdown(&mut tls).await
            }
        })
        .await
    }

    /// Serves connections that start in plaintext (STARTTLS protocols) until shut down.
    pub async fn serve_plain(self, handler: impl AsyncPlainHandler) -> io::Result<()> {
        let handler = Arc::new(handler);
        self.run(move |shared, mut sock, info| {
            let handler = handler.clone();
            async move {
                let timeout = shared.settings.plaintext_timeout;
                sock.set_deadline(Some(tokio::time::Instant::now() + timeout));
                let conn = AsyncPlainConnection::new(sock, shared, info);
                handler.handle(conn).await
            }
        })
        .await
    }

    async fn run<F, Fut>(self, serve: F) -> io::Result<()>
    where
        F: Fn(Arc<Shared>, AsyncSocket, ConnectionInfo) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = io::Result<()>> + Send + 'static,
    {
        let serve = Arc::new(serve);
        let listener = tokio::net::TcpListener::from_std(self.listener)?;
        let workers = Workers::start(self.worker_threads)?;
        let shared = self.shared;
        let room = Arc::new(Semaphore::new(self.max_connections));
        // Set to true at the end of the grace period: every connection task ends then.
        let (cut, cut_signal) = watch::channel(false);
        loop {
            // Over the cap, the excess waits in the backlog, as with the threaded server.
            let permit = tokio::select! {
                permit = room.clone().acquire_owned() => permit.map_err(io::Error::other)?,
                _ = shared.woken.notified() => break,
            };
            if shared.stop.is_set() {
                break;
            }
            let (tcp, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        log::error!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                },
                _ = shared.woken.notified() => break,
            };
            let Some(id) = shared.slots.take_or_refuse(peer, || Ok(())) else {
                continue;
            };
            let guard = SlotGuard(shared.slots.clone(), id);
            // Handed over as a plain socket: a worker registers it with its own reactor.
            let tcp = match tcp.into_std() {
                Ok(tcp) => tcp,
                Err(e) => {
                    log::error!("{peer}: {e}");
                    continue;
                }
            };
            let (shared, serve) = (shared.clone(), serve.clone());
            let mut cut_signal = cut_signal.clone();
            workers.spawn(async move {
                let _held = (permit, guard);
                let result = async {
                    let tcp = tokio::net::TcpStream::from_std(tcp)?;
                    let sock = AsyncSocket::new(tcp, shared.settings.idle_timeout)?;
                    let info = shared.settings.info(peer, &shared.stop);
                    tokio::select! {
                        result = serve(shared.clone(), sock, info) => result,
                        _ = cut_signal.wait_for(|cut| *cut) => Ok(()),
                    }
                };
                if let Err(e) = result.await {
                    log::debug!("{peer}: {e}");
                }
            });
        }
        drop(listener);
        let grace = shared.stop.grace();
        let slots = shared.slots.clone();
        let waited = tokio::task::spawn_blocking(move || {
            let left = slots.drain(grace);
            (left, slots)
        });
        let (left, slots) = waited.await.map_err(io::Error::other)?;
        if left > 0 {
            log::info!("shutdown: cut {left} connections still open after {grace:?}");
        }
        let _ = cut.send(true);
        tokio::task::spawn_blocking(move || {
            slots.wait_empty(Duration::from_secs(5));
            workers.stop();
        })
        .await
        .map_err(io::Error::other)?;
        Ok(())
    }

    /// Serves on a background thread (the accept loop) and the server's workers; the returned
    /// handle stops it and waits.
    pub fn spawn(self, handler: impl AsyncHandler) -> RunningServer {
        self.spawn_with(move |server| server.serve(handler))
    }

    /// Like [`spawn`](Self::spawn), for plaintext-first protocols.
    pub fn spawn_plain(self, handler: impl AsyncPlainHandler) -> RunningServer {
        self.spawn_with(move |server| server.serve_plain(handler))
    }

    fn spawn_with<Fut>(self, serve: impl FnOnce(Self) -> Fut + Send + 'static) -> RunningServer
    where
        Fut: Future<Output = io::Result<()>>,
    {
        let addr = self.local_addr();
        let stop = self.shutdown_handle();
        let thread = thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?
                .block_on(serve(self))
        });
        RunningServer { addr, stop, thread }
    }
}

/// Releases a connection slot when its task ends, however it ends.
struct SlotGuard(Arc<Slots<()>>, u64);

impl Drop for SlotGuard {
    fn drop(&mut self) {
        self.0.release(self.1);
    }
}
