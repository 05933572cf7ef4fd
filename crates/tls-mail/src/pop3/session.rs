//! The POP3 conversation, written once for the blocking and the tokio clients: every command,
//! its reply, listings and streamed messages, over a [`LineStream`].

use base64::Engine as _;
use md5::{Digest, Md5};

use super::client::{ListEntry, Stat, UidEntry};
use super::parse;
use super::wire::{Body, Wire};
use super::Error;
use crate::line_stream::{LineStream, MessageSink};

/// The cap on CAPA lines (RFC 2449 servers send a dozen or so).
const MAX_CAPA_LINES: usize = 1000;

/// CAPA before and after TLS.
pub(crate) const CAPA: Body = Body::Listing {
    max_lines: MAX_CAPA_LINES,
};

/// A POP3 session over TLS: the state both clients keep, and the conversation.
pub(crate) struct Session<S> {
    pub wire: Wire<S>,
    pub greeting: String,
    pub capabilities: Vec<String>,
    pub max_listing: usize,
}

/// For STLS: the plaintext greeting, CAPA and STLS, up to the handshake. Returns the greeting.
/// The caller then checks that nothing more was buffered before it starts TLS.
pub(crate) async fn stls<S: LineStream>(wire: &mut Wire<S>) -> Result<String, Error> {
    let greeting = wire.status("greeting").await?;
    // RFC 2595: STLS is announced in CAPA. A server without CAPA may still know STLS.
    let offered = match wire.command("CAPA").await {
        Ok(_) => {
            let mut stls = false;
            wire.body(CAPA, |line| {
                stls |= parse::words(line)
                    .first()
                    .is_some_and(|w| w.eq_ignore_ascii_case(b"STLS"));
                Ok(())
            })
            .await?;
            stls
        }
        Err(Error::Server { .. }) => true,
        Err(e) => return Err(e),
    };
    if !offered {
        let _ = wire.command("QUIT").await;
        return Err(Error::StartTlsNotOffered);
    }
    match wire.command("STLS").await {
        Ok(_) => Ok(greeting),
        Err(Error::Server { message, .. }) => Err(Error::StartTlsRefused(message)),
        Err(e) => Err(e),
    }
}

impl<S: LineStream> Session<S> {
    /// Over TLS: reads the greeting unless STLS already did, then asks CAPA.
    pub async fn open(
        mut wire: Wire<S>,
        plain_greeting: Option<String>,
        max_listing: usize,
    ) -> Result<Self, Error> {
        let greeting = match plain_greeting {
            Some(greeting) => greeting,
            None => wire.status("greeting").await?,
        };
        let mut session = Self {
            wire,
            greeting,
            capabilities: Vec::new(),
            max_listing,
        };
        session.capa().await?;
        Ok(session)
    }

    pub fn has_capability(&self, name: &str) -> bool {
        self.capabilities.iter().any(|line| {
            line.split_whitespace()
                .next()
                .is_some_and(|w| w.eq_ignore_ascii_case(name))
        })
    }

    pub async fn capa(&mut self) -> Result<&[String], Error> {
        self.capabilities.clear();
        match self.wire.command("CAPA").await {
            Ok(_) => {}
            Err(Error::Server { .. }) => return Ok(&self.capabilities),
            Err(e) => return Err(e),
        }
        let mut lines = Vec::new();
        self.wire
            .body(CAPA, |line| {
                lines.push(String::from_utf8_lossy(line).trim_end().to_owned());
                Ok(())
            })
            .await?;
        self.capabilities = lines;
        Ok(&self.capabilities)
    }

    pub async fn login(&mut self, user: &str, password: &str) -> Result<(), Error> {
        // Both checked before either is sent.
        let (user, password) = (user_arg(user)?, arg(password, "password")?);
        self.wire.command(&format!("USER {user}")).await?;
        self.wire.command(&format!("PASS {password}")).await?;
        Ok(())
    }

    pub async fn apop(&mut self, user: &str, password: &str) -> Result<(), Error> {
        let stamp =
            parse::apop_timestamp(self.greeting.as_bytes()).ok_or(Error::NoApopTimestamp)?;
        let mut md5 = Md5::new();
        md5.update(stamp);
        md5.update(arg(password, "password")?.as_bytes());
        let digest: String = md5.finalize().iter().map(|b| format!("{b:02x}")).collect();
        let command = format!("APOP {} {digest}", user_arg(user)?);
        self.wire.command(&command).await?;
        Ok(())
    }

    pub async fn auth_plain(&mut self, user: &str, password: &str) -> Result<(), Error> {
        let token = format!("\0{}\0{}", arg(user, "user")?, arg(password, "password")?);
        let encoded = base64::engine::general_purpose::STANDARD.encode(token);
        self.wire.command(&format!("AUTH PLAIN {encoded}")).await?;
        Ok(())
    }

    pub async fn stat(&mut self) -> Result<Stat, Error> {
        let (count, size) = self.numbers("STAT").await?;
        Ok(Stat { count, size })
    }

    pub async fn list(&mut self) -> Result<Vec<ListEntry>, Error> {
        self.listing("LIST", |line| {
            let (number, size) = parse::number_and_size(line)?;
            Some(ListEntry { number, size })
        })
        .await
    }

    pub async fn list_one(&mut self, number: u32) -> Result<ListEntry, Error> {
        let (number, size) = self.numbers(&format!("LIST {number}")).await?;
        Ok(ListEntry { number, size })
    }

    pub async fn uidl(&mut self) -> Result<Vec<UidEntry>, Error> {
        self.listing("UIDL", |line| {
            let (number, uid) = parse::number_and_uid(line)?;
            let uid = String::from_utf8_lossy(uid).into_owned();
            Some(UidEntry { number, uid })
        })
        .await
    }

    /// A simple command whose `+OK` text does not matter (DELE, RSET, NOOP).
    pub async fn simple(&mut self, command: &str) -> Result<(), Error> {
        self.wire.command(command).await.map(drop)
    }

    /// The `number size` pair in a one-line reply (STAT, LIST with an argument).
    async fn numbers(&mut self, command: &str) -> Result<(u32, u64), Error> {
        let text = self.wire.command(command).await?;
        parse::number_and_size(text.as_bytes()).ok_or_else(|| {
            let verb = command.split(' ').next().unwrap_or_default();
            Error::malformed(&format!("{verb} reply"), text.as_bytes())
        })
    }

    /// A multi-line listing, one entry per line; a line `entry` cannot read is malformed.
    async fn listing<T>(
        &mut self,
        command: &str,
        entry: impl Fn(&[u8]) -> Option<T>,
    ) -> Result<Vec<T>, Error> {
        self.wire.command(command).await?;
        let mut entries = Vec::new();
        let kind = Body::Listing {
            max_lines: self.max_listing,
        };
        self.wire
            .body(kind, |line| {
                let parsed = entry(line)
                    .ok_or_else(|| Error::malformed(&format!("{command} line"), line))?;
                entries.push(parsed);
                Ok(())
            })
            .await?;
        Ok(entries)
    }

    /// RETR or TOP into `out`, piece by piece. A writer error still reads the message to its
    /// end, so the next command gets its own reply; then the writer's error comes back.
    pub async fn body_to(
        &mut self,
        command: &str,
        out: &mut impl MessageSink,
    ) -> Result<u64, Error> {
        self.wire.command(command).await?;
        let mut state = self.wire.start_body(Body::Message);
        let mut written = 0u64;
        let mut failed = None;
        while let Some(data) = self.wire.next_piece(&mut state).await? {
            if failed.is_none() {
                match out.write_all(data).await {
                    Ok(()) => written += data.len() as u64,
                    Err(e) => failed = Some(Error::Io(e)),
                }
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
        out.flush().await.map_err(Error::Io)?;
        Ok(written)
    }
}

/// An argument for a command line: no CR or LF (they would end the command and start another)
/// and no NUL (it separates the fields of AUTH PLAIN).
fn arg<'a>(value: &'a str, what: &'static str) -> Result<&'a str, Error> {
    if value.is_empty() || value.contains(['\r', '\n', '\0']) {
        return Err(Error::InvalidArgument(what));
    }
    Ok(value)
}

/// A user name for USER and APOP, where a space would split it into two arguments.
fn user_arg(user: &str) -> Result<&str, Error> {
    if user.contains(|c: char| c.is_ascii_whitespace()) {
        return Err(Error::InvalidArgument("user"));
    }
    arg(user, "user")
}

/// The accessors both clients have, read from their `session` field.
macro_rules! session_accessors {
    () => {
        /// The server's greeting (the text after `+OK`). With [`Security::StartTls`] this is
        /// the plaintext greeting from before STLS, which an attacker on the path could have
        /// changed (the server sends no second one over TLS); the APOP timestamp comes from
        /// it too.
        ///
        /// [`Security::StartTls`]: crate::Security::StartTls
        pub fn greeting(&self) -> &str {
            &self.session.greeting
        }

        /// The CAPA lines from the last `capa` (empty if the server has no CAPA).
        pub fn capabilities(&self) -> &[String] {
            &self.session.capabilities
        }

        /// Whether a CAPA line starts with `name` (`"TOP"`, `"UIDL"`, `"SASL"`…), in any case.
        pub fn has_capability(&self, name: &str) -> bool {
            self.session.has_capability(name)
        }
    };
}
pub(crate) use session_accessors;

impl<S> std::fmt::Debug for Session<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pop3Client")
            .field("greeting", &self.greeting)
            .field("capabilities", &self.capabilities)
            .finish_non_exhaustive()
    }
}
