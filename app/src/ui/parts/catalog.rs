//! The endpoint picker: operations grouped by tag, fuzzy search over path, summary and operation
//! id, markers (token/public/writes, confidence, source), keyboard control (`/`, arrows, Enter),
//! and the status of every catalog source with a refresh for live specs.

use leptos::ev;
use leptos::html;
use leptos::prelude::*;

use crate::wire::{CatalogSource, Endpoint};

/// Groups endpoints by tag, keeping the catalog's order of first appearance.
pub fn group_by_tag<'a>(endpoints: impl IntoIterator<Item = &'a Endpoint>) -> Vec<(String, Vec<Endpoint>)> {
    let mut groups: Vec<(String, Vec<Endpoint>)> = Vec::new();
    for endpoint in endpoints {
        match groups.iter_mut().find(|(tag, _)| *tag == endpoint.tag) {
            Some((_, members)) => members.push(endpoint.clone()),
            None => groups.push((endpoint.tag.clone(), vec![endpoint.clone()])),
        }
    }
    groups
}

/// How well `query` matches `text` as a subsequence (case-insensitive), or `None`. Consecutive
/// characters and word starts (after `/`, `_`, `-`, space, or a lower→upper change) score more;
/// a match spread too thin to be meant is refused.
pub fn fuzzy_score(query: &str, text: &str) -> Option<i32> {
    let query: Vec<char> = query.chars().flat_map(char::to_lowercase).collect();
    if query.is_empty() {
        return Some(0);
    }
    let chars: Vec<char> = text.chars().collect();
    let lower: Vec<char> = chars.iter().map(|c| c.to_lowercase().next().unwrap_or(*c)).collect();
    let word_start = |i: usize| {
        i == 0
            || matches!(chars[i - 1], '/' | '_' | '-' | ' ' | '.' | '{')
            || (chars[i - 1].is_lowercase() && chars[i].is_uppercase())
    };
    // Try every start of the first character and keep the best, so "charge" prefers the word
    // "charges" over c…h…a… scattered through an earlier word.
    let mut best: Option<i32> = None;
    for start in (0..lower.len()).filter(|&i| lower[i] == query[0]) {
        let mut score = 0;
        let mut position = start;
        let mut previous: Option<usize> = None;
        let mut matched = 0;
        while matched < query.len() && position < lower.len() {
            if lower[position] == query[matched] {
                score += 1;
                if previous.is_some_and(|p| p + 1 == position) {
                    score += 8;
                } else if word_start(position) {
                    // A run that starts a word ("ch" of "charges") beats one in its middle.
                    score += 6;
                }
                previous = Some(position);
                matched += 1;
            }
            position += 1;
        }
        if matched < query.len() {
            break;
        }
        let span = previous.unwrap_or(start) + 1 - start;
        if span > query.len() * 2 + 4 {
            continue;
        }
        score -= i32::try_from(start.min(40)).unwrap_or(40) / 4 + i32::try_from(span - query.len()).unwrap_or(0);
        best = Some(best.map_or(score, |b| b.max(score)));
    }
    best
}

/// The score of an endpoint for a query of one or more words: every word must match the method
/// exactly or one of path, summary and operation id; `None` when some word does not.
pub fn endpoint_score(endpoint: &Endpoint, query: &str) -> Option<i32> {
    let mut total = 0;
    for word in query.split_whitespace() {
        if word.eq_ignore_ascii_case(&endpoint.method) {
            total += 20;
            continue;
        }
        let best = [
            fuzzy_score(word, &endpoint.path).map(|s| s + 2),
            fuzzy_score(word, &endpoint.id).map(|s| s + 1),
            fuzzy_score(word, &endpoint.summary),
        ]
        .into_iter()
        .flatten()
        .max()?;
        total += best;
    }
    Some(total)
}

/// The endpoints matching `query`, best first (catalog order breaks ties).
pub fn rank<'a>(endpoints: &'a [Endpoint], query: &str) -> Vec<&'a Endpoint> {
    let mut scored: Vec<(i32, usize, &Endpoint)> = endpoints
        .iter()
        .enumerate()
        .filter_map(|(index, endpoint)| endpoint_score(endpoint, query).map(|score| (score, index, endpoint)))
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, _, endpoint)| endpoint).collect()
}

/// Kept for callers that only need a yes/no.
pub fn matches_filter(endpoint: &Endpoint, filter: &str) -> bool {
    endpoint_score(endpoint, filter).is_some()
}

pub fn method_class(method: &str) -> String {
    format!("method method-{}", method.to_lowercase())
}

/// The list as shown: groups by tag without a query, one ranked group with one.
fn visible_groups(endpoints: &[Endpoint], query: &str) -> Vec<(String, Vec<Endpoint>)> {
    if query.trim().is_empty() {
        group_by_tag(endpoints)
    } else {
        let ranked: Vec<Endpoint> = rank(endpoints, query).into_iter().cloned().collect();
        vec![(format!("{} matching", ranked.len()), ranked)]
    }
}

#[component]
pub fn EndpointList(
    endpoints: Signal<Vec<Endpoint>>,
    selected: RwSignal<Option<Endpoint>>,
    on_select: Callback<Endpoint>,
) -> impl IntoView {
    let filter = RwSignal::new(String::new());
    let highlighted = RwSignal::new(0usize);
    let search: NodeRef<html::Input> = NodeRef::new();
    let groups = Memo::new(move |_| endpoints.with(|all| visible_groups(all, &filter.get())));
    let flat = Memo::new(move |_| groups.with(|g| g.iter().flat_map(|(_, m)| m.iter().cloned()).collect::<Vec<_>>()));
    // Typing a filter puts the keyboard cursor on the best match; without one it rests on the
    // endpoint in the form, so what is highlighted is what Run sends.
    Effect::new(move |_| {
        let typed = filter.with(|f| !f.trim().is_empty());
        let chosen = selected.with(|s| s.as_ref().map(|e| e.id.clone()));
        let position =
            chosen.filter(|_| !typed).and_then(|id| flat.with_untracked(|f| f.iter().position(|e| e.id == id)));
        highlighted.set(position.unwrap_or(0));
    });

    // `/` anywhere outside a text field jumps to the search box, as in most pickers.
    crate::ui::parts::clock::window_listener_while_mounted(ev::keydown, move |event| {
        if event.key() != "/" || event.ctrl_key() || event.meta_key() || event.alt_key() {
            return;
        }
        let typing = event
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        if !typing {
            if let Some(input) = search.get_untracked() {
                event.prevent_default();
                let _ = input.focus();
                input.select();
            }
        }
    });
    let on_keydown = move |event: ev::KeyboardEvent| {
        let count = flat.with_untracked(Vec::len);
        match event.key().as_str() {
            "ArrowDown" if count > 0 => {
                event.prevent_default();
                highlighted.update(|h| *h = (*h + 1).min(count - 1));
            }
            "ArrowUp" if count > 0 => {
                event.prevent_default();
                highlighted.update(|h| *h = h.saturating_sub(1));
            }
            "Enter" => {
                if let Some(endpoint) = flat.with_untracked(|f| f.get(highlighted.get_untracked()).cloned()) {
                    event.prevent_default();
                    on_select.run(endpoint);
                }
            }
            "Escape" => filter.set(String::new()),
            _ => {}
        }
    };

    view! {
        <nav class="catalog" aria-label="Endpoints">
            <input
                class="catalog-filter"
                type="search"
                placeholder="Search endpoints  ( / )"
                aria-label="Search endpoints (press / to focus, arrows to move, Enter to pick)"
                data-testid="catalog-filter"
                node_ref=search
                prop:value=move || filter.get()
                on:input=move |ev| filter.set(event_target_value(&ev))
                on:keydown=on_keydown
            />
            {move || {
                let mut index = 0usize;
                groups
                    .get()
                    .into_iter()
                    .map(|(tag, members)| {
                        let items = members
                            .into_iter()
                            .map(|endpoint| {
                                let position = index;
                                index += 1;
                                view! { <EndpointItem endpoint selected on_select highlighted position /> }
                            })
                            .collect_view();
                        view! {
                            <section class="catalog-group">
                                <h2>{tag}</h2>
                                <ul>{items}</ul>
                            </section>
                        }
                    })
                    .collect_view()
            }}
            <Show when=move || flat.with(Vec::is_empty)>
                <p class="hint catalog-empty">"No endpoint matches. Type a path in the request line to send it raw."</p>
            </Show>
        </nav>
    }
    .into_any()
}

#[component]
fn EndpointItem(
    endpoint: Endpoint,
    selected: RwSignal<Option<Endpoint>>,
    on_select: Callback<Endpoint>,
    highlighted: RwSignal<usize>,
    position: usize,
) -> impl IntoView {
    let id = endpoint.id.clone();
    let is_selected = {
        let id = id.clone();
        move || selected.with(|s| s.as_ref().is_some_and(|s| s.id == id))
    };
    let is_highlighted = move || highlighted.get() == position;
    let node: NodeRef<html::Button> = NodeRef::new();
    Effect::new(move |_| {
        if is_highlighted() {
            if let Some(button) = node.get() {
                let options = web_sys::ScrollIntoViewOptions::new();
                options.set_block(web_sys::ScrollLogicalPosition::Nearest);
                button.scroll_into_view_with_scroll_into_view_options(&options);
            }
        }
    });
    let mut origin = endpoint.origin.clone();
    if !endpoint.also_in.is_empty() {
        origin = format!("{origin}; also in {}", endpoint.also_in.join(", "));
    }
    let title = [endpoint.description.as_str(), &format!("Source: {}", endpoint.source), &format!("Catalog: {origin}")]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    let confidence = endpoint.confidence.clone();
    let chosen = endpoint.clone();
    let live = endpoint.origin.ends_with("(live spec)") || endpoint.also_in.iter().any(|o| o.ends_with("(live spec)"));
    view! {
        <li>
            <button
                class="endpoint"
                class:selected=is_selected
                class:highlighted=is_highlighted
                data-testid=format!("endpoint-{id}")
                title=title
                node_ref=node
                on:click=move |_| on_select.run(chosen.clone())
            >
                <span class=method_class(&endpoint.method)>{endpoint.method.clone()}</span>
                <span class="endpoint-path">{endpoint.path.clone()}</span>
                <span class="endpoint-summary">{endpoint.summary.clone()}</span>
                <span class="endpoint-marks">
                    {if endpoint.needs_token {
                        view! { <span class="mark mark-token" title="Sent with the environment's token">"token"</span> }.into_any()
                    } else {
                        view! { <span class="mark mark-public" title="Public: sent without a token">"public"</span> }.into_any()
                    }}
                    {endpoint.writes.then(|| view! { <span class="mark mark-writes" title="Changes data">"writes"</span> })}
                    {(!confidence.is_empty()).then(|| view! {
                        <span class=format!("mark mark-confidence confidence-{confidence}") title="How sure the catalog is">{confidence.clone()}</span>
                    })}
                    {live.then(|| view! { <span class="mark mark-live" title="In the environment's live spec">"live"</span> })}
                </span>
            </button>
        </li>
    }
}

/// Every catalog source with its status; live specs can be fetched again.
#[component]
pub fn CatalogSources(
    sources: Signal<Vec<CatalogSource>>,
    on_refresh: Callback<String>,
    refreshing: Signal<bool>,
) -> impl IntoView {
    view! {
        <details class="catalog-sources" data-testid="catalog-sources">
            <summary>
                {move || {
                    let all = sources.get();
                    let down = all.iter().filter(|s| !s.loaded).count();
                    if down == 0 {
                        format!("Sources: {} loaded", all.len())
                    } else {
                        format!("Sources: {} loaded, {down} unavailable", all.len() - down)
                    }
                }}
            </summary>
            <ul>
                {move || sources.get().into_iter().map(|source| {
                    let environment = source.environment.clone();
                    view! {
                        <li class="catalog-source" class:unavailable=!source.loaded data-testid=format!("source-{}", source.name)>
                            <span class="source-name">{source.name.clone()}</span>
                            <span class="source-state">{if source.loaded { "loaded" } else { "unavailable" }}</span>
                            <span class="source-detail">{source.detail.clone()}</span>
                            {environment.map(|env| {
                                let id = env.clone();
                                view! {
                                    <button
                                        class="small"
                                        data-testid=format!("refresh-spec-{env}")
                                        disabled=move || refreshing.get()
                                        on:click=move |_| on_refresh.run(id.clone())
                                    >
                                        "Refresh"
                                    </button>
                                }
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </details>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(id: &str, tag: &str, path: &str) -> Endpoint {
        Endpoint {
            id: id.into(),
            method: "GET".into(),
            path: path.into(),
            summary: format!("summary of {id}"),
            description: String::new(),
            tag: tag.into(),
            parameters: vec![],
            body_example: None,
            body_schema: None,
            needs_token: true,
            writes: false,
            source: String::new(),
            confidence: "high".into(),
            origin: "a55".into(),
            also_in: vec![],
        }
    }

    #[test]
    fn groups_keep_the_order_in_which_tags_first_appear() {
        let all = [
            endpoint("a", "Wallets", "/bank/wallet/"),
            endpoint("b", "Charges", "/bank/wallet/charge/"),
            endpoint("c", "Wallets", "/wallets"),
        ];
        let groups = group_by_tag(all.iter());
        let tags: Vec<_> = groups.iter().map(|(t, m)| (t.as_str(), m.len())).collect();
        assert_eq!(tags, vec![("Wallets", 2), ("Charges", 1)]);
    }

    #[test]
    fn the_filter_needs_every_word_and_ignores_case() {
        let e = endpoint("listCharges", "Charges", "/bank/wallet/charges/");
        assert!(matches_filter(&e, "CHARGES get"));
        assert!(!matches_filter(&e, "charges post"));
        assert!(matches_filter(&e, ""));
    }

    #[test]
    fn fuzzy_matching_is_a_subsequence_that_prefers_word_starts_and_runs() {
        assert!(fuzzy_score("lc", "listCharges").is_some());
        assert!(fuzzy_score("wlchg", "/bank/wallet/charges/").is_some());
        assert_eq!(fuzzy_score("xyz", "/bank/wallet/charges/"), None);
        let run = fuzzy_score("charge", "/bank/wallet/charges/").unwrap();
        let scattered = fuzzy_score("charge", "c/h/a/r/g/e").unwrap_or(i32::MIN);
        assert!(run > scattered, "{run} vs {scattered}");
        assert_eq!(fuzzy_score("payout", "the pay of your whole team"), None, "too thin a spread is no match");
    }

    #[test]
    fn ranking_puts_the_closest_endpoint_first() {
        let all = vec![
            endpoint("getWallet", "Wallets", "/bank/wallet/"),
            endpoint("listCharges", "Charges", "/bank/wallet/charges/"),
            endpoint("getCharge", "Charges", "/bank/wallet/charge/"),
            endpoint("listPayouts", "Payouts", "/bank/wallet/payout/"),
        ];
        let ids = |query: &str| rank(&all, query).into_iter().map(|e| e.id.as_str()).collect::<Vec<_>>();
        assert_eq!(ids("charges")[0], "listCharges");
        assert_eq!(ids("lsp"), vec!["listPayouts"]);
        assert_eq!(ids("payout"), vec!["listPayouts"]);
        assert_eq!(ids("get wallet")[0], "getWallet");
        assert!(ids("nothing-like-it").is_empty());
    }
}
