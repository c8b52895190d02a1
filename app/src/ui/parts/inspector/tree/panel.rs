//! The value panel under the tree: the whole value of one node (up to a cap), its JSONPath, copy.

use leptos::prelude::*;

use super::{value_text, Tree};
use crate::inspect::path::jsonpath_of;
use crate::inspect::text::clip;

/// The value panel shows at most this much of one value; copy and download give all of it.
const PANEL_CHARS: usize = 1_000_000;

#[component]
pub(super) fn ValuePanel(tree: Tree) -> impl IntoView {
    let panel = tree.panel;
    move || {
        panel.get().map(|id| {
            let (path, text, total) = tree
                .read(|index, bytes| {
                    let text = value_text(index, bytes, id);
                    let total = text.chars().count();
                    (jsonpath_of(index, bytes, id), clip(&text, PANEL_CHARS).0.to_owned(), total)
                })
                .unwrap_or_default();
            view! {
                <div class="value-panel" data-testid="value-panel"
                    on:keydown=move |ev| if ev.key() == "Escape" { panel.set(None); }>
                    <p>
                        <code>{path}</code>
                        {format!(" — {total} characters")}
                        {(total > PANEL_CHARS).then(|| format!(", first {PANEL_CHARS} shown (copy or download for all)"))}
                        " "
                        <button type="button" class="link" on:click=move |_| tree.copy_value(id)>"copy"</button>
                        " "
                        <button type="button" class="link" on:click=move |_| panel.set(None)>"close"</button>
                    </p>
                    <pre class="body">{text}</pre>
                </div>
            }
        })
    }
}
