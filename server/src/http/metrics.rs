//! `GET /metrics`: the counters in the Prometheus text format (environment ids and outcomes only),
//! behind the staff gate like every other page.

use std::sync::Arc;

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use http::header::{self, HeaderValue};

use crate::metrics::{Metrics, CONTENT_TYPE};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

async fn metrics(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))], metrics.render())
}
