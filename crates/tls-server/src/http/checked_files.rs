//! Cached files already checked against the disk since a connection last heard from its
//! client.
//!
//! A cached file is checked (one `stat`) before each answer, so that a client that changes a
//! file and then asks for it gets the new content. Every request a connection answers before
//! its next read arrived before a check made after its last read, so that check holds for all
//! of them: an HTTP/2 client sends dozens of requests in one read, and they cost one `stat` per
//! file instead of one each (the `stat` was 16% of the server's time at 1 KiB over HTTP/2).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use super::cache::CachedFile;

/// Files remembered per read: more than one read's worth of requests (100 streams at once)
/// rarely name more distinct files.
const REMEMBERED: usize = 32;

/// One connection's checks, made since its latest read.
#[derive(Default)]
pub(crate) struct CheckedFiles {
    /// Reads that brought bytes from the client so far.
    reads: AtomicU64,
    checked: Mutex<Checked>,
}

#[derive(Default)]
struct Checked {
    /// The value of `reads` the files were checked at.
    at_read: u64,
    /// Weak: an idle connection must not keep a replaced file's content alive.
    files: Vec<Weak<CachedFile>>,
}

impl CheckedFiles {
    /// Bytes came from the client: what was checked before may be out of date for them.
    pub(crate) fn client_sent(&self) {
        self.reads.fetch_add(1, Ordering::Relaxed);
    }

    /// Whether `file` was found current on disk after the latest read.
    pub(crate) fn holds(&self, file: &Arc<CachedFile>) -> bool {
        let checked = self.lock();
        checked.at_read == self.reads.load(Ordering::Relaxed)
            && checked
                .files
                .iter()
                .any(|f| f.as_ptr() == Arc::as_ptr(file))
    }

    /// The reads so far: taken before a check, for [`add`](Self::add).
    pub(crate) fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    /// `file` was found current on disk by a check that began when [`reads`](Self::reads)
    /// was `at_read`; if bytes came in since, the check may predate them and is not kept.
    pub(crate) fn add(&self, file: &Arc<CachedFile>, at_read: u64) {
        let now = self.reads.load(Ordering::Relaxed);
        if at_read != now {
            return;
        }
        let mut checked = self.lock();
        if checked.at_read != now {
            checked.files.clear();
            checked.at_read = now;
        }
        if checked.files.len() < REMEMBERED {
            checked.files.push(Arc::downgrade(file));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Checked> {
        self.checked.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_holds_until_the_client_sends_more() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        std::fs::write(&path, "one").unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        let file =
            |content: &[u8]| Arc::new(CachedFile::new(&path, &meta, content.to_vec(), false));
        let (a, b) = (file(b"one"), file(b"one"));
        let checks = CheckedFiles::default();
        assert!(!checks.holds(&a));
        checks.add(&a, checks.reads());
        assert!(checks.holds(&a));
        // Another cached copy (the file was read again) was not checked.
        assert!(!checks.holds(&b));
        let before = checks.reads();
        checks.client_sent();
        assert!(!checks.holds(&a), "a check outlived the client's next read");
        // A check that began before bytes came in does not count for them.
        checks.add(&a, before);
        assert!(!checks.holds(&a));
        checks.add(&b, checks.reads());
        assert!(checks.holds(&b) && !checks.holds(&a));
        // Beyond what is remembered, files are simply checked each time.
        let many: Vec<_> = (0..REMEMBERED + 1).map(|_| file(b"one")).collect();
        many.iter().for_each(|f| checks.add(f, checks.reads()));
        assert!(checks.holds(&many[REMEMBERED - 2]) && !checks.holds(&many[REMEMBERED]));
    }
}
