//! The diff options: shape only, how array elements are matched, and the ignore rules. A change
//! re-diffs the answers already on the server; nothing is sent again.

use leptos::prelude::*;

use super::state::{parse_rules, CompareState};
use crate::wire::DEFAULT_IGNORE_RULES;

#[component]
pub fn DiffOptionsPanel(state: CompareState) -> impl IntoView {
    let settings = state.settings;
    let (shape_only, array_key, rules_text) = (settings.shape_only, settings.array_key, settings.rules_text);
    view! {
        <section class="compare-options" aria-label="Diff options">
            <label class="check">
                <input type="checkbox" data-testid="compare-shape-only"
                    prop:checked=move || shape_only.get()
                    on:change=move |ev| { shape_only.set(event_target_checked(&ev)); state.rediff(); } />
                " Shape only (field sets and types; values ignored)"
            </label>
            <label>
                <span>"Match array elements by"</span>
                <input data-testid="compare-array-key" placeholder="index (or a key field such as charge_uuid)"
                    prop:value=move || array_key.get()
                    on:change=move |ev| { array_key.set(event_target_value(&ev)); state.rediff(); } />
            </label>
            <details class="ignore-rules" open=true>
                <summary>{move || format!("Ignore rules ({})", parse_rules(&rules_text.get()).len())}</summary>
                <p class="hint">"One JSONPath per line; the nodes it selects, and everything under them, are left out."</p>
                <textarea data-testid="compare-ignore" rows="6" spellcheck="false" aria-label="Ignore rules, one JSONPath per line"
                    prop:value=move || rules_text.get()
                    on:change=move |ev| { rules_text.set(event_target_value(&ev)); state.rediff(); } />
                <button class="small" data-testid="compare-ignore-defaults" on:click=move |_| {
                    rules_text.set(DEFAULT_IGNORE_RULES.join("\n"));
                    state.rediff();
                }>"Reset to defaults"</button>
            </details>
            {move || settings.note.get().map(|n| view! { <p class="hint" data-testid="compare-settings-note">{n}</p> })}
        </section>
    }
}
