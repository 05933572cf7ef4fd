//! TLS-SRP against GnuTLS, in one run: full SRP-2048 handshakes per second, resumed handshakes,
//! and bulk throughput with TLS_SRP_SHA_WITH_AES_128_CBC_SHA (and AES-256) and Encrypt-then-MAC.
//!
//! `cargo bench -p tls --bench srp` — `BENCH_SRP_HANDSHAKES` (default 300; 0 skips the
//! handshakes), `BENCH_MIB` (default 1024). GnuTLS has no in-process Rust binding, so its
//! handshakes are timed as `gnutls-cli` runs against `gnutls-serv`, minus the same number of
//! `gnutls-cli --version` runs (process start); its bulk figure is
//! `gnutls-cli --benchmark-tls-ciphers` (its client and server in one process, 16 KiB records,
//! AES-128-CBC + HMAC-SHA1), with the bare cipher+MAC speed (`--benchmark-ciphers`) shown too.
//! Ours is measured both that way (the record layer alone, one thread) and over loopback (our
//! client's thread sending to our server's). `openssl speed` gives the machine's ceiling for
//! the same cipher.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use tls::srp::MemoryVerifierDb;
use tls::{ClientConfig, Connection, HandshakeSettings, ServerConfig};
use tls_testkit::bench::{blocking_handshakes, env_or, median};
use tls_testkit::{gnutls_serv, peer, run, srptool_passwd};

const SUITE: &str = "TLS_SRP_SHA_WITH_AES_128_CBC_SHA";

/// MB/s of `bytes` sent from our client to our server over one connection, in writes of
/// `write` bytes.
fn bulk(server: &ServerConfig, client: &ClientConfig, bytes: u64, write: usize) -> f64 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = server.clone();
    let reader = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let mut tls = server.accept(tcp).unwrap();
        let mut buf = vec![0u8; 1 << 16];
        let mut total = 0u64;
        loop {
            match tls.read(&mut buf).unwrap() {
                0 => break total,
                n => total += n as u64,
            }
        }
    });
    let mut tls = client
        .connect("localhost", TcpStream::connect(addr).unwrap())
        .unwrap();
    let chunk = vec![0x5a; write];
    let started = Instant::now();
    let mut sent = 0;
    while sent < bytes {
        let n = (bytes - sent).min(chunk.len() as u64) as usize;
        tls.write_all(&chunk[..n]).unwrap();
        sent += n as u64;
    }
    tls.close().unwrap();
    assert_eq!(reader.join().unwrap(), bytes);
    bytes as f64 / started.elapsed().as_secs_f64() / 1e6
}

/// Moves everything `from` has queued into `to`.
fn pump(from: &mut Connection, to: &mut Connection) {
    let mut wire = Vec::new();
    while from.wants_write() {
        from.write_tls(&mut wire).unwrap();
    }
    let mut wire = &wire[..];
    while !wire.is_empty() {
        to.read_tls(&mut wire).unwrap();
        to.process_new_packets().unwrap();
    }
}

/// Our record layer alone, both ends in one thread and the wire in memory (the shape of
/// GnuTLS's `--benchmark-tls-ciphers`): MB/s sealing `write`-byte writes into TLS bytes, and
/// MB/s opening them back into plaintext, each timed on its own.
fn in_memory(server: &ServerConfig, client: &ClientConfig, bytes: u64, write: usize) -> (f64, f64) {
    let mut sender = Connection::client(client, "localhost").unwrap();
    let mut receiver = Connection::server(server).unwrap();
    while sender.is_handshaking() || receiver.is_handshaking() {
        pump(&mut sender, &mut receiver);
        pump(&mut receiver, &mut sender);
    }
    let chunk = vec![0x5a; write];
    let mut wire = Vec::with_capacity(write + write / 8);
    let mut plaintext = vec![0u8; 1 << 16];
    let (mut sealing, mut opening) = (Duration::ZERO, Duration::ZERO);
    let mut done = 0;
    while done < bytes {
        let started = Instant::now();
        wire.clear();
        let mut rest = &chunk[..];
        while !rest.is_empty() {
            let n = sender.write_plaintext(rest).unwrap();
            rest = &rest[n..];
            while sender.wants_write() {
                sender.write_tls(&mut wire).unwrap();
            }
        }
        let sealed = Instant::now();
        sealing += sealed - started;
        let mut tls_bytes = &wire[..];
        let mut got = 0;
        while got < write {
            if !tls_bytes.is_empty() {
                receiver.read_tls(&mut tls_bytes).unwrap();
                receiver.process_new_packets().unwrap();
            }
            while let Ok(n) = receiver.read_plaintext(&mut plaintext) {
                assert!(n > 0, "the sender did not close");
                got += n;
            }
        }
        opening += sealed.elapsed();
        assert_eq!(got, write);
        done += write as u64;
    }
    let rate = |d: Duration| bytes as f64 / d.as_secs_f64() / 1e6;
    (rate(sealing), rate(opening))
}

fn seconds(cmd: &mut Command, times: u64) -> f64 {
    let started = Instant::now();
    for _ in 0..times {
        let status = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "{cmd:?} failed");
    }
    started.elapsed().as_secs_f64()
}

/// GnuTLS SRP-2048 handshakes per second (process start subtracted).
fn gnutls_handshakes(count: u64) -> Option<f64> {
    let cli = peer("gnutls-cli")?;
    let dir = tempfile::tempdir().unwrap();
    let (passwd, conf) = srptool_passwd(dir.path(), "alice", "pw", 3)?;
    let priority = "NORMAL:-KX-ALL:+SRP:-VERS-TLS1.3:-CIPHER-ALL:+AES-128-CBC";
    let (_server, port) = gnutls_serv(&passwd, &conf, priority, &[])?;
    let mut handshake = Command::new(&cli);
    handshake.args([
        "--port",
        &port.to_string(),
        "--srpusername",
        "alice",
        "--srppasswd",
        "pw",
    ]);
    handshake.args(["--priority", priority, "--insecure", "localhost"]);
    let mut start_only = Command::new(&cli);
    start_only.arg("--version");
    let total = seconds(&mut handshake, count);
    let startup = seconds(&mut start_only, count);
    Some(count as f64 / (total - startup))
}

fn main() {
    let smoke = !std::env::args().any(|a| a == "--bench");
    let count = if smoke {
        5
    } else {
        env_or("BENCH_SRP_HANDSHAKES", 300)
    };
    let mib = if smoke { 4 } else { env_or("BENCH_MIB", 1024) };
    let db = MemoryVerifierDb::new();
    db.add("alice", "pw", 2048).unwrap();
    let settings = HandshakeSettings {
        cipher_names: vec![SUITE.into()],
        ..Default::default()
    };
    let server = ServerConfig::builder()
        .verifier_db(db)
        .settings(settings.clone())
        .build()
        .unwrap();
    let fresh = ClientConfig::builder()
        .srp("alice", "pw")
        .settings(settings.clone())
        .no_resumption()
        .build()
        .unwrap();
    let resuming = ClientConfig::builder()
        .srp("alice", "pw")
        .settings(settings)
        .build()
        .unwrap();

    println!("SRP-2048, {SUITE}, Encrypt-then-MAC and EMS, loopback");
    // BENCH_SRP_HANDSHAKES=0 measures bulk transfer only (for profiling it).
    if count > 0 {
        handshakes(&server, &fresh, &resuming, count);
    }
    let cli = peer("gnutls-cli");
    let gnutls = |arg: &str, section: &str, row: &str| -> Option<f64> {
        let out = run(Command::new(cli.as_ref()?).arg(arg), b"");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let rest = &text[text.find(section).unwrap_or(0)..];
        let line = rest
            .lines()
            .find(|l| l.trim_start().starts_with(row))?
            .to_owned();
        let mut words = line.split_whitespace().rev();
        let unit = words.next()?;
        let value: f64 = words.next()?.parse().ok()?;
        Some(if unit.starts_with("GB") {
            value * 1000.0
        } else {
            value
        })
    };
    // Same shape: GnuTLS's own client and server in one process, 16 KiB records, AES-128-CBC
    // with HMAC-SHA1 (its TLS 1.0 record layer: MAC-then-encrypt, implicit IVs). GnuTLS has no
    // AES-256-CBC row: both suites are compared with this one.
    let gnutls_bulk = gnutls(
        "--benchmark-tls-ciphers",
        "payload: 16384",
        "AES-128-CBC - TLS1.0",
    );
    if let Some(g) = gnutls("--benchmark-ciphers", "", "AES-128-CBC-SHA1 ") {
        println!("GnuTLS AES-128-CBC-SHA1 cipher+MAC alone, in memory: {g:.0} MB/s");
    }
    for (suite, bits) in [(SUITE, 128), ("TLS_SRP_SHA_WITH_AES_256_CBC_SHA", 256)] {
        let settings = HandshakeSettings {
            cipher_names: vec![suite.into()],
            ..Default::default()
        };
        let client = ClientConfig::builder()
            .srp("alice", "pw")
            .settings(settings.clone())
            .build()
            .unwrap();
        let users = MemoryVerifierDb::new();
        users.add("alice", "pw", 2048).unwrap();
        let server = ServerConfig::builder()
            .verifier_db(users)
            .settings(settings)
            .build()
            .unwrap();
        let ceiling = openssl_stitched(bits);
        // 64 KiB writes fill four records per call, 256 KiB ones the eight CBC lanes.
        for write in [64 << 10, 256 << 10] {
            let (seal, open) = in_memory(&server, &client, mib << 20, write);
            let both = 1.0 / (1.0 / seal + 1.0 / open);
            let mut line = format!(
                "record layer in one thread, AES-{bits}, writes of {} KiB: sealing {seal:.0} MB/s, \
                 opening {open:.0} MB/s, both {both:.0} MB/s",
                write >> 10
            );
            if let Some(g) = gnutls_bulk {
                line += &format!(
                    "   vs GnuTLS AES-128 in one process {g:.0} MB/s: {:.2}",
                    both / g
                );
            }
            println!("{line}");
            // Runs swing by a tenth on this VM: the median of three.
            let ours = median(
                (0..3)
                    .map(|_| bulk(&server, &client, mib << 20, write))
                    .collect(),
            );
            let mut line = format!(
                "bulk {mib} MiB, AES-{bits}, writes of {} KiB: ours {ours:6.0} MB/s (median of 3)",
                write >> 10
            );
            if let Some(g) = gnutls_bulk {
                line += &format!(
                    "   vs GnuTLS AES-128 in one process {g:.0} MB/s: {:.2}",
                    ours / g
                );
            }
            if let Some(c) = ceiling {
                line += &format!(
                    "   vs openssl speed aes-{bits}-cbc-hmac-sha1 {c:.0} MB/s: {:.2}",
                    ours / c
                );
            }
            println!("{line}");
        }
    }
}

/// Full and resumed handshakes per second, ours against GnuTLS's full ones.
fn handshakes(server: &ServerConfig, fresh: &ClientConfig, resuming: &ClientConfig, count: u64) {
    let ours = blocking_handshakes(server, fresh, count);
    match gnutls_handshakes(count) {
        Some(gnutls) => println!(
            "full handshakes x{count}: ours {ours:7.1}/s   GnuTLS (gnutls-cli runs minus process start) {gnutls:7.1}/s   ratio {:.2}",
            ours / gnutls
        ),
        None => println!("full handshakes x{count}: ours {ours:7.1}/s   GnuTLS not installed"),
    }
    let resumed = blocking_handshakes(server, resuming, count * 10);
    println!("resumed handshakes x{}: ours {resumed:7.1}/s", count * 10);
}

/// `openssl speed` for the stitched AES-CBC + HMAC-SHA1 cipher on 16 KiB: this CPU's ceiling.
fn openssl_stitched(bits: u32) -> Option<f64> {
    let openssl = peer("openssl")?;
    let name = format!("aes-{bits}-cbc-hmac-sha1");
    let out = run(
        Command::new(openssl).args(["speed", "-evp", &name, "-bytes", "16384", "-seconds", "1"]),
        b"",
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with(&name))?;
    let kbps: f64 = line
        .split_whitespace()
        .last()?
        .trim_end_matches('k')
        .parse()
        .ok()?;
    Some(kbps / 1000.0)
}
