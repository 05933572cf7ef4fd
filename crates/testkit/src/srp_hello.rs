//! The first flight of a TLS-SRP handshake, by hand: a ClientHello for a username, and the
//! server's answer up to ServerHelloDone. What a prober sees of a server without ever
//! computing anything, for checking that unknown users look like known ones.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::connect;

/// What a ServerKeyExchange for SRP carries (RFC 5054 §2.8), big-endian as sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SrpKeyExchange {
    /// The group's prime.
    pub n: Vec<u8>,
    /// The group's generator.
    pub g: Vec<u8>,
    /// The user's salt.
    pub salt: Vec<u8>,
    /// The server's public value.
    pub b: Vec<u8>,
}

/// A TLS 1.2 ClientHello offering the plain SRP suites, EtM and EMS, for `username`.
pub fn srp_client_hello(username: &str) -> Vec<u8> {
    let mut body = vec![3, 3];
    body.extend_from_slice(&[0x5a; 32]); // random: nothing here depends on it
    body.push(0); // no session ID
    body.extend_from_slice(&[0, 6, 0xc0, 0x1d, 0xc0, 0x20, 0x00, 0xff]);
    body.extend_from_slice(&[1, 0]); // null compression
    let mut extensions = vec![0, 12];
    extensions.extend_from_slice(&(username.len() as u16 + 1).to_be_bytes());
    extensions.push(username.len() as u8);
    extensions.extend_from_slice(username.as_bytes());
    extensions.extend_from_slice(&[0, 22, 0, 0, 0, 23, 0, 0]); // encrypt_then_mac, EMS
    body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
    body.extend_from_slice(&extensions);
    let mut handshake = vec![1];
    handshake.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    handshake.extend_from_slice(&body);
    let mut record = vec![22, 3, 1];
    record.extend_from_slice(&(handshake.len() as u16).to_be_bytes());
    record.extend_from_slice(&handshake);
    record
}

/// Sends `hello` to an SRP server and reads its answer up to ServerHelloDone: the key
/// exchange, and the time from sending the hello to receiving ServerHelloDone.
pub fn srp_first_flight(
    addr: SocketAddr,
    hello: &[u8],
) -> Result<(SrpKeyExchange, Duration), String> {
    let mut tcp = connect(addr);
    let started = Instant::now();
    tcp.write_all(hello).map_err(|e| e.to_string())?;
    let mut handshake = Vec::new();
    let mut key_exchange = None;
    loop {
        let mut header = [0u8; 5];
        tcp.read_exact(&mut header)
            .map_err(|e| format!("reading a record: {e}"))?;
        let mut body = vec![0u8; usize::from(u16::from_be_bytes([header[3], header[4]]))];
        tcp.read_exact(&mut body).map_err(|e| e.to_string())?;
        match header[0] {
            22 => handshake.extend_from_slice(&body),
            21 => return Err(format!("alert {:?}", body)),
            other => return Err(format!("unexpected record type {other}")),
        }
        while handshake.len() >= 4 {
            let len = usize::from(handshake[1]) << 16
                | usize::from(handshake[2]) << 8
                | usize::from(handshake[3]);
            if handshake.len() < 4 + len {
                break;
            }
            let message: Vec<u8> = handshake.drain(..4 + len).collect();
            match message[0] {
                12 => key_exchange = Some(parse_key_exchange(&message[4..])?),
                14 => {
                    let elapsed = started.elapsed();
                    return key_exchange
                        .map(|k| (k, elapsed))
                        .ok_or_else(|| "ServerHelloDone without a key exchange".into());
                }
                _ => {}
            }
        }
    }
}

fn parse_key_exchange(mut body: &[u8]) -> Result<SrpKeyExchange, String> {
    let mut field = |prefix: usize| -> Result<Vec<u8>, String> {
        let short = || "short ServerKeyExchange".to_string();
        let len_bytes = body.get(..prefix).ok_or_else(short)?;
        let len = len_bytes
            .iter()
            .fold(0usize, |n, b| n << 8 | usize::from(*b));
        let value = body.get(prefix..prefix + len).ok_or_else(short)?.to_vec();
        body = &body[prefix + len..];
        Ok(value)
    };
    Ok(SrpKeyExchange {
        n: field(2)?,
        g: field(2)?,
        salt: field(1)?,
        b: field(2)?,
    })
}
