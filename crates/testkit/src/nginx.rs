//! nginx as a TLS peer: a static-file server with the test PKI's self-signed certificate.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::{free_port, peer, wait_listening, PeerProcess, Pki};

/// nginx serving `root` over TLS with the PKI's self-signed certificate, from a config in
/// `dir`; its port once it listens.
pub fn nginx(pki: &Pki, root: &Path, dir: &Path) -> Option<(PeerProcess, u16)> {
    nginx_with(pki, root, dir, "")
}

/// The same with more `listen` parameters (`"http2"`: HTTP/2 offered by ALPN).
pub fn nginx_with(pki: &Pki, root: &Path, dir: &Path, listen: &str) -> Option<(PeerProcess, u16)> {
    let nginx = peer("nginx")?;
    let port = free_port();
    let d = dir.display();
    let config = format!(
        // One process, no master: killing it by PID leaves no orphaned worker behind.
        "master_process off;\nuser root;\ndaemon off;\npid {d}/nginx.pid;\n\
         error_log {d}/error.log warn;\nevents {{ worker_connections 64; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d};\n  proxy_temp_path {d};\n\
         fastcgi_temp_path {d};\n  uwsgi_temp_path {d};\n  scgi_temp_path {d};\n\
         server {{\n    listen 127.0.0.1:{port} ssl {listen};\n    ssl_certificate {};\n\
         ssl_certificate_key {};\n    root {};\n  }}\n}}\n",
        pki.path("self-signed.pem").display(),
        pki.path("self-signed.key").display(),
        root.display(),
    );
    std::fs::write(dir.join("nginx.conf"), config).unwrap();
    let process = PeerProcess::spawn(
        Command::new(nginx)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .arg("-e")
            .arg(dir.join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    wait_listening(port);
    Some((process, port))
}
