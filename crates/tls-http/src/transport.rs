//! The ureq glue: the one module that touches `ureq::unversioned`, whose API does not follow
//! semver (the workspace pins ureq to `~3.5` for that reason).

use std::io::{Read, Write};

use tls::{ClientConfig, TlsStream};
use ureq::unversioned::transport::{
    Buffers, ConnectProxyConnector, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout,
    TcpConnector, Transport, TransportAdapter,
};

/// The connector chain of an agent: ureq's HTTP CONNECT proxy and TCP connectors, then our
/// TLS for `https://` URLs.
pub(crate) fn chain(config: ClientConfig) -> impl Connector {
    ().chain(ConnectProxyConnector::default())
        .chain(TcpConnector::default())
        .chain(TlsConnector { config })
}

/// Wraps the transport below it in a [`TlsStream`] when the URL is `https://`.
#[derive(Debug)]
pub(crate) struct TlsConnector {
    config: ClientConfig,
}

impl<In: Transport> Connector<In> for TlsConnector {
    type Out = Either<In, HttpsTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            // Nothing below us made a connection: not ours to invent one.
            return Ok(None);
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let host = details
            .uri
            .host()
            .ok_or_else(|| ureq::Error::BadUri(format!("{}: no host", details.uri)))?;
        // `Uri::host` keeps IPv6 brackets; certificates and SNI want the bare address.
        let host = tls::adapter::bare_host(host);

        let mut io = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        io.set_timeout(details.timeout);
        let stream = self.config.connect(host, io).map_err(into_ureq)?;
        log::debug!(
            "https {}: {} {}",
            details.uri,
            stream.session().version(),
            stream.session().cipher_suite()
        );
        let buffers = LazyBuffers::new(
            details.config.input_buffer_size(),
            details.config.output_buffer_size(),
        );
        Ok(Some(Either::B(HttpsTransport { buffers, stream })))
    }
}

/// One TLS connection as ureq sees it.
#[derive(Debug)]
pub(crate) struct HttpsTransport {
    buffers: LazyBuffers,
    stream: TlsStream<TransportAdapter>,
}

impl Transport for HttpsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let output = &self.buffers.output()[..amount];
        self.stream.write_all(output).map_err(io_into_ureq)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let n = self.stream.read(input).map_err(io_into_ureq)?;
        self.buffers.input_appended(n);
        Ok(n > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}

/// Our stream's I/O errors carry a [`tls::Error`]; unwrap it so the mapping below sees it.
fn io_into_ureq(e: std::io::Error) -> ureq::Error {
    into_ureq(tls::Error::from(e))
}

/// Maps a TLS failure into ureq's error, keeping it reachable with [`crate::tls_error`].
///
/// A transport failure below TLS may itself be one of ureq's errors (its timeouts are): that
/// one is handed back as it was, so `ureq::Error::Timeout` stays a timeout.
pub(crate) fn into_ureq(e: tls::Error) -> ureq::Error {
    match e {
        tls::Error::Io(io) if io.get_ref().is_some_and(|inner| inner.is::<ureq::Error>()) => {
            ureq::Error::from(io)
        }
        other => ureq::Error::Io(other.into()),
    }
}
