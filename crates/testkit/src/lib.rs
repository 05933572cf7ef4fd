//! Test fixtures shared by the workspace's tests: a throwaway PKI, loopback helpers, and the
//! rules for real peers (skip loudly when missing, fail under `TLS_PEERS_REQUIRED=1`).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod aiosmtpd;
pub mod bench;
mod bulk;
mod clients;
mod dovecot;
mod examples;
mod gnutls;
mod mosquitto;
mod mqtt;
mod net;
mod nginx;
mod partition;
mod peers;
mod pki;
mod postfix;
mod postgres;
mod psk_peers;
mod refusals;
mod relay;
mod rsa;
pub mod scripted;
mod srp_hello;
mod stdio_peer;
mod tlslite;

pub use aiosmtpd::{Aiosmtpd, SmtpDelivery};
pub use bulk::{assert_same_bytes, payload, tail, text_payload};
pub use clients::Client;
pub use dovecot::{Dovecot, SeedMessage};
pub use examples::example;
pub use gnutls::{free_port, gnutls_serv, srptool_passwd, wait_listening};
pub use mosquitto::{Mosquitto, MOSQUITTO_PSK_HINT};
pub use mqtt::{
    mqtt_disconnect, mqtt_expect_publish, mqtt_packet, mqtt_publish, mqtt_string, mqtt_subscribe,
    read_mqtt,
};
pub use net::{
    answer_http, answer_upper, connect, echo_lines, h2_hostile, http_get, serve_once, ServerThread,
    TIMEOUT,
};
pub use nginx::{nginx, nginx_with};
pub use partition::Partition;
pub use peers::{block_on, peer, peers_required, run, runtime, succeeded, PeerProcess};
pub use pki::{Identity, Pki};
pub use postfix::{Postfix, MAIL_DOMAIN};
pub use postgres::Postgres;
pub use psk_peers::{
    gnutls_psk_client, gnutls_psk_serv, hex, openssl_psk_args, openssl_psk_client,
    openssl_psk_server, openssl_psk_stdio_server, tlslite_psk_args, tlslite_psk_server, Psk12Suite,
    PskServer, GNUTLS_PSK_TLS12, GNUTLS_PSK_TLS13, PSK12_ECDHE_AES128_CBC, PSK12_ECDHE_CHACHA20,
    PSK12_PLAIN_AES128_GCM, PSK12_SUITES,
};
pub use refusals::{assert_refused_by_peer, assert_refused_by_us, REFUSAL_WITHIN};
pub use relay::{RecordCounts, RecordRelay};
pub use rsa::{rsa_identity, rsa_identity_for};
pub use srp_hello::{srp_client_hello, srp_first_flight, SrpKeyExchange};
pub use stdio_peer::StdioPeer;
pub use tlslite::tlslite_srp_server;
