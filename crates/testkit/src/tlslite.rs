//! tlslite-ng's HTTPS file server over TLS-SRP, as a real peer.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::{free_port, peer, run, succeeded, wait_listening, PeerProcess};

/// tlslite-ng's `tls.py server` over SRP for one user (a 2048-bit verifier), serving the files
/// in `dir`, where its verifier database goes too. `x509` (key, certificate) adds the SRP-RSA
/// suites. Listening on `localhost` when this returns; `None` when tlslite-ng is missing.
pub fn tlslite_srp_server(
    dir: &Path,
    user: &str,
    password: &str,
    x509: Option<(&Path, &Path)>,
) -> Option<(PeerProcess, u16)> {
    let tls_py = peer("tls.py")?;
    let tlsdb_py = peer("tlsdb.py")?;
    let db = dir.join("verifiers");
    succeeded(&run(Command::new(&tlsdb_py).arg("createsrp").arg(&db), b""));
    succeeded(&run(
        Command::new(&tlsdb_py)
            .arg("add")
            .arg(&db)
            .args([user, password, "2048"]),
        b"",
    ));
    let port = free_port();
    let mut command = Command::new(tls_py);
    command.arg("server");
    if let Some((key, cert)) = x509 {
        command.arg("-k").arg(key).arg("-c").arg(cert);
    }
    let process = PeerProcess::spawn(
        command
            .arg("-v")
            .arg(&db)
            .arg(format!("localhost:{port}"))
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    wait_listening(port);
    Some((process, port))
}
