//! Just enough HTTP/1.1 for `tls client --get`: one GET, the body to stdout.

use std::io::{BufRead, Read, Write};

use crate::args::CliError;

/// Largest header block accepted, so a hostile server cannot make us buffer forever.
const MAX_HEADER_BYTES: usize = 64 * 1024;

pub fn http_get<S: Read + Write>(
    tls: &mut tls::TlsStream<S>,
    host: &str,
    path: &str,
) -> Result<(), CliError> {
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    write!(
        tls,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: tlslite-rs\r\nConnection: close\r\n\r\n"
    )?;
    tls.flush()?;
    let bad = |why: &str| CliError::Other(format!("bad HTTP response: {why}"));
    let mut status = String::new();
    tls.read_line(&mut status)?;
    eprintln!("{}", status.trim_end());
    let (mut length, mut chunked, mut header_bytes) = (None, false, 0);
    loop {
        let mut line = String::new();
        let n = tls.read_line(&mut line)?;
        header_bytes += n;
        if n == 0 || header_bytes > MAX_HEADER_BYTES {
            return Err(bad("headers truncated or too long"));
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.parse::<u64>().map_err(|_| bad("Content-Length"))?);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            }
        }
    }
    let mut out = std::io::stdout().lock();
    if chunked {
        loop {
            let mut size = String::new();
            tls.read_line(&mut size)?;
            let size = size.trim_end().split(';').next().unwrap_or("");
            let size = u64::from_str_radix(size, 16).map_err(|_| bad("chunk size"))?;
            if size == 0 {
                break;
            }
            copy_exact(tls, &mut out, size)?;
            let mut crlf = [0u8; 2];
            tls.read_exact(&mut crlf)?;
        }
    } else if let Some(length) = length {
        copy_exact(tls, &mut out, length)?;
    } else {
        copy(tls, &mut out)?;
    }
    out.flush().map_err(CliError::Output)
}

/// `io::copy` that tells a failed read (the connection) from a failed write (our output).
fn copy(from: &mut impl Read, to: &mut impl Write) -> Result<u64, CliError> {
    let mut buf = vec![0u8; 16 * 1024];
    let mut total = 0;
    loop {
        let n = from.read(&mut buf)?;
        if n == 0 {
            return Ok(total);
        }
        to.write_all(&buf[..n]).map_err(CliError::Output)?;
        total += n as u64;
    }
}

fn copy_exact(from: &mut impl Read, to: &mut impl Write, n: u64) -> Result<(), CliError> {
    let copied = copy(&mut from.take(n), to)?;
    if copied != n {
        return Err(CliError::Other(format!(
            "body truncated: {copied} of {n} bytes"
        )));
    }
    Ok(())
}
