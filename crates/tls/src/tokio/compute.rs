//! Where the SRP handshake's arithmetic runs: tokio's blocking pool, with no more computations
//! at once than there are CPUs. Hundreds of CPU-bound threads would starve the runtime's
//! workers at the operating system's scheduler; a handful leave them room.

use std::io;
use std::sync::OnceLock;

use ::tokio::sync::Semaphore;

use crate::Error;

fn permits() -> &'static Semaphore {
    static PERMITS: OnceLock<Semaphore> = OnceLock::new();
    PERMITS
        .get_or_init(|| Semaphore::new(std::thread::available_parallelism().map_or(1, |n| n.get())))
}

/// Runs `work` off the reactor once a CPU's share is free; waiting costs no thread.
pub(super) async fn run<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Error> {
    let _permit = permits()
        .acquire()
        .await
        .map_err(|e| Error::Io(io::Error::other(e)))?;
    ::tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::Io(io::Error::other(e)))
}
