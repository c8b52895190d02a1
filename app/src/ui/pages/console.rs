//! The main screen: environment switcher and token badge on top, catalog left, request and response,
//! and the builder's tools (snippets, history, saved requests, curl import). The form lives in the
//! URL, so a link reopens it; the last environment and endpoint come back on the next visit.

mod confirm;
mod curl_import;
mod history;
mod response;
mod run;
mod saved;
mod snippets;
pub mod state;
mod tools;
mod topbar;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{get_catalog, get_preferences, list_environments, refresh_catalog};
use crate::ui::parts::catalog::{CatalogSources, EndpointList};
use crate::ui::parts::clock::provide_browser_clock;
use crate::ui::parts::demo::{demo_resource, DemoBanner};
use crate::ui::parts::request::RequestEditor;
use crate::wire::{Catalog, EnvironmentView, ExecuteRequest, Preferences};
use confirm::ConfirmWrite;
use response::ResponsePanel;
use run::{RunProblems, RunStatus, Runner};
use state::ConsoleState;
use tools::Tools;
use topbar::{ProductionBanner, TopBar};

#[component]
pub fn ConsolePage() -> impl IntoView {
    let environments = crate::codec::load(|| (), |_| list_environments());
    let catalog = crate::codec::load(|| (), |_| get_catalog());
    let preferences = crate::codec::load(|| (), |_| get_preferences());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading the console…"</p> }>
            {move || Suspend::new(async move {
                // Preferences are a convenience: without them the console starts as on a first visit.
                let preferences = preferences.await.unwrap_or_default();
                match (environments.await, catalog.await) {
                    (Ok(environments), Ok(catalog)) => view! { <Workbench environments catalog preferences /> }.into_any(),
                    (Err(error), _) | (_, Err(error)) => view! {
                        <p class="console-error" role="alert">{format!("The console could not load: {error}")}</p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Workbench(environments: Vec<EnvironmentView>, catalog: Catalog, preferences: Preferences) -> impl IntoView {
    let state = ConsoleState::new(environments, catalog, provide_browser_clock());
    state.start_from_address(preferences);
    state.mirror_in_address_bar();
    state.watch_token();
    let runner = Runner::new(state);
    let demo = demo_resource();
    let on_select = Callback::new(move |endpoint| state.select(endpoint));
    let on_run = Callback::new(move |()| runner.run());
    let on_confirm = Callback::new(move |request: ExecuteRequest| runner.dispatch(request));
    let env_label = Signal::derive(move || state.current_env().map(|e| e.label).unwrap_or_default());
    let title = move || if state.is_production() { "PRODUCTION · a55 console" } else { "a55 console" };
    let shown = state.shown;
    view! {
        <Title text=move || title().to_owned() />
        <TopBar state demo />
        <DemoBanner demo />
        <ProductionBanner state />
        <ConfirmWrite pending=runner.confirming environment_label=env_label on_confirm />
        <main class="workbench" data-hydrated=move || state.hydrated.get().to_string()>
            <CatalogColumn state on_select />
            <div class="work">
                <RequestEditor draft=state.draft on_run pending=runner.pending() />
                <RunStatus runner />
                <RunProblems runner />
                {move || state.shown_from.get().map(|note| view! { <p class="notice history-note" data-testid="history-note">{note}</p> })}
                <ResponsePanel result=Signal::derive(move || shown.get()) />
                <Tools state runner />
            </div>
        </main>
    }
}

/// The catalog on the left: the endpoint list, and where the catalog came from (with a refresh).
#[component]
fn CatalogColumn(state: ConsoleState, on_select: Callback<crate::wire::Endpoint>) -> impl IntoView {
    let catalog = state.catalog;
    let endpoints = Memo::new(move |_| catalog.with(|c| c.endpoints.clone()));
    let sources = Memo::new(move |_| catalog.with(|c| c.sources.clone()));
    let refreshing = RwSignal::new(false);
    let on_refresh = Callback::new(move |env: String| {
        refreshing.set(true);
        leptos::task::spawn_local(async move {
            if let Ok(fresh) = refresh_catalog(env).await {
                catalog.set(fresh);
            }
            refreshing.set(false);
        });
    });
    view! {
        <div class="catalog-column">
            <EndpointList endpoints=endpoints.into() selected=state.selected on_select />
            <CatalogSources sources=sources.into() on_refresh refreshing=refreshing.into() />
        </div>
    }
}
