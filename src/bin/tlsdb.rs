//! `tlsdb`: manage TLS-SRP verifier databases (tlslite's `tlsdb.py`).

#![forbid(unsafe_code)]

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use tls::srp::{is_postgres_url, make_verifier, UserDatabase};

const USAGE: &str = "\
usage (DB is a SQLite file, or a postgres://USER:PASSWORD@HOST:PORT/DATABASE URL shared by a
fleet of servers):
  tlsdb create DB [BITS]                 make an empty verifier database (a file: mode 0600;
                                         PostgreSQL: its tables) whose default group has BITS
                                         bits (2048 unless given); unknown users are shown
                                         fake entries in it
  tlsdb add DB USER [PASSWORD] [BITS]    add a user (password prompted, or read from stdin,
                                         when omitted or `-`; BITS 1024..8192, default the
                                         database's)
  tlsdb passwd DB USER [PASSWORD]        change a user's password (same group)
  tlsdb del DB USER                      remove a user
  tlsdb list DB                          print `USER BITS` for every user
  tlsdb check DB USER [PASSWORD]         exit 0 if the password is right, 1 if not
  tlsdb import-gnutls DB TPASSWD TPASSWD_CONF
                                         add the users of GnuTLS password files (srptool's):
                                         all of them, or none if one fails
  tlsdb export-gnutls DB TPASSWD TPASSWD_CONF
                                         write every user to new GnuTLS password files
                                         (mode 0600; existing files are not overwritten)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["create", db, rest @ ..] if rest.len() <= 1 => create(db, rest.first().copied()),
        ["add", db, user, rest @ ..] if rest.len() <= 2 => {
            add(db, user, rest.first().copied(), rest.get(1).copied())
        }
        ["passwd", db, user, rest @ ..] if rest.len() <= 1 => {
            change_password(db, user, rest.first().copied())
        }
        ["del", db, user] => open(db).and_then(|d| d.remove_user(user).map_err(|e| e.to_string())),
        ["list", db] => list(db),
        ["check", db, user, rest @ ..] if rest.len() <= 1 => {
            return check(db, user, rest.first().copied())
        }
        ["import-gnutls", db, passwd, conf] => import(db, passwd, conf),
        ["export-gnutls", db, passwd, conf] => export(db, passwd, conf),
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
    // Verifiers allow offline dictionary attacks: say so when others can read them.
    if !is_postgres_url(db) && tls::srp::readable_by_others(db.as_ref()).unwrap_or(false) {
        eprintln!(
            "tlsdb: warning: {db} is readable by other users; its verifiers allow offline \
             password guessing (chmod 600 {db})"
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
    let mut out = std::io::stdout().lock();
    for (user, bits) in open(db)?.users().map_err(|e| e.to_string())? {
        writeln!(out, "{user} {bits}").map_err(|e| e.to_string())?;
    }
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
