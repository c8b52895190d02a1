//! Request history (every run by a staff member, newest first, bounded by count and age) and the
//! per-staff "last used" environment and endpoint, in SQLite.
//!
//! Every query is keyed by the staff member's name (the signed-in account, or the local admin in
//! local mode), so one member never sees another's runs.

use std::sync::Arc;

use app::wire::{
    CompareMark, CompareResult, CompareSettings, ConsoleError, DiffCounts, DiffOptions, ExecuteRequest,
    ExecuteResponse, HistoryDetail, HistoryEntry, Preferences,
};
use sqlx::{Row, SqlitePool};

use crate::clock::SharedClock;
use crate::config::HistoryRetention;
use crate::error::to_console;

/// Response bodies longer than this are stored cut (the run itself showed them whole).
pub const MAX_STORED_BODY: usize = 1_000_000;
/// Headers never stored, even though the console already refuses them from the browser.
const NEVER_STORED: [&str; 4] = ["authorization", "proxy-authorization", "cookie", "set-cookie"];

#[derive(Clone)]
pub struct HistoryStore {
    pool: SqlitePool,
    retention: HistoryRetention,
    clock: SharedClock,
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

fn json<T: serde::Serialize>(value: &T) -> Result<String, ConsoleError> {
    serde_json::to_string(value).map_err(|e| ConsoleError::Internal(format!("cannot encode a history row: {e}")))
}

impl HistoryStore {
    pub fn new(pool: SqlitePool, retention: HistoryRetention, clock: SharedClock) -> Arc<Self> {
        Arc::new(Self { pool, retention, clock })
    }

    /// Records one run, remembers its environment and endpoint, and applies the retention bounds.
    pub async fn record(
        &self,
        staff: &str,
        request: &ExecuteRequest,
        outcome: &Result<ExecuteResponse, ConsoleError>,
    ) -> Result<(), ConsoleError> {
        let now = self.clock.wall_ms();
        let request = storable_request(request);
        let (status, duration, error, response) = match outcome {
            Ok(response) => (
                Some(i64::from(response.status)),
                Some(response.duration_ms),
                None,
                Some(json(&storable_response(response))?),
            ),
            Err(error) => (None, None, Some(error.to_string()), None),
        };
        // The insert, the remembered choice and the pruning are one transaction (one commit instead of
        // three), in one turn of the process's writers.
        let _turn = crate::db::write_turn().await;
        let mut tx = self.pool.begin().await.map_err(to_console)?;
        sqlx::query(
            "INSERT INTO history (staff, at_ms, environment, method, path, endpoint_id, status, duration_ms, error, request_json, response_json)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(staff)
        .bind(now)
        .bind(&request.environment)
        .bind(request.method.to_ascii_uppercase())
        .bind(&request.path)
        .bind(&request.endpoint_id)
        .bind(status)
        .bind(duration)
        .bind(error)
        .bind(json(&request)?)
        .bind(response)
        .execute(&mut *tx)
        .await
        .map_err(to_console)?;
        self.remember(&mut tx, staff, &request.environment, request.endpoint_id.as_deref()).await?;
        self.prune(&mut tx, staff, now).await?;
        tx.commit().await.map_err(to_console)
    }

    async fn prune(&self, tx: &mut sqlx::SqliteConnection, staff: &str, now_ms: i64) -> Result<(), ConsoleError> {
        let oldest = now_ms - i64::try_from(self.retention.max_age.as_millis()).unwrap_or(i64::MAX);
        sqlx::query(
            "DELETE FROM history WHERE staff = ?1 AND (at_ms < ?2 OR id NOT IN
               (SELECT id FROM history WHERE staff = ?1 ORDER BY id DESC LIMIT ?3))",
        )
        .bind(staff)
        .bind(oldest)
        .bind(i64::from(self.retention.max_entries))
        .execute(&mut *tx)
        .await
        .map_err(to_console)?;
        Ok(())
    }

    /// The newest runs of `staff`, newest first.
    pub async fn list(&self, staff: &str, limit: u32) -> Result<Vec<HistoryEntry>, ConsoleError> {
        let rows = sqlx::query(
            "SELECT id, at_ms, environment, method, path, endpoint_id, status, duration_ms, error,
                    compare_environment, compare_status, compare_counts
             FROM history WHERE staff = ? ORDER BY id DESC LIMIT ?",
        )
        .bind(staff)
        .bind(i64::from(limit.clamp(1, 1_000)))
        .fetch_all(&self.pool)
        .await
        .map_err(to_console)?;
        rows.iter().map(entry).collect()
    }

    /// One run of `staff` (another member's run is "not found", not "forbidden").
    pub async fn get(&self, staff: &str, id: i64) -> Result<HistoryDetail, ConsoleError> {
        let row = sqlx::query(
            "SELECT id, at_ms, environment, method, path, endpoint_id, status, duration_ms, error, request_json, response_json,
                    compare_environment, compare_status, compare_counts, compare_json
             FROM history WHERE staff = ? AND id = ?",
        )
        .bind(staff)
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(to_console)?
        .ok_or_else(|| ConsoleError::InvalidRequest(format!("history entry {id} does not exist (or was pruned)")))?;
        let decode = |e: serde_json::Error| ConsoleError::Internal(format!("history entry {id} is unreadable: {e}"));
        let request: ExecuteRequest =
            serde_json::from_str(row.try_get::<&str, _>("request_json").map_err(to_console)?).map_err(decode)?;
        let response = match row.try_get::<Option<&str>, _>("response_json").map_err(to_console)? {
            Some(text) => Some(serde_json::from_str(text).map_err(decode)?),
            None => None,
        };
        let compare = match row.try_get::<Option<&str>, _>("compare_json").map_err(to_console)? {
            Some(text) => Some(serde_json::from_str(text).map_err(decode)?),
            None => None,
        };
        Ok(HistoryDetail { entry: entry(&row)?, request, response, compare })
    }

    async fn remember(
        &self,
        tx: &mut sqlx::SqliteConnection,
        staff: &str,
        environment: &str,
        endpoint: Option<&str>,
    ) -> Result<(), ConsoleError> {
        sqlx::query(
            "INSERT INTO staff_preferences (staff, last_environment, last_endpoint, updated_at_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (staff) DO UPDATE SET last_environment = ?2, last_endpoint = ?3, updated_at_ms = ?4",
        )
        .bind(staff)
        .bind(environment)
        .bind(endpoint)
        .bind(self.clock.wall_ms())
        .execute(&mut *tx)
        .await
        .map_err(to_console)?;
        Ok(())
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
        let now = self.clock.wall_ms();
        let request = storable_request(left);
        let left_response = result.left.response.as_ref();
        let compare_json = json(&storable_compare(result))?;
        let _turn = crate::db::write_turn().await;
        let mut tx = self.pool.begin().await.map_err(to_console)?;
        let id = sqlx::query(
            "INSERT INTO history (staff, at_ms, environment, method, path, endpoint_id, status, duration_ms, error,
                                  request_json, response_json, compare_environment, compare_status, compare_counts, compare_json)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        .bind(json(&request)?)
        .bind(left_response.map(|r| json(&storable_response(r))).transpose()?)
        .bind(&right.environment)
        .bind(result.right.response.as_ref().map(|r| i64::from(r.status)))
        .bind(json(&result.body.counts)?)
        .bind(compare_json)
        .execute(&mut *tx)
        .await
        .map_err(to_console)?
        .last_insert_rowid();
        self.prune(&mut tx, staff, now).await?;
        tx.commit().await.map_err(to_console)?;
        Ok(id)
    }

    /// The diff options `staff` last compared `endpoint` with, or the defaults.
    pub async fn compare_settings(&self, staff: &str, endpoint: &str) -> Result<CompareSettings, ConsoleError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT options_json FROM compare_settings WHERE staff = ? AND endpoint = ?")
                .bind(staff)
                .bind(endpoint)
                .fetch_optional(&self.pool)
                .await
                .map_err(to_console)?;
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
        let _turn = crate::db::write_turn().await;
        sqlx::query(
            "INSERT INTO compare_settings (staff, endpoint, options_json, updated_at_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (staff, endpoint) DO UPDATE SET options_json = ?3, updated_at_ms = ?4",
        )
        .bind(staff)
        .bind(endpoint)
        .bind(json(options)?)
        .bind(self.clock.wall_ms())
        .execute(&self.pool)
        .await
        .map_err(to_console)?;
        Ok(())
    }

    /// The environment and endpoint `staff` used last.
    pub async fn preferences(&self, staff: &str) -> Result<Preferences, ConsoleError> {
        let row = sqlx::query("SELECT last_environment, last_endpoint FROM staff_preferences WHERE staff = ?")
            .bind(staff)
            .fetch_optional(&self.pool)
            .await
            .map_err(to_console)?;
        Ok(match row {
            Some(row) => Preferences {
                last_environment: row.try_get("last_environment").map_err(to_console)?,
                last_endpoint: row.try_get("last_endpoint").map_err(to_console)?,
            },
            None => Preferences::default(),
        })
    }
}

fn entry(row: &sqlx::sqlite::SqliteRow) -> Result<HistoryEntry, ConsoleError> {
    Ok(HistoryEntry {
        id: row.try_get("id").map_err(to_console)?,
        at_ms: row.try_get("at_ms").map_err(to_console)?,
        environment: row.try_get("environment").map_err(to_console)?,
        method: row.try_get("method").map_err(to_console)?,
        path: row.try_get("path").map_err(to_console)?,
        endpoint_id: row.try_get("endpoint_id").map_err(to_console)?,
        status: row.try_get::<Option<i64>, _>("status").map_err(to_console)?.and_then(|s| u16::try_from(s).ok()),
        duration_ms: row.try_get("duration_ms").map_err(to_console)?,
        error: row.try_get("error").map_err(to_console)?,
        compare: compare_mark(row)?,
    })
}

fn compare_mark(row: &sqlx::sqlite::SqliteRow) -> Result<Option<CompareMark>, ConsoleError> {
    let Some(right_environment) = row.try_get::<Option<String>, _>("compare_environment").map_err(to_console)? else {
        return Ok(None);
    };
    let counts = row
        .try_get::<Option<&str>, _>("compare_counts")
        .map_err(to_console)?
        .and_then(|text| serde_json::from_str::<DiffCounts>(text).ok())
        .unwrap_or_default();
    let right_status =
        row.try_get::<Option<i64>, _>("compare_status").map_err(to_console)?.and_then(|s| u16::try_from(s).ok());
    Ok(Some(CompareMark { right_environment, right_status, counts }))
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
    use crate::clock::ManualClock;
    use std::time::Duration;

    async fn store(max_entries: u32, max_age_days: u64) -> (Arc<HistoryStore>, Arc<ManualClock>, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("a55-history-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let pool = crate::db::open(&dir.join("console.db")).await.unwrap();
        let clock = ManualClock::new();
        let retention = HistoryRetention { max_entries, max_age: Duration::from_secs(max_age_days * 86_400) };
        (HistoryStore::new(pool, retention, clock.clone()), clock, dir)
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
    async fn no_row_ever_holds_an_authorization_header_or_a_set_cookie() {
        let (store, _clock, dir) = store(100, 30).await;
        store.record("ana", &request("/a"), &Ok(response("{}"))).await.unwrap();
        let rows: Vec<(String, Option<String>)> =
            sqlx::query_as("SELECT request_json, response_json FROM history").fetch_all(&store.pool).await.unwrap();
        for (request, response) in rows {
            let all = format!("{request}{}", response.unwrap_or_default()).to_lowercase();
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
        store.record("bruno", &request("/b"), &Ok(response("{}"))).await.unwrap();
        let paths: Vec<String> = store.list("ana", 50).await.unwrap().into_iter().map(|e| e.path).collect();
        assert_eq!(paths, vec!["/4", "/3", "/2"]);
        clock.advance(Duration::from_secs(3 * 86_400));
        store.record("ana", &request("/new"), &Ok(response("{}"))).await.unwrap();
        let paths: Vec<String> = store.list("ana", 50).await.unwrap().into_iter().map(|e| e.path).collect();
        assert_eq!(paths, vec!["/new"], "entries older than max_age are gone");
        assert_eq!(store.list("bruno", 50).await.unwrap().len(), 1, "pruning one member leaves the others alone");
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
