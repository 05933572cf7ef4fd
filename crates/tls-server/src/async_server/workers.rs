//! The tokio server's workers: one thread per core, each running a single-threaded runtime of
//! its own, as nginx runs one event loop per worker process. A connection stays on the worker
//! it was given, so serving it never wakes another thread (tokio's multi-thread scheduler
//! spends a third of its time in thread switches under keep-alive load on two cores).

use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use tokio::runtime::{Builder, Handle};
use tokio::sync::oneshot;

pub(crate) struct Workers {
    handles: Vec<Handle>,
    next: AtomicUsize,
    /// Dropped to stop every worker once its tasks are done.
    stop: Vec<oneshot::Sender<()>>,
    threads: Vec<thread::JoinHandle<()>>,
}

impl Workers {
    /// Starts `count` workers (at least one).
    pub(crate) fn start(count: usize) -> io::Result<Self> {
        let mut workers = Self {
            handles: Vec::new(),
            next: AtomicUsize::new(0),
            stop: Vec::new(),
            threads: Vec::new(),
        };
        for i in 0..count.max(1) {
            let runtime = Builder::new_current_thread().enable_all().build()?;
            let (stop, stopped) = oneshot::channel::<()>();
            workers.handles.push(runtime.handle().clone());
            workers.stop.push(stop);
            let thread = thread::Builder::new()
                .name(format!("tls worker {i}"))
                .spawn(move || {
                    // Tasks run while the worker waits for its stop signal.
                    let _ = runtime.block_on(stopped);
                })?;
            workers.threads.push(thread);
        }
        Ok(workers)
    }

    /// Runs `task` on the next worker in turn.
    pub(crate) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.handles.len();
        self.handles[i].spawn(task);
    }

    /// Stops every worker and waits for its thread: call once no task is left.
    pub(crate) fn stop(self) {
        drop(self.stop);
        for thread in self.threads {
            let _ = thread.join();
        }
    }
}
