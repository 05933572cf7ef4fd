//! The TLS 1.2 PRF with SHA-256 (RFC 5246 §5) and what it derives.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Fills `out` with `P_SHA256(secret, label | seed)`.
pub(crate) fn prf(secret: &[u8], label: &[u8], seed: &[&[u8]], out: &mut [u8]) {
    let keyed = <HmacSha256 as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    let mac = |parts: &[&[u8]]| {
        let mut m = keyed.clone();
        for p in parts {
            m.update(p);
        }
        m.finalize().into_bytes()
    };
    let mut label_seed: Vec<&[u8]> = vec![label];
    label_seed.extend_from_slice(seed);
    let mut a = mac(&label_seed); // A(1)
    let mut filled = 0;
    while filled < out.len() {
        let mut parts: Vec<&[u8]> = vec![&a];
        parts.extend_from_slice(&label_seed);
        let block = mac(&parts);
        let n = (out.len() - filled).min(block.len());
        out[filled..filled + n].copy_from_slice(&block[..n]);
        filled += n;
        a = mac(&[&a]);
    }
}

/// The 48-byte master secret, classic (RFC 5246) or extended (RFC 7627).
pub(crate) fn master_secret(
    premaster: &[u8],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
    extended_session_hash: Option<&[u8]>,
) -> [u8; 48] {
    let mut master = [0u8; 48];
    match extended_session_hash {
        Some(hash) => prf(premaster, b"extended master secret", &[hash], &mut master),
        None => prf(
            premaster,
            b"master secret",
            &[client_random, server_random],
            &mut master,
        ),
    }
    master
}

/// `verify_data` of a Finished message.
pub(crate) fn verify_data(
    master: &[u8; 48],
    from_client: bool,
    transcript_hash: &[u8],
) -> [u8; 12] {
    let label: &[u8] = if from_client {
        b"client finished"
    } else {
        b"server finished"
    };
    let mut out = [0u8; 12];
    prf(master, label, &[transcript_hash], &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The widely used TLS 1.2 PRF (SHA-256) test vector posted to the IETF TLS list.
    #[test]
    fn p_sha256_known_answer() {
        let hex = |s: &str| -> Vec<u8> {
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect()
        };
        let secret = hex("9bbe436ba940f017b17652849a71db35");
        let seed = hex("a0ba9f936cda311827a6f796ffd5198c");
        let mut out = [0u8; 100];
        prf(&secret, b"test label", &[&seed], &mut out);
        assert_eq!(
            out.to_vec(),
            hex("e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66")
        );
    }
}
