//! The HTML page for a folder without index.html: names, sizes and times, folders first,
//! sortable, readable on a phone.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use super::files::{entries, Entry};
use super::visibility::Visibility;

/// `&`, `<`, `>`, `"` and `'` as entities, for text and attribute values alike.
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes everything in a path but unreserved characters and `/`.
pub(crate) fn percent_encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// What a listing is sorted by; folders come first whatever the order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SortKey {
    Name,
    Size,
    Time,
}

impl SortKey {
    const ALL: [(Self, &'static str, &'static str, &'static str); 3] = [
        (Self::Name, "name", "Name", ""),
        (Self::Size, "size", "Size", "size"),
        (Self::Time, "time", "Modified", "time"),
    ];
}

/// A listing's order, from the target's query: `?sort=name|size|time&order=asc|desc`
/// (Caddy's names); by name, ascending, when absent or not understood.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SortOrder {
    key: SortKey,
    descending: bool,
}

impl SortOrder {
    pub(crate) fn from_target(target: &str) -> Self {
        let mut order = Self {
            key: SortKey::Name,
            descending: false,
        };
        let query = target.split_once('?').map_or("", |(_, q)| q);
        for pair in query.split('#').next().unwrap_or("").split('&') {
            match pair.split_once('=') {
                Some(("sort", "size")) => order.key = SortKey::Size,
                Some(("sort", "time")) => order.key = SortKey::Time,
                Some(("order", "desc")) => order.descending = true,
                _ => {}
            }
        }
        order
    }

    fn sort(self, entries: &mut [Entry]) {
        entries.sort_by(|a, b| {
            let by_key = match self.key {
                SortKey::Name => a.name.cmp(&b.name),
                SortKey::Size => a.len.cmp(&b.len).then_with(|| a.name.cmp(&b.name)),
                SortKey::Time => a
                    .modified
                    .cmp(&b.modified)
                    .then_with(|| a.name.cmp(&b.name)),
            };
            let by_key = if self.descending {
                by_key.reverse()
            } else {
                by_key
            };
            b.is_dir.cmp(&a.is_dir).then(by_key)
        });
    }
}

/// Keeps the page readable on a phone: the time column goes when the screen is narrow.
const STYLE: &str = "body{font:16px/1.45 system-ui,sans-serif;margin:1rem auto;max-width:60rem;\
padding:0 .75rem;color:#222;background:#fff}h1{font-size:1.3rem;word-break:break-all}\
table{border-collapse:collapse;width:100%}th,td{padding:.45rem .5rem;text-align:left;\
border-bottom:1px solid #e4e4e4}th a{color:inherit}td a{display:block;word-break:break-all}\
.size{text-align:right;white-space:nowrap}.time{white-space:nowrap}\
@media(max-width:36rem){.time{display:none}}\
@media(prefers-color-scheme:dark){body{color:#ddd;background:#161616}th,td{border-color:#333}\
a{color:#8ab4f8}}";

/// The HTML page for the folder `dir`, shown at `url_path`: a table of names, sizes and
/// modification times, folders first, with a parent link and sortable columns.
pub(crate) fn listing(
    dir: &Path,
    url_path: &str,
    visibility: &Visibility,
    order: SortOrder,
) -> std::io::Result<String> {
    let mut entries = entries(dir, visibility)?;
    order.sort(&mut entries);
    let title = escape_html(url_path);
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Index of {title}</title><style>{STYLE}</style></head>\n\
         <body><h1>Index of {title}</h1>\n<table><thead><tr>"
    );
    for (key, name, label, class) in SortKey::ALL {
        // The current column's link flips the order; another's starts ascending.
        let descending = key == order.key && !order.descending;
        let direction = if descending { "desc" } else { "asc" };
        let mark = match (key == order.key, order.descending) {
            (false, _) => "",
            (true, false) => " \u{2191}",
            (true, true) => " \u{2193}",
        };
        let _ = write!(
            html,
            "<th class=\"{class}\"><a href=\"?sort={name}&amp;order={direction}\">{label}</a>{mark}</th>"
        );
    }
    html.push_str("</tr></thead>\n<tbody>\n");
    if url_path != "/" {
        html.push_str(
            "<tr><td><a href=\"../\">../</a></td><td class=\"size\"></td><td class=\"time\"></td></tr>\n",
        );
    }
    for entry in &entries {
        let slash = if entry.is_dir { "/" } else { "" };
        let size = match entry.is_dir {
            true => String::new(),
            false => format!(
                "<span title=\"{} bytes\">{}</span>",
                entry.len,
                readable_size(entry.len)
            ),
        };
        let time = entry.modified.map(utc_minute).unwrap_or_default();
        let _ = writeln!(
            html,
            "<tr><td><a href=\"{}{slash}\">{}{slash}</a></td><td class=\"size\">{size}</td>\
             <td class=\"time\">{time}</td></tr>",
            escape_html(&percent_encode_path(&entry.name)),
            escape_html(&entry.name)
        );
    }
    html.push_str("</tbody></table></body></html>\n");
    Ok(html)
}

/// `1023 B`, `1.5 KiB`, `12 MiB`: three significant figures at most.
fn readable_size(len: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = len as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    match unit {
        0 => format!("{len} B"),
        _ if value < 10.0 => format!("{value:.1} {}", UNITS[unit]),
        _ => format!("{value:.0} {}", UNITS[unit]),
    }
}

/// `2026-12-03 14:05 UTC`, in a `<time>` element that carries the full instant.
fn utc_minute(at: SystemTime) -> String {
    let secs = at
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = (rest / 3600, rest % 3600 / 60, rest % 60);
    format!(
        "<time datetime=\"{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z\">\
         {year:04}-{month:02}-{day:02} {hour:02}:{minute:02} UTC</time>"
    )
}

/// The proleptic Gregorian date of a day count from 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_and_encoded() {
        assert_eq!(
            escape_html("<a href='x'>&\""),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;"
        );
        assert_eq!(percent_encode_path("/a b/ü?#"), "/a%20b/%C3%BC%3F%23");
    }

    #[test]
    fn sizes_dates_and_orders() {
        assert_eq!(readable_size(0), "0 B");
        assert_eq!(readable_size(1023), "1023 B");
        assert_eq!(readable_size(1536), "1.5 KiB");
        assert_eq!(readable_size(5_000_000), "4.8 MiB");
        assert_eq!(readable_size(200 * 1024 * 1024), "200 MiB");
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_425), (2025, 12, 3));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        let at = UNIX_EPOCH + std::time::Duration::from_secs(1_764_770_700);
        assert!(
            utc_minute(at).contains(">2025-12-03 14:05 UTC<"),
            "{}",
            utc_minute(at)
        );
        let order = SortOrder::from_target("/d/?sort=size&order=desc");
        assert_eq!((order.key, order.descending), (SortKey::Size, true));
        let order = SortOrder::from_target("/d/?sort=../etc&order=sideways");
        assert_eq!((order.key, order.descending), (SortKey::Name, false));
        let entry = |name: &str, is_dir, len| Entry {
            name: name.into(),
            is_dir,
            len,
            modified: None,
        };
        let mut entries = vec![
            entry("b.txt", false, 1),
            entry("z", true, 0),
            entry("a.txt", false, 9),
            entry("c", true, 0),
        ];
        SortOrder::from_target("?sort=size&order=desc").sort(&mut entries);
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            ["z", "c", "a.txt", "b.txt"],
            "folders first, then by size"
        );
        SortOrder::from_target("").sort(&mut entries);
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["c", "z", "a.txt", "b.txt"]);
    }
}
