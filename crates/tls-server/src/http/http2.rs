//! HTTP/2 for the file server (ALPN `h2`, event-driven server), through the h2 crate: every
//! request gets the answer HTTP/1.1 would give it (the same head parser, limits and rules),
//! framed by h2. Answers are made as the requests are accepted, in the connection's own task;
//! only a body over 64 KiB gets a task of its own, which hands it to h2 (reading it from disk
//! if it is not cached) as the client's flow-control window opens.
//!
//! Limits: 100 streams at once per connection, 16 KiB of header fields per request, h2's
//! guards against rapid resets (CVE-2023-44487) and CONTINUATION floods, and our
//! [`FloodGuard`] against SETTINGS, PING, PRIORITY, reset and empty-frame floods. A
//! connection with no response in progress for nine tenths of the request-head timeout gets
//! GOAWAY (the socket's idle limit, the same setting, would cut it without one), as does every
//! connection when the server shuts down; one that has not finished [`CLOSE_GRACE`] after its
//! GOAWAY is dropped.

use std::borrow::Cow;
use std::fs::File;
use std::future::Future;
use std::io::{self, Read};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use h2::server::{Connection, SendResponse};
use h2::{Reason, RecvStream, SendStream};
use http::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_LENGTH, DATE, SERVER};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

use super::cache::CachedFile;
use super::checked_files::CheckedFiles;
use super::flood_guard::FloodGuard;
use super::request::read_request;
use super::response::{with_date_now, Body, Response};
use super::write_batch::{self, Batched, Outbox};
use super::StaticFiles;
use crate::{AsyncTlsStream, ConnectionInfo};

/// Streams a client may have open at once on one connection.
const MAX_STREAMS: u32 = 100;
/// Header fields (names, values and h2's 32-byte overhead each) one request may carry.
const MAX_HEADER_LIST: u32 = 16 * 1024;
/// Streams a client may reset before they are accepted, at once (CVE-2023-44487).
const MAX_PENDING_RESETS: usize = 20;
/// Streams we may reset for a client's protocol errors before its connection is ended.
const MAX_ERROR_RESETS: usize = 1024;
/// How long a connection asked to close may take to finish its responses.
const CLOSE_GRACE: Duration = Duration::from_secs(5);
/// How often the idle and shutdown conditions are looked at.
const CHECK_EVERY: Duration = Duration::from_millis(250);
/// Largest piece of a body handed to h2 at once. h2 takes pieces while it holds less than
/// 400 KiB of the stream's body (its default send buffer: 64 KiB looked slower for 1 MiB
/// files, 964-1,020 against 1,150-1,276 req/s in two runs), so a response stops counting as
/// in progress with at most that much (and a piece) unsent.
const PIECE: usize = 64 * 1024;
/// Bodies up to this size are handed to h2 whole; larger ones in pieces as the client takes
/// them, so that the response counts as in progress until its last piece: a slow client
/// downloading a large file is not taken for idle and cut.
const WHOLE_BODY: usize = 64 * 1024;

/// Serves one HTTP/2 connection until the client is done, it idles out, or the server shuts
/// down.
pub(crate) async fn serve(
    files: &StaticFiles,
    tls: &mut AsyncTlsStream,
    conn: &ConnectionInfo,
) -> io::Result<()> {
    let activity = Arc::new(Activity::new());
    let checked = CheckedFiles::default();
    let outbox = Outbox::new(tls);
    let guarded = FloodGuard::new(Batched {
        outbox: &outbox,
        checked: &checked,
    });
    let mut builder = h2::server::Builder::new();
    builder
        .max_concurrent_streams(MAX_STREAMS)
        .max_header_list_size(MAX_HEADER_LIST)
        .max_pending_accept_reset_streams(MAX_PENDING_RESETS)
        .max_local_error_reset_streams(Some(MAX_ERROR_RESETS));
    // The prefaces, within the time a request head has.
    let mut handshake = builder.handshake::<_, Bytes>(guarded);
    let prefaces = std::future::poll_fn(|cx| {
        let done = std::pin::Pin::new(&mut handshake).poll(cx);
        send_when_waiting(done, &outbox, cx)
    });
    let mut connection = match tokio::time::timeout(conn.request_head_timeout(), prefaces).await {
        Ok(Ok(connection)) => connection,
        Ok(Err(e)) => {
            log::debug!("{}: HTTP/2 handshake failed: {e}", conn.peer_addr());
            return Ok(());
        }
        Err(_) => return Ok(()),
    };
    let answer = |request, respond| files.answer_http2(request, respond, &activity, &checked);
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
            result = std::future::poll_fn(|cx| poll_serve(&mut connection, &outbox, &answer, cx)) => {
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
                        connection.graceful_shutdown();
                        closing_since = Some(Instant::now());
                    }
                    None => {}
                }
            }
        }
    }
}

/// `polled`, once the batch written so far is on its way if the connection now waits.
fn send_when_waiting<T>(
    polled: Poll<Result<T, h2::Error>>,
    outbox: &Mutex<Outbox<'_>>,
    cx: &mut Context<'_>,
) -> Poll<io::Result<T>> {
    if let Poll::Ready(result) = polled {
        return Poll::Ready(result.map_err(h2_error));
    }
    match write_batch::lock(outbox).poll_send(cx) {
        Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
        _ => Poll::Pending,
    }
}

/// Accepts and answers requests until the connection waits (then sends what it wrote: one
/// batch per wake-up) or ends.
fn poll_serve<T: AsyncRead + AsyncWrite + Unpin>(
    connection: &mut Connection<T, Bytes>,
    outbox: &Mutex<Outbox<'_>>,
    answer: &impl Fn(http::Request<RecvStream>, SendResponse<Bytes>),
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    loop {
        let accepted = match connection.poll_accept(cx) {
            Poll::Ready(Some(Ok(accepted))) => accepted,
            Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(h2_error(e))),
            Poll::Ready(None) => return Poll::Ready(Ok(())),
            Poll::Pending => return send_when_waiting(Poll::<Result<(), _>>::Pending, outbox, cx),
        };
        answer(accepted.0, accepted.1);
    }
}

/// h2's error as an I/O error: the one underneath when there is one.
fn h2_error(e: h2::Error) -> io::Error {
    if !e.is_io() {
        return io::Error::other(e);
    }
    e.into_io().unwrap_or_else(|| io::ErrorKind::Other.into())
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

/// One response in progress: counted until its body is handed to h2 or dropped.
struct InProgress(Arc<Activity>);

impl Drop for InProgress {
    fn drop(&mut self) {
        if self.0.in_progress.fetch_sub(1, Ordering::SeqCst) == 1 {
            *self.0.idle_since.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
        }
    }
}

impl StaticFiles {
    /// Answers one HTTP/2 request: its head is read by the HTTP/1.1 parser, with its limits,
    /// from the fields h2 decoded, and answered as HTTP/1.1 answers it.
    fn answer_http2(
        &self,
        request: http::Request<RecvStream>,
        mut respond: SendResponse<Bytes>,
        activity: &Arc<Activity>,
        checked: &CheckedFiles,
    ) {
        // Counted until answered (a file: until sent), so a busy connection is never idle.
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
        let head_only = request.method() == http::Method::HEAD;
        let response = match read_request(&mut head.as_bytes()) {
            Ok(Some(parsed)) => self.answer(&parsed, Some(checked)).0,
            Ok(None) => Response::error(400, "empty request"),
            Err(super::request::RequestError::Bad(status, why)) => Response::error(status, why),
            Err(super::request::RequestError::Io(_)) => Response::error(400, "bad request"),
        };
        let (status, fields, body) = response.into_parts();
        let len = body.len();
        let head = response_head(status, fields, len);
        let body = match body {
            // No DATA frame at all: END_STREAM goes with the headers.
            _ if head_only || status == 304 || len == 0 => None,
            Body::Empty => None,
            Body::Bytes(bytes) => Some(Content::Bytes(Bytes::from(bytes))),
            Body::Shared(file, start, len) => {
                Some(Content::Bytes(Bytes::from_owner(CachedSlice {
                    file,
                    start,
                    len,
                })))
            }
            Body::File(file, len) => Some(Content::File(file, len)),
        };
        // A client that reset the stream meanwhile gets nothing: nothing to do about it.
        let Ok(mut stream) = respond.send_response(head, body.is_none()) else {
            return;
        };
        match body {
            None => {}
            // h2 sends it as the client's window allows; the bytes are shared, not copied.
            Some(Content::Bytes(bytes)) if bytes.len() <= WHOLE_BODY => {
                let _ = stream.send_data(bytes, true);
            }
            Some(content) => {
                tokio::spawn(send_paced(stream, content, in_progress));
            }
        }
    }
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

/// A response body: bytes at hand, or a file to read in steps.
enum Content {
    Bytes(Bytes),
    File(File, u64),
}

/// Our response's head as h2's: the same status and fields (no `Connection`, which HTTP/2 has
/// not), `Content-Length` of `len` kept for HEAD and left off a 304.
fn response_head(
    status: u16,
    fields: Vec<(&'static str, Cow<'static, str>)>,
    len: u64,
) -> http::Response<()> {
    let mut head = http::Response::new(());
    *head.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    let mut out = HeaderMap::with_capacity(fields.len() + 3);
    out.insert(SERVER, HeaderValue::from_static("tlslite-rs"));
    if let Ok(date) = with_date_now(HeaderValue::from_str) {
        out.insert(DATE, date);
    }
    for (name, value) in fields {
        // Taken as they are, not copied.
        let value = match value {
            Cow::Borrowed(text) => {
                HeaderValue::from_maybe_shared(Bytes::from_static(text.as_bytes()))
            }
            Cow::Owned(text) => HeaderValue::try_from(text),
        };
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), value) {
            out.append(name, value);
        }
    }
    if status != 304 {
        out.insert(CONTENT_LENGTH, HeaderValue::from(len));
    }
    *head.headers_mut() = out;
    head
}

/// Sends `content` on `stream` a piece at a time, each once the client's window has room and
/// h2's send buffer is not full: a large file never sits in memory whole, and the response
/// stays in progress until its last piece is handed over.
async fn send_paced(mut stream: SendStream<Bytes>, mut content: Content, _: InProgress) {
    loop {
        stream.reserve_capacity(1);
        loop {
            match std::future::poll_fn(|cx| stream.poll_capacity(cx)).await {
                Some(Ok(0)) => {}
                Some(Ok(_)) => break,
                // Reset by the client, or the connection is gone.
                Some(Err(_)) | None => return,
            }
        }
        let Some((piece, last)) = next_piece(&mut content) else {
            // The file could not be read, or shrank after its length was promised.
            return stream.send_reset(Reason::INTERNAL_ERROR);
        };
        if stream.send_data(piece, last).is_err() || last {
            return;
        }
    }
}

/// The next piece of `content` (at most [`PIECE`] bytes), and whether it is the last; `None`
/// if the file fails or ends early. Files are read with blocking calls, as the HTTP/1.1 path
/// reads them (pages of a served folder are normally in the page cache).
fn next_piece(content: &mut Content) -> Option<(Bytes, bool)> {
    match content {
        Content::Bytes(bytes) => {
            let piece = bytes.split_to(bytes.len().min(PIECE));
            Some((piece, bytes.is_empty()))
        }
        Content::File(file, left) => {
            let mut chunk = vec![0; (*left).min(PIECE as u64) as usize];
            let n = loop {
                match file.read(&mut chunk) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) | Ok(0) => return None,
                    Ok(n) => break n,
                }
            };
            chunk.truncate(n);
            *left -= n as u64;
            Some((Bytes::from(chunk), *left == 0))
        }
    }
}
