//! `HttpTlsConnection`: requests to one host, answered in full (tlslite's `HTTPTLSConnection`).

use tls::ClientConfig;
use ureq::http;

/// Requests to one HTTPS server over a pooled agent, each answered with the whole response.
///
/// Statuses are answers, not errors (a 404 is a [`Response`]), and redirects are returned
/// rather than followed: this talks to one host. For anything richer, use [`crate::agent`].
///
/// ```no_run
/// use tls::ServerAuth;
/// use tls_http::HttpTlsConnection;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let config = tls_http::config().srp("alice", "password").build()?;
/// let connection = HttpTlsConnection::new("localhost", 4443, config);
/// let response = connection.request("GET", "/index.html", &[], b"")?;
/// println!("{} {} bytes", response.status, response.body.len());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct HttpTlsConnection {
    agent: ureq::Agent,
    origin: String,
    body_limit: u64,
}

/// A whole HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code, such as 200.
    pub status: u16,
    /// The standard reason phrase of the status (ureq does not keep the server's own).
    pub reason: String,
    /// Header names (lowercase) and values in the order received.
    pub headers: Vec<(String, String)>,
    /// The body, decoded from its transfer encoding.
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl HttpTlsConnection {
    /// Requests to `https://host:port` with `config` deciding how the server is trusted.
    pub fn new(host: &str, port: u16, config: ClientConfig) -> Self {
        let http = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .build();
        // An IPv6 literal needs brackets in a URL.
        let origin = if host.contains(':') {
            format!("https://[{host}]:{port}")
        } else {
            format!("https://{host}:{port}")
        };
        Self {
            agent: crate::agent_with(http, config),
            origin,
            body_limit: 64 * 1024 * 1024,
        }
    }

    /// Refuses response bodies longer than `bytes` (64 MiB unless set) with
    /// [`ureq::Error::BodyExceedsLimit`] rather than holding them in memory.
    pub fn body_limit(mut self, bytes: u64) -> Self {
        self.body_limit = bytes;
        self
    }

    /// The agent behind this connection, for streaming or anything else ureq does.
    pub fn agent(&self) -> &ureq::Agent {
        &self.agent
    }

    /// Sends `method path` with the given headers and body, and reads the whole response.
    ///
    /// `path` starts with `/`. An empty `body` sends none.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Response, ureq::Error> {
        let mut request = http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.origin));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut response = if body.is_empty() {
            self.agent.run(request.body(())?)?
        } else {
            self.agent.run(request.body(body)?)?
        };
        let status = response.status();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_owned(), value)
            })
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(self.body_limit)
            .read_to_vec()?;
        Ok(Response {
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("").to_owned(),
            headers,
            body,
        })
    }
}
