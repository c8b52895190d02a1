//! The main screen: environment switcher and token badge on top, catalog left, request and response,
//! and the builder's tools (snippets, history, saved requests, curl import). The form lives in the
//! URL, so a link reopens it; the last environment and endpoint come back on the next visit.

use leptos::ev;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::{
    get_catalog, get_preferences, get_token_status, list_environments, refresh_catalog, run_request, RunRequest,
};
use crate::ui::catalog::{CatalogSources, EndpointList};
use crate::ui::clock::{provide_browser_clock, repeat_while_mounted, window_listener_while_mounted};
use crate::ui::confirm::ConfirmWrite;
use crate::ui::curl_import::CurlImportPanel;
use crate::ui::demo::{demo_resource, DemoBanner, DemoToggle};
use crate::ui::history::HistoryPanel;
use crate::ui::link;
use crate::ui::request::{RequestDraft, RequestEditor};
use crate::ui::response::ResponsePanel;
use crate::ui::saved::SavedPanel;
use crate::ui::snippets::SnippetsPanel;
use crate::ui::staff::StaffMenu;
use crate::ui::token_badge::{SyncedToken, TokenBadge};
use crate::wire::{
    Catalog, ConsoleError, CurlImport, Endpoint, EnvironmentKind, EnvironmentView, ExecuteRequest, ExecuteResponse,
    HistoryDetail, Preferences, TokenView,
};

#[component]
pub fn ConsolePage() -> impl IntoView {
    let environments = Resource::new(|| (), |_| list_environments());
    let catalog = Resource::new(|| (), |_| get_catalog());
    let preferences = Resource::new(|| (), |_| get_preferences());
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

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tool {
    Snippets,
    History,
    Saved,
    Curl,
}

impl Tool {
    const ALL: [Self; 4] = [Self::History, Self::Saved, Self::Snippets, Self::Curl];

    fn label(self) -> &'static str {
        match self {
            Self::Snippets => "Snippets",
            Self::History => "History",
            Self::Saved => "Saved",
            Self::Curl => "Import curl",
        }
    }

    fn id(self) -> &'static str {
        match self {
            Self::Snippets => "snippets",
            Self::History => "history",
            Self::Saved => "saved",
            Self::Curl => "curl",
        }
    }
}

/// The endpoint a first visit starts on: listing wallets (a read that needs no parameter), else
/// listing charges, else the first read-only operation of the catalog.
fn first_screen_endpoint(endpoints: &[Endpoint]) -> Option<Endpoint> {
    let by_id = |id: &str| endpoints.iter().find(|e| e.id == id && e.method.eq_ignore_ascii_case("GET"));
    by_id("listWallets")
        .or_else(|| by_id("listCharges"))
        .or_else(|| endpoints.iter().find(|e| e.method.eq_ignore_ascii_case("GET")))
        .cloned()
}

#[component]
fn Workbench(environments: Vec<EnvironmentView>, catalog: Catalog, preferences: Preferences) -> impl IntoView {
    let clock = provide_browser_clock();
    // Tests (and people) can tell a live page from server-rendered HTML by this flag.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let first = environments.first().map(|e| e.id.clone()).unwrap_or_default();
    let environments = StoredValue::new(environments);
    let environment = RwSignal::new(first);
    let known_environment = move |id: &str| environments.with_value(|all| all.iter().any(|e| e.id == id));
    let current_env = move || {
        let id = environment.get();
        environments.with_value(|all| all.iter().find(|e| e.id == id).cloned())
    };

    let catalog = RwSignal::new(catalog);
    let endpoints = Memo::new(move |_| catalog.with(|c| c.endpoints.clone()));
    let sources = Memo::new(move |_| catalog.with(|c| c.sources.clone()));
    let find_endpoint = move |id: &str| catalog.with_untracked(|c| c.endpoints.iter().find(|e| e.id == id).cloned());
    let selected = RwSignal::new(None::<Endpoint>);
    let draft = RequestDraft::new();
    let on_select = Callback::new(move |endpoint: Endpoint| {
        draft.load(&endpoint);
        selected.set(Some(endpoint));
    });
    // Puts a whole request into the form (link, curl import, history, saved); never sends it.
    let open_request = move |request: &ExecuteRequest| {
        if known_environment(&request.environment) {
            environment.set(request.environment.clone());
        }
        let endpoint = request.endpoint_id.as_deref().and_then(find_endpoint);
        draft.apply(request, endpoint.as_ref());
        selected.set(endpoint);
    };

    // A link wins (even one naming only an environment); a bare address restores the environment
    // and endpoint this staff member used last, except that a visit never starts on production.
    let (link_environment, link_request) = use_query_map()
        .with_untracked(|query| (query.get("env"), link::from_query(query.into_iter().map(|(k, v)| (k.as_ref(), v)))));
    match (link_environment, link_request) {
        (_, Some(request)) => open_request(&request),
        (Some(env), None) => {
            if known_environment(&env) {
                environment.set(env);
            }
        }
        (None, None) => {
            let restorable = |id: &String| {
                environments.with_value(|all| {
                    all.iter().any(|e| e.id == *id && e.kind != crate::wire::EnvironmentKind::Production)
                })
            };
            if let Some(env) = preferences.last_environment.filter(restorable) {
                environment.set(env);
            }
            // A first visit starts on a safe read that answers at once, ready to run.
            let first_visit = || catalog.with_untracked(|c| first_screen_endpoint(&c.endpoints));
            if let Some(endpoint) = preferences.last_endpoint.as_deref().and_then(find_endpoint).or_else(first_visit) {
                on_select.run(endpoint);
            }
        }
    }
    // Keep the address bar in step with the form, so copying it shares the request.
    Effect::new(move |_| {
        let request = draft.tracked_request(environment.get());
        let url = if request.path.is_empty() {
            format!("?env={}", link::encode_component(&request.environment))
        } else {
            format!("?{}", link::to_query(&request))
        };
        if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
        }
    });

    let token = RwSignal::new(None::<SyncedToken>);
    let sync_token = move |view: TokenView| {
        let received_at_ms = clock.0.get_untracked().unwrap_or(0.0);
        token.set(Some(SyncedToken { view, received_at_ms }));
    };
    // Re-read the metadata when the environment changes, and every 30 s so the badge never drifts.
    let resync = RwSignal::new(0u32);
    let token_meta = Resource::new(move || (environment.get(), resync.get()), |(env, _)| get_token_status(env));
    Effect::new(move |_| {
        if let Some(Ok(view)) = token_meta.get() {
            sync_token(view);
        }
    });
    repeat_while_mounted(std::time::Duration::from_secs(30), move || resync.update(|n| *n += 1));

    let run = ServerAction::<RunRequest>::new();
    let pending = run.pending();
    // What the response panel shows: the last run, or a run opened from history.
    let shown = RwSignal::new(None::<Result<ExecuteResponse, ConsoleError>>);
    let shown_from = RwSignal::new(None::<String>);
    let history_version = RwSignal::new(0u32);
    Effect::new(move |_| {
        let value = run.value().get();
        if let Some(Ok(response)) = &value {
            if let Some(view) = response.token.clone() {
                sync_token(view);
            }
        }
        if value.is_some() {
            shown.set(value);
            shown_from.set(None);
            history_version.update(|v| *v += 1);
        }
    });
    let blocked = RwSignal::new(Vec::<String>::new());
    // Writes to an environment that confirms them wait here until the id is typed (the server checks too).
    let confirming = RwSignal::new(None::<ExecuteRequest>);
    let send = move || {
        blocked.set(Vec::new());
        let request = draft.to_request(environment.get_untracked());
        let is_write = !matches!(request.method.as_str(), "GET" | "HEAD" | "OPTIONS");
        if is_write && current_env().is_some_and(|e| e.guard.confirm_writes) {
            confirming.set(Some(request));
        } else {
            run.dispatch(RunRequest { request });
        }
    };
    let on_run = Callback::new(move |()| {
        if run.pending().get_untracked() || confirming.get_untracked().is_some() {
            return;
        }
        // Values the API will refuse are shown first; staff may still send them on purpose.
        let problems = draft.problems();
        if problems.is_empty() {
            send();
        } else {
            blocked.set(problems);
        }
    });
    let on_confirm = Callback::new(move |request: ExecuteRequest| {
        run.dispatch(RunRequest { request });
    });
    let is_production = move || current_env().is_some_and(|e| e.kind == EnvironmentKind::Production);
    let env_label = Signal::derive(move || current_env().map(|e| e.label).unwrap_or_default());
    window_listener_while_mounted(ev::keydown, move |event| {
        if (event.ctrl_key() || event.meta_key()) && event.key() == "Enter" {
            event.prevent_default();
            on_run.run(());
        }
    });
    let result = Signal::derive(move || shown.get());
    // Keep the import used on both builds; the server function is called through `RunRequest`.
    let _ = run_request;

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

    let demo = demo_resource();
    let tool = RwSignal::new(Tool::History);
    let current_request = Signal::derive(move || draft.tracked_request(environment.get()));
    let on_import = Callback::new(move |import: CurlImport| open_request(&import.request));
    let on_history_open = Callback::new(move |detail: HistoryDetail| {
        open_request(&detail.request);
        shown_from.set(Some(format!("Run #{} from history: nothing was sent now.", detail.entry.id)));
        shown.set(Some(match (detail.response, detail.entry.error) {
            (Some(response), _) => Ok(response),
            (None, error) => Err(ConsoleError::Internal(error.unwrap_or_else(|| "no response was recorded".into()))),
        }));
    });
    let on_history_rerun = Callback::new(move |detail: HistoryDetail| {
        open_request(&detail.request);
        on_run.run(());
    });
    let on_saved_open = Callback::new(move |request: ExecuteRequest| open_request(&request));

    let tools = view! {
    <section class="tools" aria-label="Tools">
        <div class="tabs" role="tablist">
            {Tool::ALL.into_iter().map(|t| view! {
                <button
                    role="tab"
                    class="tab"
                    class:active=move || tool.get() == t
                    data-testid=format!("tool-{}", t.id())
                    on:click=move |_| tool.set(t)
                >
                    {t.label()}
                </button>
            }).collect_view()}
        </div>
        // The panels load their data in the browser (local resources); rendering them on the server
        // would hold the page's suspense open forever.
        {move || if !hydrated.get() {
            view! { <p class="hint">"Loading…"</p> }.into_any()
        } else { match tool.get() {
            Tool::Snippets => view! { <SnippetsPanel request=current_request /> }.into_any(),
            Tool::History => view! { <HistoryPanel version=history_version.into() on_open=on_history_open on_rerun=on_history_rerun /> }.into_any(),
            Tool::Saved => view! { <SavedPanel current=current_request on_open=on_saved_open /> }.into_any(),
            Tool::Curl => view! { <CurlImportPanel on_import /> }.into_any(),
        }}}
    </section>
    }
    .into_any();

    view! {
        <Title text=move || if is_production() { "PRODUCTION · a55 console".to_owned() } else { "a55 console".to_owned() } />
        <header class="topbar" class:production=is_production>
            <h1 class="brand">"a55 console"</h1>
            <nav class="nav-links">
                <a href="/compare" data-testid="nav-compare" title="Send one request to two environments and diff the answers">"Compare"</a>
            </nav>
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
            <DemoToggle demo />
            <StaffMenu />
        </header>
        <DemoBanner demo />
        {move || is_production().then(|| view! {
            <div class="production-banner" role="note" data-testid="production-banner">
                "PRODUCTION: requests act on real accounts. Writes need the environment id typed to confirm."
            </div>
        })}
        <ConfirmWrite pending=confirming environment_label=env_label on_confirm />
        <main class="workbench" data-hydrated=move || hydrated.get().to_string()>
            <div class="catalog-column">
                <EndpointList endpoints=endpoints.into() selected on_select />
                <CatalogSources sources=sources.into() on_refresh refreshing=refreshing.into() />
            </div>
            <div class="work">
                <RequestEditor draft on_run pending=pending.into() />
                {move || {
                    let problems = blocked.get();
                    (!problems.is_empty()).then(|| view! {
                        <div class="run-problems" role="alert" data-testid="run-problems">
                            <p>"The API will probably refuse this request:"</p>
                            <ul>{problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
                            <button class="small" data-testid="send-anyway" on:click=move |_| send()>"Send anyway"</button>
                            <button class="small" data-testid="send-cancel" on:click=move |_| blocked.set(Vec::new())>"Fix it first"</button>
                        </div>
                    })
                }}
                {move || shown_from.get().map(|note| view! { <p class="notice history-note" data-testid="history-note">{note}</p> })}
                <ResponsePanel result />
                {tools}
            </div>
        </main>
    }
}
