//! The tables, created and versioned by `tlsdb create`. Every table and function is prefixed
//! `tlslite_`, so the database can be shared with an application's own tables.

/// The schema version this code reads and writes.
pub(super) const FORMAT: i64 = 1;

/// Default rotation period of the ticket keys (6 hours): a ticket lives 6 to 12 hours.
pub(super) const DEFAULT_TICKET_KEY_PERIOD: u64 = 6 * 3600;

/// Created in one transaction: a database has all of it or none.
pub(super) const CREATE: &str = "
CREATE TABLE tlslite_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE tlslite_users (
    username text PRIMARY KEY,
    bits integer NOT NULL,
    salt bytea NOT NULL,
    verifier bytea NOT NULL
);
-- Ticket keys are unlogged: never in the WAL, so never in a streaming replica or a PITR archive,
-- and a retired key is gone for good (a crash empties the table: new keys, full handshakes).
CREATE UNLOGGED TABLE tlslite_ticket_keys (period bigint PRIMARY KEY, key bytea NOT NULL);
-- Sessions are a cache: unlogged (no WAL), so a crash empties it and costs full handshakes.
CREATE UNLOGGED TABLE tlslite_srp_sessions (
    id bytea PRIMARY KEY,
    sealed bytea NOT NULL,
    expires timestamptz NOT NULL
);
-- Every change to a user tells the servers LISTENing (an empty name: everyone changed), so
-- even a change made with plain SQL reaches their caches.
CREATE FUNCTION tlslite_users_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('tlslite_users', '');
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        PERFORM pg_notify('tlslite_users', OLD.username);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM pg_notify('tlslite_users', NEW.username);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER tlslite_users_changed AFTER INSERT OR UPDATE OR DELETE ON tlslite_users
    FOR EACH ROW EXECUTE FUNCTION tlslite_users_changed();
CREATE TRIGGER tlslite_users_truncated AFTER TRUNCATE ON tlslite_users
    FOR EACH STATEMENT EXECUTE FUNCTION tlslite_users_changed();
";

/// The pre-shared keys, beside the users (a database made before them gains them when opened:
/// [`HAS_PSK_KEYS`]). Every change notifies the servers LISTENing, with no payload (an identity
/// may be longer than a notice can carry): they forget every key they cached. Keys change
/// rarely; a handshake after a change costs one query.
pub(super) const CREATE_PSK_KEYS: &str = "
CREATE TABLE tlslite_psk_keys (
    identity bytea PRIMARY KEY,
    key bytea NOT NULL,
    hash text NOT NULL
);
CREATE FUNCTION tlslite_psk_keys_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tlslite_psk_keys', '');
    RETURN NULL;
END $$;
CREATE TRIGGER tlslite_psk_keys_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON tlslite_psk_keys FOR EACH STATEMENT EXECUTE FUNCTION tlslite_psk_keys_changed();
";

/// Whether the database has the PSK table (one made before PSKs has not).
pub(super) const HAS_PSK_KEYS: &str = "SELECT to_regclass('tlslite_psk_keys') IS NOT NULL";
/// Whether the ticket keys are in a logged table (a database made before they were unlogged).
pub(super) const KEYS_LOGGED: &str = "SELECT relpersistence = 'p' FROM pg_class \
     WHERE oid = to_regclass('tlslite_ticket_keys')";
/// Held while adding the PSK table, so two servers opening an old database at once do not
/// both try (an arbitrary number, the same in every version).
pub(super) const MIGRATION_LOCK: i64 = 0x746c_736c_6974_6501;

/// The channel the users' trigger notifies.
pub(super) const CHANNEL: &str = "tlslite_users";
/// The channel the PSK trigger notifies.
pub(super) const PSK_CHANNEL: &str = "tlslite_psk_keys";
/// Where a change of the ticket key period is announced: every server rotates at once.
pub(super) const KEYS_CHANNEL: &str = "tlslite_ticket_key_period";

pub(super) const LOOKUP: &str =
    "SELECT bits, salt, verifier FROM tlslite_users WHERE username = $1";
pub(super) const LOOKUP_PSK: &str = "SELECT key, hash FROM tlslite_psk_keys WHERE identity = $1";
pub(super) const INSERT_PSK: &str =
    "INSERT INTO tlslite_psk_keys VALUES ($1, $2, $3) ON CONFLICT (identity) DO NOTHING";
pub(super) const INSERT_USER: &str =
    "INSERT INTO tlslite_users VALUES ($1, $2, $3, $4) ON CONFLICT (username) DO NOTHING";
/// A batch of sessions in one statement: IDs, sealed states and lifetimes as arrays.
pub(super) const SAVE_SESSIONS: &str = "INSERT INTO tlslite_srp_sessions \
     SELECT id, sealed, now() + make_interval(secs => secs) \
     FROM unnest($1::bytea[], $2::bytea[], $3::float8[]) AS s(id, sealed, secs) \
     ON CONFLICT (id) DO UPDATE SET sealed = EXCLUDED.sealed, expires = EXCLUDED.expires";
pub(super) const LOAD_SESSION: &str =
    "SELECT sealed FROM tlslite_srp_sessions WHERE id = $1 AND expires > now()";
