//! Shared by the Dovecot tests: seeded messages, the server, CRLF conversion.
#![allow(dead_code)] // each test file uses its own part

use tls_testkit::{Dovecot, Pki, SeedMessage};

pub const USER: &str = "alice";
pub const PASSWORD: &str = "alice-secret";

/// Three messages for alice; the third has lines that start with dots (stuffed on the wire).
pub fn seeded() -> Vec<Vec<u8>> {
    (1..=3)
        .map(|n| {
            let body = if n == 3 {
                ".leading dot\n..two dots\n.\nlast line.\n".to_owned()
            } else {
                format!("Hello from message {n}.\n")
            };
            format!(
                "From: Sender {n} <sender{n}@example.test>\nTo: alice@example.test\n\
                 Subject: Test message {n}\nDate: Tue, 14 Nov 2023 22:13:0{n} +0000\n\
                 Message-ID: <seed-{n}@example.test>\n\n{body}"
            )
            .into_bytes()
        })
        .collect()
}

/// Dovecot with alice's three messages (and an empty bob), or `None` when it is missing.
pub fn dovecot(pki: &Pki) -> Option<Dovecot> {
    let seed: Vec<SeedMessage> = seeded()
        .into_iter()
        .map(|content| SeedMessage {
            user: USER.into(),
            content,
        })
        .collect();
    Dovecot::start(
        &pki.server,
        &[(USER, PASSWORD), ("bob", "bob-secret")],
        &seed,
    )
}

/// What a Maildir file looks like on the wire: every LF as CRLF.
pub fn crlf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 20);
    for &b in bytes {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// The number of message files in a user's Maildir (`new` and `cur`).
pub fn files_in(dovecot: &Dovecot, user: &str) -> usize {
    ["new", "cur"]
        .iter()
        .map(|sub| {
            std::fs::read_dir(dovecot.maildir(user).join(sub))
                .map(|d| d.count())
                .unwrap_or(0)
        })
        .sum()
}
