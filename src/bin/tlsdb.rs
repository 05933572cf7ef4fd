//! `tlsdb`: manage TLS-SRP verifier databases (tlslite's `tlsdb.py`) and the pre-shared keys
//! kept beside the users.

#![forbid(unsafe_code)]

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use tls::psk::parse_key_file;
use tls::srp::{is_postgres_url, make_verifier, UserDatabase};
use zeroize::Zeroizing;

const USAGE: &str = "\
usage (DB is a SQLite file, or a postgres://USER:PASSWORD@HOST:PORT/DATABASE URL shared by a
fleet of servers; off this machine, with ?sslmode=verify-full&sslrootcert=CA.pem):
  tlsdb create DB [BITS]                 make an empty verifier database (a file: mode 0600;
                                         PostgreSQL: its tables) whose default group has BITS
                                         bits (2048 unless given); unknown users are shown
                                         fake entries in it
  tlsdb add DB USER [PASSWORD] [BITS]    add a user (password prompted, or read from stdin,
                                         when omitted or `-`; BITS 1024..8192, default the
                                         database's)
  tlsdb passwd DB USER [PASSWORD]        change a user's password (same group)
  tlsdb del DB NAME [srp|psk]            remove a user or a PSK (naming which when NAME is
                                         both: users and PSK identities are apart)
  tlsdb list DB                          print `USER srp BITS` for every user, then
                                         `IDENTITY psk HASH` for every PSK (never a key)
  tlsdb check DB USER [PASSWORD]         exit 0 if the password is right, 1 if not
  tlsdb import-gnutls DB TPASSWD TPASSWD_CONF
                                         add the users of GnuTLS password files (srptool's):
                                         all of them, or none if one fails
  tlsdb export-gnutls DB TPASSWD TPASSWD_CONF
                                         write every user to new GnuTLS password files
                                         (mode 0600; existing files are not overwritten)
  tlsdb add-psk DB IDENTITY [BYTES]      add a pre-shared key (TLS 1.3 external PSK, SHA-256)
                                         of BYTES random bytes (32 unless given, at least 16)
                                         and print it in hex: the only time it is shown
  tlsdb import-psk DB FILE               add the keys of an `identity:hexkey` file (GnuTLS
                                         psktool's, mosquitto's psk_file): all of them, or
                                         none if one fails
  tlsdb export-psk DB FILE               write every PSK to a new `identity:hexkey` file
                                         (mode 0600; an existing file is not overwritten)
";

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    // The database (the second word): `@FILE` reads its location from FILE.
    if let Some(db) = args.get_mut(1) {
        match tls::srp::location_from_argument(db) {
            Ok(location) => *db = location,
            Err(e) => {
                eprintln!("tlsdb: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["create", db, rest @ ..] if rest.len() <= 1 => create(db, rest.first().copied()),
        ["add", db, user, rest @ ..] if rest.len() <= 2 => {
            add(db, user, rest.first().copied(), rest.get(1).copied())
        }
        ["passwd", db, user, rest @ ..] if rest.len() <= 1 => {
            change_password(db, user, rest.first().copied())
        }
        ["del", db, name, rest @ ..] if rest.len() <= 1 => delete(db, name, rest.first().copied()),
        ["list", db] => list(db),
        ["check", db, user, rest @ ..] if rest.len() <= 1 => {
            return check(db, user, rest.first().copied())
        }
        ["import-gnutls", db, passwd, conf] => import(db, passwd, conf),
        ["export-gnutls", db, passwd, conf] => export(db, passwd, conf),
        ["add-psk", db, identity, rest @ ..] if rest.len() <= 1 => {
            add_psk(db, identity, rest.first().copied())
        }
        ["import-psk", db, file] => import_psk(db, file),
        ["export-psk", db, file] => export_psk(db, file),
        ["-h" | "--help"] => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("tlsdb: {why}");
            ExitCode::FAILURE
        }
    }
}

fn open(db: &str) -> Result<Box<dyn UserDatabase>, String> {
    let opened = tls::srp::open_database(db).map_err(|e| e.to_string())?;
    // Verifiers allow offline dictionary attacks, and PSKs are secrets outright: say so when
    // others can read them.
    if !is_postgres_url(db) && tls::srp::readable_by_others(db.as_ref()).unwrap_or(false) {
        eprintln!(
            "tlsdb: warning: {db} is readable by other users; its verifiers allow offline \
             password guessing and its pre-shared keys are secrets (chmod 600 {db})"
        );
    }
    Ok(opened)
}

/// The password from the command line, a prompt without echo, or a line of stdin.
fn password(given: Option<&str>) -> Result<String, String> {
    match given {
        Some(p) if p != "-" => Ok(p.to_owned()),
        _ if std::io::stdin().is_terminal() => rpassword::prompt_password("Password: ")
            .map_err(|e| format!("reading the password: {e}")),
        _ => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| e.to_string())?;
            Ok(line.trim_end_matches(['\r', '\n']).to_owned())
        }
    }
}

fn parse_bits(text: &str) -> Result<u32, String> {
    text.parse()
        .map_err(|_| format!("BITS must be a number, not {text:?}"))
}

fn create(db: &str, bits: Option<&str>) -> Result<(), String> {
    let bits = bits.map(parse_bits).transpose()?.unwrap_or(2048);
    tls::srp::create_database(db, bits).map_err(|e| e.to_string())?;
    Ok(())
}

fn add(db: &str, user: &str, pass: Option<&str>, bits: Option<&str>) -> Result<(), String> {
    let db = open(db)?;
    let bits = match bits {
        None => db.default_bits(),
        Some(b) => parse_bits(b)?,
    };
    let password = password(pass)?;
    let entry = make_verifier(user, &password, bits).map_err(|e| e.to_string())?;
    db.add_user(user, &entry).map_err(|e| e.to_string())
}

fn change_password(db: &str, user: &str, pass: Option<&str>) -> Result<(), String> {
    let db = open(db)?;
    let bits = db
        .lookup(user)
        .map_err(|e| e.to_string())?
        .ok_or(format!("no user {user:?}"))?
        .group
        .bits();
    let entry = make_verifier(user, &password(pass)?, bits).map_err(|e| e.to_string())?;
    db.replace_user(user, &entry).map_err(|e| e.to_string())
}

fn import(db: &str, passwd: &str, conf: &str) -> Result<(), String> {
    let db = open(db)?;
    let read = |p: &str| std::fs::read_to_string(p).map_err(|e| format!("{p}: {e}"));
    let users =
        tls::srp::gnutls::read_tpasswd(&read(passwd)?, &read(conf)?).map_err(|e| e.to_string())?;
    db.add_users(&users).map_err(|e| e.to_string())?;
    println!("imported {} users", users.len());
    Ok(())
}

fn export(db: &str, passwd: &str, conf: &str) -> Result<(), String> {
    let users = open(db)?.user_entries().map_err(|e| e.to_string())?;
    tls::srp::gnutls::export_tpasswd(&users, passwd.as_ref(), conf.as_ref())
        .map_err(|e| e.to_string())?;
    println!("exported {} users", users.len());
    Ok(())
}

fn list(db: &str) -> Result<(), String> {
    let db = open(db)?;
    let mut out = std::io::stdout().lock();
    for (user, bits) in db.users().map_err(|e| e.to_string())? {
        writeln!(out, "{user} srp {bits}").map_err(|e| e.to_string())?;
    }
    for (identity, hash) in db.psk_identities().map_err(|e| e.to_string())? {
        let shown = printable(&identity).map_or_else(
            || format!("{:?}", String::from_utf8_lossy(&identity)),
            str::to_owned,
        );
        writeln!(out, "{shown} psk {hash}").map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The identity as text when it is UTF-8 without control characters (one line of a listing
/// or a key file), else `None`.
fn printable(identity: &[u8]) -> Option<&str> {
    std::str::from_utf8(identity)
        .ok()
        .filter(|s| !s.chars().any(char::is_control))
}

/// Removes the user or the PSK called `name`; `kind` (`srp` or `psk`) says which when it is
/// both.
fn delete(db: &str, name: &str, kind: Option<&str>) -> Result<(), String> {
    let db = open(db)?;
    let text = |e: tls::Error| e.to_string();
    let is_user =
        || -> Result<bool, String> { Ok(db.users().map_err(text)?.iter().any(|(u, _)| u == name)) };
    let is_psk = || -> Result<bool, String> {
        let identities = db.psk_identities().map_err(text)?;
        Ok(identities.iter().any(|(i, _)| i == name.as_bytes()))
    };
    let user = match kind {
        Some("srp") => true,
        Some("psk") => false,
        Some(other) => return Err(format!("say srp or psk, not {other:?}")),
        None => match (is_user()?, is_psk()?) {
            (true, true) => {
                return Err(format!(
                    "{name:?} is both an SRP user and a PSK identity: say which \
                     (tlsdb del DB NAME srp, or psk)"
                ))
            }
            (false, false) => return Err(format!("no SRP user or PSK {name:?}")),
            (user, _) => user,
        },
    };
    match user {
        true => db.remove_user(name).map_err(text)?,
        false => db.remove_psk(name.as_bytes()).map_err(text)?,
    }
    println!("deleted {} {name}", if user { "SRP user" } else { "PSK" });
    Ok(())
}

fn add_psk(db: &str, identity: &str, bytes: Option<&str>) -> Result<(), String> {
    let len = match bytes {
        None => 32,
        Some(b) => b
            .parse()
            .map_err(|_| format!("BYTES must be a number, not {b:?}"))?,
    };
    if printable(identity.as_bytes()).is_none() {
        return Err(format!(
            "PSK identity {identity:?} has control characters: it could not be listed or \
             written to a key file"
        ));
    }
    let psk = open(db)?
        .add_random_psk(identity.as_bytes(), len)
        .map_err(|e| e.to_string())?;
    // The one time the key is shown; written digit by digit, with no copy left behind.
    let mut out = std::io::stdout().lock();
    let written = psk
        .key()
        .iter()
        .try_for_each(|b| write!(out, "{b:02x}"))
        .and_then(|()| writeln!(out));
    written.map_err(|e| format!("printing the key (it is stored): {e}"))
}

fn import_psk(db: &str, file: &str) -> Result<(), String> {
    let text = Zeroizing::new(std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?);
    let psks = parse_key_file(&text).map_err(|e| format!("{file}: {e}"))?;
    open(db)?.add_psks(&psks).map_err(|e| e.to_string())?;
    println!("imported {} PSKs", psks.len());
    Ok(())
}

fn export_psk(db: &str, file: &str) -> Result<(), String> {
    let count = open(db)?
        .export_psks(file.as_ref())
        .map_err(|e| e.to_string())?;
    println!("exported {count} PSKs");
    Ok(())
}

fn check(db: &str, user: &str, pass: Option<&str>) -> ExitCode {
    let outcome = open(db).and_then(|db| {
        let entry = db
            .lookup(user)
            .map_err(|e| e.to_string())?
            .ok_or(format!("no user {user:?}"))?;
        Ok(entry.check_password(user, &password(pass)?))
    });
    match outcome {
        Ok(true) => {
            println!("password for {user} is correct");
            ExitCode::SUCCESS
        }
        Ok(false) => {
            eprintln!("tlsdb: wrong password for {user}");
            ExitCode::FAILURE
        }
        Err(why) => {
            eprintln!("tlsdb: {why}");
            ExitCode::FAILURE
        }
    }
}
