//! The virtual list of rows: only the rows in view (plus an overscan) are rendered over a spacer
//! of the full height; arrows, Home/End, PageUp/PageDown and Enter move and open like a file tree.

use leptos::prelude::*;

use super::search::TreeSearch;
use super::{Tree, ROW_HEIGHT};
use crate::inspect::index::{unescape, Index, Kind};
use crate::inspect::text::clip;
use crate::inspect::tree::window;

const OVERSCAN: usize = 15;
/// Characters of a value shown in its row; the rest is one click away in the value panel.
const ROW_CHARS: usize = 160;
/// Indentation stops growing here (deeper rows show their depth instead).
const MAX_INDENT: u32 = 40;

/// A row's value: preview text, and whether it was cut.
fn preview(index: &Index, bytes: &[u8], id: u32) -> (String, bool) {
    let node = index.node(id);
    match node.kind {
        Kind::Object => (format!("{{{}}}", node.children), false),
        Kind::Array => (format!("[{}]", node.children), false),
        Kind::String => {
            let inner = &bytes[node.start as usize + 1..node.end as usize - 1];
            // Decode a bounded prefix only: a 10 MB string costs no more than a short one.
            let head = &inner[..inner.len().min(ROW_CHARS * 4 + 8)];
            let decoded = unescape(head);
            let (shown, cut) = clip(&decoded, ROW_CHARS);
            let cut = cut || head.len() < inner.len();
            (format!("\"{shown}{}\"", if cut { "…" } else { "" }), cut)
        }
        _ => {
            let raw = String::from_utf8_lossy(index.raw(bytes, id));
            let (shown, cut) = clip(&raw, ROW_CHARS);
            (format!("{shown}{}", if cut { "…" } else { "" }), cut)
        }
    }
}

#[component]
pub(super) fn Rows(tree: Tree, search: TreeSearch) -> impl IntoView {
    let Tree { scroll_top, viewport, row_count, .. } = tree;
    let range = Memo::new(move |_| window(scroll_top.get(), viewport.get(), ROW_HEIGHT, row_count.get(), OVERSCAN));
    view! {
        <div
            class="virtual tree"
            role="tree"
            aria-label="Response body"
            tabindex="0"
            node_ref=tree.scroller
            data-testid="json-tree"
            data-rows=move || row_count.get().to_string()
            on:scroll=move |_| tree.sync_scroll()
            on:keydown=move |ev| on_key(tree, &ev)
        >
            <div class="spacer" style:height=move || format!("{}px", row_count.get() as f64 * ROW_HEIGHT)>
                {move || {
                    tree.rev.get();
                    let range = range.get();
                    let selected = tree.selected.get();
                    let current = search.current_node.get();
                    let ids = tree.state.with_value(|t| t.as_ref().map(|t| t.rows()[range.clone()].to_vec())).unwrap_or_default();
                    ids.into_iter().enumerate().map(|(k, id)| {
                        let marks = RowMarks { selected: selected == Some(id), matched: search.is_match(id), current: current == Some(id) };
                        row(tree, range.start + k, id, marks)
                    }).collect::<Vec<_>>()
                }}
            </div>
        </div>
    }
}

#[derive(Clone, Copy)]
struct RowMarks {
    selected: bool,
    matched: bool,
    current: bool,
}

/// One row: toggle, key or position, value preview, and its copy actions.
fn row(tree: Tree, row: usize, id: u32, marks: RowMarks) -> Option<AnyView> {
    let (node, key, (value, cut)) = tree.read(|index, bytes| {
        let key = index.key(bytes, id).map(|k| clip(&k, ROW_CHARS).0.to_owned());
        (*index.node(id), key, preview(index, bytes, id))
    })?;
    let position = (node.depth > 0 && key.is_none()).then_some(node.position);
    let expandable = node.kind.is_container() && node.children > 0;
    let expanded = tree.state.with_value(|t| t.as_ref().is_some_and(|t| t.is_expanded(id)));
    let indent = node.depth.min(MAX_INDENT) as f64 * 16.0 + 4.0;
    let selected = tree.selected;
    let toggle = expandable.then(|| {
        view! {
            <button type="button" class="toggle" data-testid="toggle" tabindex="-1"
                aria-label=if expanded { "Collapse" } else { "Expand" }
                on:click=move |ev| { ev.stop_propagation(); selected.set(Some(id)); tree.toggle(id); }>
                {if expanded { "▾" } else { "▸" }}
            </button>
        }
    });
    Some(view! {
        <div
            class="row"
            role="treeitem"
            class:selected=marks.selected
            class:match=marks.matched
            class:current-match=marks.current
            aria-expanded=expandable.then(|| expanded.to_string())
            data-testid="tree-row"
            data-node=id.to_string()
            style:top=format!("{}px", row as f64 * ROW_HEIGHT)
            style:padding-left=format!("{indent}px")
            on:click=move |_| selected.set(Some(id))
        >
            {(node.depth > MAX_INDENT).then(|| view! { <span class="deep">{format!("depth {} ", node.depth)}</span> })}
            {toggle.map_or_else(|| view! { <span class="toggle-space"></span> }.into_any(), IntoAny::into_any)}
            {key.map(|k| view! { <span class="key">{k}</span><span class="colon">": "</span> })}
            {position.map(|p| view! { <span class="index">{p.to_string()}</span><span class="colon">": "</span> })}
            <span class=format!("value {}", node.kind.css())>{value}</span>
            {cut.then(|| view! {
                <button type="button" class="link more" data-testid="show-more"
                    on:click=move |ev| { ev.stop_propagation(); selected.set(Some(id)); tree.panel.set(Some(id)); }>"show more"</button>
            })}
            <span class="row-actions">
                <button type="button" class="link" data-testid="copy-value" title="Copy the value"
                    on:click=move |ev| { ev.stop_propagation(); selected.set(Some(id)); tree.copy_value(id); }>"copy"</button>
                <button type="button" class="link" data-testid="copy-path" title="Copy the JSONPath of this node"
                    on:click=move |ev| { ev.stop_propagation(); selected.set(Some(id)); tree.copy_path(id); }>"path"</button>
            </span>
        </div>
    }.into_any())
}

/// Keyboard navigation over the visible rows.
fn on_key(tree: Tree, event: &leptos::ev::KeyboardEvent) {
    let rows_len = tree.row_count.get_untracked();
    if rows_len == 0 {
        return;
    }
    let current_row = tree.selected.get_untracked().and_then(|id| tree.row_of(id)).unwrap_or(0);
    let select_row = |row: usize| {
        if let Some(id) = tree.node_at(row) {
            tree.selected.set(Some(id));
            tree.show_row(row);
        }
    };
    let Some(id) = tree.node_at(current_row) else { return };
    let expanded = tree.state.with_value(|t| t.as_ref().is_some_and(|t| t.is_expanded(id)));
    let (container, parent) = tree
        .read(|index, _| {
            let node = index.node(id);
            (node.kind.is_container() && node.children > 0, (node.parent != u32::MAX).then_some(node.parent))
        })
        .unwrap_or((false, None));
    match event.key().as_str() {
        "ArrowDown" => select_row((current_row + 1).min(rows_len - 1)),
        "ArrowUp" => select_row(current_row.saturating_sub(1)),
        "Home" => select_row(0),
        "End" => select_row(rows_len - 1),
        "PageDown" => select_row((current_row + 20).min(rows_len - 1)),
        "PageUp" => select_row(current_row.saturating_sub(20)),
        "ArrowRight" if container && !expanded => tree.toggle(id),
        "ArrowRight" => select_row((current_row + 1).min(rows_len - 1)),
        "ArrowLeft" if expanded => tree.toggle(id),
        "ArrowLeft" => {
            if let Some(parent) = parent {
                tree.reveal(parent);
            }
        }
        "Enter" | " " if container => tree.toggle(id),
        "Enter" | " " => tree.panel.set(Some(id)),
        "Escape" if tree.panel.get_untracked().is_some() => tree.panel.set(None),
        _ => return,
    }
    event.prevent_default();
}
