//! The plaintext part of IMAP STARTTLS (RFC 3501 §6.2.1), written once for the blocking and
//! tokio clients: the greeting, our STARTTLS, and its tagged OK.

use crate::line_stream::LineStream;

use super::Error;

/// The tag of our one plaintext command; the `imap` crate numbers its own from `a1`.
const STARTTLS_TAG: &str = "a0";

/// Cap on a plaintext line (greeting, capability and STARTTLS replies are short).
const MAX_PLAIN_LINE: usize = 8 * 1024;

/// Cap on untagged lines before the tagged reply to STARTTLS.
const MAX_UNTAGGED: usize = 100;

/// Reads the plaintext greeting, sends STARTTLS and waits for its tagged OK. Returns the
/// greeting; the caller checks that nothing else is buffered before the handshake.
pub(crate) async fn starttls(stream: &mut impl LineStream) -> Result<String, Error> {
    let greeting = check_greeting(&read_line(stream).await?, false)?;
    let command = format!("{STARTTLS_TAG} STARTTLS\r\n");
    stream.send(command.as_bytes()).await.map_err(Error::Io)?;
    await_tagged_ok(stream).await?;
    Ok(greeting)
}

/// Reads past untagged lines (a CAPABILITY, say) to the tagged reply to STARTTLS: OK, or
/// the reason it was refused.
pub(crate) async fn await_tagged_ok(stream: &mut impl LineStream) -> Result<(), Error> {
    let prefix = format!("{STARTTLS_TAG} ");
    // An endless stream of untagged lines is not a reply.
    for _ in 0..MAX_UNTAGGED {
        let line = read_line(stream).await?;
        let text = String::from_utf8_lossy(&line).trim_end().to_owned();
        if text.starts_with("* ") {
            continue;
        }
        let Some(status) = text.strip_prefix(&prefix) else {
            return Err(Error::StartTlsRefused(format!("unexpected reply {text:?}")));
        };
        let word = status.split(' ').next().unwrap_or_default();
        if word.eq_ignore_ascii_case("OK") {
            return Ok(());
        }
        return Err(Error::StartTlsRefused(status.to_owned()));
    }
    Err(Error::StartTlsRefused("no tagged reply".into()))
}

/// One CRLF-terminated line of at most [`MAX_PLAIN_LINE`] bytes.
pub(crate) async fn read_line(stream: &mut impl LineStream) -> Result<Vec<u8>, Error> {
    let mut line = Vec::new();
    loop {
        let buf = stream.fill_buf().await.map_err(Error::Io)?;
        if buf.is_empty() {
            return Err(Error::ConnectionClosed);
        }
        let room = &buf[..buf.len().min(MAX_PLAIN_LINE - line.len())];
        let (take, ends) = match memchr::memchr(b'\n', room) {
            Some(i) => (i + 1, true),
            None => (room.len(), false),
        };
        line.extend_from_slice(&room[..take]);
        stream.consume(take);
        if ends {
            return Ok(line);
        }
        if line.len() >= MAX_PLAIN_LINE {
            return Err(Error::LineTooLong);
        }
    }
}

/// Accepts `* OK …`, and `* PREAUTH …` only over TLS (a plaintext PREAUTH leaves no room for
/// STARTTLS). Returns the line without its ending.
pub(crate) fn check_greeting(line: &[u8], tls: bool) -> Result<String, Error> {
    // The first line only: async-imap hands over its whole read buffer behind the response.
    let line = line.split(|&b| b == b'\n').next().unwrap_or_default();
    let text = String::from_utf8_lossy(line).trim_end().to_owned();
    let upper = text.to_ascii_uppercase();
    if upper.starts_with("* OK") || (tls && upper.starts_with("* PREAUTH")) {
        Ok(text)
    } else {
        Err(Error::Greeting(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A greeting handed over with the rest of a read buffer behind it (async-imap's whole
    /// buffer: the line, its CRLF, then zeros) is the line alone.
    #[test]
    fn the_greeting_is_its_line_alone() {
        let mut buffer = b"* OK [CAPABILITY IMAP4rev1] ready\r\n".to_vec();
        buffer.resize(4096, 0);
        assert_eq!(
            check_greeting(&buffer, true).unwrap(),
            "* OK [CAPABILITY IMAP4rev1] ready"
        );
        let refused = check_greeting(b"* BYE go away\r\n\0\0", true).unwrap_err();
        assert!(matches!(refused, Error::Greeting(text) if text == "* BYE go away"));
    }
}
