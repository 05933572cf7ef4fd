//! Where credentials are kept: a SQLite file for one machine, PostgreSQL for a fleet. Users are
//! kept apart from a fleet's resumption state.

mod database;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use crate::private_file::{readable_by_others, write_private};
pub use database::{
    create_database, is_postgres_url, location_from_argument, open_database, UserDatabase,
};
#[cfg(feature = "postgres")]
pub use postgres::PostgresVerifierDb;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteVerifierDb;
