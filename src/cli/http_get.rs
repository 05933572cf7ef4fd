//! `tls client --get`: one GET through `tls-http`'s ureq agent, the session of the connection
//! it made on stdout, then the body; the status line on stderr.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tls::{Checker, ClientConfigBuilder, Session};

use crate::args::{print_session, CliError, Target};

/// The session of the connection the agent makes, kept by a Checker that refuses nothing (the
/// agent hides its connections; the Checker sees every handshake).
#[derive(Clone, Default)]
pub struct Handshakes(Arc<Mutex<Option<Session>>>);

impl Handshakes {
    /// `builder` with a Checker that keeps each session here.
    pub fn record(&self, builder: ClientConfigBuilder) -> ClientConfigBuilder {
        let slot = self.0.clone();
        builder.checker(Checker::new().custom(move |session| {
            *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(session.clone());
            Ok(())
        }))
    }

    fn take(&self) -> Option<Session> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// GETs `path` from `address` (naming the server as `target.host`), on a fresh agent so that
/// each call makes its own connection (and a second one resumes the first's session).
pub fn http_get(
    config: &tls::ClientConfig,
    handshakes: &Handshakes,
    target: &Target,
    address: &Target,
    path: &str,
    timeout: Duration,
) -> Result<(), CliError> {
    if address.host != target.host {
        return Err(CliError::Usage(
            "--get goes to the server by its name: --resume-at must name the same host".into(),
        ));
    }
    if !path.starts_with('/') {
        return Err(CliError::Usage(format!(
            "--get {path:?}: a path starts with /"
        )));
    }
    let host = if target.host.contains(':') {
        format!("[{}]", target.host)
    } else {
        target.host.clone()
    };
    let http = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent("tlslite-rs")
        .timeout_connect(Some(timeout))
        .timeout_send_request(Some(timeout))
        .timeout_recv_response(Some(timeout))
        .timeout_recv_body(Some(timeout))
        .build();
    let agent = tls_http::agent_with(http, config.clone());
    let url = format!("https://{host}:{}{path}", address.port);
    let mut response = agent
        .get(&url)
        .call()
        .map_err(|e| match tls_http::tls_error(&e) {
            Some(tls) => CliError::Tls(tls),
            None => CliError::Other(format!("{url}: {e}")),
        })?;
    let session = handshakes
        .take()
        .ok_or_else(|| CliError::Other("no TLS handshake was seen".into()))?;
    print_session(&session)?;
    eprintln!("{:?} {}", response.version(), response.status());
    let mut body = response.body_mut().as_reader();
    let mut out = std::io::stdout().lock();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match body.read(&mut buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            read => read.map_err(|e| CliError::Other(format!("reading the body: {e}")))?,
        };
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n]).map_err(CliError::Output)?;
    }
    out.flush().map_err(CliError::Output)
}
