//! `GET /metrics`: the counters in the Prometheus text format (environment ids and outcomes only),
//! behind the staff gate like every other page.

use std::sync::Arc;

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use http::header::{self, HeaderValue};

use crate::auth::StaffAccess;
use crate::metrics::{Gauges, Metrics, CONTENT_TYPE};
use crate::service::ConsoleService;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

async fn metrics(
    State(metrics): State<Arc<Metrics>>,
    State(service): State<Arc<ConsoleService>>,
    State(access): State<Arc<StaffAccess>>,
) -> impl IntoResponse {
    let gauges = Gauges {
        pending_sign_ins: access.oidc().map_or(0, crate::auth::oidc::OidcProvider::pending_sign_ins),
        ..service.gauges().await
    };
    let body = format!("{}{}", metrics.render(), gauges.render());
    ([(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))], body)
}
