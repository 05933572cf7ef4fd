//! Both servers (`TlsServer` and `AsyncTlsServer`) under load and misbehaviour: caps,
//! timeouts, hooks, STARTTLS, shutdown. Every test runs once per driver.

mod common;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::{builder, client, connect_from, start, trickle, Driver, Service};
use tls::{ClientConfig, TlsStream};
use tls_server::StaticFiles;
use tls_testkit::{connect, Pki};

on_both_drivers!(
    a_hundred_parallel_clients_are_all_served,
    silent_connections_do_not_delay_a_new_client_and_time_out,
    a_client_trickling_its_handshake_is_cut_at_the_deadline,
    a_client_trickling_its_request_head_is_cut_at_the_deadline,
    the_plaintext_phase_has_a_total_deadline_that_starttls_lifts,
    connections_over_the_per_ip_cap_are_closed_at_once_and_others_get_in,
    clients_vanishing_mid_handshake_or_mid_transfer_do_not_disturb_others,
    the_handshake_hook_sees_the_session_and_can_drop_the_client,
    shutdown_waits_for_connections_in_flight_then_cuts_them,
    starttls_upgrades_a_plaintext_connection_and_refuses_injected_commands,
    connections_resume_sessions_across_the_server_and_idle_ones_are_dropped,
);

fn say_hello(config: &ClientConfig, addr: std::net::SocketAddr) -> Result<(), tls::Error> {
    let mut tls = config.connect("localhost", connect(addr))?;
    tls.write_all(b"hello\n")?;
    let mut line = String::new();
    tls.read_line(&mut line)?;
    assert_eq!(line, "hello\n");
    tls.close()?;
    Ok(())
}

fn a_hundred_parallel_clients_are_all_served(driver: Driver) {
    let pki = Pki::new();
    let server = start(builder(&pki), driver, Service::Lines);
    let config = client(&pki);
    let served = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..100)
        .map(|_| {
            let (config, served, addr) = (config.clone(), served.clone(), server.addr);
            thread::spawn(move || {
                say_hello(&config, addr).unwrap();
                served.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(served.load(Ordering::SeqCst), 100);
    server.shutdown(Duration::from_secs(1)).unwrap();
}

fn silent_connections_do_not_delay_a_new_client_and_time_out(driver: Driver) {
    let pki = Pki::new();
    // All from one address: this is about the handshake deadline, not the per-address cap.
    let server = start(
        builder(&pki)
            .handshake_timeout(Duration::from_secs(2))
            .max_connections_per_ip(1000),
        driver,
        Service::Lines,
    );
    let silent: Vec<TcpStream> = (0..300)
        .map(|_| TcpStream::connect(server.addr).unwrap())
        .collect();
    thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    say_hello(&client(&pki), server.addr).unwrap();
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "a new client waited {took:?}"
    );
    // The silent ones are dropped at the handshake deadline.
    for mut sock in silent {
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 1];
        let read = loop {
            match sock.read(&mut buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                read => break read,
            }
        };
        // A reset counts as closed too; a timeout does not.
        let closed = match &read {
            Ok(n) => *n == 0,
            Err(e) => !matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ),
        };
        assert!(closed, "silent connection not closed: {read:?}");
    }
    server.shutdown(Duration::from_secs(1)).unwrap();
}

fn a_client_trickling_its_handshake_is_cut_at_the_deadline(driver: Driver) {
    let pki = Pki::new();
    let server = start(
        builder(&pki)
            .handshake_timeout(Duration::from_millis(800))
            .idle_timeout(Duration::from_secs(60)),
        driver,
        Service::Lines,
    );
    let sock = TcpStream::connect(server.addr).unwrap();
    // A byte every 100 ms never trips a per-read timeout; the handshake deadline still holds.
    let hello = [0x16u8, 3, 1, 0x02, 0x00].into_iter().cycle().take(60);
    let kept = trickle(&sock, |b| (&sock).write_all(&[b]), hello, PACE);
    assert_cut_near(kept, Duration::from_millis(800));
    server.shutdown(Duration::from_secs(1)).unwrap();
}

/// How fast the trickling clients send: one byte every this long.
const PACE: Duration = Duration::from_millis(100);

/// The server hung up on a trickling client about `deadline` after it started.
fn assert_cut_near(kept: Option<Duration>, deadline: Duration) {
    let kept = kept.expect("the trickling client was never cut");
    assert!(
        kept + PACE * 2 >= deadline && kept < deadline + Duration::from_secs(2),
        "cut after {kept:?}, deadline {deadline:?}"
    );
}

fn a_client_trickling_its_request_head_is_cut_at_the_deadline(driver: Driver) {
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hello.txt"), "hello\n").unwrap();
    let deadline = Duration::from_millis(800);
    let server = start(
        builder(&pki)
            .request_head_timeout(deadline)
            .idle_timeout(Duration::from_secs(60)),
        driver,
        Service::Files(StaticFiles::new(dir.path()).unwrap()),
    );
    let sock = connect(server.addr);
    let raw = sock.try_clone().unwrap();
    let mut tls = client(&pki).connect("localhost", sock).unwrap();
    // An honest request first: the deadline is per head, and it starts again after each answer.
    tls.write_all(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut answer = [0u8; 15];
    tls.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"HTTP/1.1 200 OK");
    let head = b"GET /hello.txt HTTP/1.1\r\nX-Slow: ".iter().copied();
    let head = head.chain(std::iter::repeat_n(b'z', 60));
    let kept = trickle(&raw, |b| tls.write_all(&[b]), head, PACE);
    assert_cut_near(kept, deadline);
    server.shutdown(Duration::from_secs(1)).unwrap();
}

fn the_plaintext_phase_has_a_total_deadline_that_starttls_lifts(driver: Driver) {
    let pki = Pki::new();
    let deadline = Duration::from_millis(800);
    let server = start(
        builder(&pki)
            .plaintext_timeout(deadline)
            .idle_timeout(Duration::from_secs(60)),
        driver,
        Service::Plain,
    );

    // Plaintext commands at a steady trickle: cut at the deadline, not kept by each byte.
    let sock = connect(server.addr);
    let commands = b"NOOP\r\n".iter().copied().cycle().take(60);
    let kept = trickle(&sock, |b| (&sock).write_all(&[b]), commands, PACE);
    assert_cut_near(kept, deadline);

    // Upgraded in time: the connection outlives the plaintext deadline.
    let sock = connect(server.addr);
    (&sock).write_all(b"STARTTLS\r\n").unwrap();
    let mut reader = BufReader::new(sock.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert_eq!(line, "220 ready\r\n");
    line.clear();
    reader.read_line(&mut line).unwrap();
    assert_eq!(line, "220 go ahead\r\n");
    let mut tls = client(&pki).connect("localhost", sock).unwrap();
    line.clear();
    tls.read_line(&mut line).unwrap();
    assert_eq!(line, "250 secure now\r\n");
    thread::sleep(deadline * 2);
    tls.write_all(b"still here\n").unwrap();
    line.clear();
    tls.read_line(&mut line).unwrap();
    assert_eq!(line, "still here\n");
    server.shutdown(Duration::from_secs(1)).unwrap();
}

fn connections_over_the_per_ip_cap_are_closed_at_once_and_others_get_in(driver: Driver) {
    let pki = Pki::new();
    let server = start(
        builder(&pki).max_connections_per_ip(2),
        driver,
        Service::Lines,
    );
    let config = client(&pki);
    let busy = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    let talk = |from: IpAddr| -> Result<TlsStream<TcpStream>, tls::Error> {
        let mut tls = config.connect("localhost", connect_from(from, server.addr)?)?;
        tls.write_all(b"hello\n")?;
        let mut line = String::new();
        tls.read_line(&mut line)?;
        assert_eq!(line, "hello\n");
        Ok(tls)
    };
    let mut held: Vec<_> = (0..2).map(|_| talk(busy).unwrap()).collect();
    // A third from the same address is closed before its handshake, at once.
    let started = Instant::now();
    let over = talk(busy);
    assert!(over.is_err(), "a third connection from {busy} was served");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.connections(), 2);
    // Other addresses are served meanwhile.
    for other in [Ipv4Addr::new(127, 0, 0, 3), Ipv4Addr::LOCALHOST] {
        talk(IpAddr::V4(other)).unwrap();
    }
    // One leaves: its address has room again.
    held.pop().unwrap().close().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while talk(busy).is_err() {
        assert!(Instant::now() < deadline, "room never came back for {busy}");
        thread::sleep(Duration::from_millis(50));
    }
    drop(held);
    server.shutdown(Duration::from_secs(1)).unwrap();
}

fn clients_vanishing_mid_handshake_or_mid_transfer_do_not_disturb_others(driver: Driver) {
    let pki = Pki::new();
    let server = start(builder(&pki), driver, Service::Lines);
    let addr = server.addr;
    let config = client(&pki);

    // Vanish mid-handshake: half a ClientHello, then gone.
    let mut half = TcpStream::connect(addr).unwrap();
    half.write_all(&[0x16, 0x03, 0x01, 0x01, 0x00, 0x01, 0x00])
        .unwrap();
    drop(half);
    // Vanish mid-transfer.
    let mut hose = config.connect("localhost", connect(addr)).unwrap();
    hose.write_all(b"firehose\n").unwrap();
    let mut buf = vec![0u8; 256 * 1024];
    hose.read_exact(&mut buf).unwrap();
    drop(hose);
    // Others are served meanwhile and after.
    for _ in 0..5 {
        say_hello(&config, addr).unwrap();
    }
    server.shutdown(Duration::from_secs(1)).unwrap();
}

fn the_handshake_hook_sees_the_session_and_can_drop_the_client(driver: Driver) {
    let pki = Pki::new();
    let seen = Arc::new(AtomicUsize::new(0));
    let seen2 = seen.clone();
    let hooked = builder(&pki).handshake_hook(move |session, conn| {
        seen2.fetch_add(1, Ordering::SeqCst);
        assert!(conn.peer_addr().ip().is_loopback());
        session.server_name() == Some("localhost")
    });
    let server = start(hooked, driver, Service::Lines);
    say_hello(&client(&pki), server.addr).unwrap();
    let by_ip = client(&pki).connect("127.0.0.1", connect(server.addr));
    // Dropped after the handshake: the client's first read finds the connection over.
    let mut by_ip = by_ip.unwrap();
    by_ip.write_all(b"hello\n").unwrap();
    let mut line = String::new();
    assert!(by_ip.read_line(&mut line).map_or(true, |n| n == 0));
    assert_eq!(seen.load(Ordering::SeqCst), 2);
    server.shutdown(Duration::from_secs(1)).unwrap();
}

fn shutdown_waits_for_connections_in_flight_then_cuts_them(driver: Driver) {
    let pki = Pki::new();
    let server = start(builder(&pki), driver, Service::Lines);
    let addr = server.addr;
    let config = client(&pki);
    // One idle keep-alive connection that never leaves by itself.
    let mut idle = config.connect("localhost", connect(addr)).unwrap();
    idle.write_all(b"ping\n").unwrap();
    let mut line = String::new();
    idle.read_line(&mut line).unwrap();
    let started = Instant::now();
    server.shutdown(Duration::from_millis(500)).unwrap();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(450) && took < Duration::from_secs(3),
        "{took:?}"
    );
    let mut rest = Vec::new();
    // Cut (an error) or closed (nothing more), but not still open until our read timed out.
    match idle.read_to_end(&mut rest) {
        Ok(_) => assert!(rest.is_empty(), "{rest:?}"),
        Err(e) => assert!(
            !matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ),
            "{e}"
        ),
    }
    assert!(TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err());
}

fn starttls_upgrades_a_plaintext_connection_and_refuses_injected_commands(driver: Driver) {
    let pki = Pki::new();
    let server = start(builder(&pki), driver, Service::Plain);

    let sock = connect(server.addr);
    let mut reader = BufReader::new(sock.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert_eq!(line, "220 ready\r\n");
    (&sock).write_all(b"STARTTLS\r\n").unwrap();
    line.clear();
    reader.read_line(&mut line).unwrap();
    assert_eq!(line, "220 go ahead\r\n");
    assert!(reader.buffer().is_empty());
    let mut tls = client(&pki).connect("localhost", sock).unwrap();
    line.clear();
    tls.read_line(&mut line).unwrap();
    assert_eq!(line, "250 secure now\r\n");

    // Plaintext smuggled behind STARTTLS must not be taken for what came over TLS.
    let mut sock = connect(server.addr);
    let mut greeting = [0u8; 11];
    sock.read_exact(&mut greeting).unwrap();
    sock.write_all(b"STARTTLS\r\nRCPT TO:<evil@example.org>\r\n")
        .unwrap();
    let mut answer = String::new();
    let _ = BufReader::new(&sock).read_line(&mut answer);
    assert_eq!(answer, "220 go ahead\r\n");
    let upgraded = client(&pki).connect("localhost", sock);
    assert!(
        upgraded.is_err(),
        "server upgraded despite injected plaintext"
    );
    server.shutdown(Duration::from_secs(1)).unwrap();
}

fn connections_resume_sessions_across_the_server_and_idle_ones_are_dropped(driver: Driver) {
    let pki = Pki::new();
    let server = start(
        builder(&pki).idle_timeout(Duration::from_millis(500)),
        driver,
        Service::Lines,
    );
    let config = client(&pki);
    let session = |config: &ClientConfig| {
        let mut tls = config.connect("localhost", connect(server.addr)).unwrap();
        tls.write_all(b"hi\n").unwrap();
        let mut line = String::new();
        tls.read_line(&mut line).unwrap();
        (tls.session().resumed(), tls)
    };
    let (first, _) = session(&config);
    let (second, mut idle) = session(&config);
    assert!(!first && second, "the second connection did not resume");
    // Say nothing past the idle timeout: the server hangs up.
    let started = Instant::now();
    let mut buf = [0u8; 8];
    let n = idle.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    server.shutdown(Duration::from_secs(1)).unwrap();
}
