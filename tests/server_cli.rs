//! `tls server`, the project's main job, against curl, Python, OpenSSL and our own client.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use tls_testkit::{peer, run, succeeded, PeerProcess, Pki};

struct Served {
    _process: PeerProcess,
    port: u16,
    sha256: String,
    /// As printed for curl: `sha256//<base64 of the SPKI's SHA-256>`.
    curl_pin: String,
    /// As printed for Chromium: `--ignore-certificate-errors-spki-list=<same base64>`.
    chromium_flag: String,
    dir: tempfile::TempDir,
}

/// Starts `tls server` on port 0 over a folder with a few files; `args` come before HOST:PORT.
/// The certificate it makes for itself is kept in `data/` inside the served folder (which
/// must never serve it).
fn start(args: &[&str]) -> Served {
    start_keeping_in(args, None)
}

/// [`start`], keeping the server's own certificate in `data` (the XDG data folder) when given.
fn start_keeping_in(args: &[&str], data: Option<&Path>) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let data = data.map_or_else(|| dir.path().join("data"), Path::to_path_buf);
    std::fs::write(dir.path().join("hello.txt"), "hello from tls server\n").unwrap();
    let blob: Vec<u8> = (0..1_500_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(dir.path().join("blob.bin"), blob).unwrap();
    let mut process = PeerProcess::spawn(
        Command::new(env!("CARGO_BIN_EXE_tls"))
            .arg("server")
            .arg("-d")
            .arg(dir.path())
            .args(args)
            .arg("127.0.0.1:0")
            .env("TLS_LOG", "warn")
            .env("XDG_DATA_HOME", &data)
            .stdin(Stdio::null())
            .stdout(Stdio::piped()),
    );
    let mut out = BufReader::new(process.0.stdout.take().unwrap());
    let mut lines: Vec<String> = Vec::new();
    // Up to `Serving DIR on https://HOST:PORT/` (after `Serving pre-shared key …`, say).
    while !lines
        .last()
        .is_some_and(|l| l.starts_with("Serving ") && l.contains(" on https://"))
    {
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "{lines:?}");
        lines.push(line.trim_end().to_owned());
    }
    // A server with a certificate prints its fingerprints and pins first (a PSK-only one none).
    let printed = |prefix: &str| {
        let found = lines.iter().find_map(|l| l.strip_prefix(prefix));
        found.unwrap_or_default().to_owned()
    };
    let sha256 = printed("Fingerprint SHA-256: ");
    let curl_pin = printed("curl pin: --pinnedpubkey ");
    let chromium_flag = printed("Chromium pin: ");
    if lines[0].starts_with("Fingerprint SHA-1: ") {
        assert!(!sha256.is_empty() && !curl_pin.is_empty(), "{lines:?}");
        assert!(
            chromium_flag.starts_with("--ignore-certificate-errors-spki-list="),
            "{lines:?}"
        );
    }
    let url = lines[lines.len() - 1].rsplit(' ').next().unwrap();
    let port = url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    Served {
        _process: process,
        port,
        sha256,
        curl_pin,
        chromium_flag,
        dir,
    }
}

/// Issue 26, item 17: the certificate made for the server was new at every start, so a pin
/// taken from what the server printed broke at the first restart. It is kept now (key 0600 in
/// a 0700 folder, never served), reused, and `--ephemeral` brings the old way back.
#[test]
fn the_self_signed_default_survives_a_restart() {
    use std::os::unix::fs::PermissionsExt;
    let data = tempfile::tempdir().unwrap();
    let first = start_keeping_in(&[], Some(data.path()));
    let folder = data.path().join("tlslite/server");
    let key = folder.join("127.0.0.1.key.pem");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!((mode(&key), mode(&folder)), (0o600, 0o700));
    let again = start_keeping_in(&[], Some(data.path()));
    assert_eq!(again.sha256, first.sha256, "a new key after a restart");
    // The pin printed by the first start still reaches the second.
    let out = run(
        Command::new(env!("CARGO_BIN_EXE_tls")).args([
            "client",
            "--fingerprint",
            &first.sha256,
            "--get",
            "/hello.txt",
            &format!("localhost:{}", again.port),
        ]),
        b"",
    );
    assert!(succeeded(&out).ends_with("hello from tls server\n"));
    let ephemeral = start_keeping_in(&["--ephemeral"], Some(data.path()));
    assert_ne!(ephemeral.sha256, first.sha256);
    // Kept inside the served folder, the key is still never served.
    let inside = start(&[]);
    let out = run(
        Command::new(env!("CARGO_BIN_EXE_tls")).args([
            "client",
            "--fingerprint",
            &inside.sha256,
            "--get",
            "/data/tlslite/server/127.0.0.1.key.pem",
            &format!("localhost:{}", inside.port),
        ]),
        b"",
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("PRIVATE KEY"));
    // A key others can read is not the server's own any more: refused, with the way out.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    // Under `timeout`: a server that starts anyway would otherwise hold the test forever.
    let refused = run(
        Command::new("timeout")
            .arg("20")
            .arg(env!("CARGO_BIN_EXE_tls"))
            .args(["server", "127.0.0.1:0"])
            .env("XDG_DATA_HOME", data.path()),
        b"",
    );
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("read by others"), "{said}");
}

fn file(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap()
}

#[test]
fn our_client_pins_the_self_signed_default_and_fetches_a_file() {
    let served = start(&[]);
    let out = run(
        Command::new(env!("CARGO_BIN_EXE_tls")).args([
            "client",
            "--fingerprint",
            &served.sha256,
            "--alpn",
            "http/1.1",
            "--get",
            "/hello.txt",
            &format!("localhost:{}", served.port),
        ]),
        b"",
    );
    let stdout = succeeded(&out);
    assert!(stdout.contains("ALPN: http/1.1"), "{stdout}");
    assert!(stdout.ends_with("hello from tls server\n"), "{stdout}");
}

#[test]
fn curl_fetches_files_ranges_heads_listings_and_404s() {
    let Some(curl) = peer("curl") else { return };
    let served = start(&[]);
    let base = format!("https://localhost:{}", served.port);
    let curl_out = |args: &[&str]| {
        run(
            Command::new(&curl)
                .args(["--silent", "--show-error", "--insecure", "--max-time", "10"])
                .args(args),
            b"",
        )
    };
    let blob = curl_out(&[&format!("{base}/blob.bin")]);
    assert!(
        blob.status.success(),
        "{}",
        String::from_utf8_lossy(&blob.stderr)
    );
    assert!(blob.stdout == file(served.dir.path(), "blob.bin"));
    // The printed pin is the one curl computes for the served key: pinned, curl connects;
    // with another key's pin, it refuses (exit 90).
    let pinned = curl_out(&[
        "--pinnedpubkey",
        &served.curl_pin,
        &format!("{base}/hello.txt"),
    ]);
    assert_eq!(
        String::from_utf8_lossy(&pinned.stdout),
        "hello from tls server\n"
    );
    let other = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let refused = curl_out(&["--pinnedpubkey", other, &format!("{base}/hello.txt")]);
    assert_eq!(refused.status.code(), Some(90));
    let range = curl_out(&["--range", "10-19", &format!("{base}/blob.bin")]);
    assert_eq!(range.stdout, file(served.dir.path(), "blob.bin")[10..20]);
    let head = curl_out(&["--head", &format!("{base}/hello.txt")]);
    let head = String::from_utf8_lossy(&head.stdout).to_lowercase();
    assert!(
        // curl takes HTTP/2 when the server offers it, as it does by default.
        head.starts_with("http/2 200") && head.contains("content-length: 22"),
        "{head}"
    );
    let listing = String::from_utf8_lossy(&curl_out(&[&format!("{base}/")]).stdout).into_owned();
    assert!(
        listing.contains("blob.bin") && listing.contains("hello.txt"),
        "{listing}"
    );
    let missing = curl_out(&[
        "--write-out",
        "%{http_code}",
        "--output",
        "/dev/null",
        &format!("{base}/nope"),
    ]);
    assert_eq!(missing.stdout, b"404");
    let escape = curl_out(&[
        "--path-as-is",
        "--write-out",
        "%{http_code}",
        "--output",
        "/dev/null",
        &format!("{base}/../../etc/passwd"),
    ]);
    assert_eq!(escape.stdout, b"400");
    // Two URLs in one curl run reuse one connection (keep-alive).
    let both = curl_out(&[
        "--verbose",
        &format!("{base}/hello.txt"),
        &format!("{base}/hello.txt"),
    ]);
    let log = String::from_utf8_lossy(&both.stderr);
    assert!(
        log.contains("Re-using existing connection") || log.contains("Reusing existing"),
        "{log}"
    );
    assert_eq!(
        both.stdout,
        b"hello from tls server\nhello from tls server\n"
    );
}

#[test]
fn python_http_client_and_openssl_s_client() {
    let served = start(&[]);
    if let Some(python) = peer("python3") {
        let script = r#"
import http.client, ssl, sys
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
conn = http.client.HTTPSConnection("127.0.0.1", int(sys.argv[1]), context=ctx, timeout=10)
for _ in range(2):
    conn.request("GET", "/hello.txt")
    r = conn.getresponse()
    sys.stdout.write(f"{r.status} {r.read().decode()}")
der = conn.sock.getpeercert(binary_form=True)
import hashlib
print(hashlib.sha256(der).hexdigest())
"#;
        let out = run(
            Command::new(python)
                .arg("-c")
                .arg(script)
                .arg(served.port.to_string()),
            b"",
        );
        let stdout = succeeded(&out);
        assert_eq!(
            stdout,
            format!(
                "200 hello from tls server\n200 hello from tls server\n{}\n",
                served.sha256
            )
        );
    }
    if let Some(openssl) = peer("openssl") {
        let out = run(
            Command::new(openssl).args([
                "s_client",
                "-connect",
                &format!("127.0.0.1:{}", served.port),
                "-ign_eof",
                "-servername",
                "localhost",
            ]),
            b"GET /hello.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("HTTP/1.1 200 OK") && stdout.contains("hello from tls server"),
            "{stdout}"
        );
    }
}

/// What browsers and tools rely on, seen by curl and Python: a `.gz` sibling decoded by curl
/// `--compressed` (and never sent to a client that did not ask), ETags that Python's client
/// gets 304 with, and a listing with sizes.
#[test]
fn curl_and_python_get_precompressed_files_etags_and_listings() {
    let (Some(curl), Some(python)) = (peer("curl"), peer("python3")) else {
        return;
    };
    let served = start(&[]);
    let dir = served.dir.path();
    std::fs::write(dir.join("app.js"), "let plain = 1;\n").unwrap();
    // A real gzip stream, made by Python's gzip module, of different text than app.js.
    let gzip = run(
        Command::new(&python)
            .args(["-c", "import gzip,sys; open(sys.argv[1],'wb').write(gzip.compress(b'let compressed = 2;\\n'))"])
            .arg(dir.join("app.js.gz")),
        b"",
    );
    succeeded(&gzip);
    let base = format!("https://localhost:{}", served.port);
    let curl_out = |args: &[&str]| {
        let out = run(
            Command::new(&curl)
                .args([
                    "--silent",
                    "--show-error",
                    "--insecure",
                    "--http1.1",
                    "--max-time",
                    "10",
                ])
                .args(args),
            b"",
        );
        succeeded(&out)
    };
    assert_eq!(
        curl_out(&["--compressed", &format!("{base}/app.js")]),
        "let compressed = 2;\n"
    );
    assert_eq!(curl_out(&[&format!("{base}/app.js")]), "let plain = 1;\n");
    let head = curl_out(&["--compressed", "--head", &format!("{base}/app.js")]).to_lowercase();
    assert!(
        head.contains("content-encoding: gzip")
            && head.contains("content-type: text/javascript")
            && head.contains("vary: accept-encoding"),
        "{head}"
    );
    let listing = curl_out(&[&format!("{base}/")]);
    assert!(listing.contains("title=\"22 bytes\">22 B<"), "{listing}");

    let script = r#"
import http.client, ssl, sys
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
conn = http.client.HTTPSConnection("127.0.0.1", int(sys.argv[1]), context=ctx, timeout=10)
conn.request("GET", "/hello.txt")
r = conn.getresponse()
r.read()
etag = r.getheader("ETag")
conn.request("GET", "/hello.txt", headers={"If-None-Match": etag})
again = conn.getresponse()
again.read()
conn.request("GET", "/hello.txt", headers={"If-Match": '"not-this-one"'})
failed = conn.getresponse()
failed.read()
print(r.status, again.status, again.getheader("ETag") == etag, failed.status)
"#;
    let out = run(
        Command::new(&python)
            .arg("-c")
            .arg(script)
            .arg(served.port.to_string()),
        b"",
    );
    assert_eq!(succeeded(&out), "200 304 True 412\n");
}

/// curl over HTTP/2 (ALPN `h2`, which the event-driven server offers) and over HTTP/1.1 gets
/// the same answers: files, HEAD, ranges, ETag preconditions, precompressed files, hidden
/// files and bad paths refused.
#[test]
fn curl_gets_the_same_answers_over_http2_and_http1_1() {
    let Some(curl) = peer("curl") else { return };
    let served = start(&[]);
    let dir = served.dir.path();
    std::fs::write(dir.join(".env"), "PASSWORD=hunter2").unwrap();
    std::fs::write(dir.join("app.css"), "p{}").unwrap();
    std::fs::write(dir.join("app.css.br"), "BROTLI").unwrap();
    let base = format!("https://localhost:{}", served.port);
    for (flag, version) in [("--http2", "2"), ("--http1.1", "1.1")] {
        let curl_out = |args: &[&str]| {
            let out = run(
                Command::new(&curl)
                    .args([
                        "--silent",
                        "--show-error",
                        "--insecure",
                        "--max-time",
                        "10",
                        flag,
                    ])
                    .args(args),
                b"",
            );
            succeeded(&out)
        };
        // `--write-out` for one URL: "version status size".
        let status = |path: &str, extra: &[&str]| {
            let url = format!("{base}{path}");
            let mut args = vec!["--output", "/dev/null", "--write-out"];
            args.push("%{http_version} %{http_code} %{size_download}");
            args.extend_from_slice(extra);
            args.push(&url);
            curl_out(&args)
        };
        assert_eq!(
            status("/hello.txt", &[]),
            format!("{version} 200 22"),
            "{flag}"
        );
        assert_eq!(
            curl_out(&[&format!("{base}/hello.txt")]),
            "hello from tls server\n"
        );
        let blob = run(
            Command::new(&curl).args(["--silent", "--insecure", flag, &format!("{base}/blob.bin")]),
            b"",
        );
        assert!(
            blob.stdout == file(dir, "blob.bin"),
            "{flag}: blob.bin differs"
        );
        let range = curl_out(&["--range", "6-9", &format!("{base}/hello.txt")]);
        assert_eq!(range, "from", "{flag}");
        let head = curl_out(&["--head", &format!("{base}/blob.bin")]).to_lowercase();
        assert!(head.contains("content-length: 1500000"), "{flag}: {head}");
        let etag = head
            .lines()
            .find_map(|l| l.strip_prefix("etag: "))
            .expect("an etag")
            .trim()
            .to_owned();
        let if_none = format!("If-None-Match: {etag}");
        assert_eq!(
            status("/blob.bin", &["--header", &if_none]),
            format!("{version} 304 0"),
            "{flag}"
        );
        let encoded = curl_out(&[
            "--header",
            "Accept-Encoding: br",
            &format!("{base}/app.css"),
        ]);
        assert_eq!(encoded, "BROTLI", "{flag}");
        assert_eq!(status("/.env", &[]), format!("{version} 404 28"), "{flag}");
        assert!(
            curl_out(&[&format!("{base}/")]).contains(">app.css</a>"),
            "{flag}"
        );
        let escape = status("/../../etc/passwd", &["--path-as-is"]);
        assert!(
            escape.starts_with(&format!("{version} 400")),
            "{flag}: {escape}"
        );
        let delete = status("/hello.txt", &["--request", "DELETE"]);
        assert!(
            delete.starts_with(&format!("{version} 405 ")),
            "{flag}: {delete}"
        );
    }
}

/// h2load (nghttp2) runs thousands of requests over a few HTTP/2 connections, many streams at
/// once on each: every one succeeds.
#[test]
fn h2load_gets_every_request_answered_over_http2() {
    let Some(h2load) = peer("h2load") else { return };
    let served = start(&[]);
    // h2load's report of `requests` GETs of `url` over `connections`, `streams` at once each.
    let load = |requests: u32, connections: u32, streams: u32, port: u16, path: &str| {
        let report = succeeded(&run(
            Command::new(&h2load).args([
                format!("-n{requests}"),
                format!("-c{connections}"),
                format!("-m{streams}"),
                format!("https://127.0.0.1:{port}/{path}"),
            ]),
            b"",
        ));
        let done = format!(
            "{requests} total, {requests} started, {requests} done, {requests} succeeded, 0 failed"
        );
        assert!(report.contains(&done), "{report}");
        assert!(
            report.contains(&format!("status codes: {requests} 2xx")),
            "{report}"
        );
        report
    };
    let report = load(4000, 4, 50, served.port, "hello.txt");
    assert!(report.contains("Application protocol: h2"), "{report}");

    // Responses answered together leave together: 1,000 responses of 1 KiB to one
    // connection, 100 streams at once, come in a few hundred records at most (h2 flushes after
    // each such response; sent as it flushed, each took its own record and its own write).
    std::fs::write(served.dir.path().join("1k.bin"), [b'x'; 1024]).unwrap();
    let relay = tls_testkit::RecordRelay::to(([127, 0, 0, 1], served.port).into());
    load(1000, 1, 100, relay.addr.port(), "1k.bin");
    let records = relay.join().server_to_client;
    assert!(records < 250, "{records} records for 1,000 responses");

    // Large responses leave in full records: 200 of 64 KiB are 800 records of 16 KiB, plus a
    // few part-filled ones where a batch ends (staging that stopped short of each DATA frame
    // that did not fit added a 27-byte record after every three full ones: 1,073; now 810).
    std::fs::write(served.dir.path().join("64k.bin"), vec![b'y'; 64 * 1024]).unwrap();
    let relay = tls_testkit::RecordRelay::to(([127, 0, 0, 1], served.port).into());
    load(200, 1, 100, relay.addr.port(), "64k.bin");
    let records = relay.join().server_to_client;
    assert!(
        records < 900,
        "{records} records for 200 responses of 64 KiB"
    );
}

/// HTTP/2 is the event-driven server's: the threaded one offers only HTTP/1.1 by ALPN, and
/// refuses to start when told to offer h2.
#[test]
fn the_threaded_server_offers_http1_1_only() {
    let Some(curl) = peer("curl") else { return };
    let served = start(&["--threaded"]);
    let out = run(
        Command::new(&curl).args([
            "--silent",
            "--insecure",
            "--http2",
            "--output",
            "/dev/null",
            "--write-out",
            "%{http_version} %{http_code}",
            &format!("https://localhost:{}/hello.txt", served.port),
        ]),
        b"",
    );
    assert_eq!(succeeded(&out), "1.1 200");
    let refused = run(
        Command::new(env!("CARGO_BIN_EXE_tls")).args([
            "server",
            "--threaded",
            "--alpn",
            "h2",
            "--ephemeral",
            "127.0.0.1:0",
        ]),
        b"",
    );
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("event-driven"), "{said}");
}

/// An HTTP/2 connection with nothing in progress is closed (GOAWAY) after the idle timeout,
/// as an idle HTTP/1.1 one is.
#[test]
fn an_idle_http2_connection_gets_goaway_after_the_idle_timeout() {
    let Some(python) = peer("python3") else {
        return;
    };
    let served = start(&["--idle-timeout", "1"]);
    let script = r#"
import socket, ssl, sys, time
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.set_alpn_protocols(["h2"])
sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))), server_hostname="localhost")
assert sock.selected_alpn_protocol() == "h2", sock.selected_alpn_protocol()
sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
sock.settimeout(10)
started = time.monotonic()
frames = []
data = b""
while True:
    chunk = sock.recv(65536)
    if not chunk:
        break
    data += chunk
while len(data) >= 9:
    length = int.from_bytes(data[:3], "big")
    frames.append(data[3])
    data = data[9 + length:]
print("goaway" if 7 in frames else "no goaway", round(time.monotonic() - started))
"#;
    let out = run(
        Command::new(python)
            .arg("-c")
            .arg(script)
            .arg(served.port.to_string()),
        b"",
    );
    let said = succeeded(&out);
    let (goaway, seconds) = said.trim().split_once(' ').unwrap();
    assert_eq!(goaway, "goaway", "{said}");
    let seconds: u64 = seconds.parse().unwrap();
    assert!(seconds <= 2, "closed after {seconds} s");
}

/// Hostile HTTP/2 clients, four at a time per attack: rapid reset (CVE-2023-44487), a
/// CONTINUATION flood, an HPACK bomb (h2 answers those with GOAWAY ENHANCE_YOUR_CALM), SETTINGS
/// and PING floods (our flood guard cuts them), requests whose bodies never come (GOAWAY once
/// idle). Each is cut, and an honest client is served meanwhile within a second.
#[test]
fn hostile_http2_clients_are_cut_while_an_honest_one_is_served() {
    let Some(curl) = peer("curl") else { return };
    let served = start(&["--idle-timeout", "2"]);
    for (mode, goaway, within) in [
        ("rapid-reset", "GOAWAY code 11", 2.0),
        ("continuation-flood", "GOAWAY code 11", 2.0),
        ("hpack-bomb", "GOAWAY code 11", 2.0),
        ("settings-flood", "", 2.0),
        ("ping-flood", "", 2.0),
        ("no-end-stream", "GOAWAY code 0", 6.0),
    ] {
        let Some(mut attack) = tls_testkit::h2_hostile(served.port, mode, 10) else {
            return;
        };
        let attackers: Vec<_> = (0..4)
            .map(|_| attack.stdout(Stdio::piped()).spawn().unwrap())
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(100));
        let asked = std::time::Instant::now();
        let honest = run(
            Command::new(&curl).args([
                "--silent",
                "--insecure",
                "--http2",
                "--max-time",
                "5",
                &format!("https://localhost:{}/hello.txt", served.port),
            ]),
            b"",
        );
        let took = asked.elapsed();
        assert_eq!(succeeded(&honest), "hello from tls server\n", "{mode}");
        assert!(
            took.as_secs_f64() < 1.0,
            "{mode}: the honest client waited {took:?}"
        );
        for attacker in attackers {
            let out = attacker.wait_with_output().unwrap();
            let said = succeeded(&out);
            let seconds: f64 = said
                .strip_prefix("cut after ")
                .and_then(|rest| rest.split(' ').next())
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("{mode}: {said}"));
            assert!(seconds <= within, "{mode}: {said}");
            assert!(said.contains(goaway), "{mode}: {said}");
        }
    }
}

#[test]
fn reqcert_refuses_clients_without_a_certificate() {
    let pki = Pki::new();
    let path = |name: &str| pki.path(name).display().to_string();
    let served = start(&[
        "-c",
        &path("server.pem"),
        "-k",
        &path("server.key"),
        "--reqcert",
        "--cafile",
        &path("client-ca.pem"),
    ]);
    let target = format!("localhost:{}", served.port);
    let tls = env!("CARGO_BIN_EXE_tls");
    let with = run(
        Command::new(tls).args([
            "client",
            "--cafile",
            &path("root.pem"),
            "-c",
            &path("client.pem"),
            "-k",
            &path("client.key"),
            "--get",
            "/hello.txt",
            &target,
        ]),
        b"",
    );
    assert!(
        with.status.success(),
        "{}",
        String::from_utf8_lossy(&with.stderr)
    );
    assert!(String::from_utf8_lossy(&with.stdout).ends_with("hello from tls server\n"));
    let without = run(
        Command::new(tls).args([
            "client",
            "--cafile",
            &path("root.pem"),
            "--get",
            "/hello.txt",
            &target,
        ]),
        b"",
    );
    assert!(!without.status.success());
    let stderr = String::from_utf8_lossy(&without.stderr);
    assert!(stderr.contains("certificate_required"), "{stderr}");
    if let Some(curl) = peer("curl") {
        let out = run(
            Command::new(curl).args([
                "--silent",
                "--cacert",
                &path("root.pem"),
                &format!("https://{target}/hello.txt"),
            ]),
            b"",
        );
        assert!(!out.status.success(), "curl got in without a certificate");
    }
}

/// `--sni NAME:CERT:KEY` gives clients asking for NAME that certificate; others the default,
/// or `unrecognized_name` with `--strict-sni`.
#[test]
fn sni_certificates_by_name_and_strictly() {
    let pki = tls_testkit::Pki::new();
    let sni = format!(
        "localhost:{}:{}",
        pki.path("server.pem").display(),
        pki.path("server.key").display()
    );
    let pinned = |identity: &tls_testkit::Identity| {
        tls::ClientConfig::builder()
            .server_auth(tls::ServerAuth::Fingerprint(
                identity.fingerprint(tls::FingerprintAlgorithm::Sha256),
            ))
            .build()
            .unwrap()
    };
    for strict in [false, true] {
        let mut args = vec!["--sni", sni.as_str()];
        if strict {
            args.push("--strict-sni");
        }
        let served = start(&args);
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], served.port));
        let by_name = pinned(&pki.server).connect("localhost", tls_testkit::connect(addr));
        assert!(by_name.is_ok(), "{by_name:?}");
        // The default is the self-signed certificate made for 127.0.0.1.
        let default_pin = served.sha256.parse().unwrap();
        let default = tls::ClientConfig::builder()
            .server_auth(tls::ServerAuth::Fingerprint(default_pin))
            .build()
            .unwrap();
        let unknown = default.connect("unknown.example", tls_testkit::connect(addr));
        match strict {
            false => assert!(unknown.is_ok(), "{unknown:?}"),
            true => assert_eq!(
                unknown.unwrap_err().alert(),
                Some(tls::AlertDescription::UnrecognizedName)
            ),
        }
    }
}

/// A real browser: headless Chromium loads the listing (over HTTP/2, as its net log says; drawn
/// with its entries, as OCR of a screenshot reads them, on a desktop and a phone) and
/// a page that fetches 50 small files (HTTP/2 for the page and every file, as the page itself
/// reads from the Resource Timing API) from `tls server`, trusting it only through the printed
/// SPKI pin flag; without the flag it gets nothing.
#[test]
fn chromium_loads_the_listing_and_a_file_with_only_the_printed_pin() {
    let Some(chromium) = peer("chromium") else {
        return;
    };
    let served = start(&[]);
    let pages = served.dir.path().join("fifty");
    std::fs::create_dir(&pages).unwrap();
    for i in 0..50 {
        std::fs::write(pages.join(format!("f{i}.txt")), format!("file {i}\n")).unwrap();
    }
    std::fs::write(pages.join("index.html"), FIFTY_FILES_PAGE).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let net_log = profile.path().join("net-log.json");
    // Headless as root, and no background traffic: this machine has no network beyond loopback.
    let browser = || {
        let mut command = Command::new(&chromium);
        command
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
            ])
            .args(["--no-first-run", "--disable-background-networking"])
            .args(["--disable-component-update", "--disable-sync"])
            .arg(format!("--user-data-dir={}", profile.path().display()));
        command
    };
    let dump = |url: &str, pin: bool| {
        let mut command = browser();
        command
            .arg(format!("--log-net-log={}", net_log.display()))
            .args([
                "--timeout=15000",
                "--virtual-time-budget=10000",
                "--dump-dom",
            ]);
        if pin {
            command.arg(&served.chromium_flag);
        }
        String::from_utf8_lossy(&run(command.arg(url), b"").stdout).into_owned()
    };
    let base = format!("https://localhost:{}", served.port);
    let listing = dump(&format!("{base}/"), true);
    assert!(
        listing.contains("Index of /")
            && listing.contains("hello.txt")
            && listing.contains("blob.bin"),
        "{listing}"
    );
    let log = std::fs::read_to_string(&net_log).unwrap();
    assert!(
        log.contains(r#""negotiated_protocol":"h2""#),
        "no h2 in Chromium's net log"
    );
    // What a person sees: the listing as Chromium draws it, read back by OCR, on a desktop
    // window and on a phone-sized one (where the time column gives way to the names).
    if let Some(tesseract) = peer("tesseract") {
        let seen = |width: u32, height: u32| {
            let png = profile.path().join(format!("listing-{width}.png"));
            let mut command = browser();
            command
                .arg("--hide-scrollbars")
                .arg(format!("--window-size={width},{height}"))
                .args(["--force-device-scale-factor=2", "--timeout=15000"])
                .arg(format!("--screenshot={}", png.display()))
                .arg(&served.chromium_flag)
                .arg(format!("{base}/"));
            run(&mut command, b"");
            // One line per row (`--psm 6`); OCR's stray spaces are taken out.
            let text = succeeded(&run(
                Command::new(&tesseract).arg(&png).args(["-", "--psm", "6"]),
                b"",
            ));
            text.lines()
                .map(|line| line.replace(' ', ""))
                .filter(|line| !line.is_empty())
                .collect::<Vec<_>>()
        };
        let row = |rows: &[String], name: &str| {
            rows.iter()
                .position(|row| row.starts_with(name))
                .unwrap_or_else(|| panic!("{name:?} not on the screen: {rows:#?}"))
        };
        let desktop = seen(1000, 700);
        assert_eq!(desktop[0], "Indexof/", "{desktop:#?}");
        assert!(
            desktop[1].ends_with("SizeModified"),
            "the header row: {desktop:#?}"
        );
        // The folder first, then the files by name, each with its size and time.
        let rows = [
            row(&desktop, "fifty/"),
            row(&desktop, "blob.bin"),
            row(&desktop, "hello.txt"),
        ];
        assert!(rows.is_sorted(), "{desktop:#?}");
        let blob = &desktop[rows[1]];
        assert!(blob.contains("1.4MiB") && blob.ends_with("UTC"), "{blob}");
        let hello = &desktop[rows[2]];
        // OCR sometimes reads a stray dot or comma between number and unit ("22.B", seen once
        // in CI): a size with a fraction is written only from KiB up, so none belongs here.
        let loose: String = hello.chars().filter(|c| !matches!(c, '.' | ',')).collect();
        assert!(loose.contains("22B") && hello.ends_with("UTC"), "{hello}");
        let phone = seen(390, 844);
        for name in ["fifty/", "blob.bin", "hello.txt"] {
            row(&phone, name);
        }
        assert!(
            !phone.iter().any(|row| row.contains("UTC")),
            "the time column on a phone: {phone:#?}"
        );
    }
    let fifty = dump(&format!("{base}/fifty/"), true);
    assert!(
        fifty.contains("loaded 50 of 50; page h2; files h2"),
        "{fifty}"
    );
    let file = dump(&format!("{base}/hello.txt"), true);
    assert!(file.contains("hello from tls server"), "{file}");
    let untrusted = dump(&format!("{base}/hello.txt"), false);
    assert!(!untrusted.contains("hello from tls server"), "{untrusted}");
}

/// Fetches f0.txt … f49.txt at once, checks each, and writes what it saw and over which
/// protocols (the Resource Timing API's `nextHopProtocol`) into the page.
const FIFTY_FILES_PAGE: &str = r#"<!DOCTYPE html>
<html><body><p id="out">waiting</p><script>
const wanted = Array.from({length: 50}, (_, i) => i);
Promise.all(wanted.map(i => fetch(`f${i}.txt`).then(r => r.text()))).then(texts => {
  const right = texts.filter((text, i) => text === `file ${i}\n`).length;
  const page = performance.getEntriesByType("navigation")[0].nextHopProtocol;
  const files = [...new Set(performance.getEntriesByType("resource").map(e => e.nextHopProtocol))];
  document.getElementById("out").textContent = `loaded ${right} of 50; page ${page}; files ${files.join(",")}`;
});
</script></body></html>
"#;

/// How many idle connections the event-driven server must hold while serving others.
const IDLE: usize = 10_000;
/// Resident memory an idle TLS connection may cost the server, in KiB: 5.6 measured in this
/// (unoptimized) build since rustls hands its keys to our records after the handshake; 9.9
/// while rustls's own connection (and its 4 KiB receive buffer) carried the traffic.
const IDLE_KIB_PER_CONNECTION: f64 = 6.5;
/// The same for a PSK connection (our engine): 5.5 measured in this build; 9.0 while each
/// connection carried room for TLS 1.2 record protection and CBC IVs it did not use, 20.1
/// while the engine kept its receive buffer.
const IDLE_PSK_KIB_PER_CONNECTION: f64 = 6.5;

/// Idle clients held open on a server, with what they cost it.
struct Idlers {
    process: std::process::Child,
    /// Resident KiB the server gained per connection once all were up.
    per_connection: f64,
}

impl Drop for Idlers {
    fn drop(&mut self) {
        drop(self.process.stdin.take());
        let _ = self.process.wait();
    }
}

/// `count` TLS connections to `served`, held idle after their handshake (by certificate pin,
/// or with the pre-shared key `psk`): the server must hold every socket.
fn hold_idle(served: &Served, count: usize, psk: Option<(&str, &str)>) -> Idlers {
    let limit = std::fs::read_to_string("/proc/self/limits")
        .unwrap()
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3)?.parse::<usize>().ok())
        .unwrap_or(usize::MAX);
    // The server and the idle clients are separate processes, each holding `count` sockets.
    assert!(
        limit > count + 500,
        "this test needs `ulimit -n` above {} (now {limit})",
        count + 500
    );
    let server_pid = served._process.0.id();
    let rss_kib = || {
        std::fs::read_to_string(format!("/proc/{server_pid}/status"))
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches(" kB").parse::<u64>().ok())
            .unwrap()
    };
    let before = rss_kib();
    let mut command = tls_testkit::example("idle_connections");
    command.args([count.to_string(), format!("127.0.0.1:{}", served.port)]);
    if let Some((identity, key)) = psk {
        command.args([identity, key]);
    }
    let mut process = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    BufReader::new(process.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready.trim_end(), format!("ready {count}"));
    let sockets = std::fs::read_dir(format!("/proc/{server_pid}/fd"))
        .unwrap()
        .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .filter(|target| target.to_string_lossy().starts_with("socket:"))
        .count();
    assert!(sockets > count, "the server holds {sockets} sockets");
    // What an idle TLS connection costs the server in memory (the kernel's socket buffers
    // are not in its RSS).
    let per_connection = (rss_kib().saturating_sub(before)) as f64 / count as f64;
    println!(
        "{count} idle connections held ({sockets} sockets): {per_connection:.1} KiB each \
         (server RSS {before} KiB before)"
    );
    Idlers {
        process,
        per_connection,
    }
}

/// [`start`] with `args`, room for `count` connections from this address and a long idle
/// timeout.
fn start_for_idle(count: usize, args: &[&str]) -> Served {
    let cap = (count + 100).to_string();
    let limits = ["--max-connections", &cap, "--max-connections-per-ip", &cap];
    start(&[args, &limits, &["--idle-timeout", "600"]].concat())
}

#[test]
fn ten_thousand_idle_connections_do_not_slow_an_honest_client() {
    let served = start_for_idle(IDLE, &[]);
    let idlers = hold_idle(&served, IDLE, None);
    let config = tls::ClientConfig::builder()
        .server_auth(tls::ServerAuth::Fingerprint(served.sha256.parse().unwrap()))
        .build()
        .unwrap();
    for _ in 0..5 {
        let started = std::time::Instant::now();
        let mut tls = config
            .connect(
                "localhost",
                tls_testkit::connect(format!("127.0.0.1:{}", served.port).parse().unwrap()),
            )
            .unwrap();
        use std::io::{Read, Write};
        tls.write_all(b"GET /hello.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut reply = String::new();
        tls.read_to_string(&mut reply).unwrap();
        let took = started.elapsed();
        assert!(
            reply.ends_with("\r\n\r\nhello from tls server\n"),
            "{reply}"
        );
        assert!(
            took < std::time::Duration::from_secs(1),
            "the honest client waited {took:?}"
        );
    }
    assert!(
        idlers.per_connection <= IDLE_KIB_PER_CONNECTION,
        "{:.1} KiB per idle connection",
        idlers.per_connection
    );
}

/// Issue 27: connections on our own engine (PSK here, SRP alike) kept their 36 KiB receive
/// buffer while waiting for the peer; they keep no buffers now, and cost the server about
/// what a rustls connection does.
#[test]
fn idle_psk_connections_hold_no_receive_buffers() {
    const COUNT: usize = 3_000;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("keys.db");
    let db = db.to_str().unwrap();
    let tlsdb = |args: &[&str]| {
        succeeded(&run(
            Command::new(env!("CARGO_BIN_EXE_tlsdb")).args(args),
            b"",
        ))
    };
    tlsdb(&["create", db]);
    let key = tlsdb(&["add-psk", db, "meter-1"]);
    let key = key
        .split_whitespace()
        .find(|w| w.len() == 64)
        .expect("the key in hex");
    let served = start_for_idle(COUNT, &["--psk-db", db]);
    let idlers = hold_idle(&served, COUNT, Some(("meter-1", key)));
    assert!(
        idlers.per_connection <= IDLE_PSK_KIB_PER_CONNECTION,
        "{:.1} KiB per idle PSK connection",
        idlers.per_connection
    );
}
