//! Precompressed files (nginx's `gzip_static`, Caddy's `precompressed`): `app.js.br` or
//! `app.js.gz` beside `app.js` is sent, as `app.js` with `Content-Encoding`, to a client whose
//! `Accept-Encoding` takes it.

/// The codings served, in order of preference, with the extension of their files.
pub(crate) const CODINGS: [(&str, &str); 2] = [("br", ".br"), ("gzip", ".gz")];

/// Whether an `Accept-Encoding` value takes `coding` (RFC 9110 §12.5.3): named with a
/// nonzero weight, or covered by `*` with one and not named with weight zero.
pub(crate) fn accepts(header: &str, coding: &str) -> bool {
    let mut star = false;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        let weight = parts
            .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
            .next()
            .map_or(1.0, |q| q.trim().parse::<f32>().unwrap_or(0.0));
        if name.eq_ignore_ascii_case(coding) {
            return weight > 0.0;
        }
        if name == "*" {
            star = weight > 0.0;
        }
    }
    star
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_and_wildcards() {
        assert!(accepts("gzip, deflate, br", "br"));
        assert!(accepts("gzip, deflate, br", "gzip"));
        assert!(accepts("GZIP;q=0.5", "gzip"));
        assert!(!accepts("gzip;q=0", "gzip"));
        assert!(!accepts("gzip;q=0.000", "gzip"));
        assert!(!accepts("deflate", "gzip"));
        assert!(!accepts("", "br"));
        assert!(accepts("*", "br"));
        assert!(!accepts("*;q=0", "br"));
        assert!(!accepts("*, br;q=0", "br"));
        assert!(accepts("identity, *;q=0.1", "gzip"));
    }
}
