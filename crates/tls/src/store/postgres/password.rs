//! The database password the URL does not give, found as libpq finds it: `PGPASSWORD`, then
//! the password file (`PGPASSFILE`, else `~/.pgpass`), a line `host:port:database:user:password`
//! whose fields match or are `*`. A password file others can read is ignored with a warning,
//! as libpq does. So the password need not sit in a command line, where `ps` shows it.

use std::path::PathBuf;

/// What the lookup needs of the environment (the process's, or a test's).
pub(super) type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The password for connecting as `user` to `database` on `host:port`, if the environment has
/// one. A Unix socket's host matches `localhost`, as in libpq.
pub(super) fn from_environment(
    env: Env<'_>,
    host: &str,
    port: u16,
    database: &str,
    user: &str,
) -> Option<String> {
    if let Some(password) = env("PGPASSWORD").filter(|p| !p.is_empty()) {
        return Some(password);
    }
    let file = match env("PGPASSFILE").filter(|f| !f.is_empty()) {
        Some(file) => PathBuf::from(file),
        None => PathBuf::from(env("HOME")?).join(".pgpass"),
    };
    if !file.is_file() {
        return None;
    }
    if crate::private_file::readable_by_others(&file).unwrap_or(true) {
        log::warn!(
            "{} can be read by others than its owner: ignored, as libpq does (chmod 600 it)",
            file.display()
        );
        return None;
    }
    let text = zeroize::Zeroizing::new(std::fs::read_to_string(&file).ok()?);
    lookup(&text, host, port, database, user)
}

/// The first line of a password file matching the connection.
pub(super) fn lookup(
    text: &str,
    host: &str,
    port: u16,
    database: &str,
    user: &str,
) -> Option<String> {
    let port = port.to_string();
    let wanted = [host, port.as_str(), database, user];
    text.lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .filter_map(fields)
        .find(|fields| {
            fields[..4]
                .iter()
                .zip(wanted)
                .all(|(field, value)| field == "*" || field == value)
        })
        .map(|mut fields| std::mem::take(&mut fields[4]))
}

/// The five fields of a line, `\:` and `\\` read as `:` and `\`; `None` for any other shape.
fn fields(line: &str) -> Option<[String; 5]> {
    let mut fields: Vec<String> = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => fields.last_mut()?.push(chars.next().unwrap_or('\\')),
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut()?.push(c),
        }
    }
    fields.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_match_field_by_field_with_wildcards_and_escapes() {
        let text = "# comment\n\
                    db.example:5432:tlslite:fleet:first\n\
                    *:5433:*:fleet:pa\\:ss\\\\word\n\
                    localhost:*:*:*:local\n";
        let find = |host, port, db, user| lookup(text, host, port, db, user);
        assert_eq!(
            find("db.example", 5432, "tlslite", "fleet").as_deref(),
            Some("first")
        );
        assert_eq!(
            find("other", 5433, "x", "fleet").as_deref(),
            Some("pa:ss\\word")
        );
        assert_eq!(find("localhost", 1, "x", "y").as_deref(), Some("local"));
        assert_eq!(find("db.example", 5432, "tlslite", "other"), None);
        assert_eq!(lookup("too:few:fields", "too", 1, "few", "fields"), None);
    }

    #[test]
    fn pgpassword_comes_first_then_a_private_file_only() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(&file, "*:*:*:fleet:from-file\n").unwrap();
        let path = file.to_string_lossy().into_owned();
        let env = |password: Option<&'static str>| {
            let path = path.clone();
            move |name: &str| match name {
                "PGPASSWORD" => password.map(str::to_owned),
                "PGPASSFILE" => Some(path.clone()),
                _ => None,
            }
        };
        let find =
            |env: &dyn Fn(&str) -> Option<String>| from_environment(env, "h", 5432, "d", "fleet");
        assert_eq!(find(&env(Some("from-env"))).as_deref(), Some("from-env"));
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(find(&env(None)), None, "a file others can read is ignored");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(find(&env(None)).as_deref(), Some("from-file"));
    }
}
