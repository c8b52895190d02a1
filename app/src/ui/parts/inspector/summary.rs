//! The summary line: status and its meaning, timing, sizes, content type, request id, token, rate limits.

use leptos::prelude::*;

use crate::format;
use crate::inspect::text::{rate_limit_headers, status_meaning};
use crate::wire::ExecuteResponse;

fn status_class(status: u16) -> &'static str {
    match status {
        200..=299 => "status ok",
        300..=399 => "status redirect",
        400..=499 => "status client-error",
        _ => "status server-error",
    }
}

#[component]
pub fn Summary(response: ExecuteResponse) -> impl IntoView {
    let r = response;
    let size = if r.wire_bytes != r.size_bytes {
        format!(
            "{} decoded, {} on the wire{}",
            format::bytes(r.size_bytes),
            format::bytes(r.wire_bytes),
            r.content_encoding.as_deref().map(|e| format!(" ({e})")).unwrap_or_default()
        )
    } else {
        format::bytes(r.size_bytes)
    };
    let limits = rate_limit_headers(&r.headers);
    view! {
        <div class="response-summary" data-testid="response-summary">
            <span class=status_class(r.status) data-testid="response-status">{format!("{} {}", r.status, r.status_text)}</span>
            <span class="metric meaning" data-testid="status-meaning">{status_meaning(r.status)}</span>
            <span class="metric" title="total time / time to first byte" data-testid="response-time">
                {format!("{} (first byte {})", format::duration_ms(r.duration_ms), format::duration_ms(r.ttfb_ms))}
            </span>
            <span class="metric" title="body size" data-testid="response-size">{size}</span>
            {r.content_type.clone().map(|ct| view! { <span class="metric" title="content type" data-testid="response-type">{ct}</span> })}
            {r.upstream_request_id.clone().map(|id| view! { <span class="metric" title="upstream request id" data-testid="request-id">"request " <code>{id}</code></span> })}
            {r.token_fingerprint.clone().map(|fp| view! { <span class="metric" title="token fingerprint">"token " <code>{fp}</code></span> })}
        </div>
        <p class="sent-url"><code>{format!("{} {}", r.method, r.url)}</code></p>
        {(!limits.is_empty()).then(|| view! {
            <p class="rate-limits" data-testid="rate-limits">
                <strong>"Rate limit: "</strong>
                {limits.into_iter().map(|(name, value)| view! { <span class="chip"><code>{name}</code>": "{value}</span> }).collect_view()}
            </p>
        })}
    }
}
