//! Paste a partner's curl command; the server parses it and the form is filled from the result,
//! with the notices (dropped credentials, ignored options) shown next to it.

use leptos::prelude::*;

use crate::api::ImportCurl;
use crate::wire::CurlImport;

#[component]
pub fn CurlImportPanel(on_import: Callback<CurlImport>) -> impl IntoView {
    let command = RwSignal::new(String::new());
    let action = ServerAction::<ImportCurl>::new();
    let notices = RwSignal::new(Vec::<String>::new());
    Effect::new(move |_| {
        if let Some(Ok(import)) = action.value().get() {
            notices.set(import.notices.clone());
            on_import.run(import);
        }
    });
    let import = move |_| {
        let text = command.get_untracked();
        if !text.trim().is_empty() {
            notices.set(Vec::new());
            action.dispatch(ImportCurl { command: text });
        }
    };
    view! {
        <div class="tool curl-import" data-testid="curl-panel">
            <p class="hint">
                "Paste a curl command. Environment, endpoint, parameters, headers and body are filled in; "
                "credentials are dropped, and only hosts of configured environments are accepted. Nothing is sent."
            </p>
            <textarea
                class="curl-input"
                data-testid="curl-input"
                rows="6"
                spellcheck="false"
                placeholder="curl -X POST 'https://…/api/v1/bank/wallet/charge/' -H 'Content-Type: application/json' --data-raw '{…}'"
                prop:value=move || command.get()
                on:input=move |ev| command.set(event_target_value(&ev))
            ></textarea>
            <button class="small" data-testid="curl-import" disabled=move || action.pending().get() on:click=import>
                "Fill the form"
            </button>
            {move || match action.value().get() {
                Some(Err(error)) => Some(view! { <p class="console-error" role="alert" data-testid="curl-error">{error.to_string()}</p> }.into_any()),
                _ => None,
            }}
            {move || {
                let all = notices.get();
                (!all.is_empty()).then(|| view! {
                    <ul class="notices" data-testid="curl-notices">
                        {all.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}
                    </ul>
                })
            }}
        </div>
    }
}
