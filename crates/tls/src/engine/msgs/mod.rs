//! The wire: typed handshake messages and extensions, and the deframing of records and
//! handshake messages. Bad bytes become a `DecodeError` (a `decode_error` alert), never a panic.

pub(crate) mod codec;
pub(crate) mod deframe;
pub(crate) mod extension;
pub(crate) mod message;

pub(crate) use codec::{
    content, decode_alert, handshake, handshake_message, DecodeError, DOWNGRADE_TO_TLS12,
    EMPTY_RENEGOTIATION_INFO_SCSV, TLS12, TLS13,
};
pub(crate) use extension::{Extension, Extensions, KeyShareEntry, PskOffer, Sender};
pub(crate) use message::{
    decode_certificate, decode_client_key_exchange, decode_signature, encode_certificate,
    ClientHello, KeyExchangeParams, NewSessionTicket, PskClientKeyExchange, PskServerKeyExchange,
    ServerHello, HELLO_RETRY_REQUEST,
};
