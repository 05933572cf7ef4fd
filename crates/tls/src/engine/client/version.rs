//! A PSK client that offers TLS 1.3 and TLS 1.2 in one ClientHello: the server's answer picks
//! the version. Until the ServerHello is whole the TLS 1.3 connection (which sent the hello)
//! is kept and the bytes read are held; then they are replayed into whichever connection goes
//! on: the TLS 1.3 one, or a TLS 1.2 one whose transcript starts with the hello already sent.

use std::io;
use std::sync::Arc;

use super::tls12::ClientHandshake;
use super::tls13::{Client13Params, ClientHandshake13};
use crate::engine::msgs::deframe::{FirstMessage, MAX_HANDSHAKE};
use crate::engine::msgs::{handshake, ServerHello, TLS12};
use crate::engine::tls13::Tls13Connection;
use crate::engine::{handover, Engine, Tls12Connection};
use crate::{Error, Session};

/// The TLS 1.3 attempt until the ServerHello says which version, then the connection chosen.
pub(crate) struct VersionChoice {
    tls13: Option<Tls13Connection<ClientHandshake13>>,
    params: Arc<Client13Params>,
    host: String,
    first: FirstMessage,
    chosen: Option<Box<dyn Engine>>,
    eof: bool,
}

impl VersionChoice {
    /// Starts with a ClientHello offering both versions (`params.tls12` set).
    pub(crate) fn new(params: Arc<Client13Params>, host: &str) -> Result<Self, Error> {
        let tls13 = Tls13Connection::new(ClientHandshake13::new(params.clone(), host))?;
        Ok(Self {
            tls13: Some(tls13),
            params,
            host: host.to_owned(),
            first: FirstMessage::default(),
            chosen: None,
            eof: false,
        })
    }

    /// Whether the server's first message is a ServerHello choosing TLS 1.2 (anything else,
    /// a bad message or an alert included, is the TLS 1.3 connection's to judge and report).
    fn server_chose_tls12(&mut self) -> Option<bool> {
        match self.first.whole() {
            Ok(None) if !self.eof && self.first.seen.len() <= MAX_HANDSHAKE + 1024 => None,
            Ok(Some(message)) if message[0] == handshake::SERVER_HELLO => {
                let chose_tls12 = ServerHello::decode(&message[4..]).is_ok_and(|hello| {
                    hello.version == TLS12 && hello.extensions.selected_version().is_none()
                });
                Some(chose_tls12)
            }
            _ => Some(false),
        }
    }

    /// Picks the connection once the ServerHello is whole and replays what was read into it.
    fn choose(&mut self) -> Result<(), Error> {
        let Some(tls12) = self.server_chose_tls12() else {
            return Ok(());
        };
        let Some(tls13) = self.tls13.take() else {
            return Err(Error::config("the version was chosen twice"));
        };
        let mut engine: Box<dyn Engine> = match (tls12, &self.params.tls12) {
            (true, Some(params)) => {
                let (hello, random) = tls13.handshake().first_hello();
                let handshake = ClientHandshake::after_hello(
                    params.clone(),
                    &self.host,
                    hello.to_vec(),
                    random,
                );
                Box::new(Tls12Connection::new(handshake)?)
            }
            _ => Box::new(tls13),
        };
        let mut replay = &std::mem::take(&mut self.first.seen)[..];
        while !replay.is_empty() {
            engine.read_tls(&mut replay)?;
        }
        if self.eof {
            engine.read_tls(&mut &[][..])?;
        }
        self.chosen = Some(engine);
        Ok(())
    }

    /// The connection that speaks for us now: the one chosen, else the TLS 1.3 attempt.
    fn current(&self) -> Option<&dyn Engine> {
        match (&self.chosen, &self.tls13) {
            (Some(engine), _) => Some(engine.as_ref()),
            (None, Some(tls13)) => Some(tls13),
            (None, None) => None,
        }
    }
}

impl Engine for VersionChoice {
    fn read_tls(&mut self, rd: &mut dyn io::Read) -> io::Result<usize> {
        if let Some(engine) = &mut self.chosen {
            return engine.read_tls(rd);
        }
        if self.eof {
            return Ok(0);
        }
        let mut buf = [0u8; 4096];
        let n = rd.read(&mut buf)?;
        self.eof = n == 0;
        self.first.seen.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn write_tls(&mut self, wr: &mut dyn io::Write) -> io::Result<usize> {
        match (&mut self.chosen, &mut self.tls13) {
            (Some(engine), _) => engine.write_tls(wr),
            (None, Some(tls13)) => tls13.write_tls(wr),
            (None, None) => Ok(0),
        }
    }

    fn process_new_packets(&mut self) -> Result<(), Error> {
        if self.chosen.is_none() {
            self.choose()?;
        }
        match &mut self.chosen {
            Some(engine) => engine.process_new_packets(),
            None => Ok(()),
        }
    }

    fn is_handshaking(&self) -> bool {
        self.chosen.as_ref().is_none_or(|e| e.is_handshaking())
    }

    fn wants_write(&self) -> bool {
        self.current().is_some_and(|e| e.wants_write())
    }

    fn wants_read(&self) -> bool {
        match &self.chosen {
            Some(engine) => engine.wants_read(),
            None => !self.eof,
        }
    }

    fn read_plaintext(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        handover::read_plaintext(&mut self.chosen, self.eof, buf)
    }

    fn write_plaintext(&mut self, buf: &[u8]) -> io::Result<usize> {
        handover::write_plaintext(&mut self.chosen, buf)
    }

    fn send_close_notify(&mut self) {
        if let Some(engine) = &mut self.chosen {
            engine.send_close_notify();
        }
    }

    fn session(&self) -> Session {
        handover::session(&self.chosen)
    }
}
