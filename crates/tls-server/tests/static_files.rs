//! `StaticFiles` on both servers, seen by our client: what an HTTPS file server must get right.
//! Every test runs once per driver.

mod common;

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use tls::{ClientConfig, ServerAuth, ServerConfig, TlsStream};
use tls_server::{RunningServer, StaticFiles, TlsServer};
use tls_testkit::{connect, Pki};

use common::{start, Driver, Service};

on_both_drivers!(
    files_arrive_intact_with_type_length_and_date,
    head_range_and_conditional_requests,
    keep_alive_serves_several_requests_on_one_connection_until_close,
    folders_show_index_html_or_an_escaped_listing,
    nothing_outside_the_root_can_be_reached,
    bad_requests_get_clear_status_codes,
    requests_smuggled_in_bodies_are_never_answered,
    secrets_dotfiles_and_special_files_are_never_served,
    pipelined_requests_are_answered_in_order,
    cached_files_never_go_stale,
    targets_are_read_as_rfc_9112_says,
    a_link_swapped_in_after_the_check_is_never_followed,
    removing_or_repointing_a_link_unpublishes_its_file,
    etags_and_every_precondition_of_rfc_9110,
    precompressed_siblings_go_to_clients_that_take_them,
    listings_show_sizes_and_times_folders_first_and_sort,
);

struct Site {
    pki: Pki,
    dir: tempfile::TempDir,
    server: Option<RunningServer>,
}

impl Site {
    fn new(driver: Driver) -> Self {
        Self::with(driver, |files, _| files)
    }

    /// A site whose `StaticFiles` is set up by `configure`, given the served folder.
    fn with(
        driver: Driver,
        configure: impl FnOnce(StaticFiles, &std::path::Path) -> StaticFiles,
    ) -> Self {
        let pki = Pki::new();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("www");
        std::fs::create_dir_all(root.join("docs/empty")).unwrap();
        std::fs::write(root.join("hello.txt"), "hello, world\n").unwrap();
        std::fs::write(root.join("docs/index.html"), "<p>docs</p>").unwrap();
        std::fs::write(root.join("docs/a <b>&c.txt"), "odd name").unwrap();
        std::fs::write(root.join("big.bin"), big_file()).unwrap();
        std::fs::write(dir.path().join("secret.txt"), "outside the root").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret.txt"), root.join("leak.txt")).unwrap();
        std::os::unix::fs::symlink(dir.path(), root.join("up")).unwrap();
        let config = ServerConfig::builder()
            .cert_chain(pki.server.chain(), pki.server.key())
            .build()
            .unwrap();
        let files = configure(StaticFiles::new(&root).unwrap(), &root);
        let server = start(TlsServer::builder(config), driver, Service::Files(files));
        Site {
            pki,
            dir,
            server: Some(server),
        }
    }

    fn connect(&self) -> TlsStream<TcpStream> {
        let client = ClientConfig::builder()
            .server_auth(ServerAuth::Roots(self.pki.roots()))
            .build()
            .unwrap();
        let addr = self.server.as_ref().unwrap().addr;
        client.connect("localhost", connect(addr)).unwrap()
    }

    fn get(&self, path: &str) -> Reply {
        fetch(&mut self.connect(), "GET", path, "")
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown(Duration::from_millis(100)).unwrap();
        }
    }
}

fn big_file() -> Vec<u8> {
    (0..5_000_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect()
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends one request and reads one response (by Content-Length), leaving the connection open.
fn fetch(tls: &mut TlsStream<TcpStream>, method: &str, path: &str, headers: &str) -> Reply {
    write!(
        tls,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{headers}\r\n"
    )
    .unwrap();
    tls.flush().unwrap();
    read_reply(tls, method == "HEAD")
}

fn read_reply(tls: &mut TlsStream<TcpStream>, head_only: bool) -> Reply {
    let mut line = String::new();
    tls.read_line(&mut line).unwrap();
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("status line {line:?}"));
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        tls.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap();
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    let mut reply = Reply {
        status,
        headers,
        body: Vec::new(),
    };
    let len: usize = reply
        .header("content-length")
        .map_or(0, |v| v.parse().unwrap());
    if !head_only && status != 304 {
        reply.body.resize(len, 0);
        tls.read_exact(&mut reply.body).unwrap();
    }
    reply
}

fn files_arrive_intact_with_type_length_and_date(driver: Driver) {
    let site = Site::new(driver);
    let reply = site.get("/hello.txt");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, b"hello, world\n");
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert!(reply.header("last-modified").is_some());
    let big = site.get("/big.bin");
    assert_eq!(big.status, 200);
    assert!(big.body == big_file(), "5 MB file differs");
    assert_eq!(big.header("content-type"), Some("application/octet-stream"));
}

fn head_range_and_conditional_requests(driver: Driver) {
    let site = Site::new(driver);
    let mut tls = site.connect();
    let head = fetch(&mut tls, "HEAD", "/big.bin", "");
    assert_eq!(
        (head.status, head.header("content-length")),
        (200, Some("5000000"))
    );
    assert!(head.body.is_empty());

    let part = fetch(&mut tls, "GET", "/big.bin", "Range: bytes=1000-1999\r\n");
    assert_eq!(part.status, 206);
    assert_eq!(
        part.header("content-range"),
        Some("bytes 1000-1999/5000000")
    );
    assert!(part.body == big_file()[1000..2000]);
    let tail = fetch(&mut tls, "GET", "/hello.txt", "Range: bytes=-6\r\n");
    assert_eq!((tail.status, tail.text().as_str()), (206, "world\n"));
    let beyond = fetch(&mut tls, "GET", "/hello.txt", "Range: bytes=100-\r\n");
    assert_eq!(beyond.status, 416);
    assert_eq!(beyond.header("content-range"), Some("bytes */13"));

    let modified = fetch(&mut tls, "HEAD", "/hello.txt", "");
    let stamp = modified.header("last-modified").unwrap().to_owned();
    let since = format!("If-Modified-Since: {stamp}\r\n");
    assert_eq!(fetch(&mut tls, "GET", "/hello.txt", &since).status, 304);
    let older = "If-Modified-Since: Thu, 01 Jan 1998 00:00:00 GMT\r\n";
    assert_eq!(fetch(&mut tls, "GET", "/hello.txt", older).status, 200);
}

fn keep_alive_serves_several_requests_on_one_connection_until_close(driver: Driver) {
    let site = Site::new(driver);
    let mut tls = site.connect();
    for _ in 0..3 {
        let reply = fetch(&mut tls, "GET", "/hello.txt", "");
        assert_eq!(
            (reply.status, reply.header("connection")),
            (200, Some("keep-alive"))
        );
    }
    let last = fetch(&mut tls, "GET", "/hello.txt", "Connection: close\r\n");
    assert_eq!(last.header("connection"), Some("close"));
    let mut rest = Vec::new();
    tls.read_to_end(&mut rest).unwrap();
    assert!(
        rest.is_empty(),
        "the server ends with close_notify after Connection: close"
    );
}

fn folders_show_index_html_or_an_escaped_listing(driver: Driver) {
    let site = Site::new(driver);
    let redirect = site.get("/docs");
    assert_eq!(
        (redirect.status, redirect.header("location")),
        (301, Some("/docs/"))
    );
    assert_eq!(site.get("/docs/").text(), "<p>docs</p>");
    let html = site.get("/").text();
    assert!(
        html.contains(r#"<a href="hello.txt">hello.txt</a>"#),
        "{html}"
    );
    assert!(html.contains(r#"<a href="docs/">docs/</a>"#), "{html}");
    assert!(site
        .get("/docs/empty/")
        .text()
        .contains(r#"<a href="../">"#));
    // Without index.html, the odd name is listed escaped, and its link works.
    std::fs::remove_file(site.dir.path().join("www/docs/index.html")).unwrap();
    let html = site.get("/docs/").text();
    assert!(html.contains("a &lt;b&gt;&amp;c.txt</a>"), "{html}");
    assert!(html.contains(r#"href="a%20%3Cb%3E%26c.txt""#), "{html}");
    assert_eq!(site.get("/docs/a%20%3Cb%3E%26c.txt").text(), "odd name");
}

fn nothing_outside_the_root_can_be_reached(driver: Driver) {
    let site = Site::new(driver);
    for path in [
        "/../secret.txt",
        "/docs/..%2f..%2fsecret.txt",
        "/%2e%2e/secret.txt",
        "/hello.txt%00.html",
        "/..\\secret.txt",
    ] {
        let reply = site.get(path);
        assert_eq!(reply.status, 400, "{path}");
        assert!(!reply.text().contains("outside the root"));
    }
    for path in ["/leak.txt", "/up/secret.txt", "/missing.txt"] {
        let reply = site.get(path);
        assert_eq!(reply.status, 404, "{path}");
        assert!(!reply.text().contains("outside the root"));
    }
}

/// Issue 26, item 8: the path was checked with `lstat` and then opened following links, so a
/// symbolic link renamed over a checked file in between was followed out of the root. A racer
/// swaps `swap.txt` between a regular file and a link to the secret outside the root while
/// requests keep asking for it.
fn a_link_swapped_in_after_the_check_is_never_followed(driver: Driver) {
    use std::sync::atomic::{AtomicBool, Ordering};
    let site = Site::new(driver);
    let root = site.dir.path().join("www");
    let secret = site.dir.path().join("secret.txt");
    std::fs::write(root.join("swap.txt"), "public").unwrap();
    std::fs::write(root.join(".master"), "public").unwrap();
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let racer = {
        let (root, stop) = (root.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut swaps = 0u64;
            while !stop.load(Ordering::Relaxed) {
                // Each name is made aside (a hard link: no data written, so the loop is fast)
                // and renamed over swap.txt: each swap is atomic.
                std::fs::hard_link(root.join(".master"), root.join(".file")).unwrap();
                std::fs::rename(root.join(".file"), root.join("swap.txt")).unwrap();
                std::os::unix::fs::symlink(&secret, root.join(".link")).unwrap();
                std::fs::rename(root.join(".link"), root.join("swap.txt")).unwrap();
                swaps += 1;
            }
            swaps
        })
    };
    let mut tls = site.connect();
    let (mut asked, mut public, started) = (0, 0, std::time::Instant::now());
    while started.elapsed() < Duration::from_secs(3) {
        let reply = fetch(&mut tls, "GET", "/swap.txt", "");
        asked += 1;
        assert!(
            !reply.text().contains("outside the root"),
            "the secret was served, request {asked}"
        );
        public += usize::from(reply.status == 200);
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = racer.join().unwrap();
    assert!(
        public > 0 && swaps > 1000,
        "no race ran: {asked} requests, {public} answered, {swaps} swaps"
    );
}

/// Issue 26, item 9: a file reached through a link stayed cached after the link was removed
/// or re-pointed (`/latest.txt → v1.txt` kept serving v1.txt).
fn removing_or_repointing_a_link_unpublishes_its_file(driver: Driver) {
    let site = Site::with(driver, |files, root| {
        std::fs::write(root.join("v1.txt"), "version one").unwrap();
        std::fs::write(root.join("v2.txt"), "version two").unwrap();
        std::os::unix::fs::symlink("v1.txt", root.join("latest.txt")).unwrap();
        files
    });
    let root = site.dir.path().join("www");
    // Files are cached once their last change is 2 s old.
    std::thread::sleep(Duration::from_millis(2100));
    for _ in 0..2 {
        assert_eq!(site.get("/latest.txt").text(), "version one");
    }
    std::os::unix::fs::symlink("v2.txt", root.join(".next")).unwrap();
    std::fs::rename(root.join(".next"), root.join("latest.txt")).unwrap();
    assert_eq!(site.get("/latest.txt").text(), "version two");
    std::fs::remove_file(root.join("latest.txt")).unwrap();
    assert_eq!(site.get("/latest.txt").status, 404);
    assert_eq!(site.get("/v1.txt").text(), "version one");
}

/// Issue 26: `://` in a query made the rest of the query the path (`/missing.txt?x=://h/hello.txt`
/// served hello.txt), and `//docs` redirected to `//docs/`, which a browser reads as another host.
fn targets_are_read_as_rfc_9112_says(driver: Driver) {
    let site = Site::new(driver);
    let smuggled = site.get("/missing.txt?x=://h/hello.txt");
    assert_eq!(smuggled.status, 404);
    assert!(!smuggled.text().contains("hello, world"));
    let smuggled = site.get("/docs?x=://h/up/secret.txt");
    assert!(!smuggled.text().contains("outside the root"));
    let folder = site.get("//docs");
    assert_eq!(
        (folder.status, folder.header("location")),
        (301, Some("/docs/"))
    );
    let folder = site.get("/%2F%2Fdocs");
    assert_eq!(
        (folder.status, folder.header("location")),
        (301, Some("/docs/"))
    );
    // Absolute form still works, its query included.
    assert_eq!(site.get("https://localhost/hello.txt?x=1").status, 200);
}

fn bad_requests_get_clear_status_codes(driver: Driver) {
    let site = Site::new(driver);
    let mut tls = site.connect();
    let delete = fetch(&mut tls, "DELETE", "/hello.txt", "");
    assert_eq!(
        (delete.status, delete.header("allow")),
        (405, Some("GET, HEAD"))
    );
    // 405 leaves the connection usable.
    assert_eq!(fetch(&mut tls, "GET", "/hello.txt", "").status, 200);

    let body = fetch(&mut site.connect(), "GET", "/", "Content-Length: 5\r\n");
    assert_eq!(body.status, 413);
    let long = format!("/{}", "a".repeat(9000));
    assert_eq!(site.get(&long).status, 414);
    let many = "X-Filler: 0123456789012345678901234567890123456789\r\n".repeat(400);
    assert_eq!(fetch(&mut site.connect(), "GET", "/", &many).status, 431);
    let mut garbage = site.connect();
    garbage.write_all(b"\x00\x01\x02 nonsense\r\n\r\n").unwrap();
    assert_eq!(read_reply(&mut garbage, false).status, 400);
}

/// Reads everything the server sends until it closes; the connection must end, cleanly or by
/// a reset, but never with a further response.
fn rest_of_connection(tls: &mut TlsStream<TcpStream>) -> String {
    let mut rest = Vec::new();
    let ended = tls.read_to_end(&mut rest);
    let rest = String::from_utf8_lossy(&rest).into_owned();
    if let Err(e) = ended {
        assert_ne!(
            e.kind(),
            std::io::ErrorKind::WouldBlock,
            "the server kept the connection open"
        );
        assert_ne!(
            e.kind(),
            std::io::ErrorKind::TimedOut,
            "the server kept the connection open"
        );
    }
    rest
}

/// A request inside a body the server does not read must never be answered: the server
/// closes after answering a request with a body, and refuses ambiguous body framing.
fn requests_smuggled_in_bodies_are_never_answered(driver: Driver) {
    let site = Site::new(driver);
    let smuggled = "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let cases = [
        // The body is not read (405); a server that kept the connection would parse it next.
        (
            format!("POST /hello.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n{smuggled}", smuggled.len()),
            405,
        ),
        (
            format!("GET /hello.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n{smuggled}", smuggled.len()),
            413,
        ),
        // Front end and back end disagree on where the body ends: refuse.
        (
            format!("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{smuggled}"),
            400,
        ),
        (
            format!("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nContent-Length: {}\r\n\r\n{smuggled}", smuggled.len()),
            400,
        ),
        (
            format!("GET / HTTP/1.1\r\nHost: localhost\r\nContent-Length: zero\r\n\r\n{smuggled}"),
            400,
        ),
    ];
    for (request, status) in cases {
        let mut tls = site.connect();
        tls.write_all(request.as_bytes()).unwrap();
        let reply = read_reply(&mut tls, false);
        assert_eq!(reply.status, status, "{request:?}");
        assert_eq!(reply.header("connection"), Some("close"), "{request:?}");
        let rest = rest_of_connection(&mut tls);
        assert!(
            !rest.contains("HTTP/1.1"),
            "smuggled request answered: {rest:?}"
        );
    }
}

/// The verifier database, its SQLite companions, key files and dotfiles sit inside the served
/// folder (as in a careless quickstart): none of them is listed or served, under any name.
fn secrets_dotfiles_and_special_files_are_never_served(driver: Driver) {
    let plant = |root: &std::path::Path| {
        for (name, body) in [
            ("users.db", "verifiers"),
            ("users.db-wal", "wal"),
            ("server.key", "-----BEGIN PRIVATE KEY-----"),
            (".env", "PASSWORD=hunter2"),
            (".git/config", "[core]"),
            ("docs/.hidden.txt", "hidden"),
        ] {
            let path = root.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, body).unwrap();
        }
        std::fs::hard_link(root.join("users.db"), root.join("copy.db")).unwrap();
        std::os::unix::fs::symlink(root.join("server.key"), root.join("key-link.pem")).unwrap();
        let fifo = std::process::Command::new("mkfifo")
            .arg(root.join("pipe"))
            .status()
            .unwrap();
        assert!(fifo.success());
    };
    let site = Site::with(driver, |files, root| {
        plant(root);
        let mut files = files;
        for secret in tls::srp::SqliteVerifierDb::files(root.join("users.db")) {
            files = files.exclude(secret).unwrap();
        }
        files.exclude(root.join("server.key")).unwrap()
    });
    for path in [
        "/users.db",
        "/users.db-wal",
        "/users.db-shm",
        "/copy.db",
        "/server.key",
        "/key-link.pem",
        "/.env",
        "/.git/config",
        "/.git/",
        "/docs/.hidden.txt",
        "/docs/%2Ehidden.txt",
    ] {
        let reply = site.get(path);
        assert_eq!(reply.status, 404, "{path}: {}", reply.text());
    }
    // A FIFO is refused at once instead of hanging the connection's thread.
    let started = std::time::Instant::now();
    assert_eq!(site.get("/pipe").status, 403);
    assert!(started.elapsed() < Duration::from_secs(2));
    let listing = site.get("/").text();
    assert!(listing.contains("hello.txt"), "{listing}");
    for hidden in [
        "users.db",
        "copy.db",
        "server.key",
        "key-link",
        ".env",
        ".git",
        "pipe",
    ] {
        assert!(!listing.contains(hidden), "{hidden} listed: {listing}");
    }
    assert_eq!(
        site.get("/hello.txt").status,
        200,
        "ordinary files still served"
    );

    // Dotfiles are the user's to opt in to; excluded secrets stay out even then.
    let open = Site::with(driver, |files, root| {
        plant(root);
        files.hidden(true).exclude(root.join("users.db")).unwrap()
    });
    assert_eq!(open.get("/.env").text(), "PASSWORD=hunter2");
    assert!(open.get("/").text().contains(".git/"));
    assert_eq!(open.get("/users.db").status, 404);
    assert_eq!(open.get("/copy.db").status, 404);
}

fn pipelined_requests_are_answered_in_order(driver: Driver) {
    let site = Site::new(driver);
    let mut tls = site.connect();
    // Three requests in one write: the server must not lose what it read past the first head.
    let one = "GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n";
    let two = "HEAD /docs/ HTTP/1.1\r\nHost: x\r\n\r\n";
    let three = "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    write!(tls, "{one}{two}{three}").unwrap();
    tls.flush().unwrap();
    let first = read_reply(&mut tls, false);
    assert_eq!(
        (first.status, first.text().as_str()),
        (200, "hello, world\n")
    );
    let second = read_reply(&mut tls, true);
    assert_eq!(second.status, 200);
    assert_eq!(second.header("content-length"), Some("11"));
    assert_eq!(read_reply(&mut tls, false).status, 404);
}

/// Small files are kept in memory once they have not changed for two seconds; whatever
/// happens to them afterwards, a request gets what is on disk.
fn cached_files_never_go_stale(driver: Driver) {
    let site = Site::new(driver);
    let root = site.dir.path().join("www");
    let path = root.join("cached.txt");
    std::fs::write(&path, "first version\n").unwrap();
    std::fs::write(root.join("other.txt"), "other file ok\n").unwrap();
    std::thread::sleep(Duration::from_millis(2200));
    let mut tls = site.connect();
    for _ in 0..2 {
        assert_eq!(
            fetch(&mut tls, "GET", "/cached.txt", "").text(),
            "first version\n"
        );
    }
    // Rewritten in place with the same size.
    std::fs::write(&path, "econd version\n").unwrap();
    assert_eq!(
        fetch(&mut tls, "GET", "/cached.txt", "").text(),
        "econd version\n"
    );
    // Replaced by another file of the same size (a save by rename).
    std::fs::rename(root.join("other.txt"), &path).unwrap();
    assert_eq!(
        fetch(&mut tls, "GET", "/cached.txt", "").text(),
        "other file ok\n"
    );
    // Replaced by a link leading out of the root: refused, not served from memory.
    std::fs::remove_file(&path).unwrap();
    std::os::unix::fs::symlink(site.dir.path().join("secret.txt"), &path).unwrap();
    assert_eq!(fetch(&mut tls, "GET", "/cached.txt", "").status, 404);
    // Gone.
    std::fs::remove_file(&path).unwrap();
    assert_eq!(fetch(&mut tls, "GET", "/cached.txt", "").status, 404);
    // A range of a cached file.
    std::fs::write(&path, "0123456789").unwrap();
    std::thread::sleep(Duration::from_millis(2200));
    fetch(&mut tls, "GET", "/cached.txt", "");
    let part = fetch(&mut tls, "GET", "/cached.txt", "Range: bytes=2-4\r\n");
    assert_eq!((part.status, part.text().as_str()), (206, "234"));
}

fn etags_and_every_precondition_of_rfc_9110(driver: Driver) {
    let site = Site::new(driver);
    let mut tls = site.connect();
    let first = fetch(&mut tls, "GET", "/hello.txt", "");
    let etag = first.header("etag").expect("an ETag").to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    let big_etag = fetch(&mut tls, "HEAD", "/big.bin", "");
    assert_ne!(big_etag.header("etag"), Some(etag.as_str()));

    let same = format!("If-None-Match: \"other\", {etag}\r\n");
    let not_modified = fetch(&mut tls, "GET", "/hello.txt", &same);
    assert_eq!(not_modified.status, 304);
    assert_eq!(not_modified.header("etag"), Some(etag.as_str()));
    let weak = format!("If-None-Match: W/{etag}\r\n");
    assert_eq!(fetch(&mut tls, "GET", "/hello.txt", &weak).status, 304);
    // If-None-Match outranks If-Modified-Since.
    let stamp = first.header("last-modified").unwrap();
    let both = format!("If-None-Match: \"other\"\r\nIf-Modified-Since: {stamp}\r\n");
    assert_eq!(fetch(&mut tls, "GET", "/hello.txt", &both).status, 200);
    let if_match = format!("If-Match: {etag}\r\n");
    assert_eq!(fetch(&mut tls, "GET", "/hello.txt", &if_match).status, 200);
    let stale = fetch(&mut tls, "GET", "/hello.txt", "If-Match: \"other\"\r\n");
    assert_eq!(stale.status, 412);
    let old = "If-Unmodified-Since: Thu, 01 Jan 1998 00:00:00 GMT\r\n";
    assert_eq!(fetch(&mut tls, "GET", "/hello.txt", old).status, 412);

    // If-Range: the range for the same version, the whole file for another.
    let big = fetch(&mut tls, "HEAD", "/big.bin", "");
    let big_tag = big.header("etag").unwrap().to_owned();
    let current = format!("Range: bytes=0-9\r\nIf-Range: {big_tag}\r\n");
    let part = fetch(&mut tls, "GET", "/big.bin", &current);
    assert_eq!((part.status, part.body.len()), (206, 10));
    let other = "Range: bytes=0-9\r\nIf-Range: \"other\"\r\n";
    let whole = fetch(&mut tls, "GET", "/big.bin", other);
    assert_eq!((whole.status, whole.body.len()), (200, 5_000_000));
    let dated = format!(
        "Range: bytes=0-9\r\nIf-Range: {}\r\n",
        big.header("last-modified").unwrap()
    );
    assert_eq!(fetch(&mut tls, "GET", "/big.bin", &dated).status, 206);

    // A new version gets a new tag, and the old tag no longer matches.
    std::fs::write(
        site.dir.path().join("www/hello.txt"),
        "hello again, world\n",
    )
    .unwrap();
    let changed = fetch(&mut tls, "GET", "/hello.txt", &same);
    assert_eq!(
        (changed.status, changed.text().as_str()),
        (200, "hello again, world\n")
    );
    assert_ne!(changed.header("etag"), Some(etag.as_str()));
}

fn precompressed_siblings_go_to_clients_that_take_them(driver: Driver) {
    let plant = |root: &std::path::Path| {
        std::fs::write(root.join("app.js"), "let plain = 1;\n").unwrap();
        std::fs::write(root.join("app.js.gz"), "GZIP BYTES").unwrap();
        std::fs::write(root.join("app.js.br"), "BROTLI BYTES").unwrap();
        std::fs::write(root.join("style.css"), "p{}").unwrap();
        std::fs::write(root.join(".style.css.gz"), "hidden").unwrap();
        std::fs::write(root.join("page.html"), "<p>page</p>").unwrap();
        std::fs::write(root.join("page.html.br"), "EXCLUDED").unwrap();
        std::fs::write(root.join("page.html.gz"), "PAGE GZIP").unwrap();
        // A sibling that is a link out of the root is never followed.
        std::fs::write(root.join("../outside.gz"), "OUTSIDE").unwrap();
        std::fs::write(root.join("linked.txt"), "linked").unwrap();
        std::os::unix::fs::symlink(root.join("../outside.gz"), root.join("linked.txt.gz")).unwrap();
    };
    let site = Site::with(driver, |files, root| {
        plant(root);
        files.exclude(root.join("page.html.br")).unwrap()
    });
    let mut tls = site.connect();
    let get = |tls: &mut TlsStream<TcpStream>, path: &str, accept: &str| {
        let header = match accept {
            "" => String::new(),
            accept => format!("Accept-Encoding: {accept}\r\n"),
        };
        fetch(tls, "GET", path, &header)
    };
    let br = get(&mut tls, "/app.js", "gzip, deflate, br");
    assert_eq!(br.text(), "BROTLI BYTES");
    assert_eq!(br.header("content-encoding"), Some("br"));
    assert_eq!(
        br.header("content-type"),
        Some("text/javascript; charset=utf-8"),
        "labelled as the file asked for"
    );
    assert_eq!(br.header("vary"), Some("Accept-Encoding"));
    let gzip = get(&mut tls, "/app.js", "gzip");
    assert_eq!(
        (gzip.text().as_str(), gzip.header("content-encoding")),
        ("GZIP BYTES", Some("gzip"))
    );
    assert_ne!(
        gzip.header("etag"),
        br.header("etag"),
        "each coding has its own tag"
    );
    let plain = get(&mut tls, "/app.js", "");
    assert_eq!(
        (plain.text().as_str(), plain.header("content-encoding")),
        ("let plain = 1;\n", None)
    );
    assert_eq!(plain.header("vary"), Some("Accept-Encoding"));
    let refused = get(&mut tls, "/app.js", "br;q=0, gzip;q=0");
    assert_eq!(refused.text(), "let plain = 1;\n");
    // Ranges and preconditions apply to the coding sent.
    let part = fetch(
        &mut tls,
        "GET",
        "/app.js",
        "Accept-Encoding: gzip\r\nRange: bytes=0-3\r\n",
    );
    assert_eq!((part.status, part.text().as_str()), (206, "GZIP"));
    let tag = format!(
        "Accept-Encoding: gzip\r\nIf-None-Match: {}\r\n",
        gzip.header("etag").unwrap()
    );
    assert_eq!(fetch(&mut tls, "GET", "/app.js", &tag).status, 304);
    // Hidden, excluded and out-of-root siblings are passed over.
    assert_eq!(get(&mut tls, "/style.css", "gzip").text(), "p{}");
    assert_eq!(get(&mut tls, "/page.html", "br, gzip").text(), "PAGE GZIP");
    assert_eq!(get(&mut tls, "/page.html", "br").text(), "<p>page</p>");
    assert_eq!(get(&mut tls, "/linked.txt", "gzip").text(), "linked");
    // Twice, to go through the small-file cache too.
    for _ in 0..2 {
        assert_eq!(get(&mut tls, "/app.js", "br").text(), "BROTLI BYTES");
    }

    let off = Site::with(driver, |files, root| {
        plant(root);
        files.precompressed(false)
    });
    let plain = off.get("/app.js");
    assert!(plain.header("vary").is_none());
    let mut tls = off.connect();
    assert_eq!(
        get(&mut tls, "/app.js", "br, gzip").text(),
        "let plain = 1;\n"
    );
}

fn listings_show_sizes_and_times_folders_first_and_sort(driver: Driver) {
    let site = Site::new(driver);
    let html = site.get("/").text();
    assert!(
        html.contains("name=\"viewport\""),
        "readable on a phone: {html}"
    );
    let position = |html: &str, name: &str| {
        html.find(&format!(">{name}</a>"))
            .unwrap_or_else(|| panic!("{name} not listed: {html}"))
    };
    // Folders first (docs/, up/), then files by name.
    let order = |html: &str| {
        let mut names = ["docs/", "up/", "big.bin", "hello.txt", "leak.txt"];
        names.sort_by_key(|name| position(html, name));
        names
    };
    assert_eq!(
        order(&html),
        ["docs/", "up/", "big.bin", "hello.txt", "leak.txt"]
    );
    assert!(html.contains("title=\"5000000 bytes\">4.8 MiB<"), "{html}");
    assert!(html.contains("title=\"13 bytes\">13 B<"), "{html}");
    assert!(html.contains(" UTC</time>"), "{html}");
    let by_size = site.get("/?sort=size&order=desc").text();
    assert_eq!(order(&by_size)[2..], ["big.bin", "leak.txt", "hello.txt"]);
    // The column sorted by links to the other direction.
    assert!(
        by_size.contains("href=\"?sort=size&amp;order=asc\""),
        "{by_size}"
    );

    // With index_html(false), a folder's index.html is listed, not served.
    let listed = Site::with(driver, |files, _| files.index_html(false));
    let docs = listed.get("/docs/").text();
    assert!(docs.contains(">index.html</a>"), "{docs}");
    assert_eq!(listed.get("/docs/index.html").text(), "<p>docs</p>");
}
