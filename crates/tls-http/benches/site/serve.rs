//! A folder served over HTTPS by our threaded server (benches and the example's test).

use tls::ServerConfig;
use tls_server::{RunningServer, StaticFiles, TlsServer};
use tls_testkit::Pki;

/// `root` served by `StaticFiles` on the threaded `TlsServer` with the PKI's server certificate.
pub fn serve(pki: &Pki, root: &std::path::Path) -> RunningServer {
    let config = ServerConfig::builder()
        .cert_chain(pki.server.chain(), pki.server.key())
        .build()
        .unwrap();
    TlsServer::builder(config)
        .bind("127.0.0.1:0")
        .unwrap()
        .spawn(StaticFiles::new(root).unwrap())
}
