//! The response panel: status, timing, size and the body, pretty-printed when it is JSON.

use leptos::prelude::*;

use crate::format;
use crate::wire::{ConsoleError, ExecuteResponse};

fn status_class(status: u16) -> &'static str {
    match status {
        200..=299 => "status ok",
        300..=399 => "status redirect",
        400..=499 => "status client-error",
        _ => "status server-error",
    }
}

#[component]
pub fn ResponsePanel(result: Signal<Option<Result<ExecuteResponse, ConsoleError>>>) -> impl IntoView {
    view! {
        <section class="response" aria-label="Response" data-testid="response">
            {move || match result.get() {
                None => view! { <p class="hint">"Run a request to see the response here."</p> }.into_any(),
                Some(Err(error)) => {
                    view! {
                        <div class="console-error" role="alert" data-testid="response-error">
                            <strong>"The request did not complete. "</strong>
                            <span>{error.to_string()}</span>
                        </div>
                    }
                        .into_any()
                }
                Some(Ok(response)) => view! { <ResponseView response /> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn ResponseView(response: ExecuteResponse) -> impl IntoView {
    let pretty = format::pretty_json(&response.body);
    let is_json = pretty.is_some();
    let body = pretty.unwrap_or_else(|| response.body.clone());
    let headers = response.headers.clone();
    view! {
        <div class="response-summary" data-testid="response-summary">
            <span class=status_class(response.status) data-testid="response-status">
                {format!("{} {}", response.status, response.status_text)}
            </span>
            <span class="metric" title="total time / time to first byte" data-testid="response-time">
                {format!("{} (first byte {})", format::duration_ms(response.duration_ms), format::duration_ms(response.ttfb_ms))}
            </span>
            <span class="metric" data-testid="response-size">{format::bytes(response.size_bytes)}</span>
            {response.content_type.clone().map(|ct| view! { <span class="metric">{ct}</span> })}
            {response.upstream_request_id.clone().map(|id| view! { <span class="metric" title="upstream request id">{id}</span> })}
            {response.token_fingerprint.clone().map(|fp| view! { <span class="metric" title="token fingerprint">"token " <code>{fp}</code></span> })}
        </div>
        <p class="sent-url"><code>{format!("{} {}", response.method, response.url)}</code></p>
        {response.retried.then(|| view! {
            <p class="hint" data-testid="response-retried">
                "The API answered 401 at first; the console got a new token and sent this request once more."
            </p>
        })}
        {response.hint.clone().map(|hint| view! { <p class="warning" role="note" data-testid="response-hint">{hint}</p> })}
        {response.truncated.then(|| view! {
            <p class="warning" data-testid="truncated">
                {format!("The body was cut at the environment's response cap; {} were received.", format::bytes(response.size_bytes))}
            </p>
        })}
        <details class="headers">
            <summary>{format!("Headers ({})", headers.len())}</summary>
            <table>
                {headers.into_iter().map(|(name, value)| view! { <tr><th>{name}</th><td>{value}</td></tr> }).collect_view()}
            </table>
        </details>
        <pre class="body" class:json=is_json data-testid="response-body">{body}</pre>
    }
}
