//! What the SMTP tests share: the scripted server (from the testkit), a mailer for it, and
//! both clients (blocking and tokio) behind one wrapper.
#![allow(dead_code)] // each test file uses a different part

use tls_testkit::scripted::smtp::{PASSWORD, USER};
use tls_testkit::Client;

/// A mailer for `127.0.0.1:port` that logs in as [`USER`], with short timeouts.
pub fn mailer(tls: tls::ClientConfig, port: u16, mode: tls_smtp::Security) -> tls_smtp::SmtpTls {
    tls_smtp::SmtpTls::builder("127.0.0.1", tls)
        .port(port)
        .security(mode)
        .credentials(tls_smtp::Credentials::new(USER.into(), PASSWORD.into()))
        .timeout(tls_testkit::TIMEOUT)
        .build()
        .expect("mailer config")
}

pub fn envelope(from: &str, to: &[&str]) -> lettre::address::Envelope {
    lettre::address::Envelope::new(
        Some(from.parse().expect("from")),
        to.iter().map(|a| a.parse().expect("to")).collect(),
    )
    .expect("envelope")
}

/// A message whose lines start with dots, with a line that is only a dot, and 8-bit bytes.
pub const TRICKY: &[u8] = b"From: sender@example.org\r\nTo: rcpt@example.org\r\n\
Subject: dots and bytes\r\nContent-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: 8bit\r\n\r\n\
.leading dot\r\n..two dots\r\n.\r\nnot the end\r\n...\r\n\
\xc3\xa9t\xc3\xa9 \xe2\x82\xac and a lone \xff byte\r\n. space\r\n";

/// SMTP for either client: the blocking [`tls_smtp::SmtpTls`] or the tokio
/// [`tls_smtp::AsyncSmtpTls`] made from the same settings.
pub trait SmtpClient {
    fn send_raw(
        self,
        mailer: &tls_smtp::SmtpTls,
        envelope: &lettre::address::Envelope,
        body: &[u8],
    ) -> Result<tls_smtp::Response, tls_smtp::Error>;
    fn send(
        self,
        mailer: &tls_smtp::SmtpTls,
        message: &lettre::Message,
    ) -> Result<tls_smtp::Response, tls_smtp::Error>;
    fn connect(self, mailer: &tls_smtp::SmtpTls) -> Result<Conn, tls_smtp::Error>;
}

impl SmtpClient for Client {
    /// lettre's `Transport::send_raw` or `AsyncTransport::send_raw`.
    fn send_raw(
        self,
        mailer: &tls_smtp::SmtpTls,
        envelope: &lettre::address::Envelope,
        body: &[u8],
    ) -> Result<tls_smtp::Response, tls_smtp::Error> {
        match self {
            Self::Blocking => lettre::Transport::send_raw(mailer, envelope, body),
            Self::Tokio => {
                let mailer = tls_smtp::AsyncSmtpTls::from(mailer.clone());
                tls_testkit::runtime()
                    .block_on(lettre::AsyncTransport::send_raw(&mailer, envelope, body))
            }
        }
    }

    /// lettre's `Transport::send` or `AsyncTransport::send`.
    fn send(
        self,
        mailer: &tls_smtp::SmtpTls,
        message: &lettre::Message,
    ) -> Result<tls_smtp::Response, tls_smtp::Error> {
        match self {
            Self::Blocking => lettre::Transport::send(mailer, message),
            Self::Tokio => {
                let mailer = tls_smtp::AsyncSmtpTls::from(mailer.clone());
                tls_testkit::runtime()
                    .block_on(lettre::AsyncTransport::send(&mailer, message.clone()))
            }
        }
    }

    fn connect(self, mailer: &tls_smtp::SmtpTls) -> Result<Conn, tls_smtp::Error> {
        match self {
            Self::Blocking => mailer.connect().map(Conn::Blocking),
            Self::Tokio => {
                let rt = tls_testkit::runtime();
                let mailer = tls_smtp::AsyncSmtpTls::from(mailer.clone());
                let conn = rt.block_on(mailer.connect())?;
                Ok(Conn::Tokio(rt, conn))
            }
        }
    }
}

/// A connection of either client, driven to completion call by call.
#[derive(Debug)]
pub enum Conn {
    Blocking(tls_smtp::SmtpConnection),
    Tokio(tokio::runtime::Runtime, tls_smtp::AsyncSmtpConnection),
}

type Reply = Result<tls_smtp::Response, tls_smtp::Error>;

impl Conn {
    pub fn send(
        &mut self,
        envelope: &lettre::address::Envelope,
        body: &[u8],
    ) -> Result<tls_smtp::Delivery, tls_smtp::Error> {
        match self {
            Self::Blocking(c) => c.send(envelope, body),
            Self::Tokio(rt, c) => rt.block_on(c.send(envelope, body)),
        }
    }

    pub fn rset(&mut self) -> Reply {
        match self {
            Self::Blocking(c) => c.rset(),
            Self::Tokio(rt, c) => rt.block_on(c.rset()),
        }
    }

    pub fn noop(&mut self) -> Reply {
        match self {
            Self::Blocking(c) => c.noop(),
            Self::Tokio(rt, c) => rt.block_on(c.noop()),
        }
    }

    pub fn quit(self) -> Reply {
        match self {
            Self::Blocking(c) => c.quit(),
            Self::Tokio(rt, c) => rt.block_on(c.quit()),
        }
    }

    pub fn is_broken(&self) -> bool {
        match self {
            Self::Blocking(c) => c.is_broken(),
            Self::Tokio(_, c) => c.is_broken(),
        }
    }

    pub fn tls_session(&self) -> &tls::Session {
        match self {
            Self::Blocking(c) => c.tls_session(),
            Self::Tokio(_, c) => c.tls_session(),
        }
    }

    pub fn size_limit(&self) -> Option<usize> {
        match self {
            Self::Blocking(c) => c.size_limit(),
            Self::Tokio(_, c) => c.size_limit(),
        }
    }
}
