//! The JSON tree tab: a virtualized tree (fixed-height rows, a spacer of the full height, only the
//! rows in view rendered), depth controls, incremental search, JSONPath filter, copy and a value panel.

use std::sync::Arc;
use std::time::Duration;

use leptos::html::Div;
use leptos::prelude::*;

use super::{browser, Body};
use crate::api::query_body;
use crate::inspect::index::{unescape, Index, Kind};
use crate::inspect::path::{jsonpath_of, locate};
use crate::inspect::search::Search;
use crate::inspect::text::clip;
use crate::inspect::tree::{window, TreeState, INITIAL_ROW_BUDGET};
use crate::wire::JsonPathAnswer;

const ROW_HEIGHT: f64 = 22.0;
const OVERSCAN: usize = 15;
/// Characters of a value shown in its row; the rest is one click away in the value panel.
const ROW_CHARS: usize = 160;
/// Indentation stops growing here (deeper rows show their depth instead).
const MAX_INDENT: u32 = 40;
/// Nodes a search scans before yielding to the browser.
const SEARCH_SLICE: usize = 60_000;
/// The value panel shows at most this much of one value; copy and download give all of it.
const PANEL_CHARS: usize = 1_000_000;

/// A row's value: preview text, whether it was cut, and the CSS class of its type.
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
            (
                format!("\"{shown}{}\"", if cut || head.len() < inner.len() { "…" } else { "" }),
                cut || head.len() < inner.len(),
            )
        }
        _ => {
            let raw = String::from_utf8_lossy(index.raw(bytes, id));
            let (shown, cut) = clip(&raw, ROW_CHARS);
            (format!("{shown}{}", if cut { "…" } else { "" }), cut)
        }
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

#[derive(Clone, Debug, PartialEq)]
struct SearchStatus {
    count: usize,
    done: bool,
    current: Option<usize>,
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
    if tree.with_value(Option::is_none) {
        tree.set_value(body.index().map(|index| TreeState::new(index, INITIAL_ROW_BUDGET)));
    }
    let body = StoredValue::new(body);
    let rev = RwSignal::new(0u64);
    let bump = move || rev.update(|n| *n += 1);
    let selected = RwSignal::new(None::<u32>);
    let panel = RwSignal::new(None::<u32>);
    let notice = RwSignal::new(None::<String>);
    let scroller = NodeRef::<Div>::new();
    let scroll_top = RwSignal::new(0.0);
    let viewport = RwSignal::new(480.0);

    // Runs `f` with the index, the body bytes and the tree state.
    let with_tree = move |f: &mut dyn FnMut(&Index, &[u8], &mut TreeState)| {
        body.with_value(|b| {
            if let Some(index) = b.index() {
                tree.update_value(|t| {
                    if let Some(t) = t.as_mut() {
                        f(index, &b.bytes, t);
                    }
                });
            }
        });
    };
    let row_count = Memo::new(move |_| {
        rev.get();
        tree.with_value(|t| t.as_ref().map_or(0, |t| t.rows().len()))
    });
    let range = Memo::new(move |_| window(scroll_top.get(), viewport.get(), ROW_HEIGHT, row_count.get(), OVERSCAN));

    let sync_scroll = move || {
        if let Some(el) = scroller.get() {
            scroll_top.set(f64::from(el.scroll_top()));
            viewport.set(f64::from(el.client_height()));
        }
    };
    Effect::new(move |_| {
        if scroller.get().is_some() {
            sync_scroll();
            browser::mark("a55:tree-mounted", &[("rows", row_count.get_untracked() as f64)]);
        }
    });
    // Brings `row` into view (after the spacer has grown to include it).
    let show_row = move |row: usize| {
        request_animation_frame(move || {
            if let Some(el) = scroller.get() {
                let top = row as f64 * ROW_HEIGHT;
                let view_top = f64::from(el.scroll_top());
                let height = f64::from(el.client_height());
                if top < view_top || top + ROW_HEIGHT > view_top + height {
                    el.set_scroll_top((top - height / 2.0).max(0.0) as i32);
                }
                sync_scroll();
            }
        });
    };
    let reveal = move |id: u32| {
        let mut row = 0;
        with_tree(&mut |index, _, t| row = t.reveal(index, id));
        bump();
        selected.set(Some(id));
        show_row(row);
    };
    let toggle = move |id: u32| {
        with_tree(&mut |index, _, t| t.toggle(index, id));
        bump();
    };
    let copy = move |what: &'static str, text: String| {
        let shown = clip(&text, 80).0.to_owned();
        browser::copy(text, move |result| {
            notice.set(Some(match result {
                Ok(()) => format!("Copied {what}: {shown}"),
                Err(error) => format!("Could not copy {what}: {error}"),
            }));
        });
    };
    let copy_path = move |id: u32| {
        let path = body.with_value(|b| b.index().map(|index| jsonpath_of(index, &b.bytes, id))).unwrap_or_default();
        copy("JSONPath", path);
    };
    let copy_value = move |id: u32| {
        let value = body.with_value(|b| b.index().map(|index| value_text(index, &b.bytes, id))).unwrap_or_default();
        copy("value", value);
    };

    // ---- search
    let search = StoredValue::new(None::<Search>);
    let search_gen = StoredValue::new(0u64);
    let status = RwSignal::new(None::<SearchStatus>);
    let go_to_match = move |k: usize| {
        let node = search.with_value(|s| s.as_ref().and_then(|s| s.matches.get(k).map(|m| m.node)));
        if let Some(node) = node {
            search_match.set_value(k);
            status.update(|s| {
                if let Some(s) = s {
                    s.current = Some(k);
                }
            });
            reveal(node);
        }
    };
    fn run_slice(
        generation: u64,
        body: StoredValue<Arc<Body>>,
        search: StoredValue<Option<Search>>,
        search_gen: StoredValue<u64>,
        status: RwSignal<Option<SearchStatus>>,
        first: impl Fn(usize) + Copy + 'static,
    ) {
        if search_gen.get_value() != generation {
            return;
        }
        let mut progress = None;
        body.with_value(|b| {
            if let Some(index) = b.index() {
                search.update_value(|s| {
                    if let Some(s) = s.as_mut() {
                        let done = s.step(index, &b.bytes, SEARCH_SLICE);
                        progress = Some((s.matches.len(), done));
                    }
                });
            }
        });
        let Some((count, done)) = progress else { return };
        let had_current = status.get_untracked().and_then(|s| s.current).is_some();
        status.set(Some(SearchStatus { count, done, current: status.get_untracked().and_then(|s| s.current) }));
        if !had_current && count > 0 {
            first(0);
        }
        if !done {
            set_timeout(move || run_slice(generation, body, search, search_gen, status, first), Duration::ZERO);
        }
    }
    let start_search = move |query: String| {
        search_text.set_value(query.clone());
        let generation = search_gen.get_value() + 1;
        search_gen.set_value(generation);
        search.set_value(Search::new(&query));
        if search.with_value(Option::is_none) {
            status.set(None);
            return;
        }
        status.set(Some(SearchStatus { count: 0, done: false, current: None }));
        run_slice(generation, body, search, search_gen, status, go_to_match);
    };
    // Back from another tab: the kept search runs again over this response and returns to the
    // match that was current, once the scan has found it.
    let restore = StoredValue::new(None::<usize>);
    Effect::new(move |_| {
        let kept = search_text.get_value();
        if !kept.is_empty() {
            let current = search_match.get_value();
            start_search(kept);
            restore.set_value(Some(current));
        }
    });
    Effect::new(move |_| {
        let Some(found) = status.get() else { return };
        if let Some(k) = restore.get_value() {
            if k < found.count {
                restore.set_value(None);
                go_to_match(k);
            } else if found.done {
                restore.set_value(None);
            }
        }
    });
    let step_match = move |delta: isize| {
        if let Some(s) = status.get_untracked() {
            if s.count > 0 {
                let current = s.current.map_or(0, |c| c as isize);
                let next = (current + delta).rem_euclid(s.count as isize) as usize;
                go_to_match(next);
            }
        }
    };
    let is_match = move |id: u32| {
        search.with_value(|s| s.as_ref().is_some_and(|s| s.matches.binary_search_by_key(&id, |m| m.node).is_ok()))
    };
    let current_match = Memo::new(move |_| {
        let current = status.get().and_then(|s| s.current)?;
        search.with_value(|s| s.as_ref().and_then(|s| s.matches.get(current).map(|m| m.node)))
    });

    // ---- JSONPath filter (evaluated on the server over the stored body)
    let filter_error = RwSignal::new(None::<String>);
    let filter_result = RwSignal::new(None::<JsonPathAnswer>);
    let filter_busy = RwSignal::new(false);
    let body_id = StoredValue::new(body_id);
    let run_filter = move |expression: String| {
        let Some(id) = body_id.get_value() else {
            filter_error.set(Some("this body is not kept on the server, so it cannot be filtered".into()));
            return;
        };
        if expression.trim().is_empty() {
            filter_error.set(None);
            filter_result.set(None);
            return;
        }
        filter_busy.set(true);
        leptos::task::spawn_local(async move {
            match query_body(id, expression).await {
                Ok(answer) => {
                    filter_error.set(None);
                    filter_result.set(Some(answer));
                }
                Err(error) => {
                    filter_result.set(None);
                    filter_error.set(Some(error.to_string()));
                }
            }
            filter_busy.set(false);
        });
    };

    // ---- keyboard
    let on_key = move |event: leptos::ev::KeyboardEvent| {
        let rows_len = row_count.get_untracked();
        if rows_len == 0 {
            return;
        }
        let current_row = selected
            .get_untracked()
            .and_then(|id| tree.with_value(|t| t.as_ref().and_then(|t| t.row_of(id))))
            .unwrap_or(0);
        let node_at = |row: usize| tree.with_value(|t| t.as_ref().and_then(|t| t.rows().get(row).copied()));
        let select_row = |row: usize| {
            if let Some(id) = node_at(row) {
                selected.set(Some(id));
                show_row(row);
            }
        };
        let Some(id) = node_at(current_row) else { return };
        let (container, expanded, parent) = body.with_value(|b| {
            let Some(index) = b.index() else { return (false, false, None) };
            let node = index.node(id);
            let expanded = tree.with_value(|t| t.as_ref().is_some_and(|t| t.is_expanded(id)));
            (node.kind.is_container() && node.children > 0, expanded, (node.parent != u32::MAX).then_some(node.parent))
        });
        match event.key().as_str() {
            "ArrowDown" => select_row((current_row + 1).min(rows_len - 1)),
            "ArrowUp" => select_row(current_row.saturating_sub(1)),
            "Home" => select_row(0),
            "End" => select_row(rows_len - 1),
            "PageDown" => select_row((current_row + 20).min(rows_len - 1)),
            "PageUp" => select_row(current_row.saturating_sub(20)),
            "ArrowRight" if container && !expanded => toggle(id),
            "ArrowRight" => select_row((current_row + 1).min(rows_len - 1)),
            "ArrowLeft" if expanded => toggle(id),
            "ArrowLeft" => {
                if let Some(parent) = parent {
                    reveal(parent);
                }
            }
            "Enter" | " " if container => toggle(id),
            "Enter" | " " => panel.set(Some(id)),
            _ => return,
        }
        event.prevent_default();
    };

    let depth_levels = body.with_value(|b| b.index().map_or(0, |i| i.max_depth)).min(8);
    let nodes = body.with_value(|b| b.index().map_or(0, Index::len));

    view! {
        <div class="tree-toolbar">
            <button type="button" data-testid="expand-all" title="Expand every node"
                on:click=move |_| { with_tree(&mut |index, _, t| t.expand_all(index)); bump(); }>"Expand all"</button>
            <button type="button" data-testid="collapse-all" title="Collapse to the root"
                on:click=move |_| { with_tree(&mut |index, _, t| t.expand_to_depth(index, 1)); bump(); }>"Collapse all"</button>
            <button type="button" data-testid="expand-level" title="Open the next closed level everywhere"
                on:click=move |_| { with_tree(&mut |index, _, t| { t.expand_next_level(index); }); bump(); }>"+1 level"</button>
            <label class="depth">"Depth "
                <select data-testid="depth-select" on:change=move |ev| {
                    if let Ok(depth) = event_target_value(&ev).parse::<u32>() {
                        with_tree(&mut |index, _, t| t.expand_to_depth(index, depth));
                        bump();
                    }
                }>
                    <option value="">"…"</option>
                    {(1..=depth_levels.max(1)).map(|d| view! { <option value=d.to_string()>{d.to_string()}</option> }).collect_view()}
                </select>
            </label>
            <span class="metric" data-testid="node-count">{format!("{nodes} nodes")}</span>
            <form class="search" on:submit=move |ev| { ev.prevent_default(); step_match(1); }>
                <input type="search" placeholder="Search keys and values" data-testid="search-input" aria-label="Search keys and values"
                    prop:value=search_text.get_value()
                    on:input=move |ev| start_search(event_target_value(&ev))
                    on:keydown=move |ev| if ev.key() == "Enter" && ev.shift_key() { ev.prevent_default(); step_match(-1); } />
                <button type="button" data-testid="search-prev" title="Previous match (Shift+Enter)" on:click=move |_| step_match(-1)>"↑"</button>
                <button type="button" data-testid="search-next" title="Next match (Enter)" on:click=move |_| step_match(1)>"↓"</button>
                <span class="metric" data-testid="search-count">{move || match status.get() {
                    None => String::new(),
                    Some(s) if s.count == 0 && s.done => "no matches".to_owned(),
                    Some(s) => format!("{} of {}{}", s.current.map_or(0, |c| c + 1), s.count, if s.done { "" } else { "+ (searching)" }),
                }}</span>
            </form>
        </div>
        <form class="jsonpath" on:submit=move |ev| {
            ev.prevent_default();
            let value = ev.target()
                .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlFormElement>(t).ok())
                .and_then(|form| form.elements().named_item("jsonpath"))
                .and_then(|input| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlInputElement>(input).ok())
                .map(|input| input.value())
                .unwrap_or_default();
            run_filter(value);
        }>
            <input type="text" name="jsonpath" placeholder="JSONPath filter, e.g. $.data[?@.status == 'paid'].value"
                data-testid="jsonpath-input" aria-label="JSONPath filter" spellcheck="false" />
            <button type="submit" data-testid="jsonpath-run" disabled=move || filter_busy.get()>"Filter"</button>
            <button type="button" on:click=move |_| { filter_result.set(None); filter_error.set(None); }>"Clear"</button>
        </form>
        {move || filter_error.get().map(|e| view! { <p class="console-error inline" role="alert" data-testid="jsonpath-error">{e}</p> })}
        {move || filter_result.get().map(|answer| {
            let shown = answer.matches.len();
            view! {
                <div class="jsonpath-results" data-testid="jsonpath-results">
                    <p class="metric" data-testid="jsonpath-count">
                        {format!("{} match{} ({:.0} ms on the server){}", answer.total, if answer.total == 1 { "" } else { "es" }, answer.elapsed_ms,
                            if shown < answer.total { format!(", first {shown} listed") } else { String::new() })}
                    </p>
                    <ol>
                        {answer.matches.into_iter().map(|m| {
                            let steps = m.steps.clone();
                            view! {
                                <li data-testid="jsonpath-match">
                                    <button type="button" class="link" title="Show in the tree" on:click=move |_| {
                                        let found = body.with_value(|b| b.index().and_then(|index| locate(index, &b.bytes, &steps)));
                                        if let Some(id) = found { reveal(id); }
                                    }><code>{m.path}</code></button>
                                    " "
                                    <code class="value">{m.value}{m.value_truncated.then_some("…")}</code>
                                </li>
                            }
                        }).collect_view()}
                    </ol>
                </div>
            }
        })}
        {move || notice.get().map(|n| view! { <p class="hint" role="status" data-testid="inspector-notice">{n}</p> })}
        <div
            class="virtual tree"
            role="tree"
            aria-label="Response body"
            tabindex="0"
            node_ref=scroller
            data-testid="json-tree"
            data-rows=move || row_count.get().to_string()
            on:scroll=move |_| sync_scroll()
            on:keydown=on_key
        >
            <div class="spacer" style:height=move || format!("{}px", row_count.get() as f64 * ROW_HEIGHT)>
                {move || {
                    rev.get();
                    let range = range.get();
                    let selected_id = selected.get();
                    let current = current_match.get();
                    body.with_value(|b| {
                        let Some(index) = b.index() else { return Vec::new() };
                        tree.with_value(|t| {
                            let Some(t) = t.as_ref() else { return Vec::new() };
                            t.rows()[range.clone()].iter().enumerate().map(|(k, &id)| {
                                let row = range.start + k;
                                let node = *index.node(id);
                                let key = index.key(&b.bytes, id).map(|k| clip(&k, ROW_CHARS).0.to_owned());
                                let position = (node.depth > 0 && key.is_none()).then_some(node.position);
                                let (value, cut) = preview(index, &b.bytes, id);
                                let expandable = node.kind.is_container() && node.children > 0;
                                let expanded = t.is_expanded(id);
                                let indent = node.depth.min(MAX_INDENT) as f64 * 16.0 + 4.0;
                                let matched = is_match(id);
                                view! {
                                    <div
                                        class="row"
                                        role="treeitem"
                                        class:selected=selected_id == Some(id)
                                        class:match=matched
                                        class:current-match=current == Some(id)
                                        aria-expanded=expandable.then(|| expanded.to_string())
                                        data-testid="tree-row"
                                        data-node=id.to_string()
                                        style:top=format!("{}px", row as f64 * ROW_HEIGHT)
                                        style:padding-left=format!("{indent}px")
                                        on:click=move |_| selected.set(Some(id))
                                    >
                                        {(node.depth > MAX_INDENT).then(|| view! { <span class="deep">{format!("depth {} ", node.depth)}</span> })}
                                        {if expandable {
                                            view! {
                                                <button type="button" class="toggle" data-testid="toggle" tabindex="-1"
                                                    aria-label=if expanded { "Collapse" } else { "Expand" }
                                                    on:click=move |ev| { ev.stop_propagation(); selected.set(Some(id)); toggle(id); }>
                                                    {if expanded { "▾" } else { "▸" }}
                                                </button>
                                            }.into_any()
                                        } else {
                                            view! { <span class="toggle-space"></span> }.into_any()
                                        }}
                                        {key.map(|k| view! { <span class="key">{k}</span><span class="colon">": "</span> })}
                                        {position.map(|p| view! { <span class="index">{p.to_string()}</span><span class="colon">": "</span> })}
                                        <span class=format!("value {}", node.kind.css())>{value}</span>
                                        {cut.then(|| view! {
                                            <button type="button" class="link more" data-testid="show-more"
                                                on:click=move |ev| { ev.stop_propagation(); selected.set(Some(id)); panel.set(Some(id)); }>"show more"</button>
                                        })}
                                        <span class="row-actions">
                                            <button type="button" class="link" data-testid="copy-value" title="Copy the value"
                                                on:click=move |ev| { ev.stop_propagation(); selected.set(Some(id)); copy_value(id); }>"copy"</button>
                                            <button type="button" class="link" data-testid="copy-path" title="Copy the JSONPath of this node"
                                                on:click=move |ev| { ev.stop_propagation(); selected.set(Some(id)); copy_path(id); }>"path"</button>
                                        </span>
                                    </div>
                                }
                            }).collect::<Vec<_>>()
                        })
                    })
                }}
            </div>
        </div>
        {move || panel.get().map(|id| {
            let (path, text, total) = body.with_value(|b| {
                let Some(index) = b.index() else { return (String::new(), String::new(), 0) };
                let text = value_text(index, &b.bytes, id);
                let total = text.chars().count();
                (jsonpath_of(index, &b.bytes, id), clip(&text, PANEL_CHARS).0.to_owned(), total)
            });
            view! {
                <div class="value-panel" data-testid="value-panel">
                    <p>
                        <code>{path}</code>
                        {format!(" — {total} characters")}
                        {(total > PANEL_CHARS).then(|| format!(", first {PANEL_CHARS} shown (copy or download for all)"))}
                        " "
                        <button type="button" class="link" on:click=move |_| copy_value(id)>"copy"</button>
                        " "
                        <button type="button" class="link" on:click=move |_| panel.set(None)>"close"</button>
                    </p>
                    <pre class="body">{text}</pre>
                </div>
            }
        })}
    }
}
