//! What both mail examples need: HOST:PORT, and exit codes (2 for bad arguments, 1 for failure).

use std::fmt::Display;
use std::process::ExitCode;

/// The errors the examples report.
pub type Failure = Box<dyn std::error::Error>;

/// `HOST:PORT` or `[IPv6]:PORT` → host (without brackets) and port.
pub fn host_port(target: &str) -> Result<(String, u16), Failure> {
    let (host, port) = target.rsplit_once(':').ok_or("HOST:PORT wanted")?;
    let port = port.parse().map_err(|e| format!("port {port:?}: {e}"))?;
    Ok((tls::adapter::bare_host(host).to_owned(), port))
}

/// Runs `run` on parsed arguments; prints the usage on bad arguments and the error on failure.
pub fn exit<A, E: Display>(
    usage: &str,
    args: Result<A, E>,
    run: impl FnOnce(A) -> Result<(), Failure>,
) -> ExitCode {
    let args = match args {
        Ok(args) => args,
        Err(e) => {
            eprintln!("error: {e}\n{usage}");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
