//! An HTTP/1.1 and HTTP/2 static-file handler (tlslite's `SimpleHTTPRequestHandler`): GET and HEAD,
//! keep-alive, index.html or a directory listing, ranges, conditional requests, precompressed
//! files.

mod cache;
mod checked_files;
mod encoding;
mod files;
mod flood_guard;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod http2;
mod listing;
mod mime;
mod request;
mod response;
mod validators;
mod visibility;
mod write_batch;

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use tls::TlsStream;
use tokio::io::AsyncReadExt;

use crate::{AsyncHandler, AsyncTlsStream, ConnectionInfo, Handler};
use cache::FileCache;
use checked_files::CheckedFiles;
use files::Features;
use request::{read_request, read_request_async, Body, Request, RequestError};
use response::Response;
use visibility::Visibility;

/// Serves the files under one folder over HTTP/1.1, and over HTTP/2 on an
/// [`AsyncTlsServer`](crate::AsyncTlsServer) whose clients negotiate `h2` by ALPN (offer it in
/// the server's [`HandshakeSettings::alpn`](tls::HandshakeSettings::alpn)). Nothing outside it can be reached: `..`
/// (plain or percent-encoded), NUL bytes and symbolic links leading outside are refused.
///
/// Inside it, secure by default:
/// - names starting with a dot (`.git/`, `.env`) are neither listed nor served, unless
///   [`hidden`](Self::hidden) says so;
/// - files given to [`exclude`](Self::exclude) (a verifier database, a private key) are never
///   served, under any name or link;
/// - only regular files and folders are opened: a FIFO or a device gets 403, never a hung
///   thread.
///
/// What a browser expects: a folder's `index.html`, else a listing (names, sizes, times,
/// folders first, sortable with `?sort=name|size|time&order=asc|desc`); `ETag` and
/// `Last-Modified` with `If-None-Match`, `If-Modified-Since`, `If-Match`,
/// `If-Unmodified-Since` and `If-Range` as RFC 9110 orders them; single byte ranges;
/// `NAME.br` or `NAME.gz` sent for `NAME` to a client that accepts it (nginx's
/// `gzip_static`), labelled as `NAME` with its `Content-Encoding`.
///
/// ```no_run
/// let files = tls_server::StaticFiles::new(".")?
///     .exclude("users.db")?
///     .exclude("server.key")?;
/// # let server: tls_server::TlsServer = unimplemented!();
/// server.serve(files)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct StaticFiles {
    root: PathBuf,
    visibility: Visibility,
    cache: Arc<FileCache>,
    features: Features,
}

/// Default room for small files kept in memory.
const CACHE_BUDGET: usize = 32 * 1024 * 1024;

impl StaticFiles {
    /// Serves `root`, which must be an existing folder.
    pub fn new(root: impl AsRef<Path>) -> io::Result<Self> {
        let root = root.as_ref().canonicalize()?;
        if !root.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a folder", root.display()),
            ));
        }
        Ok(Self {
            root,
            visibility: Visibility::default(),
            cache: Arc::new(FileCache::new(CACHE_BUDGET)),
            features: Features::default(),
        })
    }

    /// Room in memory for small files (up to 1 MiB each; default 32 MiB in all, 0 for none).
    /// A cached file is served only while a `stat` finds the same inode, size, modification
    /// and change time; files changed in the last two seconds are not cached, since
    /// filesystems stamp times at a coarse tick.
    pub fn cache_size(mut self, bytes: usize) -> Self {
        self.cache = Arc::new(FileCache::new(bytes));
        self
    }

    /// Serves and lists names starting with a dot too (default: they are hidden and 404).
    pub fn hidden(mut self, serve: bool) -> Self {
        self.visibility.hidden = serve;
        self
    }

    /// Serves a folder's `index.html` in place of its listing (default: yes).
    pub fn index_html(mut self, serve: bool) -> Self {
        self.features.index_html = serve;
        self
    }

    /// Sends `NAME.br` or `NAME.gz`, when present beside `NAME` and visible, to clients whose
    /// `Accept-Encoding` takes it (default: yes; file answers then carry
    /// `Vary: Accept-Encoding`). Without it, such files are served only under their own names.
    pub fn precompressed(mut self, serve: bool) -> Self {
        self.features.precompressed = serve;
        self
    }

    /// Never serves `path`, wherever it lies and under whatever name or link it is asked for;
    /// it need not exist yet. Fails only if its folder does not exist.
    pub fn exclude(mut self, path: impl AsRef<Path>) -> io::Result<Self> {
        self.visibility.exclude(path.as_ref())?;
        Ok(self)
    }

    /// The folder served.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The answer to one request, and whether the connection may carry another. Bodies are
    /// never read, so a request with one ends the connection: what follows its head must not
    /// be taken for the next request. Cached files in `checked` are taken as current.
    fn answer(&self, request: &Request, checked: Option<&CheckedFiles>) -> (Response, bool) {
        let keep_alive = request.keep_alive() && !request.has_body();
        let response = match request.method() {
            "GET" | "HEAD" if request.has_body() => {
                Response::error(413, "request bodies are not accepted")
            }
            "GET" | "HEAD" => files::respond(
                &self.root,
                &self.visibility,
                (&self.cache, checked),
                self.features,
                request,
            ),
            _ => Response::error(405, "only GET and HEAD are served").header("Allow", "GET, HEAD"),
        };
        let keep_alive = keep_alive && response.reusable();
        (response, keep_alive)
    }

    /// Serves requests on one connection until the client is done, the connection idles out
    /// or the server shuts down. Reads are bounded only by what `tls`'s transport does; as a
    /// [`Handler`] on [`TlsServer`](crate::TlsServer), each request head also has the
    /// server's total deadline ([`request_head_timeout`](crate::TlsServerBuilder::request_head_timeout)).
    pub fn serve_connection<S: Read + Write>(
        &self,
        tls: &mut TlsStream<S>,
        shutting_down: impl Fn() -> bool,
    ) -> io::Result<()> {
        self.serve_requests(tls, shutting_down, |_, _| Ok(()))
    }

    /// [`serve_connection`](Self::serve_connection), calling `deadline(tls, Some(now))` when
    /// the client starts to owe something in bounded time (a request head, a body to discard)
    /// and `deadline(tls, None)` once it has arrived.
    fn serve_requests<S: Read + Write>(
        &self,
        tls: &mut TlsStream<S>,
        shutting_down: impl Fn() -> bool,
        mut deadline: impl FnMut(&mut TlsStream<S>, Option<Instant>) -> io::Result<()>,
    ) -> io::Result<()> {
        loop {
            deadline(tls, Some(Instant::now()))?;
            let request = read_request(tls);
            deadline(tls, None)?;
            let request = match request {
                Ok(Some(request)) => request,
                // The client is done, or went quiet past the idle timeout.
                Ok(None) => return Ok(()),
                Err(RequestError::Io(e)) => return quiet_end(e),
                Err(RequestError::Bad(status, why)) => {
                    Response::error(status, why).send(tls, false, false)?;
                    return Ok(());
                }
            };
            let (response, keep_alive) = self.answer(&request, None);
            response.send(tls, request.method() == "HEAD", keep_alive)?;
            let keep_alive = keep_alive && !shutting_down();
            if !keep_alive {
                if let Body::Length(len) = request.body {
                    deadline(tls, Some(Instant::now()))?;
                    discard(tls, len);
                }
                return Ok(());
            }
        }
    }
}

/// Most of an unread body read and dropped before closing. Closing with unread bytes makes the
/// kernel reset the connection, which can destroy the response still on its way to the
/// client; past this, the reset is the lesser evil.
const DISCARD_AT_MOST: u64 = 64 * 1024;

/// Reads and drops a body of `len` bytes (when small), so the connection can close without a
/// reset. Best effort: the connection ends next anyway.
fn discard(input: &mut impl Read, len: u64) {
    if len <= DISCARD_AT_MOST {
        let _ = io::copy(&mut input.take(len), &mut io::sink());
    }
}

/// [`discard`] on a tokio stream, starting with what was read past the head.
async fn discard_async(input: &mut AsyncTlsStream, leftover: &[u8], len: u64) {
    let rest = len.saturating_sub(leftover.len() as u64);
    if len <= DISCARD_AT_MOST {
        let _ = tokio::io::copy(&mut (&mut *input).take(rest), &mut tokio::io::sink()).await;
    }
}

/// Ends a connection without fuss when the client simply left or idled out.
fn quiet_end(e: io::Error) -> io::Result<()> {
    match e.kind() {
        io::ErrorKind::WouldBlock
        | io::ErrorKind::TimedOut
        | io::ErrorKind::UnexpectedEof
        | io::ErrorKind::ConnectionReset => Ok(()),
        _ => Err(e),
    }
}

/// The ALPN name of HTTP/2.
const H2: &[u8] = b"h2";

impl Handler for StaticFiles {
    fn handle(&self, tls: &mut TlsStream<crate::Socket>, conn: &ConnectionInfo) -> io::Result<()> {
        if tls.session().alpn_protocol() == Some(H2) {
            // Read as HTTP/1.1, its preface would get a 400: say what is wrong instead.
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "HTTP/2 was negotiated, but only the event-driven server serves it: \
                 offer http/1.1 alone by ALPN on the threaded one",
            ));
        }
        let timeout = conn.request_head_timeout();
        self.serve_requests(
            tls,
            || conn.is_shutting_down(),
            |tls, from| tls.get_mut().set_deadline(from.map(|from| from + timeout)),
        )
    }
}

impl AsyncHandler for StaticFiles {
    /// Serves requests like the blocking handler, each request head within the server's
    /// [`request_head_timeout`](crate::TlsServerBuilder::request_head_timeout).
    async fn handle(&self, tls: &mut AsyncTlsStream, conn: &ConnectionInfo) -> io::Result<()> {
        if tls.session().alpn_protocol() == Some(H2) {
            // Boxed: h2's connection state would otherwise sit in every connection's task,
            // HTTP/1.1 ones included, idle or not.
            return Box::pin(http2::serve(self, tls, conn)).await;
        }
        let timeout = conn.request_head_timeout();
        // The socket's own deadline rather than a timer per request: one timer per connection.
        let set_deadline = |tls: &mut AsyncTlsStream, on: bool| {
            let deadline = on.then(|| tokio::time::Instant::now() + timeout);
            tls.get_mut().set_deadline(deadline);
        };
        // Bytes read past a head: the start of a pipelined request (or of a body).
        let mut leftover = Vec::new();
        loop {
            set_deadline(tls, true);
            let request = read_request_async(tls, &mut leftover).await;
            set_deadline(tls, false);
            let request = match request {
                Ok(Some(request)) => request,
                // The client is done, or went quiet past the deadline or the idle timeout.
                Ok(None) => return Ok(()),
                Err(RequestError::Io(e)) => return quiet_end(e),
                Err(RequestError::Bad(status, why)) => {
                    Response::error(status, why)
                        .send_async(tls, false, false)
                        .await?;
                    return Ok(());
                }
            };
            let (response, keep_alive) = self.answer(&request, None);
            response
                .send_async(tls, request.method() == "HEAD", keep_alive)
                .await?;
            if !keep_alive || conn.is_shutting_down() {
                if let Body::Length(len) = request.body {
                    set_deadline(tls, true);
                    discard_async(tls, &leftover, len).await;
                }
                return Ok(());
            }
        }
    }
}
