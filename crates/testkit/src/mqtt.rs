//! Just enough MQTT 3.1.1 (OASIS), written by hand, to talk to a real broker ([`Mosquitto`])
//! over any stream: CONNECT, SUBSCRIBE, PUBLISH at QoS 0, DISCONNECT.

use std::io::{Read, Write};

use crate::Mosquitto;

/// An MQTT control packet: the first byte, the remaining length (7 bits a byte, low first) and
/// the body.
pub fn mqtt_packet(first: u8, body: &[u8]) -> Vec<u8> {
    let mut packet = vec![first];
    let mut len = body.len();
    loop {
        let byte = (len % 128) as u8;
        len /= 128;
        packet.push(if len > 0 { byte | 0x80 } else { byte });
        if len == 0 {
            break;
        }
    }
    packet.extend_from_slice(body);
    packet
}

/// An MQTT UTF-8 string: a 16-bit length, then the bytes.
pub fn mqtt_string(text: &str) -> Vec<u8> {
    let mut out = (text.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(text.as_bytes());
    out
}

/// Reads one packet: (first byte, body).
pub fn read_mqtt(stream: &mut impl Read) -> std::io::Result<(u8, Vec<u8>)> {
    let mut byte = [0u8; 1];
    stream.read_exact(&mut byte)?;
    let first = byte[0];
    let (mut len, mut shift) = (0usize, 0);
    loop {
        stream.read_exact(&mut byte)?;
        len |= usize::from(byte[0] & 0x7f) << shift;
        shift += 7;
        if byte[0] & 0x80 == 0 {
            break;
        }
        assert!(shift < 28, "remaining length over 4 bytes");
    }
    let mut body = vec![0; len];
    stream.read_exact(&mut body)?;
    Ok((first, body))
}

/// A PUBLISH at QoS 0 of `payload` on `topic`.
pub fn mqtt_publish(topic: &str, payload: &[u8]) -> Vec<u8> {
    let mut body = mqtt_string(topic);
    body.extend_from_slice(payload);
    mqtt_packet(0x30, &body)
}

/// DISCONNECT.
pub fn mqtt_disconnect() -> Vec<u8> {
    mqtt_packet(0xe0, &[])
}

/// CONNECT (clean session, keep-alive 30 s, no user name: the broker takes the PSK identity) and
/// SUBSCRIBE to `topic` at QoS 0; checks CONNACK and SUBACK, showing `broker`'s log if not.
pub fn mqtt_subscribe(stream: &mut (impl Read + Write), broker: &Mosquitto, topic: &str) {
    let mut connect = mqtt_string("MQTT");
    connect.extend_from_slice(&[4, 0x02, 0, 30]);
    connect.extend(mqtt_string("tls-lite-rust"));
    stream.write_all(&mqtt_packet(0x10, &connect)).unwrap();
    // CONNACK: no session present, return code 0 (accepted).
    let connack = read_mqtt(stream).unwrap();
    assert_eq!(connack, (0x20, vec![0, 0]), "{}", broker.log());

    let mut subscribe = vec![0, 1];
    subscribe.extend(mqtt_string(topic));
    subscribe.push(0);
    stream.write_all(&mqtt_packet(0x82, &subscribe)).unwrap();
    // SUBACK for packet 1: granted QoS 0.
    let suback = read_mqtt(stream).unwrap();
    assert_eq!(suback, (0x90, vec![0, 1, 0]), "{}", broker.log());
}

/// Reads the next packet, which must be a QoS 0 PUBLISH of `payload` on `topic`, byte for byte.
pub fn mqtt_expect_publish(
    stream: &mut impl Read,
    broker: &Mosquitto,
    topic: &str,
    payload: &[u8],
) {
    let (first, body) = read_mqtt(stream).unwrap();
    assert_eq!(first, 0x30, "{}", broker.log());
    let mut want = mqtt_string(topic);
    want.extend_from_slice(payload);
    assert_eq!(body, want, "{}", broker.log());
}
