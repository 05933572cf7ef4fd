//! What the file server may show: secrets named by the operator and dotfiles stay out of reach,
//! and only regular files and folders are ever opened.

use std::fs::{self, Metadata};
use std::io;
use std::path::{Path, PathBuf};

/// A file that is never served, by path and, when it existed at start, by identity (so a hard
/// link or another name for it is refused too).
#[derive(Clone, Debug)]
struct Excluded {
    path: PathBuf,
    identity: Option<(u64, u64)>,
}

/// The rules a [`StaticFiles`](crate::StaticFiles) applies before it lists or opens anything.
#[derive(Clone, Debug, Default)]
pub(crate) struct Visibility {
    /// Serve and list names starting with a dot (`.git/`, `.env`).
    pub(crate) hidden: bool,
    excluded: Vec<Excluded>,
}

impl Visibility {
    /// Never serves `path`, whether or not it exists yet (an SQLite `-wal` appears later).
    pub(crate) fn exclude(&mut self, path: &Path) -> io::Result<()> {
        let path = absolute(path)?;
        let identity = fs::metadata(&path).ok().and_then(|m| identity(&m));
        self.excluded.push(Excluded { path, identity });
        Ok(())
    }

    /// Whether a URL path may be looked at at all: no segment hidden by a leading dot.
    pub(crate) fn allows_url(&self, url_path: &str) -> bool {
        self.hidden || !url_path.split('/').any(|s| s.starts_with('.') && s != ".")
    }

    /// Whether a folder entry shows in a listing.
    pub(crate) fn allows_entry(&self, path: &Path, name: &str, meta: &Metadata) -> bool {
        (self.hidden || !name.starts_with('.'))
            && (meta.is_file() || meta.is_dir())
            && !self.is_excluded(path, meta)
    }

    /// Whether the file or folder at `path` (real, resolved) with `meta` (followed) may be served.
    pub(crate) fn allows(&self, path: &Path, meta: &Metadata) -> bool {
        (meta.is_file() || meta.is_dir()) && !self.is_excluded(path, meta)
    }

    fn is_excluded(&self, path: &Path, meta: &Metadata) -> bool {
        let id = identity(meta);
        self.excluded
            .iter()
            .any(|e| e.path == path || (e.identity.is_some() && e.identity == id))
    }
}

/// `path` made absolute with its folder's symbolic links resolved; the file itself need not
/// exist.
fn absolute(path: &Path) -> io::Result<PathBuf> {
    if let Ok(real) = path.canonicalize() {
        return Ok(real);
    }
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} names no file", path.display()),
        )
    })?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.canonicalize()?,
        _ => std::env::current_dir()?,
    };
    Ok(parent.join(name))
}

#[cfg(unix)]
fn identity(meta: &Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn identity(_: &Metadata) -> Option<(u64, u64)> {
    None
}
