//! Incremental search over keys and values: the scan runs in slices between frames, the first
//! match is shown as soon as it is found, and the search of a response survives a tab change.

use std::time::Duration;

use leptos::prelude::*;

use super::Tree;
use crate::inspect::search::Search;

/// Nodes a search scans before yielding to the browser.
const SEARCH_SLICE: usize = 60_000;

#[derive(Clone, Debug, PartialEq)]
pub(super) struct SearchStatus {
    count: usize,
    done: bool,
    current: Option<usize>,
}

#[derive(Clone, Copy)]
pub(super) struct TreeSearch {
    tree: Tree,
    search: StoredValue<Option<Search>>,
    /// Bumped by every new query, so the slices of an older scan stop.
    generation: StoredValue<u64>,
    status: RwSignal<Option<SearchStatus>>,
    /// Owned by the inspector: the query and the current match, kept across tabs.
    text: StoredValue<String>,
    current: StoredValue<usize>,
    /// The node of the current match.
    pub current_node: Memo<Option<u32>>,
}

impl TreeSearch {
    pub fn new(tree: Tree, text: StoredValue<String>, current: StoredValue<usize>) -> Self {
        let search = StoredValue::new(None::<Search>);
        let status = RwSignal::new(None::<SearchStatus>);
        let current_node = Memo::new(move |_| {
            let current = status.get().and_then(|s| s.current)?;
            search.with_value(|s| s.as_ref().and_then(|s| s.matches.get(current).map(|m| m.node)))
        });
        let this = Self { tree, search, generation: StoredValue::new(0), status, text, current, current_node };
        this.restore_kept();
        this
    }

    /// Back from another tab: the kept search runs again over this response and returns to the
    /// match that was current, once the scan has found it.
    fn restore_kept(self) {
        let restore = StoredValue::new(None::<usize>);
        Effect::new(move |_| {
            let kept = self.text.get_value();
            if !kept.is_empty() {
                let current = self.current.get_value();
                self.start(kept);
                restore.set_value(Some(current));
            }
        });
        Effect::new(move |_| {
            let Some(found) = self.status.get() else { return };
            if let Some(k) = restore.get_value() {
                if k < found.count {
                    restore.set_value(None);
                    self.go_to(k);
                } else if found.done {
                    restore.set_value(None);
                }
            }
        });
    }

    fn go_to(self, k: usize) {
        let node = self.search.with_value(|s| s.as_ref().and_then(|s| s.matches.get(k).map(|m| m.node)));
        if let Some(node) = node {
            self.current.set_value(k);
            self.status.update(|s| {
                if let Some(s) = s {
                    s.current = Some(k);
                }
            });
            self.tree.reveal(node);
        }
    }

    fn start(self, query: String) {
        self.text.set_value(query.clone());
        let generation = self.generation.get_value() + 1;
        self.generation.set_value(generation);
        self.search.set_value(Search::new(&query));
        if self.search.with_value(Option::is_none) {
            self.status.set(None);
            return;
        }
        self.status.set(Some(SearchStatus { count: 0, done: false, current: None }));
        self.run_slice(generation);
    }

    /// Scans one slice, shows the progress, and schedules the next slice unless a newer query
    /// has started.
    fn run_slice(self, generation: u64) {
        if self.generation.get_value() != generation {
            return;
        }
        let mut progress = None;
        self.tree.body.with_value(|b| {
            if let Some(index) = b.index() {
                self.search.update_value(|s| {
                    if let Some(s) = s.as_mut() {
                        let done = s.step(index, &b.bytes, SEARCH_SLICE);
                        progress = Some((s.matches.len(), done));
                    }
                });
            }
        });
        let Some((count, done)) = progress else { return };
        let current = self.status.get_untracked().and_then(|s| s.current);
        self.status.set(Some(SearchStatus { count, done, current }));
        if current.is_none() && count > 0 {
            self.go_to(0);
        }
        if !done {
            set_timeout(move || self.run_slice(generation), Duration::ZERO);
        }
    }

    fn step(self, delta: isize) {
        if let Some(s) = self.status.get_untracked() {
            if s.count > 0 {
                let current = s.current.map_or(0, |c| c as isize);
                let next = (current + delta).rem_euclid(s.count as isize) as usize;
                self.go_to(next);
            }
        }
    }

    pub fn is_match(self, id: u32) -> bool {
        self.search.with_value(|s| s.as_ref().is_some_and(|s| s.matches.binary_search_by_key(&id, |m| m.node).is_ok()))
    }
}

#[component]
pub(super) fn SearchBox(search: TreeSearch) -> impl IntoView {
    let status = search.status;
    view! {
        <form class="search" on:submit=move |ev| { ev.prevent_default(); search.step(1); }>
            <input type="search" placeholder="Search keys and values" data-testid="search-input" aria-label="Search keys and values"
                prop:value=search.text.get_value()
                on:input=move |ev| search.start(event_target_value(&ev))
                on:keydown=move |ev| if ev.key() == "Enter" && ev.shift_key() { ev.prevent_default(); search.step(-1); } />
            <button type="button" data-testid="search-prev" title="Previous match (Shift+Enter)" on:click=move |_| search.step(-1)>"↑"</button>
            <button type="button" data-testid="search-next" title="Next match (Enter)" on:click=move |_| search.step(1)>"↓"</button>
            <span class="metric" data-testid="search-count">{move || match status.get() {
                None => String::new(),
                Some(s) if s.count == 0 && s.done => "no matches".to_owned(),
                Some(s) => format!("{} of {}{}", s.current.map_or(0, |c| c + 1), s.count, if s.done { "" } else { "+ (searching)" }),
            }}</span>
        </form>
    }
}
