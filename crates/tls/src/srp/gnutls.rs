//! GnuTLS's SRP password files (`tpasswd` and `tpasswd.conf`, as `srptool` writes them), so
//! users move between GnuTLS servers and ours in both directions.
//!
//! `tpasswd` lines are `user:verifier:salt:index`; `tpasswd.conf` lines are `index:N:g`. The
//! numbers use libsrp's base64: digits `0-9A-Za-z./`, most significant first, the leading
//! partial group written without leading zero digits.

use std::path::Path;

use super::verifier::{check_username, VerifierEntry};
use super::SrpGroup;
use crate::private_file::write_private;
use crate::Error;

const DIGITS: &[u8; 64] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz./";

/// Encodes bytes in libsrp's base64.
pub fn srp_base64_encode(data: &[u8]) -> String {
    let lead = data.len() % 3;
    let mut out = String::new();
    if lead > 0 {
        let mut value = data[..lead]
            .iter()
            .fold(0u32, |v, b| v << 8 | u32::from(*b));
        let mut digits = Vec::new();
        loop {
            digits.push(DIGITS[(value & 63) as usize] as char);
            value >>= 6;
            if value == 0 {
                break;
            }
        }
        out.extend(digits.iter().rev());
    }
    for group in data[lead..].chunks(3) {
        let value = u32::from(group[0]) << 16 | u32::from(group[1]) << 8 | u32::from(group[2]);
        for shift in [18, 12, 6, 0] {
            out.push(DIGITS[(value >> shift & 63) as usize] as char);
        }
    }
    out
}

/// Decodes libsrp's base64; `None` on a character outside its alphabet.
pub fn srp_base64_decode(text: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| DIGITS.iter().position(|d| *d == c).map(|p| p as u32);
    let bytes = text.as_bytes();
    let lead = bytes.len() % 4;
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3 + 3);
    if lead > 0 {
        let value = bytes[..lead]
            .iter()
            .try_fold(0u32, |v, c| Some(v << 6 | digit(*c)?))?;
        // As GnuTLS reads it: one or two characters give at least one byte, three give at
        // least two; only zero bytes beyond those are dropped. (Dropping every leading zero
        // lost the first byte of a 16-byte salt that starts with 0, written "0".)
        let be = value.to_be_bytes();
        let kept = if lead == 3 { 2 } else { 1 };
        let zeros = be[1..]
            .iter()
            .take_while(|b| **b == 0)
            .count()
            .min(3 - kept);
        out.extend_from_slice(&be[1 + zeros..]);
    }
    for group in bytes[lead..].chunks(4) {
        let value = group
            .iter()
            .try_fold(0u32, |v, c| Some(v << 6 | digit(*c)?))?;
        out.extend_from_slice(&value.to_be_bytes()[1..]);
    }
    Some(out)
}

/// Reads `tpasswd` and `tpasswd.conf` text into users; every group must be one of RFC 5054's.
pub fn read_tpasswd(passwd: &str, conf: &str) -> Result<Vec<(String, VerifierEntry)>, Error> {
    let bad =
        |what: &str, line: usize| Error::Config(format!("{what}, line {}: malformed", line + 1));
    let mut groups = Vec::new();
    for (i, line) in conf
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let fields: Vec<&str> = line.trim().split(':').collect();
        let [index, n, g] = fields[..] else {
            return Err(bad("tpasswd.conf", i));
        };
        let (n, g) = (srp_base64_decode(n), srp_base64_decode(g));
        let (Some(n), Some(g)) = (n, g) else {
            return Err(bad("tpasswd.conf", i));
        };
        let group = SrpGroup::find(&n, &g).ok_or_else(|| {
            Error::Config(format!(
                "tpasswd.conf, line {}: group {index} is not an RFC 5054 group",
                i + 1
            ))
        })?;
        groups.push((index.to_owned(), group));
    }
    let mut users = Vec::new();
    for (i, line) in passwd
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let fields: Vec<&str> = line.trim().split(':').collect();
        let [user, verifier, salt, index] = fields[..] else {
            return Err(bad("tpasswd", i));
        };
        check_username(user)?;
        let group = groups
            .iter()
            .find(|(k, _)| k == index)
            .map(|(_, g)| *g)
            .ok_or_else(|| {
                Error::Config(format!(
                    "tpasswd, line {}: no group {index} in tpasswd.conf",
                    i + 1
                ))
            })?;
        let (Some(verifier), Some(salt)) = (srp_base64_decode(verifier), srp_base64_decode(salt))
        else {
            return Err(bad("tpasswd", i));
        };
        let entry = VerifierEntry::new(group, salt, verifier)
            .map_err(|e| Error::Config(format!("tpasswd, line {}: {e}", i + 1)))?;
        users.push((user.to_owned(), entry));
    }
    Ok(users)
}

/// Writes users as `(tpasswd, tpasswd.conf)` text, numbering groups as `srptool` does
/// (1 = 1024 bits … 7 = 8192 bits).
pub fn write_tpasswd(users: &[(String, VerifierEntry)]) -> Result<(String, String), Error> {
    let index = |group: &SrpGroup| {
        SrpGroup::all()
            .iter()
            .position(|g| g == group)
            .map_or(0, |p| p + 1)
    };
    let mut conf = String::new();
    for group in SrpGroup::all() {
        if users.iter().any(|(_, e)| e.group == group) {
            let p = group.params();
            conf.push_str(&format!(
                "{}:{}:{}\n",
                index(group),
                srp_base64_encode(&p.n_bytes),
                srp_base64_encode(&p.g_bytes)
            ));
        }
    }
    let mut passwd = String::new();
    for (user, entry) in users {
        check_username(user)?;
        entry.validate()?;
        // libsrp's base64 writes a first partial group of two bytes as one number, so a salt
        // of 3k + 2 bytes starting with 0 would be read back a byte short (GnuTLS reads it so
        // too). One of 3k + 1 bytes keeps its zero: a lone "0". (Salts made here never start
        // with zero; imported ones may.)
        if entry.salt.len() % 3 == 2 && entry.salt.first() == Some(&0) {
            return Err(Error::Config(format!(
                "{user}: a salt of {} bytes starting with 0 cannot be written to tpasswd",
                entry.salt.len()
            )));
        }
        passwd.push_str(&format!(
            "{user}:{}:{}:{}\n",
            srp_base64_encode(&entry.verifier),
            srp_base64_encode(&entry.salt),
            index(entry.group)
        ));
    }
    Ok((passwd, conf))
}

/// Writes users to new GnuTLS password files at `passwd` and `conf`, both readable by their
/// owner only (0600). Refuses to overwrite anything, or to write through a symbolic link.
pub fn export_tpasswd(
    users: &[(String, VerifierEntry)],
    passwd: &Path,
    conf: &Path,
) -> Result<(), Error> {
    let (passwd_text, conf_text) = write_tpasswd(users)?;
    for (path, text) in [(conf, conf_text), (passwd, passwd_text)] {
        write_private(path, text.as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_and_matches_libsrp_shapes() {
        assert_eq!(srp_base64_encode(&[1]), "1");
        assert_eq!(srp_base64_encode(&[0xff]), "3/");
        assert_eq!(srp_base64_encode(&[0, 0, 0]), "0000");
        assert_eq!(srp_base64_encode(&[1, 0, 0, 0]), "10000");
        for data in [
            vec![7u8; 16],
            vec![0x80; 20],
            vec![1, 2],
            (1..=255).collect::<Vec<u8>>(),
            // Leading zero bytes that GnuTLS keeps: a 16-byte salt (srptool's) starting with
            // 0, and a first group of three.
            [&[0u8][..], &[9; 15]].concat(),
            vec![0, 0, 0, 5],
            vec![0, 0, 0],
        ] {
            assert_eq!(srp_base64_decode(&srp_base64_encode(&data)).unwrap(), data);
        }
        // GnuTLS's reading of the first group, by its length: "0" is one zero byte, "00" one
        // too, "000" two.
        assert_eq!(srp_base64_decode("0").unwrap(), [0]);
        assert_eq!(srp_base64_decode("00").unwrap(), [0]);
        assert_eq!(srp_base64_decode("000").unwrap(), [0, 0]);
        assert_eq!(srp_base64_decode("10").unwrap(), [64]);
        assert!(srp_base64_decode("ab=c").is_none());
    }

    #[test]
    fn tpasswd_round_trip() {
        let entry = super::super::make_verifier("alice", "pw", 3072).unwrap();
        let (passwd, conf) = write_tpasswd(&[("alice".into(), entry.clone())]).unwrap();
        assert!(
            passwd.starts_with("alice:") && passwd.trim_end().ends_with(":4"),
            "{passwd}"
        );
        assert_eq!(
            read_tpasswd(&passwd, &conf).unwrap(),
            vec![("alice".to_owned(), entry.clone())]
        );
        assert!(read_tpasswd("bob:x:y:9\n", &conf).is_err());
        // A 16-byte salt starting with 0 (srptool makes one in 256) goes out and back whole;
        // one of 17 bytes starting with 0 would come back a byte short, so is not written.
        let zero_led = VerifierEntry {
            salt: [&[0u8][..], &[7; 15]].concat(),
            ..entry.clone()
        };
        let (passwd, conf) = write_tpasswd(&[("carol".into(), zero_led.clone())]).unwrap();
        assert_eq!(read_tpasswd(&passwd, &conf).unwrap()[0].1, zero_led);
        let lossy = VerifierEntry {
            salt: [&[0u8][..], &[7; 16]].concat(),
            ..entry
        };
        assert!(write_tpasswd(&[("dave".into(), lossy)]).is_err());
    }

    /// Verifiers that would let anyone in (0, 1, N, N + 1) or that are not below N are
    /// refused on import, as are names that would forge lines when written back.
    #[test]
    fn hostile_verifiers_and_names_are_refused_on_import() {
        let entry = super::super::make_verifier("alice", "pw", 2048).unwrap();
        let (passwd, conf) = write_tpasswd(&[("alice".into(), entry.clone())]).unwrap();
        let n = entry.group.params().n_bytes.clone();
        let plus_one = {
            let mut v = n.clone();
            *v.last_mut().unwrap() += 1;
            v
        };
        let mut above = n.clone();
        above.insert(0, 1);
        let salt = srp_base64_encode(&entry.salt);
        for verifier in [vec![0u8], vec![1], n.clone(), plus_one, above] {
            let line = format!("eve:{}:{salt}:3\n", srp_base64_encode(&verifier));
            assert!(
                read_tpasswd(&line, &conf).is_err(),
                "accepted verifier {:02x?}",
                &verifier[..verifier.len().min(4)]
            );
        }
        assert!(read_tpasswd(&passwd, &conf).is_ok());
        let hostile = VerifierEntry {
            verifier: vec![1],
            ..entry.clone()
        };
        assert!(write_tpasswd(&[("eve".into(), hostile)]).is_err());
        for name in ["a\nroot", "a:b", "tab\there", "del\u{7f}"] {
            assert!(
                write_tpasswd(&[(name.into(), entry.clone())]).is_err(),
                "wrote {name:?}"
            );
        }
    }
}
