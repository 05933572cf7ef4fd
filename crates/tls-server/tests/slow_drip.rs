//! 2,000 clients dripping a byte every few seconds cannot keep an honest client waiting.
//!
//! The drippers come from 16 loopback addresses (127.0.0.2 to 127.0.0.17), 125 from each: most
//! drip a ClientHello, some finish a handshake and drip a request head. Together they are more
//! than the server's global cap, so without the per-address cap they would take every slot and
//! the honest client (from 127.0.0.1) would wait in the backlog until a deadline freed one. With
//! it, each address holds at most 50 slots, 800 in all; the rest are closed at once. The ones
//! held are cut at the handshake or request-head deadline, a total that the dripping does not
//! extend. Meanwhile the honest client must handshake and GET a file within a second.
#![cfg(target_os = "linux")] // Only Linux loopback takes any 127.0.0.0/8 source address.

mod common;

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use common::{builder, client, connect_from, hung_up, start, Driver, Service};
use tls::{ClientConfig, TlsStream};
use tls_server::StaticFiles;
use tls_testkit::{connect, Pki};

const ADDRESSES: u8 = 16;
const DRIPPERS_PER_ADDRESS: usize = 125;
/// Of each address's drippers, how many finish a handshake and drip a request head.
const HEAD_DRIPPERS_PER_ADDRESS: usize = 10;
const PER_IP: usize = 50;
/// Below the 2,000 drippers, above what the per-address cap lets them hold (16 × 50).
const MAX_CONNECTIONS: usize = 1000;
/// Both the handshake and the request-head deadline.
const DEADLINE: Duration = Duration::from_secs(3);
const DRIP_EVERY: Duration = Duration::from_secs(2);
const POLL_EVERY: Duration = Duration::from_millis(100);
const HONEST_WITHIN: Duration = Duration::from_secs(1);
/// The whole test must be over by then: a hang becomes a failure.
const TEST_LIMIT: Duration = Duration::from_secs(30);

/// The start of a TLS record announcing a 512-byte ClientHello, then zeros: it never completes.
const HELLO: [u8; 5] = [0x16, 0x03, 0x01, 0x02, 0x00];
const HEAD: &[u8] = b"GET /hello.txt HTTP/1.1\r\nX-Drip: ";

struct Dripper {
    /// The socket, to see the server hang up (for a TLS one, a clone under the TLS stream).
    raw: TcpStream,
    /// Set once the handshake is done: the head is dripped through it.
    tls: Option<TlsStream<TcpStream>>,
    started: Instant,
    sent: usize,
    /// How long the server kept it.
    cut_after: Option<Duration>,
}

impl Dripper {
    /// Sends its next byte; a failed write means the server has hung up.
    fn drip(&mut self) {
        let n = self.sent;
        self.sent += 1;
        let sent = match &mut self.tls {
            Some(tls) => tls.write_all(&[HEAD.get(n).copied().unwrap_or(b'z')]),
            None => (&self.raw).write_all(&[HELLO.get(n).copied().unwrap_or(0)]),
        };
        if sent.is_err() {
            self.cut_after = Some(self.started.elapsed());
        }
    }

    fn check(&mut self) {
        if self.cut_after.is_none() && hung_up(&self.raw) {
            self.cut_after = Some(self.started.elapsed());
        }
    }
}

/// The soft limit on open files, which must hold the drippers and the server's sockets.
fn open_files_limit() -> usize {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    let soft = line.split_whitespace().nth(3).unwrap();
    soft.parse().unwrap_or(usize::MAX) // "unlimited"
}

/// Connects from `ip`, handshakes (for a head dripper) and sends the first byte.
fn start_dripper(
    ip: IpAddr,
    addr: std::net::SocketAddr,
    config: &ClientConfig,
    head: bool,
) -> Dripper {
    let tcp = connect_from(ip, addr).unwrap();
    let raw = tcp.try_clone().unwrap();
    let tls = head.then(|| {
        config
            .connect("localhost", tcp)
            .unwrap_or_else(|e| panic!("a head dripper from {ip} was refused: {e}"))
    });
    let mut dripper = Dripper {
        raw,
        tls,
        started: Instant::now(),
        sent: 0,
        cut_after: None,
    };
    dripper.drip();
    dripper
}

/// The honest client: connect, handshake, GET a file, read it whole. Returns how long it took.
fn honest_get(config: &ClientConfig, addr: std::net::SocketAddr) -> Duration {
    let started = Instant::now();
    let mut tls = config.connect("localhost", connect(addr)).unwrap();
    tls.write_all(b"GET /hello.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut reply = String::new();
    tls.read_to_string(&mut reply).unwrap();
    let took = started.elapsed();
    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
    assert!(reply.ends_with("\r\n\r\nhello, honest client\n"), "{reply}");
    took
}

on_both_drivers!(two_thousand_slow_drippers_do_not_delay_an_honest_client);

fn two_thousand_slow_drippers_do_not_delay_an_honest_client(driver: Driver) {
    let test_started = Instant::now();
    let drippers_total = usize::from(ADDRESSES) * DRIPPERS_PER_ADDRESS;
    // Ours, the server's and its slot clones, with room to spare, for both drivers at once.
    let needed = 2 * (drippers_total + 2 * usize::from(ADDRESSES) * PER_IP + 500);
    let limit = open_files_limit();
    assert!(
        limit >= needed,
        "this test needs {needed} open files; raise `ulimit -n` (now {limit})"
    );
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hello.txt"), "hello, honest client\n").unwrap();
    let server = start(
        builder(&pki)
            .max_connections(MAX_CONNECTIONS)
            .max_connections_per_ip(PER_IP)
            .handshake_timeout(DEADLINE)
            .request_head_timeout(DEADLINE),
        driver,
        Service::Files(StaticFiles::new(dir.path()).unwrap()),
    );
    let config = client(&pki);

    let mut drippers = Vec::with_capacity(drippers_total);
    for a in 0..ADDRESSES {
        let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + a));
        for i in 0..DRIPPERS_PER_ADDRESS {
            let head = i < HEAD_DRIPPERS_PER_ADDRESS;
            drippers.push(start_dripper(ip, server.addr, &config, head));
        }
    }
    let all_started = Instant::now();
    println!(
        "{drippers_total} drippers connected in {:?}",
        all_started - test_started
    );

    let held_at_most = usize::from(ADDRESSES) * PER_IP;
    let mut most_held = 0;
    let mut honest = Vec::new();
    let mut next_drip = Instant::now() + DRIP_EVERY;
    // First, once the server has sorted the drippers; then after each round of drips.
    let mut next_honest = Instant::now() + POLL_EVERY * 5;
    loop {
        most_held = most_held.max(server.connections());
        drippers.iter_mut().for_each(Dripper::check);
        let live = drippers.iter().filter(|d| d.cut_after.is_none()).count();
        if live == 0 {
            break;
        }
        assert!(
            test_started.elapsed() < TEST_LIMIT,
            "{live} drippers still connected after {:?}",
            test_started.elapsed()
        );
        if Instant::now() >= next_honest {
            honest.push((live, honest_get(&config, server.addr)));
            next_honest = next_drip + POLL_EVERY;
        }
        if Instant::now() >= next_drip {
            for dripper in drippers.iter_mut().filter(|d| d.cut_after.is_none()) {
                dripper.drip();
            }
            next_drip += DRIP_EVERY;
        }
        thread::sleep(POLL_EVERY);
    }

    let cut: Vec<Duration> = drippers.iter().filter_map(|d| d.cut_after).collect();
    let at_once = cut.iter().filter(|t| **t < DEADLINE / 2).count();
    let latest = cut.iter().max().unwrap();
    let total = test_started.elapsed();
    println!(
        "honest client (drippers still connected, time): {honest:?}; drippers refused at once: \
         {at_once}; most connections held: {most_held}; last dripper cut after {latest:?}; \
         test took {total:?}"
    );
    assert!(
        honest.iter().all(|(_, took)| *took < HONEST_WITHIN),
        "the honest client waited: {honest:?}"
    );
    assert!(
        honest
            .first()
            .is_some_and(|(live, _)| *live >= held_at_most),
        "the honest client came only after the drippers were cut: {honest:?}"
    );
    assert!(
        most_held <= held_at_most + 1,
        "the server held {most_held} connections"
    );
    assert_eq!(
        at_once,
        drippers_total - held_at_most,
        "drippers over the per-address cap must be closed at once"
    );
    assert!(
        *latest < DEADLINE + POLL_EVERY * 5,
        "a dripper was kept {latest:?}: its drips extended the {DEADLINE:?} deadline"
    );
    server.shutdown(Duration::from_secs(1)).unwrap();
}
