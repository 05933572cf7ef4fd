//! GETs several URLs concurrently with hyper over our connector, on one pooled client pinned
//! to a server certificate's SHA-256 fingerprint: one line per URL with the status, the HTTP
//! version ALPN chose and the body's size.
//!
//! ```text
//! cargo run -p tls-http --features hyper --example https_async -- SHA256-FP URL [URL…]
//! ```
//!
//! Exits 1 with the reason (a pin mismatch, an alert's name) when a request fails, 2 on bad
//! arguments.

use std::process::ExitCode;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tls::ServerAuth;
use tls_http::hyper_client::{config, tls_error, HttpsConnector};

type Failure = Box<dyn std::error::Error + Send + Sync>;

async fn fetch_all(pin: &str, urls: &[String]) -> Result<(), Failure> {
    let tls = config()
        .server_auth(ServerAuth::Fingerprint(pin.parse()?))
        .build()?;
    let client: Client<_, Empty<Bytes>> =
        Client::builder(TokioExecutor::new()).build(HttpsConnector::new(tls));
    let requests = urls.iter().cloned().map(|url| {
        let client = client.clone();
        async move {
            let response = client.get(url.parse()?).await.map_err(|e| -> Failure {
                match tls_error(&e) {
                    Some(tls) => format!("{url}: {tls}").into(),
                    None => format!("{url}: {e}").into(),
                }
            })?;
            let (status, version) = (response.status(), response.version());
            let body = response.into_body().collect().await?.to_bytes();
            Ok::<_, Failure>(format!(
                "{} {version:?} {} {url}",
                status.as_u16(),
                body.len()
            ))
        }
    });
    // Concurrently, on the client's pool; printed in the order given.
    let mut handles = Vec::new();
    for request in requests {
        handles.push(tokio::spawn(async move {
            request.await.map_err(|e| e.to_string())
        }));
    }
    for handle in handles {
        println!("{}", handle.await??);
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [pin, urls @ ..] = &args[..] else {
        eprintln!("usage: https_async SHA256-FP URL [URL…]");
        return ExitCode::from(2);
    };
    if urls.is_empty() {
        eprintln!("usage: https_async SHA256-FP URL [URL…]");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("https_async: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(fetch_all(pin, urls)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("https_async: {e}");
            ExitCode::FAILURE
        }
    }
}
