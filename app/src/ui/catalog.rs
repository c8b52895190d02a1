//! The endpoint list: operations from the catalog grouped by tag, with a quick text filter.

use leptos::prelude::*;

use crate::wire::Endpoint;

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

/// True when every word of the filter appears in the path, summary, id or method.
pub fn matches_filter(endpoint: &Endpoint, filter: &str) -> bool {
    let haystack = format!("{} {} {} {}", endpoint.method, endpoint.path, endpoint.summary, endpoint.id).to_lowercase();
    filter.split_whitespace().all(|word| haystack.contains(&word.to_lowercase()))
}

pub fn method_class(method: &str) -> String {
    format!("method method-{}", method.to_lowercase())
}

#[component]
pub fn EndpointList(
    endpoints: StoredValue<Vec<Endpoint>>,
    selected: RwSignal<Option<Endpoint>>,
    on_select: Callback<Endpoint>,
) -> impl IntoView {
    let filter = RwSignal::new(String::new());
    let groups = Memo::new(move |_| {
        let text = filter.get();
        endpoints.with_value(|all| group_by_tag(all.iter().filter(|e| matches_filter(e, &text))))
    });
    view! {
        <nav class="catalog" aria-label="Endpoints">
            <input
                class="catalog-filter"
                type="search"
                placeholder="Filter endpoints"
                data-testid="catalog-filter"
                prop:value=move || filter.get()
                on:input=move |ev| filter.set(event_target_value(&ev))
            />
            {move || {
                groups
                    .get()
                    .into_iter()
                    .map(|(tag, members)| {
                        view! {
                            <section class="catalog-group">
                                <h3>{tag}</h3>
                                <ul>
                                    {members
                                        .into_iter()
                                        .map(|endpoint| {
                                            let id = endpoint.id.clone();
                                            let is_selected = {
                                                let id = id.clone();
                                                move || selected.with(|s| s.as_ref().is_some_and(|s| s.id == id))
                                            };
                                            let chosen = endpoint.clone();
                                            view! {
                                                <li>
                                                    <button
                                                        class="endpoint"
                                                        class:selected=is_selected
                                                        data-testid=format!("endpoint-{id}")
                                                        title=endpoint.description.clone()
                                                        on:click=move |_| on_select.run(chosen.clone())
                                                    >
                                                        <span class=method_class(&endpoint.method)>{endpoint.method.clone()}</span>
                                                        <span class="endpoint-path">{endpoint.path.clone()}</span>
                                                        <span class="endpoint-summary">{endpoint.summary.clone()}</span>
                                                    </button>
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            </section>
                        }
                    })
                    .collect_view()
            }}
        </nav>
    }
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
}
