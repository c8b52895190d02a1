//! The response panel: nothing yet, the error of a request that did not complete, or the inspector.

use leptos::prelude::*;

use crate::ui::parts::demo::MaskingNotice;
use crate::ui::parts::inspector::Inspector;
use crate::wire::{ConsoleError, ExecuteResponse};

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
                Some(Ok(response)) => {
                    let report = response.masking.clone();
                    view! { <MaskingNotice report /> <Inspector response /> }.into_any()
                }
            }}
        </section>
    }
}
