//! `tls fingerprint`: the trust-on-first-use probe.

use std::io::Write;

use lexopt::Arg::{Long, Value};
use lexopt::ValueExt;
use tls::HandshakeSettings;

use crate::args::{parse_timeout, CliError, Target, DEFAULT_TIMEOUT};

pub fn run(mut args: lexopt::Parser) -> Result<(), CliError> {
    let mut target = None;
    let mut timeout = DEFAULT_TIMEOUT;
    while let Some(arg) = args.next()? {
        match arg {
            Long("timeout") => timeout = parse_timeout(args.value()?)?,
            Value(v) if target.is_none() => target = Some(Target::parse(&v.string()?)?),
            _ => return Err(arg.unexpected().into()),
        }
    }
    let target = target.ok_or_else(|| CliError::Usage("missing HOST:PORT".into()))?;
    let sock = target.connect(timeout)?;
    let session = tls::dangerous::probe(&target.host, sock, &HandshakeSettings::default())?;
    let (Some(sha1), Some(sha256)) = (
        session.peer_fingerprint_sha1(),
        session.peer_fingerprint_sha256(),
    ) else {
        return Err(CliError::Other("the server sent no certificate".into()));
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "Fingerprint SHA-1: {}", sha1.to_hex())
        .and_then(|_| writeln!(out, "Fingerprint SHA-256: {}", sha256.to_hex()))
        .map_err(CliError::Output)
}
