//! `/pkg/*`, the compiled front end: precompressed brotli or gzip by content negotiation when the
//! build made them (`site-build --release --precompress`), content-hashed names cached for
//! a year (`hash-files`: a new build is a new name), anything else revalidated on every use.

use std::path::Path;

use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use http::header::{self, HeaderValue};
use tower_http::services::ServeDir;

/// A year: a hashed name never changes its content.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// An unhashed name may change with the next build: use it, but ask first.
const REVALIDATE: &str = "no-cache";

pub fn routes<S: Clone + Send + Sync + 'static>(site_root: &Path) -> Router<S> {
    let files = ServeDir::new(site_root.join("pkg")).precompressed_br().precompressed_gzip();
    Router::new().nest_service("/pkg", files).layer(middleware::from_fn(cache_control))
}

async fn cache_control(request: Request, next: Next) -> Response {
    let hashed = is_hashed(request.uri().path());
    let mut response = next.run(request).await;
    if response.status().is_success() || response.status() == http::StatusCode::NOT_MODIFIED {
        let policy = if hashed { IMMUTABLE } else { REVALIDATE };
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
        // The same URL answers brotli, gzip or plain bytes: a shared cache must key on the ask.
        if !response.headers().contains_key(header::VARY) {
            response.headers_mut().insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
    }
    response
}

/// `name.<hash>.ext` as the site build writes it: a segment of at least 8 letters and digits
/// between the name and the extension.
fn is_hashed(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or_default();
    let parts: Vec<&str> = file.split('.').collect();
    parts.len() >= 3
        && parts[1..parts.len() - 1]
            .iter()
            .any(|p| p.len() >= 8 && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use tower::ServiceExt as _;

    async fn get(app: &Router, path: &str, accept: Option<&str>) -> (http::StatusCode, http::HeaderMap, Vec<u8>) {
        let mut request = Request::get(path);
        if let Some(accept) = accept {
            request = request.header(header::ACCEPT_ENCODING, accept);
        }
        let response = app.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
        let (parts, body) = response.into_parts();
        (parts.status, parts.headers, axum::body::to_bytes(body, 1 << 20).await.unwrap().to_vec())
    }

    #[tokio::test]
    async fn a_hashed_asset_goes_out_precompressed_as_the_client_asks_and_is_cached_for_a_year() {
        let site = std::env::temp_dir().join(format!("a55-assets-{}", uuid::Uuid::new_v4()));
        let pkg = site.join("pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        let name = "a55-console.0123456789abcdef.wasm";
        std::fs::write(pkg.join(name), b"the wasm").unwrap();
        std::fs::write(pkg.join(format!("{name}.br")), b"brotli bytes").unwrap();
        std::fs::write(pkg.join(format!("{name}.gz")), b"gzip bytes").unwrap();
        std::fs::write(pkg.join("plain.js"), b"let x = 1;").unwrap();
        let app: Router = routes(&site);
        let path = format!("/pkg/{name}");

        let (status, headers, body) = get(&app, &path, Some("gzip, deflate, br")).await;
        assert_eq!(status, 200);
        assert_eq!((headers["content-encoding"].to_str().unwrap(), body.as_slice()), ("br", &b"brotli bytes"[..]));
        assert_eq!(headers["content-type"], "application/wasm");
        assert_eq!(headers["cache-control"], IMMUTABLE);
        assert!(headers["vary"].to_str().unwrap().to_lowercase().contains("accept-encoding"));
        let (_, headers, body) = get(&app, &path, Some("gzip")).await;
        assert_eq!((headers["content-encoding"].to_str().unwrap(), body.as_slice()), ("gzip", &b"gzip bytes"[..]));
        let (_, headers, body) = get(&app, &path, None).await;
        assert!(!headers.contains_key("content-encoding"));
        assert_eq!(body, b"the wasm");

        let (status, headers, _) = get(&app, "/pkg/plain.js", Some("br")).await;
        assert_eq!((status.as_u16(), headers["cache-control"].to_str().unwrap()), (200, REVALIDATE));
        let (status, headers, _) = get(&app, "/pkg/a55-console.fedcba9876543210.js", None).await;
        assert_eq!(status, 404);
        assert!(!headers.contains_key("cache-control"), "a miss is never cached for a year");
        std::fs::remove_dir_all(&site).unwrap();
    }

    #[test]
    fn only_content_hashed_names_count_as_hashed() {
        assert!(is_hashed("/pkg/a55-console.Zm9vYmFyYmF6.wasm"));
        assert!(is_hashed("/pkg/a55-console.0123456789abcdef.css"));
        for path in ["/pkg/a55-console.wasm", "/pkg/a55-console.js", "/favicon.svg", "/pkg/a.b.c", "/pkg/"] {
            assert!(!is_hashed(path), "{path}");
        }
    }
}
