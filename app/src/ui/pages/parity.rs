//! The Parity page (`/parity`): every suite with its last run and baseline, "Run now", its compares
//! (a saved suite's scheduled, trimmed or deleted), and a run's new drift (shape apart from value,
//! and the spec's), its compares with drill-down, exports and "accept as baseline"; and spec drift
//! between two environments' live OpenAPI documents.

mod run;
mod spec;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{
    delete_parity_suite, get_parity_run, list_parity_suites, remove_from_parity_suite, run_parity_suite,
    schedule_parity_suite,
};
use crate::ui::pages::audit::utc_text;
use crate::ui::parts::staff::StaffMenu;
use crate::wire::{ParityRun, ParitySuite, ParitySuiteView, SuiteSchedule, SuiteSource};
use run::RunView;
use spec::SpecDriftSection;

/// The page's state: which run is shown, what is running, the last error.
#[derive(Clone, Copy)]
struct ParityState {
    refresh: RwSignal<u32>,
    shown: RwSignal<Option<ParityRun>>,
    running: RwSignal<Option<String>>,
    error: RwSignal<Option<String>>,
    /// The saved suite whose "Delete" waits for a second click.
    deleting: RwSignal<Option<String>>,
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

    /// After a suite changed: the list again, and no run of a suite that is gone.
    fn changed(self, result: Result<(), crate::wire::ConsoleError>, suite: &str) {
        match result {
            Ok(()) => {
                if self.shown.get_untracked().is_some_and(|run| run.suite == suite) {
                    self.shown.set(None);
                }
                self.error.set(None);
            }
            Err(error) => self.error.set(Some(error.to_string())),
        }
        self.deleting.set(None);
        self.refresh.update(|n| *n += 1);
    }

    fn remove(self, suite: String, compare: String) {
        leptos::task::spawn_local(async move {
            let gone = remove_from_parity_suite(suite.clone(), compare).await.map(|left| left.is_none());
            // Only a suite that went with its last compare takes its shown run along.
            let went = if gone == Ok(true) { suite.as_str() } else { "" };
            self.changed(gone.map(|_| ()), went);
        });
    }

    /// Sets the schedule (`interval`: minutes as typed) or, with `None`, stops it.
    fn schedule(self, suite: String, interval: Option<String>, jitter: String) {
        let Ok(interval) = interval.map(|text| text.trim().parse::<u64>()).transpose() else {
            return self.error.set(Some("Give the interval as a whole number of minutes.".into()));
        };
        let Ok(jitter) = jitter.trim().parse::<u64>() else {
            return self.error.set(Some("Give the jitter as a whole number of seconds (0 for none).".into()));
        };
        leptos::task::spawn_local(async move {
            let result = schedule_parity_suite(suite, interval, Some(jitter)).await;
            self.changed(result.map(|_| ()), "");
        });
    }

    fn delete(self, suite: String) {
        leptos::task::spawn_local(async move {
            let result = delete_parity_suite(suite.clone()).await;
            self.changed(result, &suite);
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
        deleting: RwSignal::new(None),
    };
    provide_context(crate::ui::parts::parity_badge::ParityChanged(state.refresh));
    let suites = crate::codec::load(move || state.refresh.get(), |_| list_parity_suites());
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
                                {(view.suite.source == SuiteSource::Saved).then(|| view! {
                                    <ScheduleForm suite=name.clone() schedule=view.suite.schedule state />
                                })}
                            </th>
                            <td><CompareList suite=view.suite.clone() state /></td>
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
                                {(view.suite.source == SuiteSource::Saved).then(|| view! { <DeleteSuite suite=name.clone() state /> })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// The suite's compares, folded; a saved suite's each with "Remove".
#[component]
fn CompareList(suite: ParitySuite, state: ParityState) -> impl IntoView {
    let saved = suite.source == SuiteSource::Saved;
    let count = suite.compares.len();
    view! {
        <details class="parity-compares" data-testid="suite-compares">
            <summary>{count}</summary>
            <ul>
                {suite.compares.into_iter().map(|compare| {
                    let (suite_name, compare_name) = (suite.name.clone(), compare.name.clone());
                    let left = &compare.request.left;
                    let label = format!("{}: {} {}", compare.name, left.method.trim().to_ascii_uppercase(), left.path);
                    view! {
                        <li data-testid="suite-compare">
                            {label}
                            {saved.then(|| view! {
                                <button class="link" data-testid="remove-compare"
                                    aria-label=format!("Remove compare {compare_name} from suite {suite_name}")
                                    on:click=move |_| state.remove(suite_name.clone(), compare_name.clone())>
                                    "Remove"
                                </button>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </details>
    }
}

/// "Delete", then "Delete suite and its runs" or "Keep": a suite's runs and baseline go with it.
#[component]
fn DeleteSuite(suite: String, state: ParityState) -> impl IntoView {
    let asking = {
        let suite = suite.clone();
        move || state.deleting.get().as_deref() == Some(suite.as_str())
    };
    let (ask, confirm) = (suite.clone(), suite.clone());
    view! {
        <Show
            when=asking
            fallback=move || {
                let ask = ask.clone();
                view! { <button data-testid="delete-suite" on:click=move |_| state.deleting.set(Some(ask.clone()))>"Delete"</button> }
            }
        >
            <span role="group" aria-label=format!("Delete suite {suite}?")>
                <button class="danger" data-testid="confirm-delete-suite" on:click={
                    let confirm = confirm.clone();
                    move |_| state.delete(confirm.clone())
                }>"Delete suite and its runs"</button>
                <button data-testid="keep-suite" on:click=move |_| state.deleting.set(None)>"Keep"</button>
            </span>
        </Show>
    }
}

/// A saved suite's schedule: every N minutes, up to M seconds later; or stopped.
#[component]
fn ScheduleForm(suite: String, schedule: Option<SuiteSchedule>, state: ParityState) -> impl IntoView {
    let interval = RwSignal::new(schedule.map(|s| (s.interval_secs / 60).to_string()).unwrap_or_default());
    let jitter = RwSignal::new(schedule.map_or_else(|| "0".to_owned(), |s| s.jitter_secs.to_string()));
    let (save, stop) = (suite.clone(), suite.clone());
    view! {
        <details class="parity-schedule" data-testid="schedule-form">
            <summary>{if schedule.is_some() { "Change schedule" } else { "Schedule" }}</summary>
            <label>
                <span>"Every (minutes)"</span>
                <input type="number" min="1" max="10080" inputmode="numeric" data-testid="schedule-interval"
                    prop:value=interval on:input=move |ev| interval.set(event_target_value(&ev)) />
            </label>
            <label>
                <span>"Up to (seconds) later"</span>
                <input type="number" min="0" inputmode="numeric" data-testid="schedule-jitter"
                    prop:value=jitter on:input=move |ev| jitter.set(event_target_value(&ev)) />
            </label>
            <button data-testid="schedule-save"
                on:click=move |_| state.schedule(save.clone(), Some(interval.get_untracked()), jitter.get_untracked())>
                "Save schedule"
            </button>
            {schedule.is_some().then(|| view! {
                <button data-testid="schedule-stop" on:click=move |_| state.schedule(stop.clone(), None, "0".into())>
                    "Stop schedule"
                </button>
            })}
        </details>
    }
}
