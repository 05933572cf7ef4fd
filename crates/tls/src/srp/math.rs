//! SRP-6a as RFC 5054 uses it (SHA-1), on constant-time big integers.
//!
//! Secret exponents are 256 random bits; every modular exponentiation runs for the exponent's
//! bit bound, not its value, so timing tells nothing of the secrets.

use crypto_bigint::modular::BoxedMontyForm;
use crypto_bigint::{BoxedUint, Resize};
use sha1::{Digest, Sha1};

use super::groups::GroupParams;

/// Bits of the random secret exponents `a` and `b` (RFC 5054 asks for at least 256).
pub(crate) const SECRET_BITS: u32 = 256;
/// Precision for `a + u·x`: 256 + 160 + 160 bits, with room to spare.
const EXPONENT_BITS: u32 = 512;

/// Why a peer's SRP value was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SrpMathError {
    /// `A` or `B` is 0 mod N, or not below N: an attacker could force a known secret.
    BadPublicValue,
}

/// `x = SHA1(s | SHA1(I | ":" | P))`.
pub(crate) fn x(salt: &[u8], username: &[u8], password: &[u8]) -> [u8; 20] {
    let inner = Sha1::new()
        .chain_update(username)
        .chain_update(b":")
        .chain_update(password)
        .finalize();
    Sha1::new()
        .chain_update(salt)
        .chain_update(inner)
        .finalize()
        .into()
}

/// The verifier `v = g^x mod N`, big-endian without leading zeros.
pub(crate) fn verifier(group: &GroupParams, x: &[u8; 20]) -> Vec<u8> {
    let v = group.g.pow_bounded_exp(&uint(x, 160), 160);
    trimmed(&v.retrieve())
}

/// `g^e mod N` for a 256-bit secret `e`, big-endian without leading zeros.
pub(crate) fn public_value(group: &GroupParams, secret: &[u8; 32]) -> Vec<u8> {
    trimmed(
        &group
            .g
            .pow_bounded_exp(&uint(secret, SECRET_BITS), SECRET_BITS)
            .retrieve(),
    )
}

/// The server's `B = k·v + g^b mod N`.
pub(crate) fn server_public(group: &GroupParams, v: &[u8], b: &[u8; 32]) -> Vec<u8> {
    let gb = group.g.pow_bounded_exp(&uint(b, SECRET_BITS), SECRET_BITS);
    let kv = k(group) * residue(group, v);
    trimmed(&(kv + gb).retrieve())
}

/// `k = SHA1(N | PAD(g))`.
fn k(group: &GroupParams) -> BoxedMontyForm {
    let digest = Sha1::new()
        .chain_update(&group.n_bytes)
        .chain_update(pad(group, &group.g_bytes))
        .finalize();
    residue(group, &digest)
}

/// `u = SHA1(PAD(A) | PAD(B))`.
pub(crate) fn u(group: &GroupParams, a_pub: &[u8], b_pub: &[u8]) -> [u8; 20] {
    Sha1::new()
        .chain_update(pad(group, a_pub))
        .chain_update(pad(group, b_pub))
        .finalize()
        .into()
}

/// A peer's public value: below `N` and not zero, or refused.
pub(crate) fn check_public(group: &GroupParams, value: &[u8]) -> Result<(), SrpMathError> {
    let value = strip(value);
    let below_n = value.len() < group.len()
        || (value.len() == group.len() && value < group.n_bytes.as_slice());
    if value.is_empty() || !below_n {
        return Err(SrpMathError::BadPublicValue);
    }
    Ok(())
}

/// Whether `v` may serve as a verifier: below `N`, and neither 0 nor 1.
pub(crate) fn is_usable_verifier(group: &GroupParams, v: &[u8]) -> bool {
    let v = strip(v);
    check_public(group, v).is_ok() && v != [1]
}

/// The client's premaster secret `(B - k·g^x)^(a + u·x) mod N`.
pub(crate) fn client_premaster(
    group: &GroupParams,
    x: &[u8; 20],
    a: &[u8; 32],
    a_pub: &[u8],
    b_pub: &[u8],
) -> Result<Vec<u8>, SrpMathError> {
    check_public(group, b_pub)?;
    let u = u(group, a_pub, b_pub);
    let gx = group.g.pow_bounded_exp(&uint(x, 160), 160);
    let base = residue(group, b_pub) - k(group) * gx;
    let exponent = uint(a, EXPONENT_BITS)
        .wrapping_add(uint(&u, EXPONENT_BITS).wrapping_mul(uint(x, EXPONENT_BITS)));
    Ok(premaster(&base.pow_bounded_exp(&exponent, EXPONENT_BITS)))
}

/// The server's premaster secret `(A · v^u)^b mod N`.
pub(crate) fn server_premaster(
    group: &GroupParams,
    v: &[u8],
    b: &[u8; 32],
    a_pub: &[u8],
    b_pub: &[u8],
) -> Result<Vec<u8>, SrpMathError> {
    check_public(group, a_pub)?;
    let u = u(group, a_pub, b_pub);
    let vu = residue(group, v).pow_bounded_exp(&uint(&u, 160), 160);
    let base = residue(group, a_pub) * vu;
    Ok(premaster(
        &base.pow_bounded_exp(&uint(b, SECRET_BITS), SECRET_BITS),
    ))
}

/// `S` with its leading zero bytes removed, as tlslite and GnuTLS encode the premaster secret.
fn premaster(s: &BoxedMontyForm) -> Vec<u8> {
    trimmed(&s.retrieve())
}

/// `PAD(x)`: `x` left-padded with zeros to the length of `N`.
fn pad(group: &GroupParams, value: &[u8]) -> Vec<u8> {
    let value = strip(value);
    let mut out = vec![0u8; group.len().saturating_sub(value.len())];
    out.extend_from_slice(value);
    out
}

fn strip(value: &[u8]) -> &[u8] {
    let zeros = value.iter().take_while(|b| **b == 0).count();
    &value[zeros..]
}

fn uint(bytes: &[u8], bits: u32) -> BoxedUint {
    BoxedUint::from_be_slice_truncated(bytes, bits)
}

/// A value below `N` (checked by the caller or reduced here) as a Montgomery residue.
fn residue(group: &GroupParams, bytes: &[u8]) -> BoxedMontyForm {
    let precision = group.monty.modulus().bits_precision();
    let value = uint(strip(bytes), precision.max(8 * strip(bytes).len() as u32));
    let value = if value.bits_precision() > precision {
        let n = crypto_bigint::NonZero::new(
            group
                .monty
                .modulus()
                .as_ref()
                .clone()
                .resize(value.bits_precision()),
        )
        .into_option()
        .expect("N is not zero");
        value.rem(&n).resize(precision)
    } else {
        value
    };
    BoxedMontyForm::new(value, &group.monty)
}

fn trimmed(value: &BoxedUint) -> Vec<u8> {
    strip(&value.to_be_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::srp::SrpGroup;

    fn hex(text: &str) -> Vec<u8> {
        let text: String = text.split_whitespace().collect();
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 5054 Appendix B.
    #[test]
    fn rfc5054_appendix_b_vectors() {
        let group = SrpGroup::by_bits(1024).unwrap().params();
        let salt = hex("BEB25379 D1A8581E B5A72767 3A2441EE");
        let x = x(&salt, b"alice", b"password123");
        assert_eq!(
            x.to_vec(),
            hex("94B7555A ABE9127C C58CCF49 93DB6CF8 4D16C124")
        );
        let k = k(group).retrieve();
        assert_eq!(
            trimmed(&k),
            hex("7556AA04 5AEF2CDD 07ABAF0F 665C3E81 8913186F")
        );
        let v = verifier(group, &x);
        assert_eq!(
            v,
            hex(
                "7E273DE8 696FFC4F 4E337D05 B4B375BE B0DDE156 9E8FA00A 9886D812
                 9BADA1F1 822223CA 1A605B53 0E379BA4 729FDC59 F105B478 7E5186F5
                 C671085A 1447B52A 48CF1970 B4FB6F84 00BBF4CE BFBB1681 52E08AB5
                 EA53D15C 1AFF87B2 B9DA6E04 E058AD51 CC72BFC9 033B564E 26480D78
                 E955A5E2 9E7AB245 DB2BE315 E2099AFB"
            )
        );
        let a: [u8; 32] =
            hex("60975527 035CF2AD 1989806F 0407210B C81EDC04 E2762A56 AFD529DD DA2D4393")
                .try_into()
                .unwrap();
        let b: [u8; 32] =
            hex("E487CB59 D31AC550 471E81F0 0F6928E0 1DDA08E9 74A004F4 9E61F5D1 05284D20")
                .try_into()
                .unwrap();
        let a_pub = public_value(group, &a);
        assert_eq!(
            a_pub,
            hex(
                "61D5E490 F6F1B795 47B0704C 436F523D D0E560F0 C64115BB 72557EC4
                 4352E890 3211C046 92272D8B 2D1A5358 A2CF1B6E 0BFCF99F 921530EC
                 8E393561 79EAE45E 42BA92AE ACED8251 71E1E8B9 AF6D9C03 E1327F44
                 BE087EF0 6530E69F 66615261 EEF54073 CA11CF58 58F0EDFD FE15EFEA
                 B349EF5D 76988A36 72FAC47B 0769447B"
            )
        );
        let b_pub = server_public(group, &v, &b);
        assert_eq!(
            b_pub,
            hex(
                "BD0C6151 2C692C0C B6D041FA 01BB152D 4916A1E7 7AF46AE1 05393011
                 BAF38964 DC46A067 0DD125B9 5A981652 236F99D9 B681CBF8 7837EC99
                 6C6DA044 53728610 D0C6DDB5 8B318885 D7D82C7F 8DEB75CE 7BD4FBAA
                 37089E6F 9C6059F3 88838E7A 00030B33 1EB76840 910440B1 B27AAEAE
                 EB4012B7 D7665238 A8E3FB00 4B117B58"
            )
        );
        assert_eq!(
            u(group, &a_pub, &b_pub).to_vec(),
            hex("CE38B959 3487DA98 554ED47D 70A7AE5F 462EF019")
        );
        let premaster = hex(
            "B0DC82BA BCF30674 AE450C02 87745E79 90A3381F 63B387AA F271A10D
             233861E3 59B48220 F7C4693C 9AE12B0A 6F67809F 0876E2D0 13800D6C
             41BB59B6 D5979B5C 00A172B4 A2A5903A 0BDCAF8A 709585EB 2AFAFA8F
             3499B200 210DCC1F 10EB3394 3CD67FC8 8A2F39A4 BE5BEC4E C0A3212D
             C346D7E4 74B29EDE 8A469FFE CA686E5A",
        );
        assert_eq!(
            client_premaster(group, &x, &a, &a_pub, &b_pub).unwrap(),
            premaster
        );
        assert_eq!(
            server_premaster(group, &v, &b, &a_pub, &b_pub).unwrap(),
            premaster
        );
    }

    #[test]
    fn public_values_that_are_zero_or_not_below_n_are_refused() {
        let group = SrpGroup::by_bits(2048).unwrap().params();
        let x = [7u8; 20];
        let a = [9u8; 32];
        let n = group.n_bytes.clone();
        for bad in [vec![], vec![0u8; 256], n.clone(), {
            let mut twice = n.clone();
            twice.insert(0, 1);
            twice
        }] {
            assert_eq!(
                client_premaster(group, &x, &a, &[1], &bad),
                Err(SrpMathError::BadPublicValue)
            );
            assert_eq!(
                server_premaster(group, &[5], &a, &bad, &[1]),
                Err(SrpMathError::BadPublicValue)
            );
        }
    }

    #[test]
    fn both_sides_agree_in_every_group() {
        let mut counter = 0u8;
        let mut random = |buf: &mut [u8]| {
            for b in buf.iter_mut() {
                counter = counter.wrapping_mul(31).wrapping_add(17);
                *b = counter;
            }
        };
        for group in SrpGroup::all() {
            let params = group.params();
            let x = x(b"salt", b"user", b"pw");
            let v = verifier(params, &x);
            let mut secret = || {
                let mut bytes = [0u8; 32];
                random(&mut bytes);
                bytes
            };
            let (a, b) = (secret(), secret());
            let a_pub = public_value(params, &a);
            let b_pub = server_public(params, &v, &b);
            let client = client_premaster(params, &x, &a, &a_pub, &b_pub).unwrap();
            let server = server_premaster(params, &v, &b, &a_pub, &b_pub).unwrap();
            assert_eq!(client, server, "{} bits", group.bits());
        }
    }
}
