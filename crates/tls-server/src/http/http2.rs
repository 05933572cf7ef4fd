//! HTTP/2 for the file server (ALPN `h2`, event-driven server), through hyper: every request
//! gets the answer HTTP/1.1 would give it (the same head parser, limits and rules), framed by
//! hyper and h2.
//!
//! Limits: 100 streams at once per connection, 16 KiB of header fields per request, h2's
//! guards against rapid resets (CVE-2023-44487) and CONTINUATION floods, and our
//! [`FloodGuard`] against SETTINGS, PING, PRIORITY, reset and empty-frame floods. A
//! connection with no response in progress for nine tenths of the request-head timeout gets
//! GOAWAY (the socket's idle limit, the same setting, would cut it without one), as does every
//! connection when the server shuts down; one that has not finished [`CLOSE_GRACE`] after its
//! GOAWAY is dropped.

use std::borrow::Cow;
use std::convert::Infallible;
use std::fs::File;
use std::future::Future;
use std::io::{self, Read};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::{Body as HttpBody, Bytes, Frame, Incoming, SizeHint};
use hyper::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_LENGTH, SERVER};
use hyper::server::conn::http2;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::time::Instant;

use super::cache::CachedFile;
use super::checked_files::CheckedFiles;
use super::flood_guard::FloodGuard;
use super::request::read_request;
use super::response::{Body, Response};
use super::write_batch::{self, Batched, Outbox};
use super::StaticFiles;
use crate::{AsyncTlsStream, ConnectionInfo};

/// Streams a client may have open at once on one connection.
const MAX_STREAMS: u32 = 100;
/// Header fields (names, values and h2's 32-byte overhead each) one request may carry.
const MAX_HEADER_LIST: u32 = 16 * 1024;
/// How long a connection asked to close may take to finish its responses.
const CLOSE_GRACE: Duration = Duration::from_secs(5);
/// How often the idle and shutdown conditions are looked at.
const CHECK_EVERY: Duration = Duration::from_millis(250);
/// Largest piece of a file read from disk at once.
const FILE_CHUNK: usize = 64 * 1024;

/// Serves one HTTP/2 connection until the client is done, it idles out, or the server shuts
/// down.
pub(crate) async fn serve(
    files: &StaticFiles,
    tls: &mut AsyncTlsStream,
    conn: &ConnectionInfo,
) -> io::Result<()> {
    let activity = Arc::new(Activity::new());
    let checked = Arc::new(CheckedFiles::default());
    let service = {
        let (files, activity, checked) = (files.clone(), activity.clone(), checked.clone());
        service_fn(move |request: hyper::Request<Incoming>| {
            let response = files.answer_http2(&request, &activity, &checked);
            async move { Ok::<_, Infallible>(response) }
        })
    };
    let mut builder = http2::Builder::new(TokioExecutor::new());
    builder
        .timer(TokioTimer::new())
        .max_concurrent_streams(MAX_STREAMS)
        .max_header_list_size(MAX_HEADER_LIST)
        .max_pending_accept_reset_streams(Some(20))
        .max_local_error_reset_streams(Some(1024))
        .auto_date_header(true);
    let outbox = Outbox::new(tls);
    let guarded = FloodGuard::new(Batched {
        outbox: &outbox,
        checked: &checked,
    });
    let connection = builder.serve_connection(TokioIo::new(guarded), service);
    tokio::pin!(connection);
    // GOAWAY a little before the socket's own idle limit (the same setting) would cut the
    // connection without one.
    let idle_limit = conn.request_head_timeout().mul_f64(0.9);
    let mut closing_since: Option<Instant> = None;
    loop {
        let check = Instant::now() + CHECK_EVERY;
        let wake = match closing_since {
            Some(since) => since + CLOSE_GRACE,
            None => activity
                .idle_deadline(idle_limit)
                .map_or(check, |d| d.min(check)),
        };
        tokio::select! {
            result = std::future::poll_fn(|cx| poll_drive(connection.as_mut(), &outbox, cx)) => {
                if let Err(e) = result {
                    // A client that breaks the protocol or goes away: its connection ends.
                    log::debug!("{}: HTTP/2 connection ended: {e}", conn.peer_addr());
                }
                // What the connection wrote last (a GOAWAY, say) still goes out, if it can.
                let send = std::future::poll_fn(|cx| write_batch::lock(&outbox).poll_send(cx));
                let _ = tokio::time::timeout(CLOSE_GRACE, send).await;
                return Ok(());
            }
            () = tokio::time::sleep_until(wake) => {
                match closing_since {
                    Some(since) if since.elapsed() >= CLOSE_GRACE => return Ok(()),
                    Some(_) => {}
                    None if conn.is_shutting_down() || activity.idle_for() >= idle_limit => {
                        connection.as_mut().graceful_shutdown();
                        closing_since = Some(Instant::now());
                    }
                    None => {}
                }
            }
        }
    }
}

/// Polls the connection, then sends what it wrote if it now waits: one batch per wake-up.
fn poll_drive(
    connection: Pin<&mut impl Future<Output = Result<(), hyper::Error>>>,
    outbox: &Mutex<Outbox<'_>>,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    if let Poll::Ready(result) = connection.poll(cx) {
        return Poll::Ready(result.map_err(io::Error::other));
    }
    match write_batch::lock(outbox).poll_send(cx) {
        Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
        _ => Poll::Pending,
    }
}

/// Responses in progress on a connection, and since when there has been none.
struct Activity {
    in_progress: AtomicUsize,
    /// Since the connection opened, or the last response ended.
    idle_since: Mutex<Instant>,
}

impl Activity {
    fn new() -> Self {
        Self {
            in_progress: AtomicUsize::new(0),
            idle_since: Mutex::new(Instant::now()),
        }
    }

    fn started(self: &Arc<Self>) -> InProgress {
        self.in_progress.fetch_add(1, Ordering::SeqCst);
        InProgress(self.clone())
    }

    /// How long no response has been in progress (zero while one is).
    fn idle_for(&self) -> Duration {
        self.idle_deadline(Duration::ZERO)
            .map_or(Duration::ZERO, |since| since.elapsed())
    }

    /// When the connection will have been idle for `limit`, if nothing is in progress.
    fn idle_deadline(&self, limit: Duration) -> Option<Instant> {
        if self.in_progress.load(Ordering::SeqCst) > 0 {
            return None;
        }
        Some(*self.idle_since.lock().unwrap_or_else(|p| p.into_inner()) + limit)
    }
}

/// One response in progress: counted until its body is sent or dropped.
struct InProgress(Arc<Activity>);

impl Drop for InProgress {
    fn drop(&mut self) {
        if self.0.in_progress.fetch_sub(1, Ordering::SeqCst) == 1 {
            *self.0.idle_since.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
        }
    }
}

impl StaticFiles {
    /// The answer to one HTTP/2 request: its head is read by the HTTP/1.1 parser, with its
    /// limits, from the fields hyper decoded, and answered as HTTP/1.1 answers it.
    fn answer_http2(
        &self,
        request: &hyper::Request<Incoming>,
        activity: &Arc<Activity>,
        checked: &CheckedFiles,
    ) -> hyper::Response<ResponseBody> {
        let in_progress = activity.started();
        let target = request.uri().path_and_query().map_or("/", |p| p.as_str());
        // Pieces pushed one by one: `format!` per field cost 4% of the server at 1 KiB.
        let mut head = String::with_capacity(256);
        for piece in [request.method().as_str(), " ", target, " HTTP/1.1\r\n"] {
            head.push_str(piece);
        }
        let authority = request.uri().authority().map(|a| ("Host", a.as_str()));
        // h2 forbids CR, LF and NUL in values; anything else not text reads as absent.
        let fields = request
            .headers()
            .iter()
            .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)));
        for (name, value) in authority.into_iter().chain(fields) {
            for piece in [name, ": ", value, "\r\n"] {
                head.push_str(piece);
            }
        }
        // A body on its way (no END_STREAM with the headers) is refused as over HTTP/1.1.
        if !request.body().is_end_stream() && !request.headers().contains_key(CONTENT_LENGTH) {
            head.push_str("Content-Length: 1\r\n");
        }
        head.push_str("\r\n");
        let head_only = request.method() == hyper::Method::HEAD;
        let response = match read_request(&mut head.as_bytes()) {
            Ok(Some(parsed)) => self.answer(&parsed, Some(checked)).0,
            Ok(None) => Response::error(400, "empty request"),
            Err(super::request::RequestError::Bad(status, why)) => Response::error(status, why),
            Err(super::request::RequestError::Io(_)) => Response::error(400, "bad request"),
        };
        into_hyper(response, head_only, in_progress)
    }
}

/// Our response as hyper's: the same status and fields (no `Connection`, which HTTP/2 has
/// not), `Content-Length` kept for HEAD and left off a 304.
fn into_hyper(
    response: Response,
    head_only: bool,
    in_progress: InProgress,
) -> hyper::Response<ResponseBody> {
    let (status, headers, body) = response.into_parts();
    let len = body.len();
    let body = match body {
        _ if head_only || status == 304 => Content::Done,
        Body::Empty => Content::Done,
        Body::Bytes(bytes) => Content::Bytes(Bytes::from(bytes)),
        Body::Shared(file, start, len) => {
            Content::Bytes(Bytes::from_owner(CachedSlice { file, start, len }))
        }
        Body::File(file, len) => Content::File { file, left: len },
    };
    let mut out = hyper::Response::new(ResponseBody {
        content: body,
        _in_progress: in_progress,
    });
    *out.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let mut fields = HeaderMap::with_capacity(headers.len() + 2);
    fields.insert(SERVER, HeaderValue::from_static("tlslite-rs"));
    for (name, value) in headers {
        // Taken as they are, not copied.
        let value = match value {
            Cow::Borrowed(text) => {
                HeaderValue::from_maybe_shared(Bytes::from_static(text.as_bytes()))
            }
            Cow::Owned(text) => HeaderValue::try_from(text),
        };
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), value) {
            fields.append(name, value);
        }
    }
    if status != 304 {
        fields.insert(CONTENT_LENGTH, HeaderValue::from(len));
    }
    *out.headers_mut() = fields;
    out
}

/// A range of a cached file, shared with the cache rather than copied.
struct CachedSlice {
    file: Arc<CachedFile>,
    start: usize,
    len: usize,
}

impl AsRef<[u8]> for CachedSlice {
    fn as_ref(&self) -> &[u8] {
        &self.file.content[self.start..self.start + self.len]
    }
}

/// A response body for hyper: bytes at hand, or a file read in steps.
pub(crate) struct ResponseBody {
    content: Content,
    /// Keeps the connection from counting as idle until the body is sent or dropped.
    _in_progress: InProgress,
}

enum Content {
    Done,
    Bytes(Bytes),
    /// Read with blocking calls, as the HTTP/1.1 path reads (pages of a served folder are
    /// normally in the page cache).
    File {
        file: File,
        left: u64,
    },
}

impl HttpBody for ResponseBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        match &mut this.content {
            Content::Done => Poll::Ready(None),
            Content::Bytes(_) => match std::mem::replace(&mut this.content, Content::Done) {
                Content::Bytes(bytes) => Poll::Ready(Some(Ok(Frame::data(bytes)))),
                _ => Poll::Ready(None),
            },
            Content::File { file, left } => {
                if *left == 0 {
                    this.content = Content::Done;
                    return Poll::Ready(None);
                }
                let mut chunk = vec![0; (*left).min(FILE_CHUNK as u64) as usize];
                let n = loop {
                    match file.read(&mut chunk) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Poll::Ready(Some(Err(e))),
                        Ok(n) => break n,
                    }
                };
                if n == 0 {
                    // The file shrank after its length was promised: the stream is reset.
                    return Poll::Ready(Some(Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "file changed while being sent",
                    ))));
                }
                chunk.truncate(n);
                *left -= n as u64;
                Poll::Ready(Some(Ok(Frame::data(Bytes::from(chunk)))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.content, Content::Done)
            || matches!(self.content, Content::File { left: 0, .. })
    }

    fn size_hint(&self) -> SizeHint {
        match &self.content {
            Content::Done => SizeHint::with_exact(0),
            Content::Bytes(bytes) => SizeHint::with_exact(bytes.len() as u64),
            Content::File { left, .. } => SizeHint::with_exact(*left),
        }
    }
}
