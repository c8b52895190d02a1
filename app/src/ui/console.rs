//! The main screen: environment switcher and token badge on top, catalog left, request and response.

use leptos::ev;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{execute, get_catalog, list_environments, token_status, Execute};
use crate::ui::catalog::EndpointList;
use crate::ui::clock::provide_browser_clock;
use crate::ui::confirm::ConfirmWrite;
use crate::ui::request::{RequestDraft, RequestEditor};
use crate::ui::response::ResponsePanel;
use crate::ui::staff::StaffMenu;
use crate::ui::token_badge::{SyncedToken, TokenBadge};
use crate::wire::{Catalog, EnvironmentKind, EnvironmentView, ExecuteRequest, TokenView};

#[component]
pub fn ConsolePage() -> impl IntoView {
    let environments = Resource::new(|| (), |_| list_environments());
    let catalog = Resource::new(|| (), |_| get_catalog());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading the console…"</p> }>
            {move || Suspend::new(async move {
                match (environments.await, catalog.await) {
                    (Ok(environments), Ok(catalog)) => view! { <Workbench environments catalog /> }.into_any(),
                    (Err(error), _) | (_, Err(error)) => view! {
                        <p class="console-error" role="alert">{format!("The console could not load: {error}")}</p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Workbench(environments: Vec<EnvironmentView>, catalog: Catalog) -> impl IntoView {
    let clock = provide_browser_clock();
    // Tests (and people) can tell a live page from server-rendered HTML by this flag.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let first = environments.first().map(|e| e.id.clone()).unwrap_or_default();
    let environments = StoredValue::new(environments);
    let environment = RwSignal::new(first);
    let current_env = move || {
        let id = environment.get();
        environments.with_value(|all| all.iter().find(|e| e.id == id).cloned())
    };

    let endpoints = StoredValue::new(catalog.endpoints);
    let selected = RwSignal::new(None);
    let draft = RequestDraft::new();
    let on_select = Callback::new(move |endpoint: crate::wire::Endpoint| {
        draft.load(&endpoint);
        selected.set(Some(endpoint));
    });

    let token = RwSignal::new(None::<SyncedToken>);
    let sync_token = move |view: TokenView| {
        let received_at_ms = clock.0.get_untracked().unwrap_or(0.0);
        token.set(Some(SyncedToken { view, received_at_ms }));
    };
    // Re-read the metadata when the environment changes, and every 30 s so the badge never drifts.
    let resync = RwSignal::new(0u32);
    let token_meta = Resource::new(move || (environment.get(), resync.get()), |(env, _)| token_status(env));
    Effect::new(move |_| {
        if let Some(Ok(view)) = token_meta.get() {
            sync_token(view);
        }
    });
    Effect::new(move |_| {
        let _ = set_interval_with_handle(move || resync.update(|n| *n += 1), std::time::Duration::from_secs(30));
    });

    let run = ServerAction::<Execute>::new();
    let pending = run.pending();
    Effect::new(move |_| {
        if let Some(Ok(response)) = run.value().get() {
            if let Some(view) = response.token {
                sync_token(view);
            }
        }
    });
    // Writes to an environment that confirms them wait here until the id is typed (the server checks too).
    let confirming = RwSignal::new(None::<ExecuteRequest>);
    let on_run = Callback::new(move |()| {
        if run.pending().get_untracked() || confirming.get_untracked().is_some() {
            return;
        }
        let request = draft.to_request(environment.get_untracked());
        let is_write = !matches!(request.method.as_str(), "GET" | "HEAD" | "OPTIONS");
        if is_write && current_env().is_some_and(|e| e.guard.confirm_writes) {
            confirming.set(Some(request));
        } else {
            run.dispatch(Execute { request });
        }
    });
    let on_confirm = Callback::new(move |request: ExecuteRequest| {
        run.dispatch(Execute { request });
    });
    let is_production = move || current_env().is_some_and(|e| e.kind == EnvironmentKind::Production);
    let env_label = Signal::derive(move || current_env().map(|e| e.label).unwrap_or_default());
    let _ = window_event_listener(ev::keydown, move |event| {
        if (event.ctrl_key() || event.meta_key()) && event.key() == "Enter" {
            event.prevent_default();
            on_run.run(());
        }
    });
    let result = Signal::derive(move || run.value().get());
    // Keep the import used on both builds; the server function is called through `Execute`.
    let _ = execute;

    view! {
        <Title text=move || if is_production() { "PRODUCTION · a55 console".to_owned() } else { "a55 console".to_owned() } />
        <header class="topbar" class:production=is_production>
            <h1 class="brand">"a55 console"</h1>
            <label class="env-switcher">
                <span>"Environment"</span>
                <select
                    data-testid="env-select"
                    prop:value=move || environment.get()
                    on:change=move |ev| environment.set(event_target_value(&ev))
                >
                    {environments.get_value().into_iter().map(|env| {
                        view! { <option value=env.id.clone()>{format!("{} ({})", env.label, env.kind.as_str())}</option> }
                    }).collect_view()}
                </select>
            </label>
            {move || current_env().map(|env| view! {
                <span class=format!("env-kind kind-{}", env.kind.as_str()) style=format!("--env-colour: {}", env.colour) data-testid="env-kind">
                    {env.kind.as_str().to_uppercase()}
                </span>
                <span class="env-base" title="API base">{env.api_base}</span>
            })}
            <TokenBadge token />
            <StaffMenu />
        </header>
        {move || is_production().then(|| view! {
            <div class="production-banner" role="note" data-testid="production-banner">
                "PRODUCTION: requests act on real accounts. Writes need the environment id typed to confirm."
            </div>
        })}
        <ConfirmWrite pending=confirming environment_label=env_label on_confirm />
        <main class="workbench" data-hydrated=move || hydrated.get().to_string()>
            <EndpointList endpoints selected on_select />
            <div class="work">
                <RequestEditor draft on_run pending=pending.into() />
                <ResponsePanel result />
            </div>
        </main>
    }
}
