//! From a request target to a file on disk, safely, and the answer for it.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use super::cache::{self, CachedFile, FileCache};
use super::checked_files::CheckedFiles;
use super::encoding::{accepts, CODINGS};
use super::listing::{listing, percent_encode_path, SortOrder};
use super::mime::content_type;
use super::request::Request;
use super::response::{Body, Response};
use super::validators::{evaluate, Precondition, Validators};
use super::visibility::Visibility;

/// What a [`StaticFiles`](crate::StaticFiles) serves besides plain files.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Features {
    /// A folder's `index.html` instead of its listing.
    pub(crate) index_html: bool,
    /// `NAME.br` or `NAME.gz` for `NAME`, to clients that take them.
    pub(crate) precompressed: bool,
}

impl Default for Features {
    fn default() -> Self {
        Self {
            index_html: true,
            precompressed: true,
        }
    }
}

/// How a file's bytes are labelled.
struct Representation {
    /// The type of the file asked for (a precompressed sibling's is its original's).
    content_type: &'static str,
    /// `Content-Encoding`, for a precompressed sibling.
    encoding: Option<&'static str>,
    /// Whether the answer depends on `Accept-Encoding` (precompressed files are served).
    vary: bool,
}

/// Answers a GET or HEAD for `request.target` under `root` (canonical), within what
/// `visibility` allows; cached files in `checked` are served without another look at the disk.
pub(crate) fn respond(
    root: &Path,
    visibility: &Visibility,
    (cache, checked): (&FileCache, Option<&CheckedFiles>),
    features: Features,
    request: &Request,
) -> Response {
    let url_path = match decode_target(request.target()) {
        Ok(path) => path,
        Err(why) => return Response::error(400, why),
    };
    if !visibility.allows_url(&url_path) {
        return Response::error(404, "no such file");
    }
    let representation = |path: &Path| Representation {
        content_type: content_type(path),
        encoding: None,
        vary: features.precompressed,
    };
    // Only regular files that passed every check below are ever cached; one reached through a
    // symbolic link is served from memory only while the links still lead to it.
    let still_resolves = || resolve(root, &url_path).map(|r| r.path);
    if let Some(cached) = cache.get(&url_path, still_resolves, checked) {
        let representation = representation(cached.path());
        if features.precompressed {
            let site = (root, visibility, cache, checked);
            if let Some(sibling) = precompressed(site, &url_path, &representation, request) {
                return sibling;
            }
        }
        return answer(Content::Memory(cached), &representation, request);
    }
    let Some(resolved) = resolve(root, &url_path) else {
        return Response::error(404, "no such file");
    };
    if let Some(refused) = refuse(visibility, &resolved.path, &resolved.meta) {
        return refused;
    }
    if resolved.meta.is_dir() {
        if !url_path.ends_with('/') {
            let location = format!("{}/", percent_encode_path(&url_path));
            return Response::new(301, Body::Empty).header("Location", location);
        }
        let index_url = format!("{url_path}index.html");
        return match resolve(root, &index_url) {
            Some(index)
                if features.index_html
                    && index.meta.is_file()
                    && visibility.allows(&index.path, &index.meta) =>
            {
                let representation = representation(&index.path);
                file(&index, &index_url, cache, &representation, request)
            }
            _ => {
                let order = SortOrder::from_target(request.target());
                match listing(&resolved.path, &url_path, visibility, order) {
                    Ok(html) => Response::new(200, Body::Bytes(html.into_bytes()))
                        .header("Content-Type", "text/html; charset=utf-8"),
                    Err(_) => Response::error(403, "the folder cannot be listed"),
                }
            }
        };
    }
    let representation = representation(&resolved.path);
    if features.precompressed {
        let site = (root, visibility, cache, checked);
        if let Some(sibling) = precompressed(site, &url_path, &representation, request) {
            return sibling;
        }
    }
    file(&resolved, &url_path, cache, &representation, request)
}

/// The answer from a precompressed sibling of the file at `url_path` (`NAME.br`, `NAME.gz`)
/// that the client accepts, if one is there and may be served; labelled as `original` with
/// its coding.
fn precompressed(
    (root, visibility, cache, checked): (&Path, &Visibility, &FileCache, Option<&CheckedFiles>),
    url_path: &str,
    original: &Representation,
    request: &Request,
) -> Option<Response> {
    let accepted = request.header("accept-encoding")?;
    for (coding, extension) in CODINGS {
        if !accepts(accepted, coding) {
            continue;
        }
        let url = format!("{url_path}{extension}");
        let representation = Representation {
            content_type: original.content_type,
            encoding: Some(coding),
            vary: true,
        };
        if let Some(cached) = cache.get(&url, || resolve(root, &url).map(|r| r.path), checked) {
            return Some(answer(Content::Memory(cached), &representation, request));
        }
        // One lstat settles the common case, no such file, before the checked walk.
        if fs::symlink_metadata(root.join(url.trim_start_matches('/'))).is_err() {
            continue;
        }
        let Some(sibling) = resolve(root, &url) else {
            continue;
        };
        if sibling.meta.is_file()
            && visibility.allows_url(&url)
            && visibility.allows(&sibling.path, &sibling.meta)
        {
            return Some(file(&sibling, &url, cache, &representation, request));
        }
    }
    None
}

/// The answer for a path that must not be served: excluded files look absent, and anything
/// but a regular file or folder (a FIFO would block the reader forever) is forbidden.
fn refuse(visibility: &Visibility, path: &Path, meta: &fs::Metadata) -> Option<Response> {
    if visibility.allows(path, meta) {
        None
    } else if meta.is_file() || meta.is_dir() {
        Some(Response::error(404, "no such file"))
    } else {
        Some(Response::error(403, "not a regular file or folder"))
    }
}

/// The decoded path of a request target: `/a%20b/c?q` → `/a b/c`, runs of slashes collapsed
/// (`//host` would otherwise come back in a redirect as a protocol-relative URL to another
/// site). Refuses `..`, NUL, backslashes and anything that is not valid UTF-8 once decoded.
pub(crate) fn decode_target(target: &str) -> Result<String, &'static str> {
    let path = match absolute_form_path(target) {
        Some(path) => path,
        None => target.split(['?', '#']).next().unwrap_or(""),
    };
    if !path.starts_with('/') {
        return Err("the target must be a path");
    }
    let bytes = percent_decode(path).ok_or("bad percent-encoding")?;
    let decoded = String::from_utf8(bytes).map_err(|_| "the path is not UTF-8")?;
    if decoded.contains('\0') || decoded.contains('\\') {
        return Err("forbidden character in path");
    }
    if decoded.split('/').any(|segment| segment == "..") {
        return Err("'..' is not allowed in paths");
    }
    let mut collapsed = String::with_capacity(decoded.len());
    for c in decoded.chars() {
        if !(c == '/' && collapsed.ends_with('/')) {
            collapsed.push(c);
        }
    }
    Ok(collapsed)
}

/// The path of an absolute-form target (`https://host/path?q`, RFC 9112 §3.2.2): only a target
/// that starts with a scheme is one; `://` later on (in a query, say) is not.
fn absolute_form_path(target: &str) -> Option<&str> {
    let (scheme, rest) = target.split_once("://")?;
    let mut chars = scheme.chars();
    let scheme_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return None;
    }
    // The authority ends at the path, the query or the fragment.
    Some(match rest.find(['/', '?', '#']) {
        Some(i) if rest[i..].starts_with('/') => rest[i..].split(['?', '#']).next().unwrap_or("/"),
        _ => "/",
    })
}

fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// A URL path found on disk: the real path, what it is, and whether a symbolic link led there.
struct Resolved {
    path: PathBuf,
    meta: fs::Metadata,
    through_link: bool,
}

/// The real path for a decoded URL path and what it is (links followed), if it exists and
/// lies inside `root` once every symbolic link is followed. Costs one `lstat` per path segment;
/// only a path through a symbolic link pays for a full `canonicalize`.
fn resolve(root: &Path, url_path: &str) -> Option<Resolved> {
    let mut path = root.to_path_buf();
    let mut through_link = false;
    let mut meta = fs::symlink_metadata(root).ok()?;
    for segment in url_path.split('/').filter(|s| !s.is_empty() && *s != ".") {
        path.push(segment);
        meta = fs::symlink_metadata(&path).ok()?;
        through_link |= meta.file_type().is_symlink();
    }
    if !through_link {
        return Some(Resolved {
            path,
            meta,
            through_link,
        });
    }
    let real = path.canonicalize().ok()?;
    let meta = fs::metadata(&real).ok()?;
    real.starts_with(root).then_some(Resolved {
        path: real,
        meta,
        through_link,
    })
}

/// Opens the file `checked` describes, and only that file: the open follows no link at the
/// end of the path and never blocks (a FIFO or a link swapped in after the check fails it),
/// and what opened must be the same regular file (device and inode) that passed the checks,
/// so a folder or file replaced on the way in between is refused too.
fn open_checked(checked: &Resolved) -> std::io::Result<(File, fs::Metadata)> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut options,
        libc::O_NONBLOCK | libc::O_NOFOLLOW,
    );
    let file = options.open(&checked.path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if (meta.dev(), meta.ino()) != (checked.meta.dev(), checked.meta.ino()) {
            return Err(std::io::Error::other("not the file that was checked"));
        }
    }
    Ok((file, meta))
}

/// Where a file's bytes come from: memory (small files) or the open file (large ones).
enum Content {
    Memory(Arc<CachedFile>),
    Disk(File, fs::Metadata),
}

/// The answer for the regular file `checked`, served as `url_path`. Small files are read whole
/// and offered to `cache`.
fn file(
    checked: &Resolved,
    url_path: &str,
    cache: &FileCache,
    representation: &Representation,
    request: &Request,
) -> Response {
    let Ok((file, meta)) = open_checked(checked) else {
        return Response::error(403, "the file cannot be read");
    };
    if meta.len() <= cache::MAX_FILE {
        let mut content = Vec::with_capacity(meta.len() as usize);
        if file.take(meta.len()).read_to_end(&mut content).is_err() {
            return Response::error(403, "the file cannot be read");
        }
        let path = checked.path.as_path();
        let read = Arc::new(CachedFile::new(path, &meta, content, checked.through_link));
        let kept = cache.offer(url_path, read.clone());
        return answer(
            Content::Memory(kept.unwrap_or(read)),
            representation,
            request,
        );
    }
    answer(Content::Disk(file, meta), representation, request)
}

/// A file's answer: whole, a range of it, 304 when the client's copy is current, or 412 when
/// it wanted another version.
fn answer(content: Content, representation: &Representation, request: &Request) -> Response {
    // Borrowed from the cached file (one more reference to it) rather than copied.
    let (from_cache, from_disk);
    let (len, validators) = match &content {
        Content::Memory(cached) => {
            from_cache = cached.clone();
            (cached.content.len() as u64, &from_cache.validators)
        }
        Content::Disk(_, meta) => {
            from_disk = Validators::of(meta);
            (meta.len(), &from_disk)
        }
    };
    let range = match evaluate(request, validators) {
        Precondition::NotModified => {
            let response = Response::new(304, Body::Empty);
            return labelled(response, validators, representation);
        }
        Precondition::Failed => return Response::error(412, "the file has changed"),
        Precondition::Proceed { range } => range.then(|| request.header("range")).flatten(),
    };
    let (status, start, count) = match range.map(|r| parse_range(r, len)) {
        None | Some(RangeAnswer::Whole) => (200, 0, len),
        Some(RangeAnswer::Part(start, end)) => (206, start, end - start + 1),
        Some(RangeAnswer::Unsatisfiable) => {
            return Response::error(416, "range not satisfiable")
                .header("Content-Range", format!("bytes */{len}"));
        }
    };
    let body = match content {
        // Below MAX_FILE: fits in usize anywhere.
        Content::Memory(cached) => Body::Shared(cached, start as usize, count as usize),
        Content::Disk(mut file, _) => {
            if start > 0 && file.seek(SeekFrom::Start(start)).is_err() {
                return Response::error(403, "the file cannot be read");
            }
            Body::File(file, count)
        }
    };
    let mut response = Response::new(status, body)
        .header("Content-Type", representation.content_type)
        .header("Accept-Ranges", "bytes");
    if let Some(coding) = representation.encoding {
        response = response.header("Content-Encoding", coding);
    }
    if status == 206 {
        let end = start + count - 1;
        response = response.header("Content-Range", format!("bytes {start}-{end}/{len}"));
    }
    labelled(response, validators, representation)
}

/// The headers a 200, 206 and 304 share: validators, and what the answer varies with.
fn labelled(
    mut response: Response,
    validators: &Validators,
    representation: &Representation,
) -> Response {
    if let Some(etag) = &validators.etag {
        response = response.header("ETag", etag.clone());
    }
    if let Some(modified) = &validators.last_modified {
        response = response.header("Last-Modified", modified.clone());
    }
    if representation.vary {
        response = response.header("Vary", "Accept-Encoding");
    }
    response
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RangeAnswer {
    /// No usable single range (or several ranges): send the whole file, as RFC 9110 allows.
    Whole,
    /// Inclusive byte positions.
    Part(u64, u64),
    Unsatisfiable,
}

/// A single `bytes=` range against a file of `len` bytes.
pub(crate) fn parse_range(header: &str, len: u64) -> RangeAnswer {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return RangeAnswer::Whole;
    };
    if spec.contains(',') {
        return RangeAnswer::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeAnswer::Whole;
    };
    let number = |s: &str| s.trim().parse::<u64>().ok();
    match (first.trim().is_empty(), number(first), number(last)) {
        // `-N`: the last N bytes.
        (true, _, Some(suffix)) if suffix > 0 && len > 0 => {
            RangeAnswer::Part(len.saturating_sub(suffix), len - 1)
        }
        (true, _, _) => RangeAnswer::Unsatisfiable,
        (false, Some(start), _) if start >= len => RangeAnswer::Unsatisfiable,
        (false, Some(start), None) if last.trim().is_empty() => RangeAnswer::Part(start, len - 1),
        (false, Some(start), Some(end)) if end >= start => {
            RangeAnswer::Part(start, end.min(len - 1))
        }
        _ => RangeAnswer::Whole,
    }
}

/// One name in a folder, as the listing shows it.
pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) is_dir: bool,
    pub(crate) len: u64,
    pub(crate) modified: Option<SystemTime>,
}

/// What a folder holds that `visibility` lets through (links followed for what they lead to),
/// in no particular order.
pub(crate) fn entries(dir: &Path, visibility: &Visibility) -> std::io::Result<Vec<Entry>> {
    Ok(fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let path = e.path();
            let meta = fs::metadata(&path).ok()?;
            let name = e.file_name().to_string_lossy().into_owned();
            visibility.allows_entry(&path, &name, &meta).then(|| Entry {
                name,
                is_dir: meta.is_dir(),
                len: meta.len(),
                modified: meta.modified().ok(),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_decode_and_traversal_is_refused() {
        assert_eq!(decode_target("/a%20b/c.txt?x=1").unwrap(), "/a b/c.txt");
        assert_eq!(decode_target("https://host:1/x/y#f").unwrap(), "/x/y");
        assert_eq!(decode_target("https://host?q=/x").unwrap(), "/");
        // Issue 26: `://` in the query does not make the target absolute-form.
        assert_eq!(
            decode_target("/public/a?x=://h/private/secret").unwrap(),
            "/public/a"
        );
        assert_eq!(decode_target("/a://b/c").unwrap(), "/a:/b/c");
        // Issue 26: leading (and inner) slashes collapse, so no redirect names another host.
        assert_eq!(decode_target("//evil.example").unwrap(), "/evil.example");
        assert_eq!(
            decode_target("/%2F%2Fevil.example/x//y").unwrap(),
            "/evil.example/x/y"
        );
        for bad in [
            "/../etc/passwd",
            "/a/%2e%2e/%2E%2E/etc/passwd",
            "/..%2fetc",
            "/a%00b",
            "/a%5c..%5cb",
            "/%zz",
            "/%ff",
            "relative",
        ] {
            assert!(decode_target(bad).is_err(), "accepted {bad}");
        }
    }

    #[test]
    fn ranges_follow_rfc_9110() {
        assert_eq!(parse_range("bytes=0-9", 100), RangeAnswer::Part(0, 9));
        assert_eq!(parse_range("bytes=90-", 100), RangeAnswer::Part(90, 99));
        assert_eq!(parse_range("bytes=-10", 100), RangeAnswer::Part(90, 99));
        assert_eq!(parse_range("bytes=-1000", 100), RangeAnswer::Part(0, 99));
        assert_eq!(parse_range("bytes=50-5000", 100), RangeAnswer::Part(50, 99));
        assert_eq!(parse_range("bytes=100-", 100), RangeAnswer::Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 100), RangeAnswer::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), RangeAnswer::Whole);
        assert_eq!(parse_range("items=0-1", 100), RangeAnswer::Whole);
        assert_eq!(parse_range("bytes=9-3", 100), RangeAnswer::Whole);
        assert_eq!(parse_range("bytes=0-0", 0), RangeAnswer::Unsatisfiable);
    }
}
