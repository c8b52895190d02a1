//! The Parity page (`/parity`): every suite with its last run and baseline, "Run now", and a run's
//! new drift (shape apart from value, and the spec's), its compares with drill-down, exports and
//! "accept as baseline"; and spec drift between two environments' live OpenAPI documents.

mod run;
mod spec;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{get_parity_run, list_parity_suites, run_parity_suite};
use crate::ui::pages::audit::utc_text;
use crate::ui::parts::staff::StaffMenu;
use crate::wire::{ParityRun, ParitySuiteView, SuiteSource};
use run::RunView;
use spec::SpecDriftSection;

/// The page's state: which run is shown, what is running, the last error.
#[derive(Clone, Copy)]
struct ParityState {
    refresh: RwSignal<u32>,
    shown: RwSignal<Option<ParityRun>>,
    running: RwSignal<Option<String>>,
    error: RwSignal<Option<String>>,
}

impl ParityState {
    fn run(self, suite: String) {
        if self.running.get_untracked().is_some() {
            return;
        }
        self.running.set(Some(suite.clone()));
        self.error.set(None);
        leptos::task::spawn_local(async move {
            match run_parity_suite(suite).await {
                Ok(run) => self.shown.set(Some(run)),
                Err(error) => self.error.set(Some(error.to_string())),
            }
            self.running.set(None);
            self.refresh.update(|n| *n += 1);
        });
    }

    fn show(self, id: i64) {
        leptos::task::spawn_local(async move {
            match get_parity_run(id).await {
                Ok(run) => self.shown.set(Some(run)),
                Err(error) => self.error.set(Some(error.to_string())),
            }
        });
    }
}

#[component]
pub fn ParityPage() -> impl IntoView {
    let state = ParityState {
        refresh: RwSignal::new(0),
        shown: RwSignal::new(None),
        running: RwSignal::new(None),
        error: RwSignal::new(None),
    };
    let suites = Resource::new(move || state.refresh.get(), |_| list_parity_suites());
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <Title text="Parity · a55 console" />
        <header class="topbar">
            <h1 class="brand">"a55 console"</h1>
            <nav class="nav-links">
                <a href="/" data-testid="nav-console">"Console"</a>
                <a href="/compare" data-testid="nav-compare">"Compare"</a>
                <a href="/parity" class="active" data-testid="nav-parity">"Parity"</a>
            </nav>
            <StaffMenu />
        </header>
        <main class="parity-page" data-hydrated=move || hydrated.get().to_string()>
            <p class="hint">
                "A suite is a list of read-only compares run together. A run reports only the drift its suite's \
                 baseline does not know: shape drift (statuses, types, missing and extra fields, headers) apart from \
                 value drift."
            </p>
            {move || state.error.get().map(|e| view! { <p class="console-error" role="alert" data-testid="parity-error">{e}</p> })}
            <Transition fallback=|| view! { <p class="loading">"Loading suites…"</p> }>
                {move || Suspend::new(async move {
                    match suites.await {
                        Ok(suites) if suites.is_empty() => view! {
                            <p class="hint" data-testid="parity-empty">
                                "No suites yet: add [[parity.suites]] to the configuration, or use \"Add to a parity suite\" on the Compare page."
                            </p>
                        }.into_any(),
                        Ok(suites) => view! { <SuiteTable suites state /> }.into_any(),
                        Err(error) => view! { <p class="console-error" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            {move || state.shown.get().map(|run| view! { <RunView run on_baseline=Callback::new(move |()| state.refresh.update(|n| *n += 1)) /> })}
            <SpecDriftSection />
        </main>
    }
    // Erased so the page's view type stays shallow enough for the compiler's query depth.
    .into_any()
}

#[component]
fn SuiteTable(suites: Vec<ParitySuiteView>, state: ParityState) -> impl IntoView {
    view! {
        <table class="parity-suites" data-testid="parity-suites">
            <thead><tr>
                <th>"Suite"</th><th>"Compares"</th><th>"Last run (UTC)"</th><th>"New shape"</th><th>"New value"</th><th>"New spec"</th>
                <th>"Known"</th><th>"Baseline"</th><th><span class="visually-hidden">"Actions"</span></th>
            </tr></thead>
            <tbody>
                {suites.into_iter().map(|view| {
                    let name = view.suite.name.clone();
                    let (run_name, busy_name) = (name.clone(), name.clone());
                    let last = view.last_run.clone();
                    let drift = last.as_ref().is_some_and(|r| r.new_drift() > 0);
                    view! {
                        <tr data-testid="parity-suite" data-suite=name.clone() class:drift=drift>
                            <th scope="row">
                                {name.clone()}
                                {(view.suite.source == SuiteSource::Config).then(|| view! { <span class="hint">" (configuration)"</span> })}
                                {view.suite.schedule.map(|s| view! {
                                    <span class="hint" data-testid="suite-schedule">{format!(" every {} min", s.interval_secs / 60)}</span>
                                })}
                            </th>
                            <td>{view.suite.compares.len()}</td>
                            <td>{last.as_ref().map(|r| format!("#{} {} by {}", r.id, utc_text(r.started_at_ms), r.started_by)).unwrap_or_else(|| "never".into())}</td>
                            <td data-testid="suite-new-shape">{last.as_ref().map(|r| r.new_shape.to_string()).unwrap_or_default()}</td>
                            <td data-testid="suite-new-value">{last.as_ref().map(|r| r.new_value.to_string()).unwrap_or_default()}</td>
                            <td data-testid="suite-new-spec">{last.as_ref().map(|r| r.new_spec.to_string()).unwrap_or_default()}</td>
                            <td>{last.as_ref().map(|r| r.known.to_string()).unwrap_or_default()}</td>
                            <td>{view.baseline.as_ref().map(|b| format!("{} known, from run #{}", b.items, b.run_id)).unwrap_or_else(|| "none".into())}</td>
                            <td class="parity-actions">
                                <button data-testid="run-suite" disabled=move || state.running.get().is_some() || view.running
                                    on:click=move |_| state.run(run_name.clone())>
                                    {move || if state.running.get().as_deref() == Some(busy_name.as_str()) { "Running…" } else { "Run now" }}
                                </button>
                                {last.map(|r| view! {
                                    <button data-testid="show-run" on:click=move |_| state.show(r.id)>"Show last run"</button>
                                })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
