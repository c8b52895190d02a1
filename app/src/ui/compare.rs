//! The Compare page (`/compare`): one request, two environments, the diff of the answers.
//!
//! The form is the console's request editor (shared parameters) plus per-side overrides; the diff
//! is computed on the server and shown by `compare_view.rs`. The page lives in its URL, so a link
//! reopens the same compare (nothing is sent until Run).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::{
    get_catalog, get_compare_settings, get_history_entry, list_environments, list_saved_requests, rediff_compare,
    run_compare,
};
use crate::ui::catalog::EndpointList;
use crate::ui::compare_link::{self, CompareLink, Override};
use crate::ui::compare_view::CompareResultView;
use crate::ui::request::{RequestDraft, RequestEditor};
use crate::ui::staff::StaffMenu;
use crate::wire::{
    compare_endpoint_key, Catalog, CompareRequest, CompareResult, DiffOptions, Endpoint, EnvironmentKind,
    EnvironmentView, ExecuteRequest, ParamLocation, RediffRequest, DEFAULT_IGNORE_RULES,
};

#[component]
pub fn ComparePage() -> impl IntoView {
    let environments = Resource::new(|| (), |_| list_environments());
    let catalog = Resource::new(|| (), |_| get_catalog());
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

/// The default pair: a sandbox-like environment against a production one when both exist.
fn default_pair(environments: &[EnvironmentView]) -> (String, String) {
    let first = |kind: EnvironmentKind| environments.iter().find(|e| e.kind == kind).map(|e| e.id.clone());
    let safe = first(EnvironmentKind::Sandbox).or_else(|| first(EnvironmentKind::Simulator));
    let production = first(EnvironmentKind::Production);
    let any = |skip: Option<&String>| environments.iter().map(|e| e.id.clone()).find(|id| Some(id) != skip);
    let left = safe.or_else(|| any(None)).unwrap_or_default();
    let right = production.filter(|p| *p != left).or_else(|| any(Some(&left))).unwrap_or_else(|| left.clone());
    (left, right)
}

fn is_write(method: &str) -> bool {
    !matches!(method.trim().to_ascii_uppercase().as_str(), "GET" | "HEAD" | "OPTIONS")
}

fn parse_rules(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

#[component]
fn CompareWorkbench(environments: Vec<EnvironmentView>, catalog: Catalog) -> impl IntoView {
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let (default_left, default_right) = default_pair(&environments);
    let environments = StoredValue::new(environments);
    let known = move |id: &str| environments.with_value(|all| all.iter().any(|e| e.id == id));
    let env_view = move |id: &str| environments.with_value(|all| all.iter().find(|e| e.id == id).cloned());
    let left_env = RwSignal::new(default_left);
    let right_env = RwSignal::new(default_right);

    let catalog = StoredValue::new(catalog);
    let endpoints = Signal::derive(move || catalog.with_value(|c| c.endpoints.clone()));
    let find_endpoint = move |id: &str| catalog.with_value(|c| c.endpoints.iter().find(|e| e.id == id).cloned());
    let selected = RwSignal::new(None::<Endpoint>);
    let draft = RequestDraft::new();

    // Per-side overrides of shared parameters, keyed by location and name.
    let left_overrides = RwSignal::new(Vec::<Override>::new());
    let right_overrides = RwSignal::new(Vec::<Override>::new());
    let left_confirm = RwSignal::new(String::new());
    let right_confirm = RwSignal::new(String::new());

    let shape_only = RwSignal::new(false);
    let array_key = RwSignal::new(String::new());
    let rules_text = RwSignal::new(DEFAULT_IGNORE_RULES.join("\n"));
    let settings_note = RwSignal::new(None::<String>);
    let options = move || DiffOptions {
        shape_only: shape_only.get_untracked(),
        array_key: Some(array_key.get_untracked().trim().to_owned()).filter(|k| !k.is_empty()),
        ignore: parse_rules(&rules_text.get_untracked()),
    };
    let load_settings = move |endpoint: String, keep_link_options: bool| {
        leptos::task::spawn_local(async move {
            if let Ok(settings) = get_compare_settings(endpoint).await {
                rules_text.set(settings.options.ignore.join("\n"));
                if !keep_link_options {
                    shape_only.set(settings.options.shape_only);
                    array_key.set(settings.options.array_key.unwrap_or_default());
                }
                settings_note.set(Some(if settings.remembered {
                    "Options remembered from your last compare of this endpoint.".to_owned()
                } else {
                    "Default ignore rules: ids, timestamps and request ids.".to_owned()
                }));
            }
        });
    };

    let result = RwSignal::new(None::<CompareResult>);
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let from_history = RwSignal::new(None::<i64>);

    let on_select = Callback::new(move |endpoint: Endpoint| {
        draft.load(&endpoint);
        left_overrides.set(Vec::new());
        right_overrides.set(Vec::new());
        if hydrated.get_untracked() {
            load_settings(endpoint.id.clone(), false);
        }
        selected.set(Some(endpoint));
    });
    let open_request = move |request: &ExecuteRequest| {
        let endpoint = request.endpoint_id.as_deref().and_then(find_endpoint);
        draft.apply(request, endpoint.as_ref());
        selected.set(endpoint);
    };

    // A link (or a history entry) fills the form; a bare visit starts empty on the default pair.
    let link = use_query_map()
        .with_untracked(|query| compare_link::from_query(query.into_iter().map(|(k, v)| (k.as_ref(), v))));
    if let Some(left) = link.left.clone().filter(|id| known(id)) {
        left_env.set(left);
    }
    if let Some(right) = link.right.clone().filter(|id| known(id)) {
        right_env.set(right);
    }
    if let Some(request) = &link.request {
        open_request(request);
    }
    left_overrides.set(link.left_overrides.clone());
    right_overrides.set(link.right_overrides.clone());
    shape_only.set(link.shape_only);
    array_key.set(link.array_key.clone().unwrap_or_default());
    let link_endpoint = link.request.as_ref().map(compare_endpoint_key);
    let history_id = link.history;
    Effect::new(move |_| {
        // Browser only: remembered options for the linked endpoint, or the history entry.
        if let Some(endpoint) = link_endpoint.clone() {
            load_settings(endpoint, true);
        }
        if let Some(id) = history_id {
            leptos::task::spawn_local(async move {
                match get_history_entry(id).await {
                    Ok(detail) => match detail.compare {
                        Some(stored) => {
                            open_request(&detail.request);
                            left_env.set(stored.left.environment.clone());
                            right_env.set(stored.right.environment.clone());
                            shape_only.set(stored.options.shape_only);
                            array_key.set(stored.options.array_key.clone().unwrap_or_default());
                            rules_text.set(stored.options.ignore.join("\n"));
                            from_history.set(Some(id));
                            result.set(Some(stored));
                        }
                        None => error.set(Some(format!("history entry {id} is not a compare"))),
                    },
                    Err(e) => error.set(Some(e.to_string())),
                }
            });
        }
    });

    // The address bar follows the form, so copying it shares the compare.
    Effect::new(move |_| {
        let request = draft.tracked_request(String::new());
        let compare = CompareLink {
            left: Some(left_env.get()),
            right: Some(right_env.get()),
            request: Some(request),
            left_overrides: left_overrides.get(),
            right_overrides: right_overrides.get(),
            array_key: Some(array_key.get()),
            shape_only: shape_only.get(),
            history: None,
        };
        let url = format!("?{}", compare_link::to_query(&compare));
        if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
        }
    });

    let needs_confirm =
        move |env: &str| is_write(&draft.method.get()) && env_view(env).is_some_and(|e| e.guard.confirm_writes);
    let on_run = Callback::new(move |()| {
        if pending.get_untracked() {
            return;
        }
        let shared = draft.to_request(String::new());
        if shared.path.trim().is_empty() {
            error.set(Some("Pick an endpoint (or type a path) first.".to_owned()));
            return;
        }
        let (left_id, right_id) = (left_env.get_untracked(), right_env.get_untracked());
        let mut left = compare_link::side_request(&shared, &left_id, &left_overrides.get_untracked());
        let mut right = compare_link::side_request(&shared, &right_id, &right_overrides.get_untracked());
        let typed = |s: RwSignal<String>| Some(s.get_untracked().trim().to_owned()).filter(|t| !t.is_empty());
        left.confirm = typed(left_confirm);
        right.confirm = typed(right_confirm);
        let request = CompareRequest { left, right, options: options() };
        pending.set(true);
        error.set(None);
        from_history.set(None);
        leptos::task::spawn_local(async move {
            match run_compare(request).await {
                Ok(answer) => {
                    result.set(Some(answer));
                    left_confirm.set(String::new());
                    right_confirm.set(String::new());
                    settings_note.set(Some("Options remembered for this endpoint.".to_owned()));
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            pending.set(false);
        });
    });
    // New options re-diff the answers already on the server; nothing is sent again.
    let rediffing = RwSignal::new(false);
    let apply_options = move || {
        let Some(current) = result.get_untracked() else { return };
        if from_history.get_untracked().is_some() {
            return;
        }
        let shared = draft.to_request(String::new());
        let request = RediffRequest {
            left: current.left.clone(),
            right: current.right.clone(),
            options: options(),
            endpoint: compare_endpoint_key(&shared),
            method: shared.method.clone(),
            path: shared.path.clone(),
        };
        rediffing.set(true);
        leptos::task::spawn_local(async move {
            match rediff_compare(request).await {
                Ok(answer) => {
                    error.set(None);
                    result.set(Some(answer));
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            rediffing.set(false);
        });
    };

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

    let env_options = move || {
        environments
            .get_value()
            .into_iter()
            .map(|env| {
                view! { <option value=env.id.clone()>{format!("{} ({})", env.label, env.kind.as_str())}</option> }
            })
            .collect_view()
    };
    let env_picker = move |side: &'static str, signal: RwSignal<String>| {
        view! {
            <label class="compare-env">
                <span>{if side == "left" { "Left" } else { "Right" }}</span>
                <select
                    data-testid=format!("compare-{side}-env")
                    prop:value=move || signal.get()
                    on:change=move |ev| signal.set(event_target_value(&ev))
                >
                    {env_options()}
                </select>
                {move || env_view(&signal.get()).map(|env| view! {
                    <span class=format!("env-kind kind-{}", env.kind.as_str()) style=format!("--env-colour: {}", env.colour)>
                        {env.kind.as_str().to_uppercase()}
                    </span>
                })}
            </label>
        }
    };
    let confirm_box = move |side: &'static str, env: RwSignal<String>, typed: RwSignal<String>| {
        view! {
            {move || needs_confirm(&env.get()).then(|| {
                let id = env.get();
                view! {
                    <label class="compare-confirm" data-testid=format!("compare-{side}-confirm-box")>
                        {format!("{id} confirms writes: type ")} <code>{id.clone()}</code> " to send this write there"
                        <input
                            data-testid=format!("compare-{side}-confirm")
                            prop:value=move || typed.get()
                            on:input=move |ev| typed.set(event_target_value(&ev))
                        />
                    </label>
                }
            })}
        }
    };

    // Overrides: one row per parameter of the form, an input per side (empty = shared value).
    let override_value = move |list: RwSignal<Vec<Override>>, location: ParamLocation, name: String| {
        list.with(|all| all.iter().find(|o| o.location == location && o.name == name).map(|o| o.value.clone()))
            .unwrap_or_default()
    };
    let set_override = move |list: RwSignal<Vec<Override>>, location: ParamLocation, name: String, value: String| {
        list.update(|all| {
            all.retain(|o| !(o.location == location && o.name == name));
            if !value.is_empty() {
                all.push(Override { location, name, value });
            }
        });
    };
    let overrides = move || {
        let fields = draft.fields.get();
        if fields.is_empty() {
            return view! { <p class="hint">"No parameters: both sides send the same request."</p> }.into_any();
        }
        view! {
            <table class="compare-overrides" data-testid="compare-overrides">
                <thead><tr><th>"Parameter"</th><th>"Shared value"</th><th>"Left override"</th><th>"Right override"</th></tr></thead>
                <tbody>
                    {fields.into_iter().map(|field| {
                        let param = field.param.get_value();
                        let (location, name) = (param.location, param.name.clone());
                        let loc = match location { ParamLocation::Path => "path", ParamLocation::Query => "query", ParamLocation::Header => "header" };
                        let (n1, n2, n3, n4) = (name.clone(), name.clone(), name.clone(), name.clone());
                        view! {
                            <tr>
                                <td><code>{name.clone()}</code>" "<span class="hint">{loc}</span></td>
                                <td class="shared">{move || field.value.get()}</td>
                                <td><input
                                    data-testid=format!("override-left-{name}")
                                    placeholder="shared"
                                    prop:value=move || override_value(left_overrides, location, n1.clone())
                                    on:change=move |ev| set_override(left_overrides, location, n2.clone(), event_target_value(&ev))
                                /></td>
                                <td><input
                                    data-testid=format!("override-right-{name}")
                                    placeholder="shared"
                                    prop:value=move || override_value(right_overrides, location, n3.clone())
                                    on:change=move |ev| set_override(right_overrides, location, n4.clone(), event_target_value(&ev))
                                /></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        }.into_any()
    };

    // Sections are type-erased one by one: the whole page as one view type is too deep for rustc.
    let catalog_column = view! {
            <div class="catalog-column">
                <EndpointList endpoints selected on_select />
                <div class="compare-saved">
                    <label>
                        <span>"Saved request"</span>
                        <select data-testid="compare-saved" on:change=move |ev| {
                            let id: i64 = event_target_value(&ev).parse().unwrap_or(-1);
                            if let Some(entry) = saved.get().and_then(|list| list.into_iter().find(|s| s.id == id)) {
                                open_request(&entry.request);
                                if let Some(endpoint) = entry.request.endpoint_id.clone() { load_settings(endpoint, false); }
                            }
                        }>
                            <option value="">"— open a saved request —"</option>
                            {move || saved.get().unwrap_or_default().into_iter().map(|s| view! {
                                <option value=s.id.to_string()>{format!("{} / {}", s.collection, s.name)}</option>
                            }).collect_view()}
                        </select>
                    </label>
                </div>
            </div>
    }
    .into_any();
    let setup = view! {
                <section class="compare-setup" aria-label="Environments">
                    {env_picker("left", left_env)}
                    <button class="small" data-testid="compare-swap" title="Swap sides" on:click=move |_| {
                        let (l, r) = (left_env.get_untracked(), right_env.get_untracked());
                        left_env.set(r);
                        right_env.set(l);
                        let (lo, ro) = (left_overrides.get_untracked(), right_overrides.get_untracked());
                        left_overrides.set(ro);
                        right_overrides.set(lo);
                    }>"⇄"</button>
                    {env_picker("right", right_env)}
                </section>
    }
    .into_any();
    let params = view! {
                <section class="compare-params" aria-label="Per-side overrides">
                    <h2>"Per-side overrides"</h2>
                    <p class="hint">"Ids differ between environments: give a side its own value; empty uses the shared one."</p>
                    {overrides}
                    {confirm_box("left", left_env, left_confirm)}
                    {confirm_box("right", right_env, right_confirm)}
                </section>
    }
    .into_any();
    let options_section = view! {
                <section class="compare-options" aria-label="Diff options">
                    <label class="check">
                        <input type="checkbox" data-testid="compare-shape-only"
                            prop:checked=move || shape_only.get()
                            on:change=move |ev| { shape_only.set(event_target_checked(&ev)); apply_options(); } />
                        " Shape only (field sets and types; values ignored)"
                    </label>
                    <label>
                        <span>"Match array elements by"</span>
                        <input data-testid="compare-array-key" placeholder="index (or a key field such as charge_uuid)"
                            prop:value=move || array_key.get()
                            on:change=move |ev| { array_key.set(event_target_value(&ev)); apply_options(); } />
                    </label>
                    <details class="ignore-rules" open=true>
                        <summary>{move || format!("Ignore rules ({})", parse_rules(&rules_text.get()).len())}</summary>
                        <p class="hint">"One JSONPath per line; the nodes it selects, and everything under them, are left out."</p>
                        <textarea data-testid="compare-ignore" rows="6" spellcheck="false"
                            prop:value=move || rules_text.get()
                            on:change=move |ev| { rules_text.set(event_target_value(&ev)); apply_options(); } />
                        <button class="small" data-testid="compare-ignore-defaults" on:click=move |_| {
                            rules_text.set(DEFAULT_IGNORE_RULES.join("\n"));
                            apply_options();
                        }>"Reset to defaults"</button>
                    </details>
                    {move || settings_note.get().map(|n| view! { <p class="hint" data-testid="compare-settings-note">{n}</p> })}
                </section>
    }
    .into_any();
    view! {
        <header class="topbar">
            <h1 class="brand">"a55 console"</h1>
            <nav class="nav-links">
                <a href="/" data-testid="nav-console">"Console"</a>
                <a href="/compare" class="active" data-testid="nav-compare">"Compare"</a>
            </nav>
            <StaffMenu />
        </header>
        <main class="compare-page" data-hydrated=move || hydrated.get().to_string()>
            {catalog_column}
            <div class="work">
                {setup}
                <RequestEditor draft on_run pending=pending.into() />
                {params}
                {options_section}
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::GuardView;

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
