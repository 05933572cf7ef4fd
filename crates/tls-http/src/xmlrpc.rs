//! XML-RPC calls over an agent (tlslite's `XMLRPCTransport`), with [dxr] for the XML.
//!
//! ```no_run
//! use tls_http::xmlrpc::{self, Value};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let agent = tls_http::agent(tls_http::config().srp("alice", "password").build()?);
//! let sum = xmlrpc::method_call(&agent, "https://localhost:4443/RPC2", "add", (2, 3))?;
//! assert_eq!(sum, Value::Integer(5));
//! # Ok(()) }
//! ```

use std::fmt;

pub use dxr::{Fault, TryFromValue, TryToParams, TryToValue, Value};
use dxr::{FaultResponse, MethodCall, MethodResponse};

/// Why an XML-RPC call did not return a value.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The HTTP exchange failed (TLS included: see [`crate::tls_error`]).
    Http(ureq::Error),
    /// The server answered with a status other than 200.
    Status(u16),
    /// The parameters could not be encoded, or the answer is not an XML-RPC response.
    Xml(dxr::Error),
    /// The server answered with a fault.
    Fault(Fault),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Http(e) => write!(f, "XML-RPC request failed: {e}"),
            Error::Status(code) => write!(f, "XML-RPC server answered HTTP status {code}"),
            Error::Xml(e) => write!(f, "not a valid XML-RPC message: {e}"),
            Error::Fault(fault) => write!(f, "XML-RPC fault {}: {}", fault.code(), fault.string()),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Http(e) => Some(e),
            Error::Xml(e) => Some(e),
            Error::Fault(fault) => Some(fault),
            Error::Status(_) => None,
        }
    }
}

impl From<ureq::Error> for Error {
    fn from(e: ureq::Error) -> Self {
        Error::Http(e)
    }
}

impl From<dxr::Error> for Error {
    fn from(e: dxr::Error) -> Self {
        Error::Xml(e)
    }
}

/// Calls `name` with `params` (a tuple, a `Vec`, or `()` for none) at `url` and returns the
/// value the method returned. A fault response becomes [`Error::Fault`].
pub fn method_call(
    agent: &ureq::Agent,
    url: &str,
    name: &str,
    params: impl TryToParams,
) -> Result<Value, Error> {
    let call = MethodCall {
        name: name.into(),
        params: params.try_to_params()?,
    };
    let request = format!("<?xml version=\"1.0\"?>{}", call.to_xml()?);
    let mut response = agent
        .post(url)
        .config()
        .http_status_as_error(false)
        .build()
        .content_type("text/xml")
        .send(request.as_bytes())?;
    if response.status() != 200 {
        return Err(Error::Status(response.status().as_u16()));
    }
    let text = response.body_mut().read_to_string()?;
    match MethodResponse::from_xml(&text) {
        Ok(answer) => Ok(answer.value),
        // Not a value: a fault is the other well-formed answer; report the first failure
        // when it is neither.
        Err(not_value) => match FaultResponse::from_xml(&text) {
            Ok(fault) => Err(Error::Fault(fault.fault)),
            Err(_) => Err(Error::Xml(not_value)),
        },
    }
}
