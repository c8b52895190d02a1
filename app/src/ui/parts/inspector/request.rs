//! The Headers tab (response headers) and the Request tab (exactly what went upstream).

use leptos::prelude::*;

use crate::inspect::text::rate_limit_headers;
use crate::wire::ExecuteResponse;

#[component]
pub fn HeadersTable(headers: Vec<(String, String)>) -> impl IntoView {
    let limits: Vec<String> = rate_limit_headers(&headers).into_iter().map(|(n, _)| n).collect();
    view! {
        <table class="headers-table" data-testid="headers-table">
            <thead><tr><th>"Header"</th><th>"Value"</th></tr></thead>
            <tbody>
                {headers.into_iter().map(|(name, value)| {
                    let limit = limits.contains(&name);
                    view! { <tr class:rate-limit=limit><th>{name}</th><td>{value}</td></tr> }
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
pub fn RequestView(response: ExecuteResponse) -> impl IntoView {
    view! {
        <div class="request-record" data-testid="request-record">
            <p><code data-testid="request-line">{format!("{} {}", response.method, response.url)}</code></p>
            <HeadersTable headers=response.sent_headers />
            {match response.sent_body {
                Some(body) => view! { <pre class="body" data-testid="request-body">{body}</pre> }.into_any(),
                None => view! { <p class="hint">"No request body was sent."</p> }.into_any(),
            }}
        </div>
    }
}
