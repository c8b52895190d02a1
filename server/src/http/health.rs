//! `GET /healthz` (the process answers) and `GET /readyz` (the database and, when sessions are in
//! Redis, Redis answer), for load balancers: open, cheap, not audited, and never naming a secret.

use std::time::Duration;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use http::StatusCode;
use serde_json::json;

use crate::auth::store::Sessions;
use crate::state::AppState;

/// How long each dependency may take to answer before the replica counts as not ready.
const CHECK_TIMEOUT: Duration = Duration::from_secs(1);

pub fn routes() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz))
}

async fn healthz() -> &'static str {
    "ok"
}

/// 200 when every dependency answers, else 503; the body names each part's state, never an error's
/// text (which the log has).
async fn readyz(State(db): State<crate::db::Database>, State(sessions): State<Sessions>) -> Response {
    let (database, redis) = tokio::join!(database_answers(&db), redis_answers(&sessions));
    let ready = database == "ok" && matches!(redis, "ok" | "not configured");
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = json!({ "status": if ready { "ready" } else { "unavailable" }, "database": database, "redis": redis });
    (status, Json(body)).into_response()
}

async fn database_answers(db: &crate::db::Database) -> &'static str {
    match tokio::time::timeout(CHECK_TIMEOUT, db.ping()).await {
        Ok(Ok(_)) => "ok",
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness: the database does not answer");
            "unreachable"
        }
        Err(_) => {
            tracing::warn!("readiness: the database did not answer in time");
            "unreachable"
        }
    }
}

async fn redis_answers(sessions: &Sessions) -> &'static str {
    let Some(redis) = sessions.redis() else { return "not configured" };
    match redis.ping(CHECK_TIMEOUT).await {
        Ok(()) => "ok",
        Err(error) => {
            tracing::warn!(%error, "readiness: Redis does not answer");
            "unreachable"
        }
    }
}
