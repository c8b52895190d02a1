//! The JSON tree tab: a virtualized tree (fixed-height rows, a spacer of the full height, only the
//! rows in view rendered), depth controls, incremental search, JSONPath filter, copy and a value panel.

mod filter;
mod panel;
mod rows;
mod search;

use std::sync::Arc;

use leptos::html::Div;
use leptos::prelude::*;

use super::{browser, Body};
use crate::inspect::index::{unescape, Index, Kind};
use crate::inspect::path::jsonpath_of;
use crate::inspect::text::clip;
use crate::inspect::tree::{TreeState, INITIAL_ROW_BUDGET};
use search::TreeSearch;

const ROW_HEIGHT: f64 = 22.0;

/// The tree's shared state: the body, which nodes are open, the selection, the scroll position,
/// the value panel and the last notice. `Copy`, so each part of the tab holds it.
#[derive(Clone, Copy)]
struct Tree {
    body: StoredValue<Arc<Body>>,
    /// Owned by the inspector, so expansion survives a visit to another tab.
    state: StoredValue<Option<TreeState>>,
    /// Bumped whenever `state` changes (it is not a signal: it can hold a million rows).
    rev: RwSignal<u64>,
    selected: RwSignal<Option<u32>>,
    /// The node whose whole value is shown under the tree.
    panel: RwSignal<Option<u32>>,
    notice: RwSignal<Option<String>>,
    scroller: NodeRef<Div>,
    scroll_top: RwSignal<f64>,
    viewport: RwSignal<f64>,
    row_count: Memo<usize>,
}

impl Tree {
    fn new(body: Arc<Body>, state: StoredValue<Option<TreeState>>) -> Self {
        if state.with_value(Option::is_none) {
            state.set_value(body.index().map(|index| TreeState::new(index, INITIAL_ROW_BUDGET)));
        }
        let rev = RwSignal::new(0u64);
        let row_count = Memo::new(move |_| {
            rev.get();
            state.with_value(|t| t.as_ref().map_or(0, |t| t.rows().len()))
        });
        Self {
            body: StoredValue::new(body),
            state,
            rev,
            selected: RwSignal::new(None),
            panel: RwSignal::new(None),
            notice: RwSignal::new(None),
            scroller: NodeRef::new(),
            scroll_top: RwSignal::new(0.0),
            viewport: RwSignal::new(480.0),
            row_count,
        }
    }

    /// Changes the tree state (when the body indexed) and redraws.
    fn change(self, f: impl FnOnce(&Index, &mut TreeState)) {
        self.body.with_value(|b| {
            if let Some(index) = b.index() {
                self.state.update_value(|t| {
                    if let Some(t) = t.as_mut() {
                        f(index, t);
                    }
                });
            }
        });
        self.rev.update(|n| *n += 1);
    }

    /// Reads the index and the body bytes, when the body indexed.
    fn read<R>(self, f: impl FnOnce(&Index, &[u8]) -> R) -> Option<R> {
        self.body.with_value(|b| b.index().map(|index| f(index, &b.bytes)))
    }

    fn node_at(self, row: usize) -> Option<u32> {
        self.state.with_value(|t| t.as_ref().and_then(|t| t.rows().get(row).copied()))
    }

    fn row_of(self, id: u32) -> Option<usize> {
        self.state.with_value(|t| t.as_ref().and_then(|t| t.row_of(id)))
    }

    fn sync_scroll(self) {
        if let Some(el) = self.scroller.get() {
            self.scroll_top.set(f64::from(el.scroll_top()));
            self.viewport.set(f64::from(el.client_height()));
        }
    }

    /// Brings `row` into view (after the spacer has grown to include it).
    fn show_row(self, row: usize) {
        request_animation_frame(move || {
            if let Some(el) = self.scroller.get() {
                let top = row as f64 * ROW_HEIGHT;
                let view_top = f64::from(el.scroll_top());
                let height = f64::from(el.client_height());
                if top < view_top || top + ROW_HEIGHT > view_top + height {
                    el.set_scroll_top((top - height / 2.0).max(0.0) as i32);
                }
                self.sync_scroll();
            }
        });
    }

    /// Opens every ancestor of `id`, selects it and scrolls to it.
    fn reveal(self, id: u32) {
        let mut row = 0;
        self.change(|index, t| row = t.reveal(index, id));
        self.selected.set(Some(id));
        self.show_row(row);
    }

    fn toggle(self, id: u32) {
        self.change(|index, t| t.toggle(index, id));
    }

    fn copy(self, what: &'static str, text: String) {
        let shown = clip(&text, 80).0.to_owned();
        let notice = self.notice;
        browser::copy(text, move |result| {
            notice.set(Some(match result {
                Ok(()) => format!("Copied {what}: {shown}"),
                Err(error) => format!("Could not copy {what}: {error}"),
            }));
        });
    }

    fn copy_path(self, id: u32) {
        let path = self.read(|index, bytes| jsonpath_of(index, bytes, id)).unwrap_or_default();
        self.copy("JSONPath", path);
    }

    fn copy_value(self, id: u32) {
        let value = self.read(|index, bytes| value_text(index, bytes, id)).unwrap_or_default();
        self.copy("value", value);
    }
}

/// What "copy value" copies: a string's text, or the JSON of anything else, as received.
fn value_text(index: &Index, bytes: &[u8], id: u32) -> String {
    let node = index.node(id);
    if node.kind == Kind::String {
        unescape(&bytes[node.start as usize + 1..node.end as usize - 1]).into_owned()
    } else {
        String::from_utf8_lossy(index.raw(bytes, id)).into_owned()
    }
}

#[component]
pub fn TreeView(
    body: Arc<Body>,
    body_id: Option<String>,
    /// Owned by the inspector, so expansion survives a visit to another tab.
    tree: StoredValue<Option<TreeState>>,
    /// Owned by the inspector too: the search of this response survives a visit to another tab.
    search_text: StoredValue<String>,
    /// And which of its matches was the current one.
    search_match: StoredValue<usize>,
) -> impl IntoView {
    let tree = Tree::new(body, tree);
    let search = TreeSearch::new(tree, search_text, search_match);
    Effect::new(move |_| {
        if tree.scroller.get().is_some() {
            tree.sync_scroll();
            // The inspector comes in a chunk loaded on the first response, and its nodes can exist
            // a moment before they are in the page (where they measure 0 px high): measure again once
            // they are laid out.
            request_animation_frame(move || tree.sync_scroll());
            browser::mark("a55:tree-mounted", &[("rows", tree.row_count.get_untracked() as f64)]);
        }
    });
    let notice = tree.notice;
    view! {
        <div class="tree-toolbar">
            <DepthControls tree />
            <search::SearchBox search />
        </div>
        <filter::JsonPathFilter tree body_id />
        {move || notice.get().map(|n| view! { <p class="hint" role="status" data-testid="inspector-notice">{n}</p> })}
        <rows::Rows tree search />
        <panel::ValuePanel tree />
    }
}

/// Expand all, collapse all, one more level, a depth, and the node count.
#[component]
fn DepthControls(tree: Tree) -> impl IntoView {
    let depth_levels = tree.read(|index, _| index.max_depth).unwrap_or(0).min(8);
    let nodes = tree.read(|index, _| index.len()).unwrap_or(0);
    view! {
        <button type="button" data-testid="expand-all" title="Expand every node"
            on:click=move |_| tree.change(|index, t| t.expand_all(index))>"Expand all"</button>
        <button type="button" data-testid="collapse-all" title="Collapse to the root"
            on:click=move |_| tree.change(|index, t| t.expand_to_depth(index, 1))>"Collapse all"</button>
        <button type="button" data-testid="expand-level" title="Open the next closed level everywhere"
            on:click=move |_| tree.change(|index, t| { t.expand_next_level(index); })>"+1 level"</button>
        <label class="depth">"Depth "
            <select data-testid="depth-select" on:change=move |ev| {
                if let Ok(depth) = event_target_value(&ev).parse::<u32>() {
                    tree.change(|index, t| t.expand_to_depth(index, depth));
                }
            }>
                <option value="">"…"</option>
                {(1..=depth_levels.max(1)).map(|d| view! { <option value=d.to_string()>{d.to_string()}</option> }).collect_view()}
            </select>
        </label>
        <span class="metric" data-testid="node-count">{format!("{nodes} nodes")}</span>
    }
}
