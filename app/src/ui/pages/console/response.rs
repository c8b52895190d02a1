//! The response panel: nothing yet, the error of a request that did not complete, or the inspector.

use leptos::lazy;
use leptos::prelude::*;

use crate::ui::parts::demo::MaskingNotice;
use crate::wire::{ConsoleError, ExecuteResponse};

/// The next step for a failure that is not the request's own fault.
pub fn what_to_try(error: &ConsoleError) -> Option<&'static str> {
    Some(match error {
        ConsoleError::UpstreamTimeout(_) => {
            "What to try: run it again; if the API is often this slow, raise request_timeout_secs for this environment."
        }
        ConsoleError::UpstreamUnavailable(_) => {
            "What to try: check that the API is up and that the environment's api_base is right; the token page shows whether its token endpoint answers."
        }
        ConsoleError::TokenUnavailable(_) => {
            "What to try: open the token page (the badge in the top bar) for the token endpoint's last answer."
        }
        ConsoleError::Transport(_) => "What to try: check your connection to the console, then run it again.",
        ConsoleError::Unavailable(_) => "What to try: wait a moment and run it again; the console's own storage did not answer.",
        ConsoleError::Cancelled(_) => "Run it again when you are ready; the history has every run that finished.",
        _ => return None,
    })
}

#[component]
pub fn ResponsePanel(result: Signal<Option<Result<ExecuteResponse, ConsoleError>>>) -> impl IntoView {
    view! {
        <section class="response" aria-label="Response" data-testid="response">
            {move || match result.get() {
                None => view! { <p class="hint">"Run a request to see the response here."</p> }.into_any(),
                Some(Err(error)) => {
                    let next = what_to_try(&error);
                    view! {
                        <div class="console-error" role="alert" data-testid="response-error">
                            <strong>"The request did not complete. "</strong>
                            <span>{error.to_string()}</span>
                            {next.map(|hint| view! { <p class="hint" data-testid="response-what-to-try">{hint}</p> })}
                        </div>
                    }
                        .into_any()
                }
                Some(Ok(response)) => {
                    let report = response.masking.clone();
                    view! { <MaskingNotice report /> <LazyInspector response /> }.into_any()
                }
            }}
        </section>
    }
}

/// The inspector's code (tree, text views, search, JSON index) is a WASM chunk of its own, fetched
/// with the first response shown: the console's first paint does not wait for it. No response is
/// rendered on the server, so this never takes part in hydration.
#[component]
fn LazyInspector(response: ExecuteResponse) -> impl IntoView {
    view! {
        <Suspense fallback=|| view! { <p class="loading" data-testid="inspector-loading">"Loading inspector…"</p> }>
            {Suspend::new(inspector_view(response))}
        </Suspense>
    }
}

#[lazy]
fn inspector_view(response: ExecuteResponse) -> AnyView {
    view! { <crate::ui::parts::inspector::Inspector response /> }.into_any()
}
