//! Suites saved from the Compare page, baselines and kept runs, in the console's database (both
//! engines, every statement once through `on_engine!`).

use app::wire::{
    BaselineView, ConsoleError, DriftItem, ParityCompare, ParityRun, ParityRunSummary, ParitySuite, SpecComparison,
    SuiteSchedule, SuiteSource,
};

use crate::db::Database;
use crate::error::database;
use crate::on_engine;

#[derive(Clone)]
pub struct ParityStore {
    db: Database,
}

fn corrupt(what: &str) -> impl Fn(serde_json::Error) -> ConsoleError + '_ {
    move |error| ConsoleError::Internal(format!("a stored parity {what} could not be read: {error}"))
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, ConsoleError> {
    serde_json::to_string(value).map_err(|e| ConsoleError::Internal(format!("cannot encode a parity record: {e}")))
}

type SummaryRow = (i64, i64, String, i64, i64, i64, i64, i64, i64);

/// A suite's baseline: the accepted response drift and spec changes.
pub struct Baseline {
    pub view: BaselineView,
    pub items: Vec<DriftItem>,
    pub spec: Vec<SpecComparison>,
}

fn summary(
    (id, started_at_ms, started_by, duration_ms, new_shape, new_value, new_spec, known, failed): SummaryRow,
) -> ParityRunSummary {
    let count = |n: i64| usize::try_from(n).unwrap_or(0);
    ParityRunSummary {
        id,
        started_at_ms,
        started_by,
        duration_ms,
        new_shape: count(new_shape),
        new_value: count(new_value),
        new_spec: count(new_spec),
        known: count(known),
        failed_sides: count(failed),
    }
}

impl ParityStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// Saved suites by name, each with its compares in the order they were added and its schedule.
    pub async fn saved_suites(&self) -> Result<Vec<ParitySuite>, ConsoleError> {
        let rows: Vec<(String, String, Option<i64>, Option<i64>)> = on_engine!(&self.db, pool => sqlx::query_as(
            "SELECT name, compares_json, interval_secs, jitter_secs FROM parity_suites ORDER BY lower(name), name",
        )
        .fetch_all(pool)
        .await)
        .map_err(database)?;
        rows.into_iter()
            .map(|(name, compares, interval, jitter)| {
                let schedule = interval.and_then(|interval| {
                    Some(SuiteSchedule {
                        interval_secs: u64::try_from(interval).ok()?,
                        jitter_secs: u64::try_from(jitter.unwrap_or(0)).unwrap_or(0),
                    })
                });
                let compares = serde_json::from_str(&compares).map_err(corrupt("suite"))?;
                Ok(ParitySuite { name, source: SuiteSource::Saved, compares, schedule })
            })
            .collect()
    }

    /// Sets (or with `None` clears) a saved suite's schedule; `false` when there is no such suite.
    pub async fn set_schedule(
        &self,
        name: &str,
        schedule: Option<SuiteSchedule>,
        staff: &str,
        now_ms: i64,
    ) -> Result<bool, ConsoleError> {
        let wide = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let _turn = self.db.write_turn().await;
        let changed = on_engine!(&self.db, pool => sqlx::query(
            "UPDATE parity_suites SET interval_secs = $2, jitter_secs = $3, updated_by = $4, updated_at_ms = $5
             WHERE name = $1",
        )
        .bind(name)
        .bind(schedule.map(|s| wide(s.interval_secs)))
        .bind(schedule.map(|s| wide(s.jitter_secs)))
        .bind(staff)
        .bind(now_ms)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))
        .map_err(database)?;
        Ok(changed == 1)
    }

    /// A saved suite's compares and their stored text (what `replace_suite` compares against).
    pub async fn saved_suite(&self, name: &str) -> Result<Option<(Vec<ParityCompare>, String)>, ConsoleError> {
        let row: Option<(String,)> =
            on_engine!(&self.db, pool => sqlx::query_as("SELECT compares_json FROM parity_suites WHERE name = $1")
                .bind(name)
                .fetch_optional(pool)
                .await)
            .map_err(database)?;
        row.map(|(text,)| Ok((serde_json::from_str(&text).map_err(corrupt("suite"))?, text))).transpose()
    }

    /// Stores `compares` as suite `name` if it is still as it was read (`was`: its stored text, or
    /// `None` for a suite that did not exist); `false` when another change came first. Compare and
    /// set, so two staff changing one suite at once, on any replica, never lose each other's change.
    pub async fn replace_suite(
        &self,
        name: &str,
        was: Option<&str>,
        compares: &[ParityCompare],
        staff: &str,
        now_ms: i64,
    ) -> Result<bool, ConsoleError> {
        let compares = json(&compares)?;
        let _turn = self.db.write_turn().await;
        let changed = match was {
            None => on_engine!(&self.db, pool => sqlx::query(
                "INSERT INTO parity_suites (name, compares_json, updated_by, updated_at_ms) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .bind(&compares)
            .bind(staff)
            .bind(now_ms)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())),
            Some(was) => on_engine!(&self.db, pool => sqlx::query(
                "UPDATE parity_suites SET compares_json = $2, updated_by = $3, updated_at_ms = $4
                 WHERE name = $1 AND compares_json = $5",
            )
            .bind(name)
            .bind(&compares)
            .bind(staff)
            .bind(now_ms)
            .bind(was)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())),
        }
        .map_err(database)?;
        Ok(changed == 1)
    }

    /// Deletes saved suite `name` with its baseline and kept runs; answers how many runs went.
    pub async fn delete_suite(&self, name: &str) -> Result<u64, ConsoleError> {
        let _turn = self.db.write_turn().await;
        let runs = on_engine!(&self.db, pool => sqlx::query("DELETE FROM parity_runs WHERE suite = $1")
            .bind(name)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))
        .map_err(database)?;
        for statement in ["DELETE FROM parity_baselines WHERE suite = $1", "DELETE FROM parity_suites WHERE name = $1"]
        {
            on_engine!(&self.db, pool => sqlx::query(statement)
                .bind(name)
                .execute(pool)
                .await
                .map(|_| ()))
            .map_err(database)?;
        }
        Ok(runs)
    }

    /// The suite's baseline and the differences it accepts.
    pub async fn baseline(&self, suite: &str) -> Result<Option<Baseline>, ConsoleError> {
        let row: Option<(i64, String, i64, String, String)> = on_engine!(&self.db, pool => sqlx::query_as(
            "SELECT run_id, accepted_by, accepted_at_ms, items_json, spec_json FROM parity_baselines WHERE suite = $1",
        )
        .bind(suite)
        .fetch_optional(pool)
        .await)
        .map_err(database)?;
        let Some((run_id, accepted_by, accepted_at_ms, items, spec)) = row else { return Ok(None) };
        let items: Vec<DriftItem> = serde_json::from_str(&items).map_err(corrupt("baseline"))?;
        let spec: Vec<SpecComparison> = serde_json::from_str(&spec).map_err(corrupt("baseline"))?;
        let accepted = items.len() + spec.iter().map(|s| s.changes.len()).sum::<usize>();
        Ok(Some(Baseline { view: BaselineView { run_id, accepted_by, accepted_at_ms, items: accepted }, items, spec }))
    }

    pub async fn set_baseline(
        &self,
        suite: &str,
        run_id: i64,
        items: &[DriftItem],
        spec: &[SpecComparison],
        staff: &str,
        now_ms: i64,
    ) -> Result<(), ConsoleError> {
        let items = json(&items)?;
        let spec = json(&spec)?;
        let _turn = self.db.write_turn().await;
        on_engine!(&self.db, pool => sqlx::query(
            "INSERT INTO parity_baselines (suite, run_id, items_json, accepted_by, accepted_at_ms, spec_json)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (suite) DO UPDATE SET run_id = $2, items_json = $3, accepted_by = $4, accepted_at_ms = $5,
             spec_json = $6",
        )
        .bind(suite)
        .bind(run_id)
        .bind(&items)
        .bind(staff)
        .bind(now_ms)
        .bind(&spec)
        .execute(pool)
        .await
        .map(|_| ()))
        .map_err(database)
    }

    /// Keeps a run (its id is set here) and deletes the suite's runs beyond the newest `keep` and
    /// those started before `oldest_ms`.
    pub async fn insert_run(&self, run: &mut ParityRun, keep: u32, oldest_ms: i64) -> Result<(), ConsoleError> {
        let s = run.summary();
        let wide = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        let _turn = self.db.write_turn().await;
        let id: i64 = on_engine!(&self.db, pool => sqlx::query_as(
            "INSERT INTO parity_runs (suite, started_by, started_at_ms, duration_ms, new_shape, new_value, known, failed_sides, new_spec, run_json)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, '{}') RETURNING id",
        )
        .bind(&run.suite)
        .bind(&run.started_by)
        .bind(run.started_at_ms)
        .bind(run.duration_ms)
        .bind(wide(s.new_shape))
        .bind(wide(s.new_value))
        .bind(wide(s.known))
        .bind(wide(s.failed_sides))
        .bind(wide(s.new_spec))
        .fetch_one(pool)
        .await
        .map(|(id,): (i64,)| id))
        .map_err(database)?;
        run.id = id;
        let body = json(&*run)?;
        on_engine!(&self.db, pool => sqlx::query("UPDATE parity_runs SET run_json = $1 WHERE id = $2")
            .bind(&body)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(database)?;
        on_engine!(&self.db, pool => sqlx::query(
            "DELETE FROM parity_runs WHERE suite = $1 AND (started_at_ms < $3 OR id NOT IN
             (SELECT id FROM parity_runs WHERE suite = $1 ORDER BY id DESC LIMIT $2))",
        )
        .bind(&run.suite)
        .bind(i64::from(keep))
        .bind(oldest_ms)
        .execute(pool)
        .await
        .map(|_| ()))
        .map_err(database)
    }

    pub async fn run(&self, id: i64) -> Result<Option<ParityRun>, ConsoleError> {
        let row: Option<(String,)> =
            on_engine!(&self.db, pool => sqlx::query_as("SELECT run_json FROM parity_runs WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await)
            .map_err(database)?;
        row.map(|(text,)| serde_json::from_str(&text).map_err(corrupt("run"))).transpose()
    }

    /// The newest runs of a suite, newest first, without their details.
    pub async fn runs(&self, suite: &str, limit: u32) -> Result<Vec<ParityRunSummary>, ConsoleError> {
        let rows: Vec<SummaryRow> = on_engine!(&self.db, pool => sqlx::query_as(
            "SELECT id, started_at_ms, started_by, duration_ms, new_shape, new_value, new_spec, known, failed_sides
             FROM parity_runs WHERE suite = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(suite)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await)
        .map_err(database)?;
        Ok(rows.into_iter().map(summary).collect())
    }
}
