//! The Compare page (`/compare`): one request, two environments, the diff of the answers.
//!
//! The form is the console's request editor (shared parameters) plus per-side overrides; the diff
//! is computed on the server and shown by `compare/result.rs`. The page lives in its URL, so a link
//! reopens the same compare (nothing is sent until Run).

mod form;
pub mod link;
mod options;
pub mod result;
mod state;
mod suite;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{get_catalog, list_environments, list_saved_requests};
use crate::ui::parts::catalog::EndpointList;
use crate::ui::parts::request::RequestEditor;
use crate::ui::parts::staff::StaffMenu;
use crate::wire::{Catalog, Endpoint, EnvironmentView};
use form::{EnvironmentPickers, PerSideOverrides};
use options::DiffOptionsPanel;
use result::CompareResultView;
use state::CompareState;
use suite::AddToSuitePanel;

#[component]
pub fn ComparePage() -> impl IntoView {
    let environments = crate::codec::load(|| (), |_| list_environments());
    let catalog = crate::codec::load(|| (), |_| get_catalog());
    view! {
        <Title text="Compare · a55 console" />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match (environments.await, catalog.await) {
                    (Ok(environments), Ok(catalog)) => view! { <CompareWorkbench environments catalog /> }.into_any(),
                    (Err(error), _) | (_, Err(error)) => view! {
                        <p class="console-error" role="alert">{format!("The compare page could not load: {error}")}</p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn CompareWorkbench(environments: Vec<EnvironmentView>, catalog: Catalog) -> impl IntoView {
    let state = CompareState::new(environments, catalog);
    state.start_from_address();
    state.mirror_in_address_bar();
    let on_run = Callback::new(move |()| state.run());
    let (error, rediffing, from_history, result) = (state.error, state.rediffing, state.from_history, state.result);
    view! {
        <header class="topbar">
            <h1 class="brand">"a55 console"</h1>
            <nav class="nav-links">
                <a href="/" data-testid="nav-console">"Console"</a>
                <a href="/compare" class="active" data-testid="nav-compare">"Compare"</a>
                <a href="/parity" data-testid="nav-parity">"Parity"</a>
            </nav>
            <StaffMenu />
        </header>
        <main class="compare-page" data-hydrated=move || state.hydrated.get().to_string()>
            <CompareCatalogColumn state />
            <div class="work">
                <EnvironmentPickers state />
                <RequestEditor draft=state.draft on_run pending=state.pending.into() />
                <PerSideOverrides state />
                <DiffOptionsPanel state />
                <AddToSuitePanel state />
                {move || error.get().map(|e| view! { <p class="console-error" role="alert" data-testid="compare-error">{e}</p> })}
                {move || rediffing.get().then(|| view! { <p class="hint">"Diffing again…"</p> })}
                {move || from_history.get().map(|id| view! {
                    <p class="notice history-note" data-testid="compare-history-note">{format!("Compare #{id} from history: nothing was sent now.")}</p>
                })}
                {move || result.get().map(|r| view! { <CompareResultView result=r /> })}
            </div>
        </main>
    }
    .into_any()
}

/// The endpoint list, and a picker that opens a saved request (loaded once the page is live).
#[component]
fn CompareCatalogColumn(state: CompareState) -> impl IntoView {
    let hydrated = state.hydrated;
    let saved = LocalResource::new(move || {
        hydrated.track();
        async move {
            if hydrated.get_untracked() {
                list_saved_requests().await.unwrap_or_default()
            } else {
                Vec::new()
            }
        }
    });
    let on_select = Callback::new(move |endpoint: Endpoint| state.select(endpoint));
    let open_saved = move |id: i64| {
        if let Some(entry) = saved.get().and_then(|list| list.into_iter().find(|s| s.id == id)) {
            state.open_request(&entry.request);
            if let Some(endpoint) = entry.request.endpoint_id.clone() {
                state.load_settings(endpoint, false);
            }
        }
    };
    view! {
        <div class="catalog-column">
            <EndpointList endpoints=Signal::derive(move || state.endpoints()) selected=state.selected on_select />
            <div class="compare-saved">
                <label>
                    <span>"Saved request"</span>
                    <select data-testid="compare-saved" on:change=move |ev| open_saved(event_target_value(&ev).parse().unwrap_or(-1))>
                        <option value="">"— open a saved request —"</option>
                        {move || saved.get().unwrap_or_default().into_iter().map(|s| view! {
                            <option value=s.id.to_string()>{format!("{} / {}", s.collection, s.name)}</option>
                        }).collect_view()}
                    </select>
                </label>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::state::{default_pair, parse_rules};
    use crate::wire::{EnvironmentKind, EnvironmentView, GuardView};

    fn env(id: &str, kind: EnvironmentKind) -> EnvironmentView {
        EnvironmentView {
            id: id.into(),
            label: id.into(),
            kind,
            colour: String::new(),
            api_base: String::new(),
            guard: GuardView::default(),
        }
    }

    #[test]
    fn the_default_pair_is_a_sandbox_against_production_when_both_exist() {
        let all = vec![
            env("simulator", EnvironmentKind::Simulator),
            env("sandbox", EnvironmentKind::Sandbox),
            env("production", EnvironmentKind::Production),
        ];
        assert_eq!(default_pair(&all), ("sandbox".into(), "production".into()));
        let sim = vec![
            env("simulator", EnvironmentKind::Simulator),
            env("simulator-production", EnvironmentKind::Production),
        ];
        assert_eq!(default_pair(&sim), ("simulator".into(), "simulator-production".into()));
        let two = vec![env("a", EnvironmentKind::Sandbox), env("b", EnvironmentKind::Sandbox)];
        assert_eq!(default_pair(&two), ("a".into(), "b".into()));
        let one = vec![env("a", EnvironmentKind::Sandbox)];
        assert_eq!(default_pair(&one), ("a".into(), "a".into()));
    }

    #[test]
    fn ignore_rules_are_one_per_line_without_blanks() {
        assert_eq!(parse_rules("$..id\n\n  $.a \n"), vec!["$..id".to_owned(), "$.a".to_owned()]);
    }
}
