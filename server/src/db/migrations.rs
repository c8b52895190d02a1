//! The migration scripts compiled into the binary, handed to sqlx's migrator as a `MigrationSource`.
//!
//! Listed here rather than read by sqlx's `migrate!` macro: that proc macro builds sqlx's SQLite
//! and PostgreSQL drivers (bundled SQLite's C source included) a second time, for the compiler, on
//! every first build. The versions, descriptions and checksums are sqlx's own: a test checks them
//! against sqlx reading the directories, so databases migrated by earlier builds stay valid.

use std::borrow::Cow;
use std::ops::Deref;

use futures::future::BoxFuture;
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migrate, MigrateError, Migration, MigrationSource, MigrationType, Migrator};
use sqlx::Acquire;

/// A directory's scripts: (file name, SQL), in version order.
pub struct Scripts(&'static [(&'static str, &'static str)]);

impl std::fmt::Debug for Scripts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.iter().map(|(name, _)| name)).finish()
    }
}

pub const SQLITE: Scripts = Scripts(&[
    ("0001_meta.sql", include_str!("../../migrations/0001_meta.sql")),
    ("0002_builder.sql", include_str!("../../migrations/0002_builder.sql")),
    ("0003_staff_access.sql", include_str!("../../migrations/0003_staff_access.sql")),
    ("0004_compare.sql", include_str!("../../migrations/0004_compare.sql")),
    ("0005_masking.sql", include_str!("../../migrations/0005_masking.sql")),
    ("0006_oidc.sql", include_str!("../../migrations/0006_oidc.sql")),
    ("0007_theme.sql", include_str!("../../migrations/0007_theme.sql")),
    ("0008_history_prune.sql", include_str!("../../migrations/0008_history_prune.sql")),
    ("0009_parity.sql", include_str!("../../migrations/0009_parity.sql")),
    ("0010_history_body.sql", include_str!("../../migrations/0010_history_body.sql")),
    ("0011_parity_schedule.sql", include_str!("../../migrations/0011_parity_schedule.sql")),
    ("0012_parity_spec.sql", include_str!("../../migrations/0012_parity_spec.sql")),
]);

pub const POSTGRES: Scripts = Scripts(&[
    ("0001_schema.sql", include_str!("../../migrations-postgres/0001_schema.sql")),
    ("0002_parity.sql", include_str!("../../migrations-postgres/0002_parity.sql")),
    ("0003_history_body.sql", include_str!("../../migrations-postgres/0003_history_body.sql")),
    ("0004_parity_schedule.sql", include_str!("../../migrations-postgres/0004_parity_schedule.sql")),
    ("0005_parity_spec.sql", include_str!("../../migrations-postgres/0005_parity_spec.sql")),
]);

impl Scripts {
    /// The scripts as sqlx names them: `<version>_<description>.sql`, underscores of the
    /// description read as spaces, `-- no-transaction` as the first line to run outside a
    /// transaction.
    fn migrations(&self) -> Result<Vec<Migration>, String> {
        self.0
            .iter()
            .map(|(name, sql)| {
                let (version, rest) = name.split_once('_').ok_or_else(|| format!("{name}: no `<version>_` prefix"))?;
                let version: i64 = version.parse().map_err(|_| format!("{name}: the version is not a number"))?;
                let description = rest.strip_suffix(".sql").ok_or_else(|| format!("{name}: not a .sql file"))?;
                Ok(Migration::new(
                    version,
                    Cow::Owned(description.replace('_', " ")),
                    MigrationType::Simple,
                    Cow::Borrowed(*sql),
                    sql.starts_with("-- no-transaction"),
                ))
            })
            .collect()
    }
}

/// Applies the scripts not yet applied, after checking that the applied ones were not changed since.
pub async fn run<'a, A>(scripts: Scripts, pool: A) -> Result<(), MigrateError>
where
    A: Acquire<'a>,
    <A::Connection as Deref>::Target: Migrate,
{
    Migrator::new(scripts).await?.run(pool).await
}

impl MigrationSource<'static> for Scripts {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async move { self.migrations().map_err(BoxDynError::from) })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    async fn assert_same_as_sqlx_reads(scripts: Scripts, directory: &str) {
        let ours = scripts.migrations().unwrap_or_else(|error| panic!("{error}"));
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(directory);
        let theirs = Migrator::new(dir.as_path()).await.unwrap_or_else(|error| panic!("{error}"));
        let theirs: Vec<_> = theirs.iter().collect();
        assert_eq!(ours.len(), theirs.len(), "{directory}: a script is missing from db/migrations.rs, or listed twice");
        for (ours, theirs) in ours.iter().zip(theirs) {
            assert_eq!(ours.version, theirs.version, "{directory}: scripts out of order");
            assert_eq!(ours.description, theirs.description, "{directory}: version {}", ours.version);
            assert_eq!(ours.checksum, theirs.checksum, "{directory}: version {} differs", ours.version);
            assert_eq!(ours.no_tx, theirs.no_tx, "{directory}: version {}", ours.version);
        }
    }

    #[tokio::test]
    async fn the_embedded_sqlite_scripts_are_the_migrations_directory_as_sqlx_reads_it() {
        assert_same_as_sqlx_reads(SQLITE, "migrations").await;
    }

    #[tokio::test]
    async fn the_embedded_postgres_scripts_are_the_migrations_postgres_directory_as_sqlx_reads_it() {
        assert_same_as_sqlx_reads(POSTGRES, "migrations-postgres").await;
    }
}
