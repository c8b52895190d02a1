//! Gzip for answers the server holds whole (server-function JSON, stored bodies): compressed in
//! one call by a compressor each thread keeps, in front of tower-http's streaming compression.
//!
//! Why not leave it all to the streaming layer: it builds a fresh deflate state for every answer
//! (a few hundred KB, allocated, zeroed and given back each time). For the 16 KB answer of the
//! overhead benchmark that set-up cost more than the compression itself: 137 µs an answer against
//! 26 µs for libdeflate's one-shot gzip on a compressor kept per thread, whose output is also a
//! sixth smaller (BENCHMARKS.md, "Overhead"). Answers of unknown length (pages, which Leptos
//! streams; other streams) or above `ONE_SHOT_LIMIT` still go through the streaming layer, which
//! also serves brotli to clients that refuse gzip.

use std::cell::RefCell;

use axum::body::{Body, HttpBody as _};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::header::{self, HeaderMap, HeaderValue};
use tower_http::compression::predicate::{And, DefaultPredicate, Predicate as _, SizeAbove};

/// Answers up to this size are compressed in one call on the thread that made them (about 3 ms of
/// CPU at this size); larger ones stream through tower-http's layer, a chunk at a time.
const ONE_SHOT_LIMIT: u64 = 1024 * 1024;

/// Under a kilobyte, gzip's header, trailer and CPU cost more than it saves.
const MIN_SIZE: u16 = 1024;

thread_local! {
    /// Level 1, libdeflate's fastest that compresses (0 stores): it already compresses JSON better
    /// than zlib's level 1.
    static COMPRESSOR: RefCell<libdeflater::Compressor> =
        RefCell::new(libdeflater::Compressor::new(libdeflater::CompressionLvl::new(1).unwrap_or_default()));
}

/// What the streaming layer and this one agree not to compress: images other than SVG, gRPC,
/// event streams, and small answers.
pub fn predicate() -> And<DefaultPredicate, SizeAbove> {
    DefaultPredicate::new().and(SizeAbove::new(MIN_SIZE))
}

/// The middleware: gzip when the client accepts it and the answer is whole, compressible and at
/// most `ONE_SHOT_LIMIT`; anything else passes unchanged.
pub async fn compress_whole(request: Request, next: Next) -> Response {
    let gzip = accepts_gzip(request.headers());
    let response = next.run(request).await;
    if !gzip
        || response.headers().contains_key(header::CONTENT_ENCODING)
        || response.headers().contains_key(header::CONTENT_RANGE)
    {
        return response;
    }
    let Some(length) = response.body().size_hint().exact().filter(|length| *length <= ONE_SHOT_LIMIT) else {
        return response;
    };
    if !predicate().should_compress(&response) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // A body that says its exact length is already in memory (a `Bytes` or `String`): collecting it
    // does not wait on anything.
    let bytes = match axum::body::to_bytes(body, usize::try_from(length).unwrap_or(usize::MAX)).await {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::warn!(%error, "an answer could not be read for compression");
            return crate::error::refusal(app::wire::ConsoleError::Internal("the answer could not be sent".into()));
        }
    };
    let Some(compressed) = gzip_bytes(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    add_vary(&mut parts.headers);
    parts.headers.remove(header::ACCEPT_RANGES);
    parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(compressed.len()));
    parts.headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    Response::from_parts(parts, Body::from(compressed))
}

/// The gzip member of `bytes`, or None when libdeflate cannot fit it in its own bound (it always
/// can) or the thread's compressor is in use (it never is: nothing here re-enters).
fn gzip_bytes(bytes: &[u8]) -> Option<Vec<u8>> {
    COMPRESSOR.with(|compressor| {
        let mut compressor = compressor.try_borrow_mut().ok()?;
        let mut out = vec![0; compressor.gzip_compress_bound(bytes.len())];
        let written = compressor.gzip_compress(bytes, &mut out).ok()?;
        out.truncate(written);
        Some(out)
    })
}

fn add_vary(headers: &mut HeaderMap) {
    let listed = headers
        .get_all(header::VARY)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|name| name.trim().eq_ignore_ascii_case("accept-encoding") || name.trim() == "*");
    if !listed {
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
}

/// True when `Accept-Encoding` accepts gzip (RFC 9110 §12.5.3): `gzip` or `x-gzip` with a weight
/// above zero, or `*` above zero when gzip is not named. No header means no compression.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let (mut named, mut any) = (None::<bool>, None::<bool>);
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut params = item.split(';');
            let coding = params.next().unwrap_or_default().trim();
            let weight = params
                .filter_map(|param| param.split_once('='))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("q"))
                .map(|(_, weight)| weight.trim().parse::<f32>().unwrap_or(0.0));
            let accepted = weight.is_none_or(|weight| weight > 0.0);
            if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                named = Some(named.unwrap_or(false) || accepted);
            } else if coding == "*" {
                any = Some(accepted);
            }
        }
    }
    named.or(any).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use axum::Router;
    use std::io::Read as _;
    use tower::ServiceExt as _;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn gzip_is_accepted_only_when_named_or_covered_by_a_star_with_a_weight_above_zero() {
        for yes in [
            "gzip",
            "GZIP",
            "br, gzip",
            "gzip, deflate, br, zstd",
            "x-gzip",
            "gzip;q=0.5",
            "*",
            "br, *;q=0.1",
            "gzip ; q=1.0",
        ] {
            assert!(accepts_gzip(&accept(yes)), "{yes}");
        }
        for no in ["", "br", "identity", "gzip;q=0", "gzip; q=0.000", "*;q=0", "gzip;q=0, *", "deflate, br, zstd"] {
            assert!(!accepts_gzip(&accept(no)), "{no}");
        }
        assert!(!accepts_gzip(&HeaderMap::new()), "no Accept-Encoding, no compression");
        let mut two = accept("br");
        two.append(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        assert!(accepts_gzip(&two), "the header may come in several lines");
    }

    fn json(size: usize) -> String {
        let mut text = String::from("[");
        while text.len() < size {
            text.push_str(r#"{"charge_uuid":"000000ec-5e4f-4a3b-8c2d-0000000000ec","status":"paid"},"#);
        }
        text.push_str("0]");
        text
    }

    fn app() -> Router {
        let large = json(20_000);
        let huge = json(ONE_SHOT_LIMIT as usize + 10);
        Router::new()
            .route("/large", get(move || async move { ([(header::CONTENT_TYPE, "application/json")], large) }))
            .route("/huge", get(move || async move { ([(header::CONTENT_TYPE, "application/json")], huge) }))
            .route("/small", get(|| async { ([(header::CONTENT_TYPE, "application/json")], json(500)) }))
            .route("/png", get(|| async { ([(header::CONTENT_TYPE, "image/png")], vec![7u8; 4096]) }))
            .route(
                "/encoded",
                get(|| async {
                    ([(header::CONTENT_TYPE, "text/plain"), (header::CONTENT_ENCODING, "br")], json(4096))
                }),
            )
            .route(
                "/stream",
                get(|| async {
                    let chunks = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(json(4096)))]);
                    ([(header::CONTENT_TYPE, "application/json")], Body::from_stream(chunks))
                }),
            )
            .layer(axum::middleware::from_fn(compress_whole))
    }

    async fn fetch(path: &str, accept: Option<&str>) -> (HeaderMap, Vec<u8>) {
        let mut request = Request::get(path);
        if let Some(accept) = accept {
            request = request.header(header::ACCEPT_ENCODING, accept);
        }
        let response = app().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), 200);
        let (parts, body) = response.into_parts();
        (parts.headers, axum::body::to_bytes(body, 1 << 22).await.unwrap().to_vec())
    }

    #[tokio::test]
    async fn a_whole_json_answer_is_gzipped_with_its_new_length_and_decodes_to_the_same_bytes() {
        let (headers, body) = fetch("/large", Some("gzip, deflate, br, zstd")).await;
        assert_eq!(headers["content-encoding"], "gzip");
        assert_eq!(headers["content-length"], body.len().to_string().as_str());
        assert_eq!(headers["vary"], "accept-encoding");
        let mut decoded = String::new();
        flate2::read::GzDecoder::new(&body[..]).read_to_string(&mut decoded).unwrap();
        assert_eq!(decoded, json(20_000));
        assert!(body.len() * 10 < decoded.len(), "{} B of {} B", body.len(), decoded.len());
        // The same thread's compressor serves the next answer from a clean state.
        let (_, again) = fetch("/large", Some("gzip")).await;
        assert_eq!(again, body);
    }

    #[tokio::test]
    async fn answers_the_client_did_not_ask_to_compress_or_that_do_not_gain_pass_unchanged() {
        let (headers, body) = fetch("/large", None).await;
        assert!(!headers.contains_key("content-encoding"));
        assert_eq!(String::from_utf8(body).unwrap(), json(20_000));
        let (headers, _) = fetch("/large", Some("br, gzip;q=0")).await;
        assert!(!headers.contains_key("content-encoding"), "gzip refused");
        let (headers, body) = fetch("/small", Some("gzip")).await;
        assert!(!headers.contains_key("content-encoding"), "under a kilobyte");
        assert_eq!(body.len(), json(500).len());
        let (headers, _) = fetch("/png", Some("gzip")).await;
        assert!(!headers.contains_key("content-encoding"), "images are compressed already");
        let (headers, body) = fetch("/encoded", Some("gzip")).await;
        assert_eq!((headers["content-encoding"].to_str().unwrap(), body.len()), ("br", json(4096).len()));
    }

    #[tokio::test]
    async fn streams_and_answers_above_the_one_shot_limit_are_left_to_the_streaming_layer() {
        let (headers, body) = fetch("/stream", Some("gzip")).await;
        assert!(!headers.contains_key("content-encoding"));
        assert_eq!(body.len(), json(4096).len());
        let (headers, body) = fetch("/huge", Some("gzip")).await;
        assert!(!headers.contains_key("content-encoding"));
        assert_eq!(body.len(), json(ONE_SHOT_LIMIT as usize + 10).len());
    }
}
