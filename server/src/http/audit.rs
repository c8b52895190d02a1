//! `GET /audit/export?format=jsonl|csv&…filters`: the audit trail as a streamed download, admins only.

use app::backend::Caller;
use app::wire::{AuditFilter, ConsoleError, Role};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use http::header::{self, HeaderValue};
use serde::Deserialize;

use crate::audit;
use crate::error::refusal;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/audit/export", get(export))
}

#[derive(Debug, Default, Deserialize)]
struct ExportQuery {
    format: Option<String>,
    actor: Option<String>,
    environment: Option<String>,
    event: Option<String>,
    status: Option<String>,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
}

/// `GET /audit/export?format=jsonl|csv&…filters`: the whole filtered trail, newest first, admins only.
async fn export(
    State(db): State<crate::db::Database>,
    caller: Option<axum::Extension<Caller>>,
    Query(query): Query<ExportQuery>,
) -> Response {
    if caller.is_none_or(|c| c.role != Role::Admin) {
        return refusal(ConsoleError::Forbidden("the audit trail is for admins".into()));
    }
    let csv = match query.format.as_deref() {
        None | Some("jsonl") => false,
        Some("csv") => true,
        Some(other) => return refusal(ConsoleError::InvalidRequest(format!("format={other:?}: use jsonl or csv"))),
    };
    let filter = AuditFilter {
        actor: query.actor,
        environment: query.environment,
        event: query.event,
        status: query.status,
        from_ms: query.from_ms,
        to_ms: query.to_ms,
        before_id: None,
        limit: Some(audit::MAX_PAGE),
    };
    // Pages of rows, streamed: an export of a long trail never sits in memory whole.
    let header_line = csv.then(|| Ok::<_, std::io::Error>(bytes::Bytes::from_static(audit::CSV_HEADER.as_bytes())));
    let pages = futures::stream::unfold(Some(filter), move |filter| {
        let db = db.clone();
        async move {
            let filter = filter?;
            match audit::query(&db, &filter).await {
                Ok(rows) if rows.is_empty() => None,
                Ok(rows) => {
                    let last = rows.last().map(|r| r.id);
                    let text: String =
                        rows.iter().map(|r| if csv { audit::csv_line(r) } else { audit::json_line(r) }).collect();
                    let next =
                        (rows.len() as u32 == audit::MAX_PAGE).then_some(AuditFilter { before_id: last, ..filter });
                    Some((Ok(bytes::Bytes::from(text)), next))
                }
                Err(error) => Some((Err(std::io::Error::other(error)), None)),
            }
        }
    });
    let body = Body::from_stream(futures::StreamExt::chain(futures::stream::iter(header_line), pages));
    let (content_type, name) =
        if csv { ("text/csv; charset=utf-8", "audit.csv") } else { ("application/x-ndjson", "audit.jsonl") };
    let mut response = Response::new(body);
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    response
}
