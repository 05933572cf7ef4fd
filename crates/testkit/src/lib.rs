//! Test fixtures shared by the workspace's tests: a throwaway PKI, loopback helpers, and the
//! rules for real peers (skip loudly when missing, fail under `TLS_PEERS_REQUIRED=1`).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod aiosmtpd;
pub mod bench;
mod clients;
mod dovecot;
mod examples;
mod gnutls;
mod mosquitto;
mod net;
mod nginx;
mod peers;
mod pki;
mod postfix;
mod postgres;
mod psk_peers;
mod rsa;
pub mod scripted;
mod srp_hello;
mod tlslite;

pub use aiosmtpd::{Aiosmtpd, SmtpDelivery};
pub use clients::Client;
pub use dovecot::{Dovecot, SeedMessage};
pub use examples::example;
pub use gnutls::{free_port, gnutls_serv, srptool_passwd, wait_listening};
pub use mosquitto::{Mosquitto, MOSQUITTO_PSK_HINT};
pub use net::{answer_http, connect, echo_lines, serve_once, ServerThread, TIMEOUT};
pub use nginx::{nginx, nginx_with};
pub use peers::{block_on, peer, peers_required, run, runtime, succeeded, PeerProcess};
pub use pki::{Identity, Pki};
pub use postfix::{Postfix, MAIL_DOMAIN};
pub use postgres::Postgres;
pub use psk_peers::{
    gnutls_psk_serv, hex, tlslite_psk_args, tlslite_psk_server, PskServer, GNUTLS_PSK_TLS13,
};
pub use rsa::{rsa_identity, rsa_identity_for};
pub use srp_hello::{srp_client_hello, srp_first_flight, SrpKeyExchange};
pub use tlslite::tlslite_srp_server;
