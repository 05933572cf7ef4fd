//! What a new user writes from the README: each function is one use it shows, and `main` runs
//! the one named on the command line against `HOST:PORT` (nothing by default: the test command
//! only builds this crate, so that it keeps compiling as the README says).

use std::error::Error;
use std::io::{Read, Write};
use std::net::TcpStream;

use tls::{ClientConfig, ServerAuth};
// Re-exported by our crates at the versions they use: no lettre, async-imap or futures-util
// in this Cargo.toml.
use tls_mail::imap::{async_imap, TryStreamExt};
use tls_smtp::lettre::{AsyncTransport, Message};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

type Result<T = ()> = std::result::Result<T, Box<dyn Error>>;

fn pinned(pin: &str) -> Result<ClientConfig> {
    Ok(ClientConfig::builder()
        .server_auth(ServerAuth::Fingerprint(pin.parse()?))
        .build()?)
}

/// The blocking client, pinned: a `TlsStream` is `Read + Write`.
fn blocking(config: &ClientConfig, host: &str, port: u16) -> Result {
    let mut tls = config.connect(host, TcpStream::connect((host, port))?)?;
    tls.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
    let mut page = String::new();
    tls.read_to_string(&mut page)?;
    println!("{} {}", tls.session().cipher_suite(), page.len());
    Ok(())
}

/// The tokio client, with SRP or a pin alike.
async fn tokio_client(config: &ClientConfig, host: &str, port: u16) -> Result {
    let tcp = tokio::net::TcpStream::connect((host, port)).await?;
    let mut tls = tls::tokio::connect(config, host, tcp).await?;
    tls.write_all(b"GET / HTTP/1.0\r\n\r\n").await?;
    let mut page = Vec::new();
    tls.read_to_end(&mut page).await?;
    println!("{:?} {}", tls.session().srp_username(), page.len());
    Ok(())
}

/// Our configuration exported to tokio-rustls.
async fn with_tokio_rustls(config: &ClientConfig, host: &str, port: u16) -> Result {
    let connector = tokio_rustls::TlsConnector::from(config.to_rustls()?);
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.to_owned())?;
    let tcp = tokio::net::TcpStream::connect((host, port)).await?;
    let mut tls = connector.connect(name, tcp).await?;
    tls.write_all(b"GET / HTTP/1.0\r\n\r\n").await?;
    Ok(())
}

/// Our configuration exported to reqwest, our error found in reqwest's.
async fn with_reqwest(config: &ClientConfig, url: &str) -> Result {
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured((*config.to_rustls()?).clone())
        .build()?;
    match client.get(url).send().await {
        Ok(response) => println!("{}", response.status()),
        Err(e) => match tls::Error::find(&e) {
            Some(tls::Error::Authentication(why)) => eprintln!("not the server we pinned: {why}"),
            Some(other) => eprintln!("TLS failed: {other}"),
            None => eprintln!("HTTP failed: {e}"),
        },
    }
    Ok(())
}

/// ureq through our stream, and hyper through our connector.
async fn http(pin: &str, url: &str) -> Result {
    let config = tls_http::config()
        .server_auth(ServerAuth::Fingerprint(pin.parse()?))
        .build()?;
    let body = tls_http::agent(config)
        .get(url)
        .call()?
        .body_mut()
        .read_to_string()?;
    println!("ureq: {} bytes", body.len());
    use http_body_util::{BodyExt, Empty};
    use hyper_util::{client::legacy::Client, rt::TokioExecutor};
    let config = tls_http::hyper_client::config()
        .server_auth(ServerAuth::Fingerprint(pin.parse()?))
        .build()?;
    let client = Client::builder(TokioExecutor::new())
        .build::<_, Empty<hyper::body::Bytes>>(tls_http::hyper_client::HttpsConnector::new(config));
    let response = client.get(url.parse()?).await?;
    let body = response.into_body().collect().await?.to_bytes();
    println!("hyper: {} bytes", body.len());
    Ok(())
}

/// Mail on tokio: lettre's `AsyncTransport`, POP3 streamed, IMAP FETCH collected.
async fn mail(config: &ClientConfig, host: &str) -> Result {
    let mailer = tls_smtp::AsyncSmtpTls::builder(host, config.clone())
        .credentials(tls_smtp::Credentials::new("alice".into(), "secret".into()))
        .build()?;
    let message = Message::builder()
        .from("alice@example.org".parse()?)
        .to("bob@example.org".parse()?)
        .subject("hi")
        .body(String::from("Hello\r\n"))?;
    mailer.send(message).await?;
    let mut pop = tls_mail::pop3::AsyncPop3Client::builder(config.clone())
        .connect(host, 995)
        .await?;
    pop.login("alice", "secret").await?;
    pop.retr_to(1, &mut tokio::io::sink()).await?;
    pop.quit().await?;
    let imap = tls_mail::imap::AsyncImapClient::builder(config.clone())
        .connect(host, 993)
        .await?;
    let mut session = imap.login("alice", "secret").await?;
    session.select("INBOX").await?;
    let fetched: Vec<async_imap::types::Fetch> =
        session.fetch("1", "RFC822").await?.try_collect().await?;
    println!("{} fetched", fetched.len());
    session.logout().await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [what, host, port, secret] = &args[..] else {
        println!("usage: tls-user-crate blocking|srp|psk|tokio|tokio-rustls|reqwest|http|mail HOST PORT PIN|PASSWORD|HEXKEY");
        return Ok(());
    };
    let port: u16 = port.parse()?;
    let url = format!("https://{host}:{port}/");
    match what.as_str() {
        "blocking" => blocking(&pinned(secret)?, host, port),
        "srp" => blocking(
            &ClientConfig::builder().srp("alice", secret).build()?,
            host,
            port,
        ),
        "psk" => {
            let psk = tls::psk::ExternalPsk::new("sensor-7", tls::psk::decode_hex(secret)?)?;
            blocking(&ClientConfig::builder().psk(psk).build()?, host, port)
        }
        "tokio" => tokio_client(&pinned(secret)?, host, port).await,
        "tokio-rustls" => with_tokio_rustls(&pinned(secret)?, host, port).await,
        "reqwest" => with_reqwest(&pinned(secret)?, &url).await,
        "http" => http(secret, &url).await,
        "mail" => mail(&pinned(secret)?, host).await,
        other => Err(format!("unknown use {other:?}").into()),
    }
}
