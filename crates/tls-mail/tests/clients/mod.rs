//! Each POP3 test runs on both clients, the blocking `Pop3Client` and the tokio
//! `AsyncPop3Client` with the same builder settings, through [`Pop`].
#![allow(dead_code)] // each test file uses its own part

use std::io::{self, Write};
use std::pin::Pin;
use std::task::{Context, Poll};

use tls_mail::pop3::{AsyncPop3Client, Error, ListEntry, Pop3Builder, Pop3Client, Stat, UidEntry};
use tls_testkit::Client;

/// Connects with the blocking client or, with the same settings, the tokio one.
pub trait ConnectWith {
    fn connect_with(&self, client: Client, host: &str, port: u16) -> Result<Pop, Error>;
}

impl ConnectWith for Pop3Builder {
    fn connect_with(&self, client: Client, host: &str, port: u16) -> Result<Pop, Error> {
        match client {
            Client::Blocking => self.connect(host, port).map(Pop::Blocking),
            Client::Tokio => {
                let rt = tls_testkit::runtime();
                let builder = Pop3Builder::<AsyncPop3Client>::from(self.clone());
                let pop = rt.block_on(builder.connect(host, port))?;
                Ok(Pop::Tokio(rt, pop))
            }
        }
    }
}

/// A session of either client, each call run to completion.
#[derive(Debug)]
pub enum Pop {
    Blocking(Pop3Client),
    Tokio(tokio::runtime::Runtime, AsyncPop3Client),
}

/// The same call on either client.
macro_rules! either {
    ($self:expr, $method:ident($($arg:expr),*)) => {
        match $self {
            Pop::Blocking(c) => c.$method($($arg),*),
            Pop::Tokio(rt, c) => rt.block_on(c.$method($($arg),*)),
        }
    };
}

/// The same accessor on either client.
macro_rules! read {
    ($self:expr, $method:ident($($arg:expr),*)) => {
        match $self {
            Pop::Blocking(c) => c.$method($($arg),*),
            Pop::Tokio(_, c) => c.$method($($arg),*),
        }
    };
}

impl Pop {
    pub fn tls_session(&self) -> &tls::Session {
        read!(self, tls_session())
    }
    pub fn greeting(&self) -> &str {
        read!(self, greeting())
    }
    pub fn capabilities(&self) -> &[String] {
        read!(self, capabilities())
    }
    pub fn has_capability(&self, name: &str) -> bool {
        read!(self, has_capability(name))
    }
    pub fn capa(&mut self) -> Result<&[String], Error> {
        either!(self, capa())
    }
    pub fn login(&mut self, user: &str, password: &str) -> Result<(), Error> {
        either!(self, login(user, password))
    }
    pub fn apop(&mut self, user: &str, password: &str) -> Result<(), Error> {
        either!(self, apop(user, password))
    }
    pub fn auth_plain(&mut self, user: &str, password: &str) -> Result<(), Error> {
        either!(self, auth_plain(user, password))
    }
    pub fn stat(&mut self) -> Result<Stat, Error> {
        either!(self, stat())
    }
    pub fn list(&mut self) -> Result<Vec<ListEntry>, Error> {
        either!(self, list())
    }
    pub fn list_one(&mut self, number: u32) -> Result<ListEntry, Error> {
        either!(self, list_one(number))
    }
    pub fn uidl(&mut self) -> Result<Vec<UidEntry>, Error> {
        either!(self, uidl())
    }
    pub fn retr(&mut self, number: u32) -> Result<Vec<u8>, Error> {
        either!(self, retr(number))
    }
    pub fn top(&mut self, number: u32, lines: u32) -> Result<Vec<u8>, Error> {
        either!(self, top(number, lines))
    }
    pub fn dele(&mut self, number: u32) -> Result<(), Error> {
        either!(self, dele(number))
    }
    pub fn rset(&mut self) -> Result<(), Error> {
        either!(self, rset())
    }
    pub fn noop(&mut self) -> Result<(), Error> {
        either!(self, noop())
    }
    pub fn quit(self) -> Result<(), Error> {
        either!(self, quit())
    }

    /// RETR into a blocking writer; the tokio client writes to it through [`SyncWriter`].
    pub fn retr_to(&mut self, number: u32, out: &mut impl Write) -> Result<u64, Error> {
        match self {
            Pop::Blocking(c) => c.retr_to(number, out),
            Pop::Tokio(rt, c) => rt.block_on(c.retr_to(number, &mut SyncWriter(out))),
        }
    }
}

/// A blocking writer as tokio's `AsyncWrite`, so that both clients meet the same writers.
pub struct SyncWriter<'a, W>(pub &'a mut W);

impl<W: Write> tokio::io::AsyncWrite for SyncWriter<'_, W> {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(self.get_mut().0.write(buf))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.get_mut().0.flush())
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}
