//! The audit trail: append-only rows in SQLite, written by one background task so requests never
//! wait on the disk, flushed completely at shutdown; plus the admin queries and exports.

use std::time::Duration;

use app::wire::{AuditFilter, AuditRecord, TokenEvent, TokenEventOutcome, TokenEventReason};
use sqlx::QueryBuilder;
use tokio::task::JoinHandle;

use crate::batch::{BatchSink, BatchWriter};
use crate::clock::SharedClock;
use crate::db::Database;
use crate::on_engine;

/// Rows written per transaction at most; a burst is written in a few commits instead of one each.
const BATCH: usize = 256;

/// One event, before it has an id. Never holds a body, a token, a password or a session cookie.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AuditEvent {
    pub at_ms: i64,
    pub actor: String,
    pub event: &'static str,
    pub environment: Option<String>,
    pub method: Option<String>,
    pub path_template: Option<String>,
    pub path: Option<String>,
    pub status: Option<u16>,
    pub duration_ms: Option<i64>,
    pub outcome: &'static str,
    pub detail: Option<String>,
    pub address: Option<String>,
    pub session: Option<String>,
}

/// The audit row of one token event: obtained (first, or a refresh for any reason), failed,
/// forgotten, or dropped because the client secret changed. The fingerprint, never the token.
pub fn token_event(environment: &str, event: &TokenEvent, by: Option<&str>) -> AuditEvent {
    let reason = match event.reason {
        TokenEventReason::Cold => "first use",
        TokenEventReason::Stale => "refresh before expiry",
        TokenEventReason::Expired => "expired",
        TokenEventReason::Unauthorized => "the API answered 401",
        TokenEventReason::Manual => "requested on the token page",
        TokenEventReason::Rotation => "client secret changed",
    };
    let took = event.latency_ms.map(|ms| format!(", {ms:.0} ms")).unwrap_or_default();
    let (name, outcome, detail) = match &event.outcome {
        TokenEventOutcome::Obtained { fingerprint, lifetime_secs } => {
            ("token_obtained", "ok", format!("token {fingerprint} obtained ({reason}), valid {lifetime_secs} s{took}"))
        }
        TokenEventOutcome::Failed { error } => {
            ("token_failed", "error", format!("token request failed ({reason}){took}: {error}"))
        }
        TokenEventOutcome::Adopted { fingerprint, lifetime_secs } => (
            "token_adopted",
            "ok",
            format!("token {fingerprint} taken from the shared cache ({reason}), valid {lifetime_secs} s"),
        ),
        TokenEventOutcome::Forgotten => ("token_forgotten", "ok", format!("cached token forgotten ({reason})")),
        TokenEventOutcome::Dropped => ("token_rotated", "ok", format!("cached token dropped ({reason})")),
    };
    AuditEvent {
        actor: by.unwrap_or(SYSTEM_ACTOR).to_owned(),
        event: name,
        environment: Some(environment.to_owned()),
        outcome,
        detail: Some(detail),
        ..AuditEvent::default()
    }
}

/// The actor of what the console does on its own (background token refreshes).
pub const SYSTEM_ACTOR: &str = "console";

/// The handle requests record through. On SQLite, recording is a channel push and the writer
/// commits in batches (a crash may lose the last instant, as the process's own file goes with it).
/// On PostgreSQL, the system of record shared by replicas, [`AuditLog::record`] returns only once
/// the event is committed (still batched with whatever else is queued), so a replica killed after
/// it answered has lost no audit row of that answer.
#[derive(Clone)]
pub struct AuditLog {
    writer: BatchWriter<AuditEvent>,
    clock: SharedClock,
    durable: bool,
}

impl AuditLog {
    /// Starts the writer. Await [`AuditLog::flush`] before closing the pool: it returns once every
    /// event recorded before it is committed.
    pub fn spawn(db: Database, clock: SharedClock) -> (Self, JoinHandle<()>) {
        let durable = db.is_postgres();
        let (writer, task) = BatchWriter::spawn(AuditSink { db }, BATCH);
        (Self { writer, clock, durable }, task)
    }

    /// Records the event of something being answered: queued, and on PostgreSQL committed before
    /// this returns (see the type's documentation).
    pub async fn record(&self, event: AuditEvent) {
        self.queue(event);
        if self.durable {
            self.writer.flush().await;
        }
    }

    /// Stamps the event with the injected clock's UTC time and queues it without waiting: for
    /// what the console does on its own (a background token refresh answers nobody).
    pub fn queue(&self, mut event: AuditEvent) {
        event.at_ms = self.clock.wall_ms();
        if self.writer.push(event).is_err() {
            tracing::error!("audit writer has stopped: an audit event was not recorded");
        }
    }

    /// Waits until everything recorded so far is in the database.
    pub async fn flush(&self) {
        self.writer.flush().await;
    }
}

/// Audit rows go to the database, retried a few times: an audit row is not given up lightly.
struct AuditSink {
    db: Database,
}

#[async_trait::async_trait]
impl BatchSink for AuditSink {
    type Item = AuditEvent;

    async fn write(&self, batch: &[AuditEvent]) {
        let mut delay = Duration::from_millis(50);
        for attempt in 1..=5 {
            match insert(&self.db, batch).await {
                Ok(()) => return,
                Err(error) if attempt < 5 => {
                    tracing::warn!(%error, attempt, rows = batch.len(), "audit write failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                Err(error) => tracing::error!(%error, rows = batch.len(), "audit rows could not be written"),
            }
        }
    }
}

async fn insert(db: &Database, batch: &[AuditEvent]) -> Result<(), sqlx::Error> {
    let _turn = db.write_turn().await;
    on_engine!(db, pool => async {
        let mut tx = pool.begin().await?;
        for chunk in crate::db::insert_chunks(batch) {
            let mut q = QueryBuilder::new(
                "INSERT INTO audit_log (at_ms, actor, event, environment, method, path_template, path, status, \
                 duration_ms, outcome, detail, address, session) ",
            );
            q.push_values(chunk, |mut row, e| {
                row.push_bind(e.at_ms)
                    .push_bind(e.actor.as_str())
                    .push_bind(e.event)
                    .push_bind(e.environment.as_deref())
                    .push_bind(e.method.as_deref())
                    .push_bind(e.path_template.as_deref())
                    .push_bind(e.path.as_deref())
                    .push_bind(e.status.map(i64::from))
                    .push_bind(e.duration_ms)
                    .push_bind(e.outcome)
                    .push_bind(e.detail.as_deref())
                    .push_bind(e.address.as_deref())
                    .push_bind(e.session.as_deref());
            });
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await
    }
    .await)
}

type Row = (
    i64,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Largest page the admin page asks for; exports page through everything.
pub const MAX_PAGE: u32 = 1_000;

/// Rows matching `filter`, newest first.
pub async fn query(db: &Database, filter: &AuditFilter) -> Result<Vec<AuditRecord>, sqlx::Error> {
    // Built once per engine: each builder writes its own engine's placeholders.
    let rows: Vec<Row> = on_engine!(db, pool => {
        let mut q = QueryBuilder::new(
            "SELECT id, at_ms, actor, event, environment, method, path_template, path, status, duration_ms, outcome, \
             detail, address, session FROM audit_log WHERE 1 = 1",
        );
        let text = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        if let Some(actor) = text(&filter.actor) {
            q.push(" AND actor = ").push_bind(actor);
        }
        if let Some(environment) = text(&filter.environment) {
            q.push(" AND environment = ").push_bind(environment);
        }
        if let Some(event) = text(&filter.event) {
            q.push(" AND event = ").push_bind(event);
        }
        if let Some(from) = filter.from_ms {
            q.push(" AND at_ms >= ").push_bind(from);
        }
        if let Some(to) = filter.to_ms {
            q.push(" AND at_ms < ").push_bind(to);
        }
        if let Some(status) = text(&filter.status) {
            match status.as_bytes() {
                [class @ b'1'..=b'5', b'x' | b'X', b'x' | b'X'] => {
                    let low = i64::from(class - b'0') * 100;
                    q.push(" AND status >= ").push_bind(low).push(" AND status < ").push_bind(low + 100);
                }
                _ => {
                    let exact = status.parse::<i64>().unwrap_or(-1);
                    q.push(" AND status = ").push_bind(exact);
                }
            }
        }
        if let Some(before) = filter.before_id {
            q.push(" AND id < ").push_bind(before);
        }
        q.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(filter.limit.unwrap_or(200).clamp(1, MAX_PAGE)));
        q.build_query_as().fetch_all(pool).await?
    });
    Ok(rows
        .into_iter()
        .map(|r| AuditRecord {
            id: r.0,
            at_ms: r.1,
            actor: r.2,
            event: r.3,
            environment: r.4,
            method: r.5,
            path_template: r.6,
            path: r.7,
            status: r.8.and_then(|s| u16::try_from(s).ok()),
            duration_ms: r.9,
            outcome: r.10,
            detail: r.11,
            address: r.12,
            session: r.13,
        })
        .collect())
}

/// RFC 3339 UTC with milliseconds, e.g. `2026-11-29T04:05:06.789Z`.
pub fn utc(at_ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(at_ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339).ok().map(|s| {
                // `Rfc3339` prints nanoseconds; staff read milliseconds.
                match s.split_once('.') {
                    Some((head, _)) => format!("{head}.{:03}Z", at_ms.rem_euclid(1000)),
                    None => s.replace("Z", &format!(".{:03}Z", at_ms.rem_euclid(1000))),
                }
            })
        })
        .unwrap_or_default()
}

pub const CSV_HEADER: &str =
    "id,time_utc,actor,event,environment,method,path_template,path,status,duration_ms,outcome,detail,address,session\n";

/// One CSV line (RFC 4180 quoting; cells that a spreadsheet would run as a formula are prefixed with `'`).
pub fn csv_line(r: &AuditRecord) -> String {
    fn cell(value: &str) -> String {
        let guarded =
            if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.to_owned() };
        if guarded.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", guarded.replace('"', "\"\""))
        } else {
            guarded
        }
    }
    let opt = |v: &Option<String>| cell(v.as_deref().unwrap_or(""));
    [
        r.id.to_string(),
        utc(r.at_ms),
        cell(&r.actor),
        cell(&r.event),
        opt(&r.environment),
        opt(&r.method),
        opt(&r.path_template),
        opt(&r.path),
        r.status.map(|s| s.to_string()).unwrap_or_default(),
        r.duration_ms.map(|d| d.to_string()).unwrap_or_default(),
        cell(&r.outcome),
        opt(&r.detail),
        opt(&r.address),
        opt(&r.session),
    ]
    .join(",")
        + "\n"
}

/// One JSON Lines record: the row plus its UTC time as text.
pub fn json_line(r: &AuditRecord) -> String {
    let mut value = serde_json::to_value(r).unwrap_or_default();
    if let Some(object) = value.as_object_mut() {
        object.insert("time_utc".into(), serde_json::Value::String(utc(r.at_ms)));
    }
    value.to_string() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_burst_of_events_is_kept_whole_in_order_with_every_field() {
        let dir = std::env::temp_dir().join(format!("a55-audit-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = Database::Sqlite(crate::db::open(&dir.join("console.db")).await.unwrap());
        let (log, _task) = AuditLog::spawn(db.clone(), crate::clock::ManualClock::new());
        // Queued back to back on this test's one thread: written in batches, each as a few
        // multi-row statements.
        for n in 0..301_u16 {
            log.queue(AuditEvent {
                actor: format!("member-{}", n % 7),
                event: "request",
                environment: Some(format!("env-{n}")),
                method: Some("GET".into()),
                path_template: (n % 2 == 0).then(|| "/charge/{id}".into()),
                path: Some(format!("/charge/{n}")),
                status: Some(200 + n % 5),
                duration_ms: Some(i64::from(n)),
                outcome: "ok",
                detail: None,
                address: Some("127.0.0.1".into()),
                session: Some(format!("s{n}")),
                ..AuditEvent::default()
            });
        }
        log.flush().await;
        let rows = query(&db, &AuditFilter { limit: Some(MAX_PAGE), ..AuditFilter::default() }).await.unwrap();
        assert_eq!(rows.len(), 301);
        for (row, n) in rows.iter().zip((0..301_u16).rev()) {
            assert_eq!(row.path.as_deref(), Some(format!("/charge/{n}").as_str()), "newest first");
            assert_eq!(row.actor, format!("member-{}", n % 7));
            assert_eq!(row.environment, Some(format!("env-{n}")));
            assert_eq!(row.path_template.is_some(), n % 2 == 0);
            assert_eq!(row.status, Some(200 + n % 5));
            assert_eq!(row.duration_ms, Some(i64::from(n)));
            assert_eq!(row.session, Some(format!("s{n}")));
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn utc_times_have_milliseconds_and_a_z() {
        assert_eq!(utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(utc(1_795_000_000_123), "2026-11-18T11:06:40.123Z");
    }

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        let record = AuditRecord {
            id: 7,
            at_ms: 0,
            actor: "=cmd|' /C calc'!A0".into(),
            event: "login_failed".into(),
            environment: None,
            method: None,
            path_template: None,
            path: None,
            status: None,
            duration_ms: None,
            outcome: "failed".into(),
            detail: Some("wrong name, or password".into()),
            address: None,
            session: None,
        };
        let line = csv_line(&record);
        assert!(line.starts_with("7,1970-01-01T00:00:00.000Z,'=cmd|' /C calc'!A0,login_failed,"), "{line}");
        assert!(line.contains("\"wrong name, or password\""), "{line}");
        assert_eq!(line.matches(',').count(), CSV_HEADER.matches(',').count() + 1, "{line}");
    }
}
