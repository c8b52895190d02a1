//! "Add to suite": the compare on the form, saved into a parity suite (read-only methods only;
//! the server says why it refuses anything else).

use leptos::prelude::*;

use super::state::CompareState;
use crate::api::add_to_parity_suite;
use crate::wire::AddToSuite;

#[component]
pub fn AddToSuitePanel(state: CompareState) -> impl IntoView {
    let suite = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let note = RwSignal::new(None::<Result<String, String>>);
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let request = match state.request() {
            Ok(request) => request,
            Err(problem) => {
                note.set(Some(Err(problem)));
                return;
            }
        };
        let typed = name.get_untracked().trim().to_owned();
        let name = if typed.is_empty() { format!("{} {}", request.left.method, request.left.path) } else { typed };
        let add = AddToSuite { suite: suite.get_untracked(), name, request };
        leptos::task::spawn_local(async move {
            note.set(Some(match add_to_parity_suite(add).await {
                Ok(saved) => Ok(format!("Added to suite \"{}\" ({} compares).", saved.name, saved.compares.len())),
                Err(error) => Err(error.to_string()),
            }));
        });
    };
    view! {
        <details class="add-to-suite" data-testid="add-to-suite">
            <summary>"Add to a parity suite"</summary>
            <form on:submit=add>
                <label>
                    <span>"Suite"</span>
                    <input data-testid="suite-name" required placeholder="nightly" prop:value=move || suite.get()
                        on:input=move |ev| suite.set(event_target_value(&ev)) />
                </label>
                <label>
                    <span>"Compare name"</span>
                    <input data-testid="suite-compare-name" placeholder="method and path" prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev)) />
                </label>
                <button type="submit" data-testid="suite-add">"Add"</button>
            </form>
            {move || note.get().map(|note| match note {
                Ok(text) => view! { <p class="notice" role="status" data-testid="suite-note">{text}" "<a href="/parity">"Open Parity"</a></p> }.into_any(),
                Err(text) => view! { <p class="console-error" role="alert" data-testid="suite-error">{text}</p> }.into_any(),
            })}
        </details>
    }
}
