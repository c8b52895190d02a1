//! `GET /parity/export/{run}?format=md|json`: one kept parity run as a download, for staff.

use std::sync::Arc;

use app::backend::{Caller, ParityBackend as _};
use app::wire::ConsoleError;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use http::header::{self, HeaderValue};
use serde::Deserialize;

use crate::error::refusal;
use crate::parity::export;
use crate::service::ConsoleService;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/parity/export/{run}", get(export_run))
}

#[derive(Debug, Default, Deserialize)]
struct ExportQuery {
    format: Option<String>,
}

async fn export_run(
    State(service): State<Arc<ConsoleService>>,
    caller: Option<axum::Extension<Caller>>,
    Path(run): Path<String>,
    Query(query): Query<ExportQuery>,
) -> Response {
    let Some(axum::Extension(caller)) = caller else {
        return refusal(ConsoleError::Unauthenticated("log in to use the console".into()));
    };
    let Ok(id) = run.parse::<i64>() else {
        return refusal(ConsoleError::InvalidRequest(format!("{run:?} is not a run number: use the run's #id")));
    };
    let markdown = match query.format.as_deref() {
        None | Some("md") => true,
        Some("json") => false,
        Some(other) => return refusal(ConsoleError::InvalidRequest(format!("format={other:?}: use md or json"))),
    };
    let run = match service.parity_run(&caller, id).await {
        Ok(run) => run,
        Err(error) => return refusal(error),
    };
    let (text, content_type, extension) = if markdown {
        (export::markdown(&run), "text/markdown; charset=utf-8", "md")
    } else {
        (export::json(&run), "application/json", "json")
    };
    let mut response = Response::new(axum::body::Body::from(text));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"parity-run-{id}.{extension}\"")) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    response
}
