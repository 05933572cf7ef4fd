//! Conditional requests (RFC 9110 §13): the validators a file carries (`ETag`,
//! `Last-Modified`) and the preconditions a request sets against them, in the RFC's order.

use std::fs::Metadata;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::request::Request;

/// What identifies one version of a representation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Validators {
    /// A strong entity tag, quoted: `"inode-size-mtime"` in hex, changing with any of them.
    pub(crate) etag: Option<String>,
    /// Modification time, whole seconds (HTTP dates have no finer precision).
    pub(crate) modified: Option<SystemTime>,
    /// `modified` as `Last-Modified` gives it, formatted once for a cached file's answers.
    pub(crate) last_modified: Option<String>,
}

impl Validators {
    /// The validators of a file whose metadata is `meta`.
    pub(crate) fn of(meta: &Metadata) -> Self {
        let modified = meta.modified().ok().map(whole_seconds);
        Self {
            etag: etag(meta),
            modified,
            last_modified: modified.map(httpdate::fmt_http_date),
        }
    }
}

#[cfg(unix)]
fn etag(meta: &Metadata) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let nanos = (meta.mtime() as i128) * 1_000_000_000 + meta.mtime_nsec() as i128;
    Some(format!("\"{:x}-{:x}-{:x}\"", meta.ino(), meta.len(), nanos))
}

#[cfg(not(unix))]
fn etag(_: &Metadata) -> Option<String> {
    None
}

fn whole_seconds(t: SystemTime) -> SystemTime {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// What the preconditions say to do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Precondition {
    /// Answer as if there were none (a `Range` still applies when `range` is true).
    Proceed { range: bool },
    /// 304: the client's copy is current.
    NotModified,
    /// 412: the client wanted another version.
    Failed,
}

/// Evaluates `If-Match`, `If-Unmodified-Since`, `If-None-Match`, `If-Modified-Since` and
/// `If-Range` for a GET or HEAD, as RFC 9110 §13.2.2 orders them.
pub(crate) fn evaluate(request: &Request, validators: &Validators) -> Precondition {
    let etag = validators.etag.as_deref();
    let date = |name| {
        request
            .header(name)
            .and_then(|v| httpdate::parse_http_date(v).ok())
    };
    if let Some(wanted) = request.header("if-match") {
        if !matches_any(wanted, etag, Comparison::Strong) {
            return Precondition::Failed;
        }
    } else if let (Some(since), Some(modified)) = (date("if-unmodified-since"), validators.modified)
    {
        if modified > since {
            return Precondition::Failed;
        }
    }
    if let Some(tags) = request.header("if-none-match") {
        if matches_any(tags, etag, Comparison::Weak) {
            return Precondition::NotModified;
        }
    } else if let (Some(since), Some(modified)) = (date("if-modified-since"), validators.modified) {
        if modified <= since {
            return Precondition::NotModified;
        }
    }
    let range = request.header("range").is_some()
        && match request.header("if-range") {
            None => true,
            // An entity tag: the range holds only for that exact (strong) version.
            Some(tag)
                if tag.trim_start().starts_with(['"']) || tag.trim_start().starts_with("W/") =>
            {
                etag.is_some_and(|etag| strong_equal(tag.trim(), etag))
            }
            // A date: only if it is exactly the modification time.
            Some(when) => httpdate::parse_http_date(when)
                .ok()
                .is_some_and(|when| Some(when) == validators.modified),
        };
    Precondition::Proceed { range }
}

#[derive(Clone, Copy)]
enum Comparison {
    Strong,
    Weak,
}

/// Whether a list of entity tags (or `*`) names `etag`.
fn matches_any(list: &str, etag: Option<&str>, comparison: Comparison) -> bool {
    let Some(etag) = etag else { return false };
    if list.trim() == "*" {
        return true;
    }
    list.split(',').map(str::trim).any(|tag| match comparison {
        Comparison::Strong => strong_equal(tag, etag),
        Comparison::Weak => opaque(tag) == opaque(etag),
    })
}

/// Strong comparison: neither tag weak, and the same opaque string.
fn strong_equal(tag: &str, etag: &str) -> bool {
    !tag.starts_with("W/") && !etag.starts_with("W/") && tag == etag
}

fn opaque(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &str) -> Request {
        let head = format!("GET /f HTTP/1.1\r\nHost: h\r\n{headers}\r\n");
        super::super::request::read_request(&mut head.as_bytes())
            .ok()
            .flatten()
            .expect("a request")
    }

    fn validators() -> Validators {
        Validators {
            etag: Some("\"a-b-c\"".into()),
            modified: httpdate::parse_http_date("Wed, 02 Dec 2026 10:00:00 GMT").ok(),
            last_modified: Some("Wed, 02 Dec 2026 10:00:00 GMT".into()),
        }
    }

    fn answer(headers: &str) -> Precondition {
        evaluate(&request(headers), &validators())
    }

    const GO: Precondition = Precondition::Proceed { range: false };
    const RANGE: Precondition = Precondition::Proceed { range: true };

    #[test]
    fn entity_tags_and_dates_in_the_rfcs_order() {
        assert_eq!(answer(""), GO);
        assert_eq!(
            answer("If-None-Match: \"a-b-c\"\r\n"),
            Precondition::NotModified
        );
        assert_eq!(
            answer("If-None-Match: W/\"a-b-c\"\r\n"),
            Precondition::NotModified
        );
        assert_eq!(
            answer("If-None-Match: \"x\", \"a-b-c\"\r\n"),
            Precondition::NotModified
        );
        assert_eq!(answer("If-None-Match: *\r\n"), Precondition::NotModified);
        assert_eq!(answer("If-None-Match: \"old\"\r\n"), GO);
        // If-None-Match wins over If-Modified-Since, which would say 304.
        let both = "If-None-Match: \"old\"\r\nIf-Modified-Since: Thu, 03 Dec 2026 00:00:00 GMT\r\n";
        assert_eq!(answer(both), GO);
        let since = "If-Modified-Since: Wed, 02 Dec 2026 10:00:00 GMT\r\n";
        assert_eq!(answer(since), Precondition::NotModified);
        let before = "If-Modified-Since: Wed, 02 Dec 2026 09:59:59 GMT\r\n";
        assert_eq!(answer(before), GO);
        assert_eq!(answer("If-Match: \"a-b-c\"\r\n"), GO);
        assert_eq!(answer("If-Match: W/\"a-b-c\"\r\n"), Precondition::Failed);
        assert_eq!(answer("If-Match: \"old\"\r\n"), Precondition::Failed);
        let unmodified = "If-Unmodified-Since: Wed, 02 Dec 2026 09:00:00 GMT\r\n";
        assert_eq!(answer(unmodified), Precondition::Failed);
    }

    #[test]
    fn if_range_keeps_a_range_only_for_the_same_version() {
        assert_eq!(answer("Range: bytes=0-1\r\n"), RANGE);
        assert_eq!(answer("Range: bytes=0-1\r\nIf-Range: \"a-b-c\"\r\n"), RANGE);
        assert_eq!(answer("Range: bytes=0-1\r\nIf-Range: \"old\"\r\n"), GO);
        assert_eq!(answer("Range: bytes=0-1\r\nIf-Range: W/\"a-b-c\"\r\n"), GO);
        let same = "Range: bytes=0-1\r\nIf-Range: Wed, 02 Dec 2026 10:00:00 GMT\r\n";
        assert_eq!(answer(same), RANGE);
        let other = "Range: bytes=0-1\r\nIf-Range: Wed, 02 Dec 2026 09:00:00 GMT\r\n";
        assert_eq!(answer(other), GO);
    }
}
