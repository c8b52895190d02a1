//! The JSONPath filter: evaluated on the server over the stored body; each match links back to
//! its node in the tree.

use leptos::prelude::*;

use super::Tree;
use crate::api::query_body;
use crate::inspect::path::locate;
use crate::wire::JsonPathAnswer;

#[component]
pub(super) fn JsonPathFilter(tree: Tree, body_id: Option<String>) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let result = RwSignal::new(None::<JsonPathAnswer>);
    let busy = RwSignal::new(false);
    let body_id = StoredValue::new(body_id);
    let run = move |expression: String| {
        let Some(id) = body_id.get_value() else {
            error.set(Some("this body is not kept on the server, so it cannot be filtered".into()));
            return;
        };
        if expression.trim().is_empty() {
            error.set(None);
            result.set(None);
            return;
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            match query_body(id, expression).await {
                Ok(answer) => {
                    error.set(None);
                    result.set(Some(answer));
                }
                Err(e) => {
                    result.set(None);
                    error.set(Some(e.to_string()));
                }
            }
            busy.set(false);
        });
    };
    view! {
        <form class="jsonpath" on:submit=move |ev| {
            ev.prevent_default();
            let value = ev.target()
                .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlFormElement>(t).ok())
                .and_then(|form| form.elements().named_item("jsonpath"))
                .and_then(|input| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlInputElement>(input).ok())
                .map(|input| input.value())
                .unwrap_or_default();
            run(value);
        }>
            <input type="text" name="jsonpath" placeholder="JSONPath filter, e.g. $.data[?@.status == 'paid'].value"
                data-testid="jsonpath-input" aria-label="JSONPath filter" spellcheck="false" />
            <button type="submit" data-testid="jsonpath-run" disabled=move || busy.get()>"Filter"</button>
            <button type="button" on:click=move |_| { result.set(None); error.set(None); }>"Clear"</button>
        </form>
        {move || error.get().map(|e| view! { <p class="console-error inline" role="alert" data-testid="jsonpath-error">{e}</p> })}
        {move || result.get().map(|answer| view! { <Matches tree answer /> })}
    }
}

#[component]
fn Matches(tree: Tree, answer: JsonPathAnswer) -> impl IntoView {
    let shown = answer.matches.len();
    let summary = format!(
        "{} match{} ({:.0} ms on the server){}",
        answer.total,
        if answer.total == 1 { "" } else { "es" },
        answer.elapsed_ms,
        if shown < answer.total { format!(", first {shown} listed") } else { String::new() }
    );
    view! {
        <div class="jsonpath-results" data-testid="jsonpath-results">
            <p class="metric" data-testid="jsonpath-count">{summary}</p>
            <ol>
                {answer.matches.into_iter().map(|m| {
                    let steps = m.steps.clone();
                    view! {
                        <li data-testid="jsonpath-match">
                            <button type="button" class="link" title="Show in the tree" on:click=move |_| {
                                if let Some(id) = tree.read(|index, bytes| locate(index, bytes, &steps)).flatten() {
                                    tree.reveal(id);
                                }
                            }><code>{m.path}</code></button>
                            " "
                            <code class="value">{m.value}{m.value_truncated.then_some("…")}</code>
                        </li>
                    }
                }).collect_view()}
            </ol>
        </div>
    }
}
