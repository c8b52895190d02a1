//! `GET /api/bodies/{id}`: a stored response body, raw, to the staff member whose request made it.

use std::sync::Arc;

use app::backend::Caller;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use http::header::{self, HeaderValue};
use http::StatusCode;

use crate::bodies::StoredBody;
use crate::service::ConsoleService;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/bodies/{id}", get(body))
}

/// `?name=` of a body download (compare exports name their files).
#[derive(serde::Deserialize)]
struct DownloadName {
    name: Option<String>,
}

async fn body(
    State(service): State<Arc<ConsoleService>>,
    Path(id): Path<String>,
    Query(download): Query<DownloadName>,
    caller: Option<Extension<Caller>>,
) -> Response {
    // The staff gate puts the caller on every /api request; without one nothing is served.
    let Some(Extension(caller)) = caller else { return StatusCode::UNAUTHORIZED.into_response() };
    serve_body(service.stored_body(&caller, &id).await, &id, download.name.as_deref())
}

/// A download name the browser may use as is: letters, digits, `.`, `-`, `_`, at most 100 characters,
/// not starting with a dot.
fn safe_filename(name: &str) -> Option<String> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    ok.then(|| name.to_owned())
}

/// Served as an opaque download so the browser never sniffs or renders it (an upstream HTML page
/// with a script stays inert even if someone opens this URL).
fn serve_body(
    body: Result<Option<StoredBody>, crate::expiring::shared::Unavailable>,
    id: &str,
    name: Option<&str>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(unavailable) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"))],
                unavailable.to_string(),
            )
                .into_response()
        }
    };
    let Some(body) = body else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"))],
            "This response body is no longer kept on the server (it expired or was evicted); run the request again.",
        )
            .into_response();
    };
    let short = id.get(..8).unwrap_or("body");
    let filename = name.and_then(safe_filename).unwrap_or_else(|| format!("response-{short}"));
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream")),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox")),
        ],
        body.bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_names_keep_only_plain_file_names() {
        assert_eq!(safe_filename("compare-diff.md").as_deref(), Some("compare-diff.md"));
        for name in ["", ".hidden", "a/b", "a\"b", "x\r\ny", &"a".repeat(101)] {
            assert_eq!(safe_filename(name), None, "{name:?}");
        }
    }
}
