//! Request history (every run by a staff member, newest first, bounded by count and age) and the
//! per-staff "last used" environment and endpoint, in the console's database (SQLite or PostgreSQL).
//!
//! Every query is keyed by the staff member's name (the signed-in account, or the local admin in
//! local mode), so one member never sees another's runs.

use std::sync::Arc;

use sqlx::QueryBuilder;

use crate::db::Database;
use crate::on_engine;
use app::wire::{
    CompareMark, CompareResult, CompareSettings, ConsoleError, DiffCounts, DiffOptions, ExecuteRequest,
    ExecuteResponse, HistoryDetail, HistoryEntry, Preferences,
};

use crate::batch::{BatchSink, BatchWriter};

use crate::clock::SharedClock;
use crate::config::HistoryRetention;
use crate::error::database;

/// Response bodies longer than this are stored cut (the run itself showed them whole).
pub const MAX_STORED_BODY: usize = 1_000_000;
/// Headers never stored, even though the console already refuses them from the browser.
const NEVER_STORED: [&str; 4] = ["authorization", "proxy-authorization", "cookie", "set-cookie"];

/// Runs written per transaction at most: a burst is written in a few commits instead of one each.
const BATCH: usize = 128;
/// Bytes of encoded runs the writer's queue may hold. When the disk is slower than the runs coming
/// in, a request waits for room here instead of the queue growing without bound in memory. Larger
/// than one run with a body at [`MAX_STORED_BODY`], which then waits for an empty queue.
pub const QUEUE_BYTES: u32 = 4 * 1024 * 1024;

#[derive(Clone)]
pub struct HistoryStore {
    db: Database,
    retention: HistoryRetention,
    clock: SharedClock,
    writer: BatchWriter<Run>,
}

/// One run, encoded on the request path and written by the store's writer task.
pub struct Run {
    staff: String,
    at_ms: i64,
    environment: String,
    method: String,
    path: String,
    endpoint_id: Option<String>,
    status: Option<i64>,
    duration_ms: Option<f64>,
    error: Option<String>,
    request_json: String,
    response_json: Option<String>,
    response_body: Option<String>,
}

impl Run {
    /// About the memory the run holds while queued: its encoded request and response.
    fn weight(&self) -> usize {
        256 + self.request_json.len()
            + self.response_json.as_ref().map_or(0, String::len)
            + self.response_body.as_ref().map_or(0, String::len)
    }
}

/// The request as it may be kept: without credentials of any kind.
pub fn storable_request(request: &ExecuteRequest) -> ExecuteRequest {
    let mut request = request.clone();
    request.headers.retain(|(name, _)| !NEVER_STORED.contains(&name.trim().to_ascii_lowercase().as_str()));
    request
}

fn storable_response(response: &ExecuteResponse) -> ExecuteResponse {
    let mut response = response.clone();
    response.headers.retain(|(name, _)| !NEVER_STORED.contains(&name.to_ascii_lowercase().as_str()));
    // The request record shows Authorization as a fingerprint only, but history keeps no auth header at all.
    response.sent_headers.retain(|(name, _)| !NEVER_STORED.contains(&name.to_ascii_lowercase().as_str()));
    // Token metadata describes the moment of the run, not the run: it is not kept.
    response.token = None;
    if response.body.len() > MAX_STORED_BODY {
        let mut cut = MAX_STORED_BODY;
        while !response.body.is_char_boundary(cut) {
            cut -= 1;
        }
        response.body.truncate(cut);
        response.truncated = true;
    }
    response
}

/// A response as history keeps it: the answer without its body as JSON, and the body as text in a
/// column of its own (escaping it into the JSON cost as much as the rest of the row).
fn stored_response(response: &ExecuteResponse) -> Result<(String, String), ConsoleError> {
    let mut response = storable_response(response);
    let body = std::mem::take(&mut response.body);
    Ok((json(&response)?, body))
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, ConsoleError> {
    serde_json::to_string(value).map_err(|e| ConsoleError::Internal(format!("cannot encode a history row: {e}")))
}

impl HistoryStore {
    /// The store and its writer task, which ends when the last handle to the store is dropped.
    /// Reads go through `db`; the writer commits through `writes` (the same database, maybe another
    /// pool: see `Database::for_batch_writers`).
    pub fn new(db: Database, writes: Database, retention: HistoryRetention, clock: SharedClock) -> Arc<Self> {
        // The writer holds no handle to the store, so it cannot keep its own queue open.
        let sink = WriterState {
            db: writes,
            retention: retention.clone(),
            clock: clock.clone(),
            unpruned: std::sync::Mutex::new(std::collections::HashMap::new()),
        };
        let (writer, _task) = BatchWriter::spawn_bounded(sink, BATCH, QUEUE_BYTES);
        Arc::new(Self { db, retention, clock, writer })
    }

    /// Bytes of runs queued for the writer.
    pub fn queued_bytes(&self) -> usize {
        self.writer.queued_bytes()
    }

    /// Waits until every run recorded before this call is in the database. Reads call it first, so a
    /// member always sees the run they just made although the request did not wait for its write.
    pub async fn flush(&self) {
        self.writer.flush().await;
    }

    /// Records one run: encoded here, written by the writer task together with whatever else is
    /// queued (one commit for a burst), with the remembered choice and the retention bounds. The
    /// request does not wait on the disk; a read waits for the writes before it (see [`Self::flush`]).
    pub async fn record(
        &self,
        staff: &str,
        request: &ExecuteRequest,
        outcome: &Result<ExecuteResponse, ConsoleError>,
    ) -> Result<(), ConsoleError> {
        let request = storable_request(request);
        let (status, duration_ms, error, response) = match outcome {
            Ok(response) => {
                (Some(i64::from(response.status)), Some(response.duration_ms), None, Some(stored_response(response)?))
            }
            Err(error) => (None, None, Some(error.to_string()), None),
        };
        let (response_json, response_body) = response.unzip();
        let run = Run {
            staff: staff.to_owned(),
            at_ms: self.clock.wall_ms(),
            method: request.method.to_ascii_uppercase(),
            request_json: json(&request)?,
            environment: request.environment,
            path: request.path,
            endpoint_id: request.endpoint_id,
            status,
            duration_ms,
            error,
            response_json,
            response_body,
        };
        let weight = run.weight();
        self.writer
            .push_weighed(run, weight)
            .await
            .map_err(|_| ConsoleError::Internal("the history writer has stopped; the run was not recorded".into()))
    }

    /// The newest runs of `staff`, newest first.
    pub async fn list(&self, staff: &str, limit: u32) -> Result<Vec<HistoryEntry>, ConsoleError> {
        self.flush().await;
        let oldest = self.retention.oldest_kept(self.clock.wall_ms());
        // The writer deletes runs past the bounds in steps, so reading applies the bounds exactly.
        let limit = i64::from(limit.clamp(1, 1_000).min(self.retention.max_entries));
        let rows: Vec<EntryRow> = on_engine!(&self.db, pool => sqlx::query_as(
            "SELECT id, at_ms, environment, method, path, endpoint_id, status, duration_ms, error,
                    compare_environment, compare_status, compare_counts
             FROM history WHERE staff = $1 AND at_ms >= $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(staff)
        .bind(oldest)
        .bind(limit)
        .fetch_all(pool)
        .await)
        .map_err(database)?;
        Ok(rows.into_iter().map(entry).collect())
    }

    /// Deletes one run of `staff`; answers whether there was one. Runs still queued are written
    /// first, so a delete never races the writer.
    pub async fn delete(&self, staff: &str, id: i64) -> Result<bool, ConsoleError> {
        self.flush().await;
        let _turn = self.db.write_turn().await;
        let done = on_engine!(&self.db, pool => sqlx::query("DELETE FROM history WHERE staff = $1 AND id = $2")
            .bind(staff)
            .bind(id)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))
        .map_err(database)?;
        Ok(done == 1)
    }

    /// Deletes every run of `staff`; answers how many went.
    pub async fn clear(&self, staff: &str) -> Result<u64, ConsoleError> {
        self.flush().await;
        let _turn = self.db.write_turn().await;
        on_engine!(&self.db, pool => sqlx::query("DELETE FROM history WHERE staff = $1")
            .bind(staff)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))
        .map_err(database)
    }

    /// One run of `staff` (another member's run is "not found", not "forbidden").
    pub async fn get(&self, staff: &str, id: i64) -> Result<HistoryDetail, ConsoleError> {
        self.flush().await;
        let row: Option<DetailRow> = on_engine!(&self.db, pool => sqlx::query_as(
            "SELECT id, at_ms, environment, method, path, endpoint_id, status, duration_ms, error,
                    compare_environment, compare_status, compare_counts, request_json, response_json, compare_json,
                    response_body
             FROM history WHERE staff = $1 AND id = $2",
        )
        .bind(staff)
        .bind(id)
        .fetch_optional(pool)
        .await)
        .map_err(database)?;
        let (
            id,
            at_ms,
            environment,
            method,
            path,
            endpoint_id,
            status,
            duration,
            error,
            right,
            right_status,
            counts,
            request,
            response,
            compare,
            body,
        ) = row.ok_or_else(|| {
            ConsoleError::InvalidRequest(format!("history entry {id} does not exist (or was pruned)"))
        })?;
        let row =
            (id, at_ms, environment, method, path, endpoint_id, status, duration, error, right, right_status, counts);
        let decode = |e: serde_json::Error| ConsoleError::Internal(format!("history entry {id} is unreadable: {e}"));
        let request: ExecuteRequest = serde_json::from_str(&request).map_err(decode)?;
        let mut response: Option<ExecuteResponse> =
            response.map(|text| serde_json::from_str(&text)).transpose().map_err(decode)?;
        if let (Some(response), Some(body)) = (&mut response, body) {
            response.body = body;
        }
        let compare = compare.map(|text| serde_json::from_str(&text)).transpose().map_err(decode)?;
        Ok(HistoryDetail { entry: entry(row), request, response, compare })
    }

    /// Records a compare as one history entry (the left side in the usual columns), applies the
    /// retention bounds, and answers the entry's id.
    pub async fn record_compare(
        &self,
        staff: &str,
        left: &ExecuteRequest,
        right: &ExecuteRequest,
        result: &CompareResult,
    ) -> Result<i64, ConsoleError> {
        // Runs queued before this compare get their ids first, so history stays in order.
        self.flush().await;
        let now = self.clock.wall_ms();
        let request = storable_request(left);
        let left_response = result.left.response.as_ref();
        let compare_json = json(&storable_compare(result))?;
        let request_json = json(&request)?;
        let (response_json, response_body) = left_response.map(stored_response).transpose()?.unzip();
        let counts_json = json(&result.body.counts)?;
        let oldest = self.retention.oldest_kept(now);
        let keep = i64::from(self.retention.max_entries);
        let _turn = self.db.write_turn().await;
        let id: Result<i64, sqlx::Error> = on_engine!(&self.db, pool => async {
            let mut tx = pool.begin().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO history (staff, at_ms, environment, method, path, endpoint_id, status, duration_ms, error,
                                      request_json, response_json, compare_environment, compare_status, compare_counts, compare_json,
                                      response_body)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
            )
            .bind(staff)
            .bind(now)
            .bind(&request.environment)
            .bind(request.method.to_ascii_uppercase())
            .bind(&request.path)
            .bind(&request.endpoint_id)
            .bind(left_response.map(|r| i64::from(r.status)))
            .bind(left_response.map(|r| r.duration_ms))
            .bind(result.left.error.as_ref().map(ToString::to_string))
            .bind(&request_json)
            .bind(&response_json)
            .bind(&right.environment)
            .bind(result.right.response.as_ref().map(|r| i64::from(r.status)))
            .bind(&counts_json)
            .bind(&compare_json)
            .bind(&response_body)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(PRUNE_BY_COUNT).bind(staff).bind(keep).execute(&mut *tx).await?;
            sqlx::query(PRUNE_BY_AGE).bind(staff).bind(oldest).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(id)
        }
        .await);
        id.map_err(database)
    }

    /// The diff options `staff` last compared `endpoint` with, or the defaults.
    pub async fn compare_settings(&self, staff: &str, endpoint: &str) -> Result<CompareSettings, ConsoleError> {
        let row: Option<(String,)> = on_engine!(&self.db, pool =>
            sqlx::query_as("SELECT options_json FROM compare_settings WHERE staff = $1 AND endpoint = $2")
                .bind(staff)
                .bind(endpoint)
                .fetch_optional(pool)
                .await)
        .map_err(database)?;
        let remembered = row.and_then(|(text,)| serde_json::from_str::<DiffOptions>(&text).ok());
        Ok(CompareSettings {
            endpoint: endpoint.to_owned(),
            remembered: remembered.is_some(),
            options: remembered.unwrap_or_else(DiffOptions::defaults),
        })
    }

    pub async fn remember_compare_settings(
        &self,
        staff: &str,
        endpoint: &str,
        options: &DiffOptions,
    ) -> Result<(), ConsoleError> {
        let options = json(options)?;
        let now = self.clock.wall_ms();
        let _turn = self.db.write_turn().await;
        on_engine!(&self.db, pool => sqlx::query(
            "INSERT INTO compare_settings (staff, endpoint, options_json, updated_at_ms) VALUES ($1, $2, $3, $4)
             ON CONFLICT (staff, endpoint) DO UPDATE SET options_json = $3, updated_at_ms = $4",
        )
        .bind(staff)
        .bind(endpoint)
        .bind(&options)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))
        .map_err(database)
    }

    /// Remembers the theme `staff` chose (`None`: follow the system).
    pub async fn set_theme(&self, staff: &str, theme: Option<&str>) -> Result<(), ConsoleError> {
        let now = self.clock.wall_ms();
        let _turn = self.db.write_turn().await;
        on_engine!(&self.db, pool => sqlx::query(
            "INSERT INTO staff_preferences (staff, theme, updated_at_ms) VALUES ($1, $2, $3)
             ON CONFLICT (staff) DO UPDATE SET theme = $2, updated_at_ms = $3",
        )
        .bind(staff)
        .bind(theme)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))
        .map_err(database)
    }

    /// The environment and endpoint `staff` used last, and their theme.
    pub async fn preferences(&self, staff: &str) -> Result<Preferences, ConsoleError> {
        self.flush().await;
        let row: Option<(Option<String>, Option<String>, Option<String>)> = on_engine!(&self.db, pool =>
            sqlx::query_as("SELECT last_environment, last_endpoint, theme FROM staff_preferences WHERE staff = $1")
                .bind(staff)
                .fetch_optional(pool)
                .await)
        .map_err(database)?;
        Ok(match row {
            Some((last_environment, last_endpoint, theme)) => Preferences { last_environment, last_endpoint, theme },
            None => Preferences::default(),
        })
    }
}

/// The writer task's share of the store.
struct WriterState {
    db: Database,
    retention: HistoryRetention,
    clock: SharedClock,
    /// Runs written per member since their last pruning: pruning every member of every batch was
    /// most of the writer's time under load, and reads apply the bounds exactly anyway.
    unpruned: std::sync::Mutex<std::collections::HashMap<String, u32>>,
}

#[async_trait::async_trait]
impl BatchSink for WriterState {
    type Item = Run;

    async fn write(&self, runs: &[Run]) {
        if let Err(error) = self.write_runs(runs).await {
            tracing::warn!(%error, runs = runs.len(), "runs not recorded in history");
        }
    }
}

impl WriterState {
    /// The runs, each member's remembered choice and the pruning: one transaction, one commit.
    async fn write_runs(&self, runs: &[Run]) -> Result<(), ConsoleError> {
        let now = self.clock.wall_ms();
        let oldest = self.retention.oldest_kept(now);
        let keep = i64::from(self.retention.max_entries);
        // Only each member's last run of the batch decides their remembered choice.
        let last_of_each: Vec<&Run> = runs
            .iter()
            .enumerate()
            .filter(|(index, run)| !runs[index + 1..].iter().any(|later| later.staff == run.staff))
            .map(|(_, run)| run)
            .collect();
        let due = self.due_for_pruning(runs);
        let _turn = self.db.write_turn().await;
        let written: Result<(), sqlx::Error> = on_engine!(&self.db, pool => async {
            let mut tx = pool.begin().await?;
            for chunk in crate::db::insert_chunks(runs) {
                let mut q = QueryBuilder::new(
                    "INSERT INTO history (staff, at_ms, environment, method, path, endpoint_id, status, duration_ms, error, \
                     request_json, response_json, response_body) ",
                );
                q.push_values(chunk, |mut row, run| {
                    row.push_bind(run.staff.as_str())
                        .push_bind(run.at_ms)
                        .push_bind(run.environment.as_str())
                        .push_bind(run.method.as_str())
                        .push_bind(run.path.as_str())
                        .push_bind(run.endpoint_id.as_deref())
                        .push_bind(run.status)
                        .push_bind(run.duration_ms)
                        .push_bind(run.error.as_deref())
                        .push_bind(run.request_json.as_str())
                        .push_bind(run.response_json.as_deref())
                        .push_bind(run.response_body.as_deref());
                });
                q.build().execute(&mut *tx).await?;
            }
            for chunk in crate::db::insert_chunks(&last_of_each) {
                let mut q = QueryBuilder::new(
                    "INSERT INTO staff_preferences (staff, last_environment, last_endpoint, updated_at_ms) ",
                );
                q.push_values(chunk, |mut row, run| {
                    row.push_bind(run.staff.as_str())
                        .push_bind(run.environment.as_str())
                        .push_bind(run.endpoint_id.as_deref())
                        .push_bind(now);
                });
                // Each member appears once (their last run), as one statement may change a row only once.
                q.push(
                    " ON CONFLICT (staff) DO UPDATE SET last_environment = excluded.last_environment, \
                     last_endpoint = excluded.last_endpoint, updated_at_ms = excluded.updated_at_ms",
                );
                q.build().execute(&mut *tx).await?;
            }
            for staff in &due {
                sqlx::query(PRUNE_BY_COUNT).bind(staff).bind(keep).execute(&mut *tx).await?;
                sqlx::query(PRUNE_BY_AGE).bind(staff).bind(oldest).execute(&mut *tx).await?;
            }
            tx.commit().await
        }
        .await);
        written.map_err(database)
    }

    /// The members of `runs` whose runs since their last pruning reach a tenth of the count bound.
    fn due_for_pruning(&self, runs: &[Run]) -> Vec<String> {
        let step = (self.retention.max_entries / 10).max(1);
        let Ok(mut unpruned) = self.unpruned.lock() else {
            // A poisoned map only costs speed: prune everyone in the batch.
            let mut all: Vec<String> = runs.iter().map(|r| r.staff.clone()).collect();
            all.dedup();
            return all;
        };
        let mut due = Vec::new();
        for run in runs {
            let count = unpruned.entry(run.staff.clone()).or_insert(0);
            *count += 1;
            if *count >= step && !due.contains(&run.staff) {
                due.push(run.staff.clone());
            }
        }
        for staff in &due {
            unpruned.remove(staff);
        }
        due
    }
}

/// Drops a member's runs beyond the newest `$2` (the count bound): everything at or below the id of
/// their (`$2` + 1)-th newest run, found by one range scan of `history_by_staff_id`. Reads apply the
/// bounds exactly, so the writer may run this in steps.
const PRUNE_BY_COUNT: &str = "DELETE FROM history WHERE staff = $1 AND id <=
    (SELECT id FROM history WHERE staff = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)";
/// Drops a member's runs older than the age bound (`$2`, unix milliseconds).
const PRUNE_BY_AGE: &str = "DELETE FROM history WHERE staff = $1 AND at_ms < $2";

/// The columns of one history entry, as both engines decode them.
type EntryRow = (
    i64,
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<f64>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
);

/// An entry's columns followed by request_json, response_json, compare_json and response_body (flat: the engines
/// decode tuples of columns, not tuples of tuples).
type DetailRow = (
    i64,
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<f64>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn entry(row: EntryRow) -> HistoryEntry {
    let (id, at_ms, environment, method, path, endpoint_id, status, duration_ms, error, right, right_status, counts) =
        row;
    let status_code = |s: Option<i64>| s.and_then(|s| u16::try_from(s).ok());
    HistoryEntry {
        id,
        at_ms,
        environment,
        method,
        path,
        endpoint_id,
        status: status_code(status),
        duration_ms,
        error,
        compare: right.map(|right_environment| CompareMark {
            right_environment,
            right_status: status_code(right_status),
            counts: counts.and_then(|text| serde_json::from_str::<DiffCounts>(&text).ok()).unwrap_or_default(),
        }),
    }
}

/// A compare as it may be kept: both responses as `storable_response` keeps them, and the view cut
/// so one row stays around a megabyte.
fn storable_compare(result: &CompareResult) -> CompareResult {
    let mut result = result.clone();
    for side in [&mut result.left, &mut result.right] {
        if let Some(response) = &mut side.response {
            *response = storable_response(response);
            // The body store forgets bodies after a while; history keeps the answer text it shows.
            response.body_id = None;
        }
    }
    result.exports = None;
    const KEPT_CHANGES: usize = 500;
    const KEPT_ROWS: usize = 1_500;
    result.body.changes.truncate(KEPT_CHANGES);
    if result.body.rows.len() > KEPT_ROWS {
        result.body.rows.truncate(KEPT_ROWS);
        result.body.rows_truncated = true;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock as _, ManualClock};
    use std::time::Duration;

    async fn store(max_entries: u32, max_age_days: u64) -> (Arc<HistoryStore>, Arc<ManualClock>, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("a55-history-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = Database::Sqlite(crate::db::open(&dir.join("console.db")).await.unwrap());
        let clock = ManualClock::new();
        let retention = HistoryRetention { max_entries, max_age: Duration::from_secs(max_age_days * 86_400) };
        let writes = db.for_batch_writers().await.unwrap();
        (HistoryStore::new(db, writes, retention, clock.clone()), clock, dir)
    }

    fn request(path: &str) -> ExecuteRequest {
        ExecuteRequest {
            environment: "sandbox".into(),
            method: "get".into(),
            path: path.into(),
            headers: vec![("Authorization".into(), "Bearer eyJsecret".into()), ("X-Partner".into(), "p".into())],
            endpoint_id: Some("listCharges".into()),
            ..ExecuteRequest::default()
        }
    }

    fn response(body: &str) -> ExecuteResponse {
        ExecuteResponse {
            status: 200,
            status_text: "OK".into(),
            method: "GET".into(),
            url: "https://x/api/v1/a".into(),
            duration_ms: 12.0,
            ttfb_ms: 5.0,
            size_bytes: body.len() as u64,
            content_type: Some("application/json".into()),
            headers: vec![("set-cookie".into(), "s=1".into()), ("x-request-id".into(), "req_1".into())],
            body: body.into(),
            truncated: false,
            token_fingerprint: Some("abcd1234".into()),
            upstream_request_id: Some("req_1".into()),
            token: None,
            hint: None,
            retried: false,
            body_id: None,
            body_inline: true,
            kept_bytes: body.len() as u64,
            wire_bytes: body.len() as u64,
            content_encoding: None,
            max_response_bytes: 50_000_000,
            sent_headers: Vec::new(),
            sent_body: None,
            masking: Default::default(),
        }
    }

    #[tokio::test]
    async fn runs_are_listed_newest_first_per_staff_member_and_read_back_whole() {
        let (store, clock, dir) = store(100, 30).await;
        store.record("ana", &request("/a"), &Ok(response("{\"n\":1}"))).await.unwrap();
        clock.advance(Duration::from_secs(1));
        store.record("ana", &request("/b"), &Err(ConsoleError::UpstreamTimeout("slow".into()))).await.unwrap();
        store.record("bruno", &request("/c"), &Ok(response("{}"))).await.unwrap();
        let list = store.list("ana", 50).await.unwrap();
        assert_eq!(list.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(), vec!["/b", "/a"]);
        assert_eq!(list[0].status, None);
        assert_eq!(list[0].error.as_deref(), Some("slow"));
        assert_eq!(list[1].status, Some(200));
        assert_eq!(list[1].method, "GET");
        let detail = store.get("ana", list[1].id).await.unwrap();
        assert_eq!(detail.response.unwrap().body, "{\"n\":1}");
        assert_eq!(detail.request.headers, vec![("X-Partner".to_owned(), "p".to_owned())]);
        let bruno_entry = store.list("bruno", 50).await.unwrap()[0].id;
        assert!(store.get("ana", bruno_entry).await.is_err(), "one member cannot open another's run");
        let prefs = store.preferences("bruno").await.unwrap();
        assert_eq!(prefs.last_environment.as_deref(), Some("sandbox"));
        assert_eq!(prefs.last_endpoint.as_deref(), Some("listCharges"));
        assert_eq!(store.preferences("nobody").await.unwrap(), Preferences::default());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn a_run_keeps_its_body_as_plain_text_beside_the_answer_and_reads_back_whole() {
        let (store, _clock, dir) = store(100, 30).await;
        let body = "{\n  \"charges\": [{\"id\": \"ch_1\", \"note\": \"a \\\"quoted\\\" word\"}]\n}";
        store.record("ana", &request("/a"), &Ok(response(body))).await.unwrap();
        store.flush().await;
        let (json, column): (String, Option<String>) =
            sqlx::query_as("SELECT response_json, response_body FROM history")
                .fetch_one(store.db.sqlite().unwrap())
                .await
                .unwrap();
        assert_eq!(column.as_deref(), Some(body), "the body is stored as it came, unescaped");
        assert!(!json.contains("ch_1"), "the answer's JSON no longer carries the body: {json}");
        let id = store.list("ana", 1).await.unwrap()[0].id;
        assert_eq!(store.get("ana", id).await.unwrap().response.unwrap().body, body);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn a_run_written_before_the_body_column_still_reads_back_with_its_body() {
        let (store, clock, dir) = store(100, 30).await;
        let old = serde_json::to_string(&response("{\"legacy\": true}")).unwrap();
        sqlx::query(
            "INSERT INTO history (staff, at_ms, environment, method, path, status, request_json, response_json)
             VALUES ('ana', $1, 'sandbox', 'GET', '/old', 200, $2, $3)",
        )
        .bind(clock.wall_ms())
        .bind(serde_json::to_string(&request("/old")).unwrap())
        .bind(old)
        .execute(store.db.sqlite().unwrap())
        .await
        .unwrap();
        let id = store.list("ana", 1).await.unwrap()[0].id;
        assert_eq!(store.get("ana", id).await.unwrap().response.unwrap().body, "{\"legacy\": true}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn no_row_ever_holds_an_authorization_header_or_a_set_cookie() {
        let (store, _clock, dir) = store(100, 30).await;
        store.record("ana", &request("/a"), &Ok(response("{}"))).await.unwrap();
        store.flush().await;
        let rows: Vec<(String, Option<String>, Option<String>)> =
            sqlx::query_as("SELECT request_json, response_json, response_body FROM history")
                .fetch_all(store.db.sqlite().unwrap())
                .await
                .unwrap();
        for (request, response, body) in rows {
            let all = format!("{request}{}{}", response.unwrap_or_default(), body.unwrap_or_default()).to_lowercase();
            assert!(!all.contains("authorization") && !all.contains("eyj") && !all.contains("set-cookie"), "{all}");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn retention_keeps_the_newest_entries_and_drops_old_ones() {
        let (store, clock, dir) = store(3, 2).await;
        for n in 0..5 {
            store.record("ana", &request(&format!("/{n}")), &Ok(response("{}"))).await.unwrap();
        }
        let paths: Vec<String> = store.list("ana", 50).await.unwrap().into_iter().map(|e| e.path).collect();
        assert_eq!(paths, vec!["/4", "/3", "/2"]);
        clock.advance(Duration::from_secs(3 * 86_400));
        store.record("bruno", &request("/b"), &Ok(response("{}"))).await.unwrap();
        store.record("ana", &request("/new"), &Ok(response("{}"))).await.unwrap();
        let paths: Vec<String> = store.list("ana", 50).await.unwrap().into_iter().map(|e| e.path).collect();
        assert_eq!(paths, vec!["/new"], "entries older than max_age are gone");
        assert_eq!(store.list("bruno", 50).await.unwrap().len(), 1, "pruning one member leaves the others alone");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn runs_past_the_count_bound_never_show_although_the_writer_deletes_them_in_steps() {
        let (store, _clock, dir) = store(20, 30).await;
        for n in 0..47 {
            store.record("ana", &request(&format!("/{n}")), &Ok(response("{}"))).await.unwrap();
            let shown = store.list("ana", 1_000).await.unwrap();
            assert_eq!(shown.len(), (n + 1).min(20), "after run {n}");
            assert_eq!(shown[0].path, format!("/{n}"), "newest first");
        }
        let kept: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM history").fetch_one(store.db.sqlite().unwrap()).await.unwrap();
        assert!((20..=22).contains(&kept), "the table holds the bound plus at most one step: {kept}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn a_burst_of_concurrent_runs_is_written_whole_and_each_member_reads_their_own_at_once() {
        let (store, _clock, dir) = store(1_000, 30).await;
        let runs = (0..300).map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                let staff = if n % 3 == 0 { "ana" } else { "bruno" };
                store.record(staff, &request(&format!("/{n}")), &Ok(response("{}"))).await.unwrap();
            })
        });
        for run in runs.collect::<Vec<_>>() {
            run.await.unwrap();
        }
        // No flush here: reading is what waits for the queued writes.
        assert_eq!(store.list("ana", 1_000).await.unwrap().len(), 100);
        assert_eq!(store.list("bruno", 1_000).await.unwrap().len(), 200);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn a_large_batch_keeps_every_run_in_order_with_its_body_and_each_members_last_choice() {
        let (store, _clock, dir) = store(1_000, 30).await;
        // Queued back to back on this test's single thread, so the writer takes them in batches of
        // up to its size and writes each batch as several multi-row statements.
        for n in 0..203 {
            let staff = ["ana", "bruno", "carla"][n % 3];
            let mut request = request(&format!("/{n}"));
            request.environment = format!("env-{n}");
            request.endpoint_id = Some(format!("endpoint-{n}"));
            store.record(staff, &request, &Ok(response(&format!("{{\"n\":{n}}}")))).await.unwrap();
        }
        store.flush().await;
        for (member, first) in [("ana", 0), ("bruno", 1), ("carla", 2)] {
            let list = store.list(member, 1_000).await.unwrap();
            let expected: Vec<String> = (first..203).step_by(3).rev().map(|n| format!("/{n}")).collect();
            assert_eq!(list.iter().map(|e| e.path.clone()).collect::<Vec<_>>(), expected, "{member}: newest first");
            for entry in list.iter().take(5) {
                let n = &entry.path[1..];
                let body = store.get(member, entry.id).await.unwrap().response.unwrap().body;
                assert_eq!(body, format!("{{\"n\":{n}}}"), "{member}'s run {n} has its own body");
            }
            let last = expected[0][1..].to_owned();
            let prefs = store.preferences(member).await.unwrap();
            assert_eq!(prefs.last_environment, Some(format!("env-{last}")), "{member}");
            assert_eq!(prefs.last_endpoint, Some(format!("endpoint-{last}")), "{member}");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn long_bodies_are_stored_cut_and_marked() {
        let (store, _clock, dir) = store(10, 30).await;
        let body = "é".repeat(MAX_STORED_BODY);
        store.record("ana", &request("/big"), &Ok(response(&body))).await.unwrap();
        let id = store.list("ana", 1).await.unwrap()[0].id;
        let stored = store.get("ana", id).await.unwrap().response.unwrap();
        assert!(stored.truncated);
        assert!(stored.body.len() <= MAX_STORED_BODY);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
