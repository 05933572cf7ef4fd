//! Small files kept in memory, checked against the disk on every request.
//!
//! A hit costs one `stat` of the file instead of the path walk, open, read and close of a miss.
//! It is served only if the file is still the same inode with the same size, modification
//! time and change time. Files changed in the last [`SETTLE`] are not cached: a filesystem
//! stamps times at a coarse tick, so a write right after the read could leave every stamp
//! unchanged (git's "racily clean" problem); once the stamps are older than any tick, every
//! later write changes the change time.

use std::collections::HashMap;
use std::fs::Metadata;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use super::checked_files::CheckedFiles;
use super::validators::Validators;

/// How old a file's last change must be before its content may be cached.
const SETTLE: Duration = Duration::from_secs(2);
/// Largest file cached (and read whole rather than streamed).
pub(crate) const MAX_FILE: u64 = 1024 * 1024;

/// What identifies one version of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Version {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Version {
    #[cfg(unix)]
    fn of(meta: &Metadata) -> Option<Self> {
        use std::os::unix::fs::MetadataExt;
        Some(Self {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        })
    }

    #[cfg(not(unix))]
    fn of(_: &Metadata) -> Option<Self> {
        None
    }

    /// Whether the last change is old enough for every later one to show in the stamps.
    fn settled(&self) -> bool {
        let (secs, nanos) = self.ctime;
        let changed = u64::try_from(secs)
            .ok()
            .map(|s| SystemTime::UNIX_EPOCH + Duration::new(s, nanos.clamp(0, 999_999_999) as u32));
        changed.is_some_and(|t| t + SETTLE <= SystemTime::now())
    }
}

/// A small file read whole: its content and what the response needs besides.
#[derive(Debug)]
pub(crate) struct CachedFile {
    /// The real path it was read from (links resolved), checked on each hit.
    path: PathBuf,
    /// A symbolic link led to it: each hit resolves the URL path again, since links can be
    /// removed or re-pointed while the file stays as it was.
    through_link: bool,
    /// `None` where the platform gives no inode: never cached.
    version: Option<Version>,
    pub(crate) content: Arc<[u8]>,
    /// Its ETag and modification time, as read.
    pub(crate) validators: Validators,
}

impl CachedFile {
    /// `content` read from `path` (real, reached `through_link` or not), whose metadata before
    /// the read was `meta`.
    pub(crate) fn new(path: &Path, meta: &Metadata, content: Vec<u8>, through_link: bool) -> Self {
        Self {
            path: path.to_path_buf(),
            through_link,
            version: Version::of(meta),
            content: content.into(),
            validators: Validators::of(meta),
        }
    }

    /// The real path it was read from.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

/// The cache of one [`StaticFiles`](crate::StaticFiles), shared by its clones.
#[derive(Debug)]
pub(crate) struct FileCache {
    budget: usize,
    used: AtomicUsize,
    files: RwLock<HashMap<String, Arc<CachedFile>>>,
}

impl FileCache {
    /// A cache holding at most `budget` bytes of content (0: none).
    pub(crate) fn new(budget: usize) -> Self {
        Self {
            budget,
            used: AtomicUsize::new(0),
            files: RwLock::new(HashMap::new()),
        }
    }

    /// The file cached for `url_path`, if it is still what is on disk there: for one reached
    /// through a link, `resolve` (the URL path's real path now) must still lead to it. A file
    /// in `checked` was found so since the client's latest bytes, and is not looked at again.
    pub(crate) fn get(
        &self,
        url_path: &str,
        resolve: impl FnOnce() -> Option<PathBuf>,
        checked: Option<&CheckedFiles>,
    ) -> Option<Arc<CachedFile>> {
        if self.budget == 0 {
            return None;
        }
        let file = self.files.read().ok()?.get(url_path).cloned()?;
        if checked.is_some_and(|c| c.holds(&file)) {
            return Some(file);
        }
        let reads_before = checked.map(CheckedFiles::reads);
        // lstat: a link swapped in for the file is not the file.
        let now = std::fs::symlink_metadata(&file.path)
            .ok()
            .and_then(|m| Version::of(&m));
        let still_led_there = !file.through_link || resolve().as_deref() == Some(&file.path);
        if now.is_some() && now == file.version && still_led_there {
            if let (Some(checked), Some(at_read)) = (checked, reads_before) {
                checked.add(&file, at_read);
            }
            return Some(file);
        }
        self.forget(url_path);
        None
    }

    /// Keeps `file` as what `url_path` serves if it fits, is small, was read whole and has
    /// settled; returns it if kept.
    pub(crate) fn offer(&self, url_path: &str, file: Arc<CachedFile>) -> Option<Arc<CachedFile>> {
        let version = file.version?;
        let len = file.content.len();
        if len as u64 != version.len || version.len > MAX_FILE || !version.settled() {
            return None;
        }
        if self.used.fetch_add(len, Ordering::Relaxed) + len > self.budget {
            self.used.fetch_sub(len, Ordering::Relaxed);
            return None;
        }
        let previous = self
            .files
            .write()
            .ok()?
            .insert(url_path.to_owned(), file.clone());
        if let Some(previous) = previous {
            self.used
                .fetch_sub(previous.content.len(), Ordering::Relaxed);
        }
        Some(file)
    }

    fn forget(&self, url_path: &str) {
        let removed = self.files.write().ok().and_then(|mut f| f.remove(url_path));
        if let Some(removed) = removed {
            self.used
                .fetch_sub(removed.content.len(), Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn age(path: &Path) {
        let old = SystemTime::now() - Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }

    #[test]
    fn a_changed_file_is_never_served_from_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        std::fs::write(&path, "one").unwrap();
        let cache = FileCache::new(1024);
        let meta = std::fs::metadata(&path).unwrap();
        // Just written: its change time is too recent to trust.
        let read = |meta: &Metadata| Arc::new(CachedFile::new(&path, meta, b"one".to_vec(), false));
        assert!(cache.offer("/a.txt", read(&meta)).is_none());
        age(&path);
        // Setting the time is a change too; the ctime is fresh again, so still refused.
        let meta = std::fs::metadata(&path).unwrap();
        assert!(cache.offer("/a.txt", read(&meta)).is_none());
    }

    #[test]
    fn hits_need_the_same_inode_size_and_times() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        std::fs::write(&path, "one").unwrap();
        let mut meta = std::fs::metadata(&path).unwrap();
        let cache = FileCache::new(1024);
        // Pretend the file settled long ago, as a real one does after two seconds.
        let version = Version::of(&meta);
        let settled = Arc::new(CachedFile {
            path: path.clone(),
            through_link: false,
            version,
            content: Arc::from(&b"one"[..]),
            validators: Validators::of(&meta),
        });
        cache
            .files
            .write()
            .unwrap()
            .insert("/a.txt".into(), settled);
        assert!(cache.get("/a.txt", || None, None).is_some());
        std::fs::write(&path, "three").unwrap();
        assert!(
            cache.get("/a.txt", || None, None).is_none(),
            "served a rewritten file"
        );
        assert!(cache.files.read().unwrap().is_empty());
        meta = std::fs::metadata(&path).unwrap();
        assert!(!Version::of(&meta).unwrap().settled());
        // Same size, another inode (an editor's save by rename): a miss too.
        cache.files.write().unwrap().insert(
            "/a.txt".into(),
            Arc::new(CachedFile {
                path: path.clone(),
                through_link: false,
                version: Version::of(&meta),
                content: Arc::from(&b"three"[..]),
                validators: Validators::of(&meta),
            }),
        );
        let other = dir.path().join("b.txt");
        std::fs::write(&other, "THREE").unwrap();
        std::fs::rename(&other, &path).unwrap();
        assert!(
            cache.get("/a.txt", || None, None).is_none(),
            "served a replaced file"
        );
    }

    #[test]
    fn the_budget_bounds_what_is_kept() {
        // A change time cannot be set back: use a file the system left alone long ago.
        let old = Path::new("/etc/passwd");
        let meta = std::fs::metadata(old).unwrap();
        let content = std::fs::read(old).unwrap();
        let read = |content: &[u8]| Arc::new(CachedFile::new(old, &meta, content.to_vec(), false));
        let cache = FileCache::new(content.len() * 2 - 1);
        assert!(cache.offer("/p", read(&content)).is_some());
        assert!(cache.offer("/p2", read(&content)).is_none());
        assert_eq!(cache.used.load(Ordering::Relaxed), content.len());
        assert!(cache.get("/p", || None, None).is_some());
        // Content that does not match the metadata's size (a file changed mid-read) is not kept.
        assert!(FileCache::new(1 << 20)
            .offer("/p", read(b"short"))
            .is_none());
    }
}
