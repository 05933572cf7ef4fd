//! Running a conversation written once as `async` code on a blocking socket.
//!
//! The adapters write each protocol's dialogue as `async fn`s over a small I/O trait. The
//! tokio client awaits them; the blocking client implements the trait with blocking calls,
//! which never return `Pending`, so one poll runs a whole step: no executor, no threads.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// Polls `step` once and returns its output, or `None` if it was not ready.
///
/// `None` means the step awaited something that is not blocking I/O (a timer, a channel): a
/// bug in the caller, which should turn it into an error rather than block or panic.
///
/// ```
/// let answer = tls::adapter::ready(async { 6 * 7 });
/// assert_eq!(answer, Some(42));
/// ```
pub fn ready<T>(step: impl Future<Output = T>) -> Option<T> {
    match pin!(step).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}
