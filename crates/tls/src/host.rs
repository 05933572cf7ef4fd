//! Host names as users write them.

/// `host` without the brackets of an IPv6 literal (`[::1]` → `::1`), as name resolution
/// wants it; the brackets stay in URLs and in what users type.
pub fn bare_host(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_go_only_around_a_whole_literal() {
        assert_eq!(bare_host("[::1]"), "::1");
        assert_eq!(bare_host("mail.example.org"), "mail.example.org");
        assert_eq!(bare_host("[::1"), "[::1");
        assert_eq!(bare_host("127.0.0.1"), "127.0.0.1");
    }
}
