//! The agent against real servers: nginx with a self-signed certificate, tlslite-ng's HTTPS
//! server over TLS-SRP, and Python's XML-RPC server over TLS. A missing peer skips with a
//! message, or fails under `TLS_PEERS_REQUIRED=1`.

use std::process::{Command, Stdio};

use tls::{AuthenticationError, Error, FingerprintAlgorithm, ServerAuth, TrustRoots};
use tls_http::xmlrpc::{self, Value};
use tls_testkit::{nginx, peer, tlslite_srp_server, PeerProcess, Pki};

const USER: &str = "alice";
const PASSWORD: &str = "tr0ub4dor&3";

fn content() -> Vec<u8> {
    (0..300_000u32).map(|i| (i * 13 % 256) as u8).collect()
}

fn get(agent: &ureq::Agent, url: &str) -> Result<Vec<u8>, ureq::Error> {
    agent.get(url).call()?.body_mut().read_to_vec()
}

#[test]
fn nginx_self_signed_with_a_pin_and_with_custom_roots() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file.bin"), content()).unwrap();
    let Some((_nginx, port)) = nginx(&pki, dir.path(), dir.path()) else {
        return;
    };
    let url = format!("https://127.0.0.1:{port}/file.bin");

    let pin = pki.self_signed.fingerprint(FingerprintAlgorithm::Sha256);
    let pinned = tls_http::config()
        .server_auth(ServerAuth::Fingerprint(pin))
        .build()
        .unwrap();
    assert_eq!(get(&tls_http::agent(pinned), &url).unwrap(), content());

    let roots = TrustRoots::from_pem_file(pki.path("self-signed.pem")).unwrap();
    let rooted = tls_http::config()
        .server_auth(ServerAuth::Roots(roots))
        .build()
        .unwrap();
    let agent = tls_http::agent(rooted);
    assert_eq!(get(&agent, &url).unwrap(), content());
    // nginx keeps the connection alive: the second request rides the pooled one.
    assert_eq!(get(&agent, &url).unwrap(), content());

    let wrong = pki.server.fingerprint(FingerprintAlgorithm::Sha256);
    let mismatched = tls_http::config()
        .server_auth(ServerAuth::Fingerprint(wrong))
        .build()
        .unwrap();
    let e = get(&tls_http::agent(mismatched), &url).unwrap_err();
    assert!(
        matches!(
            tls_http::tls_error(&e),
            Some(Error::Authentication(
                AuthenticationError::FingerprintMismatch { .. }
            ))
        ),
        "{e:?}"
    );
}

#[test]
fn tlslite_ng_srp_server_serves_a_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file.bin"), content()).unwrap();
    let Some((_server, port)) = tlslite_srp_server(dir.path(), USER, PASSWORD, None) else {
        return;
    };
    let agent = tls_http::agent(tls_http::config().srp(USER, PASSWORD).build().unwrap());
    let url = format!("https://localhost:{port}/file.bin");
    assert_eq!(get(&agent, &url).unwrap(), content());

    let wrong = tls_http::agent(tls_http::config().srp(USER, "wrong").build().unwrap());
    let e = get(&wrong, &url).unwrap_err();
    assert!(
        matches!(
            tls_http::tls_error(&e),
            Some(Error::LocalAlert { .. } | Error::RemoteAlert { .. })
        ),
        "{e:?}"
    );
}

/// Python's `SimpleXMLRPCServer` behind `ssl`, with `add`, `reverse` and `fail` (raises).
const XMLRPC_SERVER: &str = r#"
import ssl, sys
from xmlrpc.server import SimpleXMLRPCServer
server = SimpleXMLRPCServer(("127.0.0.1", 0), logRequests=False)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[1], sys.argv[2])
server.socket = context.wrap_socket(server.socket, server_side=True)
server.register_function(lambda a, b: a + b, "add")
server.register_function(lambda s: {"reversed": s[::-1], "length": len(s)}, "reverse")
def fail():
    raise ValueError("refused on purpose")
server.register_function(fail, "fail")
print("PORT", server.server_address[1], flush=True)
server.serve_forever()
"#;

#[test]
fn xmlrpc_calls_to_pythons_server_over_tls() {
    let Some(python) = peer("python3") else {
        return;
    };
    let pki = Pki::new();
    let (_server, port) = PeerProcess::spawn_printing_port(
        Command::new(python)
            .args(["-c", XMLRPC_SERVER])
            .arg(pki.path("server.pem"))
            .arg(pki.path("server.key"))
            .stdin(Stdio::null()),
        "PORT",
    );
    let config = tls_http::config()
        .server_auth(ServerAuth::Roots(pki.roots()))
        .build()
        .unwrap();
    let agent = tls_http::agent(config);
    let url = format!("https://127.0.0.1:{port}/RPC2");

    let sum = xmlrpc::method_call(&agent, &url, "add", (40, 2)).unwrap();
    assert_eq!(sum, Value::Integer(42));

    let Value::Struct(fields) = xmlrpc::method_call(&agent, &url, "reverse", ("tlslite",)).unwrap()
    else {
        panic!("reverse returns a struct");
    };
    assert_eq!(fields["reversed"], Value::String("etilslt".into()));
    assert_eq!(fields["length"], Value::Integer(7));

    match xmlrpc::method_call(&agent, &url, "fail", ()) {
        Err(xmlrpc::Error::Fault(fault)) => {
            assert!(fault.string().contains("refused on purpose"), "{fault}")
        }
        other => panic!("expected a fault, got {other:?}"),
    }
    assert!(matches!(
        xmlrpc::method_call(&agent, &url, "no_such_method", ()),
        Err(xmlrpc::Error::Fault(_))
    ));
}
