//! Files that hold verifiers or keys: readable by their owner only, and never written through
//! a link or over something already there.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

use crate::Error;

/// Creates `path` for writing, mode 0600 on Unix, failing if anything exists there (a file, or
/// a symbolic link even to nowhere): with `create_new` the kernel checks and creates in one
/// step, so no other process can slip a link in between.
pub(crate) fn create_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Writes `contents` to a new file at `path`, readable by its owner only (mode 0600 on Unix),
/// and syncs it. Nothing that already exists there is written over or through, not even a
/// symbolic link to nowhere: the kernel checks and creates in one step. The error names the
/// path.
pub fn write_private(path: &Path, contents: &[u8]) -> Result<(), Error> {
    let failed = |e: io::Error| Error::Config(format!("{}: {e}", path.display()));
    let mut file = create_private(path).map_err(failed)?;
    file.write_all(contents).map_err(failed)?;
    file.sync_all().map_err(failed)
}

/// Says whether a file others than its owner can read, for a warning (Unix only).
pub fn readable_by_others(path: &Path) -> io::Result<bool> {
    let meta = std::fs::metadata(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Ok(meta.permissions().mode() & 0o077 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        Ok(false)
    }
}
