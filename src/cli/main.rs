//! `tls`: an HTTPS file server, a TLS client and a trust-on-first-use probe (tlslite's
//! `tls.py`).

#![forbid(unsafe_code)]

mod args;
mod client;
mod fingerprint;
mod http_get;
mod identity;
mod logger;
mod server;

use std::process::ExitCode;

const USAGE: &str = "\
usage:
  tls server [-c CERT -k KEY] [-v DB] [--psk-db DB] [--sni NAME:CERT:KEY]... [--strict-sni] [-d DIR]
             [--hidden] [--no-index] [--no-precompressed] [--reqcert --cafile PEM]
             [--alpn P]... [--cipher NAME]... [--min-ver tls1.2|tls1.3] [--max-ver tls1.2|tls1.3]
             [--accept-psk-without-forward-secrecy] [--max-connections N] [--max-connections-per-ip N] [--idle-timeout SECS]
             [--threaded] [--ephemeral] HOST:PORT
      Serve DIR (default: the current folder) over HTTPS. Without -c/-k, a
      self-signed certificate is made for HOST and its fingerprints printed,
      ready for `tls client --fingerprint`; it is kept (key 0600, under
      $XDG_DATA_HOME or ~/.local/share, in tlslite/server/) and the same at
      every start, so a pin survives restarts; --ephemeral makes a new one at
      each start and keeps nothing. Port 0 picks a free port.
      --reqcert demands a client certificate issued by the --cafile roots.
      --cipher limits the suites (IANA names, e.g. TLS_AES_128_GCM_SHA256).
      -v DB serves TLS-SRP to the users of a `tlsdb` database; with -c/-k too,
      X.509 clients are served on the same port (and with an RSA key, SRP-RSA).
      With a postgres:// URL, every server given it shares the users, the ticket
      keys and the SRP sessions: a fleet behind one name. A database off this
      machine needs ?sslmode=verify-full&sslrootcert=CA.pem (or sslmode=disable).
      --psk-db DB serves clients holding a pre-shared key of a `tlsdb` database
      (a SQLite file or postgres:// URL; it may be the -v one). Over TLS 1.3, a
      client offering a known identity gets the PSK handshake, any other is
      served as without --psk-db (by certificate or SRP), or refused with
      unknown_psk_identity when the server has neither. A TLS 1.2 client
      offering the ECDHE_PSK suites gets them (its identity comes later: an
      unknown one is unknown_psk_identity). --min-ver/--max-ver keep one version.
      --accept-psk-without-forward-secrecy also takes clients offering only
      psk_ke (TLS 1.3) or plain PSK (TLS_PSK_WITH_AES_128_GCM_SHA256): a key
      found later then opens their recorded sessions.
      --sni gives clients asking for NAME by SNI that certificate instead of the
      default; --strict-sni refuses names with no certificate (unrecognized_name).
      The databases (with their -wal/-shm), CERT and KEY are never served, and
      names starting with a dot are hidden unless --hidden is given.
      A folder shows its index.html, or a sortable listing (--no-index: always
      the listing). NAME.br or NAME.gz beside NAME goes to clients that accept
      it (--no-precompressed: never).
      --max-connections (default 4096) caps connections served at once, and
      --max-connections-per-ip (default 128) those from one address.
      --idle-timeout (default 20) is how long a connection may wait for its
      next request, and the longest a request head may take to arrive.
      The server is event-driven (tokio, a worker per core) and offers HTTP/2
      and HTTP/1.1 by ALPN; --threaded runs the thread-per-connection server
      instead, HTTP/1.1 only.
  tls client [--fingerprint FP] [--cafile PEM] [-c CERT -k KEY] [-u USER -p PASSWORD]
             [--psk-identity ID --psk-key HEX | --psk-file FILE] [--psk-hash sha256|sha384]
             [--psk-without-forward-secrecy] [--alpn P]... [--cipher NAME]...
             [--min-ver tls1.2|tls1.3] [--max-ver tls1.2|tls1.3] [--no-sni]
             [--resume | --resume-at HOST:PORT] [--get PATH] [--timeout SECS] HOST:PORT
      Handshake with HOST:PORT and print the session as `Name: value` lines.
      The server is verified against the Mozilla roots unless --cafile or
      --fingerprint (SHA-1 or SHA-256 of its certificate) says otherwise.
      -u/-p log in with TLS-SRP (password-authenticated TLS 1.2, no certificates).
      --psk-identity/--psk-key connect with a pre-shared key (no certificates):
      TLS 1.3 (psk_dhe_ke) from a server that has it, else the TLS 1.2 ECDHE_PSK
      suites; --max-ver tls1.2 offers TLS 1.2 only, --cipher takes the suites'
      IANA names (TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256 …). --psk-file
      offers every identity:hexkey line of FILE (the format of GnuTLS's psktool
      and mosquitto's psk_file; TLS 1.2 names the first).
      --psk-without-forward-secrecy offers psk_ke / plain PSK only (no ECDHE),
      for a peer that has nothing else.
      --get PATH fetches PATH over HTTP/1.1 and prints the body; --timeout then
      bounds the connection, the response head and the whole body, each.
      --resume connects a second time, resuming, and prints that session too;
      --resume-at does it at another address (another server of the same name).
  tls fingerprint [--timeout SECS] HOST:PORT
      Print the fingerprints of the server's certificate without trusting it
      or sending any data, so that it can be pinned with --fingerprint.
";

fn main() -> ExitCode {
    let mut args = lexopt::Parser::from_env();
    let result = match args.next() {
        Ok(Some(lexopt::Arg::Value(cmd))) if cmd == "server" => {
            logger::init();
            server::run(args)
        }
        Ok(Some(lexopt::Arg::Value(cmd))) if cmd == "client" => client::run(args),
        Ok(Some(lexopt::Arg::Value(cmd))) if cmd == "fingerprint" => fingerprint::run(args),
        Ok(Some(lexopt::Arg::Short('h') | lexopt::Arg::Long("help"))) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(_) => Err(args::CliError::Usage(
            "expected a command: server, client or fingerprint".into(),
        )),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our output went away (`tls client … | head`): nothing left to say.
        Err(args::CliError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(args::CliError::Usage(why)) => {
            eprintln!("tls: {why}\n\n{USAGE}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("tls: {e}");
            ExitCode::FAILURE
        }
    }
}
